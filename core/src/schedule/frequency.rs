//! The minimum-frequency rule for backup schedules: runs may not be closer together than a
//! minimum gap (12 hours for AWS Backup), measured between consecutive runs over the whole
//! cycle of the expression in wall-clock time. The check is exact and cheap: the closest two
//! runs are either on the same day (the smallest gap between selected times of day) or on
//! consecutive selected days (last time of one day to the first of the next), and days two or
//! more apart are always at least a day apart.

use super::cron::Cron;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// The minimum gap AWS Backup allows between runs of one rule, in minutes.
pub const MIN_GAP_MINUTES: u32 = 12 * 60;

/// Two runs closer than allowed, as local wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooFrequent {
    pub first: NaiveDateTime,
    pub second: NaiveDateTime,
    pub gap_minutes: u32,
}

fn at(date: NaiveDate, minute_of_day: u32) -> NaiveDateTime {
    NaiveDateTime::new(
        date,
        NaiveTime::from_hms_opt(minute_of_day / 60, minute_of_day % 60, 0).unwrap_or_default(),
    )
}

/// The first selected day on or after `from` (within the expression's years).
pub fn first_day_from(cron: &Cron, from: NaiveDate) -> Option<NaiveDate> {
    let (_, last_year) = cron.year_bounds();
    let (mut y, mut m) = (from.year(), from.month());
    let mut first = from.day();
    while y <= last_year {
        let mask = cron.day_mask(y, m) >> first << first;
        if mask != 0 {
            return NaiveDate::from_ymd_opt(y, m, mask.trailing_zeros());
        }
        first = 0;
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    None
}

/// Checks the minimum gap. `from` chooses where examples are taken from (the first selected
/// day on or after it, or the first selected day at all when the expression ends earlier).
pub fn check(cron: &Cron, min_gap_minutes: u32, from: NaiveDate) -> Option<TooFrequent> {
    let times = cron.times();
    let (first_year, _) = cron.year_bounds();
    let start = first_day_from(cron, from)
        .or_else(|| first_day_from(cron, NaiveDate::from_ymd_opt(first_year, 1, 1)?))?;
    // same day
    if let Some((gap, a, b)) = times
        .windows(2)
        .map(|w| (w[1] - w[0], w[0], w[1]))
        .min_by_key(|(g, _, _)| *g)
    {
        if gap < min_gap_minutes {
            return Some(TooFrequent {
                first: at(start, a),
                second: at(start, b),
                gap_minutes: gap,
            });
        }
    }
    // consecutive days: only possible when the day's runs span more than 24h - minimum gap
    let (first_time, last_time) = (*times.first()?, *times.last()?);
    let overnight = 24 * 60 - last_time + first_time;
    if overnight >= min_gap_minutes {
        return None;
    }
    let mut day = start;
    while let Some(next) = day.succ_opt() {
        let Some(following) = first_day_from(cron, next) else {
            break;
        };
        if following == next {
            return Some(TooFrequent {
                first: at(day, last_time),
                second: at(following, first_time),
                gap_minutes: overnight,
            });
        }
        day = following;
        // the pattern repeats within the 400-year Gregorian cycle
        if day - start > Duration::days(146_097) {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_expr(expr: &str) -> Option<TooFrequent> {
        check(
            &Cron::parse(expr).unwrap(),
            MIN_GAP_MINUTES,
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        )
    }

    #[test]
    fn twelve_hours_apart_is_allowed() {
        assert_eq!(check_expr("cron(0 1,13 * * ? *)"), None);
        assert_eq!(check_expr("cron(0 0/12 * * ? *)"), None);
        assert_eq!(check_expr("cron(0 6 ? * 7#1 *)"), None);
        assert_eq!(check_expr("cron(0 3 * * ? *)"), None);
    }

    #[test]
    fn runs_on_the_same_day_too_close() {
        let t = check_expr("cron(0 0/6 * * ? *)").unwrap();
        assert_eq!(t.gap_minutes, 360);
        assert_eq!(t.first.to_string(), "2026-11-26 00:00:00");
        assert_eq!(t.second.to_string(), "2026-11-26 06:00:00");
        assert_eq!(check_expr("cron(0/15 * * * ? *)").unwrap().gap_minutes, 15);
    }

    #[test]
    fn runs_across_midnight_too_close() {
        // 23:00 and 01:00 are 22 hours apart on one day, but 2 hours apart overnight
        let t = check_expr("cron(0 1,23 * * ? *)").unwrap();
        assert_eq!(t.gap_minutes, 120);
        assert_eq!(t.first.to_string(), "2026-11-26 23:00:00");
        assert_eq!(t.second.to_string(), "2026-11-27 01:00:00");
        // only on the 1st of the month: days never consecutive, so fine
        assert_eq!(check_expr("cron(0 1,23 1 * ? *)"), None);
        // the 31st and the 1st are consecutive days across a month boundary
        let t = check_expr("cron(0 1,23 1,31 * ? *)").unwrap();
        assert_eq!(t.first.to_string(), "2026-12-31 23:00:00");
        assert_eq!(t.second.to_string(), "2027-01-01 01:00:00");
    }

    #[test]
    fn expressions_that_ended_are_checked_on_their_own_years() {
        let t = check_expr("cron(0 0/6 * * ? 2019-2020)").unwrap();
        assert_eq!(t.first.to_string(), "2019-01-01 00:00:00");
    }
}
