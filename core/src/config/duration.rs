//! Durations written in configuration (`12h`, `90d`, `7y`, `1d12h`): parsing, comparison
//! and the canonical text stored in state.
//!
//! Units: `m` minute, `h` hour, `d` day (24 h), `w` week (7 d), `mo` month (30 d) and
//! `y` year (365 d). Months and years are fixed lengths, as AWS Backup counts lifecycle days,
//! so `delete_after = "7y"` keeps a point for 2,555 days.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A non-negative length of time, kept in minutes together with the text the user wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duration {
    minutes: u64,
    text: String,
}

const UNITS: &[(&str, u64)] = &[
    ("mo", 30 * 24 * 60),
    ("m", 1),
    ("h", 60),
    ("d", 24 * 60),
    ("w", 7 * 24 * 60),
    ("y", 365 * 24 * 60),
];

/// The longest duration coffer accepts anywhere: 100 years (36,500 days), AWS Backup's
/// maximum retention. Every date computed from a duration therefore stays far inside the
/// calendar's range.
pub const MAX_DAYS: u64 = 36_500;
const MAX_MINUTES: u64 = MAX_DAYS * 24 * 60;

/// Why a duration text is invalid, with the byte range inside the text that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    pub message: String,
    pub range: std::ops::Range<usize>,
}

impl Duration {
    /// A duration of `minutes`, at most [`MAX_DAYS`] (longer ones are cut to that).
    pub fn from_minutes(minutes: u64) -> Self {
        let minutes = minutes.min(MAX_MINUTES);
        Duration {
            minutes,
            text: canonical_text(minutes),
        }
    }

    /// The same length as a chrono duration, for date arithmetic. Never fails for a
    /// duration of at most [`MAX_DAYS`], which every constructor guarantees.
    pub fn to_chrono(&self) -> chrono::TimeDelta {
        let minutes = i64::try_from(self.minutes.min(MAX_MINUTES)).unwrap_or(0);
        chrono::TimeDelta::try_minutes(minutes).unwrap_or(chrono::TimeDelta::zero())
    }

    /// `at` plus this duration; `None` past the end of the calendar.
    pub fn after(
        &self,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        at.checked_add_signed(self.to_chrono())
    }

    pub fn from_days(days: u64) -> Self {
        Duration::from_minutes(days.saturating_mul(24 * 60))
    }

    pub fn minutes(&self) -> u64 {
        self.minutes
    }

    /// Whole days, rounded down.
    pub fn days(&self) -> u64 {
        self.minutes / (24 * 60)
    }

    /// The text as the user wrote it (what state and plans show).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Parses `<number><unit>` terms, e.g. `90d`, `1y6mo`, `1h30m`.
    pub fn parse(text: &str) -> Result<Duration, DurationError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(DurationError {
                message: "empty duration".into(),
                range: 0..text.len(),
            });
        }
        let offset = text.len() - text.trim_start().len();
        let bytes = trimmed.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(DurationError {
                    message: format!("expected a number at `{}`", &trimmed[start..]),
                    range: offset + start..offset + trimmed.len(),
                });
            }
            let number: u64 = trimmed[start..i].parse().map_err(|_| DurationError {
                message: "number is too large".into(),
                range: offset + start..offset + i,
            })?;
            let unit_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &trimmed[unit_start..i];
            let Some((_, per)) = UNITS.iter().find(|(u, _)| *u == unit) else {
                let message = if unit.is_empty() {
                    format!("`{number}` has no unit")
                } else {
                    format!("unknown unit `{unit}`")
                };
                return Err(DurationError {
                    message,
                    range: offset + start..offset + i.max(unit_start),
                });
            };
            total = number
                .checked_mul(*per)
                .and_then(|m| total.checked_add(m))
                .ok_or_else(|| DurationError {
                    message: "duration is too large".into(),
                    range: offset + start..offset + i,
                })?;
        }
        if total > MAX_MINUTES {
            return Err(DurationError {
                message: format!(
                    "`{trimmed}` is longer than 100 years (36,500 days, AWS Backup's maximum)"
                ),
                range: offset..offset + trimmed.len(),
            });
        }
        Ok(Duration {
            minutes: total,
            text: trimmed.to_string(),
        })
    }
}

/// The shortest exact text for a number of minutes, e.g. 2880 → `2d`.
fn canonical_text(minutes: u64) -> String {
    if minutes == 0 {
        return "0m".into();
    }
    for (unit, per) in [("y", 365 * 24 * 60), ("d", 24 * 60), ("h", 60)] {
        if minutes.is_multiple_of(per) {
            return format!("{}{unit}", minutes / per);
        }
    }
    format!("{minutes}m")
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.minutes.cmp(&other.minutes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(Duration::parse("12h").unwrap().minutes(), 720);
        assert_eq!(Duration::parse("90d").unwrap().days(), 90);
        assert_eq!(Duration::parse("7y").unwrap().days(), 2555);
        assert_eq!(Duration::parse("2mo").unwrap().days(), 60);
        assert_eq!(Duration::parse("1w").unwrap().days(), 7);
        assert_eq!(Duration::parse("1h30m").unwrap().minutes(), 90);
        assert_eq!(Duration::parse("1y6mo").unwrap().days(), 365 + 180);
    }

    #[test]
    fn keeps_user_text() {
        assert_eq!(Duration::parse(" 90d ").unwrap().as_str(), "90d");
    }

    #[test]
    fn rejects_bad_text_with_range() {
        let e = Duration::parse("90x").unwrap_err();
        assert_eq!(e.message, "unknown unit `x`");
        assert_eq!(e.range, 0..3);
        let e = Duration::parse("12").unwrap_err();
        assert!(e.message.contains("no unit"));
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("d").is_err());
        assert!(Duration::parse("-1d").is_err());
        assert!(Duration::parse("99999999999999999999y").is_err());
        assert!(Duration::parse("9999999999999999y").is_err());
    }

    /// Issue 11, defect 3: durations are bounded, so no date arithmetic on them can overflow.
    #[test]
    fn durations_are_at_most_one_hundred_years() {
        assert_eq!(Duration::parse("100y").unwrap().days(), 36_500);
        assert_eq!(Duration::parse("36500d").unwrap().days(), 36_500);
        let e = Duration::parse(" 1000000y").unwrap_err();
        assert_eq!(
            e.message,
            "`1000000y` is longer than 100 years (36,500 days, AWS Backup's maximum)"
        );
        assert_eq!(e.range, 1..9);
        assert!(Duration::parse("36500d1m").is_err());
        assert_eq!(Duration::from_minutes(u64::MAX).days(), 36_500);
        let end = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        assert_eq!(Duration::parse("1d").unwrap().after(end), None);
        assert_eq!(
            Duration::parse("100y").unwrap().to_chrono().num_days(),
            36_500
        );
    }

    #[test]
    fn canonical_from_minutes() {
        assert_eq!(Duration::from_minutes(2880).as_str(), "2d");
        assert_eq!(Duration::from_minutes(90).as_str(), "90m");
        assert_eq!(Duration::from_days(365).as_str(), "1y");
    }
}
