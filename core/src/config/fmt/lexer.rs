//! The formatter's lexer: one pass over text already known to be valid HCL, into spaces,
//! newlines, brackets, words and opaque strings, heredocs and comments.

use super::*;

/// One lexical unit of the (already validated) input. Strings, heredocs and comments are opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
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
pub(super) enum Directive {
    Opens,
    Closes,
    Neutral,
}

pub(super) struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            b: src.as_bytes(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.b.len()
    }

    /// The byte at `i`, or 0 past the end.
    pub(super) fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// The position of the character after the one starting at `i`.
    pub(super) fn next_char(&self, i: usize) -> usize {
        let width = match self.at(i) {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        (i + width).min(self.len())
    }

    pub(super) fn slice(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    pub(super) fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..).and_then(|rest| rest.chars().next())
    }

    pub(super) fn tokenize(&self) -> Vec<Tok<'a>> {
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
    pub(super) fn other_end(&self, start: usize) -> usize {
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
    pub(super) fn line_end(&self, i: usize) -> usize {
        self.b
            .get(i..)
            .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
            .map_or(self.len(), |p| i + p)
    }

    /// End of the `/* */` comment starting at `i`.
    pub(super) fn block_comment_end(&self, i: usize) -> usize {
        self.src
            .get(i + 2..)
            .and_then(|rest| rest.find("*/"))
            .map_or(self.len(), |p| i + 2 + p + 2)
    }

    /// Parses a heredoc introducer `<<ID` / `<<-ID` followed by a line ending at `i`; returns the
    /// byte range of the delimiter and the start of the body.
    pub(super) fn heredoc_start(&self, i: usize) -> Option<(usize, usize, usize)> {
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
    pub(super) fn heredoc_end(&self, i: usize) -> usize {
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
    pub(super) fn terminator_at(&self, mut i: usize, delim: &[u8]) -> Option<usize> {
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
    pub(super) fn quoted_end(&self, i: usize) -> usize {
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
    pub(super) fn directive(&self, i: usize) -> (usize, Directive) {
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
    pub(super) fn code_end(&self, mut j: usize) -> usize {
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

pub(super) fn nest(depth: usize, directive: &Directive) -> usize {
    match directive {
        Directive::Opens => depth + 1,
        Directive::Closes => depth.saturating_sub(1),
        Directive::Neutral => depth,
    }
}

pub(super) fn is_id_start(ch: char) -> bool {
    ch.is_ascii_alphabetic()
        || ch == '_'
        || (!ch.is_ascii() && Ident::try_new(String::from(ch)).is_ok())
}

pub(super) fn is_id_continue(ch: char) -> bool {
    if ch.is_ascii() {
        return ch.is_ascii_alphanumeric() || ch == '_' || ch == '-';
    }
    let mut probe = String::from("a");
    probe.push(ch);
    Ident::try_new(probe).is_ok()
}
