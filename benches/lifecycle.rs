//! Lifecycle benchmark (issue 12): a catalog of 1,000,000 recovery points (5,000 EBS volumes
//! with 200 nightly points each, under a rule with a `keep` policy), 1,000 of them past their
//! `delete_after`. One tick's lifecycle work is measured: reading the candidates, evaluating
//! retention for every group, the breaker, creating the 1,000 delete jobs and running them
//! through an engine that answers at once, so what is measured is coffer's own CPU beyond the
//! API calls. Target: under 1 s.
//!
//! Run with `cargo bench --bench lifecycle`; reports the median of three ticks, each on a
//! fresh copy of the catalog.

#[path = "support/instant.rs"]
mod instant;

use chrono::{DateTime, Duration, Utc};
use coffer::catalog::{Catalog, JobFilter, SqliteCatalog};
use coffer::inventory::{Inventory, Resource, ResourceType};
use coffer::jobs::lifecycle::{Policies, RulePolicy};
use coffer::jobs::retention::KeepPolicy;
use coffer::jobs::JobKind;
use coffer::runner::execute::Executor;
use coffer::runner::{lifecycle, Clock, Settings};
use instant::{cpu_seconds, InstantEngine};
use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const RESOURCES: usize = 5_000;
const PER_RESOURCE: i64 = 200;
const DUE: usize = 1_000;
const RULE: &str = "plan.daily.rule.nightly";

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn arn(i: usize) -> String {
    format!("arn:aws:ec2:us-east-1:111122223333:volume/vol-{i:017x}")
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2027-01-01T03:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The tick's time: the day after the last nightly point.
fn now() -> DateTime<Utc> {
    start() + Duration::days(PER_RESOURCE) + Duration::hours(1)
}

/// Writes the catalog: migrated by coffer, then filled in one transaction.
fn build(path: &Path) {
    drop(SqliteCatalog::open(path).unwrap());
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO recovery_points (id, status, vault, native_id, resource_arn, resource_type, plan, rule, job_id, created_at, completed_at, size_bytes, delete_at)
                 VALUES (?1, 'COMPLETED', 'main', ?2, ?3, 'EBS', 'plan.daily', ?4, ?5, ?6, ?6, 8589934592, ?7)",
            )
            .unwrap();
        for i in 0..RESOURCES {
            let arn = arn(i);
            for d in 0..PER_RESOURCE {
                let created = start() + Duration::days(d);
                // the oldest point of the first DUE volumes is past its date
                let delete_at = if d == 0 && i < DUE {
                    now() - Duration::hours(2)
                } else {
                    created + Duration::days(400)
                };
                insert
                    .execute(rusqlite::params![
                        format!("rp-{i:06}-{d:03}"),
                        format!("snap-{i:06}{d:03}"),
                        arn,
                        RULE,
                        format!("job-{i:06}-{d:03}"),
                        ts(created),
                        ts(delete_at),
                    ])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn policies() -> Policies {
    let mut p = Policies::default();
    p.rules.insert(
        RULE.into(),
        RulePolicy {
            vault: "main".into(),
            keep: Some(KeepPolicy {
                daily: 365,
                ..KeepPolicy::default()
            }),
            floor: 1,
            tz: coffer::schedule::occurrence::parse_timezone("Etc/UTC").unwrap(),
            opt_in_to_archive: false,
        },
    );
    p
}

/// One tick's lifecycle work on a copy of `template`; returns (wall, CPU, deletions done).
fn one_tick(template: &Path) -> (f64, f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    std::fs::copy(template, &path).unwrap();
    let catalog = RefCell::new(SqliteCatalog::open(&path).unwrap());
    let inventory = Inventory::new(
        (0..RESOURCES)
            .map(|i| Resource::new(arn(i), ResourceType::EbsVolume, "us-east-1", "111122223333"))
            .collect(),
    );
    let policies = policies();
    let settings = Settings::default();
    let stop = AtomicBool::new(false);
    let report = |_: coffer::runner::Event| {};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let exists = |a: &str| inventory.get(a).is_some();
    let decided =
        lifecycle::create_jobs(&mut *catalog.borrow_mut(), &policies, &exists, false, now())
            .unwrap();
    assert_eq!(decided.created, DUE, "{decided:?}");
    let cpu_decided = cpu_seconds() - cpu0;
    let deletions = catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Delete),
            unfinished: true,
            ..JobFilter::default()
        })
        .unwrap();
    runtime.block_on(async {
        let exec = Executor {
            provider: &InstantEngine::default(),
            catalog: &catalog,
            inventory: &inventory,
            settings: &settings,
            clock: Clock::starting_at(now()),
            stop: &stop,
            report: &report,
            policies: &policies,
            halted: Default::default(),
        };
        exec.run_all(deletions, &Default::default()).await.unwrap();
    });
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    eprintln!(
        "  deciding and creating the jobs: {cpu_decided:.3} s CPU; running them: {:.3} s CPU",
        cpu - cpu_decided
    );
    let done = catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Delete),
            state: Some(coffer::jobs::JobState::Completed),
            ..JobFilter::default()
        })
        .unwrap()
        .len();
    (wall, cpu, done)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test` runs benches once as tests; building a million points is for benching
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // COFFER_BENCH_CATALOG keeps the built catalog at that path, to look at it with sqlite3
    let template = std::env::var_os("COFFER_BENCH_CATALOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("template.db"));
    let _ = std::fs::remove_file(&template);
    let t = Instant::now();
    build(&template);
    eprintln!(
        "built a catalog of {} points in {:.1} s",
        RESOURCES as i64 * PER_RESOURCE,
        t.elapsed().as_secs_f64()
    );
    // where the time goes, measured apart from the ticks below
    {
        let catalog = SqliteCatalog::open(&template).unwrap();
        let policies = policies();
        let c0 = cpu_seconds();
        let points = lifecycle::candidates(&catalog, &policies, now()).unwrap();
        let c1 = cpu_seconds();
        let verdicts =
            coffer::jobs::lifecycle::evaluate(&points, &policies, &|_| true, now(), false);
        let c2 = cpu_seconds();
        eprintln!(
            "reading {} candidates: {:.3} s CPU; evaluating them: {:.3} s CPU ({} verdicts)",
            points.len(),
            c1 - c0,
            c2 - c1,
            verdicts.len()
        );
    }
    let mut runs: Vec<(f64, f64)> = (0..3)
        .map(|_| {
            let (wall, cpu, done) = one_tick(&template);
            assert_eq!(done, DUE);
            (wall, cpu)
        })
        .collect();
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (wall, cpu) = runs[runs.len() / 2];
    println!(
        "lifecycle of one tick over {} points ({DUE} due, retention over {RESOURCES} groups): {wall:.3} s wall, {cpu:.3} s CPU (target < 1 s)",
        RESOURCES as i64 * PER_RESOURCE
    );
}
