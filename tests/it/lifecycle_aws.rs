//! Lifecycle against a real moto server: every AWS type's points are deleted at their date
//! through their own calls (EBS DeleteSnapshot; an AMI deregistered with its snapshots; RDS
//! DeleteDBSnapshot; Aurora DeleteDBClusterSnapshot); a snapshot whose `coffer:job` tag was
//! removed is never deleted and its point EXPIRES; one deleted out of band is recorded as
//! such; and a crash between the delete request and its record is the job's own deletion.
//! Each test uses its own region.

use crate::jobs::{coffer_aws, tick};
use crate::moto::{cluster, db, instances, runtime, sdk, volume};
use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::path::Path;

/// Everything tagged `Backup = daily` in `region`, kept one day with no floor.
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
      delete_after  = "1d"
      keep_at_least = 0
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

fn applied(region: &str) -> tempfile::TempDir {
    let dir = workspace(&config(region));
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    dir
}

/// The points made by the first night's run (5 December 2026), by resource type.
fn first_points(dir: &Path) -> Vec<Value> {
    let r = run(coffer(dir).args(["recovery-points", "list", "--json"]));
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    list.into_iter()
        .filter(|p| p["created_at"].as_str().unwrap().starts_with("2026-12-05"))
        .collect()
}

fn of_type<'a>(points: &'a [Value], t: &str) -> &'a Value {
    points
        .iter()
        .find(|p| p["resource_type"] == t)
        .unwrap_or_else(|| panic!("no {t} point in {points:?}"))
}

async fn snapshot_exists(ec2: &aws_sdk_ec2::Client, id: &str) -> bool {
    match ec2.describe_snapshots().snapshot_ids(id).send().await {
        Ok(out) => !out.snapshots().is_empty(),
        Err(_) => false,
    }
}

#[test]
fn every_aws_type_is_deleted_at_its_date_through_its_own_calls() {
    let region = "eu-south-1";
    runtime().block_on(async {
        let conf = sdk(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        volume(&ec2, region, &[("Backup", "daily")]).await;
        instances(&ec2, 1, &[("Backup", "daily")]).await;
        db(&rds, "orders", &[("Backup", "daily")]).await;
        cluster(&rds, "ledger", &[("Backup", "daily")]).await;
    });
    let dir = applied(region);
    let (r, _) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let points = first_points(dir.path());
    assert_eq!(points.len(), 4, "{points:?}");
    let snap = of_type(&points, "EBS")["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ami = of_type(&points, "EC2")["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rds_snap = of_type(&points, "RDS")["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cluster_snap = of_type(&points, "Aurora")["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ami_snapshots: Vec<String> = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let out = ec2.describe_images().image_ids(&ami).send().await.unwrap();
        out.images()[0]
            .block_device_mappings()
            .iter()
            .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
            .collect()
    });
    assert!(!ami_snapshots.is_empty());

    // two days later every first point is past its date
    let (r, report) = tick(dir.path(), "2026-12-07T03:30:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(report["lifecycle"]["deletions_started"].as_u64().unwrap() >= 4);
    for p in first_points(dir.path()) {
        assert_eq!(p["status"], "DELETED", "{p}");
        assert_eq!(p["deleted_by"], "lifecycle", "{p}");
    }
    runtime().block_on(async {
        let conf = sdk(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        assert!(!snapshot_exists(&ec2, &snap).await, "EBS snapshot deleted");
        let images = ec2.describe_images().owners("self").send().await.unwrap();
        assert!(
            images
                .images()
                .iter()
                .all(|i| i.image_id() != Some(ami.as_str())),
            "AMI deregistered"
        );
        for s in &ami_snapshots {
            assert!(
                !snapshot_exists(&ec2, s).await,
                "the AMI's snapshot {s} deleted"
            );
        }
        let left = rds.describe_db_snapshots().send().await.unwrap();
        assert!(left
            .db_snapshots()
            .iter()
            .all(|s| s.db_snapshot_arn() != Some(rds_snap.as_str())));
        let left = rds.describe_db_cluster_snapshots().send().await.unwrap();
        assert!(left
            .db_cluster_snapshots()
            .iter()
            .all(|s| s.db_cluster_snapshot_arn() != Some(cluster_snap.as_str())));
    });
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "delete", "--json"]));
    let jobs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(jobs.iter().all(|j| j["state"] == "COMPLETED"), "{jobs:?}");
}

#[test]
fn a_snapshot_without_its_job_tag_is_never_deleted_and_one_deleted_outside_is_recorded() {
    let region = "eu-south-2";
    let (ours, gone) = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        (
            volume(&ec2, region, &[("Backup", "daily"), ("Name", "kept")]).await,
            volume(&ec2, region, &[("Backup", "daily"), ("Name", "gone")]).await,
        )
    });
    let dir = applied(region);
    tick(dir.path(), "2026-12-05T03:10:00Z");
    let points = first_points(dir.path());
    let native = |vol: &str| {
        points
            .iter()
            .find(|p| p["resource_arn"].as_str().unwrap().ends_with(vol))
            .unwrap()["native_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (untagged, deleted) = (native(&ours), native(&gone));
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        ec2.delete_tags()
            .resources(&untagged)
            .tags(aws_sdk_ec2::types::Tag::builder().key("coffer:job").build())
            .send()
            .await
            .unwrap();
        ec2.delete_snapshot()
            .snapshot_id(&deleted)
            .send()
            .await
            .unwrap();
    });
    let (r, _) = tick(dir.path(), "2026-12-07T03:30:00Z");
    assert_eq!(r.code, 1, "a failed delete job makes the tick exit 1");
    let points = first_points(dir.path());
    let by_native = |n: &str| points.iter().find(|p| p["native_id"] == n).unwrap().clone();
    let kept = by_native(&untagged);
    assert_eq!(kept["status"], "EXPIRED", "{kept}");
    assert!(
        kept["status_message"]
            .as_str()
            .unwrap()
            .contains("does not carry the tag coffer:job="),
        "{kept}"
    );
    let outside = by_native(&deleted);
    assert_eq!(outside["status"], "DELETED");
    assert_eq!(outside["deleted_by"], "outside");
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        assert!(snapshot_exists(&ec2, &untagged).await, "never deleted");
    });
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--status", "EXPIRED"]));
    assert!(r.stdout.contains(&untagged), "{}", r.stdout);
    assert!(r.stdout.contains("does not carry the tag"), "{}", r.stdout);
}

#[test]
fn a_crash_after_the_delete_request_is_recorded_as_the_jobs_own_deletion() {
    let region = "me-south-1";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "daily")]).await;
    });
    let dir = applied(region);
    tick(dir.path(), "2026-12-05T03:10:00Z");
    let snap = first_points(dir.path())[0]["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    let crashed = run(coffer_aws(dir.path())
        .args(["run", "--at", "2026-12-07T03:30:00Z"])
        .env("COFFER_FAILPOINT", "after-delete-request"));
    assert_ne!(crashed.code, 0);
    assert!(
        crashed
            .stderr
            .contains("fail point after-delete-request reached"),
        "{}",
        crashed.stderr
    );
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        assert!(
            !snapshot_exists(&ec2, &snap).await,
            "the request went through"
        );
    });
    assert_eq!(
        first_points(dir.path())[0]["status"],
        "COMPLETED",
        "not recorded yet"
    );
    let (r, _) = tick(dir.path(), "2026-12-07T03:40:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let p = &first_points(dir.path())[0];
    assert_eq!(p["status"], "DELETED");
    assert_eq!(
        p["deleted_by"], "lifecycle",
        "the job's own deletion, not outside"
    );
}

#[test]
fn four_hundred_nightly_ticks_keep_exactly_the_points_worked_out_by_hand() {
    let region = "af-south-1";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "daily")]).await;
    });
    let text = config(region).replace(
        "delete_after  = \"1d\"\n      keep_at_least = 0",
        "keep {\n        daily   = 7\n        weekly  = 4\n        monthly = 12\n      }",
    );
    assert!(text.contains("monthly = 12"));
    let dir = workspace(&text);
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let start = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    for i in 0..400 {
        let day = start + chrono::Duration::days(i);
        let (r, _) = tick(dir.path(), &format!("{day}T03:30:00Z"));
        assert_eq!(r.code, 0, "{day}: {}\n{}", r.stdout, r.stderr);
    }
    let r = run(coffer(dir.path()).args([
        "recovery-points",
        "list",
        "--status",
        "COMPLETED",
        "--json",
    ]));
    let kept: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let mut days: Vec<&str> = kept
        .iter()
        .map(|p| &p["created_at"].as_str().unwrap()[..10])
        .collect();
    days.sort();
    // the last 7 days; the newest point of each of the last 4 ISO weeks (Friday 4 February
    // 2028 is in week 5, so weeks 5, 4, 3 and 2 keep 4 Feb, 30, 23 and 16 January); the
    // newest of each of the last 12 months (February 2028 back to March 2027)
    assert_eq!(
        days,
        [
            "2027-03-31",
            "2027-04-30",
            "2027-05-31",
            "2027-06-30",
            "2027-07-31",
            "2027-08-31",
            "2027-09-30",
            "2027-10-31",
            "2027-11-30",
            "2027-12-31",
            "2028-01-16",
            "2028-01-23",
            "2028-01-29",
            "2028-01-30",
            "2028-01-31",
            "2028-02-01",
            "2028-02-02",
            "2028-02-03",
            "2028-02-04",
        ]
    );
    // every other point is deleted by retention, and its snapshot with it
    let r =
        run(coffer(dir.path()).args(["recovery-points", "list", "--status", "DELETED", "--json"]));
    let deleted: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(deleted.len(), 400 - 19);
    assert!(deleted.iter().all(|p| p["deleted_by"] == "retention"));
    let left = runtime().block_on(async {
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
            .unwrap();
        out.snapshots().len()
    });
    assert_eq!(left, 19);
}

#[test]
fn an_opted_in_ebs_snapshot_moves_to_the_archive_tier_and_an_ami_stays_warm() {
    let region = "ap-east-1";
    let _volume = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        instances(&ec2, 1, &[("Backup", "daily")]).await;
        volume(&ec2, region, &[("Backup", "daily")]).await
    });
    let text = config(region).replace(
        "delete_after  = \"1d\"\n      keep_at_least = 0",
        "cold_storage_after = \"1d\"\n      delete_after       = \"100d\"\n      opt_in_to_archive  = true",
    );
    assert!(text.contains("opt_in_to_archive"));
    let dir = workspace(&text);
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    tick(dir.path(), "2026-12-05T03:10:00Z");
    let points = first_points(dir.path());
    let ebs = of_type(&points, "EBS").clone();
    let ami = of_type(&points, "EC2").clone();
    assert!(ebs["cold_at"].as_str().unwrap().starts_with("2026-12-06"));
    assert_eq!(ami["cold_at"], Value::Null, "AMIs have no cold tier");

    let r = run(coffer_aws(dir.path()).args([
        "run",
        "--at",
        "2026-12-07T03:30:00Z",
        "--json",
        "--poll-interval",
        "1s",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["lifecycle"]["cold_started"], 1, "{report}");
    let points = first_points(dir.path());
    assert_eq!(of_type(&points, "EBS")["storage_class"], "COLD");
    assert_eq!(of_type(&points, "EC2")["storage_class"], "WARM");
    let snap = ebs["native_id"].as_str().unwrap().to_string();
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let out = ec2
            .describe_snapshots()
            .snapshot_ids(&snap)
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.snapshots()[0].storage_tier(),
            Some(&aws_sdk_ec2::types::StorageTier::Archive)
        );
    });
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "cold", "--json"]));
    let jobs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["state"], "COMPLETED");
    // a later tick archives the next night's point, not this one again
    let r = run(coffer_aws(dir.path()).args([
        "run",
        "--at",
        "2026-12-08T03:30:00Z",
        "--poll-interval",
        "1s",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "cold", "--json"]));
    let jobs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let of_first: Vec<&Value> = jobs
        .iter()
        .filter(|j| j["recovery_point_id"] == ebs["id"])
        .collect();
    assert_eq!(of_first.len(), 1, "{jobs:?}");
}

#[test]
fn an_ami_snapshot_that_another_image_uses_is_kept_and_the_job_says_so() {
    let region = "eu-central-2";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        instances(&ec2, 1, &[("Backup", "daily")]).await;
    });
    let dir = applied(region);
    tick(dir.path(), "2026-12-05T03:10:00Z");
    let ami = first_points(dir.path())[0]["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (shared, other) = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let out = ec2.describe_images().image_ids(&ami).send().await.unwrap();
        let snap = out.images()[0].block_device_mappings()[0]
            .ebs()
            .and_then(|e| e.snapshot_id())
            .unwrap()
            .to_string();
        // someone registers an image of their own on coffer's snapshot
        let other = ec2
            .register_image()
            .name("someone-elses-image")
            .root_device_name("/dev/xvda")
            .block_device_mappings(
                aws_sdk_ec2::types::BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        aws_sdk_ec2::types::EbsBlockDevice::builder()
                            .snapshot_id(&snap)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .image_id()
            .unwrap()
            .to_string();
        (snap, other)
    });
    let (r, report) = tick(dir.path(), "2026-12-07T03:30:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "delete")
        .unwrap()
        .clone();
    assert_eq!(job["state"], "COMPLETED");
    let warning = job["warning"].as_str().unwrap();
    assert!(
        warning.contains(&format!(
            "snapshot {shared} is kept: image {other} still uses it"
        )),
        "{warning}"
    );
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        assert!(
            snapshot_exists(&ec2, &shared).await,
            "kept for the other image"
        );
        let images = ec2.describe_images().owners("self").send().await.unwrap();
        assert!(images
            .images()
            .iter()
            .all(|i| i.image_id() != Some(ami.as_str())));
    });
}

#[test]
fn a_mounted_efs_file_systems_points_thin_out_and_the_pruned_repository_checks_and_restores() {
    let region = "ap-northeast-3";
    let id = runtime().block_on(async {
        let efs = aws_sdk_efs::Client::new(&sdk(region).await);
        crate::moto::file_system(&efs, "coffer-efs-lifecycle", &[("Backup", "daily")]).await
    });
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("mnt/shared");
    std::fs::create_dir_all(&mount).unwrap();
    let extra = format!(
        "efs_mount \"shared\" {{\n  file_system_id = \"{id}\"\n  mount_path     = \"{}\"\n}}\n",
        mount.display()
    );
    let text = config(region)
        .replace(
            "vault \"main\" {}",
            "vault \"main\" {\n  storage = \"file://./vaults/main\"\n}",
        )
        .replace(
            "delete_after  = \"1d\"\n      keep_at_least = 0",
            "keep {\n        last = 1\n      }",
        )
        + &extra;
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for day in 5..=7 {
        // each night's data replaces the night before's
        for e in std::fs::read_dir(&mount).unwrap() {
            std::fs::remove_file(e.unwrap().path()).unwrap();
        }
        let data: Vec<u8> = (0..(1 << 20) / 16)
            .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
            .collect();
        std::fs::write(mount.join(format!("night-{day}.bin")), data).unwrap();
        let (r, _) = tick(dir.path(), &format!("2026-12-{day:02}T03:10:00Z"));
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    }
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let kept: Vec<&Value> = points
        .iter()
        .filter(|p| p["status"] == "COMPLETED")
        .collect();
    assert_eq!(kept.len(), 1, "{points:?}");
    assert!(points
        .iter()
        .filter(|p| p["status"] == "DELETED")
        .all(|p| p["deleted_by"] == "retention"));
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "prune", "--json"]));
    let prunes: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        !prunes.is_empty() && prunes.iter().all(|j| j["state"] == "COMPLETED"),
        "{prunes:?}"
    );
    let out = crate::files::restic(dir.path(), &["check", "--read-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = dir.path().join("restored");
    let r = run(coffer_aws(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            kept[0]["id"].as_str().unwrap(),
            "--target",
        ])
        .arg(&target));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(target.join("night-7.bin").exists());
}

/// Issue 16: a snapshot deleted behind coffer's back is drift: `coffer plan` (and
/// `--drift-only`) list its point under Drift and `--detailed-exitcode` exits 2, where the
/// same plan before the deletion exits 0. Tagged `Drift = yes`, apart from this file's other
/// tests in the region.
#[test]
fn a_snapshot_deleted_out_of_band_is_drift_in_the_plan() {
    let region = "eu-south-1";
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Drift", "yes")]).await;
    });
    let dir = workspace(&config(region).replace(r#"Backup = ["daily"]"#, r#"Drift = ["yes"]"#));
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, _) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let points = first_points(dir.path());
    let point = of_type(&points, "EBS");
    let snap = point["native_id"].as_str().unwrap().to_string();
    let plan = |args: &[&str]| {
        run(coffer_aws(dir.path())
            .args(["plan", "-detailed-exitcode"])
            .args(args))
    };
    let before = plan(&[]);
    assert_eq!(before.code, 0, "{}\n{}", before.stdout, before.stderr);
    assert!(!before.stdout.contains("Drift"), "{}", before.stdout);

    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        ec2.delete_snapshot()
            .snapshot_id(&snap)
            .send()
            .await
            .unwrap();
    });
    let after = plan(&["--json"]);
    assert_eq!(after.code, 2, "{}", after.stderr);
    let json: Value = serde_json::from_str(&after.stdout).unwrap();
    let missing = json["drift"]["missing_points"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{json:#}");
    assert_eq!(missing[0]["native_id"], snap.as_str());
    assert_eq!(missing[0]["recovery_point_id"], point["id"]);
    crate::schemas::assert_valid("plan", &json);
    let text = plan(&["--drift-only"]);
    assert_eq!(text.code, 2, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("Drift: 1 thing changed behind coffer's back"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains(&snap), "{}", text.stdout);
    // without refreshing, AWS is not asked, and the plan says what it did not look at
    let offline = plan(&["--refresh=false"]);
    assert_eq!(offline.code, 0, "{}", offline.stdout);
    assert!(
        offline.stdout.contains(
            "drift not checked: whether the native object of 1 AWS recovery point still exists"
        ),
        "{}",
        offline.stdout
    );
}
