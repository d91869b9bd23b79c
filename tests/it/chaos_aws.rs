//! kill -9 over AWS native objects (issue 17): the seeded loop of [`crate::chaos`] over EBS
//! volumes, EC2 instances, RDS instances, Aurora clusters and DynamoDB tables in a moto of its
//! own. A backup tick (backups, copies to another region, the lifecycle's deletions), `copy
//! start`, `recovery-points delete` and `restore start` (of EBS and EC2 points) are each killed
//! with SIGKILL at a random moment, then a run carries on what was left. After every iteration:
//!
//! - the state and the catalog load, and `plan` finds nothing to change;
//! - no job is left unfinished, and none failed;
//! - every live point's native object exists exactly once, a deleted point's not at all, no
//!   job made two and every object coffer made is a point's (no orphan), and each restore
//!   made one volume or instance ([`crate::faults::check_natives`]);
//! - nothing under the legal hold was deleted.
//!
//! CI runs 3 iterations of each; `COFFER_CHAOS_ITERATIONS=100 cargo test --test it chaos_aws
//! -- --nocapture` is the long form README reports.

use crate::chaos::{at, held_points_lost, iterations, run_killed, Rng};
use crate::faults::{check_natives, seed, Scale, DEST, SOURCE};
use crate::moto::{aws_env_at, Server};
use crate::support::{coffer, json_of as json, ok_run as ok, run, workspace};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn config() -> String {
    format!(
        r#"
provider "aws" {{
  region = "{SOURCE}"
}}

vault "main" {{}}

vault "dr" {{
  region = "{DEST}"
}}

# where `copy start` copies points on demand
vault "offsite" {{
  region = "{DEST}"
}}

plan "daily" {{
  rule "nightly" {{
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
    lifecycle {{
      delete_after  = "2d"
      keep_at_least = 0
    }}
    copy_to {{
      vault = vault.dr
      lifecycle {{
        delete_after = "3d"
      }}
    }}
  }}
}}

plan "tables" {{
  rule "nightly" {{
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
    lifecycle {{
      delete_after  = "2d"
      keep_at_least = 0
    }}
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

legal_hold "first-day" {{
  vaults       = [vault.main]
  created_from = "2026-12-01"
  created_to   = "2026-12-01"
}}
"#
    )
}

/// The invariants, in words for each one broken.
fn broken(dir: &Path, endpoint: &str) -> Vec<String> {
    let c = || coffer_at(dir, endpoint);
    let mut out = Vec::new();
    let state = run(c().args(["state", "list"]));
    if state.code != 0 {
        out.push(format!("the state does not load: {}", state.stderr));
    }
    let plan = run(c().args(["plan", "--detailed-exitcode"]));
    if plan.code != 0 {
        out.push(format!(
            "plan finds changes after a completed run ({}): {}{}",
            plan.code, plan.stdout, plan.stderr
        ));
    }
    let jobs = run(c().args(["jobs", "list", "--json"]));
    let points = run(c().args(["recovery-points", "list", "--json"]));
    if jobs.code != 0 || points.code != 0 {
        out.push(format!(
            "the catalog does not load: {}{}",
            jobs.stderr, points.stderr
        ));
        return out;
    }
    let (jobs, points) = (json(&jobs), json(&points));
    let (jobs, points) = (jobs.as_array().unwrap(), points.as_array().unwrap());
    for j in jobs {
        if !matches!(j["state"].as_str(), Some("COMPLETED" | "EXPIRED")) {
            out.push(format!(
                "{} job {} of {} is {}: {}",
                j["kind"], j["id"], j["resource_arn"], j["state"], j["error"]
            ));
        }
    }
    out.extend(check_natives(endpoint, jobs, points));
    out.extend(held_points_lost(points));
    out
}

/// A COMPLETED point of `vault` (of one of `types`, when given): `which` picks among them.
fn live_point(dir: &Path, vault: &str, types: &[&str], which: u64) -> Option<Value> {
    let points = json(&run(coffer(dir).args([
        "recovery-points",
        "list",
        "--vault",
        vault,
        "--status",
        "COMPLETED",
        "--json",
    ])));
    let points: Vec<&Value> = points
        .as_array()?
        .iter()
        .filter(|p| {
            types.is_empty()
                || types
                    .iter()
                    .any(|t| p["resource_type"].as_str() == Some(*t))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    Some(points[(which as usize) % points.len()].clone())
}

#[test]
fn every_aws_job_kind_survives_kill_9_at_random_moments() {
    let n = iterations();
    let mut rng = Rng(0x00c0_ffee_a317);
    let quotas = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(quotas.path(), "{}").unwrap();
    let moto = Server::moto(quotas.path()).unwrap_or_else(|e| panic!("{e}"));
    let endpoint = moto.endpoint.clone();
    seed(
        &endpoint,
        Scale {
            volumes: 3,
            instances: 2,
            dbs: 1,
            clusters: 1,
            tables: 1,
            dirs: 0,
        },
    );
    let dir = workspace(&config());
    let path = dir.path();
    let c = || coffer_at(path, &endpoint);
    ok(&run(c().args(["apply", "--auto-approve"])), "apply");
    let mut day = 1;
    ok(
        &run(c().args(["run", "--at", &at(day)])),
        "the first day's run",
    );
    let mut killed_per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut took: BTreeMap<&str, Duration> = BTreeMap::new();
    for i in 0..n {
        for kind in ["tick", "copy", "delete", "restore"] {
            let budget = took.get(kind).copied().unwrap_or(Duration::from_secs(2));
            let after = rng.below(budget.mul_f64(1.2));
            let mut command = c();
            match kind {
                "tick" => {
                    day += 1;
                    command.args(["run", "--at", &at(day), "--allow-mass-deletion"]);
                }
                "copy" => {
                    let Some(p) = live_point(path, "main", &["EBS", "EC2", "RDS"], rng.next())
                    else {
                        continue;
                    };
                    command.args([
                        "copy",
                        "start",
                        "--recovery-point",
                        p["id"].as_str().unwrap(),
                        "--vault",
                        "offsite",
                    ]);
                }
                "delete" => {
                    let Some(p) = live_point(path, "dr", &[], rng.next()) else {
                        continue;
                    };
                    command.args([
                        "recovery-points",
                        "delete",
                        p["id"].as_str().unwrap(),
                        "--yes",
                    ]);
                }
                "restore" => {
                    let Some(p) = live_point(path, "main", &["EBS", "EC2"], rng.next()) else {
                        continue;
                    };
                    command.args([
                        "restore",
                        "start",
                        "--recovery-point",
                        p["id"].as_str().unwrap(),
                    ]);
                }
                _ => unreachable!(),
            }
            let (killed, ran) = run_killed(&mut command, after);
            if !killed {
                took.insert(kind, ran);
            }
            let t = killed_per_kind.entry(kind).or_default();
            t.0 += 1;
            t.1 += usize::from(killed);
            // a run carries on what the killed command left: the tick at its own moment,
            // on-demand jobs (whose windows come from the real clock) now
            let mut again = c();
            again.args(["run", "--allow-mass-deletion"]);
            if kind == "tick" {
                again.args(["--at", &at(day)]);
            }
            ok(&run(&mut again), &format!("the run after a killed {kind}"));
            let problems = broken(path, &endpoint);
            assert!(
                problems.is_empty(),
                "iteration {i}, {kind} killed after {after:?} (killed: {killed}):\n{}",
                problems.join("\n")
            );
        }
    }
    let summary: Vec<String> = killed_per_kind
        .iter()
        .map(|(k, (runs, kills))| format!("{k}: {runs} iterations, {kills} killed"))
        .collect();
    println!("kill -9 over AWS survived: {}", summary.join("; "));
    for (kind, (_, kills)) in &killed_per_kind {
        assert!(
            *kills > 0 || n < 3,
            "{kind} was never killed: {killed_per_kind:?}"
        );
    }
}

/// A coffer command in `dir` against the AWS endpoint `endpoint`.
pub(crate) fn coffer_at(dir: &Path, endpoint: &str) -> Command {
    let mut c = coffer(dir);
    aws_env_at(&mut c, endpoint);
    c
}
