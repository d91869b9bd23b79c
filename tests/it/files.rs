//! File-level backups of directories through `coffer run`: the vault repository (restic's
//! format) receives one snapshot per covered directory, tagged like every recovery point;
//! the next backup is incremental; a crash after the backup is adopted.

use crate::support::{coffer, run, workspace, VAULT_PASSWORD};
use rustic_core::{Credentials, Repository, RepositoryOptions};
use serde_json::Value;
use std::path::Path;

const CONFIG: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
}

plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    recovery_point_tags = { Team = "docs" }
    lifecycle {
      delete_after = "35d"
    }
  }
}

selection "dirs" {
  plan      = plan.daily
  resources = ["dir:*"]
}

directory "docs" {
  path = "./data/docs"
}
"#;

/// Random bytes, which neither compress nor repeat.
fn noise(len: usize) -> Vec<u8> {
    (0..len.div_ceil(16))
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .take(len)
        .collect()
}

fn tick(dir: &Path, at: &str) -> Value {
    let r = run(coffer(dir).args(["run", "--at", at, "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn repo_size(dir: &Path) -> u64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    walk(&e.path())
                } else {
                    e.metadata().unwrap().len()
                }
            })
            .sum()
    }
    walk(&dir.join("vaults/main/data"))
}

#[test]
fn a_tick_backs_up_covered_directories_into_the_vault_repository_incrementally() {
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(docs.join("nested")).unwrap();
    // 200 files of 10 KiB of random content
    for i in 0..200 {
        std::fs::write(docs.join("nested").join(format!("f{i}.bin")), noise(10_240)).unwrap();
    }
    std::fs::write(docs.join("readme.txt"), "hello").unwrap();
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let first = tick(dir.path(), "2026-12-05T03:10:00Z");
    let job = &first["jobs"][0];
    assert_eq!(job["state"], "COMPLETED", "{first:#}");
    let snapshot_id = job["native_ids"][0].as_str().unwrap().to_string();
    assert_eq!(snapshot_id.len(), 64, "the full restic snapshot id");
    let after_first = repo_size(dir.path());

    // the repository opens with the vault key and holds the tagged snapshot
    let backends = rustic_backend::BackendOptions::default()
        .repository(
            dir.path()
                .join("vaults/main")
                .to_string_lossy()
                .into_owned(),
        )
        .to_backends()
        .unwrap();
    let repo = Repository::new(&RepositoryOptions::default(), &backends)
        .unwrap()
        .open(&Credentials::password(VAULT_PASSWORD))
        .unwrap();
    let snaps = repo.get_all_snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    let tags: Vec<String> = snaps[0].tags.iter().cloned().collect();
    for want in [
        format!("coffer:job={}", job["id"].as_str().unwrap()),
        "coffer:vault=main".to_string(),
        "coffer:plan=daily".to_string(),
        "coffer:rule=nightly".to_string(),
        "Team=docs".to_string(),
    ] {
        assert!(tags.contains(&want), "{want} in {tags:?}");
    }
    assert_eq!(snaps[0].label, format!("dir:{}", docs.display()));

    // change 1% of the files: the next backup stores about that much
    for i in 0..2 {
        std::fs::write(docs.join("nested").join(format!("f{i}.bin")), noise(10_240)).unwrap();
    }
    let second = tick(dir.path(), "2026-12-06T03:10:00Z");
    assert_eq!(second["jobs"][0]["state"], "COMPLETED", "{second:#}");
    let grown = repo_size(dir.path()) - after_first;
    assert!(grown > 0, "the changed files were stored");
    assert!(
        grown >= 2 * 10_240 && grown < after_first / 20,
        "an incremental backup of 1% of the files stored {grown} bytes (the first stored {after_first})"
    );
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(points.as_array().unwrap().len(), 2);
    assert_eq!(points[0]["resource_type"], "directory");
    assert_eq!(points[0]["encrypted"], true);
}

#[test]
fn a_crash_after_a_file_backup_is_adopted_by_the_next_tick() {
    let dir = workspace(CONFIG);
    std::fs::create_dir_all(dir.path().join("data/docs")).unwrap();
    std::fs::write(dir.path().join("data/docs/a.txt"), "a").unwrap();
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "--auto-approve"])).code,
        0
    );
    let crashed = run(coffer(dir.path())
        .args(["run", "--at", "2026-12-05T03:10:00Z"])
        .env("COFFER_FAILPOINT", "after-backup-request"));
    assert_ne!(crashed.code, 0);
    let report = tick(dir.path(), "2026-12-05T03:20:00Z");
    assert_eq!(report["created"], 0);
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    let backends = rustic_backend::BackendOptions::default()
        .repository(
            dir.path()
                .join("vaults/main")
                .to_string_lossy()
                .into_owned(),
        )
        .to_backends()
        .unwrap();
    let repo = Repository::new(&RepositoryOptions::default(), &backends)
        .unwrap()
        .open(&Credentials::password(VAULT_PASSWORD))
        .unwrap();
    assert_eq!(
        repo.get_all_snapshots().unwrap().len(),
        1,
        "adopted, not made twice"
    );
}
