//! kill -9 over every job kind (issue 17): a seeded chaos loop runs `apply`, a backup tick
//! (backups, copies, deletions and prunes of the day), `copy start`, `recovery-points
//! delete`, `vault prune` and `restore start` on file-level vaults, each killed with SIGKILL at
//! a random moment (not at a fail point), then runs again to completion; after every
//! iteration the invariants are checked by code:
//!
//! - the state and the catalog load, and `plan` finds nothing to change;
//! - no job is left unfinished;
//! - every snapshot coffer made is a recorded, live point's (no orphan), at most one per job
//!   (no duplicate), and every live point's snapshot exists;
//! - `restic check` passes on every repository;
//! - nothing under the legal hold was deleted.
//!
//! CI runs 3 iterations of each; `COFFER_CHAOS_ITERATIONS=100 cargo test --test it chaos --
//! --nocapture` is the long form README reports.

use crate::support::{coffer, json_of as json, ok_run as ok, run, workspace, VAULT_PASSWORD};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DIRS: usize = 3;

fn config(extra_vaults: usize) -> String {
    let mut text = String::from(
        r#"
vault "main" {
  storage = "file://./vaults/main"
  prune {
    max_unused = "0%"
  }
}

vault "dr" {
  storage = "file://./vaults/dr"
}

# where `copy start` copies points on demand
vault "offsite" {
  storage = "file://./vaults/offsite"
}

plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle {
      delete_after  = "2d"
      keep_at_least = 0
    }
    copy_to {
      vault = vault.dr
      lifecycle {
        delete_after = "3d"
      }
    }
  }
}

selection "dirs" {
  plan      = plan.daily
  resources = ["dir:*"]
}

legal_hold "first-day" {
  vaults       = [vault.main]
  created_from = "2026-12-01"
  created_to   = "2026-12-01"
}
"#,
    );
    for d in 0..DIRS {
        text.push_str(&format!(
            "\ndirectory \"d{d}\" {{\n  path = \"./data/d{d}\"\n}}\n"
        ));
    }
    // vaults that come and go between iterations of `apply`, so that it has work to be
    // killed in
    for v in 0..extra_vaults {
        text.push_str(&format!(
            "\nvault \"extra-{v}\" {{\n  storage = \"file://./vaults/extra-{v}\"\n}}\n"
        ));
    }
    text
}

/// A seeded xorshift generator: the same seed kills at the same moments.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A duration in [0, max).
    pub(crate) fn below(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros().max(1) as u64;
        Duration::from_micros(self.next() % micros)
    }
}

/// Runs `cmd`, killing it with SIGKILL after `after` if it is still running. Returns whether
/// it was killed, and how long it ran.
pub(crate) fn run_killed(cmd: &mut Command, after: Duration) -> (bool, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("coffer runs");
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            return (false, started.elapsed());
        }
        if started.elapsed() >= after {
            child.kill().unwrap();
            child.wait().unwrap();
            return (true, started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// New content for day `day`: one file changes in each directory, one is added.
fn write_day(dir: &Path, day: u32) {
    for d in 0..DIRS {
        let root = dir.join(format!("data/d{d}"));
        std::fs::create_dir_all(&root).unwrap();
        for f in 0..60 {
            let path = root.join(format!("f{f}"));
            if f == day as usize % 60 || !path.exists() {
                let body: Vec<u8> = (0..20_000 + f * 517)
                    .map(|b| ((b as u32).wrapping_mul(2654435761) ^ day ^ d as u32) as u8)
                    .collect();
                std::fs::write(path, body).unwrap();
            }
        }
        std::fs::write(root.join(format!("day-{day}")), format!("{day}")).unwrap();
    }
}

pub(crate) fn at(day: u32) -> String {
    let first = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let date = first + chrono::Duration::days(i64::from(day) - 1);
    format!("{date}T03:10:00Z")
}

pub(crate) fn restic(dir: &Path, vault: &str, args: &[&str]) -> std::process::Output {
    Command::new("restic")
        .arg("-r")
        .arg(dir.join("vaults").join(vault))
        .args(args)
        .env("RESTIC_PASSWORD", VAULT_PASSWORD)
        .env("RESTIC_CACHE_DIR", dir.join("restic-cache"))
        .output()
        .expect("restic runs (apt-get install restic)")
}

/// The invariants, in words for each one broken.
fn broken(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let state = run(coffer(dir).args(["state", "list"]));
    if state.code != 0 {
        out.push(format!("the state does not load: {}", state.stderr));
    }
    let plan = run(coffer(dir).args(["plan", "--detailed-exitcode"]));
    if plan.code != 0 {
        out.push(format!(
            "plan finds changes after a completed run ({}): {}{}",
            plan.code, plan.stdout, plan.stderr
        ));
    }
    let jobs = run(coffer(dir).args(["jobs", "list", "--json"]));
    let points = run(coffer(dir).args(["recovery-points", "list", "--json"]));
    if jobs.code != 0 || points.code != 0 {
        out.push(format!(
            "the catalog does not load: {}{}",
            jobs.stderr, points.stderr
        ));
        return out;
    }
    let (jobs, points) = (json(&jobs), json(&points));
    for j in jobs.as_array().unwrap() {
        if matches!(j["state"].as_str(), Some("CREATED" | "PENDING" | "RUNNING")) {
            out.push(format!(
                "{} job {} is left {}",
                j["kind"], j["id"], j["state"]
            ));
        }
    }
    let points = points.as_array().unwrap();
    for vault in ["main", "dr", "offsite"] {
        let snaps = restic(dir, vault, &["snapshots", "--json", "--no-lock"]);
        if !snaps.status.success() {
            out.push(format!(
                "restic snapshots in {vault}: {}",
                String::from_utf8_lossy(&snaps.stderr)
            ));
            continue;
        }
        let snaps: Value = serde_json::from_slice(&snaps.stdout).unwrap_or(Value::Null);
        let mut by_job: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in snaps.as_array().into_iter().flatten() {
            let job = s["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(|t| t.strip_prefix("coffer:job="))
                .unwrap_or("(none)")
                .to_string();
            by_job
                .entry(job)
                .or_default()
                .push(s["id"].as_str().unwrap_or_default().to_string());
        }
        let live: BTreeMap<&str, &Value> = points
            .iter()
            .filter(|p| p["vault"] == vault && p["status"] == "COMPLETED")
            .filter_map(|p| Some((p["native_id"].as_str()?, p)))
            .collect();
        let snapshot_ids: BTreeSet<&str> = by_job.values().flatten().map(String::as_str).collect();
        for (job, ids) in &by_job {
            if ids.len() > 1 {
                out.push(format!(
                    "job {job} made {} snapshots in {vault}: {ids:?}",
                    ids.len()
                ));
            }
            for id in ids {
                if !live.contains_key(id.as_str()) {
                    out.push(format!(
                        "snapshot {id} of job {job} in {vault} is no live point's (orphan)"
                    ));
                }
            }
        }
        for (native, p) in &live {
            if !snapshot_ids.contains(native) {
                out.push(format!(
                    "point {} in {vault}: its snapshot {native} is gone",
                    p["id"]
                ));
            }
        }
        let check = restic(dir, vault, &["check", "--no-lock"]);
        if !check.status.success() {
            out.push(format!(
                "restic check {vault}: {}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            ));
        }
    }
    out.extend(held_points_lost(points));
    out
}

/// Points under a hold (or of the first day in `main`, which the `first-day` legal hold
/// keeps) that are no longer COMPLETED.
pub(crate) fn held_points_lost(points: &[Value]) -> Vec<String> {
    points
        .iter()
        .filter(|p| {
            p["holds"].as_array().is_some_and(|h| !h.is_empty())
                || p["created_at"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("2026-12-01"))
                    && p["vault"] == "main"
        })
        .filter(|p| p["status"] != "COMPLETED")
        .map(|p| format!("held point {} is {}", p["id"], p["status"]))
        .collect()
}

/// What one kind's iterations did.
#[derive(Default, Debug)]
struct Tally {
    iterations: usize,
    killed: usize,
}

pub(crate) fn iterations() -> usize {
    std::env::var("COFFER_CHAOS_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// A point of `vault` with status COMPLETED, newest first: `which` picks among them.
fn live_point(dir: &Path, vault: &str, which: u64) -> Option<String> {
    let points = json(&run(coffer(dir).args([
        "recovery-points",
        "list",
        "--vault",
        vault,
        "--status",
        "COMPLETED",
        "--json",
    ])));
    let points = points.as_array()?;
    if points.is_empty() {
        return None;
    }
    points[(which as usize) % points.len()]["id"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn every_job_kind_survives_kill_9_at_random_moments() {
    let n = iterations();
    let mut rng = Rng(0x00c0_ffee_0017);
    let dir = workspace(&config(0));
    let path = dir.path();
    write_day(path, 1);
    ok(
        &run(coffer(path).args(["apply", "--auto-approve"])),
        "apply",
    );
    // the first day's points, which the legal hold keeps
    let mut day = 1;
    ok(
        &run(coffer(path).args(["run", "--at", &at(day)])),
        "the first day's run",
    );
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    // how long each kind takes when it is not killed, to kill inside that time
    let mut took: BTreeMap<&str, Duration> = BTreeMap::new();
    let kinds = ["apply", "tick", "copy", "delete", "prune", "restore"];
    for i in 0..n {
        for kind in kinds {
            let budget = took.get(kind).copied().unwrap_or(Duration::from_secs(2));
            let after = rng.below(budget.mul_f64(1.2));
            let mut command = coffer(path);
            let mut finish: Vec<Vec<String>> = Vec::new();
            let mut finish_after_run: Vec<Vec<String>> = Vec::new();
            match kind {
                "apply" => {
                    // add or remove extra vaults, so apply initialises or forgets repositories
                    let extra = if i % 2 == 0 { 4 } else { 0 };
                    std::fs::write(path.join("main.hcl"), config(extra)).unwrap();
                    command.args(["apply", "--auto-approve"]);
                    finish.push(vec!["apply".into(), "--auto-approve".into()]);
                    // the next iteration's checks expect this configuration's vaults only
                }
                "tick" => {
                    day += 1;
                    write_day(path, day);
                    command.args(["run", "--at", &at(day), "--allow-mass-deletion"]);
                }
                "copy" => {
                    // the newest point of the main vault (the tick copied it to dr, not here)
                    let Some(p) = live_point(path, "main", 0) else {
                        continue;
                    };
                    command.args([
                        "copy",
                        "start",
                        "--recovery-point",
                        &p,
                        "--vault",
                        "offsite",
                    ]);
                }
                "delete" => {
                    let Some(p) = live_point(path, "dr", rng.next()) else {
                        continue;
                    };
                    command.args(["recovery-points", "delete", &p, "--yes"]);
                }
                "prune" => {
                    command.args(["vault", "prune", "main"]);
                }
                "restore" => {
                    let Some(p) = live_point(path, "main", rng.next()) else {
                        continue;
                    };
                    let target = path.join(format!("restored/{i}"));
                    command
                        .args(["restore", "start", "--recovery-point", &p, "--target"])
                        .arg(&target);
                    // a killed restore is ended by the next run; then it is asked again, into
                    // a fresh directory, and must complete
                    let again = path.join(format!("restored/{i}-again"));
                    finish_after_run.push(vec![
                        "restore".into(),
                        "start".into(),
                        "--recovery-point".into(),
                        p.clone(),
                        "--target".into(),
                        again.to_string_lossy().into_owned(),
                    ]);
                }
                _ => unreachable!(),
            }
            let (killed, ran) = run_killed(&mut command, after);
            if !killed {
                took.insert(kind, ran);
            }
            let t = tallies.entry(kind).or_default();
            t.iterations += 1;
            t.killed += usize::from(killed);
            // run again to completion: the same command where it is safe to ask twice, and a
            // tick at the same moment, which carries on (or ends) what was left
            for args in &finish {
                ok(&run(coffer(path).args(args)), &format!("{kind} again"));
            }
            // on-demand jobs have windows from the real clock; the daily ticks run on days of
            // their own (`--at`), so each is carried on at its own time
            let mut again = coffer(path);
            again.args(["run", "--allow-mass-deletion"]);
            if matches!(kind, "apply" | "tick") {
                again.args(["--at", &at(day)]);
            }
            let r = run(&mut again);
            ok(&r, &format!("the run after a killed {kind}"));
            for args in &finish_after_run {
                ok(
                    &run(coffer(path).args(args)),
                    &format!("{kind} asked again"),
                );
            }
            if kind == "apply" && i % 2 == 0 {
                // back to the base configuration for the other kinds' plan checks
                std::fs::write(path.join("main.hcl"), config(0)).unwrap();
                ok(
                    &run(coffer(path).args(["apply", "--auto-approve"])),
                    "apply back",
                );
            }
            let problems = broken(path);
            assert!(
                problems.is_empty(),
                "iteration {i}, {kind} killed after {after:?} (killed: {killed}):\n{}",
                problems.join("\n")
            );
        }
    }
    let summary: Vec<String> = tallies
        .iter()
        .map(|(k, t)| format!("{k}: {} iterations, {} killed", t.iterations, t.killed))
        .collect();
    println!("kill -9 survived: {}", summary.join("; "));
    // the loop killed something of each kind (a kill that lands after the end kills nothing)
    for (kind, t) in &tallies {
        assert!(
            t.killed > 0 || n < 3,
            "{kind} was never killed: {tallies:?}"
        );
    }
}
