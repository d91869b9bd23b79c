//! Canonical formatting of HCL configuration text (`coffer fmt`): keeps every comment, is idempotent.
//!
//! The formatter works on tokens and lines rather than re-printing a syntax tree, so every
//! comment survives byte for byte (up to trailing whitespace). `hcl_edit` is only used to refuse
//! invalid input up front and to double-check the result.
//!
//! Rules, in the spirit of `terraform fmt`:
//! - line endings become `\n` (everywhere, heredoc bodies included), trailing whitespace is
//!   removed (except inside heredocs and string literals), the output ends with one `\n`;
//! - indentation is two spaces per bracket level left open by earlier lines, a line starting
//!   with a closing bracket is dedented by one level;
//! - heredoc bodies, string literals and the continuation lines of `/* */` comments are copied
//!   as they are;
//! - `key = value` gets one space around `=`, and the `=` of consecutive single-line attributes
//!   (or object entries) at the same level are aligned;
//! - runs of spaces and tabs between tokens become one space, a block's `{` and an end-of-line
//!   comment get one space before them;
//! - runs of blank lines become one blank line; blank lines at the start of the file, after a
//!   line ending with an opening bracket and before a line of closing brackets are removed.

use std::fmt;

use hcl_edit::parser::parse_body;
use hcl_edit::Ident;

/// Why a text could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    /// byte offset in the input where the problem is
    pub offset: usize,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte offset {})", self.message, self.offset)
    }
}

impl std::error::Error for FormatError {}

/// Formats one HCL file's text. Returns an error (and never panics) when the text is not valid HCL
/// (check with `hcl_edit::parser::parse_body` first and refuse invalid input: message and offset from its error;
/// hcl_edit::parser::Error has `.message()` and `.location().offset()`).
pub fn format_hcl(src: &str) -> Result<String, FormatError> {
    if let Err(err) = parse_body(src) {
        // hcl-edit clamps the offset to the last byte, which may be inside a character.
        let mut offset = err.location().offset().min(src.len());
        while offset > 0 && !src.is_char_boundary(offset) {
            offset -= 1;
        }
        return Err(FormatError {
            message: err.message().to_string(),
            offset,
        });
    }
    let text = normalize_line_endings(src);
    let out = format_valid(&text);
    // The formatter only ever changes whitespace between tokens, so this cannot fail; it is kept
    // as a cheap guard so that a formatter bug can never write a broken file.
    if let Err(err) = parse_body(&out) {
        return Err(FormatError {
            message: format!(
                "internal formatter error, the input was left unformatted: {}",
                err.message()
            ),
            offset: 0,
        });
    }
    Ok(out)
}

/// Turns every line ending into `\n`: a line feed together with any carriage returns right before
/// it (so `\r\r\n` cannot turn into a new `\r\n`). Lone carriage returns are kept.
fn normalize_line_endings(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut pending_cr = 0usize;
    for ch in src.chars() {
        match ch {
            '\r' => pending_cr += 1,
            '\n' => {
                pending_cr = 0;
                out.push('\n');
            }
            _ => {
                out.extend(std::iter::repeat_n('\r', pending_cr));
                pending_cr = 0;
                out.push(ch);
            }
        }
    }
    out.extend(std::iter::repeat_n('\r', pending_cr));
    out
}

/// One lexical unit of the (already validated) input. Strings, heredocs and comments are opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// A run of spaces, tabs or lone carriage returns.
    Space,
    Newline,
    Open(u8),
    Close(u8),
    /// A single `=` (not part of `==`, `!=`, `<=`, `>=`, `=>`).
    Assign,
    /// `# ...` or `// ...`, without the line ending and without trailing whitespace.
    LineComment(&'a str),
    /// `/* ... */`, possibly spanning lines.
    BlockComment(&'a str),
    /// A quoted string literal with everything inside it, possibly spanning lines.
    Str(&'a str),
    /// From `<<` up to and including the end delimiter.
    Heredoc(&'a str),
    /// Any other run of code characters (identifiers, numbers, operators, `,`, `.`, ...).
    Other(&'a str),
}

/// What a `%{ ... }` template directive does to the nesting of template bodies.
enum Directive {
    Opens,
    Closes,
    Neutral,
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            src,
            b: src.as_bytes(),
        }
    }

    fn len(&self) -> usize {
        self.b.len()
    }

    /// The byte at `i`, or 0 past the end.
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// The position of the character after the one starting at `i`.
    fn next_char(&self, i: usize) -> usize {
        let width = match self.at(i) {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        (i + width).min(self.len())
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..).and_then(|rest| rest.chars().next())
    }

    fn tokenize(&self) -> Vec<Tok<'a>> {
        let mut toks = Vec::new();
        let mut i = 0;
        while i < self.len() {
            let start = i;
            let c = self.at(i);
            let tok = match c {
                b'\n' => {
                    i += 1;
                    Tok::Newline
                }
                b' ' | b'\t' | b'\r' => {
                    while matches!(self.at(i), b' ' | b'\t' | b'\r') {
                        i += 1;
                    }
                    Tok::Space
                }
                b'{' | b'[' | b'(' => {
                    i += 1;
                    Tok::Open(c)
                }
                b'}' | b']' | b')' => {
                    i += 1;
                    Tok::Close(c)
                }
                b'"' => {
                    i = self.quoted_end(i);
                    Tok::Str(self.slice(start, i))
                }
                b'#' => {
                    i = self.line_end(i);
                    Tok::LineComment(trim_line_end(self.slice(start, i)))
                }
                b'/' if self.at(i + 1) == b'/' => {
                    i = self.line_end(i);
                    Tok::LineComment(trim_line_end(self.slice(start, i)))
                }
                b'/' if self.at(i + 1) == b'*' => {
                    i = self.block_comment_end(i);
                    Tok::BlockComment(self.slice(start, i))
                }
                b'<' if self.heredoc_start(i).is_some() => {
                    i = self.heredoc_end(i);
                    Tok::Heredoc(self.slice(start, i))
                }
                b'=' if !matches!(self.at(i + 1), b'=' | b'>') => {
                    i += 1;
                    Tok::Assign
                }
                _ => {
                    i = self.other_end(i);
                    Tok::Other(self.slice(start, i))
                }
            };
            toks.push(tok);
        }
        toks
    }

    /// End of a run of code characters that belong to no other token kind.
    fn other_end(&self, start: usize) -> usize {
        let mut j = start;
        while j < self.len() {
            match self.at(j) {
                b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'[' | b'(' | b'}' | b']' | b')' | b'"'
                | b'#' => break,
                b'/' if matches!(self.at(j + 1), b'/' | b'*') => break,
                b'<' if self.heredoc_start(j).is_some() => break,
                b'=' | b'!' | b'<' | b'>' if self.at(j + 1) == b'=' => j += 2,
                b'=' if self.at(j + 1) == b'>' => j += 2,
                b'=' => break,
                _ => j = self.next_char(j),
            }
        }
        if j <= start {
            j = self.next_char(start);
        }
        j.min(self.len())
    }

    /// Position of the next `\n` at or after `i` (or the end of the input).
    fn line_end(&self, i: usize) -> usize {
        self.b
            .get(i..)
            .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
            .map_or(self.len(), |p| i + p)
    }

    /// End of the `/* */` comment starting at `i`.
    fn block_comment_end(&self, i: usize) -> usize {
        self.src
            .get(i + 2..)
            .and_then(|rest| rest.find("*/"))
            .map_or(self.len(), |p| i + 2 + p + 2)
    }

    /// Parses a heredoc introducer `<<ID` / `<<-ID` followed by a line ending at `i`; returns the
    /// byte range of the delimiter and the start of the body.
    fn heredoc_start(&self, i: usize) -> Option<(usize, usize, usize)> {
        if self.at(i) != b'<' || self.at(i + 1) != b'<' {
            return None;
        }
        let mut j = i + 2;
        if self.at(j) == b'-' {
            j += 1;
        }
        let rest = self.src.get(j..)?;
        let mut chars = rest.char_indices();
        let (_, first) = chars.next()?;
        if !is_id_start(first) {
            return None;
        }
        let mut end = j + first.len_utf8();
        for (k, ch) in chars {
            if !is_id_continue(ch) {
                break;
            }
            end = j + k + ch.len_utf8();
        }
        let body = match (self.at(end), self.at(end + 1)) {
            (b'\n', _) => end + 1,
            (b'\r', b'\n') => end + 2,
            _ => return None,
        };
        Some((j, end, body))
    }

    /// End of the heredoc starting at `i` (just after its end delimiter). Mirrors hcl-edit: the
    /// body ends at the first line ending (outside interpolations and directives) followed by
    /// optional blanks and the delimiter; an empty body is the fallback.
    fn heredoc_end(&self, i: usize) -> usize {
        let Some((delim_start, delim_end, body)) = self.heredoc_start(i) else {
            return self.next_char(i);
        };
        let delim = self.b.get(delim_start..delim_end).unwrap_or_default();
        let mut j = body;
        let mut depth = 0usize;
        while j < self.len() {
            let c = self.at(j);
            match c {
                b'$' | b'%' if self.at(j + 1) == c && self.at(j + 2) == b'{' => j += 3,
                b'$' if self.at(j + 1) == b'{' => j = self.code_end(j + 2),
                b'%' if self.at(j + 1) == b'{' => {
                    let (end, directive) = self.directive(j + 2);
                    depth = nest(depth, &directive);
                    j = end;
                }
                b'\n' if depth == 0 => {
                    if let Some(end) = self.terminator_at(j + 1, delim) {
                        return end;
                    }
                    j += 1;
                }
                b'\r' if depth == 0 && self.at(j + 1) == b'\n' => {
                    if let Some(end) = self.terminator_at(j + 2, delim) {
                        return end;
                    }
                    j += 2;
                }
                _ => j = self.next_char(j),
            }
        }
        self.terminator_at(body, delim).unwrap_or(self.len())
    }

    /// If a heredoc end line (blanks, then `delim` not followed by an identifier character)
    /// starts at `i`, returns the position just after the delimiter.
    fn terminator_at(&self, mut i: usize, delim: &[u8]) -> Option<usize> {
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        if delim.is_empty() || !self.b.get(i..)?.starts_with(delim) {
            return None;
        }
        let end = i + delim.len();
        match self.char_at(end) {
            Some(ch) if is_id_continue(ch) => None,
            _ => Some(end),
        }
    }

    /// End of the quoted string literal starting at `i` (just after its closing quote).
    fn quoted_end(&self, i: usize) -> usize {
        let mut j = i + 1;
        // Inside `%{ if }` / `%{ for }` bodies quotes and backslashes are plain text.
        let mut depth = 0usize;
        while j < self.len() {
            let c = self.at(j);
            match c {
                b'$' | b'%' if self.at(j + 1) == c && self.at(j + 2) == b'{' => j += 3,
                b'$' if self.at(j + 1) == b'{' => j = self.code_end(j + 2),
                b'%' if self.at(j + 1) == b'{' => {
                    let (end, directive) = self.directive(j + 2);
                    depth = nest(depth, &directive);
                    j = end;
                }
                b'"' if depth == 0 => return j + 1,
                b'\\' if depth == 0 => j = self.next_char(j + 1),
                _ => j = self.next_char(j),
            }
        }
        self.len()
    }

    /// Skips the inside of a `%{ ... }` directive starting at `i` (after `%{`).
    fn directive(&self, i: usize) -> (usize, Directive) {
        let mut j = i;
        if self.at(j) == b'~' {
            j += 1;
        }
        while matches!(self.at(j), b' ' | b'\t' | b'\r' | b'\n') {
            j += 1;
        }
        let keyword_start = j;
        while self.at(j).is_ascii_alphabetic() {
            j += 1;
        }
        let directive = match self.b.get(keyword_start..j).unwrap_or_default() {
            b"if" | b"for" => Directive::Opens,
            b"endif" | b"endfor" => Directive::Closes,
            _ => Directive::Neutral,
        };
        (self.code_end(j), directive)
    }

    /// Skips an expression inside `${ ... }` or `%{ ... }` starting at `i`; returns the position
    /// after the closing `}`.
    fn code_end(&self, mut j: usize) -> usize {
        let mut depth = 0usize;
        while j < self.len() {
            match self.at(j) {
                b'"' => j = self.quoted_end(j),
                b'#' => j = self.line_end(j),
                b'/' if self.at(j + 1) == b'/' => j = self.line_end(j),
                b'/' if self.at(j + 1) == b'*' => j = self.block_comment_end(j),
                b'<' if self.heredoc_start(j).is_some() => j = self.heredoc_end(j),
                b'{' | b'[' | b'(' => {
                    depth += 1;
                    j += 1;
                }
                b'}' | b']' | b')' => {
                    if depth == 0 {
                        return j + 1;
                    }
                    depth -= 1;
                    j += 1;
                }
                _ => j = self.next_char(j),
            }
        }
        self.len()
    }
}

fn nest(depth: usize, directive: &Directive) -> usize {
    match directive {
        Directive::Opens => depth + 1,
        Directive::Closes => depth.saturating_sub(1),
        Directive::Neutral => depth,
    }
}

fn is_id_start(ch: char) -> bool {
    ch.is_ascii_alphabetic()
        || ch == '_'
        || (!ch.is_ascii() && Ident::try_new(String::from(ch)).is_ok())
}

fn is_id_continue(ch: char) -> bool {
    if ch.is_ascii() {
        return ch.is_ascii_alphanumeric() || ch == '_' || ch == '-';
    }
    let mut probe = String::from("a");
    probe.push(ch);
    Ident::try_new(probe).is_ok()
}

fn trim_line_end(s: &str) -> &str {
    s.trim_end_matches([' ', '\t', '\r'])
}

/// What the layout passes need to know about one line.
#[derive(Debug, Default)]
struct LineInfo {
    blank: bool,
    starts_with_close: bool,
    only_close: bool,
    ends_with_open: bool,
    /// Opening minus closing brackets on the line.
    net: isize,
    /// Width of the key when the line is a single-line `key = value` (attribute or object entry).
    key_width: Option<usize>,
}

fn analyze(toks: &[Tok<'_>]) -> LineInfo {
    let code: Vec<Tok<'_>> = toks.iter().copied().filter(|t| *t != Tok::Space).collect();
    if code.is_empty() {
        return LineInfo {
            blank: true,
            ..LineInfo::default()
        };
    }
    let mut net = 0isize;
    let mut multiline = false;
    for tok in &code {
        match tok {
            Tok::Open(_) => net += 1,
            Tok::Close(_) => net -= 1,
            Tok::Str(s) | Tok::Heredoc(s) | Tok::BlockComment(s) => {
                multiline |= s.contains('\n');
            }
            _ => {}
        }
    }
    let first_code = code.iter().find(|t| !matches!(t, Tok::BlockComment(_)));
    let last_code = code
        .iter()
        .rev()
        .find(|t| !matches!(t, Tok::LineComment(_) | Tok::BlockComment(_)));
    let key_width = match (code.first(), code.get(1), code.len()) {
        (Some(Tok::Other(key)), Some(Tok::Assign), 3..)
            if !multiline && net == 0 && Ident::try_new(*key).is_ok() =>
        {
            Some(key.chars().count())
        }
        (Some(Tok::Str(key)), Some(Tok::Assign), 3..) if !multiline && net == 0 => {
            Some(key.chars().count())
        }
        _ => None,
    };
    LineInfo {
        blank: false,
        starts_with_close: matches!(first_code, Some(Tok::Close(_))),
        only_close: code.iter().all(|t| matches!(t, Tok::Close(_))),
        ends_with_open: matches!(last_code, Some(Tok::Open(_))),
        net,
        key_width,
    }
}

/// Indentation level of every line: the number of lines whose brackets are still open (a line
/// opening several brackets counts once, like `terraform fmt`), one less for a line that starts
/// with a closing bracket.
fn indent_levels(infos: &[LineInfo]) -> Vec<usize> {
    let mut stack: Vec<isize> = Vec::new();
    let mut levels = Vec::with_capacity(infos.len());
    for info in infos {
        let before = stack.len();
        if info.net > 0 {
            stack.push(info.net);
        } else if info.net < 0 {
            let mut closed = -info.net;
            while closed > 0 {
                let Some(top) = stack.last_mut() else {
                    break;
                };
                if closed >= *top {
                    closed -= *top;
                    stack.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
        }
        let level = if info.starts_with_close {
            before.saturating_sub(1).min(stack.len())
        } else {
            before
        };
        levels.push(level);
    }
    levels
}

/// Column the `=` of each aligned line is padded to (the widest key of its run).
fn alignment(infos: &[LineInfo], levels: &[usize]) -> Vec<Option<usize>> {
    let mut widths = vec![None; infos.len()];
    let mut i = 0;
    while i < infos.len() {
        if infos[i].key_width.is_none() {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut widest = 0;
        while j < infos.len() && levels.get(j) == levels.get(i) {
            match infos[j].key_width {
                Some(w) => widest = widest.max(w),
                None => break,
            }
            j += 1;
        }
        for width in widths.iter_mut().take(j).skip(i) {
            *width = Some(widest);
        }
        i = j;
    }
    widths
}

fn needs_space(prev: Tok<'_>, cur: Tok<'_>, had_space: bool) -> bool {
    match (prev, cur) {
        (Tok::Assign, _) | (_, Tok::Assign) | (_, Tok::LineComment(_)) => true,
        (Tok::Str(_), Tok::Open(b'{')) => true,
        (Tok::Other(word), Tok::Open(b'{')) => had_space || Ident::try_new(word).is_ok(),
        _ => had_space,
    }
}

fn push_token(out: &mut String, tok: Tok<'_>) {
    match tok {
        Tok::Space | Tok::Newline => {}
        Tok::Open(c) | Tok::Close(c) => out.push(char::from(c)),
        Tok::Assign => out.push('='),
        Tok::BlockComment(text) => {
            let mut lines = text.split('\n');
            if let Some(first) = lines.next() {
                out.push_str(trim_line_end(first));
            }
            for line in lines {
                out.push('\n');
                out.push_str(trim_line_end(line));
            }
        }
        Tok::LineComment(text) | Tok::Str(text) | Tok::Heredoc(text) | Tok::Other(text) => {
            out.push_str(text);
        }
    }
}

fn render_line(
    out: &mut String,
    toks: &[Tok<'_>],
    key_width: Option<usize>,
    target: Option<usize>,
) {
    let mut prev: Option<Tok<'_>> = None;
    let mut had_space = false;
    let mut aligned = false;
    for &tok in toks {
        if tok == Tok::Space {
            had_space = true;
            continue;
        }
        if let Some(p) = prev {
            if tok == Tok::Assign && !aligned {
                aligned = true;
                if let (Some(width), Some(target)) = (key_width, target) {
                    out.extend(std::iter::repeat_n(' ', target.saturating_sub(width)));
                }
            }
            if needs_space(p, tok, had_space) {
                out.push(' ');
            }
        }
        push_token(out, tok);
        prev = Some(tok);
        had_space = false;
    }
}

fn split_lines<'a, 'b>(toks: &'b [Tok<'a>]) -> Vec<&'b [Tok<'a>]> {
    toks.split(|t| *t == Tok::Newline)
        .map(|line| {
            let start = line
                .iter()
                .position(|t| *t != Tok::Space)
                .unwrap_or(line.len());
            let end = line
                .iter()
                .rposition(|t| *t != Tok::Space)
                .map_or(start, |p| p + 1);
            line.get(start..end).unwrap_or_default()
        })
        .collect()
}

/// Formats text that is known to be valid HCL with `\n` line endings.
fn format_valid(src: &str) -> String {
    let toks = Lexer::new(src).tokenize();
    let lines = split_lines(&toks);
    let infos: Vec<LineInfo> = lines.iter().map(|l| analyze(l)).collect();
    let levels = indent_levels(&infos);
    let targets = alignment(&infos, &levels);

    let mut out = String::with_capacity(src.len() + src.len() / 8);
    let mut prev: Option<&LineInfo> = None;
    let mut pending_blank = false;
    for (idx, (line, info)) in lines.iter().zip(&infos).enumerate() {
        if info.blank {
            pending_blank = true;
            continue;
        }
        if pending_blank && prev.is_some_and(|p| !p.ends_with_open) && !info.only_close {
            out.push('\n');
        }
        pending_blank = false;
        let level = levels.get(idx).copied().unwrap_or(0);
        out.extend(std::iter::repeat_n(' ', 2 * level));
        let target = targets.get(idx).copied().flatten();
        render_line(&mut out, line, info.key_width, target);
        out.push('\n');
        prev = Some(info);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt(src: &str) -> String {
        match format_hcl(src) {
            Ok(out) => out,
            Err(err) => panic!("format failed: {err}\n--- input ---\n{src}"),
        }
    }

    fn assert_fmt(input: &str, expected: &str) {
        let out = fmt(input);
        assert_eq!(
            out, expected,
            "\n--- got ---\n{out}\n--- expected ---\n{expected}"
        );
        assert_eq!(fmt(&out), out, "not idempotent");
    }

    fn strip_ws(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// Quoted strings and heredocs, verbatim, in order.
    fn literals(s: &str) -> Vec<String> {
        let text = normalize_line_endings(s);
        Lexer::new(&text)
            .tokenize()
            .into_iter()
            .filter_map(|t| match t {
                Tok::Str(x) | Tok::Heredoc(x) => Some(x.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Comments in order, each line without trailing whitespace.
    fn comments(s: &str) -> Vec<String> {
        let text = normalize_line_endings(s);
        Lexer::new(&text)
            .tokenize()
            .into_iter()
            .filter_map(|t| match t {
                Tok::LineComment(x) | Tok::BlockComment(x) => Some(
                    x.split('\n')
                        .map(trim_line_end)
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                _ => None,
            })
            .collect()
    }

    /// Rules 8 and 9 plus the line-level rules 1 and 7, for any valid input.
    fn check_invariants(input: &str) -> Result<String, TestCaseError> {
        let out = format_hcl(input)
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- input ---\n{input}")))?;
        prop_assert!(parse_body(&out).is_ok(), "output does not parse:\n{}", out);
        let again = format_hcl(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &out, "not idempotent");
        prop_assert_eq!(strip_ws(input), strip_ws(&out));
        prop_assert_eq!(literals(input), literals(&out));
        prop_assert_eq!(comments(input), comments(&out));
        prop_assert!(!out.contains("\r\n"));
        let lines = code_lines(&out);
        prop_assert!(
            !lines.windows(2).any(|w| w[0].is_empty() && w[1].is_empty()),
            "several blank lines in a row:\n{}",
            out
        );
        prop_assert!(!out.starts_with('\n'));
        prop_assert!(out.is_empty() || out.ends_with('\n') && !out.ends_with("\n\n"));
        Ok(out)
    }

    /// Lines of `out`, with heredocs, strings and multi-line comments (whose insides are kept
    /// as they are) each replaced by one character.
    fn code_lines(out: &str) -> Vec<String> {
        let mut masked = String::new();
        for tok in Lexer::new(out).tokenize() {
            match tok {
                Tok::Heredoc(_) | Tok::Str(_) => masked.push('L'),
                Tok::BlockComment(text) if text.contains('\n') => masked.push('C'),
                other => push_token(&mut masked, other),
            }
            if tok == Tok::Space {
                masked.push(' ');
            }
        }
        masked.lines().map(str::to_string).collect()
    }

    #[test]
    fn vault_example() {
        let input = r#"vault "default"{
storage="file://./vaults/default"   # where points live
    kms_key_arn   =  "arn:aws:kms:us-east-1:111122223333:key/abc"


  tags = {
  Team="platform"
      CostCenter = "42"
  }
}
"#;
        let expected = r#"vault "default" {
  storage     = "file://./vaults/default" # where points live
  kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/abc"

  tags = {
    Team       = "platform"
    CostCenter = "42"
  }
}
"#;
        assert_fmt(input, expected);
    }

    // ---------------------------------------------------------------- rule 1

    #[test]
    fn empty_input_stays_empty() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n  \n\t\n"), "");
    }

    #[test]
    fn line_endings_and_trailing_whitespace() {
        assert_fmt("a = 1   \r\nb = 2\t\r\n", "a = 1\nb = 2\n");
        assert_fmt("a = 1", "a = 1\n");
        assert_fmt("a = 1\n\n\n", "a = 1\n");
        assert_fmt("# note   \n", "# note\n");
    }

    #[test]
    fn carriage_returns_before_a_line_feed_are_one_line_ending() {
        assert_fmt("bb = <<EOT\r\nx\r\r\nEOT\r\n", "bb = <<EOT\nx\nEOT\n");
        // A lone carriage return between tokens is whitespace.
        assert_fmt("a = [1,\r2]\r\n", "a = [1, 2]\n");
    }

    // ---------------------------------------------------------------- rule 2

    #[test]
    fn indents_nested_blocks() {
        assert_fmt(
            "plan \"m\" {\nrule \"r\" {\n        lifecycle {\ndelete_after = \"7y\"\n}\n  }\n      }\n",
            "plan \"m\" {\n  rule \"r\" {\n    lifecycle {\n      delete_after = \"7y\"\n    }\n  }\n}\n",
        );
    }

    #[test]
    fn indents_lists_calls_and_comments() {
        assert_fmt(
            "x = [\n\"a\",\n      # why\n\"b\",\n]\ny = foo(\n1,\n2\n)\n",
            "x = [\n  \"a\",\n  # why\n  \"b\",\n]\ny = foo(\n  1,\n  2\n)\n",
        );
    }

    #[test]
    fn several_brackets_on_one_line_indent_once() {
        assert_fmt(
            "m = [{\na = 1\n}, {\na = 2\n}]\n",
            "m = [{\n  a = 1\n}, {\n  a = 2\n}]\n",
        );
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        assert_fmt(
            "b {\na = \"{[(\" # {\n/* ( */ c = 1\n}\n",
            "b {\n  a = \"{[(\" # {\n  /* ( */ c = 1\n}\n",
        );
    }

    #[test]
    fn block_comment_continuation_lines_are_kept() {
        assert_fmt(
            "b {\n      /* first\n   second\n         third */\na = 1\n}\n",
            "b {\n  /* first\n   second\n         third */\n  a = 1\n}\n",
        );
    }

    // ---------------------------------------------------------------- rule 3

    #[test]
    fn heredocs_are_verbatim() {
        let input = "b {\n        script = <<EOF\n  keep   this  \n\tand this\n   EOF\n   desc = <<-EOT\n      indented ${var.x}\n    EOT\n}\n";
        let expected = "b {\n  script = <<EOF\n  keep   this  \n\tand this\n   EOF\n  desc = <<-EOT\n      indented ${var.x}\n    EOT\n}\n";
        assert_fmt(input, expected);
    }

    #[test]
    fn heredoc_with_brackets_and_comment_markers() {
        let input = "a = <<EOF\n{ [ ( # not a comment\n// nor this }\nEOF\nb  = 2\n";
        assert_fmt(
            input,
            "a = <<EOF\n{ [ ( # not a comment\n// nor this }\nEOF\nb = 2\n",
        );
    }

    #[test]
    fn empty_heredocs() {
        assert_fmt("a = <<EOT\nEOT\nbb=1\n", "a = <<EOT\nEOT\nbb = 1\n");
        // Like hcl-edit, an empty heredoc followed by a later end line of the same name reads up
        // to that later line: all of it is one heredoc and is kept as it is.
        let greedy = "a = <<EOT\nEOT\n  b   =   <<EOT\n x\nEOT\n";
        assert_fmt(greedy, greedy);
    }

    #[test]
    fn heredoc_inside_call() {
        assert_fmt(
            "a = trimspace(<<EOF\n   x\nEOF\n)\n",
            "a = trimspace(<<EOF\n   x\nEOF\n)\n",
        );
    }

    // ---------------------------------------------------------------- rule 4

    #[test]
    fn strings_are_never_changed() {
        assert_fmt(
            "a   =   \"  two  spaces = x # y // z /* w */ \"\nb = \"${ join(\"  \", [ \"{\" ]) }  %{ if true }x%{ endif }\"\n",
            "a = \"  two  spaces = x # y // z /* w */ \"\nb = \"${ join(\"  \", [ \"{\" ]) }  %{ if true }x%{ endif }\"\n",
        );
        assert_fmt("a = \"esc \\\" quote  \"\n", "a = \"esc \\\" quote  \"\n");
    }

    // ---------------------------------------------------------------- rule 5

    #[test]
    fn assignment_spacing_and_alignment() {
        assert_fmt(
            "a=1\nlonger_key   =   2\nmid =3\n",
            "a          = 1\nlonger_key = 2\nmid        = 3\n",
        );
    }

    #[test]
    fn alignment_runs_are_broken() {
        assert_fmt(
            "a = 1\nbbbb = 2\n\nccccccc = 3\n# comment\nd = 4\nlist = [\n1,\n]\ne = 5\nffff = 6\nblk {\n}\ng = 7\n",
            "a    = 1\nbbbb = 2\n\nccccccc = 3\n# comment\nd = 4\nlist = [\n  1,\n]\ne    = 5\nffff = 6\nblk {\n}\ng = 7\n",
        );
    }

    #[test]
    fn comparison_operators_are_not_assignments() {
        assert_fmt(
            "a = x==1\nbb = y!=2\nc = p<=q\nd = r>=s\ne = { for k, v in m : k=>v }\n",
            "a  = x==1\nbb = y!=2\nc  = p<=q\nd  = r>=s\ne  = { for k, v in m : k=>v }\n",
        );
    }

    #[test]
    fn object_entries_are_aligned() {
        assert_fmt(
            "tags = {\nTeam=\"platform\"\n    CostCenter = \"42\"\n\"quoted key\" = 1\n}\n",
            "tags = {\n  Team         = \"platform\"\n  CostCenter   = \"42\"\n  \"quoted key\" = 1\n}\n",
        );
    }

    #[test]
    fn unicode_keys_align_by_characters() {
        assert_fmt(
            "ключ = \"значение\"\nab = 1\n",
            "ключ = \"значение\"\nab   = 1\n",
        );
    }

    // ---------------------------------------------------------------- rule 6

    #[test]
    fn inner_whitespace_collapses() {
        assert_fmt(
            "a = [ 1,\t\t2,    3 ]\nblock   \"x\"    \"y\"{\n}\n",
            "a = [ 1, 2, 3 ]\nblock \"x\" \"y\" {\n}\n",
        );
    }

    #[test]
    fn end_of_line_comment_gets_one_space() {
        assert_fmt(
            "a = 1# one\nb = 2       // two\nc = 3 /* three */\n",
            "a = 1 # one\nb = 2 // two\nc = 3 /* three */\n",
        );
    }

    // ---------------------------------------------------------------- rule 7

    #[test]
    fn blank_lines() {
        assert_fmt(
            "\n\n\nb {\n\n\na = 1\n\n\n\nc = 2\n\n}\n\n\n\nd = 3\n",
            "b {\n  a = 1\n\n  c = 2\n}\n\nd = 3\n",
        );
        assert_fmt("l = [\n\n1,\n\n]\n", "l = [\n  1,\n]\n");
    }

    // ---------------------------------------------------------------- rules 8/9

    const REALISTIC: &str = r#"


# Coffer configuration for the platform team.
// Managed by hand; run `coffer fmt`.

/*
 * Vaults
 */
vault "default"{   # main vault
storage="file://./vaults/default"   # where points live
    kms_key_arn   =  "arn:aws:kms:us-east-1:111122223333:key/abc"
  # a comment inside the block


  tags = {
  Team="platform"   # owner
      CostCenter = "42"
  }
}

plan "m" {
rule "r" {
    lifecycle {
delete_after = "7y" // seven years
    }
    lifecycle { delete_after = "30d" }
  }
}

plan "nightly" {
	schedule = "0 3 * * *"
  sources  =  [
    "/etc",   # config
     # a lone comment inside the list
  "/home/${var.user}", // user dirs
  /* trailing */ ]
  exclude = ["*.tmp",   "*.cache"]
  pre_hook = <<-EOT
      set -eu
    echo "starting  ${var.name}"   
  EOT
  note  = "a  =  b"  /* inline */
  when = var.x == 1 ? "a" : "b"

}
"#;

    const REALISTIC_EXPECTED: &str = r#"# Coffer configuration for the platform team.
// Managed by hand; run `coffer fmt`.

/*
 * Vaults
 */
vault "default" { # main vault
  storage     = "file://./vaults/default" # where points live
  kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/abc"
  # a comment inside the block

  tags = {
    Team       = "platform" # owner
    CostCenter = "42"
  }
}

plan "m" {
  rule "r" {
    lifecycle {
      delete_after = "7y" // seven years
    }
    lifecycle { delete_after = "30d" }
  }
}

plan "nightly" {
  schedule = "0 3 * * *"
  sources = [
    "/etc", # config
    # a lone comment inside the list
    "/home/${var.user}", // user dirs
  /* trailing */ ]
  exclude = ["*.tmp", "*.cache"]
  pre_hook = <<-EOT
      set -eu
    echo "starting  ${var.name}"   
  EOT
  note = "a  =  b" /* inline */
  when = var.x == 1 ? "a" : "b"
}
"#;

    #[test]
    fn realistic_config() {
        assert_fmt(REALISTIC, REALISTIC_EXPECTED);
        let out = check_invariants(REALISTIC).map_err(|e| e.to_string());
        assert!(out.is_ok(), "{out:?}");
        for comment in [
            "# Coffer configuration for the platform team.",
            "// Managed by hand; run `coffer fmt`.",
            "/*\n * Vaults\n */",
            "# main vault",
            "# where points live",
            "# a comment inside the block",
            "# owner",
            "// seven years",
            "# config",
            "# a lone comment inside the list",
            "// user dirs",
            "/* trailing */",
            "/* inline */",
        ] {
            assert!(REALISTIC_EXPECTED.contains(comment), "lost {comment}");
        }
    }

    #[test]
    fn crlf_input() {
        let input = REALISTIC.replace('\n', "\r\n");
        assert_eq!(fmt(&input), REALISTIC_EXPECTED);
    }

    #[test]
    fn single_line_nested_blocks_are_not_hcl() {
        // HCL allows only one attribute in a single-line block, so this is refused, not mangled.
        let err = format_hcl("plan \"m\" { rule \"r\" { lifecycle { delete_after = \"7y\" } } }\n");
        assert!(err.is_err());
    }

    // ---------------------------------------------------------------- errors

    #[test]
    fn invalid_input_is_refused_with_an_offset() {
        let cases: &[(&str, Option<usize>)] = &[
            ("a = 1\n}\n", Some(6)),
            ("}", Some(0)),
            ("{", Some(0)),
            ("a = \"abc", None),
            ("b {\n  a = 1\n", None),
            ("a = [1,\n", None),
            ("a = <<EOF\nno end\n", None),
            ("x = 1 2\n", Some(6)),
            ("ключ = \"значение\n", None),
            ("a = 1\r\nb = \"x\r\n", None),
            ("a = \"${\"\n", None),
            ("a = 1 é", None),
            ("a = 1\n🙂", None),
            ("é", None),
        ];
        for &(input, offset) in cases {
            match format_hcl(input) {
                Ok(out) => panic!("accepted invalid input {input:?}: {out:?}"),
                Err(err) => {
                    assert!(!err.message.is_empty());
                    assert!(input.is_char_boundary(err.offset), "{input:?}: {err:?}");
                    if let Some(expected) = offset {
                        assert_eq!(err.offset, expected, "{input:?}: {err:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn error_displays_message_and_offset() {
        let err = FormatError {
            message: "unexpected token".into(),
            offset: 6,
        };
        assert_eq!(err.to_string(), "unexpected token (at byte offset 6)");
    }

    #[test]
    fn deep_nesting_does_not_panic() {
        for n in [10usize, 63, 64, 65, 1000] {
            let input = format!("a = {}1{}\n", "[".repeat(n), "]".repeat(n));
            let _ = format_hcl(&input);
            let input = format!("a = {}1{}\n", "\"${".repeat(n), "}\"".repeat(n));
            let _ = format_hcl(&input);
        }
    }

    // ---------------------------------------------------------------- proptest grammar

    fn ws() -> BoxedStrategy<String> {
        prop_oneof![
            4 => Just(""),
            4 => Just(" "),
            1 => Just("   "),
            1 => Just("\t"),
            1 => Just(" \t "),
        ]
        .prop_map(String::from)
        .boxed()
    }

    fn ws1() -> BoxedStrategy<String> {
        prop_oneof![4 => Just(" "), 1 => Just("  "), 1 => Just("\t")]
            .prop_map(String::from)
            .boxed()
    }

    fn indent() -> BoxedStrategy<String> {
        prop_oneof![Just(""), Just("  "), Just("\t"), Just("       ")]
            .prop_map(String::from)
            .boxed()
    }

    fn ident() -> BoxedStrategy<String> {
        "[a-z][a-z0-9_]{0,9}"
            .prop_filter("keyword", |s| {
                !matches!(
                    s.as_str(),
                    "true" | "false" | "null" | "for" | "in" | "if" | "else" | "endif" | "endfor"
                )
            })
            .boxed()
    }

    fn string_lit() -> BoxedStrategy<String> {
        prop_oneof![
            4 => "[a-zA-Z0-9 _./:=#{}*()\\[\\]-]{0,14}".prop_map(|s| format!("\"{s}\"")),
            1 => Just("\"${var.name}-x\"".to_string()),
            1 => Just("\"a \\\"quoted\\\"  \\n\"".to_string()),
            1 => Just("\"${upper(\"x  y\")}  z\"".to_string()),
            1 => Just("\"%{ if var.on }on  %{ else }\"off\"%{ endif }\"".to_string()),
            1 => Just("\"$${literal} %%{x}\"".to_string()),
        ]
        .boxed()
    }

    fn leaf() -> BoxedStrategy<String> {
        prop_oneof![
            4 => string_lit(),
            2 => "[0-9]{1,5}",
            1 => Just("1.5".to_string()),
            1 => prop_oneof![Just("true"), Just("false"), Just("null")].prop_map(String::from),
            1 => Just("var.retention_days".to_string()),
            1 => Just("x == 1 ? \"a\" : \"b\"".to_string()),
            1 => Just("max(1, 2,   3)".to_string()),
        ]
        .boxed()
    }

    fn line_comment() -> BoxedStrategy<String> {
        let text = "[a-zA-Z0-9 ={}\\[\\]\"'(),.#*/-]{0,16}";
        prop_oneof![
            (text).prop_map(|t| format!("#{t}")),
            (text).prop_map(|t| format!("//{t}")),
        ]
        .boxed()
    }

    fn block_comment() -> BoxedStrategy<String> {
        let text = "[a-zA-Z0-9 ={}\\[\\]\"'(),.#-]{0,16}";
        prop_oneof![
            3 => (text).prop_map(|t| format!("/*{t}*/")),
            1 => (text, text).prop_map(|(a, b)| format!("/*{a}\n   {b}\n*/")),
        ]
        .boxed()
    }

    fn eol_comment() -> BoxedStrategy<String> {
        prop_oneof![
            4 => Just(String::new()),
            2 => (ws(), line_comment()).prop_map(|(w, c)| format!("{w}{c}")),
            1 => (ws(), "[a-z ]{0,8}").prop_map(|(w, c)| format!("{w}/*{c}*/")),
        ]
        .boxed()
    }

    fn heredoc() -> BoxedStrategy<String> {
        let line = "[a-z0-9 #=\\[\\]{}\"().,/*-]{0,20}";
        (
            any::<bool>(),
            // hcl-edit reads an empty heredoc up to the next end delimiter of the same name, so
            // bodies are never empty here (that case has its own unit test).
            prop::collection::vec((indent(), line), 1..4),
            indent(),
        )
            .prop_map(|(dash, lines, end_indent)| {
                let mut s = String::from(if dash { "<<-EOT\n" } else { "<<EOT\n" });
                for (ind, l) in lines {
                    s.push_str(&ind);
                    s.push_str(&l);
                    s.push('\n');
                }
                s.push_str(&end_indent);
                s.push_str("EOT");
                s
            })
            .boxed()
    }

    /// Object keys must be unique (hcl-edit refuses `{ a = 1, a = 2 }`).
    fn unique(seen: &mut Vec<String>, key: &str) -> bool {
        let bare = key.trim_matches('"').to_string();
        if seen.contains(&bare) {
            return false;
        }
        seen.push(bare);
        true
    }

    fn value(depth: u32) -> BoxedStrategy<String> {
        if depth == 0 {
            return leaf().boxed();
        }
        let inner = value(depth - 1);
        prop_oneof![
            4 => leaf(),
            1 => prop::collection::vec((inner.clone(), ws()), 0..4).prop_map(|items| {
                let body: Vec<String> = items.into_iter().map(|(v, w)| format!("{w}{v}")).collect();
                format!("[{}]", body.join(","))
            }),
            1 => prop::collection::vec((indent(), inner.clone(), eol_comment(), any::<bool>()), 0..4)
                .prop_map(|items| {
                    let mut s = String::from("[\n");
                    for (ind, v, c, comment_line) in items {
                        if comment_line {
                            s.push_str(&format!("{ind}# element comment\n"));
                        }
                        s.push_str(&format!("{ind}{v},{c}\n"));
                    }
                    s.push(']');
                    s
                }),
            1 => prop::collection::vec((ident(), ws(), ws(), inner.clone()), 0..3).prop_map(|items| {
                let mut seen = Vec::new();
                let body: Vec<String> = items
                    .into_iter()
                    .filter(|(k, ..)| unique(&mut seen, k))
                    .map(|(k, a, b, v)| format!("{k}{a}={b}{v}"))
                    .collect();
                format!("{{ {} }}", body.join(", "))
            }),
            1 => prop::collection::vec(
                (indent(), prop_oneof![ident(), string_lit()], ws(), ws(), inner, eol_comment(), 0..3u8),
                0..4,
            )
            .prop_map(|items| {
                let mut s = String::from("{\n");
                let mut seen = Vec::new();
                for (ind, k, a, b, v, c, extra) in items {
                    if !unique(&mut seen, &k) {
                        continue;
                    }
                    match extra {
                        0 => s.push('\n'),
                        1 => s.push_str(&format!("{ind}// entry comment\n")),
                        _ => {}
                    }
                    s.push_str(&format!("{ind}{k}{a}={b}{v}{c}\n"));
                }
                s.push('}');
                s
            }),
        ]
        .boxed()
    }

    /// An attribute line and its key.
    fn attribute(depth: u32) -> BoxedStrategy<(String, String)> {
        (
            indent(),
            ident(),
            ws(),
            ws(),
            prop_oneof![6 => value(depth), 1 => heredoc()],
            eol_comment(),
            ws(),
        )
            .prop_map(|(ind, key, a, b, v, c, trailing)| {
                let comment = if v.ends_with("EOT") { String::new() } else { c };
                let line = format!("{ind}{key}{a}={b}{v}{comment}{trailing}");
                (key, line)
            })
            .boxed()
    }

    /// A body item and, for an attribute, its key (empty otherwise).
    fn item(depth: u32) -> BoxedStrategy<(String, String)> {
        let other: BoxedStrategy<String> = prop_oneof![
            1 => (indent(), line_comment()).prop_map(|(i, c)| format!("{i}{c}")),
            1 => (indent(), block_comment()).prop_map(|(i, c)| format!("{i}{c}")),
            1 => prop_oneof![Just(""), Just("   "), Just("\t")].prop_map(String::from),
            1 => (indent(), ident(), ws1(), ident(), ws(), leaf())
                .prop_map(|(i, t, w, k, a, v)| format!("{i}{t}{w}{{ {k}{a}= {v} }}")),
        ]
        .boxed();
        let simple = prop_oneof![
            6 => attribute(depth),
            4 => other.prop_map(|line| (String::new(), line)),
        ]
        .boxed();
        if depth == 0 {
            return simple;
        }
        let block = (
            indent(),
            prop_oneof![
                Just("vault".to_string()),
                Just("plan".to_string()),
                Just("rule".to_string()),
                Just("lifecycle".to_string()),
                ident()
            ],
            prop::collection::vec((ws1(), "[a-z0-9_-]{0,8}"), 0..3),
            ws(),
            eol_comment(),
            body(depth - 1, 0..6),
            indent(),
            eol_comment(),
        )
            .prop_map(|(ind, ty, labels, w, open_c, body, close_ind, close_c)| {
                let mut s = format!("{ind}{ty}");
                for (lw, l) in labels {
                    s.push_str(&format!("{lw}\"{l}\""));
                }
                s.push_str(&format!("{w}{{{open_c}\n"));
                if !body.is_empty() {
                    s.push_str(&body);
                    s.push('\n');
                }
                s.push_str(&format!("{close_ind}}}{close_c}"));
                (String::new(), s)
            })
            .boxed();
        prop_oneof![3 => simple, 2 => block].boxed()
    }

    /// Body items joined by newlines; attributes whose key was already used are dropped
    /// (hcl-edit refuses redefined attributes).
    fn body(depth: u32, count: std::ops::Range<usize>) -> BoxedStrategy<String> {
        prop::collection::vec(item(depth), count)
            .prop_map(|items| {
                let mut seen = Vec::new();
                items
                    .into_iter()
                    .filter(|(key, _)| key.is_empty() || unique(&mut seen, key))
                    .map(|(_, line)| line)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .boxed()
    }

    fn config() -> BoxedStrategy<String> {
        (
            body(2, 0..8),
            prop_oneof![Just(""), Just("\n"), Just("\n\n")],
            any::<bool>(),
        )
            .prop_map(|(body, end, crlf)| {
                let s = format!("{body}{end}");
                if crlf {
                    s.replace('\n', "\r\n")
                } else {
                    s
                }
            })
            .boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn generated_configs_format_correctly(input in config()) {
            prop_assert!(parse_body(&input).is_ok(), "generator produced invalid HCL:\n{}", input);
            let out = check_invariants(&input)?;
            // Comment lines survive as lines of their own.
            let out_lines: Vec<&str> = out.lines().map(str::trim).collect();
            for line in input.lines().map(str::trim) {
                if line.starts_with('#') || line.starts_with("//") {
                    prop_assert!(out_lines.contains(&line), "lost comment line {:?}", line);
                }
            }
            // No trailing whitespace outside heredocs and strings; indentation in steps of two.
            for line in code_lines(&out) {
                prop_assert_eq!(line.trim_end(), line.as_str());
                let lead = line.len() - line.trim_start().len();
                prop_assert!(line.starts_with(&" ".repeat(lead)), "tab indentation in {:?}", line);
            }
        }

        #[test]
        fn mutated_configs_never_panic(
            input in config(),
            pos in any::<prop::sample::Index>(),
            insert in prop_oneof![
                Just(""), Just("{"), Just("}"), Just("\""), Just("="), Just("\n"), Just("#"),
                Just("/*"), Just("<<EOT\n"), Just("${"), Just("é"), Just("\r"), Just("\t"), Just("  ")
            ],
            cut in any::<bool>(),
        ) {
            let mut at = pos.index(input.len() + 1);
            while !input.is_char_boundary(at) {
                at -= 1;
            }
            let mutated = if cut {
                format!("{}{}", &input[..at], insert)
            } else {
                format!("{}{}{}", &input[..at], insert, &input[at..])
            };
            if format_hcl(&mutated).is_ok() {
                check_invariants(&mutated)?;
            }
        }

        #[test]
        fn arbitrary_strings_never_panic(input in any::<String>()) {
            if let Err(err) = format_hcl(&input) {
                prop_assert!(input.is_char_boundary(err.offset));
            }
        }

        #[test]
        fn hcl_like_strings_never_panic(input in "[a-z0-9 \t\r\n{}\\[\\]()=\"#/*<>!$%~\\\\,.:?-]{0,80}") {
            if format_hcl(&input).is_ok() {
                check_invariants(&input)?;
            }
        }
    }
}
