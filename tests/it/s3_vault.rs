//! Vault repositories in S3 (against a real moto server): apply creates the bucket and
//! initialises the repository, a tick backs a directory up into it, restore reads it back,
//! `restic` itself reads it through its own S3 backend, and `force_destroy` deletes it.

use crate::moto::{aws_env, moto, runtime, sdk};
use crate::support::{coffer, run, workspace, VAULT_PASSWORD};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const BUCKET: &str = "coffer-s3-vault-test";

fn config(force_destroy: bool) -> String {
    format!(
        r#"
vault "main" {{
  storage       = "s3://{BUCKET}/teams/docs"
  force_destroy = {force_destroy}
}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle {{
      delete_after = "35d"
    }}
  }}
}}

selection "dirs" {{
  plan      = plan.daily
  resources = ["dir:*"]
}}

directory "docs" {{
  path = "./data/docs"
}}
"#
    )
}

fn coffer_s3(dir: &Path) -> Command {
    let mut c = coffer(dir);
    aws_env(&mut c);
    c
}

/// An S3 client of the test process itself, path-style against moto.
async fn s3() -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk("us-east-1").await)
            .force_path_style(true)
            .build(),
    )
}

/// Keys in the test bucket under `prefix`.
fn keys(prefix: &str) -> Vec<String> {
    runtime().block_on(async {
        let s3 = s3().await;
        let out = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect()
    })
}

/// `restic` on the S3 repository, through moto.
fn restic(args: &[&str], cache: &Path) -> std::process::Output {
    let repo = format!("s3:{}/{BUCKET}/teams/docs", moto().endpoint);
    Command::new("restic")
        .args(["-r", &repo])
        .args(args)
        .env("RESTIC_PASSWORD", VAULT_PASSWORD)
        .env("RESTIC_CACHE_DIR", cache)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("restic runs (apt-get install restic)")
}

#[test]
fn an_s3_vault_holds_backups_that_restore_restic_reads_and_force_destroy_deletes() {
    let dir = workspace(&config(false));
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    for i in 0..30 {
        let body: Vec<u8> = (0..4000 + i * 37).map(|b| (b * 7 + i) as u8).collect();
        std::fs::write(docs.join("sub").join(format!("f{i}")), body).unwrap();
    }
    std::fs::write(docs.join("empty"), "").unwrap();

    // apply creates the bucket and a repository in restic's layout under the prefix
    let r = run(coffer_s3(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let stored = keys("teams/docs/");
    assert!(
        stored.contains(&"teams/docs/config".to_string()),
        "{stored:?}"
    );
    assert!(stored.iter().any(|k| k.starts_with("teams/docs/keys/")));

    let r = run(coffer_s3(dir.path()).args(["run", "--at", "2026-12-05T03:10:00Z", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let job = &report["jobs"][0];
    assert_eq!(job["state"], "COMPLETED", "{report:#}");
    let snapshot = job["native_ids"][0].as_str().unwrap().to_string();
    let stored = keys("teams/docs/");
    assert!(
        stored.iter().any(|k| k.starts_with("teams/docs/data/")
            && k.split('/').nth(3).is_some_and(|d| d.len() == 2)),
        "packs under data/XX/: {stored:?}"
    );
    assert!(stored.contains(&format!("teams/docs/snapshots/{snapshot}")));

    // coffer restores it byte for byte
    let rp = job["recovery_point_id"].as_str().unwrap();
    let target = dir.path().join("restored");
    let r = run(coffer_s3(dir.path())
        .args(["restore", "start", "--recovery-point", rp, "--target"])
        .arg(&target));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(crate::files::tree(&target), crate::files::tree(&docs));

    // restic reads the same repository through its own S3 backend
    let cache = dir.path().join("restic-cache");
    let out = restic(&["snapshots", "--json"], &cache);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snaps[0]["id"], snapshot.as_str());
    let out = restic(&["check", "--read-data"], &cache);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // vault check works on S3 too
    let r =
        run(coffer_s3(dir.path()).args(["vault", "check", "main", "--read-data-subset", "all"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // force_destroy deletes the repository's objects, and only those
    runtime().block_on(async {
        let s3 = s3().await;
        s3.put_object()
            .bucket(BUCKET)
            .key("teams/docs-notes.txt")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(
                b"not coffer's",
            ))
            .send()
            .await
            .unwrap();
    });
    std::fs::write(dir.path().join("main.hcl"), config(true)).unwrap();
    let r = run(coffer_s3(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(coffer_s3(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "force_destroy deletes the repository at s3://{BUCKET}/teams/docs"
        )),
        "{}",
        r.stdout
    );
    assert_eq!(keys("teams/docs/"), Vec::<String>::new());
    assert_eq!(keys("teams/"), vec!["teams/docs-notes.txt".to_string()]);
}

#[test]
fn a_cold_repository_in_s3_gets_data_packs_in_its_storage_class_and_restores() {
    moto();
    let dir = workspace(
        &config(false)
            // its own bucket: the other S3 test looks at everything in its bucket
            .replace(&format!("{BUCKET}/teams/docs"), "coffer-s3-cold-warm/docs")
            .replace(
                "  force_destroy = false\n}",
                "  force_destroy = false\n  cold_storage {\n    storage       = \"s3://coffer-s3-cold-test/cold\"\n    storage_class = \"GLACIER_IR\"\n  }\n}",
            )
            .replace(
                "delete_after = \"35d\"",
                "cold_storage_after = \"1d\"\n      delete_after = \"100d\"",
            ),
    );
    std::fs::create_dir_all(dir.path().join("data/docs")).unwrap();
    std::fs::write(dir.path().join("data/docs/a.txt"), "cold data").unwrap();
    let r = run(coffer_s3(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer_s3(dir.path()).args(["run", "--at", "2027-01-01T03:30:00Z"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer_s3(dir.path()).args(["run", "--at", "2027-01-03T03:30:00Z", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let t: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(t["lifecycle"]["cold_started"], 1, "{t}");
    // data packs in GLACIER_IR, everything else in STANDARD
    let classes = runtime().block_on(async {
        let out = s3()
            .await
            .list_objects_v2()
            .bucket("coffer-s3-cold-test")
            .prefix("cold/")
            .send()
            .await
            .unwrap();
        out.contents()
            .iter()
            .map(|o| {
                (
                    o.key().unwrap_or_default().to_string(),
                    o.storage_class()
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    });
    let packs: Vec<_> = classes
        .iter()
        .filter(|(k, _)| k.starts_with("cold/data/"))
        .collect();
    assert!(!packs.is_empty(), "{classes:?}");
    assert!(packs.iter().all(|(_, c)| c == "GLACIER_IR"), "{classes:?}");
    assert!(
        classes
            .iter()
            .filter(|(k, _)| !k.starts_with("cold/data/"))
            .all(|(_, c)| c == "STANDARD"),
        "{classes:?}"
    );
    // the cold point restores from there
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let cold = list
        .iter()
        .find(|p| p["storage_class"] == "COLD")
        .expect("a cold point");
    let target = dir.path().join("restored");
    let r = run(coffer_s3(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            cold["id"].as_str().unwrap(),
            "--target",
        ])
        .arg(&target));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let restored: Vec<_> = crate::support::files_under(&target);
    assert!(restored
        .iter()
        .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t == "cold data")));
}
