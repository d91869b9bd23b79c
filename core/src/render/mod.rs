//! Rendering for people and machines: plans as Terraform-style text ([`text`]), pull-request
//! markdown ([`markdown`]) and JSON, built from the same serializable [`Plan`](crate::plan::Plan);
//! jobs and recovery points as tables and JSON ([`jobs`]); job reports ([`report`]) and
//! compliance reports ([`compliance`]) in four formats over shared [`table`]s. Rendering is
//! pure.

pub mod compliance;
pub mod drift;
pub mod forecast;
pub mod jobs;
pub mod markdown;
pub mod report;
pub mod table;
pub mod text;

pub use markdown::render_markdown;
pub use text::{render_text, summary_line};

/// A time in RFC 3339 to the second, as reports and notification payloads write it.
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A time to the minute, as plans show it: `2026-12-05 03:00 UTC`.
pub fn minute(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Colour choice for text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };

    pub fn paint(self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn green(self, t: &str) -> String {
        self.paint(t, "32")
    }
    pub fn red(self, t: &str) -> String {
        self.paint(t, "31")
    }
    pub fn yellow(self, t: &str) -> String {
        self.paint(t, "33")
    }
    pub fn bold(self, t: &str) -> String {
        self.paint(t, "1")
    }
}
