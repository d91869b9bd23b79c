//! Schedule benchmark (issue 3): all runs of 10,000 backup rules over a 31-day horizon,
//! target under 100 ms. Rules mix daily, weekday, weekly, monthly (`#`, `L`, `W`) and
//! twice-daily schedules across several time zones, as a large AWS Backup estate would.
//!
//! Run with `cargo bench --bench schedule`; reports the median of several runs (parsing is
//! timed separately from computing runs).

use chrono::{DateTime, Duration, Utc};
use coffer::schedule::occurrence::parse_timezone;
use coffer::schedule::Schedule;
use std::time::Instant;

fn expressions(n: usize) -> Vec<(String, &'static str)> {
    let zones = [
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "Asia/Tokyo",
        "Australia/Sydney",
    ];
    (0..n)
        .map(|i| {
            let minute = (i * 7) % 60;
            let hour = (i * 5) % 24;
            let expr = match i % 8 {
                0 => format!("cron({minute} {hour} * * ? *)"),
                1 => format!("cron({minute} {hour} ? * MON-FRI *)"),
                2 => format!("cron({minute} {hour} ? * {} *)", i % 7 + 1),
                3 => format!("cron({minute} {hour} ? * {}#{} *)", i % 7 + 1, i % 4 + 1),
                4 => format!("cron({minute} {hour} L * ? *)"),
                5 => format!("cron({minute} {hour} {}W * ? *)", i % 28 + 1),
                6 => format!("cron({minute} {},{} * * ? *)", hour % 12, hour % 12 + 12),
                _ => format!("cron({minute} {hour} 1,15 * ? *)"),
            };
            (expr, zones[i % zones.len()])
        })
        .collect()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 10_000 } else { 100 };
    let rounds = if full { 7 } else { 1 };
    let from: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let until = from + Duration::days(31);
    let exprs = expressions(n);

    let mut parse_times = Vec::new();
    let mut run_times = Vec::new();
    let mut total_runs = 0;
    for _ in 0..rounds {
        let t0 = Instant::now();
        let schedules: Vec<Schedule> = exprs
            .iter()
            .map(|(e, z)| Schedule::parse(e, parse_timezone(z)).expect("valid expression"))
            .collect();
        parse_times.push(t0.elapsed());
        let t1 = Instant::now();
        total_runs = 0;
        for s in &schedules {
            total_runs += s.starts_between(from, Some(until), usize::MAX).len();
        }
        run_times.push(t1.elapsed());
    }
    parse_times.sort();
    run_times.sort();
    let median = |v: &[std::time::Duration]| v[v.len() / 2].as_secs_f64() * 1000.0;
    let total = median(&parse_times) + median(&run_times);
    println!(
        "{n} rules, 31 days, {total_runs} runs: computing runs {:.1} ms, parsing {:.1} ms, total {:.1} ms (median of {rounds}); target < 100 ms: {}",
        median(&run_times),
        median(&parse_times),
        total,
        if total < 100.0 { "OK" } else { "MISSED" }
    );
}
