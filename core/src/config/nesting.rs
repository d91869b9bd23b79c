//! How deeply a configuration text nests its braces, brackets and parentheses, checked before
//! it is parsed: hcl-edit's parser backtracks exponentially in the depth of unclosed nesting
//! (a 939-byte file found by the `config` fuzz target took minutes), so text nested deeper
//! than any configuration needs is refused at the exact spot instead.

/// The deepest nesting a configuration may use. coffer's deepest blocks nest four levels
/// (`plan { rule { copy_to { lifecycle { … } } } }`), and expressions a few more.
pub const MAX_DEPTH: usize = 20;

/// The byte offset of the first opening brace, bracket or parenthesis that is deeper than
/// `limit`, if any. Quoted strings, comments and heredoc bodies do not count.
pub fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(bytes, i + 1),
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => i = skip_heredoc(bytes, i + 2),
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Past the closing quote of a string that starts at `i` (after its opening quote).
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn skip_line(bytes: &[u8], i: usize) -> usize {
    find(bytes, i, b"\n").map_or(bytes.len(), |e| e + 1)
}

/// Past a heredoc's body, `<<EOF` or `<<-EOF` up to the line holding only its marker; text
/// after `<<` that is no heredoc marker is skipped over as the operator it is.
fn skip_heredoc(bytes: &[u8], mut i: usize) -> usize {
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    let start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    if i == start || bytes.get(i) != Some(&b'\n') {
        return start;
    }
    let marker = &bytes[start..i];
    let mut line = i + 1;
    while line < bytes.len() {
        let end = find(bytes, line, b"\n").unwrap_or(bytes.len());
        if bytes[line..end].trim_ascii() == marker {
            return end;
        }
        line = end + 1;
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_comments_and_heredocs() {
        assert_eq!(too_deep("a = { b = [ ( 1 ) ] }", 3), None);
        assert_eq!(too_deep("a = { b = [ ( 1 ) ] }", 2), Some(12));
        assert_eq!(
            too_deep("a = \"{{{{{{\" # {{{{\n// [[[[\n/* (((( */", 1),
            None
        );
        assert_eq!(too_deep("p = <<EOF\n{{{{{{\nEOF\nq = {{", 1), Some(26));
        assert_eq!(too_deep("x = 1 << 2 ? {{ : 0", 1), Some(14));
    }

    /// Found by the `config` fuzz target: 22 unclosed braces in 400 bytes took 0.3 s to
    /// parse, and the 939-byte file it came from minutes.
    #[test]
    fn issue_17_fuzz_timeout_deep_unclosed_braces_are_refused_before_parsing() {
        let text =
            "ws ={l.e/s >{TTPTTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s >{TTPT".repeat(20);
        let at = too_deep(&text, MAX_DEPTH).expect("too deep");
        assert_eq!(text[..at].matches('{').count(), MAX_DEPTH);
    }

    #[test]
    fn the_examples_and_fixtures_are_well_inside_the_limit() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut seen = 0;
        for dir in [
            "examples/quickstart",
            "examples/ci",
            "tests/fixtures/diagnostics",
        ] {
            let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
                continue;
            };
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "hcl") {
                    let text = std::fs::read_to_string(e.path()).unwrap();
                    assert_eq!(
                        too_deep(&text, MAX_DEPTH / 2),
                        None,
                        "{}",
                        e.path().display()
                    );
                    seen += 1;
                }
            }
        }
        assert!(seen > 5);
    }
}
