//! Tick overhead benchmark (issue 5): one scheduler tick of 1,000 EBS backup jobs through an
//! engine that answers at once, so what is measured is coffer's own work beyond the API calls
//! (due runs, coverage, job creation, state transitions, recovery points, catalog writes).
//! Target: under 1 ms of CPU per job. `python3 benches/jobs.py` measures the same tick
//! against moto, API calls included.
//!
//! Run with `cargo bench --bench tick`; reports the median of five ticks, each on a fresh
//! catalog.

use chrono::{DateTime, Utc};
use coffer::address::Address;
use coffer::catalog::SqliteCatalog;
use coffer::jobs::{JobOptions, RuleInfo};
use coffer::runner::execute::Executor;
use coffer::runner::{cycle, Clock, Settings};
use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const JOBS: usize = 1000;

#[path = "support/instant.rs"]
mod instant;
use instant::{cpu_seconds, ebs_volumes, InstantEngine};

fn one_tick() -> (f64, f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = RefCell::new(SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap());
    let (inventory, coverage) = ebs_volumes(JOBS);
    let rules = vec![RuleInfo {
        address: "plan.daily.rule.nightly".parse::<Address>().unwrap(),
        plan: "plan.daily".parse().unwrap(),
        schedule: coffer::schedule::Schedule::parse("cron(0 3 * * ? *)", None).unwrap(),
        start_window: chrono::Duration::hours(1),
        completion_window: chrono::Duration::hours(4),
        vault: "main".into(),
        options: JobOptions {
            delete_after: Some("35d".into()),
            ..JobOptions::default()
        },
    }];
    let settings = Settings::default();
    let stop = AtomicBool::new(false);
    let report = |_| {};
    let at = DateTime::parse_from_rfc3339("2026-12-05T03:10:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let report = runtime.block_on(async {
        let exec = Executor {
            provider: &InstantEngine::default(),
            catalog: &catalog,
            inventory: &inventory,
            settings: &settings,
            clock: Clock::starting_at(at),
            stop: &stop,
            report: &report,
            policies: &Default::default(),
            halted: Default::default(),
        };
        cycle::tick(&exec, &rules, &Default::default(), &coverage)
            .await
            .unwrap()
    });
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    assert_eq!(report.created, JOBS);
    let completed = report
        .jobs
        .iter()
        .filter(|j| j.state() == coffer::jobs::JobState::Completed)
        .count();
    (wall, cpu, completed)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test` runs benches once as tests; a tiny smoke run keeps that fast
        return;
    }
    let mut runs: Vec<(f64, f64)> = (0..5)
        .map(|_| {
            let (wall, cpu, completed) = one_tick();
            assert_eq!(completed, JOBS);
            (wall, cpu)
        })
        .collect();
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (wall, cpu) = runs[runs.len() / 2];
    println!(
        "tick of {JOBS} jobs with an instant engine: {wall:.3} s wall, {cpu:.3} s CPU, {:.3} ms CPU per job (target < 1 ms)",
        cpu / JOBS as f64 * 1000.0
    );
}
