//! String functions with Terraform's exact semantics, which come from Go: `upper`/`lower` map
//! each character by its simple case mapping (`upper("ß")` is `ß`), `title` upper-cases the
//! first letter after every separator (`title("a-b")` is `A-B`), `split` with an empty
//! separator splits into characters, `replace` treats a `/…/` pattern as a regular
//! expression, and `length` counts user-perceived characters (grapheme clusters).

use unicode_segmentation::UnicodeSegmentation;

/// Go's `unicode.ToUpper`: the simple (one-character) uppercase mapping.
fn simple_upper(c: char) -> char {
    let mut full = c.to_uppercase();
    if full.len() == 1 {
        return full.next().unwrap_or(c);
    }
    // characters whose full mapping has several characters but whose simple one exists
    let code = c as u32;
    let simple = match code {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => code + 8,
        0x1FB3 => 0x1FBC,
        0x1FC3 => 0x1FCC,
        0x1FF3 => 0x1FFC,
        _ => code,
    };
    char::from_u32(simple).unwrap_or(c)
}

/// Go's `unicode.ToLower`: the simple lowercase mapping.
fn simple_lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut full = c.to_lowercase();
    if full.len() == 1 {
        full.next().unwrap_or(c)
    } else {
        c
    }
}

/// Go's `unicode.ToTitle`: as upper case, except the digraphs (`ǆ` becomes `ǅ`) and Georgian
/// letters (which have no title case).
fn simple_title(c: char) -> char {
    let code = c as u32;
    let title = match code {
        0x01C4..=0x01C6 => 0x01C5,
        0x01C7..=0x01C9 => 0x01C8,
        0x01CA..=0x01CC => 0x01CB,
        0x01F1..=0x01F3 => 0x01F2,
        0x10D0..=0x10FA | 0x10FD..=0x10FF => code,
        _ => return simple_upper(c),
    };
    char::from_u32(title).unwrap_or(c)
}

pub fn upper(s: &str) -> String {
    s.chars().map(simple_upper).collect()
}

pub fn lower(s: &str) -> String {
    s.chars().map(simple_lower).collect()
}

/// Go's `strings.Title`: a letter is title-cased when the character before it separates words:
/// in ASCII anything but letters, digits and `_`; beyond ASCII only white space.
pub fn title(s: &str) -> String {
    fn separates(c: char) -> bool {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace()
        }
    }
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separates(prev) { simple_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// Go's `strings.Split`: an empty separator splits into characters (and an empty text into
/// nothing).
pub fn split(sep: &str, text: &str) -> Vec<String> {
    if sep.is_empty() {
        return text.chars().map(String::from).collect();
    }
    text.split(sep).map(str::to_string).collect()
}

/// Grapheme clusters, as Terraform's `length` counts a string.
pub fn length(s: &str) -> usize {
    s.graphemes(true).count()
}

/// The first `n` grapheme clusters (`format`'s precision on `%s`).
pub fn truncate(s: &str, n: usize) -> String {
    s.graphemes(true).take(n).collect()
}

/// Terraform's `replace`: a `/…/` search is a regular expression (replacement `$1`, `${name}`),
/// anything else is replaced literally everywhere (an empty search inserts the replacement
/// around every character, as Go's `strings.Replace` does).
pub fn replace(text: &str, search: &str, replacement: &str) -> Result<String, String> {
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let pattern = go_regex(&search[1..search.len() - 1]);
        let re = regex::Regex::new(&pattern)
            .map_err(|e| format!("`{search}` is not a valid regular expression: {e}"))?;
        return Ok(re.replace_all(text, replacement).into_owned());
    }
    Ok(text.replace(search, replacement))
}

/// Go's regular expressions (RE2) as the `regex` crate reads them: the two share their
/// syntax, but in Go `\d`, `\w`, `\s` and `\b` are ASCII-only while in `regex` they are
/// Unicode-aware, so those escapes are spelt out.
fn go_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii = match (next, in_class) {
                    ('d', _) => Some("0-9"),
                    ('w', _) => Some("0-9A-Za-z_"),
                    ('s', _) => Some("\\t\\n\\x0C\\r "),
                    _ => None,
                };
                match (next, ascii, in_class) {
                    (_, Some(set), true) => out.push_str(set),
                    (_, Some(set), false) => {
                        out.push('[');
                        out.push_str(set);
                        out.push(']');
                    }
                    ('D', _, false) => out.push_str("[^0-9]"),
                    ('W', _, false) => out.push_str("[^0-9A-Za-z_]"),
                    ('S', _, false) => out.push_str("[^\\t\\n\\x0C\\r ]"),
                    ('b', _, false) => out.push_str("(?-u:\\b)"),
                    ('B', _, false) => out.push_str("(?-u:\\B)"),
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // a `]` or `^]` right after the opening bracket is a literal
                let rest = chars.as_str();
                if let Some(r) = rest.strip_prefix('^') {
                    out.push('^');
                    chars = r.chars();
                }
                if chars.as_str().starts_with(']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Go's `encoding/json` quoting of a string, which `format`'s `%q` and `%#v` use: HTML-safe
/// (`<`, `>` and `&` escaped), `\u2028` and `\u2029` escaped, other control characters as
/// `\n \r \t \b \f` or `\u00XX`.
pub fn json_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
