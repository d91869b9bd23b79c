//! How deeply a configuration text nests its braces, brackets and parentheses, checked before
//! it is parsed: hcl-edit's parser backtracks exponentially in the depth of unclosed nesting
//! (a 939-byte file found by the `config` fuzz target took minutes), so text nested deeper
//! than any configuration needs is refused at the exact spot instead.

/// The deepest nesting a configuration may use. coffer's deepest blocks nest four levels
/// (`plan { rule { copy_to { lifecycle { … } } } }`), and expressions a few more.
pub const MAX_DEPTH: usize = 20;

/// The byte offset of the first opening brace, bracket or parenthesis that is deeper than
/// `limit`, if any. Comments do not count; quoted strings and heredoc bodies do (they are
/// templates, whose `${…}` the parser parses as expressions), without ending a string or
/// starting a comment inside them.
pub fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let count = |i: usize, depth: &mut usize| -> bool {
        match bytes[i] {
            b'{' | b'[' | b'(' => {
                *depth += 1;
                *depth > limit
            }
            b'}' | b']' | b')' => {
                *depth = depth.saturating_sub(1);
                false
            }
            _ => false,
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // a string, up to its closing quote or the end of the line
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if count(i, &mut depth) {
                        return Some(i);
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => match heredoc_body(bytes, i + 2) {
                Some((body, end)) => {
                    for j in body {
                        if count(j, &mut depth) {
                            return Some(j);
                        }
                    }
                    i = end;
                }
                None => i += 2,
            },
            _ => {
                if count(i, &mut depth) {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

fn skip_line(bytes: &[u8], i: usize) -> usize {
    find(bytes, i, b"\n").map_or(bytes.len(), |e| e + 1)
}

/// A heredoc's body and where its closing marker's line ends, for `<<EOF` or `<<-EOF` at `i`
/// (after the `<<`): `None` unless a marker and a newline follow and a line holding only the
/// marker closes it.
fn heredoc_body(bytes: &[u8], mut i: usize) -> Option<(std::ops::Range<usize>, usize)> {
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    let start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    if i == start || bytes.get(i) != Some(&b'\n') {
        return None;
    }
    let marker = &bytes[start..i];
    let body = i + 1;
    let mut line = body;
    while line < bytes.len() {
        let end = find(bytes, line, b"\n").unwrap_or(bytes.len());
        if bytes[line..end].trim_ascii() == marker {
            return Some((body..line, end));
        }
        line = end + 1;
    }
    None
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
    fn nesting_is_counted_outside_comments_and_inside_templates() {
        assert_eq!(too_deep("a = { b = [ ( 1 ) ] }", 3), None);
        assert_eq!(too_deep("a = { b = [ ( 1 ) ] }", 2), Some(12));
        assert_eq!(
            too_deep("a = \"{}{}\" # {{{{\n// [[[[\n/* (((( */", 1),
            None
        );
        // strings and heredocs are templates, whose `${…}` are parsed: they count, and a
        // `#` inside one starts no comment
        assert_eq!(too_deep("a = \"${{{\"", 2), Some(8));
        assert_eq!(too_deep("a = \"# {{{\"", 2), Some(9));
        assert_eq!(too_deep("p = <<EOF\n{{{\nEOF\nq = 1", 2), Some(12));
        // a `<<` that is no heredoc (no closing marker) hides nothing
        assert_eq!(too_deep("p = <<nn\n{{{", 2), Some(11));
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
