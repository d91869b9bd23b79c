//! File-level copies, read by `restic` itself: a directory's snapshot is copied from one
//! vault repository into another with its own key (file→file, and file→S3 against moto),
//! the destination lists it with the same tree and coffer's tags and passes
//! `restic check --read-data`, a second copy of unchanged data sends no data, and the copy
//! restores byte for byte.

use crate::files::restic_on;
use crate::moto::{aws_env, moto};
use crate::support::{coffer, run, workspace, VAULT_PASSWORD};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DR_KEY: &str = "another-key-for-dr";

fn config(dr_storage: &str) -> String {
    format!(
        r#"
vault "main" {{
  storage = "file://./vaults/main"
}}

vault "dr" {{
  storage      = "{dr_storage}"
  password_env = "DR_KEY"
}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle {{
      delete_after = "35d"
    }}
    copy_to {{
      vault = vault.dr
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

fn coffer_dr(dir: &Path) -> Command {
    let mut c = coffer(dir);
    aws_env(&mut c).env("DR_KEY", DR_KEY);
    c
}

fn seed(dir: &Path) {
    let docs = dir.join("data/docs/sub");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..50u32 {
        let body: Vec<u8> = (0..(i * 997 + 3)).map(|b| (b * 31 + i) as u8).collect();
        std::fs::write(docs.join(format!("f{i}.bin")), body).unwrap();
    }
}

fn tick(dir: &Path, at: &str) -> Value {
    let r = run(coffer_dr(dir).args(["run", "--at", at, "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn snapshots(out: std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `restic` on the `dr` repository in the workspace, with dr's own key.
fn restic_dr(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("restic")
        .arg("-r")
        .arg(dir.join("vaults/dr"))
        .args(args)
        .env("RESTIC_PASSWORD", DR_KEY)
        .env("RESTIC_CACHE_DIR", dir.join("restic-cache"))
        .output()
        .expect("restic runs (apt-get install restic)")
}

fn files_in(dir: &Path) -> usize {
    crate::support::files_under(dir).len()
}

#[test]
fn a_directory_copied_between_repositories_is_read_by_restic_and_sends_only_what_is_missing() {
    let dir = workspace(&config("file://./vaults/dr"));
    seed(dir.path());
    let r = run(coffer_dr(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report = tick(dir.path(), "2026-12-05T03:10:00Z");
    let copy = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "copy")
        .unwrap_or_else(|| panic!("{report:#}"))
        .clone();
    assert_eq!(copy["state"], "COMPLETED", "{copy:#}");

    let main = snapshots(restic_on(
        dir.path(),
        "vaults/main",
        &["snapshots", "--json"],
    ));
    let dr = snapshots(restic_dr(dir.path(), &["snapshots", "--json"]));
    assert_eq!((main.len(), dr.len()), (1, 1));
    assert_eq!(dr[0]["tree"], main[0]["tree"], "the same tree");
    assert_eq!(dr[0]["paths"], main[0]["paths"]);
    let tags: Vec<&str> = dr[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"coffer:vault=dr"), "{tags:?}");
    assert!(
        tags.contains(&format!("coffer:job={}", copy["id"].as_str().unwrap()).as_str()),
        "{tags:?}"
    );
    assert_eq!(copy["native_ids"][0], dr[0]["id"]);
    let check = restic_dr(dir.path(), &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // the keys differ: dr's repository does not open with main's key
    let wrong = Command::new("restic")
        .arg("-r")
        .arg(dir.path().join("vaults/dr"))
        .args(["snapshots", "--no-lock"])
        .env("RESTIC_PASSWORD", VAULT_PASSWORD)
        .env("RESTIC_CACHE_DIR", dir.path().join("restic-cache"))
        .output()
        .unwrap();
    assert!(!wrong.status.success());

    // the next night nothing changed: the second copy sends no data
    let data_before = files_in(&dir.path().join("vaults/dr/data"));
    let report = tick(dir.path(), "2026-12-06T03:10:00Z");
    assert!(report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["kind"] == "copy" && j["state"] == "COMPLETED"));
    assert_eq!(
        snapshots(restic_dr(dir.path(), &["snapshots", "--json"])).len(),
        2
    );
    assert_eq!(
        files_in(&dir.path().join("vaults/dr/data")),
        data_before,
        "no new pack"
    );

    // and the copy restores byte for byte
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--vault", "dr", "--json"]));
    let points: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let target = dir.path().join("restored");
    let r = run(coffer_dr(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            points[0]["id"].as_str().unwrap(),
            "--target",
        ])
        .arg(&target));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for i in 0..50u32 {
        let name = format!("sub/f{i}.bin");
        assert_eq!(
            std::fs::read(dir.path().join("data/docs").join(&name)).unwrap(),
            std::fs::read(target.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        );
    }
}

#[test]
fn a_directory_copied_into_an_s3_vault_is_read_by_restic_through_s3() {
    const BUCKET: &str = "coffer-copy-dr";
    let dir = workspace(&config(&format!("s3://{BUCKET}/dr")));
    seed(dir.path());
    let r = run(coffer_dr(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert!(
        report["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "copy" && j["state"] == "COMPLETED"),
        "{report:#}"
    );
    let restic_s3 = |args: &[&str]| {
        Command::new("restic")
            .args(["-r", &format!("s3:{}/{BUCKET}/dr", moto().endpoint)])
            .args(args)
            .env("RESTIC_PASSWORD", DR_KEY)
            .env("RESTIC_CACHE_DIR", dir.path().join("restic-cache"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .output()
            .expect("restic runs")
    };
    let main = snapshots(restic_on(
        dir.path(),
        "vaults/main",
        &["snapshots", "--json"],
    ));
    let dr = snapshots(restic_s3(&["snapshots", "--json"]));
    assert_eq!(dr.len(), 1);
    assert_eq!(dr[0]["tree"], main[0]["tree"]);
    let check = restic_s3(&["check", "--read-data"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
