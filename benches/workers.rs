//! Worker queue benchmark (issue 15): 10,000 EBS backup jobs through an engine that answers
//! at once, run by three workers sharing a real PostgreSQL on loopback (a Unix socket), each
//! a thread with a connection and a tick of its own, claiming jobs as `coffer worker` does;
//! and the same jobs run by one runner on a SQLite catalog. What is measured is coffer's own
//! work per job on each backend (due runs, job creation, claims, state transitions, recovery
//! points, catalog writes), and the PostgreSQL server's CPU beside it. Duplicates are
//! backups asked for more than once for one job, and must be 0.
//!
//! Run with `cargo bench --bench workers`; `COFFER_TEST_PG` points it at a server of your
//! own, otherwise it starts a throwaway one from Debian's postgresql-15 binaries.

use chrono::{DateTime, Utc};
use coffer::address::Address;
use coffer::catalog::{Catalog, JobFilter, PgCatalog, PointFilter, SqliteCatalog};
use coffer::coverage::Coverage;
use coffer::inventory::Inventory;
use coffer::jobs::{JobKind, JobOptions, JobState, RuleInfo};
use coffer::runner::execute::Executor;
use coffer::runner::{cycle, Clock, Settings, WorkerSettings};
use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

#[path = "support/instant.rs"]
mod instant;
use instant::{cpu_seconds, ebs_volumes, InstantEngine};

#[path = "../src/pg_test.rs"]
#[allow(dead_code)]
mod pg_test;

const JOBS: usize = 10_000;
const WORKERS: usize = 3;
/// Claimed jobs per service at once, across the workers: room for every worker's 10.
const PER_SERVICE: usize = 30;

/// The resources, their coverage and the one rule that makes a job for each.
struct World {
    inventory: Inventory,
    coverage: Coverage,
    rules: Vec<RuleInfo>,
    at: DateTime<Utc>,
}

fn world() -> World {
    let (inventory, coverage) = ebs_volumes(JOBS);
    World {
        inventory,
        coverage,
        rules: vec![RuleInfo {
            address: "plan.daily.rule.nightly".parse::<Address>().unwrap(),
            plan: "plan.daily".parse().unwrap(),
            schedule: coffer::schedule::Schedule::parse("cron(0 3 * * ? *)", None).unwrap(),
            start_window: chrono::Duration::hours(8),
            completion_window: chrono::Duration::hours(12),
            vault: "main".into(),
            options: JobOptions::default(),
        }],
        at: DateTime::parse_from_rfc3339("2026-12-05T03:10:00Z")
            .unwrap()
            .with_timezone(&Utc),
    }
}

/// One runner's ticks over `catalog` until no backup job is unfinished; returns the jobs it
/// ran.
fn tick_until_done(
    world: &World,
    engine: &InstantEngine,
    catalog: &RefCell<dyn Catalog + '_>,
    settings: &Settings,
) -> usize {
    let stop = AtomicBool::new(false);
    let report = |_| {};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut ran = 0;
    loop {
        let r = runtime.block_on(async {
            let exec = Executor {
                provider: engine,
                catalog,
                inventory: &world.inventory,
                settings,
                clock: Clock::starting_at(world.at),
                stop: &stop,
                report: &report,
                policies: &Default::default(),
                halted: Default::default(),
            };
            cycle::tick(&exec, &world.rules, &Default::default(), &world.coverage).await
        });
        ran += r.expect("tick").jobs.len();
        let left = catalog
            .borrow()
            .jobs(&JobFilter {
                kind: Some(JobKind::Backup),
                unfinished: true,
                ..JobFilter::default()
            })
            .unwrap();
        if left.is_empty() {
            return ran;
        }
    }
}

/// What a run measured, and what it proves.
struct Measured {
    wall: f64,
    cpu: f64,
    server_cpu: Option<f64>,
    completed: usize,
    points: usize,
    duplicates: u32,
    ran: usize,
}

fn check(catalog: &dyn Catalog, engine: &InstantEngine) -> (usize, usize, u32) {
    let jobs = catalog
        .jobs(&JobFilter {
            kind: Some(JobKind::Backup),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(jobs.len(), JOBS, "one job per resource");
    let completed = jobs
        .iter()
        .filter(|j| j.state() == JobState::Completed)
        .count();
    let points = catalog
        .recovery_points(&PointFilter::default())
        .unwrap()
        .len();
    let starts = engine.starts();
    assert_eq!(starts.len(), JOBS, "every job asked for its backup");
    let duplicates = starts.values().map(|n| n - 1).sum();
    (completed, points, duplicates)
}

fn sqlite(world: &World) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let catalog = RefCell::new(SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap());
    let engine = InstantEngine::default();
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let ran = tick_until_done(world, &engine, &catalog, &Settings::default());
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let (completed, points, duplicates) = check(&*catalog.borrow(), &engine);
    Measured {
        wall,
        cpu,
        server_cpu: None,
        completed,
        points,
        duplicates,
        ran,
    }
}

/// CPU seconds the PostgreSQL server's processes have used, counting those that ended
/// (the postmaster's reaped children), when the server is one this benchmark started.
fn server_cpu(conn_str: &str) -> Option<f64> {
    let dir = conn_str
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("host="))?;
    let pid = std::fs::read_to_string(format!("{dir}/data/postmaster.pid")).ok()?;
    let pid: u32 = pid.lines().next()?.trim().parse().ok()?;
    let ticks = 100.0; // USER_HZ on Linux
    let stat = |p: u32, own_children: bool| -> Option<f64> {
        let s = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
        let n = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // after the command: utime 11, stime 12, cutime 13, cstime 14 (0-based from state)
        let mut t = n(11) + n(12);
        if own_children {
            t += n(13) + n(14);
        }
        Some(t / ticks)
    };
    let mut total = stat(pid, true)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let parent = std::fs::read_to_string(format!("/proc/{child}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_string))
            });
        if parent.as_deref() == Some(&pid.to_string()) {
            total += stat(child, false).unwrap_or(0.0);
        }
    }
    Some(total)
}

fn postgres(world: &World, conn_str: &str) -> Measured {
    let target = coffer::pg::PgTarget {
        conn_str: conn_str.to_string(),
        schema: "coffer".into(),
    };
    // migrated before the clock starts, as a team's database is
    PgCatalog::open(&target).unwrap();
    let engine = InstantEngine::default();
    let server0 = server_cpu(conn_str);
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let ran: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|i| {
                let (target, engine) = (&target, &engine);
                s.spawn(move || {
                    let catalog = RefCell::new(PgCatalog::open(target).unwrap());
                    let settings = Settings {
                        worker: Some(WorkerSettings {
                            name: format!("w{i}"),
                            lease: Duration::from_secs(30),
                        }),
                        // the queue is what is measured, not the per-service limit (5 by
                        // default, across all workers, which would make 5 jobs at a time
                        // the bound)
                        per_service: PER_SERVICE,
                        ..Settings::default()
                    };
                    tick_until_done(world, engine, &catalog, &settings)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let server = server_cpu(conn_str)
        .zip(server0)
        .map(|(after, before)| after - before);
    let (completed, points, duplicates) = check(&PgCatalog::open(&target).unwrap(), &engine);
    Measured {
        wall,
        cpu,
        server_cpu: server,
        completed,
        points,
        duplicates,
        ran,
    }
}

fn line(what: &str, m: &Measured) {
    let per_job = |s: f64| s / JOBS as f64 * 1000.0;
    let server = m
        .server_cpu
        .map(|s| {
            format!(
                ", PostgreSQL server {s:.2} s CPU ({:.3} ms per job)",
                per_job(s)
            )
        })
        .unwrap_or_default();
    println!(
        "{what}: {JOBS} jobs in {:.2} s = {:.0} jobs/s; coffer {:.2} s CPU ({:.3} ms per job){server}; {} completed, {} points, {} run, duplicates {}",
        m.wall,
        JOBS as f64 / m.wall,
        m.cpu,
        per_job(m.cpu),
        m.completed,
        m.points,
        m.ran,
        m.duplicates
    );
    assert_eq!(m.completed, JOBS);
    assert_eq!(m.points, JOBS);
    assert_eq!(m.duplicates, 0, "a job asked for two backups");
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test` runs benches once as tests; this one needs a database and minutes
        return;
    }
    let world = world();
    let sq = sqlite(&world);
    line("SQLite, one runner", &sq);
    let pg = postgres(&world, &pg_test::database());
    line(&format!("PostgreSQL, {WORKERS} workers"), &pg);
    println!(
        "coffer's CPU per job on PostgreSQL against SQLite: {:.2}x",
        pg.cpu / sq.cpu
    );
}
