//! Copies against a real moto server: every AWS type's points are copied into a vault in
//! another region through their own calls (CopySnapshot, CopyImage, CopyDBSnapshot,
//! CopyDBClusterSnapshot in the destination region), become points of that vault with their
//! own lifecycle, and are deleted there at their date; an encrypted RDS snapshot is not
//! copied to a region where the vault names no key; a copy requested but not recorded is
//! adopted, not made twice; a copy not done in its window fails and its half is deleted.
//!
//! The regions are not us-east-1 and us-west-2, which the shared moto's discovery tests count
//! exactly; each test uses its own pair, used by no other test.

use crate::jobs::{coffer_aws, tick};
use crate::moto::{cluster, db, ec2_tag as tag, instances, runtime, sdk, volume};
use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::path::Path;

/// Everything tagged `Backup = daily` in `source` backed up into `main` there, and copied into
/// `dr` in `dest` (kept 30 days there; 7 days in `main`).
fn config(source: &str, dest: &str, copy_extra: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "{source}"
}}

vault "main" {{}}

vault "dr" {{
  region = "{dest}"
}}

plan "daily" {{
  rule "nightly" {{
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
    lifecycle {{
      delete_after  = "7d"
      keep_at_least = 0
    }}
    copy_to {{
      vault = vault.dr
      {copy_extra}
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
"#
    )
}

fn applied(text: &str) -> tempfile::TempDir {
    let dir = workspace(text);
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    dir
}

fn points(dir: &Path, vault: &str) -> Vec<Value> {
    let r = run(coffer(dir).args(["recovery-points", "list", "--vault", vault, "--json"]));
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn jobs_of(report: &Value, kind: &str) -> Vec<Value> {
    report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn every_aws_type_is_copied_into_a_vault_in_another_region_and_deleted_there_at_its_date() {
    let (source, dest) = ("ap-southeast-2", "eu-west-2");
    runtime().block_on(async {
        let conf = sdk(source).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        volume(&ec2, source, &[("Backup", "daily")]).await;
        instances(&ec2, 1, &[("Backup", "daily")]).await;
        db(&rds, "orders", &[("Backup", "daily")]).await;
        cluster(&rds, "ledger", &[("Backup", "daily")]).await;
    });
    let dir = applied(&config(source, dest, ""));
    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let copies = jobs_of(&report, "copy");
    assert_eq!(copies.len(), 4, "{report:#}");
    for c in &copies {
        assert_eq!(c["state"], "COMPLETED", "{c:#}");
        assert_eq!(c["vault"], "dr");
        assert!(c["source_recovery_point_id"].is_string());
    }
    let main = points(dir.path(), "main");
    let dr = points(dir.path(), "dr");
    assert_eq!((main.len(), dr.len()), (4, 4), "{dr:#?}");
    for copy in &dr {
        let source_point = main
            .iter()
            .find(|p| p["id"] == copy["source_recovery_point_id"])
            .expect("a copy names its source in main");
        assert_eq!(copy["created_at"], source_point["created_at"]);
        assert_eq!(copy["resource_arn"], source_point["resource_arn"]);
        assert_ne!(copy["native_id"], source_point["native_id"]);
        let created =
            chrono::DateTime::parse_from_rfc3339(copy["created_at"].as_str().unwrap()).unwrap();
        let delete =
            chrono::DateTime::parse_from_rfc3339(copy["delete_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            delete - created,
            chrono::Duration::days(30),
            "the copy's own lifecycle"
        );
        assert_eq!(copy["tags"]["coffer:vault"], "dr");
    }
    let native = |t: &str| -> String {
        dr.iter()
            .find(|p| p["resource_type"] == t)
            .unwrap_or_else(|| panic!("no {t} copy"))["native_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (snap, ami, db_snap, cluster_snap) = (
        native("EBS"),
        native("EC2"),
        native("RDS"),
        native("Aurora"),
    );
    // each copy is in the destination region, carrying the copy job's tag
    runtime().block_on(async {
        let conf = sdk(dest).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        let s = ec2
            .describe_snapshots()
            .snapshot_ids(&snap)
            .send()
            .await
            .unwrap();
        let s = &s.snapshots()[0];
        assert_eq!(tag(s.tags(), "coffer:vault"), Some("dr"));
        let job = tag(s.tags(), "coffer:job").unwrap();
        assert!(copies.iter().any(|c| c["id"] == job), "the copy job's id");
        let i = ec2.describe_images().image_ids(&ami).send().await.unwrap();
        assert_eq!(tag(i.images()[0].tags(), "coffer:vault"), Some("dr"));
        assert!(db_snap.contains(&format!(":rds:{dest}:")), "{db_snap}");
        let d = rds
            .describe_db_snapshots()
            .db_snapshot_identifier(db_snap.rsplit(':').next().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(d.db_snapshots().len(), 1);
        assert!(
            cluster_snap.contains(&format!(":rds:{dest}:")),
            "{cluster_snap}"
        );
    });

    // a week later the sources in main are deleted, the copies in dr are kept
    let (r, _) = tick(dir.path(), "2026-12-13T02:00:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let live = |points: Vec<Value>| points.iter().filter(|p| p["status"] == "COMPLETED").count();
    assert_eq!(live(points(dir.path(), "main")), 0);
    assert_eq!(live(points(dir.path(), "dr")), 4);
    // and a month after their creation the copies are deleted in the destination region
    let (r, _) = tick(dir.path(), "2027-01-05T02:00:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let dr = points(dir.path(), "dr");
    assert!(dr.iter().all(|p| p["status"] == "DELETED"), "{dr:#?}");
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(dest).await);
        let gone = ec2.describe_snapshots().snapshot_ids(&snap).send().await;
        assert!(gone.map(|o| o.snapshots().is_empty()).unwrap_or(true));
    });
}

#[test]
fn an_encrypted_rds_snapshot_is_not_copied_into_a_region_where_the_vault_has_no_key() {
    let (source, dest) = ("ap-southeast-3", "me-central-1");
    runtime().block_on(async {
        let conf = sdk(source).await;
        let key = aws_sdk_kms::Client::new(&conf)
            .create_key()
            .send()
            .await
            .expect("CreateKey");
        let key = key.key_metadata().unwrap().arn().unwrap().to_string();
        let rds = aws_sdk_rds::Client::new(&conf);
        rds.create_db_instance()
            .kms_key_id(key)
            .db_instance_identifier("secret")
            .db_instance_class("db.t3.micro")
            .engine("postgres")
            .master_username("admin")
            .master_user_password("password-password")
            .allocated_storage(20)
            .storage_encrypted(true)
            .tags(
                aws_sdk_rds::types::Tag::builder()
                    .key("Backup")
                    .value("daily")
                    .build(),
            )
            .send()
            .await
            .expect("CreateDBInstance");
    });
    let dir = applied(&config(source, dest, ""));
    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 1, "a failed copy fails the tick\n{}", r.stderr);
    let copies = jobs_of(&report, "copy");
    assert_eq!(copies.len(), 1, "{report:#}");
    assert_eq!(copies[0]["state"], "FAILED");
    let error = copies[0]["error"].as_str().unwrap();
    assert!(error.contains("is encrypted"), "{error}");
    assert!(
        error.contains("set `kms_key_arn` on vault `dr` to a key in me-central-1"),
        "{error}"
    );
    assert!(points(dir.path(), "dr").is_empty());

    // with a key of the destination region on the vault, the copy is encrypted with it
    let dest_key = runtime().block_on(async {
        let kms = aws_sdk_kms::Client::new(&sdk(dest).await);
        let key = kms.create_key().send().await.expect("CreateKey");
        key.key_metadata().unwrap().arn().unwrap().to_string()
    });
    let keyed = config(source, dest, "").replace(
        &format!("region = \"{dest}\""),
        &format!("region      = \"{dest}\"\n  kms_key_arn = \"{dest_key}\""),
    );
    std::fs::write(dir.path().join("main.hcl"), keyed).unwrap();
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let source_point = points(dir.path(), "main")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = run(coffer_aws(dir.path()).args([
        "copy",
        "start",
        "--recovery-point",
        &source_point,
        "--vault",
        "dr",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let copy = &points(dir.path(), "dr")[0];
    // without --delete-after, the copy is deleted when its source is
    assert_eq!(
        copy["delete_at"],
        points(dir.path(), "main")[0]["delete_at"]
    );
    assert_eq!(copy["encrypted"], true);
    assert_eq!(copy["kms_key"], dest_key.as_str(), "{copy:#}");
}

#[test]
fn a_copy_requested_but_not_recorded_is_adopted_and_not_made_twice() {
    let (source, dest) = ("ap-south-2", "ca-west-1");
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(source).await);
        volume(&ec2, source, &[("Backup", "daily")]).await;
    });
    let dir = applied(&config(source, dest, ""));
    let crashed = run(coffer_aws(dir.path())
        .args(["run", "--at", "2026-12-05T03:10:00Z"])
        .env("COFFER_FAILPOINT", "after-copy-request"));
    assert_ne!(crashed.code, 0);
    assert!(
        crashed
            .stderr
            .contains("fail point after-copy-request reached"),
        "{}",
        crashed.stderr
    );
    let copies_in_dest = || -> Vec<String> {
        runtime().block_on(async {
            let ec2 = aws_sdk_ec2::Client::new(&sdk(dest).await);
            let out = ec2
                .describe_snapshots()
                .owner_ids("self")
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("tag:coffer:vault")
                        .values("dr")
                        .build(),
                )
                .send()
                .await
                .unwrap();
            out.snapshots()
                .iter()
                .filter_map(|s| s.snapshot_id().map(str::to_string))
                .collect()
        })
    };
    let requested = copies_in_dest();
    assert_eq!(requested.len(), 1, "the request went through");
    assert!(points(dir.path(), "dr").is_empty(), "not recorded yet");
    let (r, report) = tick(dir.path(), "2026-12-05T03:20:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let copies = jobs_of(&report, "copy");
    assert_eq!(copies.len(), 1, "{report:#}");
    assert_eq!(copies[0]["state"], "COMPLETED");
    assert_eq!(copies_in_dest(), requested, "adopted, not made again");
    let dr = points(dir.path(), "dr");
    assert_eq!(dr.len(), 1);
    assert_eq!(dr[0]["native_id"], requested[0].as_str());
}

#[test]
fn a_copy_not_started_in_its_window_fails_and_coffer_copy_start_copies_on_demand() {
    let (source, dest) = ("ap-southeast-4", "il-central-1");
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(source).await);
        volume(&ec2, source, &[("Backup", "daily")]).await;
    });
    let dir = applied(&config(source, dest, "window = \"1h\""));
    // the backup completes and creates its copy, and coffer dies before the copy runs; the
    // next tick comes after the copy's window closed
    let crashed = run(coffer_aws(dir.path())
        .args(["run", "--at", "2026-12-05T03:10:00Z"])
        .env("COFFER_FAILPOINT", "before-copies"));
    assert_ne!(crashed.code, 0, "{}", crashed.stderr);
    let (r, report) = tick(dir.path(), "2026-12-05T06:00:00Z");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let copies = jobs_of(&report, "copy");
    assert_eq!(copies.len(), 1, "{report:#}");
    assert_eq!(copies[0]["state"], "FAILED");
    let error = copies[0]["error"].as_str().unwrap();
    assert!(
        error.contains("not started within its copy window"),
        "{error}"
    );

    // copied by hand instead, with its own retention
    let source_point = points(dir.path(), "main")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = run(coffer_aws(dir.path()).args([
        "copy",
        "start",
        "--recovery-point",
        &source_point,
        "--vault",
        "dr",
        "--delete-after",
        "90d",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(job["kind"], "copy");
    assert_eq!(job["state"], "COMPLETED");
    assert_eq!(job["rule"], Value::Null);
    assert_eq!(job["source_recovery_point_id"], source_point.as_str());
    let dr = points(dir.path(), "dr");
    assert_eq!(dr.len(), 1);
    assert_eq!(dr[0]["id"], job["recovery_point_id"]);
    assert_eq!(dr[0]["tags"]["coffer:rule"], "on-demand");
    // what is wrong is named
    let r = run(coffer_aws(dir.path()).args([
        "copy",
        "start",
        "--recovery-point",
        &source_point,
        "--vault",
        "main",
    ]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("is already in vault `main`: copy it into another vault"),
        "{}",
        r.stderr
    );
    let r = run(coffer_aws(dir.path()).args([
        "copy",
        "start",
        "--recovery-point",
        "rp-nope",
        "--vault",
        "dr",
    ]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no recovery point rp-nope"),
        "{}",
        r.stderr
    );
}

const OTHER_ACCOUNT: &str = "222233334444";

/// SDK configuration for `region` in the other account, through AssumeRole as coffer does.
async fn other_account(region: &str) -> aws_config::SdkConfig {
    let base = sdk(region).await;
    let creds = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{OTHER_ACCOUNT}:role/coffer-copies"))
        .role_session_name("tests")
        .send()
        .await
        .expect("AssumeRole")
        .credentials()
        .cloned()
        .unwrap();
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_sdk_ec2::config::Credentials::new(
                    creds.access_key_id(),
                    creds.secret_access_key(),
                    Some(creds.session_token().to_string()),
                    None,
                    "assumed",
                ),
            ),
        )
        .build()
}

#[test]
fn points_are_copied_into_another_account_through_assume_role_and_unshared_afterwards() {
    let (source, dest) = ("ap-northeast-2", "us-west-1");
    let vol = runtime().block_on(async {
        let conf = sdk(source).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        instances(&ec2, 1, &[("Backup", "daily")]).await;
        db(&rds, "orders", &[("Backup", "daily")]).await;
        cluster(&rds, "ledger", &[("Backup", "daily")]).await;
        volume(&ec2, source, &[("Backup", "daily")]).await
    });
    let text = config(source, dest, "").replace(
        "vault \"dr\" {\n",
        "vault \"dr\" {\n  provider = aws.backup\n",
    ) + &format!(
        r#"
provider "aws" {{
  alias  = "backup"
  region = "{dest}"
  assume_role {{
    role_arn     = "arn:aws:iam::{OTHER_ACCOUNT}:role/coffer-copies"
    session_name = "coffer-tests"
  }}
}}
"#
    );
    let dir = applied(&text);
    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let copies = jobs_of(&report, "copy");
    assert_eq!(copies.len(), 4, "{report:#}");
    for c in &copies {
        assert_eq!(c["state"], "COMPLETED", "{c:#}");
    }
    let dr = points(dir.path(), "dr");
    let native = |t: &str| -> String {
        dr.iter().find(|p| p["resource_type"] == t).unwrap()["native_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let main = points(dir.path(), "main");
    let source_snap = main
        .iter()
        .find(|p| p["resource_arn"].as_str().unwrap().ends_with(&vol))
        .unwrap()["native_id"]
        .as_str()
        .unwrap()
        .to_string();
    runtime().block_on(async {
        // the copies are the other account's, in the destination region
        let conf = other_account(dest).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let snap = ec2
            .describe_snapshots()
            .owner_ids("self")
            .snapshot_ids(native("EBS"))
            .send()
            .await
            .expect("the copy is in the other account");
        assert_eq!(snap.snapshots()[0].owner_id(), Some(OTHER_ACCOUNT));
        let images = ec2
            .describe_images()
            .image_ids(native("EC2"))
            .send()
            .await
            .unwrap();
        assert_eq!(images.images().len(), 1);
        for t in ["RDS", "Aurora"] {
            assert!(
                native(t).contains(&format!(":{dest}:{OTHER_ACCOUNT}:")),
                "{}",
                native(t)
            );
        }
        // and the source is no longer shared
        let ec2 = aws_sdk_ec2::Client::new(&sdk(source).await);
        let attr = ec2
            .describe_snapshot_attribute()
            .snapshot_id(&source_snap)
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .unwrap();
        assert!(attr.create_volume_permissions().is_empty(), "{attr:?}");
    });
    // a copy of a point encrypted with an AWS managed key cannot be shared
    let key = runtime().block_on(async {
        let kms = aws_sdk_kms::Client::new(&sdk(source).await);
        kms.describe_key()
            .key_id("alias/aws/ebs")
            .send()
            .await
            .expect("moto's AWS managed key")
            .key_metadata()
            .unwrap()
            .arn()
            .unwrap()
            .to_string()
    });
    let encrypted = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(source).await);
        let out = ec2
            .create_volume()
            .availability_zone(format!("{source}a"))
            .size(1)
            .encrypted(true)
            .kms_key_id(&key)
            .send()
            .await
            .unwrap();
        out.volume_id().unwrap().to_string()
    });
    let arn = format!("arn:aws:ec2:{source}:123456789012:volume/{encrypted}");
    let r = run(coffer_aws(dir.path()).args([
        "backup",
        "start",
        "--resource",
        &arn,
        "--vault",
        "main",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    let r = run(coffer_aws(dir.path()).args([
        "copy",
        "start",
        "--recovery-point",
        job["recovery_point_id"].as_str().unwrap(),
        "--vault",
        "dr",
        "--json",
    ]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("is encrypted with the AWS managed key")
            && error.contains("cannot be shared"),
        "{error}"
    );
    // and once the rule covers it, the plan warns at the copy_to block
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(source).await);
        ec2.create_tags()
            .resources(&encrypted)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("Backup")
                    .value("daily")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let r = run(coffer_aws(dir.path()).arg("plan"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("coffer::unshareable_key"), "{}", r.stderr);
    for part in [
        "rule `nightly` cannot copy 1 resource",
        "AWS managed",
        "copies into another account",
    ] {
        assert!(r.stderr.contains(part), "{part}: {}", r.stderr);
    }
}
