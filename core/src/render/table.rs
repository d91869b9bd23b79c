//! Tables shared by every report: a padded text table for people, RFC 4180 CSV for tools,
//! and a markdown table for a pull request or wiki, each from a header and rows of cells.

use std::fmt::Write as _;

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A header line and a line per row, CRLF-terminated (the header even with no rows).
pub fn csv<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for r in rows {
        let line: Vec<String> = r.as_ref().iter().map(|v| csv_field(v)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Columns padded to their widest cell, two spaces apart; the last column is not padded.
pub fn text<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.as_ref().iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: Vec<&str>| {
        let last = cols.len().saturating_sub(1);
        let mut s = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i == last {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.as_ref().iter().map(String::as_str).collect());
    }
    out
}

/// Markdown: `|` and line breaks inside a cell would end it.
pub fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A markdown table.
pub fn markdown<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let cols: Vec<String> = r.as_ref().iter().map(|c| md_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cols.join(" | "));
    }
    out
}
