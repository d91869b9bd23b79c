//! kill -9 over PostgreSQL workers (issue 17): two `coffer worker`s share a database and run a
//! rule that comes due every minute over EBS volumes, EC2 instances, RDS instances, Aurora
//! clusters, DynamoDB tables (in a moto of their own, behind the fault proxy's latency and
//! throttling, so that jobs take long enough to be killed in) and directories in a file
//! vault, with copies to another region. A seeded loop kills one of them with SIGKILL at a
//! random moment and starts it again at once, under the same name, as a supervisor would. When
//! the loop ends, the workers are stopped, a `coffer run` carries on whatever was left, and:
//!
//! - no job is unfinished, and every one COMPLETED;
//! - one backup job per resource and run;
//! - every live point's native object exists exactly once, no job made two, and every object
//!   coffer made is a point's (no orphan) ([`crate::faults::check_natives`]);
//! - every point's snapshot is in the file vault once, and `restic check` passes.
//!
//! CI kills 3 times; `COFFER_CHAOS_ITERATIONS=100 cargo test --test it chaos_workers --
//! --nocapture` is the long form README reports.

use crate::chaos::{iterations, restic, Rng};
use crate::chaos_aws::coffer_at;
use crate::faults::{check_natives, seed, unfinished, Scale, DEST, SOURCE};
use crate::moto::Server;
use crate::postgres::pg_test;
use crate::support::{json_of as json, ok_run as ok, run, workspace};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DIRS: usize = 2;

fn config(conn: &str) -> String {
    let mut text = format!(
        r#"
coffer {{
  backend "postgres" {{
    conn_str = "{conn}"
    schema   = "chaos"
  }}
}}

provider "aws" {{
  region = "{SOURCE}"
}}

vault "main" {{}}

vault "dr" {{
  region = "{DEST}"
}}

vault "files" {{
  storage = "file://./vaults/files"
}}

plan "daily" {{
  rule "minutely" {{
    schedule                     = "cron(* * * * ? *)"
    allow_more_frequent_than_12h = true
    start_window                 = "1h"
    completion_window            = "4h"
    target_vault                 = vault.main
    copy_to {{
      vault = vault.dr
    }}
  }}
}}

plan "tables" {{
  rule "minutely" {{
    schedule                     = "cron(* * * * ? *)"
    allow_more_frequent_than_12h = true
    start_window                 = "1h"
    completion_window            = "4h"
    target_vault                 = vault.main
  }}
}}

plan "files" {{
  rule "minutely" {{
    schedule                     = "cron(* * * * ? *)"
    allow_more_frequent_than_12h = true
    start_window                 = "1h"
    completion_window            = "4h"
    target_vault                 = vault.files
  }}
}}

selection "tagged" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["daily"] }}
}}

selection "tables" {{
  plan    = plan.tables
  any_tag = {{ Backup = ["tables"] }}
}}

selection "dirs" {{
  plan      = plan.files
  resources = ["dir:*"]
}}
"#
    );
    for d in 0..DIRS {
        text.push_str(&format!(
            "\ndirectory \"d{d}\" {{\n  path = \"./data/d{d}\"\n}}\n"
        ));
    }
    text
}

/// coffer through the proxy with the SDK's own retries on, as a user runs it (the proxy
/// throttles: without them nearly every listing of a tick's discovery meets a fault, and
/// discovery's own tries can all fail).
fn coffer_retrying(dir: &Path, endpoint: &str) -> Command {
    let mut c = coffer_at(dir, endpoint);
    c.env_remove("AWS_MAX_ATTEMPTS");
    c
}

/// Worker `name`, with a short lease so that a dead worker's jobs move on within seconds.
fn worker(dir: &Path, endpoint: &str, name: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .unwrap();
    coffer_retrying(dir, endpoint)
        .args([
            "worker",
            "--name",
            name,
            "--lease",
            "3s",
            "--poll-interval",
            "1s",
            "--shutdown-timeout",
            "5s",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("coffer worker starts")
}

fn jobs(dir: &Path, endpoint: &str) -> Option<Vec<Value>> {
    let r = run(coffer_at(dir, endpoint).args(["jobs", "list", "--json"]));
    (r.code == 0).then(|| json(&r).as_array().cloned().unwrap_or_default())
}

/// How many jobs worker `name` holds now, as `workers list` counts them.
fn held_by(dir: &Path, endpoint: &str, name: &str) -> u64 {
    let r = run(coffer_at(dir, endpoint).args(["workers", "list", "--json"]));
    if r.code != 0 {
        return 0;
    }
    json(&r)
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["name"] == name)
        .and_then(|w| w["jobs_held"].as_u64())
        .unwrap_or(0)
}

/// The snapshots in the file vault, by the job that made them.
fn vault_snapshots(dir: &Path) -> Vec<(String, String)> {
    let out = restic(dir, "files", &["snapshots", "--json", "--no-lock"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: Value = serde_json::from_slice(&out.stdout).unwrap();
    snaps
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let job = s["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(|t| t.strip_prefix("coffer:job="))
                .unwrap_or("(none)")
                .to_string();
            (job, s["id"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

#[test]
fn workers_killed_at_random_moments_lose_and_duplicate_nothing() {
    let n = iterations();
    let mut rng = Rng(0x00c0_ffee_3017);
    let quotas = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(quotas.path(), "{}").unwrap();
    let moto = Server::moto(quotas.path()).unwrap_or_else(|e| panic!("{e}"));
    seed(
        &moto.endpoint,
        Scale {
            volumes: 4,
            instances: 2,
            dbs: 1,
            clusters: 1,
            tables: 1,
            dirs: 0,
        },
    );
    let proxy = Server::fault_proxy(
        &moto.endpoint,
        &[
            "--seed".into(),
            "3017".into(),
            "--throttle".into(),
            "0.1".into(),
            "--latency".into(),
            "0.5:400".into(),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let endpoint = proxy.endpoint.clone();
    let dir = workspace(&config(&pg_test::database()));
    let path = dir.path();
    for d in 0..DIRS {
        let root = path.join(format!("data/d{d}"));
        std::fs::create_dir_all(&root).unwrap();
        for f in 0..30 {
            let body: Vec<u8> = (0..5000 + f * 97).map(|b| (b * 7 + f + d) as u8).collect();
            std::fs::write(root.join(format!("f{f}")), body).unwrap();
        }
    }
    ok(
        &run(coffer_retrying(path, &endpoint).args(["apply", "--auto-approve"])),
        "apply",
    );
    let names = ["w0", "w1"];
    let mut workers: Vec<Child> = names.iter().map(|n| worker(path, &endpoint, n)).collect();
    // the first minute's run, under way before the first kill
    let started = Instant::now();
    while jobs(path, &endpoint).is_none_or(|j| j.is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no job within 90 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (mut kills, mut holding) = (0, 0);
    for k in 0..n {
        std::thread::sleep(rng.below(Duration::from_secs(6)));
        let mut i = (rng.next() % 2) as usize;
        let mut held = held_by(path, &endpoint, names[i]) > 0;
        if !held && holding == 0 && k + 1 == n {
            // a short run's random kills may all land between jobs: the last one waits
            // for a worker that holds a job, so every run kills one mid-job
            let waiting = Instant::now();
            while !held && waiting.elapsed() < Duration::from_secs(120) {
                std::thread::sleep(Duration::from_millis(100));
                i = (rng.next() % 2) as usize;
                held = held_by(path, &endpoint, names[i]) > 0;
            }
        }
        if held {
            holding += 1;
        }
        workers[i].kill().unwrap();
        workers[i].wait().unwrap();
        kills += 1;
        workers[i] = worker(path, &endpoint, names[i]);
    }
    // the killed workers' jobs go to the living once their leases end: wait for a moment
    // with nothing unfinished, then stop both
    let drained = Instant::now();
    while jobs(path, &endpoint).is_none_or(|j| unfinished(&j) > 0) {
        if drained.elapsed() > Duration::from_secs(180) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    for w in &mut workers {
        // SAFETY: the child's pid is a live process this test started
        unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
        let status = w.wait().unwrap();
        assert!(status.success(), "a worker stopped with {status}");
    }
    // whatever a stopping worker handed back (a new minute's run) is carried on here
    ok(
        &run(coffer_retrying(path, &endpoint).args(["run"])),
        "the run after the workers",
    );
    let logs: String = names
        .iter()
        .map(|n| {
            let log = std::fs::read_to_string(path.join(format!("{n}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            format!(
                "{n}:\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect();

    let jobs = jobs(path, &endpoint).expect("the catalog loads");
    let points = json(&run(coffer_at(path, &endpoint).args([
        "recovery-points",
        "list",
        "--json",
    ])));
    let points = points.as_array().unwrap();
    let mut problems = Vec::new();
    for j in &jobs {
        if j["state"] != "COMPLETED" {
            problems.push(format!(
                "{} job {} of {} is {}: {}",
                j["kind"], j["id"], j["resource_arn"], j["state"], j["error"]
            ));
        }
    }
    let backups: Vec<&Value> = jobs.iter().filter(|j| j["kind"] == "backup").collect();
    let runs: BTreeSet<(&str, &str)> = backups
        .iter()
        .filter_map(|j| Some((j["resource_arn"].as_str()?, j["scheduled_at"].as_str()?)))
        .collect();
    if runs.len() != backups.len() {
        problems.push(format!(
            "{} backup jobs for {} runs of a resource",
            backups.len(),
            runs.len()
        ));
    }
    problems.extend(check_natives(&moto.endpoint, &jobs, points));
    let snapshots = vault_snapshots(path);
    let by_job: BTreeSet<&str> = snapshots.iter().map(|(j, _)| j.as_str()).collect();
    if by_job.len() != snapshots.len() {
        problems.push(format!("a job made two snapshots: {snapshots:?}"));
    }
    let file_points: BTreeSet<&str> = points
        .iter()
        .filter(|p| p["vault"] == "files" && p["status"] == "COMPLETED")
        .filter_map(|p| p["native_id"].as_str())
        .collect();
    let snapshot_ids: BTreeSet<&str> = snapshots.iter().map(|(_, s)| s.as_str()).collect();
    if file_points != snapshot_ids {
        problems.push(format!(
            "the file vault's snapshots {snapshot_ids:?} are not its points' {file_points:?}"
        ));
    }
    let check = restic(path, "files", &["check", "--no-lock"]);
    if !check.status.success() {
        problems.push(format!(
            "restic check: {}",
            String::from_utf8_lossy(&check.stdout)
        ));
    }
    assert!(problems.is_empty(), "{}\n{logs}", problems.join("\n"));
    let count = |kind: &str| jobs.iter().filter(|j| j["kind"] == kind).count();
    println!(
        "{kills} worker kills ({holding} while it held jobs) in {:?}: {} backups and {} copies, each once",
        started.elapsed(),
        count("backup"),
        count("copy"),
    );
    assert!(
        holding > 0 || n == 0,
        "no kill landed while a worker held a job"
    );
}
