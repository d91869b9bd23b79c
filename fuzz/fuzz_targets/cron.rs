//! Schedule expressions (`cron(…)`, `rate(…)`, with and without a time zone): parsing never
//! panics, and a schedule that parses yields strictly increasing runs.
#![no_main]

use coffer_core::schedule::occurrence::Schedule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, tz) = match text.split_once('\n') {
        Some((e, tz)) => (e, tz.parse::<chrono_tz::Tz>().ok()),
        None => (text, None),
    };
    let _ = coffer_core::schedule::cron::Cron::parse(expression);
    let Ok(schedule) = Schedule::parse(expression, tz) else {
        return;
    };
    let mut at = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap();
    for _ in 0..4 {
        match schedule.next_after(at) {
            Some(next) => {
                assert!(next > at, "{expression}: {next} is not after {at}");
                at = next;
            }
            None => break,
        }
    }
});
