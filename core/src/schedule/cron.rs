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

/// A value in a field: a number or, in month and day-of-week, a name.
fn value(field: Field, text: &str, at: usize) -> Result<u32, CronError> {
    let range = at..at + text.len();
    let (lo, hi) = field.bounds();
    let upper = text.to_ascii_uppercase();
    let named = match field {
        Field::Month => MONTHS
            .iter()
            .position(|m| *m == upper)
            .map(|i| i as u32 + 1),
        Field::DayOfWeek => DAYS.iter().position(|d| *d == upper).map(|i| i as u32 + 1),
        _ => None,
    };
    if let Some(v) = named {
        return Ok(v);
    }
    if text.is_empty() {
        return Err(err(
            Some(field),
            range,
            "a value is missing",
            format!("values are {}", field.values_text()),
        ));
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        let help = if text.chars().all(|c| c.is_ascii_alphabetic()) {
            match field {
                Field::Month => {
                    "month names are JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC"
                        .to_string()
                }
                Field::DayOfWeek => "day names are SUN, MON, TUE, WED, THU, FRI, SAT".to_string(),
                _ => format!(
                    "{} takes numbers ({}); names are only for month and day-of-week",
                    field.name(),
                    field.values_text()
                ),
            }
        } else {
            format!(
                "{} takes {} with the wildcards {}",
                field.name(),
                field.values_text(),
                field.wildcards()
            )
        };
        return Err(err(
            Some(field),
            range,
            format!("`{text}` is not a valid value"),
            help,
        ));
    }
    let v: u32 = text.parse().unwrap_or(u32::MAX);
    if v < lo || v > hi {
        let help = if field == Field::DayOfWeek && v == 0 {
            "AWS counts days of the week from 1 (Sunday) to 7 (Saturday); Unix cron's 0 for Sunday is 1 here".to_string()
        } else {
            format!("{} takes {}", field.name(), field.values_text())
        };
        return Err(err(
            Some(field),
            range,
            format!("{v} is out of range ({lo}-{hi})"),
            help,
        ));
    }
    Ok(v)
}

/// `a`, `a-b` (wrapping when a > b), `*`; with optional `/step`. Returns the values.
fn plain_item(field: Field, item: &str, at: usize, out: &mut Bits) -> Result<(), CronError> {
    let (lo, hi) = field.bounds();
    let (base, step) = match item.split_once('/') {
        Some((b, s)) => {
            let step_at = at + b.len() + 1;
            if field == Field::DayOfWeek {
                return Err(err(
                    Some(field),
                    at..at + item.len(),
                    "`/` is not allowed in day-of-week",
                    format!("day-of-week takes the wildcards {}; list the days instead, e.g. MON,WED,FRI", field.wildcards()),
                ));
            }
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
                return Err(err(
                    Some(field),
                    step_at..step_at + s.len(),
                    format!("`{s}` is not a step"),
                    "a step is a whole number, e.g. 0/15 for every 15 starting at 0",
                ));
            }
            let n: u32 = s.parse().unwrap_or(0);
            if n == 0 || n > hi - lo + 1 {
                return Err(err(
                    Some(field),
                    step_at..step_at + s.len(),
                    format!("step {s} is out of range (1-{})", hi - lo + 1),
                    "a step is at least 1 and at most the number of values in the field",
                ));
            }
            (b, Some(n))
        }
        None => (item, None),
    };
    let (start, end) = if base == "*" {
        (lo, hi)
    } else if let Some((a, b)) = base.split_once('-') {
        let va = value(field, a, at)?;
        let vb = value(field, b, at + a.len() + 1)?;
        if va > vb && field == Field::Year {
            return Err(err(
                Some(field),
                at..at + base.len(),
                format!("range {base} runs backwards"),
                "year ranges go from the earlier to the later year",
            ));
        }
        (va, vb)
    } else {
        let v = value(field, base, at)?;
        (v, if step.is_some() { hi } else { v })
    };
    let step = step.unwrap_or(1);
    // walk from start to end, wrapping past the field's maximum when start > end
    let span = if start <= end {
        end - start
    } else {
        hi - start + 1 + end - lo
    };
    let mut k = 0;
    while k <= span {
        let v = start + k;
        let v = if v > hi { v - (hi - lo + 1) } else { v };
        out.insert(if field == Field::Year {
            v - YEAR_BASE
        } else {
            v
        });
        k += step;
    }
    Ok(())
}

fn items(text: &str, at: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for part in text.split(',') {
        out.push((at + pos, part));
        pos += part.len() + 1;
    }
    out
}

/// Wildcards used in a field that does not take them.
fn misplaced(field: Field, item: &str, at: usize) -> Option<CronError> {
    let range = at..at + item.len();
    let wild = field.wildcards();
    if item.contains('?') {
        return Some(err(
            Some(field),
            range,
            "`?` is only allowed in day-of-month and day-of-week",
            format!(
                "{} takes {} with the wildcards {wild}",
                field.name(),
                field.values_text()
            ),
        ));
    }
    if matches!(field, Field::Minutes | Field::Hours | Field::Year) {
        for (c, where_) in [
            ('L', "day-of-month and day-of-week"),
            ('W', "day-of-month"),
            ('#', "day-of-week"),
        ] {
            if item.to_ascii_uppercase().contains(c) {
                return Some(err(
                    Some(field),
                    range,
                    format!("`{c}` is only allowed in {where_}"),
                    format!("{} takes the wildcards {wild}", field.name()),
                ));
            }
        }
    }
    if field == Field::Month && item.contains('#') {
        return Some(err(
            Some(field),
            range,
            "`#` is only allowed in day-of-week",
            format!("month takes the wildcards {wild}"),
        ));
    }
    None
}

/// Minutes, hours, month and year: lists of values, ranges, `*` and steps.
fn parse_plain(field: Field, text: &str, at: usize) -> Result<Bits, CronError> {
    let mut bits = Bits::default();
    for (pos, item) in items(text, at) {
        if let Some(e) = misplaced(field, item, pos) {
            return Err(e);
        }
        if item == "*" && text.contains(',') {
            return Err(err(
                Some(field),
                pos..pos + 1,
                "`*` cannot be part of a list",
                "`*` already selects every value",
            ));
        }
        plain_item(field, item, pos, &mut bits)?;
    }
    if field == Field::Year && bits.is_empty() {
        return Err(err(
            Some(field),
            at..at + text.len(),
            "no year selected",
            "years are 1970-2199",
        ));
    }
    Ok(bits)
}

fn alone(field: Field, text: &str, at: usize, what: &str) -> CronError {
    err(
        Some(field),
        at..at + text.len(),
        format!("{what} must be the only value in {}", field.name()),
        format!("write `{what}` on its own, without a list"),
    )
}

fn parse_dom(text: &str, at: usize) -> Result<DayOfMonth, CronError> {
    let f = Field::DayOfMonth;
    let range = at..at + text.len();
    let upper = text.to_ascii_uppercase();
    if text == "?" {
        return Ok(DayOfMonth::Any);
    }
    let specials = upper.contains('L') || upper.contains('W') || text.contains('?');
    if specials && text.contains(',') {
        let what = if text.contains('?') {
            "?"
        } else if upper.contains('L') {
            "L"
        } else {
            "W"
        };
        return Err(alone(f, text, at, what));
    }
    if upper == "L" {
        return Ok(DayOfMonth::Last(0));
    }
    if upper == "LW" {
        return Ok(DayOfMonth::LastWeekday);
    }
    if let Some(n) = upper.strip_prefix("L-") {
        let n_at = at + 2;
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                Some(f),
                n_at..n_at + n.len(),
                format!("`{n}` is not a number of days"),
                "L-n is the n-th day before the last day of the month, e.g. L-2",
            ));
        }
        let v: u32 = n.parse().unwrap_or(u32::MAX);
        if !(1..=30).contains(&v) {
            return Err(err(
                Some(f),
                n_at..n_at + n.len(),
                format!("offset {v} is out of range (1-30)"),
                "L-n counts 1 to 30 days back from the last day",
            ));
        }
        return Ok(DayOfMonth::Last(v));
    }
    if let Some(n) = upper.strip_suffix('W') {
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                Some(f),
                range,
                format!("`{text}` is not a valid W expression"),
                "W follows a single day of the month, e.g. 15W (the weekday nearest the 15th), or LW (the last weekday)",
            ));
        }
        let v = value(f, n, at)?;
        return Ok(DayOfMonth::NearestWeekday(v));
    }
    if upper.contains('L') || upper.contains('W') {
        return Err(err(
            Some(f),
            range,
            format!("`{text}` is not a valid day-of-month expression"),
            "L, LW, L-n and nW each stand alone in day-of-month, e.g. L, LW, L-2, 15W",
        ));
    }
    if text.contains('#') {
        return Err(err(
            Some(f),
            range,
            "`#` is only allowed in day-of-week",
            "day-of-month takes the wildcards , - * ? / L W",
        ));
    }
    if text.contains('?') {
        return Err(alone(f, text, at, "?"));
    }
    Ok(DayOfMonth::Days(parse_plain(f, text, at)?))
}

fn parse_dow(text: &str, at: usize) -> Result<DayOfWeek, CronError> {
    let f = Field::DayOfWeek;
    let range = at..at + text.len();
    let upper = text.to_ascii_uppercase();
    if text == "?" {
        return Ok(DayOfWeek::Any);
    }
    if text.contains('?') {
        return Err(alone(f, text, at, "?"));
    }
    if text.contains('#') {
        if text.contains(',') {
            return Err(err(
                Some(f),
                range,
                "only one `#` expression is allowed",
                "AWS reads `3#1,6#3` as two expressions and refuses it; use one n#k, e.g. 7#1 for the first Saturday",
            ));
        }
        let (d, k) = text.split_once('#').unwrap_or((text, ""));
        let day = value(f, d, at)?;
        let k_at = at + d.len() + 1;
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                Some(f),
                k_at..k_at + k.len(),
                format!("`{k}` is not a week number"),
                "n#k takes k from 1 to 5, e.g. 7#1 for the first Saturday",
            ));
        }
        let n: u32 = k.parse().unwrap_or(u32::MAX);
        if !(1..=5).contains(&n) {
            return Err(err(
                Some(f),
                k_at..k_at + k.len(),
                format!("week {n} is out of range (1-5)"),
                "a month has at most five of each day of the week",
            ));
        }
        return Ok(DayOfWeek::Nth(day, n));
    }
    if upper.contains('L') {
        if text.contains(',') || text.contains('-') && upper != "L" {
            return Err(alone(f, text, at, "L"));
        }
        if upper == "L" {
            // a lone L is the last day of the week: Saturday
            let mut b = Bits::default();
            b.insert(7);
            return Ok(DayOfWeek::Days(b));
        }
        if let Some(d) = upper.strip_suffix('L') {
            let day = value(f, &text[..d.len()], at)?;
            return Ok(DayOfWeek::Last(day));
        }
        return Err(err(
            Some(f),
            range,
            format!("`{text}` is not a valid L expression"),
            "nL is the last day n of the month, e.g. 6L for the last Friday; a lone L is Saturday",
        ));
    }
    if upper.contains('W') && !DAYS.iter().any(|d| upper.contains(d)) {
        return Err(err(
            Some(f),
            range,
            "`W` is only allowed in day-of-month",
            "day-of-week takes the wildcards , - * ? L #",
        ));
    }
    Ok(DayOfWeek::Days(parse_plain(f, text, at)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(s: &str) -> Cron {
        Cron::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn error(s: &str) -> CronError {
        Cron::parse(s).expect_err(s)
    }

    fn days(s: &str, y: i32, m: u32) -> Vec<u32> {
        let mask = cron(s).day_mask(y, m);
        (1..=31).filter(|d| mask & (1 << d) != 0).collect()
    }

    #[test]
    fn every_wildcard_in_minutes_and_hours() {
        let c = cron("cron(0/15 8-10,20 * * ? *)");
        assert_eq!(c.minutes.iter().collect::<Vec<_>>(), vec![0, 15, 30, 45]);
        assert_eq!(c.hours.iter().collect::<Vec<_>>(), vec![8, 9, 10, 20]);
        assert_eq!(
            cron("cron(5/20 * * * ? *)")
                .minutes
                .iter()
                .collect::<Vec<_>>(),
            vec![5, 25, 45]
        );
        assert_eq!(
            cron("cron(10-20/5 * * * ? *)")
                .minutes
                .iter()
                .collect::<Vec<_>>(),
            vec![10, 15, 20]
        );
        assert_eq!(
            cron("cron(*/30 * * * ? *)")
                .minutes
                .iter()
                .collect::<Vec<_>>(),
            vec![0, 30]
        );
        assert_eq!(cron("cron(0 * * * ? *)").hours.count(), 24);
    }

    #[test]
    fn ranges_wrap_around_as_in_the_aws_example() {
        let c = cron("cron(0/30 20-2 ? * MON-FRI *)");
        assert_eq!(
            c.hours.iter().collect::<Vec<_>>(),
            vec![0, 1, 2, 20, 21, 22, 23]
        );
        let c = cron("cron(0 0 ? * FRI-MON *)");
        let DayOfWeek::Days(b) = &c.day_of_week else {
            panic!()
        };
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![1, 2, 6, 7]);
        assert_eq!(
            cron("cron(0 22-2/2 * * ? *)")
                .hours
                .iter()
                .collect::<Vec<_>>(),
            vec![0, 2, 22]
        );
    }

    #[test]
    fn names_are_case_insensitive() {
        let c = cron("cron(0 0 ? jan-Mar,DEC mon *)");
        assert_eq!(c.months.iter().collect::<Vec<_>>(), vec![1, 2, 3, 12]);
        assert_eq!(
            c.day_of_week,
            DayOfWeek::Days({
                let mut b = Bits::default();
                b.insert(2);
                b
            })
        );
    }

    #[test]
    fn years() {
        let c = cron("cron(15 10 ? * 6L 2019-2022)");
        assert_eq!(c.year_bounds(), (2019, 2022));
        assert_eq!(
            cron("cron(0 0 * * ? 2030/5)").years.iter().count(),
            (2199 - 2030) / 5 + 1
        );
    }

    #[test]
    fn day_of_month_specials() {
        // November 2026 starts on a Sunday and has 30 days
        assert_eq!(days("cron(0 0 L * ? *)", 2026, 11), vec![30]);
        assert_eq!(days("cron(0 0 L * ? *)", 2024, 2), vec![29]);
        assert_eq!(days("cron(0 0 L-2 * ? *)", 2026, 11), vec![28]);
        // the last weekday of May 2026 (31st is a Sunday) is Friday the 29th
        assert_eq!(days("cron(0 0 LW * ? *)", 2026, 5), vec![29]);
        // 15W: 15 Nov 2026 is a Sunday -> Monday 16th; 15 Aug 2026 is a Saturday -> Friday 14th
        assert_eq!(days("cron(0 0 15W * ? *)", 2026, 11), vec![16]);
        assert_eq!(days("cron(0 0 15W * ? *)", 2026, 8), vec![14]);
        // 1W never leaves the month: 1 Aug 2026 is a Saturday -> Monday 3rd
        assert_eq!(days("cron(0 0 1W * ? *)", 2026, 8), vec![3]);
        // 31W in a month that ends on Sunday 31 May 2026 -> Friday 29th
        assert_eq!(days("cron(0 0 31W * ? *)", 2026, 5), vec![29]);
        // a day the month lacks selects nothing
        assert!(days("cron(0 0 31W * ? *)", 2026, 11).is_empty());
        assert_eq!(days("cron(0 0 1,15,31 * ? *)", 2026, 11), vec![1, 15]);
        assert_eq!(days("cron(0 0 1/10 * ? *)", 2026, 11), vec![1, 11, 21]);
    }

    #[test]
    fn day_of_week_specials() {
        // first Saturday of December 2026 is the 5th
        assert_eq!(days("cron(0 6 ? * 7#1 *)", 2026, 12), vec![5]);
        assert_eq!(days("cron(0 6 ? * SAT#1 *)", 2026, 12), vec![5]);
        // a fifth Wednesday that does not exist skips the month
        assert!(days("cron(0 0 ? * 4#5 *)", 2026, 11).is_empty());
        assert_eq!(days("cron(0 0 ? * 4#5 *)", 2026, 12), vec![30]);
        // last Friday of November 2026 is the 27th
        assert_eq!(days("cron(0 0 ? * 6L *)", 2026, 11), vec![27]);
        // a lone L is Saturday
        assert_eq!(days("cron(0 0 ? * L *)", 2026, 11), vec![7, 14, 21, 28]);
        assert_eq!(days("cron(0 0 ? * MON-FRI *)", 2026, 11).len(), 21);
        assert_eq!(
            days("cron(0 0 ? * 1,7 *)", 2026, 11),
            vec![1, 7, 8, 14, 15, 21, 22, 28, 29]
        );
    }

    #[test]
    fn months_and_years_restrict_days() {
        assert!(days("cron(0 0 * 1 ? *)", 2026, 2).is_empty());
        assert!(days("cron(0 0 * * ? 2027)", 2026, 2).is_empty());
        assert_eq!(days("cron(0 0 * * ? 2027)", 2027, 2).len(), 28);
    }

    fn check(s: &str, field: Option<Field>, bad: &str, message_part: &str) {
        let e = error(s);
        assert_eq!(e.field, field, "{s}: {e:?}");
        assert_eq!(&s[e.range.clone()], bad, "{s}: {e:?}");
        assert!(e.message.contains(message_part), "{s}: {}", e.message);
        assert!(!e.help.is_empty());
    }

    #[test]
    fn errors_name_the_field_and_point_at_the_characters() {
        check(
            "cron(60 * * * ? *)",
            Some(Field::Minutes),
            "60",
            "out of range (0-59)",
        );
        check(
            "cron(0 24 * * ? *)",
            Some(Field::Hours),
            "24",
            "out of range (0-23)",
        );
        check(
            "cron(0 0 32 * ? *)",
            Some(Field::DayOfMonth),
            "32",
            "out of range (1-31)",
        );
        check(
            "cron(0 0 0 * ? *)",
            Some(Field::DayOfMonth),
            "0",
            "out of range (1-31)",
        );
        check(
            "cron(0 0 * 13 ? *)",
            Some(Field::Month),
            "13",
            "out of range (1-12)",
        );
        check(
            "cron(0 0 * JANUARY ? *)",
            Some(Field::Month),
            "JANUARY",
            "not a valid value",
        );
        check(
            "cron(0 0 ? * 0 *)",
            Some(Field::DayOfWeek),
            "0",
            "out of range (1-7)",
        );
        check(
            "cron(0 0 ? * 8 *)",
            Some(Field::DayOfWeek),
            "8",
            "out of range (1-7)",
        );
        check(
            "cron(0 0 * * ? 1969)",
            Some(Field::Year),
            "1969",
            "out of range (1970-2199)",
        );
        check(
            "cron(0 0 * * ? 2200)",
            Some(Field::Year),
            "2200",
            "out of range",
        );
        check(
            "cron(0 0 * * ? 2030-2020)",
            Some(Field::Year),
            "2030-2020",
            "backwards",
        );
        check("cron(0/0 * * * ? *)", Some(Field::Minutes), "0", "step 0");
        check(
            "cron(0/x * * * ? *)",
            Some(Field::Minutes),
            "x",
            "not a step",
        );
        check(
            "cron(0 ? * * ? *)",
            Some(Field::Hours),
            "?",
            "only allowed in day-of-month",
        );
        check(
            "cron(L 0 * * ? *)",
            Some(Field::Minutes),
            "L",
            "only allowed in day-of-month and day-of-week",
        );
    }

    #[test]
    fn day_field_rules() {
        check("cron(0 0 ? * ? *)", None, "? * ?", "both `?`");
        check("cron(0 0 * * * *)", None, "* * *", "both set");
        check("cron(0 0 1 * MON *)", None, "1 * MON", "both set");
        check(
            "cron(0 0 ? * 3#1,6#3 *)",
            Some(Field::DayOfWeek),
            "3#1,6#3",
            "only one `#`",
        );
        check(
            "cron(0 0 ? * 3#6 *)",
            Some(Field::DayOfWeek),
            "6",
            "week 6 is out of range",
        );
        check(
            "cron(0 0 ? * 1/2 *)",
            Some(Field::DayOfWeek),
            "1/2",
            "`/` is not allowed in day-of-week",
        );
        check(
            "cron(0 0 15W,1 * ? *)",
            Some(Field::DayOfMonth),
            "15W,1",
            "must be the only value",
        );
        check(
            "cron(0 0 1-5W * ? *)",
            Some(Field::DayOfMonth),
            "1-5W",
            "not a valid W expression",
        );
        check(
            "cron(0 0 ? * 2W *)",
            Some(Field::DayOfWeek),
            "2W",
            "only allowed in day-of-month",
        );
        check(
            "cron(0 0 1#2 * ? *)",
            Some(Field::DayOfMonth),
            "1#2",
            "only allowed in day-of-week",
        );
        check(
            "cron(0 0 L-31 * ? *)",
            Some(Field::DayOfMonth),
            "31",
            "out of range (1-30)",
        );
        check(
            "cron(0 0 ? * 6L,2 *)",
            Some(Field::DayOfWeek),
            "6L,2",
            "must be the only value",
        );
    }

    #[test]
    fn outer_form() {
        check("rate(12 hours)", None, "rate(12 hours)", "rate expression");
        assert!(error("rate(12 hours)")
            .help
            .contains("cron(0 0/12 * * ? *)"));
        check("0 5 * * *", None, "0 5 * * *", "not a cron(...) expression");
        check("cron(0 5 * * ?)", None, "0 5 * * ?", "has 5 field(s)");
        assert!(error("cron(0 5 * * ?)").help.contains("Unix cron"));
        check(
            "cron(0 0 5 * * ? *)",
            None,
            "0 0 5 * * ? *",
            "has 7 field(s)",
        );
        check("  cron(0 5 * * ?)", None, "0 5 * * ?", "has 5");
    }

    #[test]
    fn matches_checks_day_and_time() {
        let c = cron("cron(0 6 ? * 7#1 *)");
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert!(c.matches(d, 6 * 60));
        assert!(!c.matches(d, 6 * 60 + 1));
        assert!(!c.matches(d.succ_opt().unwrap(), 6 * 60));
    }
}
