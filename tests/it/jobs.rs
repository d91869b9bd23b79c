//! Backup jobs against a real moto server: a tick creates exactly the expected jobs and
//! tagged snapshots, a second tick creates nothing, missed runs are recorded EXPIRED,
//! overlapping rules back up once with the longer retention, a crash after the snapshot
//! request is adopted by the next tick, quotas and unusable KMS keys refuse with words that
//! name them, on-demand backups, and a mounted EFS file system backed up through its mount
//! path. Each test uses its own region so tests do not see each other's snapshots.

use crate::moto::{
    aws_env, cluster, db, file_system, instances, quotas_file, runtime, sdk, volume,
};
use crate::support::{coffer, run, workspace, Run};
use serde_json::Value;
use std::path::Path;

/// A configuration protecting everything tagged `Backup = daily` in `region`.
fn config(region: &str, extra: &str) -> String {
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
    recovery_point_tags = {{ Team = "data" }}
    lifecycle {{
      delete_after = "35d"
    }}
  }}
}}

selection "tagged" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["daily"] }}
}}
{extra}"#
    )
}

pub fn coffer_aws(dir: &Path) -> std::process::Command {
    let mut c = coffer(dir);
    aws_env(&mut c);
    c
}

fn apply(dir: &Path) {
    let r = run(coffer_aws(dir).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

/// One `coffer run --at AT --json` against moto, and its report.
pub fn tick(dir: &Path, at: &str) -> (Run, Value) {
    let r = run(coffer_aws(dir).args(["run", "--at", at, "--json"]));
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", r.stdout, r.stderr));
    (r, v)
}

/// A workspace protecting `Backup = daily` in `region`, applied, with one such volume there.
fn one_tagged_volume(region: &str) -> tempfile::TempDir {
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "daily")]).await;
    });
    let dir = workspace(&config(region, ""));
    apply(dir.path());
    dir
}

fn states(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["resource_arn"].as_str().unwrap().to_string(),
                j["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn tags_of(tags: &[aws_sdk_ec2::types::Tag]) -> std::collections::BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// EBS snapshots in `region` that carry a `coffer:job` tag.
fn coffer_snapshots(region: &str) -> Vec<aws_sdk_ec2::types::Snapshot> {
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let out = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag-key")
                    .values("coffer:job")
                    .build(),
            )
            .send()
            .await
            .expect("DescribeSnapshots");
        out.snapshots().to_vec()
    })
}

#[test]
fn a_tick_backs_up_each_covered_resource_once_with_tags_and_a_second_tick_creates_nothing() {
    let region = "us-east-2";
    let (vol_a, vol_b, _untagged) = runtime().block_on(async {
        let conf = sdk(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        let a = volume(&ec2, region, &[("Name", "a"), ("Backup", "daily")]).await;
        let b = volume(&ec2, region, &[("Name", "b"), ("Backup", "daily")]).await;
        let u = volume(&ec2, region, &[("Name", "untagged")]).await;
        instances(&ec2, 1, &[("Name", "app"), ("Backup", "daily")]).await;
        db(&rds, "orders", &[("Backup", "daily")]).await;
        cluster(&rds, "analytics", &[("Backup", "daily")]).await;
        (a, b, u)
    });
    let dir = workspace(&config(region, ""));
    apply(dir.path());

    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let got = states(&report);
    // two tagged volumes (not the untagged one), one instance, one DB, one cluster
    let mut types: Vec<&str> = got
        .iter()
        .map(|(arn, _)| {
            arn.split(':')
                .nth(5)
                .unwrap()
                .split(['/', ':'])
                .next()
                .unwrap()
        })
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["cluster", "db", "instance", "volume", "volume"],
        "{got:?}"
    );
    assert!(got.iter().all(|(_, s)| s == "COMPLETED"), "{report:#}");
    assert_eq!(report["created"], 5);
    for j in report["jobs"].as_array().unwrap() {
        assert_eq!(j["rule"], "plan.daily.rule.nightly");
        assert_eq!(j["scheduled_at"], "2026-12-05T03:00:00Z");
        assert_eq!(j["start_by"], "2026-12-05T04:00:00Z");
        assert_eq!(j["complete_by"], "2026-12-05T07:00:00Z");
        assert!(j["recovery_point_id"].is_string(), "{j:#}");
    }

    // the EBS snapshots carry coffer's tags and the rule's
    let snaps = coffer_snapshots(region);
    let mut vols: Vec<String> = snaps
        .iter()
        .filter(|s| s.description().is_some_and(|d| d.starts_with("coffer job")))
        .map(|s| s.volume_id().unwrap().to_string())
        .collect();
    vols.sort();
    let mut want = vec![vol_a.clone(), vol_b.clone()];
    want.sort();
    assert_eq!(vols, want);
    for s in &snaps {
        let tags = tags_of(s.tags());
        assert_eq!(tags["coffer:vault"], "main");
        assert_eq!(tags["coffer:plan"], "daily");
        assert_eq!(tags["coffer:rule"], "nightly");
        assert_eq!(tags["Team"], "data");
        assert!(tags["coffer:job"].starts_with("job-"));
    }
    // the AMI, the RDS snapshot and the cluster snapshot too
    runtime().block_on(async {
        let conf = sdk(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let images = ec2.describe_images().owners("self").send().await.unwrap();
        let ami: Vec<_> = images
            .images()
            .iter()
            .filter(|i| tags_of(i.tags()).contains_key("coffer:job"))
            .collect();
        assert_eq!(ami.len(), 1);
        assert_eq!(tags_of(ami[0].tags())["coffer:rule"], "nightly");
        let rds = aws_sdk_rds::Client::new(&conf);
        let dbs = rds.describe_db_snapshots().send().await.unwrap();
        let ours: Vec<_> = dbs
            .db_snapshots()
            .iter()
            .filter(|s| {
                s.db_snapshot_identifier()
                    .unwrap()
                    .starts_with("coffer-job-")
            })
            .collect();
        assert_eq!(ours.len(), 1);
        let tags: Vec<(&str, &str)> = ours[0]
            .tag_list()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert!(tags.contains(&("coffer:plan", "daily")), "{tags:?}");
        assert!(tags.contains(&("Team", "data")), "{tags:?}");
        let clusters = rds.describe_db_cluster_snapshots().send().await.unwrap();
        assert_eq!(
            clusters
                .db_cluster_snapshots()
                .iter()
                .filter(|s| s
                    .db_cluster_snapshot_identifier()
                    .unwrap()
                    .starts_with("coffer-job-"))
                .count(),
            1
        );
    });

    // recovery points keep the resource's metadata and the lifecycle dates
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let points: Value = serde_json::from_str(&r.stdout).unwrap();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 5);
    let vol_point = points
        .iter()
        .find(|p| p["resource_arn"].as_str().unwrap().ends_with(&vol_a))
        .unwrap();
    assert_eq!(vol_point["resource"]["name"], "a");
    assert_eq!(vol_point["resource"]["tags"]["Backup"], "daily");
    assert_eq!(vol_point["size_bytes"], 1u64 << 30);
    assert_eq!(vol_point["plan"], "plan.daily");
    let created =
        chrono::DateTime::parse_from_rfc3339(vol_point["created_at"].as_str().unwrap()).unwrap();
    let delete =
        chrono::DateTime::parse_from_rfc3339(vol_point["delete_at"].as_str().unwrap()).unwrap();
    assert_eq!(delete - created, chrono::Duration::days(35));

    // two more ticks at the same time, racing: nothing new anywhere
    let racing: Vec<_> = (0..2)
        .map(|_| {
            coffer_aws(dir.path())
                .args([
                    "run",
                    "--at",
                    "2026-12-05T03:10:00Z",
                    "--json",
                    "--lock-timeout",
                    "60s",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in racing {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["created"], 0, "{v:#}");
    }
    assert_eq!(coffer_snapshots(region).len(), snaps.len());
    let r = run(coffer(dir.path()).args(["jobs", "list", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn runs_missed_beyond_their_start_window_are_recorded_expired() {
    let region = "ca-central-1";
    let dir = one_tagged_volume(region);
    let (r, first) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(first["created"], 1);
    // coffer was off for two days: the 12-06 run is missed, the 12-07 run is still startable
    let (r, second) = tick(dir.path(), "2026-12-07T03:30:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(second["created"], 2);
    let r = run(coffer(dir.path()).args(["jobs", "list", "--state", "expired", "--json"]));
    let expired: Value = serde_json::from_str(&r.stdout).unwrap();
    let expired = expired.as_array().unwrap();
    assert_eq!(expired.len(), 1, "{expired:#?}");
    assert_eq!(expired[0]["scheduled_at"], "2026-12-06T03:00:00Z");
    assert!(expired[0]["error"]
        .as_str()
        .unwrap()
        .contains("start window closed at 2026-12-06T04:00:00"));
    let r = run(coffer(dir.path()).args([
        "jobs",
        "list",
        "--state",
        "COMPLETED",
        "--since",
        "2026-12-06T00:00:00Z",
        "--json",
    ]));
    let done: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(done.as_array().unwrap().len(), 1);
    assert_eq!(done[0]["scheduled_at"], "2026-12-07T03:00:00Z");
}

#[test]
fn overlapping_rules_back_a_resource_up_once_with_the_longer_retention() {
    let region = "eu-central-1";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "daily"), ("Tier", "gold")]).await;
    });
    let monthly = r#"
plan "monthly" {
  rule "first-saturday" {
    schedule     = "cron(30 3 ? * 7#1 *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle {
      delete_after = "7y"
    }
  }
}

selection "gold" {
  plan    = plan.monthly
  any_tag = { Tier = ["gold"] }
}
"#;
    let dir = workspace(&config(region, monthly));
    apply(dir.path());
    // 2026-12-05 is the first Saturday: the 03:00 nightly and 03:30 monthly runs overlap
    let (r, report) = tick(dir.path(), "2026-12-05T03:40:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{report:#}");
    assert_eq!(jobs[0]["rule"], "plan.monthly.rule.first-saturday");
    assert_eq!(jobs[0]["lifecycle"]["delete_after"], "7y");
    assert_eq!(coffer_snapshots(region).len(), 1);
}

#[test]
fn a_crash_after_the_snapshot_request_is_adopted_by_the_next_tick() {
    let region = "ap-southeast-1";
    let dir = one_tagged_volume(region);
    let crashed = run(coffer_aws(dir.path())
        .args(["run", "--at", "2026-12-05T03:10:00Z"])
        .env("COFFER_FAILPOINT", "after-backup-request"));
    assert_ne!(crashed.code, 0, "the fail point kills the process");
    assert!(
        crashed
            .stderr
            .contains("fail point after-backup-request reached"),
        "{}",
        crashed.stderr
    );
    // the catalog knows a running job but not its snapshot; AWS has the snapshot
    let r = run(coffer(dir.path()).args(["jobs", "list", "--json"]));
    let jobs: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(jobs[0]["state"], "RUNNING");
    assert_eq!(jobs[0]["native_ids"], serde_json::json!([]));
    let job_id = jobs[0]["id"].as_str().unwrap().to_string();
    let snaps = coffer_snapshots(region);
    assert_eq!(snaps.len(), 1);
    let snap = snaps[0].snapshot_id().unwrap().to_string();

    let (r, report) = tick(dir.path(), "2026-12-05T03:15:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(report["created"], 0);
    assert_eq!(report["resumed"], 1);
    assert_eq!(report["jobs"][0]["id"], job_id.as_str());
    assert_eq!(report["jobs"][0]["state"], "COMPLETED");
    assert_eq!(report["jobs"][0]["native_ids"], serde_json::json!([snap]));
    assert!(
        r.stderr
            .contains("adopted the backup an earlier attempt made"),
        "{}",
        r.stderr
    );
    assert_eq!(coffer_snapshots(region).len(), 1, "no second snapshot");
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(points.as_array().unwrap().len(), 1);
    assert_eq!(points[0]["native_id"], snap.as_str());
}

#[test]
fn a_full_rds_snapshot_quota_refuses_the_job_and_names_the_quota() {
    let region = "ap-northeast-1";
    runtime().block_on(async {
        let rds = aws_sdk_rds::Client::new(&sdk(region).await);
        db(&rds, "billing", &[("Backup", "daily")]).await;
        db(&rds, "other", &[]).await;
        rds.create_db_snapshot()
            .db_instance_identifier("other")
            .db_snapshot_identifier("someone-elses")
            .send()
            .await
            .expect("CreateDBSnapshot");
    });
    // one manual snapshot exists and the quota allows one
    let path = quotas_file();
    std::fs::write(
        &path,
        format!(r#"{{"{region}": {{"ManualSnapshots": 1}}}}"#),
    )
    .unwrap();
    let dir = workspace(&config(region, ""));
    apply(dir.path());
    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 1, "a failed job fails the tick\n{}", r.stderr);
    let job = &report["jobs"][0];
    assert_eq!(job["state"], "FAILED");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("the RDS quota ManualSnapshots in ap-northeast-1 is full (1 of 1 used"),
        "{error}"
    );
    // with room for two, the job runs, and the quota at 100% afterwards is warned about
    std::fs::write(
        &path,
        format!(r#"{{"{region}": {{"ManualSnapshots": 2}}}}"#),
    )
    .unwrap();
    let r = run(coffer_aws(dir.path()).args([
        "backup",
        "start",
        "--resource",
        job["resource_arn"].as_str().unwrap(),
        "--vault",
        "main",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("will be 2 of 2 (100%) after this tick"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_unusable_kms_key_fails_the_job_and_names_the_key() {
    let region = "sa-east-1";
    let key = runtime().block_on(async {
        let conf = sdk(region).await;
        let kms = aws_sdk_kms::Client::new(&conf);
        let key = kms.create_key().send().await.expect("CreateKey");
        let id = key.key_metadata().unwrap().key_id().to_string();
        let arn = key.key_metadata().unwrap().arn().unwrap().to_string();
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        ec2.create_volume()
            .availability_zone(format!("{region}a"))
            .size(1)
            .encrypted(true)
            .kms_key_id(&arn)
            .tag_specifications(
                aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::Volume)
                    .tags(
                        aws_sdk_ec2::types::Tag::builder()
                            .key("Backup")
                            .value("daily")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("CreateVolume");
        kms.disable_key()
            .key_id(&id)
            .send()
            .await
            .expect("DisableKey");
        arn
    });
    let dir = workspace(&config(region, ""));
    apply(dir.path());
    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let error = report["jobs"][0]["error"].as_str().unwrap();
    assert!(error.contains(&format!("the KMS key {key}")), "{error}");
    assert!(error.contains("is Disabled"), "{error}");
    assert!(coffer_snapshots(region).is_empty());
}

#[test]
fn on_demand_backup_of_one_volume_with_its_own_retention() {
    let region = "eu-north-1";
    let vol = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Name", "adhoc")]).await
    });
    let dir = workspace(&config(region, ""));
    apply(dir.path());
    let arn = format!("arn:aws:ec2:{region}:123456789012:volume/{vol}");
    let r = run(coffer_aws(dir.path()).args([
        "backup",
        "start",
        "--resource",
        &arn,
        "--vault",
        "main",
        "--delete-after",
        "7d",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(job["state"], "COMPLETED");
    assert_eq!(job["rule"], Value::Null);
    let snaps = coffer_snapshots(region);
    assert_eq!(snaps.len(), 1);
    assert_eq!(tags_of(snaps[0].tags())["coffer:rule"], "on-demand");
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--resource", &arn, "--json"]));
    let points: Value = serde_json::from_str(&r.stdout).unwrap();
    let p = &points[0];
    // lifecycle dates count from the point's creation, as AWS Backup counts them
    let created = chrono::DateTime::parse_from_rfc3339(p["created_at"].as_str().unwrap()).unwrap();
    let delete = chrono::DateTime::parse_from_rfc3339(p["delete_at"].as_str().unwrap()).unwrap();
    assert_eq!(delete - created, chrono::Duration::days(7));
    // errors name what is wrong
    let r = run(coffer_aws(dir.path()).args([
        "backup",
        "start",
        "--resource",
        &arn,
        "--vault",
        "nope",
    ]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("no vault `nope` has been applied (applied vaults: main)"),
        "{}",
        r.stderr
    );
}

#[test]
fn snapshots_made_outside_coffer_in_a_rules_window_are_reported_as_overlaps() {
    let region = "ap-south-1";
    let vol = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let vol = volume(&ec2, region, &[("Backup", "daily")]).await;
        // another script's snapshot, made now
        ec2.create_snapshot()
            .volume_id(&vol)
            .description("nightly script")
            .send()
            .await
            .expect("CreateSnapshot");
        vol
    });
    // an hourly rule whose latest run was two minutes ago, so "now" is inside its window
    let minute = (chrono::Utc::now() - chrono::Duration::minutes(2))
        .format("%M")
        .to_string()
        .trim_start_matches('0')
        .to_string();
    let minute = if minute.is_empty() {
        "0".to_string()
    } else {
        minute
    };
    let text = config(region, "").replace(
        "cron(0 3 * * ? *)\"",
        &format!("cron({minute} * * * ? *)\"\n    allow_more_frequent_than_12h = true"),
    );
    let dir = workspace(&text);
    apply(dir.path());

    let r = run(coffer_aws(dir.path()).args(["inventory", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Value = serde_json::from_str(&r.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["arn"].as_str().unwrap().ends_with(&vol))
        .unwrap();
    let overlaps = row["overlaps"].as_array().unwrap();
    assert_eq!(overlaps.len(), 1, "{row:#}");
    assert_eq!(overlaps[0]["origin"], "nightly script");

    let r = run(coffer_aws(dir.path()).args(["run"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Overlaps: 1 snapshot of covered resources made outside coffer"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("(nightly script)"), "{}", r.stdout);
    // coffer's own snapshot, made by this tick before it looked, is not counted
    assert!(r.stdout.contains("1 completed"), "{}", r.stdout);
}

#[test]
fn a_mounted_efs_file_system_is_backed_up_through_its_mount_path_into_the_vault_repository() {
    let region = "eu-west-3";
    let id = runtime().block_on(async {
        let efs = aws_sdk_efs::Client::new(&sdk(region).await);
        file_system(&efs, "coffer-efs-files", &[("Backup", "daily")]).await
    });
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("mnt/shared");
    std::fs::create_dir_all(mount.join("projects")).unwrap();
    std::fs::write(mount.join("projects/plan.txt"), "the plan").unwrap();
    let extra = format!(
        "efs_mount \"shared\" {{\n  file_system_id = \"{id}\"\n  mount_path     = \"{}\"\n}}\n",
        mount.display()
    );
    let config = config(region, &extra).replace(
        "vault \"main\" {}",
        "vault \"main\" {\n  storage = \"file://./vaults/main\"\n}",
    );
    std::fs::write(dir.path().join("main.hcl"), config).unwrap();
    apply(dir.path());

    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{report:#}");
    let job = &jobs[0];
    assert_eq!(job["state"], "COMPLETED", "{report:#}");
    let arn = job["resource_arn"].as_str().unwrap();
    assert!(arn.ends_with(&format!("file-system/{id}")), "{arn}");
    // a restic snapshot in the vault repository, not an AWS snapshot
    assert_eq!(job["native_ids"][0].as_str().unwrap().len(), 64);

    let rp = job["recovery_point_id"].as_str().unwrap();
    let target = dir.path().join("restored");
    let r = run(coffer_aws(dir.path())
        .args(["restore", "start", "--recovery-point", rp, "--target"])
        .arg(&target));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(target.join("projects/plan.txt")).unwrap(),
        "the plan"
    );
}
