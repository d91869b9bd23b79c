//! The formatter's layout passes: what each line holds, its indentation from the brackets
//! left open before it, the alignment of consecutive `=`, and one line rendered with its
//! spacing.

use super::*;

pub(super) fn trim_line_end(s: &str) -> &str {
    s.trim_end_matches([' ', '\t', '\r'])
}

/// What the layout passes need to know about one line.
#[derive(Debug, Default)]
pub(super) struct LineInfo {
    blank: bool,
    starts_with_close: bool,
    only_close: bool,
    ends_with_open: bool,
    /// Opening minus closing brackets on the line.
    net: isize,
    /// Width of the key when the line is a single-line `key = value` (attribute or object entry).
    key_width: Option<usize>,
}

pub(super) fn analyze(toks: &[Tok<'_>]) -> LineInfo {
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
pub(super) fn indent_levels(infos: &[LineInfo]) -> Vec<usize> {
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
pub(super) fn alignment(infos: &[LineInfo], levels: &[usize]) -> Vec<Option<usize>> {
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

pub(super) fn needs_space(prev: Tok<'_>, cur: Tok<'_>, had_space: bool) -> bool {
    match (prev, cur) {
        (Tok::Assign, _) | (_, Tok::Assign) | (_, Tok::LineComment(_)) => true,
        (Tok::Str(_), Tok::Open(b'{')) => true,
        (Tok::Other(word), Tok::Open(b'{')) => had_space || Ident::try_new(word).is_ok(),
        _ => had_space,
    }
}

pub(super) fn push_token(out: &mut String, tok: Tok<'_>) {
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

pub(super) fn render_line(
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

pub(super) fn split_lines<'a, 'b>(toks: &'b [Tok<'a>]) -> Vec<&'b [Tok<'a>]> {
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
pub(super) fn format_valid(src: &str) -> String {
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
