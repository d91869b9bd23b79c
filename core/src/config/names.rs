//! Naming rules for vaults, plans, rules, selections and directories (from AWS Backup).

/// What a name of the given kind may look like, for diagnostics.
pub fn rule_text(kind: &str) -> &'static str {
    match kind {
        "vault" => "2 to 50 characters from A-Z, a-z, 0-9, `_` and `-`",
        "rule" | "selection" => "1 to 50 characters from A-Z, a-z, 0-9, `_`, `.` and `-`",
        _ => "1 to 50 characters from A-Z, a-z, 0-9, `_` and `-`",
    }
}

/// Whether `name` is valid for a block of `kind` (`vault`, `plan`, `rule`, `selection`, `directory`).
pub fn is_valid(kind: &str, name: &str) -> bool {
    let (min, dots) = match kind {
        "vault" => (2, false),
        "rule" | "selection" => (1, true),
        _ => (1, false),
    };
    let len = name.chars().count();
    (min..=50).contains(&len)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names() {
        assert!(is_valid("vault", "default"));
        assert!(is_valid("vault", "dr-1_x"));
        assert!(!is_valid("vault", "a"));
        assert!(!is_valid("vault", "has.dot"));
        assert!(!is_valid("vault", &"x".repeat(51)));
        assert!(is_valid("vault", &"x".repeat(50)));
        assert!(!is_valid("vault", "spa ce"));
    }

    #[test]
    fn rule_and_selection_names_allow_dots() {
        assert!(is_valid("rule", "a"));
        assert!(is_valid("selection", "web.tier-1"));
        assert!(!is_valid("rule", ""));
        assert!(!is_valid("rule", "ünï"));
        assert!(!is_valid("plan", "a.b"));
    }
}
