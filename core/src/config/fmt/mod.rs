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

mod layout;
mod lexer;
#[cfg(test)]
mod tests;

use layout::*;
use lexer::*;

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
    use crate::config::nesting::{too_deep, MAX_DEPTH};
    if let Some(deep) = too_deep(src, MAX_DEPTH) {
        return Err(FormatError {
            message: deep.message(MAX_DEPTH),
            offset: deep.at,
        });
    }
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
