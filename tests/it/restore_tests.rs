//! Restore testing (file-level, with restic-format vaults; and EBS against moto): a run
//! restores each selected resource's latest point, validates it with the selection's command
//! (the environment names what was restored) or coffer's own checks, records SUCCESSFUL,
//! FAILED or TIMED_OUT once, deletes what it restored and records that; scheduled runs come
//! from the tick; `restore-test list` shows results and restore times.

use crate::jobs::coffer_aws;
use crate::moto::{cluster, db, instances, runtime, sdk, table, volume};
use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::path::Path;

fn config(validate: &str) -> String {
    format!(
        r#"
vault "main" {{
  storage = "file://./vaults/main"
}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
  }}
}}

selection "dirs" {{
  plan      = plan.daily
  resources = ["dir:*"]
}}

directory "docs" {{
  path = "./data/docs"
}}

restore_test "weekly" {{
  schedule     = "cron(0 4 ? * SUN *)"
  start_window = "2h"
  recovery_points {{
    algorithm        = "latest"
    vaults           = [vault.main]
    selection_window = "7d"
  }}
  selection "files" {{
    resource_type     = "directory"
    validation_window = "1h"
    {validate}
  }}
}}
"#
    )
}

/// A workspace with a backed-up directory; `now`: backed up now (for `restore-test start`),
/// else by the tick of 5 December 2026 (for the scheduled runs).
fn backed_up_at(validate: &str, now: bool) -> tempfile::TempDir {
    let dir = workspace(&config(validate));
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha").unwrap();
    std::fs::write(docs.join("b.txt"), "beta").unwrap();
    std::fs::write(
        dir.path().join("check.sh"),
        "#!/bin/sh\ntest -f \"$COFFER_RESTORED_PATH/a.txt\" && echo \"checked $COFFER_RESTORE_JOB_ID\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fail.sh"),
        "#!/bin/sh\necho broken >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("slow.sh"), "#!/bin/sh\nsleep 90\n").unwrap();
    for f in ["check.sh", "fail.sh", "slow.sh"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = if now {
        run(coffer(dir.path()).args([
            "backup",
            "start",
            "--resource",
            &format!("dir:{}", docs.display()),
            "--vault",
            "main",
        ]))
    } else {
        run(coffer(dir.path()).args(["run", "--at", "2026-12-05T03:10:00Z"]))
    };
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    dir
}

fn backed_up(validate: &str) -> tempfile::TempDir {
    backed_up_at(validate, true)
}

fn start(dir: &Path) -> (crate::support::Run, Vec<Value>) {
    let r = run(coffer(dir).args(["restore-test", "start", "weekly", "--json"]));
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    (r, v)
}

fn leftovers(job: &str) -> bool {
    std::env::temp_dir()
        .join(format!("coffer-restore-test-{job}"))
        .exists()
}

#[test]
fn a_passing_command_validates_a_restored_directory_which_is_then_deleted() {
    let dir =
        backed_up("validate {\n      command = [\"./check.sh\"]\n      timeout = \"1m\"\n    }");
    let (r, restores) = start(dir.path());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(restores.len(), 1, "{restores:#?}");
    let x = &restores[0];
    assert_eq!(x["state"], "COMPLETED", "{x:#}");
    assert_eq!(x["selection"], "files");
    assert_eq!(x["validation_status"], "SUCCESSFUL", "{x:#}");
    let job = x["job_id"].as_str().unwrap();
    assert_eq!(
        x["validation_message"],
        format!("checked {job}"),
        "the command saw the job"
    );
    assert_eq!(x["deletion_status"], "SUCCESSFUL");
    assert!(x["restore_time_seconds"].is_number());
    assert!(!leftovers(job), "what was restored is deleted");
    crate::schemas::assert_valid("restore-test-run", &Value::Array(restores.clone()));
    // recorded, and listed
    let r = run(coffer(dir.path()).args(["restore-test", "list", "--json"]));
    crate::schemas::assert_valid("restore-tests", &serde_json::from_str(&r.stdout).unwrap());
    let tests: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(tests[0]["test"], "weekly");
    assert_eq!(
        tests[0]["runs"][0]["restores"][0]["validation_status"],
        "SUCCESSFUL"
    );
}

#[test]
fn a_failing_command_and_a_slow_one_fail_and_time_out_and_the_copy_is_still_deleted() {
    let dir = backed_up("validate {\n      command = [\"./fail.sh\"]\n    }");
    let (r, restores) = start(dir.path());
    assert_eq!(r.code, 1, "a failed validation fails the command");
    let x = &restores[0];
    assert_eq!(x["validation_status"], "FAILED", "{x:#}");
    let why = x["validation_message"].as_str().unwrap();
    assert!(
        why.contains("exited with 3") && why.contains("broken"),
        "{why}"
    );
    assert_eq!(x["deletion_status"], "SUCCESSFUL");

    // a command that outlives its timeout (the shortest, a minute) is TIMED_OUT
    std::fs::write(
        dir.path().join("main.hcl"),
        config("validate {\n      command = [\"./slow.sh\"]\n      timeout = \"1m\"\n    }"),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, restores) = start(dir.path());
    assert_eq!(r.code, 1);
    assert_eq!(
        restores[0]["validation_status"], "TIMED_OUT",
        "{:#}",
        restores[0]
    );
    assert_eq!(restores[0]["deletion_status"], "SUCCESSFUL");
}

#[test]
fn coffers_own_checks_run_without_a_command_and_the_tick_runs_scheduled_tests() {
    let dir = backed_up_at("", false);
    // Sunday 6 December 2026, 04:00: the test's run comes due in the tick
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-06T04:30:00Z", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let x = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "restore")
        .unwrap_or_else(|| panic!("{report:#}"))
        .clone();
    assert_eq!(x["rule"], "restore_test.weekly.selection.files");
    assert_eq!(x["validation_status"], "SUCCESSFUL", "{x:#}");
    assert!(
        x["validation_message"]
            .as_str()
            .unwrap()
            .contains("2 files (9 bytes) restored and read back identical"),
        "{x:#}"
    );
    assert_eq!(x["deletion_status"], "SUCCESSFUL");
    // a second tick at the same time runs nothing again
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-06T04:30:00Z", "--json"]));
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        !report["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "restore"),
        "{report:#}"
    );
}

#[test]
fn an_ebs_restore_test_restores_checks_and_deletes_the_volume() {
    let region = "eu-central-2";
    let vol = runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        volume(&ec2, region, &[("Backup", "rt")]).await
    });
    let text = format!(
        r#"
provider "aws" {{
  region = "{region}"
}}

vault "main" {{}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
  }}
}}

selection "tagged" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["rt"] }}
}}

restore_test "volumes" {{
  schedule = "cron(0 4 ? * SUN *)"
  selection "ebs" {{
    resource_type = "EBS"
    overrides     = {{ volumeType = "gp3" }}
  }}
}}
"#
    );
    let dir = workspace(&text);
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let arn = format!("arn:aws:ec2:{region}:123456789012:volume/{vol}");
    let r = run(coffer_aws(dir.path()).args([
        "backup",
        "start",
        "--resource",
        &arn,
        "--vault",
        "main",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(coffer_aws(dir.path()).args(["restore-test", "start", "volumes", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let restores: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(restores.len(), 1, "{restores:#?}");
    let x = &restores[0];
    assert_eq!(x["validation_status"], "SUCCESSFUL", "{x:#}");
    assert!(
        x["validation_message"]
            .as_str()
            .unwrap()
            .contains("with 1 GiB"),
        "{x:#}"
    );
    assert_eq!(x["deletion_status"], "SUCCESSFUL");
    let volume = x["created_resource_arn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&sdk(region).await);
        let left = ec2.describe_volumes().volume_ids(&volume).send().await;
        assert!(
            left.map(|o| o.volumes().is_empty()).unwrap_or(true),
            "the volume is deleted"
        );
    });
    // restored test resources are never protected
    let r = run(coffer_aws(dir.path()).args(["inventory", "--json"]));
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(rows
        .iter()
        .filter(|r| r["tags"]["coffer:restore-test"].is_string())
        .all(|r| r["protected_by"].as_array().is_none_or(|p| p.is_empty())));
}

#[test]
fn a_restore_test_that_crashed_before_validating_is_validated_and_cleaned_up_by_the_next_tick() {
    let dir = backed_up("");
    let crashed = run(coffer(dir.path())
        .args(["restore-test", "start", "weekly"])
        .env("COFFER_FAILPOINT", "restore-test-before-validation"));
    assert_ne!(crashed.code, 0);
    let r = run(coffer(dir.path()).args(["restore-test", "list", "--json"]));
    let tests: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let x = &tests[0]["runs"][0]["restores"][0];
    assert_eq!(x["state"], "COMPLETED");
    assert_eq!(x["validation_status"], Value::Null, "not validated yet");
    let job = x["job_id"].as_str().unwrap().to_string();
    assert!(leftovers(&job), "the restored copy is still there");
    // the next tick validates it (its window is open) and deletes it
    let r = run(coffer(dir.path()).args(["run", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer(dir.path()).args(["restore-test", "list", "--json"]));
    let tests: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let x = &tests[0]["runs"][0]["restores"][0];
    assert_eq!(x["validation_status"], "SUCCESSFUL", "{x:#}");
    assert_eq!(x["deletion_status"], "SUCCESSFUL");
    assert!(!leftovers(&job));
}

#[test]
fn coffers_own_checks_find_restored_instances_databases_clusters_and_tables_usable() {
    // eu-central-2 is this file's region; these resources carry a tag the EBS test's selection
    // does not match
    let region = "eu-central-2";
    runtime().block_on(async {
        let conf = sdk(region).await;
        let tags = [("Backup", "rt-types")];
        instances(&aws_sdk_ec2::Client::new(&conf), 1, &tags).await;
        let rds = aws_sdk_rds::Client::new(&conf);
        db(&rds, "rt-orders", &tags).await;
        cluster(&rds, "rt-ledger", &tags).await;
        let ddb = aws_sdk_dynamodb::Client::new(&conf);
        table(&ddb, "rt-items", &tags).await;
        for id in ["a", "b", "c"] {
            ddb.put_item()
                .table_name("rt-items")
                .item("id", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
                .send()
                .await
                .expect("PutItem");
        }
    });
    let text = format!(
        r#"
provider "aws" {{
  region = "{region}"
}}

vault "main" {{}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
  }}
}}

selection "tagged" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["rt-types"] }}
}}

restore_test "every_type" {{
  schedule = "cron(0 4 ? * SUN *)"
  selection "instances" {{
    resource_type = "EC2"
  }}
  selection "databases" {{
    resource_type = "RDS"
  }}
  selection "clusters" {{
    resource_type = "Aurora"
    # the source cluster has no instance to take a class from
    overrides     = {{ dbInstanceClass = "db.r6g.large" }}
  }}
  selection "tables" {{
    resource_type = "DynamoDB"
  }}
}}
"#
    );
    let dir = workspace(&text);
    let r = run(coffer_aws(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // backed up now, so that the points are inside the test's selection window
    let r = run(coffer_aws(dir.path()).args(["inventory", "--json"]));
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let ours: Vec<&str> = rows
        .iter()
        .filter(|r| r["tags"]["Backup"] == "rt-types")
        .map(|r| r["arn"].as_str().unwrap())
        .collect();
    assert_eq!(ours.len(), 4, "{rows:#?}");
    for arn in ours {
        let r = run(coffer_aws(dir.path()).args([
            "backup",
            "start",
            "--resource",
            arn,
            "--vault",
            "main",
        ]));
        assert_eq!(r.code, 0, "{arn}: {}", r.stderr);
    }
    let r = run(coffer_aws(dir.path()).args(["restore-test", "start", "every_type", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let restores: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let selection = |t: &str| match t {
        "EC2" => "instances",
        "RDS" => "databases",
        "Aurora" => "clusters",
        _ => "tables",
    };
    let by_type = |t: &str| {
        restores
            .iter()
            .find(|x| x["selection"].as_str().unwrap().ends_with(selection(t)))
            .unwrap_or_else(|| panic!("no {t} restore in {restores:#?}"))
    };
    for (t, says) in [
        ("EC2", "is running"),
        ("RDS", "is available"),
        ("Aurora", "is available"),
        ("DynamoDB", "is ACTIVE with 3 items"),
    ] {
        let x = by_type(t);
        assert_eq!(x["validation_status"], "SUCCESSFUL", "{x:#}");
        let message = x["validation_message"].as_str().unwrap();
        assert!(message.contains(says), "{t}: {message}");
        assert_eq!(x["deletion_status"], "SUCCESSFUL", "{x:#}");
    }
    assert_eq!(restores.len(), 4, "{restores:#?}");
    let name = |t: &str| {
        by_type(t)["created_resource_arn"]
            .as_str()
            .unwrap()
            .rsplit(['/', ':'])
            .next()
            .unwrap()
            .to_string()
    };
    let (instance, database, cluster, table) =
        (name("EC2"), name("RDS"), name("Aurora"), name("DynamoDB"));
    runtime().block_on(async {
        let conf = sdk(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let out = ec2
            .describe_instances()
            .instance_ids(&instance)
            .send()
            .await
            .unwrap();
        let state = out.reservations()[0].instances()[0]
            .state()
            .and_then(|s| s.name())
            .map(|s| s.as_str().to_string());
        assert!(
            matches!(state.as_deref(), Some("shutting-down" | "terminated")),
            "{state:?}"
        );
        let rds = aws_sdk_rds::Client::new(&conf);
        let left = rds
            .describe_db_instances()
            .db_instance_identifier(&database)
            .send()
            .await;
        assert!(left.map(|o| o.db_instances().is_empty()).unwrap_or(true));
        let left = rds
            .describe_db_clusters()
            .db_cluster_identifier(&cluster)
            .send()
            .await;
        assert!(left.map(|o| o.db_clusters().is_empty()).unwrap_or(true));
        let ddb = aws_sdk_dynamodb::Client::new(&conf);
        let left = ddb.describe_table().table_name(&table).send().await;
        assert!(left.is_err(), "the table is deleted");
    });
}
