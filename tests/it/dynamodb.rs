//! DynamoDB tables as a protected type, against a real moto server: discovered with their tags,
//! backed up by CreateBackup under a name that carries the job (DynamoDB backups take no
//! tags), not copied (the plan says why), deleted by DeleteBackup at their date, and restored
//! into a new table by RestoreTableFromBackup.

use crate::jobs::{coffer_aws, tick};
use crate::moto::{runtime, sdk, table};
use crate::support::{run, workspace};
use serde_json::Value;

const REGION: &str = "ap-southeast-7";

fn config() -> String {
    format!(
        r#"
provider "aws" {{
  region = "{REGION}"
}}

vault "main" {{}}

vault "dr" {{}}

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
    copy_to {{
      vault = vault.dr
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

#[test]
fn a_dynamodb_table_is_discovered_backed_up_restored_and_its_backups_expire() {
    runtime().block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&sdk(REGION).await);
        table(&ddb, "orders", &[("Backup", "daily")]).await;
        table(&ddb, "scratch", &[]).await;
    });
    let dir = workspace(&config());
    let r = run(coffer_aws(dir.path()).args(["inventory", "--type", "DynamoDB", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let arn = format!("arn:aws:dynamodb:{REGION}:123456789012:table/orders");
    assert!(rows.iter().any(|t| t["arn"] == arn.as_str()), "{rows:#?}");

    let r = run(coffer_aws(dir.path()).arg("plan"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("are not copied: DynamoDB has no native copy of a backup"),
        "{}",
        r.stdout
    );
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    let (r, report) = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "one backup, no copy job: {report:#}");
    assert_eq!(jobs[0]["state"], "COMPLETED", "{report:#}");
    let r = run(coffer_aws(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let point = points[0]["id"].as_str().unwrap().to_string();
    let backup = points[0]["native_id"].as_str().unwrap().to_string();
    assert_eq!(points[0]["resource_type"], "DynamoDB");
    runtime().block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&sdk(REGION).await);
        let b = ddb
            .describe_backup()
            .backup_arn(&backup)
            .send()
            .await
            .unwrap();
        let name = b
            .backup_description()
            .and_then(|d| d.backup_details())
            .map(|d| d.backup_name().to_string())
            .unwrap();
        assert_eq!(name, format!("coffer-{}", jobs[0]["id"].as_str().unwrap()));
    });

    // a restore into a new table
    let r = run(coffer_aws(dir.path()).args([
        "restore",
        "start",
        "--recovery-point",
        &point,
        "--set",
        "targetTableName=orders-restored",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    assert!(job["created_resource_arn"]
        .as_str()
        .unwrap()
        .ends_with(":table/orders-restored"));

    // a restore killed after its request is finished by the next tick, the table adopted
    let crashed = run(coffer_aws(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &point,
            "--set",
            "targetTableName=orders-again",
        ])
        .env("COFFER_FAILPOINT", "after-restore-request"));
    assert_ne!(crashed.code, 0);
    let (r, report) = tick(dir.path(), "2026-12-05T04:00:00Z");
    assert_eq!(
        r.code, 0,
        "{}
{}",
        r.stdout, r.stderr
    );
    let resumed = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "restore")
        .unwrap_or_else(|| panic!("{report:#}"))
        .clone();
    assert_eq!(resumed["state"], "COMPLETED", "{resumed:#}");
    assert!(resumed["created_resource_arn"]
        .as_str()
        .unwrap()
        .ends_with(":table/orders-again"));

    // two days later the backup is past its date and deleted with DeleteBackup
    let (r, _) = tick(dir.path(), "2026-12-07T02:30:00Z");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer_aws(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let first = points.iter().find(|p| p["id"] == point.as_str()).unwrap();
    assert_eq!(first["status"], "DELETED", "{first:#}");
    assert_eq!(first["deleted_by"], "lifecycle");
    runtime().block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&sdk(REGION).await);
        assert!(ddb
            .describe_backup()
            .backup_arn(&backup)
            .send()
            .await
            .is_err());
    });
}
