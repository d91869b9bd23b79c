//! Restores of AWS points against a real moto server: a volume restored as its source was and
//! with overrides, `--dry-run` creating nothing, bad metadata named, a restore killed after its
//! request adopted by the next tick (never made twice, for volumes and databases); an instance,
//! an RDS instance (with `--no-wait`, carried out by the tick) and an Aurora cluster with its
//! instance restored as new resources tagged with their restore job; an archived snapshot
//! brought back to the standard tier first. Each test uses its own region.

use crate::jobs::{coffer_aws, tick};
use crate::moto::{cluster, db, ec2_tag as tag, instances, runtime, sdk, volume};
use crate::support::{run, workspace};
use serde_json::Value;
use std::path::Path;

fn config(region: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "{region}"
}}

vault "main" {{}}

plan "daily" {{
  rule "nightly" {{
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
    lifecycle {{
      delete_after = "35d"
    }}
  }}
}}

selection "tagged" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["daily"] }}
}}
"#
    )
}

/// A workspace protecting `Backup = daily` in `region`, applied and ticked once: the points.
fn backed_up(region: &str) -> (tempfile::TempDir, Vec<Value>) {
    let dir = workspace(&config(region));
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (r, _) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer_aws(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    (dir, points)
}

fn of_type<'a>(points: &'a [Value], t: &str) -> &'a str {
    points
        .iter()
        .find(|p| p["resource_type"] == t)
        .unwrap_or_else(|| panic!("no {t} point in {points:?}"))["id"]
        .as_str()
        .unwrap()
}

fn restore(dir: &Path, point: &str, extra: &[&str]) -> (crate::support::Run, Value) {
    let r = run(coffer_aws(dir)
        .args(["restore", "start", "--recovery-point", point, "--json"])
        .args(extra));
    let v = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    (r, v)
}

/// Volumes in `region` that a restore job made.
fn restored_volumes(region: &str, job: &str) -> Vec<aws_sdk_ec2::types::Volume> {
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let out = ec2
            .describe_volumes()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:coffer:restore-job")
                    .values(job)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.volumes().to_vec()
    })
}

#[test]
fn a_volume_restores_as_its_source_was_or_as_told_and_a_killed_restore_is_adopted() {
    let region = "mx-central-1";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "daily"), ("Team", "data")]).await;
    });
    let (dir, points) = backed_up(region);
    let point = of_type(&points, "EBS").to_string();
    let snapshot = points[0]["native_id"].as_str().unwrap().to_string();

    // --dry-run: the metadata, from the source's recorded configuration, and nothing created
    let (r, dry) = restore(
        dir.path(),
        &point,
        &["--dry-run", "--set", "volumetype=gp3"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(dry["metadata"]["availabilityZone"], format!("{region}a"));
    assert_eq!(dry["metadata"]["volumeSize"], "1");
    assert_eq!(
        dry["metadata"]["volumeType"], "gp3",
        "keys are case-insensitive"
    );
    let jobs = run(coffer_aws(dir.path()).args(["jobs", "list", "--kind", "restore", "--json"]));
    assert_eq!(jobs.stdout.trim(), "[]", "a dry run records no job");

    // bad metadata is named, and nothing is created
    let (r, _) = restore(dir.path(), &point, &["--set", "iops=fast"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("`iops=fast`: a whole number is needed"),
        "{}",
        r.stderr
    );
    let (r, _) = restore(dir.path(), &point, &["--target", "x"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("--target is for file-level points"),
        "{}",
        r.stderr
    );

    // a restore with an override
    let (r, job) = restore(
        dir.path(),
        &point,
        &["--set", "volumeSize=5", "--copy-source-tags"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(job["kind"], "restore");
    assert_eq!(job["state"], "COMPLETED");
    let states: Vec<&str> = job["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["CREATED", "PENDING", "RUNNING", "COMPLETED"]);
    let id = job["id"].as_str().unwrap();
    let volumes = restored_volumes(region, id);
    assert_eq!(volumes.len(), 1);
    let v = &volumes[0];
    assert_eq!(v.size(), Some(5));
    assert_eq!(v.snapshot_id(), Some(snapshot.as_str()));
    assert_eq!(tag(v.tags(), "Team"), Some("data"), "--copy-source-tags");
    assert!(tag(v.tags(), "Name")
        .unwrap()
        .starts_with("coffer-restore-"));
    assert_eq!(
        job["created_resource_arn"],
        format!(
            "arn:aws:ec2:{region}:123456789012:volume/{}",
            v.volume_id().unwrap()
        )
    );
    assert!(job["duration_seconds"].is_number());

    // killed after asking: the next tick adopts the volume instead of making another
    let crashed = run(coffer_aws(dir.path())
        .args(["restore", "start", "--recovery-point", &point])
        .env("COFFER_FAILPOINT", "after-restore-request"));
    assert_ne!(crashed.code, 0);
    let jobs = run(coffer_aws(dir.path()).args(["jobs", "list", "--kind", "restore", "--json"]));
    let jobs: Vec<Value> = serde_json::from_str(&jobs.stdout).unwrap();
    let left = jobs
        .iter()
        .find(|j| j["state"] == "RUNNING")
        .unwrap_or_else(|| panic!("{jobs:#?}"));
    let left_id = left["id"].as_str().unwrap().to_string();
    assert_eq!(
        restored_volumes(region, &left_id).len(),
        1,
        "the request went through"
    );
    let (r, report) = tick(dir.path(), "2026-12-05T04:00:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let resumed = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == left_id.as_str())
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(resumed["state"], "COMPLETED", "{resumed:#}");
    assert_eq!(
        restored_volumes(region, &left_id).len(),
        1,
        "adopted, not made twice"
    );
}

#[test]
fn an_instance_and_databases_restore_as_new_resources_tagged_with_their_job() {
    let region = "ap-east-2";
    runtime().block_on(async {
        let conf = sdk(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        instances(&ec2, 1, &[("Backup", "daily")]).await;
        db(&rds, "orders", &[("Backup", "daily")]).await;
        cluster(&rds, "ledger", &[("Backup", "daily")]).await;
    });
    let (dir, points) = backed_up(region);

    let (r, job) = restore(dir.path(), of_type(&points, "EC2"), &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    assert_eq!(job["restore_metadata"]["requireImdsV2"], "true");
    let instance = job["created_resource_arn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let out = ec2
            .describe_instances()
            .instance_ids(&instance)
            .send()
            .await
            .unwrap();
        let i = &out.reservations()[0].instances()[0];
        assert_eq!(tag(i.tags(), "coffer:restore-job"), job["id"].as_str());
        assert_eq!(
            i.metadata_options()
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str()),
            Some("required"),
            "IMDSv2"
        );
    });

    // an RDS instance, recorded with --no-wait and restored by the next tick
    let (r, job) = restore(
        dir.path(),
        of_type(&points, "RDS"),
        &["--no-wait", "--set", "dbInstanceClass=db.t3.small"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(job["state"], "CREATED");
    let id = job["id"].as_str().unwrap().to_string();
    let (r, report) = tick(dir.path(), "2026-12-05T04:00:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let done = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{report:#}"))
        .clone();
    assert_eq!(done["state"], "COMPLETED", "{done:#}");
    let name = crate::restores_aws::default_name(&id);
    assert!(
        done["created_resource_arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":db:{name}")),
        "{done:#}"
    );
    runtime().block_on(async {
        let rds = aws_sdk_rds::Client::new(&sdk(region).await);
        let out = rds
            .describe_db_instances()
            .db_instance_identifier(&name)
            .send()
            .await
            .unwrap();
        let d = &out.db_instances()[0];
        assert_eq!(d.db_instance_class(), Some("db.t3.small"));
        // never public (moto does not echo the setting back, so only "not true" is checked)
        assert_ne!(d.publicly_accessible(), Some(true));
    });

    // killed after asking for a second database: the next tick finds it by its name
    let crashed = run(coffer_aws(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            of_type(&points, "RDS"),
        ])
        .env("COFFER_FAILPOINT", "after-restore-request"));
    assert_ne!(crashed.code, 0);
    let (r, report) = tick(dir.path(), "2026-12-05T04:30:00Z");
    assert_eq!(
        r.code, 0,
        "{}
{}",
        r.stdout, r.stderr
    );
    let resumed: Vec<&Value> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "restore")
        .collect();
    assert_eq!(resumed.len(), 1, "{report:#}");
    assert_eq!(resumed[0]["state"], "COMPLETED", "{:#}", resumed[0]);
    let transitions = resumed[0]["transitions"].as_array().unwrap();
    assert_eq!(
        transitions
            .iter()
            .filter(|t| t["state"] == "RUNNING")
            .count(),
        1,
        "resumed, not started again"
    );

    // an Aurora cluster, with its one instance
    let (r, job) = restore(
        dir.path(),
        of_type(&points, "Aurora"),
        &[
            "--set",
            "dbInstanceClass=db.r6g.large",
            "--set",
            "dbClusterIdentifier=ledger-restored",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    assert!(job["created_resource_arn"]
        .as_str()
        .unwrap()
        .ends_with(":cluster:ledger-restored"));
    runtime().block_on(async {
        let rds = aws_sdk_rds::Client::new(&sdk(region).await);
        let out = rds
            .describe_db_instances()
            .db_instance_identifier("ledger-restored-1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.db_instances()[0].db_cluster_identifier(),
            Some("ledger-restored")
        );
    });
}

/// What a restore names its database: `coffer-restore-` and the job id's first 8 characters.
pub fn default_name(job_id: &str) -> String {
    coffer::jobs::restore_metadata::default_name(job_id)
}

#[test]
fn an_archived_snapshot_is_brought_back_to_the_standard_tier_then_restored() {
    let region = "ap-southeast-6";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "daily")]).await;
    });
    let text = config(region).replace(
        "delete_after = \"35d\"",
        "cold_storage_after = \"1d\"\n      delete_after       = \"100d\"\n      opt_in_to_archive  = true",
    );
    let dir = workspace(&text);
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    tick(dir.path(), "2026-12-05T03:10:00Z");
    let r = run(coffer_aws(dir.path()).args([
        "run",
        "--at",
        "2026-12-07T02:30:00Z",
        "--poll-interval",
        "1s",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer_aws(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let cold = points
        .iter()
        .find(|p| p["storage_class"] == "COLD")
        .unwrap_or_else(|| panic!("{points:#?}"));
    let (r, job) = restore(dir.path(), cold["id"].as_str().unwrap(), &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    assert!(
        r.stderr.contains("is being restored to the standard tier"),
        "the job says why it waits: {}",
        r.stderr
    );
    let snap = cold["native_id"].as_str().unwrap();
    let volumes = restored_volumes(region, job["id"].as_str().unwrap());
    assert_eq!(volumes.len(), 1);
    assert_eq!(volumes[0].snapshot_id(), Some(snap));
}
