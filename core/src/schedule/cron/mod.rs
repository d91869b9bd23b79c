//! EventBridge cron expressions, as AWS Backup rules use them: `cron(Minutes Hours
//! Day-of-month Month Day-of-week Year)`. Parsing accepts exactly the documented wildcards of
//! each field and reports every error with the field and the byte range inside the
//! expression; matching says which days of a month and which times of a day an expression
//! selects.
//!
//! Semantics (AWS documentation first, Quartz where AWS is silent):
//! - day-of-week counts 1 = Sunday … 7 = Saturday (names SUN-SAT), months 1-12 or JAN-DEC;
//! - exactly one of day-of-month and day-of-week is `?`;
//! - ranges may wrap around (`20-2` in hours is 20-23 and 0-2, as in AWS's own example);
//! - `L` in day-of-month is the last day, `L-n` n days before it, `LW` the last weekday, `nW`
//!   the weekday nearest day n without leaving the month (a day the month lacks matches
//!   nothing);
//! - a lone `L` in day-of-week is the last day of the week (Saturday), `nL` the last such day
//!   of the month, `n#k` the k-th such day (a month without it is skipped); only one `#`
//!   expression is allowed.

use chrono::{Datelike, NaiveDate};
use std::ops::Range;

mod fields;
#[cfg(test)]
mod tests;

use fields::*;

/// One of the six fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Minutes,
    Hours,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Minutes,
        Field::Hours,
        Field::DayOfMonth,
        Field::Month,
        Field::DayOfWeek,
        Field::Year,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Minutes => "minutes",
            Field::Hours => "hours",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
            Field::Year => "year",
        }
    }

    /// The smallest and largest value.
    pub fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minutes => (0, 59),
            Field::Hours => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (1, 7),
            Field::Year => (1970, 2199),
        }
    }

    /// The wildcards AWS documents for the field.
    pub fn wildcards(self) -> &'static str {
        match self {
            Field::Minutes | Field::Hours | Field::Month | Field::Year => ", - * /",
            Field::DayOfMonth => ", - * ? / L W",
            Field::DayOfWeek => ", - * ? L #",
        }
    }

    fn values_text(self) -> &'static str {
        match self {
            Field::Minutes => "0-59",
            Field::Hours => "0-23",
            Field::DayOfMonth => "1-31",
            Field::Month => "1-12 or JAN-DEC",
            Field::DayOfWeek => "1-7 or SUN-SAT (1 = Sunday)",
            Field::Year => "1970-2199",
        }
    }
}

/// Why an expression is not valid: which field, where (byte range within the whole
/// schedule text), and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    pub field: Option<Field>,
    pub message: String,
    pub range: Range<usize>,
    /// A few words to show under the offending characters.
    pub label: String,
    pub help: String,
}

/// A set of small numbers (0..256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Bits([u64; 4]);

impl Bits {
    pub fn insert(&mut self, v: u32) {
        if v < 256 {
            self.0[(v / 64) as usize] |= 1 << (v % 64);
        }
    }
    pub fn contains(&self, v: u32) -> bool {
        v < 256 && self.0[(v / 64) as usize] & (1 << (v % 64)) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0u32..256).filter(move |v| self.contains(*v))
    }
    pub fn count(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// The day-of-month field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DayOfMonth {
    /// `?`
    Any,
    Days(Bits),
    /// `L` (offset 0) or `L-n`
    Last(u32),
    /// `LW`
    LastWeekday,
    /// `nW`
    NearestWeekday(u32),
}

/// The day-of-week field (1 = Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DayOfWeek {
    /// `?`
    Any,
    Days(Bits),
    /// `nL`: the last day `n` of the month
    Last(u32),
    /// `n#k`: the k-th day `n` of the month
    Nth(u32, u32),
}

/// A parsed, valid cron expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cron {
    text: String,
    /// The six field texts as written.
    fields: [String; 6],
    pub minutes: Bits,
    pub hours: Bits,
    pub day_of_month: DayOfMonth,
    pub months: Bits,
    pub day_of_week: DayOfWeek,
    pub years: Bits,
    /// Every selected time of day, as minutes after midnight, ascending.
    times: Vec<u32>,
}

const YEAR_BASE: u32 = 1970;
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn err(
    field: Option<Field>,
    range: Range<usize>,
    message: impl Into<String>,
    help: impl Into<String>,
) -> CronError {
    let message = message.into();
    let (message, label) = match field {
        Some(f) => (
            format!("{}: {message}", f.name()),
            format!("in the {} field", f.name()),
        ),
        None if message.contains("rate expression") => {
            (message, "rate() is not accepted for backup rules".into())
        }
        None if message.contains("field(s)") => (message, "six fields are needed".into()),
        None if message.contains("not a cron") => (message, "expected cron(...)".into()),
        None if message.contains("day-of-month and day-of-week") => {
            (message, "one of these two must be `?`".into())
        }
        None => (message, "here".into()),
    };
    CronError {
        field,
        message,
        range,
        label,
        help: help.into(),
    }
}

/// The cron equivalent of a rate expression, when there is one.
pub fn rate_to_cron(inner: &str) -> Option<String> {
    let mut it = inner.split_whitespace();
    let n: u32 = it.next()?.parse().ok()?;
    let unit = it.next()?;
    if it.next().is_some() || n == 0 {
        return None;
    }
    match unit.trim_end_matches('s') {
        "minute" if n < 60 && 60 % n == 0 => Some(format!("cron(0/{n} * * * ? *)")),
        "hour" if n == 1 => Some("cron(0 * * * ? *)".into()),
        "hour" if n < 24 && 24 % n == 0 => Some(format!("cron(0 0/{n} * * ? *)")),
        "day" if n == 1 => Some("cron(0 0 * * ? *)".into()),
        "day" if n <= 31 => Some(format!("cron(0 0 1/{n} * ? *)")),
        _ => None,
    }
}

impl Cron {
    /// The expression as written, e.g. `cron(0 6 ? * 7#1 *)`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of one field as written.
    pub fn field_text(&self, f: Field) -> &str {
        &self.fields[f as usize]
    }

    /// Selected times of day in minutes after midnight, ascending.
    pub fn times(&self) -> &[u32] {
        &self.times
    }

    /// Parses `cron(…)`; `rate(…)` and anything else is refused with a reason.
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let whole = lead..lead + trimmed.len();
        if let Some(inner) = trimmed
            .strip_prefix("rate(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let help = match rate_to_cron(inner) {
                Some(c) => format!("backup rules use cron expressions; the same schedule is `{c}`"),
                None => "backup rules use cron expressions: cron(Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 5 ? * * *) for 05:00 UTC daily".into(),
            };
            return Err(err(
                None,
                whole,
                format!("`{trimmed}` is a rate expression, which is not a backup schedule"),
                help,
            ));
        }
        let Some(inner) = trimmed
            .strip_prefix("cron(")
            .and_then(|r| r.strip_suffix(')'))
        else {
            return Err(err(
                None,
                whole,
                format!("schedule `{trimmed}` is not a cron(...) expression"),
                "write cron(Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 6 ? * 7#1 *) for 06:00 UTC on the first Saturday of each month",
            ));
        };
        let base = lead + "cron(".len();
        // split into fields, remembering where each starts
        let mut tokens: Vec<(usize, &str)> = Vec::new();
        let mut start = None;
        for (i, c) in inner.char_indices() {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    tokens.push((s, &inner[s..i]));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            tokens.push((s, &inner[s..]));
        }
        if tokens.len() != 6 {
            let range = base..base + inner.len();
            let help = match tokens.len() {
                5 => "that looks like Unix cron; AWS cron has six fields and a Year field last, e.g. cron(0 5 * * ? *), with ? in day-of-month or day-of-week and days of the week counted 1 (Sunday) to 7 (Saturday)",
                7 => "AWS cron has no seconds field: drop the first field",
                _ => "fields: Minutes Hours Day-of-month Month Day-of-week Year, e.g. cron(0 5 ? * * *)",
            };
            return Err(err(
                None,
                range,
                format!(
                    "cron expression has {} field(s); it needs exactly 6",
                    tokens.len()
                ),
                help,
            ));
        }
        let mut fields: [String; 6] = Default::default();
        for (i, (_, t)) in tokens.iter().enumerate() {
            fields[i] = t.to_string();
        }
        let at = |i: usize| base + tokens[i].0;

        let minutes = parse_plain(Field::Minutes, tokens[0].1, at(0))?;
        let hours = parse_plain(Field::Hours, tokens[1].1, at(1))?;
        let day_of_month = parse_dom(tokens[2].1, at(2))?;
        let months = parse_plain(Field::Month, tokens[3].1, at(3))?;
        let day_of_week = parse_dow(tokens[4].1, at(4))?;
        let years = parse_plain(Field::Year, tokens[5].1, at(5))?;

        match (&day_of_month, &day_of_week) {
            (DayOfMonth::Any, DayOfWeek::Any) => {
                return Err(err(
                    None,
                    at(2)..at(4) + tokens[4].1.len(),
                    "day-of-month and day-of-week are both `?`",
                    "exactly one of them must be `?`: use `*` in day-of-month for every day, or name the days of the week",
                ))
            }
            (DayOfMonth::Any, _) | (_, DayOfWeek::Any) => {}
            _ => {
                return Err(err(
                    None,
                    at(2)..at(4) + tokens[4].1.len(),
                    "day-of-month and day-of-week are both set",
                    "AWS cron needs `?` in one of them: e.g. `* * ?` … or `? * MON-FRI`",
                ))
            }
        }

        let mut times = Vec::new();
        for h in hours.iter() {
            for m in minutes.iter() {
                times.push(h * 60 + m);
            }
        }
        Ok(Cron {
            text: trimmed.to_string(),
            fields,
            minutes,
            hours,
            day_of_month,
            months,
            day_of_week,
            years,
            times,
        })
    }

    /// The days of `year`-`month` the expression selects, as bit `d` for day `d`.
    pub fn day_mask(&self, year: i32, month: u32) -> u32 {
        if year < YEAR_BASE as i32
            || !self.years.contains(year as u32 - YEAR_BASE)
            || !self.months.contains(month)
        {
            return 0;
        }
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            return 0;
        };
        let last = days_in_month(year, month);
        // weekday of the 1st, 1 = Sunday
        let first_wd = first.weekday().number_from_sunday();
        let wd = |d: u32| (first_wd - 1 + d - 1) % 7 + 1;
        let is_weekday = |d: u32| (2..=6).contains(&wd(d));
        let mut mask = 0u32;
        match &self.day_of_month {
            DayOfMonth::Days(b) => {
                for d in 1..=last {
                    if b.contains(d) {
                        mask |= 1 << d;
                    }
                }
            }
            DayOfMonth::Last(offset) => {
                if *offset < last {
                    mask |= 1 << (last - offset);
                }
            }
            DayOfMonth::LastWeekday => {
                let mut d = last;
                while !is_weekday(d) {
                    d -= 1;
                }
                mask |= 1 << d;
            }
            DayOfMonth::NearestWeekday(n) => {
                if *n <= last {
                    let d = *n;
                    let chosen = if is_weekday(d) {
                        d
                    } else if wd(d) == 7 {
                        // Saturday: the Friday before, unless that leaves the month
                        if d > 1 {
                            d - 1
                        } else {
                            d + 2
                        }
                    } else if d < last {
                        // Sunday: the Monday after, unless that leaves the month
                        d + 1
                    } else {
                        d - 2
                    };
                    mask |= 1 << chosen;
                }
            }
            DayOfMonth::Any => match &self.day_of_week {
                DayOfWeek::Days(b) => {
                    for d in 1..=last {
                        if b.contains(wd(d)) {
                            mask |= 1 << d;
                        }
                    }
                }
                DayOfWeek::Last(w) => {
                    let mut d = last;
                    while wd(d) != *w {
                        d -= 1;
                    }
                    mask |= 1 << d;
                }
                DayOfWeek::Nth(w, k) => {
                    let first_match = (w + 7 - first_wd) % 7 + 1;
                    let d = first_match + 7 * (k - 1);
                    if d <= last {
                        mask |= 1 << d;
                    }
                }
                DayOfWeek::Any => {}
            },
        }
        mask
    }

    /// Whether the expression selects this local date and time of day (minutes after midnight).
    pub fn matches(&self, date: NaiveDate, minute_of_day: u32) -> bool {
        self.day_mask(date.year(), date.month()) & (1 << date.day()) != 0
            && self.times.binary_search(&minute_of_day).is_ok()
    }

    /// The first and last year the expression can select.
    pub fn year_bounds(&self) -> (i32, i32) {
        let mut it = self.years.iter();
        let first = it.next().unwrap_or(0);
        let last = self.years.iter().last().unwrap_or(first);
        ((first + YEAR_BASE) as i32, (last + YEAR_BASE) as i32)
    }
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(ny, nm, 1),
        NaiveDate::from_ymd_opt(year, month, 1),
    ) {
        (Some(a), Some(b)) => (a - b).num_days() as u32,
        _ => 30,
    }
}
