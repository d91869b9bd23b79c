//! File-level backups of directories through `coffer run`: the vault repository (restic's
//! format) receives one snapshot per covered directory, tagged like every recovery point;
//! the next backup is incremental; a crash after the backup is adopted.

use crate::support::{coffer, coffer_bound_by_permissions, run, workspace, VAULT_PASSWORD};
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
pub fn noise(len: usize) -> Vec<u8> {
    (0..len.div_ceil(16))
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .take(len)
        .collect()
}

/// The snapshots in the workspace's `main` vault, read with rustic_core directly.
pub fn vault_snapshots(dir: &Path) -> Vec<rustic_core::repofile::SnapshotFile> {
    let backends = rustic_backend::BackendOptions::default()
        .repository(dir.join("vaults/main").to_string_lossy().into_owned())
        .to_backends()
        .unwrap();
    Repository::new(&RepositoryOptions::default(), &backends)
        .unwrap()
        .open(&Credentials::password(VAULT_PASSWORD))
        .unwrap()
        .get_all_snapshots()
        .unwrap()
}

pub fn apply(dir: &Path) {
    let r = run(coffer(dir).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

pub fn tick(dir: &Path, at: &str) -> Value {
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
    apply(dir.path());

    let first = tick(dir.path(), "2026-12-05T03:10:00Z");
    let job = &first["jobs"][0];
    assert_eq!(job["state"], "COMPLETED", "{first:#}");
    let snapshot_id = job["native_ids"][0].as_str().unwrap().to_string();
    assert_eq!(snapshot_id.len(), 64, "the full restic snapshot id");
    let after_first = repo_size(dir.path());

    // the repository opens with the vault key and holds the tagged snapshot
    let snaps = vault_snapshots(dir.path());
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
    apply(dir.path());
    let crashed = run(coffer(dir.path())
        .args(["run", "--at", "2026-12-05T03:10:00Z"])
        .env("COFFER_FAILPOINT", "after-backup-request"));
    assert_ne!(crashed.code, 0);
    let report = tick(dir.path(), "2026-12-05T03:20:00Z");
    assert_eq!(report["created"], 0);
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    assert_eq!(
        vault_snapshots(dir.path()).len(),
        1,
        "adopted, not made twice"
    );
}

/// Every file under `root` with its kind, permissions and content (or link target).
pub fn tree(root: &Path) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                out.push((
                    rel,
                    format!("link -> {}", std::fs::read_link(&p).unwrap().display()),
                ));
            } else if meta.is_dir() {
                out.push((rel, format!("dir {mode:o}")));
                stack.push(p);
            } else {
                let body = std::fs::read(&p).unwrap();
                let digest: u64 = body.iter().fold(0xcbf29ce484222325, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
                });
                out.push((rel, format!("file {mode:o} {} {digest:x}", body.len())));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_directory_tree_restores_byte_for_byte_and_restore_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(docs.join("a/b/c")).unwrap();
    std::fs::create_dir_all(docs.join("empty-dir")).unwrap();
    for i in 0..50 {
        std::fs::write(docs.join("a/b").join(format!("f{i}.bin")), noise(i * 97)).unwrap();
    }
    std::fs::write(docs.join("empty.txt"), "").unwrap();
    std::fs::write(docs.join("a/b/c/big.bin"), noise(3 << 20)).unwrap();
    std::fs::write(docs.join("script.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(
        docs.join("script.sh"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    std::os::unix::fs::symlink("a/b/f1.bin", docs.join("link")).unwrap();
    apply(dir.path());
    let report = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    let rp = report["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();

    let target = dir.path().join("restored");
    let r = run(coffer(dir.path())
        .args(["restore", "start", "--recovery-point", &rp, "--target"])
        .arg(&target)
        .arg("--json"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["files"], 53, "{out:#}");
    assert_eq!(out["verified_files"], 53, "{out:#}");
    assert_eq!(tree(&target), tree(&docs));

    // a second restore into the same place is refused, and changes nothing
    std::fs::write(target.join("empty.txt"), "mine").unwrap();
    let r = run(coffer(dir.path())
        .args(["restore", "start", "--recovery-point", &rp, "--target"])
        .arg(&target));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("is not empty; restore into an empty or new directory, or pass --overwrite"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(target.join("empty.txt")).unwrap(),
        "mine"
    );
    // unless asked
    let r = run(coffer(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &rp,
            "--overwrite",
            "--target",
        ])
        .arg(&target));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(tree(&target), tree(&docs));

    // one path inside the point
    let part = dir.path().join("part");
    let r = run(coffer(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &rp,
            "--path",
            "a/b/c",
            "--target",
        ])
        .arg(&part));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(tree(&part), tree(&docs.join("a/b/c")));
    let r = run(coffer(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &rp,
            "--path",
            "../etc",
            "--target",
        ])
        .arg(dir.path().join("x")));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("must be relative to the backed-up directory and stay inside it"),
        "{}",
        r.stderr
    );

    // restores are jobs too
    let r = run(coffer(dir.path()).args(["jobs", "list", "--json"]));
    let jobs: Value = serde_json::from_str(&r.stdout).unwrap();
    let kinds: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "restore").count(),
        4,
        "{kinds:?}"
    );
}

#[test]
fn vault_check_finds_a_damaged_pack_only_when_it_reads_the_data() {
    let dir = workspace(CONFIG);
    std::fs::create_dir_all(dir.path().join("data/docs")).unwrap();
    std::fs::write(dir.path().join("data/docs/a.bin"), noise(100_000)).unwrap();
    apply(dir.path());
    tick(dir.path(), "2026-12-05T03:10:00Z");
    let r = run(coffer(dir.path()).args(["vault", "check", "main", "--read-data-subset", "all"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Vault main (file://")
            && r.stdout
                .contains("is intact: 1 snapshot checked, and all of the stored data read back."),
        "{}",
        r.stdout
    );

    // flip bytes in the middle of the largest pack file
    let mut packs: Vec<std::path::PathBuf> = Vec::new();
    for sub in std::fs::read_dir(dir.path().join("vaults/main/data")).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            packs.push(f.unwrap().path());
        }
    }
    packs.sort_by_key(|p| std::fs::metadata(p).unwrap().len());
    let pack = packs.last().unwrap();
    let mut bytes = std::fs::read(pack).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0xff;
    }
    std::fs::write(pack, bytes).unwrap();

    // the structure is intact: only reading the data finds the damage
    let r = run(coffer(dir.path()).args(["vault", "check", "main"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = run(coffer(dir.path()).args([
        "vault",
        "check",
        "main",
        "--read-data-subset",
        "all",
        "--json",
    ]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(!v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    let r = run(coffer(dir.path()).args(["vault", "check", "main", "--read-data-subset", "lots"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("--read-data-subset `lots`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_source_that_suddenly_shrank_is_flagged_as_suspicious() {
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..10 {
        std::fs::write(docs.join(format!("f{i}")), noise(10_000)).unwrap();
    }
    apply(dir.path());
    let first = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(first["jobs"][0]["warning"], Value::Null);
    // eight of ten files vanish overnight
    for i in 0..8 {
        std::fs::remove_file(docs.join(format!("f{i}"))).unwrap();
    }
    let second = tick(dir.path(), "2026-12-06T03:10:00Z");
    let job = &second["jobs"][0];
    assert_eq!(job["state"], "COMPLETED");
    assert_eq!(
        job["warning"],
        "suspicious: the source shrank by 80% since the previous recovery point (100000 to 20000 bytes)"
    );
    let r = run(coffer(dir.path()).args(["jobs", "show", job["id"].as_str().unwrap()]));
    assert!(
        r.stdout
            .contains("Warning          suspicious: the source shrank by 80%"),
        "{}",
        r.stdout
    );
    // a higher threshold lets the same shrink pass
    for i in 0..8 {
        std::fs::write(docs.join(format!("f{i}")), noise(10_000)).unwrap();
    }
    tick(dir.path(), "2026-12-07T03:10:00Z");
    for i in 0..8 {
        std::fs::remove_file(docs.join(format!("f{i}"))).unwrap();
    }
    let r = run(coffer(dir.path()).args([
        "run",
        "--at",
        "2026-12-08T03:10:00Z",
        "--json",
        "--suspicious-shrink",
        "0.9",
    ]));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["jobs"][0]["warning"], Value::Null, "{v:#}");
}

#[test]
fn unreadable_files_end_the_job_partial_and_name_each_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(docs.join("private")).unwrap();
    std::fs::write(docs.join("open.txt"), "anyone may read this").unwrap();
    std::fs::write(docs.join("secret.key"), "nobody may read this").unwrap();
    std::fs::write(docs.join("private/inside.txt"), "hidden by its folder").unwrap();
    apply(dir.path());
    let lock = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    lock(&docs.join("secret.key"), 0o000);
    lock(&docs.join("private"), 0o000);
    let r = run(coffer_bound_by_permissions(dir.path()).args([
        "run",
        "--at",
        "2026-12-05T03:10:00Z",
        "--json",
    ]));
    lock(&docs.join("private"), 0o755);
    assert_eq!(r.code, 1, "a PARTIAL job fails the run: {}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let job = &report["jobs"][0];
    assert_eq!(job["state"], "PARTIAL", "{report:#}");
    let error = job["error"].as_str().unwrap();
    assert!(error.starts_with("2 files could not be read"), "{error}");
    for name in ["secret.key", "private"] {
        assert!(
            error.contains(&docs.join(name).display().to_string()),
            "{name} in {error}"
        );
    }
    // what could be read is in the recovery point, and is restorable
    let rp = job["recovery_point_id"].as_str().unwrap();
    let target = dir.path().join("restored");
    let r = run(coffer(dir.path())
        .args(["restore", "start", "--recovery-point", rp, "--target"])
        .arg(&target));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(target.join("open.txt")).unwrap(),
        "anyone may read this"
    );
}

#[test]
fn a_vault_naming_its_own_key_variable_is_opened_with_it_not_the_default_key() {
    let config = CONFIG.replace(
        "storage = \"file://./vaults/main\"",
        "storage      = \"file://./vaults/main\"\n  password_env = \"DOCS_VAULT_KEY\"",
    );
    let dir = workspace(&config);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha").unwrap();
    let own_key = "the-docs-vault-key";

    // without the variable, apply names the vault and the variable
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("vault `main` takes its key from the environment variable DOCS_VAULT_KEY"),
        "{}",
        r.stderr
    );
    let r = run(coffer(dir.path())
        .env("DOCS_VAULT_KEY", own_key)
        .args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the default key (COFFER_VAULT_PASSWORD, set by the tests) does not open it
    let out = restic(dir.path(), &["cat", "config"]);
    assert!(!out.status.success(), "the default key must not open it");

    let r = run(coffer(dir.path()).env("DOCS_VAULT_KEY", own_key).args([
        "run",
        "--at",
        "2026-12-05T03:10:00Z",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    // the state records the variable's name, never the key
    let state = std::fs::read_to_string(dir.path().join(".coffer/state.json")).unwrap();
    assert!(state.contains("DOCS_VAULT_KEY"));
    assert!(!state.contains(own_key));
}

#[test]
fn an_on_demand_backup_of_a_directory_runs_through_the_file_engine() {
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha").unwrap();
    apply(dir.path());
    let arn = format!("dir:{}", docs.display());
    let r = run(coffer(dir.path()).args([
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
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    let snaps = vault_snapshots(dir.path());
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].id.to_hex().as_str(), job["native_ids"][0]);
}

/// `restic` (the Debian package) on the vault repository, with the vault key.
pub fn restic(dir: &Path, args: &[&str]) -> std::process::Output {
    restic_on(dir, "vaults/main", args)
}

/// `restic` on the repository at `repo` (relative to the workspace), with the vault key.
pub fn restic_on(dir: &Path, repo: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("restic")
        .arg("-r")
        .arg(dir.join(repo))
        .args(args)
        .env("RESTIC_PASSWORD", VAULT_PASSWORD)
        .env("RESTIC_CACHE_DIR", dir.join("restic-cache"))
        .output()
        .unwrap_or_else(|e| {
            panic!("these tests need restic (`apt-get install restic`; .ci/run installs it): {e}")
        })
}

#[test]
fn restic_itself_reads_what_coffer_wrote() {
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    for i in 0..20 {
        std::fs::write(
            docs.join("sub").join(format!("f{i}")),
            noise(5_000 + i * 100),
        )
        .unwrap();
    }
    std::fs::write(docs.join("empty"), "").unwrap();
    apply(dir.path());
    let report = tick(dir.path(), "2026-12-05T03:10:00Z");
    let job = &report["jobs"][0];
    let id = job["native_ids"][0].as_str().unwrap();

    let out = restic(dir.path(), &["snapshots", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snaps.as_array().unwrap().len(), 1);
    assert_eq!(snaps[0]["id"], id);
    let tags: Vec<&str> = snaps[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&format!("coffer:job={}", job["id"].as_str().unwrap()).as_str()),
        "{tags:?}"
    );

    let target = dir.path().join("by-restic");
    let out = restic(
        dir.path(),
        &["restore", id, "--target", target.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // restic restores the absolute path under the target
    let restored = target.join(docs.strip_prefix("/").unwrap());
    assert_eq!(tree(&restored), tree(&docs));
    let out = restic(dir.path(), &["check", "--read-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_vault_key_appears_in_no_file_coffer_writes() {
    const KEY: &str = "k3y-that-must-never-be-written";
    let dir = workspace(CONFIG);
    std::fs::create_dir_all(dir.path().join("data/docs")).unwrap();
    std::fs::write(dir.path().join("data/docs/a"), noise(1000)).unwrap();
    let with_key = |args: &[&str]| {
        let r = run(coffer(dir.path())
            .env("COFFER_VAULT_PASSWORD", KEY)
            .args(args));
        assert_eq!(r.code, 0, "{args:?}\n{}\n{}", r.stdout, r.stderr);
        assert!(
            !r.stdout.contains(KEY) && !r.stderr.contains(KEY),
            "{args:?} printed the key"
        );
        r
    };
    with_key(&["apply", "--auto-approve"]);
    with_key(&["plan", "--json"]);
    let report = with_key(&["run", "--at", "2026-12-05T03:10:00Z", "--json"]);
    let report: Value = serde_json::from_str(&report.stdout).unwrap();
    let rp = report["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();
    with_key(&[
        "restore",
        "start",
        "--recovery-point",
        &rp,
        "--target",
        "restored",
    ]);
    with_key(&["vault", "check", "main", "--read-data-subset", "all"]);
    with_key(&["jobs", "list", "--json"]);
    let mut scanned = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                    "{} holds the vault key",
                    p.display()
                );
                scanned += 1;
            }
        }
    }
    assert!(
        scanned > 10,
        "state, catalog, repository and restored files were scanned"
    );
}

#[test]
fn ten_thousand_files_and_a_100_mb_file_round_trip_byte_for_byte() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    for d in 0..100 {
        let sub = docs.join(format!("d{d:02}/nested"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..100 {
            let body = if f % 10 == 0 {
                Vec::new()
            } else {
                format!("file {d}/{f}\n").repeat(f).into_bytes()
            };
            std::fs::write(sub.join(format!("f{f:03}")), body).unwrap();
        }
        std::fs::set_permissions(sub.join("f001"), std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("f002", sub.join("link")).unwrap();
    }
    std::fs::write(docs.join("big.bin"), noise(100 << 20)).unwrap();
    apply(dir.path());
    let report = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    let rp = report["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();
    let target = dir.path().join("restored");
    let r = run(coffer(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &rp,
            "--json",
            "--target",
        ])
        .arg(&target));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["files"], 10_001, "{out:#}");
    assert_eq!(out["verified_files"], 10_001, "{out:#}");
    assert_eq!(tree(&target), tree(&docs));
}

/// Issue 11, section 3: every command logs through one subscriber; `--log-format json` makes
/// stderr JSON lines only, and `--log-level debug` lets rustic_core's messages through.
#[test]
fn a_run_logs_json_lines_with_rustic_cores_messages_at_debug() {
    let dir = workspace(CONFIG);
    std::fs::create_dir_all(dir.path().join("data/docs")).unwrap();
    std::fs::write(dir.path().join("data/docs/a.txt"), "a").unwrap();
    apply(dir.path());
    let r = run(coffer(dir.path()).args([
        "run",
        "--at",
        "2026-12-05T03:10:00Z",
        "--log-format",
        "json",
        "--log-level",
        "debug",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["time"].is_string() && l["level"].is_string() && l["target"].is_string()));
    assert!(
        lines
            .iter()
            .any(|l| l["target"].as_str().unwrap().starts_with("rustic_core")),
        "{}",
        r.stderr
    );
    let ended = lines
        .iter()
        .find(|l| l["event"] == "job_ended")
        .expect("a job_ended event");
    assert_eq!(ended["job"]["state"], "COMPLETED", "{ended}");
    // at the default level, none of the library's chatter
    let r = run(coffer(dir.path()).args([
        "run",
        "--at",
        "2026-12-06T03:10:00Z",
        "--log-format",
        "json",
    ]));
    assert!(!r.stderr.contains("rustic_core"), "{}", r.stderr);
}

/// Issue 18: every blob is still verified before it is stored. A blob damaged between its
/// compression and its storage (the `corrupt-blob-before-verify` fail point) fails the job
/// instead of being stored, the repository keeps no snapshot of it and still checks clean,
/// and the next backup without the fault stores the data.
#[test]
fn issue_18_a_blob_corrupted_before_it_is_stored_fails_the_backup() {
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..50 {
        std::fs::write(docs.join(format!("f{i}")), noise(3000 + i * 37)).unwrap();
    }
    apply(dir.path());
    let arn = format!("dir:{}", docs.display());
    let backup = |fault: bool| {
        let mut c = coffer(dir.path());
        if fault {
            c.env("COFFER_FAILPOINT", "corrupt-blob-before-verify");
        }
        run(c.args([
            "backup",
            "start",
            "--resource",
            &arn,
            "--vault",
            "main",
            "--json",
        ]))
    };
    let r = backup(true);
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let jobs: Value = serde_json::from_str(
        &run(coffer(dir.path()).args(["jobs", "list", "--kind", "backup", "--json"])).stdout,
    )
    .unwrap();
    let job = &jobs.as_array().unwrap()[0];
    assert_eq!(job["state"], "FAILED", "{job:#}");
    assert!(
        job["error"]
            .as_str()
            .is_some_and(|e| e.contains("Verification failed")),
        "{job:#}"
    );
    assert!(vault_snapshots(dir.path()).is_empty());
    let check = restic(dir.path(), &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let r = backup(false);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(vault_snapshots(dir.path()).len(), 1);
}
