//! "Did you mean …?" suggestions for misspelled names.

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (word.len().max(c.len()) / 3).max(1) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(did_you_mean("storge", ["storage", "tags"]), Some("storage"));
        assert_eq!(
            did_you_mean("shcedule", ["schedule", "timezone"]),
            Some("schedule")
        );
        assert_eq!(did_you_mean("zzz", ["storage", "tags"]), None);
        assert_eq!(did_you_mean("tags", ["tags"]), None);
    }
}
