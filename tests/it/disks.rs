//! Full disks and lost permissions (issue 17): a backup into a repository whose filesystem
//! fills up fails its job saying so, leaves the repository checking clean, and the next backup
//! after space is freed succeeds; a state or catalog write on a full disk leaves the previous
//! version intact and says so; a vault repository that became read-only and a state directory
//! that lost its write permission each give a clear error and lose nothing.
//!
//! The filesystems are small tmpfs mounts made by the test, which needs root (CI runs as
//! root); without it the test fails saying why.

use crate::files::noise;
use crate::support::{
    coffer, coffer_bound_by_permissions, json_of as json, ok_run as ok, run, workspace, Run,
    VAULT_PASSWORD,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const CONFIG: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
}

plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
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

/// A tmpfs mounted at a directory, unmounted when dropped.
struct Tmpfs {
    at: PathBuf,
}

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"], at);
        Tmpfs {
            at: at.to_path_buf(),
        }
    }

    /// Remounts it with other options (`size=64m`, `ro`, `rw`).
    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}")], &self.at);
    }

    /// Fills it up with a file of its own, but for `pages` 4 KiB pages; returns the file.
    fn fill(&self, pages: u64) -> PathBuf {
        use std::io::Write;
        let filler = self.at.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let len = f.metadata().unwrap().len() / 4096 * 4096;
        f.set_len(len.saturating_sub(pages * 4096)).unwrap();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

fn mount(args: &[&str], at: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(at)
        .output()
        .expect("mount runs");
    assert!(
        out.status.success(),
        "these tests mount a small tmpfs and need root (CI runs as root): mount {args:?} {}: {}",
        at.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A workspace with `mib` MiB of incompressible files to back up.
fn docs(mib: usize) -> tempfile::TempDir {
    let dir = workspace(CONFIG);
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..mib * 4 {
        std::fs::write(docs.join(format!("f{i}")), noise(256 * 1024)).unwrap();
    }
    dir
}

/// `restic check` on the workspace's vault; without a lock when the repository is read-only.
fn restic_check(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new("restic")
        .arg("-r")
        .arg(dir.join("vaults/main"))
        .arg("check")
        .args(extra)
        .env("RESTIC_PASSWORD", VAULT_PASSWORD)
        .env("RESTIC_CACHE_DIR", dir.join("restic-cache"))
        .output()
        .expect("restic runs (apt-get install restic)")
}

fn assert_checks_clean(dir: &Path, extra: &[&str]) {
    let out = restic_check(dir, extra);
    assert!(
        out.status.success(),
        "restic check: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn points(dir: &Path) -> Vec<Value> {
    json(&run(coffer(dir).args([
        "recovery-points",
        "list",
        "--json",
    ])))
    .as_array()
    .cloned()
    .unwrap()
}

fn backup_now(dir: &Path) -> Run {
    let resource = format!(
        "dir:{}",
        dir.join("data/docs").canonicalize().unwrap().display()
    );
    run(coffer(dir).args([
        "backup",
        "start",
        "--resource",
        &resource,
        "--vault",
        "main",
        "--json",
    ]))
}

#[test]
fn a_backup_into_a_full_repository_fails_clearly_checks_clean_and_the_next_one_succeeds() {
    let dir = docs(6);
    let disk = Tmpfs::mount(&dir.path().join("vaults"), "2m");
    ok(
        &run(coffer(dir.path()).args(["apply", "--auto-approve"])),
        "apply",
    );

    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-05T03:10:00Z", "--json"]));
    let report = json(&r);
    let job = &report["jobs"][0];
    assert_eq!(job["state"], "FAILED", "{report:#}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("No space left on device") && error.contains("the disk holding"),
        "{error}"
    );
    assert_ne!(r.code, 0);
    assert!(points(dir.path()).is_empty());
    // nothing half-written is referenced: restic reads the repository as clean
    assert_checks_clean(dir.path(), &[]);

    disk.remount("size=64m");
    let r = backup_now(dir.path());
    ok(&r, "the backup after space was freed");
    assert_eq!(json(&r)["state"], "COMPLETED");
    assert_eq!(points(dir.path()).len(), 1);
    assert_checks_clean(dir.path(), &["--read-data"]);
}

#[test]
fn a_read_only_repository_fails_the_backup_clearly_and_loses_no_point() {
    let dir = docs(1);
    let disk = Tmpfs::mount(&dir.path().join("vaults"), "64m");
    ok(
        &run(coffer(dir.path()).args(["apply", "--auto-approve"])),
        "apply",
    );
    let first = backup_now(dir.path());
    ok(&first, "the first backup");

    disk.remount("ro");
    let r = backup_now(dir.path());
    assert_ne!(r.code, 0, "{}", r.stdout);
    let text = format!("{}{}", r.stdout, r.stderr);
    assert!(text.contains("Read-only file system"), "{text}");
    let points = points(dir.path());
    assert_eq!(points.len(), 1, "{points:#?}");
    assert_eq!(points[0]["status"], "COMPLETED");
    assert_checks_clean(dir.path(), &["--no-lock", "--read-data"]);

    // writable again, backups go on
    disk.remount("rw");
    ok(&backup_now(dir.path()), "the backup once writable again");
}

/// The state directory on a tmpfs of its own, applied once with `CONFIG`.
fn state_on_tmpfs(size: &str) -> (tempfile::TempDir, Tmpfs) {
    let dir = docs(0);
    std::fs::write(dir.path().join("data/docs/note"), "kept").unwrap();
    let disk = Tmpfs::mount(&dir.path().join(".coffer"), size);
    ok(
        &run(coffer(dir.path()).args(["apply", "--auto-approve"])),
        "apply",
    );
    (dir, disk)
}

/// CONFIG with a second vault, so that apply has a state to write.
fn with_second_vault(dir: &Path) {
    let text =
        format!("{CONFIG}\nvault \"second\" {{\n  storage = \"file://./vaults/second\"\n}}\n");
    std::fs::write(dir.join("main.hcl"), text).unwrap();
}

fn state_addresses(dir: &Path) -> Vec<String> {
    let r = run(coffer(dir).args(["state", "list"]));
    ok(&r, "state list");
    r.stdout.lines().map(str::to_string).collect()
}

#[test]
fn a_state_or_catalog_write_on_a_full_disk_keeps_the_previous_version_and_says_so() {
    let (dir, disk) = state_on_tmpfs("1m");
    let before = state_addresses(dir.path());
    assert!(before.iter().any(|a| a == "vault.main"), "{before:?}");
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-05T03:10:00Z", "--json"]));
    ok(&r, "the first run");
    let jobs_before = jobs(dir.path());
    assert_eq!(jobs_before.len(), 1);

    with_second_vault(dir.path());
    // full before the lock is taken, and with room for the lock but not for the state
    for room in [0, 1] {
        let filler = disk.fill(room);
        let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
        assert_ne!(r.code, 0, "{}", r.stdout);
        assert!(
            r.stderr.contains("No space left on device")
                && r.stderr
                    .contains("the disk holding the state directory is full")
                && (r.stderr.contains("The previous state is intact")
                    || r.stderr.contains("The state was not changed")),
            "{}",
            r.stderr
        );
        std::fs::remove_file(filler).unwrap();
        assert_eq!(state_addresses(dir.path()), before);
    }

    // the catalog: a run (with room for its lock) cannot record its jobs and says so;
    // SQLite rolled the write back
    let filler = disk.fill(1);
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-06T03:10:00Z"]));
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("the disk holding the catalog is full"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(filler).unwrap();
    assert_eq!(jobs(dir.path()), jobs_before);

    ok(
        &run(coffer(dir.path()).args(["apply", "--auto-approve"])),
        "apply once space is freed",
    );
    assert!(state_addresses(dir.path())
        .iter()
        .any(|a| a == "vault.second"));
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-06T03:10:00Z", "--json"]));
    ok(&r, "run once space is freed");
    let after = jobs(dir.path());
    assert_eq!(after.len(), 2, "{after:#?}");
    assert!(
        after.iter().all(|j| j["state"] == "COMPLETED"),
        "{after:#?}"
    );
}

fn jobs(dir: &Path) -> Vec<Value> {
    json(&run(coffer(dir).args(["jobs", "list", "--json"])))
        .as_array()
        .cloned()
        .unwrap()
}

#[test]
fn a_state_directory_without_write_permission_fails_apply_clearly_and_keeps_the_state() {
    let (dir, _disk) = state_on_tmpfs("16m");
    let before = state_addresses(dir.path());
    with_second_vault(dir.path());
    let state_dir = dir.path().join(".coffer");
    let mode = |m| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state_dir, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(0o555);
    let r = run(coffer_bound_by_permissions(dir.path()).args(["apply", "--auto-approve"]));
    mode(0o755);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
    assert_eq!(state_addresses(dir.path()), before);
    ok(
        &run(coffer(dir.path()).args(["apply", "--auto-approve"])),
        "apply once writable again",
    );
}
