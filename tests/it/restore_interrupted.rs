//! Issue 11, defects 1 and 2: a restore that was killed or interrupted is ended as a restore,
//! never resumed as a backup of its source; a restore holds the runner lock; and no command
//! but `apply` creates a vault repository: a missing one is reported, not recreated.

use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::io::{BufRead, BufReader};
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

/// An applied workspace with one backed-up directory; returns its recovery point's id.
fn backed_up(dir: &Path) -> String {
    std::fs::create_dir_all(dir.join("data/docs")).unwrap();
    std::fs::write(dir.join("data/docs/a.txt"), "a").unwrap();
    let r = run(coffer(dir).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(coffer(dir).args(["run", "--at", "2026-12-05T03:10:00Z", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    report["jobs"][0]["recovery_point_id"]
        .as_str()
        .expect("a recovery point")
        .to_string()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let r = run(coffer(dir).args(args));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn restore_jobs(dir: &Path) -> Vec<Value> {
    json(dir, &["jobs", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "restore")
        .cloned()
        .collect()
}

#[test]
fn a_killed_restore_is_ended_as_a_restore_by_the_next_run_and_never_backed_up() {
    let dir = workspace(CONFIG);
    let rp = backed_up(dir.path());
    let killed = run(coffer(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &rp,
            "--target",
            "out",
        ])
        .env("COFFER_FAILPOINT", "restore-running"));
    assert_ne!(killed.code, 0, "the fail point kills the restore");
    let left = restore_jobs(dir.path());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["state"], "RUNNING");

    // a tick with no run due: before the fix it took the restore job for a backup and made a
    // second recovery point of the restore's source
    let report = json(
        dir.path(),
        &["run", "--at", "2026-12-05T03:20:00Z", "--json"],
    );
    assert_eq!(report["created"], 0, "{report:#}");
    let points = json(dir.path(), &["recovery-points", "list", "--json"]);
    assert_eq!(points.as_array().unwrap().len(), 1, "{points:#}");
    let ended = restore_jobs(dir.path());
    assert_eq!(ended[0]["state"], "FAILED", "{ended:#?}");
    assert!(
        ended[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("interrupted: the coffer that ran this restore ended"),
        "{ended:#?}"
    );
    assert!(ended[0]["native_ids"].as_array().unwrap().is_empty());
}

#[test]
fn ctrl_c_ends_a_restore_aborted_and_a_restore_holds_the_runner_lock() {
    let dir = workspace(CONFIG);
    let rp = backed_up(dir.path());
    let mut child = coffer(dir.path())
        .args([
            "restore",
            "start",
            "--recovery-point",
            &rp,
            "--target",
            "out",
        ])
        .env("COFFER_FAILPOINT", "restore-pause")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // wait until the restore is under way (it pauses at the fail point)
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "restore ended early: {seen}"
        );
        seen.push_str(&line);
        if line.contains("fail point restore-pause reached") {
            break;
        }
    }

    // meanwhile no tick runs
    let tick = run(coffer(dir.path()).args(["run", "--at", "2026-12-05T03:20:00Z"]));
    assert_eq!(tick.code, 1, "{}\n{}", tick.stdout, tick.stderr);
    assert!(
        tick.stderr.contains("restore start"),
        "the holder is named: {}",
        tick.stderr
    );

    // SAFETY: signalling our own child process by its id
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(rest.contains("restore interrupted"), "{rest}");
    let jobs = restore_jobs(dir.path());
    assert_eq!(jobs[0]["state"], "ABORTED", "{jobs:#?}");
    assert!(
        jobs[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("interrupted (Ctrl-C or SIGTERM)"),
        "{jobs:#?}"
    );
    // and the next tick leaves the ended job alone
    let report = json(
        dir.path(),
        &["run", "--at", "2026-12-05T03:20:00Z", "--json"],
    );
    assert_eq!(report["jobs"].as_array().unwrap().len(), 0, "{report:#}");
}

#[test]
fn a_missing_repository_is_reported_and_never_recreated() {
    let dir = workspace(CONFIG);
    let rp = backed_up(dir.path());
    let vault = dir.path().join("vaults/main");
    std::fs::remove_dir_all(&vault).unwrap();

    // vault check says missing, exits 1, and creates nothing
    let r = run(coffer(dir.path()).args(["vault", "check", "main"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Vault main (file://") && r.stdout.contains("is missing"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("intact"), "{}", r.stdout);
    assert!(r.stdout.contains("run `coffer apply`"), "{}", r.stdout);
    assert!(!vault.exists(), "vault check created the repository");
    let v = {
        let r = run(coffer(dir.path()).args(["vault", "check", "main", "--json"]));
        assert_eq!(r.code, 1);
        serde_json::from_str::<Value>(&r.stdout).unwrap()
    };
    assert_eq!(
        (v["ok"].clone(), v["missing"].clone()),
        (false.into(), true.into())
    );

    // a restore fails and names the vault
    let r = run(coffer(dir.path()).args([
        "restore",
        "start",
        "--recovery-point",
        &rp,
        "--target",
        "out",
    ]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("vault `main`: no repository at file://")
            && r.stderr.contains("run `coffer apply`"),
        "{}",
        r.stderr
    );
    assert!(!vault.exists(), "restore created the repository");

    // a backup fails loudly instead of starting a new, empty repository
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-06T03:10:00Z", "--json"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let job = &report["jobs"][0];
    assert_eq!(job["state"], "FAILED", "{report:#}");
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .contains("vault `main`: no repository at file://"),
        "{report:#}"
    );
    assert!(!vault.exists(), "a backup created the repository");

    // apply gives the vault a new, empty repository, and the lost point is marked DELETED
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("vault.main: its repository at file://")
            && r.stdout
                .contains("was missing; initialised a new, empty one (1 recovery point"),
        "{}",
        r.stdout
    );
    let r = run(coffer(dir.path()).args(["vault", "check", "main"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let points = json(dir.path(), &["recovery-points", "list", "--json"]);
    assert_eq!(points[0]["status"], "DELETED", "{points:#}");
    assert_eq!(points[0]["deleted_by"], "outside", "{points:#}");
    assert!(points[0]["deleted_at"].is_string(), "{points:#}");
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--status", "completed"]));
    assert_eq!(r.stdout.trim(), "No recovery points.", "{}", r.stdout);
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert!(!r.stdout.contains("was missing"), "{}", r.stdout);
}
