//! Faults between coffer and AWS (issue 17): the same world of EBS volumes, EC2 instances, RDS
//! instances, Aurora clusters, DynamoDB tables and directories in S3 vaults is backed up,
//! copied to another region (and another S3 vault), restored and expired twice, each time on a
//! moto of its own: once straight, once through tests/fault_proxy.py injecting throttling in
//! each service's own format, server errors, dropped connections, truncated answers and
//! latency. Every job completes inside its window, every point's native object exists exactly
//! once (or not at all once its deletion is recorded), no restore made anything twice, and the
//! API calls of both runs are reported.
//!
//! CI runs it at 25 resources; `COFFER_FAULTS_RESOURCES=200` is the long form README reports
//! (`cargo test --test it faults -- --nocapture` prints the figures).

use crate::moto::{aws_env_at, cluster, db, instances, sdk_at, table, volume, Server};
use crate::support::{coffer, json_of as json, ok_run as ok, run};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub(crate) const SOURCE: &str = "us-east-1";
pub(crate) const DEST: &str = "us-west-2";
const BUCKET: &str = "coffer-faults";

/// How many resources of each type: volumes, instances, DB instances, clusters, tables,
/// directories.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub(crate) volumes: usize,
    pub(crate) instances: usize,
    pub(crate) dbs: usize,
    pub(crate) clusters: usize,
    pub(crate) tables: usize,
    pub(crate) dirs: usize,
}

impl Scale {
    /// `resources` AWS resources split 40/20/15/10/15 %, and one directory per 25 of them.
    fn of(resources: usize) -> Scale {
        let part = |pct: usize| (resources * pct / 100).max(1);
        Scale {
            volumes: part(40),
            instances: part(20),
            dbs: part(15),
            clusters: part(10),
            tables: part(15),
            dirs: (resources / 25).max(1),
        }
    }

    fn aws(&self) -> usize {
        self.volumes + self.instances + self.dbs + self.clusters + self.tables
    }
}

fn config(dirs: usize) -> String {
    let mut text = format!(
        r#"
provider "aws" {{
  region = "{SOURCE}"
}}

vault "main" {{}}

vault "dr" {{
  region = "{DEST}"
}}

vault "files" {{
  storage = "s3://{BUCKET}/files"
}}

vault "files-dr" {{
  storage = "s3://{BUCKET}/files-dr"
}}

plan "daily" {{
  rule "once" {{
    schedule          = "cron(0 3 5 12 ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
    lifecycle {{
      delete_after  = "7d"
      keep_at_least = 0
    }}
    copy_to {{
      vault = vault.dr
      lifecycle {{
        delete_after = "30d"
      }}
    }}
  }}
}}

plan "tables" {{
  rule "once" {{
    schedule          = "cron(0 3 5 12 ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
    lifecycle {{
      delete_after  = "7d"
      keep_at_least = 0
    }}
  }}
}}

plan "files" {{
  rule "once" {{
    schedule          = "cron(0 3 5 12 ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.files
    lifecycle {{
      delete_after  = "7d"
      keep_at_least = 0
    }}
    copy_to {{
      vault = vault.files-dr
      lifecycle {{
        delete_after = "30d"
      }}
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

selection "dirs" {{
  plan      = plan.files
  resources = ["dir:*"]
}}
"#
    );
    for i in 0..dirs {
        text.push_str(&format!(
            "\ndirectory \"d{i}\" {{\n  path = \"./data/d{i}\"\n}}\n"
        ));
    }
    text
}

/// The world, made straight in moto (not through the proxy).
pub(crate) fn seed(endpoint: &str, scale: Scale) {
    crate::moto::runtime().block_on(async {
        let conf = sdk_at(endpoint, SOURCE).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        let ddb = aws_sdk_dynamodb::Client::new(&conf);
        let daily = [("Backup", "daily")];
        for _ in 0..scale.volumes {
            volume(&ec2, SOURCE, &daily).await;
        }
        let mut left = scale.instances as i32;
        while left > 0 {
            instances(&ec2, left.min(10), &daily).await;
            left -= 10;
        }
        for i in 0..scale.dbs {
            db(&rds, &format!("db-{i}"), &daily).await;
        }
        for i in 0..scale.clusters {
            cluster(&rds, &format!("cluster-{i}"), &daily).await;
        }
        for i in 0..scale.tables {
            table(&ddb, &format!("table-{i}"), &[("Backup", "tables")]).await;
        }
    });
}

/// What one run of the scenario saw.
struct Outcome {
    jobs: Vec<Value>,
    points: Vec<Value>,
    /// The proxy's tally: requests, per action, faults injected.
    stats: Value,
    /// Problems found by the checks, in words (empty: all held).
    broken: Vec<String>,
    seconds: f64,
}

fn coffer_at(dir: &Path, endpoint: &str) -> Command {
    let mut c = coffer(dir);
    aws_env_at(&mut c, endpoint);
    // the SDK's own retries on, as a user runs coffer
    c.env_remove("AWS_MAX_ATTEMPTS");
    c
}

/// Backs up, copies, restores and expires the world through `proxy_args` faults.
fn scenario(scale: Scale, proxy_args: &[String]) -> Outcome {
    let started = std::time::Instant::now();
    let quotas = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(quotas.path(), "{}").unwrap();
    let moto = Server::moto(quotas.path()).unwrap_or_else(|e| panic!("{e}"));
    seed(&moto.endpoint, scale);
    let proxy = Server::fault_proxy(&moto.endpoint, proxy_args).unwrap_or_else(|e| panic!("{e}"));
    let endpoint = proxy.endpoint.clone();

    let dir = files_workspace(scale);
    let c = || coffer_at(dir.path(), &endpoint);
    ok(&run(c().args(["apply", "--auto-approve"])), "apply");

    // the backups, and their copies, until nothing is left to do
    let mut at = chrono::DateTime::parse_from_rfc3339("2026-12-05T03:05:00Z").unwrap();
    for _ in 0..8 {
        let r = run(c().args(["run", "--at", &at.to_rfc3339(), "--json"]));
        ok(&r, "run");
        at += chrono::Duration::minutes(10);
        if unfinished(&jobs(dir.path())) == 0 {
            break;
        }
    }

    // one restore of each type's point
    let points = list_points(dir.path());
    let mut restored_types = Vec::new();
    for p in &points {
        let t = p["resource_type"].as_str().unwrap().to_string();
        if p["vault"] != "main" && p["vault"] != "files" || restored_types.contains(&t) {
            continue;
        }
        let id = p["id"].as_str().unwrap();
        let mut cmd = c();
        cmd.args(["restore", "start", "--recovery-point", id, "--json"]);
        if t == "Aurora" {
            cmd.args(["--set", "dbInstanceClass=db.r6g.large"]);
        }
        if t == "directory" {
            cmd.arg("--target")
                .arg(dir.path().join(format!("restored-{id}")));
        }
        ok(&run(&mut cmd), &format!("restore of {t} point {id}"));
        restored_types.push(t);
    }

    // a week later the main vaults' points expire (their copies are kept)
    let r = run(c().args([
        "run",
        "--at",
        "2026-12-13T03:05:00Z",
        "--json",
        "--allow-mass-deletion",
    ]));
    ok(&r, "the expiring run");
    for m in 0..4 {
        if unfinished(&jobs(dir.path())) == 0 {
            break;
        }
        let at = format!("2026-12-13T03:{:02}:00Z", 15 + m * 10);
        ok(
            &run(c().args(["run", "--at", &at, "--json", "--allow-mass-deletion"])),
            "run",
        );
    }

    let stats: Value = ureq::get(format!("{endpoint}/__coffer_faults/stats"))
        .call()
        .expect("the proxy's stats")
        .body_mut()
        .read_to_string()
        .map(|t| serde_json::from_str(&t).expect("stats are JSON"))
        .expect("the proxy's stats");
    let jobs = jobs(dir.path());
    let points = list_points(dir.path());
    let mut broken = check_jobs(&jobs, scale, &restored_types);
    broken.extend(check_natives(&moto.endpoint, &jobs, &points));
    Outcome {
        jobs,
        points,
        stats,
        broken,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// A workspace with `config` and its directories, each of 40 small files.
fn files_workspace(scale: Scale) -> tempfile::TempDir {
    let dir = crate::support::workspace(&config(scale.dirs));
    for d in 0..scale.dirs {
        let root = dir.path().join(format!("data/d{d}"));
        std::fs::create_dir_all(&root).unwrap();
        for f in 0..40 {
            let body: Vec<u8> = (0..3000 + f * 101)
                .map(|b| (b * 13 + f + d) as u8)
                .collect();
            std::fs::write(root.join(format!("f{f}")), body).unwrap();
        }
    }
    dir
}

fn jobs(dir: &Path) -> Vec<Value> {
    let r = run(coffer(dir).args(["jobs", "list", "--json"]));
    json(&r).as_array().cloned().unwrap_or_default()
}

fn list_points(dir: &Path) -> Vec<Value> {
    let r = run(coffer(dir).args(["recovery-points", "list", "--json"]));
    json(&r).as_array().cloned().unwrap_or_default()
}

pub(crate) fn unfinished(jobs: &[Value]) -> usize {
    jobs.iter()
        .filter(|j| matches!(j["state"].as_str(), Some("CREATED" | "PENDING" | "RUNNING")))
        .count()
}

/// Every job completed, inside its window; as many jobs of each kind as the world asks for.
fn check_jobs(jobs: &[Value], scale: Scale, restored: &[String]) -> Vec<String> {
    let mut broken = Vec::new();
    for j in jobs {
        if j["state"] != "COMPLETED" {
            broken.push(format!(
                "{} job {} of {} is {}: {}",
                j["kind"], j["id"], j["resource_arn"], j["state"], j["error"]
            ));
            continue;
        }
        let done = j["transitions"]
            .as_array()
            .and_then(|t| t.last())
            .and_then(|t| t["at"].as_str());
        if let (Some(done), Some(by)) = (done, j["complete_by"].as_str()) {
            if done > by {
                broken.push(format!("job {} completed at {done}, after {by}", j["id"]));
            }
        }
    }
    let count = |kind: &str| jobs.iter().filter(|j| j["kind"] == kind).count();
    let resources = scale.aws() + scale.dirs;
    let copied = resources - scale.tables;
    let want = [
        ("backup", resources),
        ("copy", copied),
        ("restore", restored.len()),
        ("delete", resources),
    ];
    for (kind, n) in want {
        if count(kind) != n {
            broken.push(format!("{} {kind} jobs, not {n}", count(kind)));
        }
    }
    if restored.len() != 6 {
        broken.push(format!("restored types {restored:?}, not all six"));
    }
    broken
}

/// Native objects per job that made them, straight from moto, of the kind each resource type
/// keeps its points as.
#[derive(Default, Debug)]
struct Natives {
    by_type: BTreeMap<&'static str, BTreeMap<String, Vec<String>>>,
    /// Volumes and instances a restore made, per restore job (an instance's volumes carry
    /// its job's tag too).
    restored_volumes: BTreeMap<String, Vec<String>>,
    restored_instances: BTreeMap<String, Vec<String>>,
}

fn natives(endpoint: &str) -> Natives {
    let mut out = Natives::default();
    crate::moto::runtime().block_on(async {
        for region in [SOURCE, DEST] {
            let conf = sdk_at(endpoint, region).await;
            let ec2 = aws_sdk_ec2::Client::new(&conf);
            let rds = aws_sdk_rds::Client::new(&conf);
            let ddb = aws_sdk_dynamodb::Client::new(&conf);
            let tag = |tags: &[aws_sdk_ec2::types::Tag], k: &str| {
                crate::moto::ec2_tag(tags, k).map(str::to_string)
            };
            let snaps = ec2
                .describe_snapshots()
                .owner_ids("self")
                .send()
                .await
                .unwrap();
            for s in snaps.snapshots() {
                // an AMI's own snapshots are counted with the AMI
                if s.description().unwrap_or_default().contains("ami-") {
                    continue;
                }
                if let Some(job) = tag(s.tags(), "coffer:job") {
                    out.push("EBS", job, s.snapshot_id().unwrap_or_default());
                }
            }
            let images = ec2.describe_images().owners("self").send().await.unwrap();
            for i in images.images() {
                if let Some(job) = tag(i.tags(), "coffer:job") {
                    out.push("EC2", job, i.image_id().unwrap_or_default());
                }
            }
            let dbs = rds.describe_db_snapshots().send().await.unwrap();
            for s in dbs.db_snapshots() {
                let id = s.db_snapshot_identifier().unwrap_or_default();
                if let Some(job) = id.strip_prefix("coffer-") {
                    out.push("RDS", job.to_string(), id);
                }
            }
            let clusters = rds.describe_db_cluster_snapshots().send().await.unwrap();
            for s in clusters.db_cluster_snapshots() {
                let id = s.db_cluster_snapshot_identifier().unwrap_or_default();
                if let Some(job) = id.strip_prefix("coffer-") {
                    out.push("Aurora", job.to_string(), id);
                }
            }
            let backups = ddb.list_backups().send().await.unwrap();
            for b in backups.backup_summaries() {
                if let Some(job) = b.backup_name().and_then(|n| n.strip_prefix("coffer-")) {
                    out.push(
                        "DynamoDB",
                        job.to_string(),
                        b.backup_arn().unwrap_or_default(),
                    );
                }
            }
            // what restores made: volumes and instances by their restore-job tag
            let vols = ec2.describe_volumes().send().await.unwrap();
            for v in vols.volumes() {
                if let Some(job) = tag(v.tags(), "coffer:restore-job") {
                    out.restored_volumes
                        .entry(job)
                        .or_default()
                        .push(v.volume_id().unwrap_or_default().to_string());
                }
            }
            let reservations = ec2.describe_instances().send().await.unwrap();
            for i in reservations
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
            {
                if let Some(job) = tag(i.tags(), "coffer:restore-job") {
                    out.restored_instances
                        .entry(job)
                        .or_default()
                        .push(i.instance_id().unwrap_or_default().to_string());
                }
            }
        }
    });
    out
}

impl Natives {
    fn push(&mut self, t: &'static str, job: String, id: &str) {
        self.by_type
            .entry(t)
            .or_default()
            .entry(job)
            .or_default()
            .push(id.to_string());
    }
}

/// Each live point's native object exists exactly once, a deleted point's not at all, and
/// no object was made twice by one job; each EBS or EC2 restore made one resource.
pub(crate) fn check_natives(endpoint: &str, jobs: &[Value], points: &[Value]) -> Vec<String> {
    let natives = natives(endpoint);
    let mut broken = Vec::new();
    for p in points {
        let t = p["resource_type"].as_str().unwrap_or_default();
        if t == "directory" {
            continue;
        }
        let job = p["job_id"].as_str().unwrap_or_default();
        let ids = natives
            .by_type
            .get(t)
            .and_then(|m| m.get(job))
            .cloned()
            .unwrap_or_default();
        let made = ids.len();
        let deleted = !p["deleted_at"].is_null();
        let want = usize::from(!deleted);
        if made != want {
            broken.push(format!(
                "{t} point {} ({}, {}): {made} native objects in moto, not {want}: {ids:?}",
                p["id"], p["status"], p["native_id"]
            ));
        }
    }
    let recorded: std::collections::BTreeSet<&str> =
        points.iter().filter_map(|p| p["job_id"].as_str()).collect();
    for (t, per_job) in &natives.by_type {
        for (job, ids) in per_job {
            if ids.len() > 1 {
                broken.push(format!("job {job} made {} {t} objects: {ids:?}", ids.len()));
            }
            if !recorded.contains(job.as_str()) {
                broken.push(format!(
                    "{t} objects {ids:?} of job {job} are no point's (orphans)"
                ));
            }
        }
    }
    for j in jobs.iter().filter(|j| j["kind"] == "restore") {
        let arn = j["resource_arn"].as_str().unwrap_or_default();
        let made_by = if arn.contains(":volume/") {
            &natives.restored_volumes
        } else if arn.contains(":instance/") {
            &natives.restored_instances
        } else {
            continue;
        };
        let id = j["id"].as_str().unwrap_or_default();
        let made = made_by.get(id).map_or(0, Vec::len);
        if made != 1 {
            broken.push(format!("restore job {id} of {arn} made {made} resources"));
        }
    }
    broken
}

/// Calls per action, summed over the tally.
fn requests(stats: &Value) -> u64 {
    stats["requests"].as_u64().unwrap_or(0)
}

fn injected(stats: &Value, kind: &str) -> u64 {
    stats["injected"][kind].as_object().map_or_else(
        || stats["injected"][kind].as_u64().unwrap_or(0),
        |m| m.values().filter_map(Value::as_u64).sum(),
    )
}

fn resources() -> usize {
    std::env::var("COFFER_FAULTS_RESOURCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

#[test]
fn every_job_completes_once_through_throttling_server_errors_and_dropped_connections() {
    let scale = Scale::of(resources());
    let clean = scenario(scale, &[]);
    assert!(
        clean.broken.is_empty(),
        "without faults:\n{}",
        clean.broken.join("\n")
    );
    let faults: Vec<String> = [
        "--seed",
        "17",
        "--throttle",
        "0.20",
        "--error",
        "0.05",
        "--drop",
        "0.01",
        "--truncate",
        "0.01",
        "--latency",
        "0.05:50",
    ]
    .map(String::from)
    .to_vec();
    let faulty = scenario(scale, &faults);
    let report = format!(
        "{} AWS resources and {} directories: {} jobs, {} points\n\
         fault-free: {} API calls in {:.0} s\n\
         with faults: {} API calls in {:.0} s ({:.2}x): {} throttled, {} server errors, \
         {} dropped connections, {} truncated answers, {} delayed",
        scale.aws(),
        scale.dirs,
        faulty.jobs.len(),
        faulty.points.len(),
        requests(&clean.stats),
        clean.seconds,
        requests(&faulty.stats),
        faulty.seconds,
        requests(&faulty.stats) as f64 / requests(&clean.stats).max(1) as f64,
        injected(&faulty.stats, "throttle"),
        injected(&faulty.stats, "error"),
        injected(&faulty.stats, "drop"),
        injected(&faulty.stats, "truncate"),
        injected(&faulty.stats, "latency"),
    );
    println!("{report}");
    assert!(
        faulty.broken.is_empty(),
        "{report}\nwith faults:\n{}",
        faulty.broken.join("\n")
    );
    assert_eq!(clean.jobs.len(), faulty.jobs.len(), "{report}");
    assert!(
        injected(&faulty.stats, "throttle") > 0 && injected(&faulty.stats, "drop") > 0,
        "the proxy injected faults: {}",
        faulty.stats
    );
}

/// Credentials that expire mid-tick: the run stops saying so, fails no job and leaves the
/// rest as they were; once renewed, the next runs complete every job, each native object
/// exactly once and none an orphan.
#[test]
fn credentials_that_expire_mid_tick_fail_no_job_and_lose_nothing() {
    let scale = Scale::of(10);
    let quotas = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(quotas.path(), "{}").unwrap();
    let moto = Server::moto(quotas.path()).unwrap_or_else(|e| panic!("{e}"));
    seed(&moto.endpoint, scale);
    let renewed = Server::fault_proxy(&moto.endpoint, &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = files_workspace(scale);
    ok(
        &run(coffer_at(dir.path(), &renewed.endpoint).args(["apply", "--auto-approve"])),
        "apply",
    );

    let expiring = Server::fault_proxy(
        &moto.endpoint,
        &["--expire-after".into(), EXPIRE_AFTER.to_string()],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = run(coffer_at(dir.path(), &expiring.endpoint).args([
        "run",
        "--at",
        "2026-12-05T03:05:00Z",
    ]));
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("AWS rejected the credentials")
            && r.stderr.contains("The run stopped there"),
        "{}",
        r.stderr
    );
    let left = jobs(dir.path());
    let failed: Vec<&Value> = left.iter().filter(|j| j["state"] == "FAILED").collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(
        unfinished(&left) > 0,
        "the credentials expired mid-tick: {left:#?}"
    );
    // mid-tick: some work was done before the credentials expired
    assert!(
        left.iter().any(|j| j["state"] == "COMPLETED"
            || j["native_ids"].as_array().is_some_and(|n| !n.is_empty())),
        "{left:#?}"
    );
    let states: BTreeMap<String, usize> = left.iter().fold(BTreeMap::new(), |mut m, j| {
        *m.entry(format!("{} {}", j["kind"], j["state"]))
            .or_default() += 1;
        m
    });
    println!("when the credentials expired: {states:?}");

    let c = || coffer_at(dir.path(), &renewed.endpoint);
    for at in [
        "2026-12-05T03:15:00Z",
        "2026-12-05T03:25:00Z",
        "2026-12-05T03:35:00Z",
    ] {
        ok(
            &run(c().args(["run", "--at", at, "--json"])),
            "run after renewal",
        );
        if unfinished(&jobs(dir.path())) == 0 {
            break;
        }
    }
    let jobs = jobs(dir.path());
    let points = list_points(dir.path());
    let mut broken: Vec<String> = jobs
        .iter()
        .filter(|j| j["state"] != "COMPLETED")
        .map(|j| {
            format!(
                "{} job {} is {}: {}",
                j["kind"], j["id"], j["state"], j["error"]
            )
        })
        .collect();
    broken.extend(check_natives(&moto.endpoint, &jobs, &points));
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    let backups = jobs.iter().filter(|j| j["kind"] == "backup").count();
    assert_eq!(backups, scale.aws() + scale.dirs);
}

/// Signed requests the expiring proxy lets through: discovery and the first backup requests.
const EXPIRE_AFTER: u32 = 25;
