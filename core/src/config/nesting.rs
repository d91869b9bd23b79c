//! How deeply a configuration text nests its braces, brackets, parentheses and template
//! interpolations, checked before it is parsed: hcl-edit's parser backtracks exponentially in
//! the depth of unclosed nesting (a 939-byte file found by the `config` fuzz target took
//! minutes, a 778-byte one of interpolations over 20 s), so text nested deeper than any
//! configuration needs is refused at the exact spot instead.

/// The deepest nesting a configuration may use. coffer's deepest blocks nest four levels
/// (`plan { rule { copy_to { lifecycle { … } } } }`), and expressions a few more.
pub const MAX_DEPTH: usize = 20;

/// The deepest template interpolations may nest: a `${…}` (or `%{…}`) inside a string inside
/// another interpolation. The parser's backtracking has a far larger base here than for
/// braces (778 bytes of unclosed interpolations found by the fuzzer took over 20 s below
/// [`MAX_DEPTH`]); configurations use one level, rarely two.
pub const MAX_TEMPLATE_DEPTH: usize = 6;

/// Where a text nests too deeply, and in what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// The byte offset of the opening that went past the limit.
    pub at: usize,
    /// Whether template interpolations went past [`MAX_TEMPLATE_DEPTH`] (rather than all
    /// nesting past the limit given).
    pub templates: bool,
}

impl TooDeep {
    /// What is too deep, in words, with the limit passed.
    pub fn message(&self, limit: usize) -> String {
        if self.templates {
            format!(
                "template interpolations (`${{…}}` inside strings inside interpolations) nest more than {MAX_TEMPLATE_DEPTH} levels deep"
            )
        } else {
            format!("braces, brackets, parentheses and interpolations nest more than {limit} levels deep")
        }
    }
}

/// What the scanner is inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `{`, `[` or `(` in an expression or body.
    Open,
    /// `${` or `%{` in a template: an expression up to its `}`.
    Interpolation,
    /// A quoted string: a template up to its `"` (or the end of the line, where the parser
    /// stops it too).
    Quoted,
    /// A heredoc's body, a template up to the byte offset of its closing marker's line, and
    /// where that line ends.
    Heredoc { body_end: usize, resume: usize },
}

/// The first opening deeper than `limit` (counting braces, brackets, parentheses and
/// interpolations), or the first interpolation deeper than [`MAX_TEMPLATE_DEPTH`], if any.
/// Comments do not count. Strings and heredoc bodies are scanned as the templates they are:
/// their literal braces do not count, their `${…}` and `%{…}` do (`$${` and `%%{` are
/// escapes), and a `"` inside an interpolation starts a string of its own.
pub fn too_deep(text: &str, limit: usize) -> Option<TooDeep> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let (mut depth, mut templates) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match stack.last().copied() {
            Some(Frame::Heredoc { body_end, resume }) if i >= body_end => {
                stack.pop();
                i = resume;
            }
            Some(frame @ (Frame::Quoted | Frame::Heredoc { .. })) => {
                let quoted = frame == Frame::Quoted;
                match b {
                    b'\\' if quoted => i += 2,
                    b'"' | b'\n' if quoted => {
                        stack.pop();
                        i += 1;
                    }
                    b'$' | b'%' if next == Some(b) && bytes.get(i + 2) == Some(&b'{') => i += 3,
                    b'$' | b'%' if next == Some(b'{') => {
                        stack.push(Frame::Interpolation);
                        depth += 1;
                        templates += 1;
                        if templates > MAX_TEMPLATE_DEPTH || depth > limit {
                            return Some(TooDeep {
                                at: i,
                                templates: templates > MAX_TEMPLATE_DEPTH,
                            });
                        }
                        i += 2;
                    }
                    _ => i += 1,
                }
            }
            _ => match b {
                b'"' => {
                    stack.push(Frame::Quoted);
                    i += 1;
                }
                b'#' => i = skip_line(bytes, i),
                b'/' if next == Some(b'/') => i = skip_line(bytes, i),
                b'/' if next == Some(b'*') => {
                    i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
                }
                b'<' if next == Some(b'<') => match heredoc_body(bytes, i + 2) {
                    Some((body, resume)) => {
                        stack.push(Frame::Heredoc {
                            body_end: body.end,
                            resume,
                        });
                        i = body.start;
                    }
                    None => i += 2,
                },
                b'{' | b'[' | b'(' => {
                    stack.push(Frame::Open);
                    depth += 1;
                    if depth > limit {
                        return Some(TooDeep {
                            at: i,
                            templates: false,
                        });
                    }
                    i += 1;
                }
                b'}' | b']' | b')' => {
                    match stack.last() {
                        Some(Frame::Open) => depth -= 1,
                        Some(Frame::Interpolation) if b == b'}' => {
                            depth -= 1;
                            templates -= 1;
                        }
                        // a stray closer: the parser reports it; nothing to unwind
                        _ => {
                            i += 1;
                            continue;
                        }
                    }
                    stack.pop();
                    i += 1;
                }
                _ => i += 1,
            },
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

    fn at(text: &str, limit: usize) -> Option<usize> {
        too_deep(text, limit).map(|d| d.at)
    }

    #[test]
    fn nesting_is_counted_outside_comments_and_inside_templates() {
        assert_eq!(at("a = { b = [ ( 1 ) ] }", 3), None);
        assert_eq!(at("a = { b = [ ( 1 ) ] }", 2), Some(12));
        // braces in comments and literal braces in strings do not nest
        assert_eq!(at("a = \"{}{}\" # {{{{\n// [[[[\n/* (((( */", 1), None);
        assert_eq!(at("a = \"# {{{\"", 1), None);
        assert_eq!(at("p = <<EOF\n{{{\nEOF\nq = 1", 1), None);
        // a template's `${…}` is an expression: it and what it opens count, and a `#` inside a
        // string starts no comment
        assert_eq!(at("a = \"${{{\"", 2), Some(8));
        assert_eq!(at("a = \"# ${{{\"", 2), Some(10));
        assert_eq!(at("p = <<EOF\n${{{\nEOF\nq = 1", 2), Some(13));
        // `$${` is an escape; a closed interpolation returns to the string
        assert_eq!(at("a = \"$${{{{\"", 1), None);
        assert_eq!(at("a = \"${b}{{{{\" {", 1), None);
        // a `<<` that is no heredoc (no closing marker) hides nothing
        assert_eq!(at("p = <<nn\n{{{", 2), Some(11));
        assert_eq!(at("x = 1 << 2 ? {{ : 0", 1), Some(14));
    }

    #[test]
    fn a_string_inside_an_interpolation_is_a_template_of_its_own() {
        // "${"${"${ … : each `"` inside an interpolation opens a string, not closes one
        let nested = |n: usize| format!("a = {}", "\"${".repeat(n));
        let deep = too_deep(&nested(MAX_TEMPLATE_DEPTH + 1), MAX_DEPTH).expect("too deep");
        assert!(deep.templates);
        assert_eq!(deep.at, 4 + 3 * MAX_TEMPLATE_DEPTH + 1);
        assert_eq!(too_deep(&nested(MAX_TEMPLATE_DEPTH), MAX_DEPTH), None);
        // closed, the same depth of templates is fine however often it recurs
        let closed = "a = \"${\"${\"${x}\"}\"}\"\n".repeat(50);
        assert_eq!(too_deep(&closed, MAX_DEPTH), None);
    }

    /// Found by the `config` fuzz target: 778 bytes of unclosed `${` interpolations, each
    /// inside a string inside the one before, took hcl-edit over 20 s while their braces
    /// stayed below [`MAX_DEPTH`].
    #[test]
    fn issue_17_fuzz_timeout_unclosed_template_interpolations_are_refused_before_parsing() {
        let text = include_str!(
            "../../../fuzz/seeds/config/issue-17-unclosed-template-interpolations.hcl"
        );
        let deep = too_deep(text, MAX_DEPTH).expect("too deep");
        assert!(deep.templates, "{deep:?}");
    }

    /// Found by the `config` fuzz target: 22 unclosed braces in 400 bytes took 0.3 s to
    /// parse, and the 939-byte file it came from minutes.
    #[test]
    fn issue_17_fuzz_timeout_deep_unclosed_braces_are_refused_before_parsing() {
        let text =
            "ws ={l.e/s >{TTPTTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s >{TTPT".repeat(20);
        let deep = too_deep(&text, MAX_DEPTH).expect("too deep");
        assert!(!deep.templates);
        assert_eq!(text[..deep.at].matches('{').count(), MAX_DEPTH);
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
