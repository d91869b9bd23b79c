//! Properties of schedule occurrences for generated expressions, instants and time zones:
//! every occurrence matches the expression, occurrences strictly increase, nothing between
//! an instant and its next occurrence matches (UTC, checked minute by minute), and next and
//! previous are inverse.

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use coffer::schedule::occurrence::parse_timezone;
use coffer::schedule::Schedule;
use proptest::prelude::*;

const MINUTES: &[&str] = &[
    "0", "15", "0/15", "5/20", "10-20", "0,30", "*/10", "59", "45-15/15", "*",
];
const HOURS: &[&str] = &["0", "6", "23", "8-17", "0/6", "20-2", "1,13", "*", "22-4/2"];
const DOM: &[&str] = &[
    "*", "1", "15", "L", "LW", "15W", "1W", "31W", "L-2", "1,15", "10-20", "1/10", "29", "31",
];
const MONTHS: &[&str] = &["*", "JAN", "FEB-APR", "1/3", "NOV,DEC", "DEC-FEB", "*/2"];
const DOW: &[&str] = &[
    "MON-FRI", "1", "7#1", "2#3", "4#5", "6L", "L", "1,7", "FRI-MON", "*",
];
const YEARS: &[&str] = &["*", "*", "2026-2030", "2027", "2025/2"];
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
];

fn expression() -> impl Strategy<Value = String> {
    (
        prop::sample::select(MINUTES),
        prop::sample::select(HOURS),
        any::<bool>(),
        prop::sample::select(DOM),
        prop::sample::select(MONTHS),
        prop::sample::select(DOW),
        prop::sample::select(YEARS),
    )
        .prop_map(|(mi, ho, use_dom, dom, mo, dow, yr)| {
            let (dom, dow) = if use_dom { (dom, "?") } else { ("?", dow) };
            format!("cron({mi} {ho} {dom} {mo} {dow} {yr})")
        })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2024-01-01 .. 2031-12-31, to the second
    (1_704_067_200i64..1_956_528_000i64).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn occurrences_match_increase_and_invert(expr in expression(), start in instant(), zone in prop::sample::select(ZONES)) {
        let tz = parse_timezone(zone).unwrap();
        let s = Schedule::parse(&expr, Some(tz)).unwrap();
        let runs = s.starts_between(start, None, 6);
        let mut prev = start - Duration::nanoseconds(1);
        for r in &runs {
            prop_assert!(*r > prev, "{expr} in {zone}: {r} not after {prev}");
            prop_assert_eq!(r.second(), 0);
            let local = r.with_timezone(&tz);
            prop_assert!(s.cron.matches(local.date_naive(), local.hour() * 60 + local.minute()), "{expr} in {zone}: {local} does not match");
            // next of previous, and previous of next, are the identity on occurrences
            if let Some(p) = s.prev_before(*r) {
                prop_assert_eq!(s.next_after(p), Some(*r), "{} in {}", expr, zone);
            }
            if let Some(n) = s.next_after(*r) {
                prop_assert_eq!(s.prev_before(n), Some(*r), "{} in {}", expr, zone);
            }
            prev = *r;
        }
    }

    #[test]
    fn listing_runs_equals_stepping_with_next(expr in expression(), start in instant(), zone in prop::sample::select(ZONES)) {
        let s = Schedule::parse(&expr, parse_timezone(zone)).unwrap();
        let listed = s.starts_between(start, Some(start + Duration::days(40)), 8);
        let mut stepped = Vec::new();
        let mut cursor = start - Duration::nanoseconds(1);
        while stepped.len() < 8 {
            match s.next_after(cursor) {
                Some(t) if t <= start + Duration::days(40) => {
                    stepped.push(t);
                    cursor = t;
                }
                _ => break,
            }
        }
        prop_assert_eq!(listed, stepped, "{} in {}", expr, zone);
    }

    #[test]
    fn nothing_between_an_instant_and_its_next_run_matches(expr in expression(), start in instant()) {
        let s = Schedule::parse(&expr, None).unwrap();
        let Some(next) = s.next_after(start) else { return Ok(()) };
        // every whole minute strictly after start and strictly before next (at most 3 days of them)
        let end = next.min(start + Duration::days(3));
        let mut t = start.with_second(0).unwrap().with_nanosecond(0).unwrap() + Duration::minutes(1);
        while t < end {
            prop_assert!(!s.cron.matches(t.date_naive(), t.hour() * 60 + t.minute()), "{expr}: {t} matches but next_after({start}) = {next}");
            t += Duration::minutes(1);
        }
    }
}
