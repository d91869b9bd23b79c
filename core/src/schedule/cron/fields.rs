//! Parsing each field of a cron expression: values and names, lists, ranges that wrap,
//! steps, and the day-of-month and day-of-week specials (`L`, `L-n`, `LW`, `nW`, `nL`, `n#k`),
//! each error with its byte range.

use super::*;

/// A value in a field: a number or, in month and day-of-week, a name.
pub(super) fn value(field: Field, text: &str, at: usize) -> Result<u32, CronError> {
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
pub(super) fn plain_item(
    field: Field,
    item: &str,
    at: usize,
    out: &mut Bits,
) -> Result<(), CronError> {
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

pub(super) fn items(text: &str, at: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for part in text.split(',') {
        out.push((at + pos, part));
        pos += part.len() + 1;
    }
    out
}

/// Wildcards used in a field that does not take them.
pub(super) fn misplaced(field: Field, item: &str, at: usize) -> Option<CronError> {
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
pub(super) fn parse_plain(field: Field, text: &str, at: usize) -> Result<Bits, CronError> {
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

pub(super) fn alone(field: Field, text: &str, at: usize, what: &str) -> CronError {
    err(
        Some(field),
        at..at + text.len(),
        format!("{what} must be the only value in {}", field.name()),
        format!("write `{what}` on its own, without a list"),
    )
}

pub(super) fn parse_dom(text: &str, at: usize) -> Result<DayOfMonth, CronError> {
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

pub(super) fn parse_dow(text: &str, at: usize) -> Result<DayOfWeek, CronError> {
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
