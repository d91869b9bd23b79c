//! When a schedule runs: the next and previous occurrence of a cron expression after or
//! before any instant, in UTC or in an IANA time zone, and the runs in a time range with the
//! start-by and complete-by times of their windows.
//!
//! Daylight saving time follows EventBridge Scheduler: a run whose local time falls in the
//! hour skipped when clocks go forward does not happen that day, and a run whose local time
//! falls in the hour repeated when clocks go back happens once, at its first occurrence.

use super::cron::{Cron, CronError};
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// A cron expression evaluated in a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub cron: Cron,
    pub tz: Tz,
}

/// One run of a rule: when it starts, by when it must have started, and by when it must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
    pub complete_by: DateTime<Utc>,
}

/// Reads an IANA time zone name (`UTC`, `Europe/Paris`, `America/New_York`).
pub fn parse_timezone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// Every time zone name, for "did you mean" help.
pub fn timezone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

impl Schedule {
    pub fn new(cron: Cron, tz: Tz) -> Schedule {
        Schedule { cron, tz }
    }

    /// Parses an expression for the given time zone (`UTC` when `None`).
    pub fn parse(expression: &str, tz: Option<Tz>) -> Result<Schedule, CronError> {
        Ok(Schedule {
            cron: Cron::parse(expression)?,
            tz: tz.unwrap_or(chrono_tz::UTC),
        })
    }

    /// The instant a local date and time of day resolves to, per the DST rules above.
    fn resolve(&self, date: NaiveDate, minute_of_day: u32) -> Option<DateTime<Utc>> {
        let time = NaiveTime::from_hms_opt(minute_of_day / 60, minute_of_day % 60, 0)?;
        let local = NaiveDateTime::new(date, time);
        if self.tz == chrono_tz::UTC {
            return Some(local.and_utc());
        }
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    }

    /// The date in the schedule's zone at `t`; at the very ends of the calendar, where the
    /// local time would fall outside it, the UTC date.
    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let utc = t.naive_utc();
        let offset =
            chrono::Offset::fix(&chrono::TimeZone::offset_from_utc_datetime(&self.tz, &utc));
        utc.checked_add_offset(offset).unwrap_or(utc).date()
    }

    /// The first run strictly after `after`, if the expression has one.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // runs fall on whole minutes, so "from one nanosecond later" is "strictly after"
        let from = after.checked_add_signed(Duration::nanoseconds(1))?;
        self.starts_between(from, None, 1).pop()
    }

    /// The last run strictly before `before`, if the expression has one.
    pub fn prev_before(&self, before: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let times = self.cron.times();
        let (first_year, _) = self.cron.year_bounds();
        let start = self.local_date(before).succ_opt()?;
        let (mut year, mut month) = (start.year(), start.month());
        let mut last_day = start.day();
        while year >= first_year {
            let mask = self.cron.day_mask(year, month);
            if mask != 0 {
                for day in (1..=last_day).rev() {
                    if mask & (1 << day) == 0 {
                        continue;
                    }
                    let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else {
                        continue;
                    };
                    for &m in times.iter().rev() {
                        if let Some(t) = self.resolve(date, m) {
                            if t < before {
                                return Some(t);
                            }
                        }
                    }
                }
            }
            last_day = 31;
            if month == 1 {
                year -= 1;
                month = 12;
            } else {
                month -= 1;
            }
        }
        None
    }

    /// The runs from `from` (inclusive) to `until` (inclusive), at most `limit` of them.
    /// One forward walk over the selected days: each month's days and each candidate time are
    /// looked at once.
    pub fn starts_between(
        &self,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        if limit == 0 {
            return out;
        }
        let times = self.cron.times();
        let (_, last_year) = self.cron.year_bounds();
        let Some(start) = self.local_date(from).pred_opt() else {
            return out;
        };
        // local dates after this one cannot hold runs before `until`
        let last_date = until.and_then(|u| self.local_date(u).succ_opt());
        let (mut year, mut month) = (start.year(), start.month());
        let mut first_day = start.day();
        while year <= last_year {
            let mask = self.cron.day_mask(year, month);
            let mut bits = mask >> first_day << first_day;
            while bits != 0 {
                let day = bits.trailing_zeros();
                bits &= bits - 1;
                let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else {
                    continue;
                };
                if last_date.is_some_and(|l| date > l) {
                    return out;
                }
                for &m in times {
                    let Some(t) = self.resolve(date, m) else {
                        continue;
                    };
                    if t < from || out.last().is_some_and(|p| t <= *p) {
                        continue;
                    }
                    if until.is_some_and(|u| t > u) {
                        return out;
                    }
                    out.push(t);
                    if out.len() == limit {
                        return out;
                    }
                }
            }
            if let Some(l) = last_date {
                if (year, month) >= (l.year(), l.month()) {
                    return out;
                }
            }
            first_day = 0;
            if month == 12 {
                year += 1;
                month = 1;
            } else {
                month += 1;
            }
        }
        out
    }

    /// Like [`Schedule::starts_between`], with each run's window ends.
    pub fn runs(
        &self,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        limit: usize,
        start_window: Duration,
        completion_window: Duration,
    ) -> Vec<Run> {
        self.starts_between(from, until, limit)
            .into_iter()
            .map(|start| Run {
                start,
                // windows come from bounded durations; the end of the calendar caps them
                start_by: start
                    .checked_add_signed(start_window)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
                complete_by: start
                    .checked_add_signed(completion_window)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sched(expr: &str, tz: &str) -> Schedule {
        Schedule::parse(expr, parse_timezone(tz)).unwrap()
    }

    fn next_n(s: &Schedule, from: &str, n: usize) -> Vec<String> {
        s.starts_between(utc(from), None, n)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect()
    }

    #[test]
    fn first_saturday_of_the_month() {
        let s = sched("cron(0 6 ? * 7#1 *)", "UTC");
        assert_eq!(
            next_n(&s, "2026-11-26T07:00:00Z", 3),
            [
                "2026-12-05T06:00:00+00:00",
                "2027-01-02T06:00:00+00:00",
                "2027-02-06T06:00:00+00:00"
            ]
        );
    }

    #[test]
    fn next_is_strictly_after_and_prev_strictly_before() {
        let s = sched("cron(0 10 * * ? *)", "UTC");
        assert_eq!(
            s.next_after(utc("2026-01-01T10:00:00Z")),
            Some(utc("2026-01-02T10:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-01-01T09:59:59Z")),
            Some(utc("2026-01-01T10:00:00Z"))
        );
        assert_eq!(
            s.prev_before(utc("2026-01-01T10:00:00Z")),
            Some(utc("2025-12-31T10:00:00Z"))
        );
        assert_eq!(
            s.prev_before(utc("2026-01-01T10:00:01Z")),
            Some(utc("2026-01-01T10:00:00Z"))
        );
    }

    #[test]
    fn schedules_that_end_or_never_run() {
        let s = sched("cron(15 10 ? * 6L 2019-2022)", "UTC");
        assert_eq!(s.next_after(utc("2022-12-30T10:15:00Z")), None);
        assert_eq!(
            s.next_after(utc("2022-12-01T00:00:00Z")),
            Some(utc("2022-12-30T10:15:00Z"))
        );
        assert_eq!(s.prev_before(utc("2019-01-01T00:00:00Z")), None);
        let never = sched("cron(0 0 30 2 ? *)", "UTC");
        assert_eq!(never.next_after(utc("2026-01-01T00:00:00Z")), None);
        let leap = sched("cron(0 0 29 2 ? *)", "UTC");
        assert_eq!(
            leap.next_after(utc("2026-01-01T00:00:00Z")),
            Some(utc("2028-02-29T00:00:00Z"))
        );
    }

    /// New York springs forward on 8 March 2026 (02:00 -> 03:00) and falls back on
    /// 1 November 2026 (02:00 -> 01:00).
    #[test]
    fn a_run_in_the_skipped_hour_does_not_happen_that_day() {
        let s = sched("cron(30 2 * * ? *)", "America/New_York");
        assert_eq!(
            next_n(&s, "2026-03-07T00:00:00Z", 3),
            // 02:30 EST on the 7th, no 02:30 on the 8th, 02:30 EDT on the 9th
            [
                "2026-03-07T07:30:00+00:00",
                "2026-03-09T06:30:00+00:00",
                "2026-03-10T06:30:00+00:00"
            ]
        );
    }

    #[test]
    fn a_run_in_the_repeated_hour_happens_once_at_its_first_occurrence() {
        let s = sched("cron(30 1 * * ? *)", "America/New_York");
        assert_eq!(
            next_n(&s, "2026-10-31T00:00:00Z", 3),
            // 01:30 EDT on the 31st, 01:30 EDT (first of two) on 1 Nov, 01:30 EST on the 2nd
            [
                "2026-10-31T05:30:00+00:00",
                "2026-11-01T05:30:00+00:00",
                "2026-11-02T06:30:00+00:00"
            ]
        );
        // starting between the two 01:30s does not produce a second run that day
        assert_eq!(
            s.next_after(utc("2026-11-01T05:45:00Z")),
            Some(utc("2026-11-02T06:30:00Z"))
        );
        // and prev/next stay inverse around the change
        assert_eq!(
            s.prev_before(utc("2026-11-02T06:30:00Z")),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }

    #[test]
    fn local_times_follow_the_offset() {
        let s = sched("cron(0 6 ? * 7#1 *)", "Europe/Paris");
        // 06:00 CET on 5 Dec 2026 is 05:00 UTC; 06:00 CEST on 6 Jun 2026 is 04:00 UTC
        assert_eq!(
            s.next_after(utc("2026-12-01T00:00:00Z")),
            Some(utc("2026-12-05T05:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-06-01T00:00:00Z")),
            Some(utc("2026-06-06T04:00:00Z"))
        );
    }

    #[test]
    fn runs_carry_their_windows_and_respect_until_and_limit() {
        let s = sched("cron(0 3 * * ? *)", "UTC");
        let runs = s.runs(
            utc("2026-01-01T03:00:00Z"),
            Some(utc("2026-01-03T03:00:00Z")),
            10,
            Duration::hours(1),
            Duration::hours(4),
        );
        assert_eq!(runs.len(), 3, "from and until are inclusive");
        assert_eq!(runs[0].start_by, utc("2026-01-01T04:00:00Z"));
        assert_eq!(runs[0].complete_by, utc("2026-01-01T07:00:00Z"));
        assert_eq!(
            s.starts_between(utc("2026-01-01T00:00:00Z"), None, 2).len(),
            2
        );
    }
}
