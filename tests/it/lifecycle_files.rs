//! Lifecycle of file-level points through `coffer run --at`: a `keep` policy thins a
//! directory's points out and the vault repository forgets their snapshots; a lock and a
//! legal hold keep what they protect; a snapshot forgotten outside coffer is recorded as
//! deleted from outside; and the mass-deletion breaker stops a clock that jumped.

use crate::files::{apply, noise, restic, restic_on, tick, vault_snapshots};
use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::path::Path;

/// A vault, a nightly rule with `lifecycle_body`, and one directory; `extra` is appended.
fn config(lifecycle_body: &str, vault_body: &str, extra: &str) -> String {
    format!(
        r#"
vault "main" {{
  storage = "file://./vaults/main"
  {vault_body}
}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle {{
      {lifecycle_body}
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
{extra}
"#
    )
}

/// A workspace with `config`, applied.
fn applied(config: &str) -> tempfile::TempDir {
    let dir = workspace(config);
    std::fs::create_dir_all(dir.path().join("data/docs")).unwrap();
    std::fs::write(dir.path().join("data/docs/a.txt"), "first").unwrap();
    apply(dir.path());
    dir
}

/// One nightly tick on `day` (a date in January 2027) at `time`; the directory changes first.
fn nightly(dir: &Path, day: u32, time: &str) -> Value {
    std::fs::write(
        dir.join(format!("data/docs/day-{day}.txt")),
        format!("day {day}"),
    )
    .unwrap();
    tick(dir, &format!("2027-01-{day:02}T{time}Z"))
}

/// `(created day, status, deleted_by)` of every point, oldest first.
fn points(dir: &Path) -> Vec<(String, String, Option<String>)> {
    let r = run(coffer(dir).args(["recovery-points", "list", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let mut out: Vec<_> = list
        .iter()
        .map(|p| {
            (
                p["created_at"].as_str().unwrap()[..10].to_string(),
                p["status"].as_str().unwrap().to_string(),
                p["deleted_by"].as_str().map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

fn status_of(points: &[(String, String, Option<String>)]) -> Vec<(&str, &str)> {
    points
        .iter()
        .map(|(d, s, _)| (&d[8..10], s.as_str()))
        .collect()
}

#[test]
fn a_keep_policy_thins_out_a_directorys_points_and_the_repository_forgets_them() {
    let dir = applied(&config("keep {\n daily = 3\n }", "", ""));
    for day in 1..=6 {
        nightly(dir.path(), day, "03:30:00");
    }
    let p = points(dir.path());
    assert_eq!(
        status_of(&p),
        [
            ("01", "DELETED"),
            ("02", "DELETED"),
            ("03", "DELETED"),
            ("04", "COMPLETED"),
            ("05", "COMPLETED"),
            ("06", "COMPLETED"),
        ]
    );
    assert!(p[..3]
        .iter()
        .all(|(_, _, by)| by.as_deref() == Some("retention")));
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "delete", "--json"]));
    let jobs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j["state"] == "COMPLETED"));
    // the repository holds the kept points' snapshots only, and restic agrees
    assert_eq!(vault_snapshots(dir.path()).len(), 3);
    let out = restic(dir.path(), &["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_vault_lock_keeps_points_until_their_minimum_retention_ends() {
    let lock = "lock {\n mode = \"governance\"\n min_retention = \"2d\"\n }";
    let dir = applied(&config("keep {\n last = 1\n }", lock, ""));
    nightly(dir.path(), 1, "03:30:00");
    nightly(dir.path(), 2, "03:30:00");
    // two days less twenty minutes after the first point: it is still locked
    let t = nightly(dir.path(), 3, "03:10:00");
    assert_eq!(t["lifecycle"]["waiting"], 2, "{t}");
    assert!(status_of(&points(dir.path()))
        .iter()
        .all(|(_, s)| *s == "COMPLETED"));
    // later that morning the first point's lock has ended; the second's has not
    tick(dir.path(), "2027-01-03T04:00:00Z");
    assert_eq!(
        status_of(&points(dir.path())),
        [("01", "DELETED"), ("02", "COMPLETED"), ("03", "COMPLETED")]
    );
}

#[test]
fn a_legal_hold_keeps_what_it_matches_until_it_is_removed() {
    let hold = "legal_hold \"audit\" {\n  vaults = [vault.main]\n  description = \"inquiry\"\n}";
    let text = config("keep {\n last = 1\n }", "", hold);
    let dir = applied(&text);
    for day in 1..=3 {
        nightly(dir.path(), day, "03:30:00");
    }
    assert!(status_of(&points(dir.path()))
        .iter()
        .all(|(_, s)| *s == "COMPLETED"));
    // releasing the hold is a change that deletes existing points: the plan says so, and
    // apply refuses it unless allowed
    std::fs::write(
        dir.path().join("main.hcl"),
        config("keep {\n last = 1\n }", "", ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.contains("Recovery point changes"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("vault.main: 2 recovery points deleted, made 2027-01-01"),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("before this change held by legal hold audit"));
    let r = run(coffer(dir.path()).args(["plan", "--json"]));
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        plan["recovery_points"]["delete"].as_array().unwrap().len(),
        2
    );
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("--allow-deletions 2"), "{}", r.stderr);
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve", "--allow-deletions", "1"]));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("allows fewer"), "{}", r.stderr);
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve", "--allow-deletions", "2"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // the next tick catches up
    tick(dir.path(), "2027-01-03T12:00:00Z");
    assert_eq!(
        status_of(&points(dir.path())),
        [("01", "DELETED"), ("02", "DELETED"), ("03", "COMPLETED")]
    );
}

#[test]
fn a_snapshot_forgotten_outside_coffer_is_recorded_as_deleted_from_outside() {
    let dir = applied(&config("delete_after = \"1d\"\nkeep_at_least = 0", "", ""));
    nightly(dir.path(), 1, "03:30:00");
    let snap = vault_snapshots(dir.path())[0].id.to_hex().to_string();
    let out = restic(dir.path(), &["forget", &snap]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tick(dir.path(), "2027-01-02T12:00:00Z");
    let p = points(dir.path());
    assert_eq!(p[0].1, "DELETED");
    assert_eq!(p[0].2.as_deref(), Some("outside"));
}

#[test]
fn the_mass_deletion_breaker_stops_a_clock_that_jumped_until_allowed() {
    let dir = applied(&config("delete_after = \"35d\"", "", ""));
    for day in 1..=12 {
        nightly(dir.path(), day, "03:30:00");
    }
    // a clock a year ahead: all twelve are past their date; the floor keeps the newest
    let r = run(coffer(dir.path()).args(["run", "--at", "2028-01-20T12:00:00Z"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("vault main: lifecycle would delete 11 of its 12 recovery points"),
        "{}",
        r.stdout
    );
    assert!(status_of(&points(dir.path()))
        .iter()
        .all(|(_, s)| *s == "COMPLETED"));
    let r = run(coffer(dir.path()).args([
        "run",
        "--at",
        "2028-01-20T12:00:00Z",
        "--allow-mass-deletion",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let p = points(dir.path());
    assert_eq!(p.iter().filter(|(_, s, _)| s == "DELETED").count(), 11);
    assert_eq!(
        p[11].1, "COMPLETED",
        "the newest point stays: keep_at_least"
    );
}

#[test]
fn manual_deletion_asks_refuses_under_a_hold_and_deletes_with_yes() {
    let hold = "legal_hold \"audit\" {\n  created_from = \"2027-01-02\"\n}";
    let dir = applied(&config("delete_after = \"35d\"", "", hold));
    nightly(dir.path(), 1, "03:30:00");
    nightly(dir.path(), 2, "03:30:00");
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let (held, free) = (&list[0], &list[1]);
    assert_eq!(held["holds"], serde_json::json!(["audit"]));
    assert_eq!(free["holds"], serde_json::json!([]));
    let id = |p: &Value| p["id"].as_str().unwrap().to_string();

    // --hold lists what the hold holds; --why says what keeps each point
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--hold", "audit", "--json"]));
    let listed: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], held["id"]);
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--why"]));
    assert!(r.stdout.contains("KEPT BY"), "{}", r.stdout);
    assert!(r.stdout.contains("legal hold audit"), "{}", r.stdout);
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--hold", "nope"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no legal hold `nope`"), "{}", r.stderr);

    // no terminal, no --yes: refused, nothing deleted
    let r = run(coffer(dir.path()).args(["recovery-points", "delete", &id(free)]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("pass --yes"), "{}", r.stderr);
    // a held point is refused with the hold's name
    let r = run(coffer(dir.path()).args(["recovery-points", "delete", &id(held), "--yes"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("legal hold audit"), "{}", r.stderr);
    assert_eq!(vault_snapshots(dir.path()).len(), 2);

    let r =
        run(coffer(dir.path()).args(["recovery-points", "delete", &id(free), "--yes", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(job["kind"], "delete");
    assert_eq!(job["state"], "COMPLETED");
    assert_eq!(job["recovery_point_id"], free["id"]);
    let p = points(dir.path());
    assert_eq!(
        p[0],
        ("2027-01-01".into(), "DELETED".into(), Some("manual".into()))
    );
    assert_eq!(vault_snapshots(dir.path()).len(), 1);
    // deleting it again says when and how it went
    let r = run(coffer(dir.path()).args(["recovery-points", "delete", &id(free), "--yes"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already deleted"), "{}", r.stderr);
}

#[test]
fn deletions_an_apply_approved_pass_the_breaker_and_a_saved_plan_keeps_its_forecast() {
    let dir = applied(&config("delete_after = \"1y\"", "", ""));
    for day in 1..=12 {
        nightly(dir.path(), day, "03:30:00");
    }
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"1y\"\nkeep {\n last = 1\n }", "", ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["plan", "--out", "tighter.plan"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the saved plan carries the forecast it showed
    let r = run(coffer(dir.path()).args(["apply", "tighter.plan"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("deletes 11 existing recovery points"),
        "{}",
        r.stderr
    );
    let r = run(coffer(dir.path()).args(["apply", "tighter.plan", "--allow-deletions", "11"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // eleven of twelve trips the breaker, unless an apply approved them, as here
    let t = tick(dir.path(), "2027-01-12T12:00:00Z");
    assert_eq!(t["lifecycle"]["breaker"], serde_json::json!([]), "{t}");
    let p = points(dir.path());
    assert_eq!(p.iter().filter(|(_, s, _)| s == "DELETED").count(), 11);
}

#[test]
fn forgotten_points_leave_unused_data_that_a_daily_prune_removes_and_restic_checks() {
    let dir = applied(&config(
        "keep {\n last = 1\n }",
        "prune {\n max_unused = \"10%\"\n }",
        "",
    ));
    for day in 1..=3 {
        // each day's data replaces the day before's: forgetting a point frees its data
        let docs = dir.path().join("data/docs");
        for e in std::fs::read_dir(&docs).unwrap() {
            std::fs::remove_file(e.unwrap().path()).unwrap();
        }
        std::fs::write(docs.join(format!("day-{day}.bin")), noise(2 << 20)).unwrap();
        tick(dir.path(), &format!("2027-01-{day:02}T03:30:00Z"));
    }
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "prune", "--json"]));
    let prunes: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        prunes.len(),
        2,
        "one a day, on the days points were deleted: {prunes:?}"
    );
    assert!(
        prunes.iter().all(|j| j["state"] == "COMPLETED"),
        "{prunes:?}"
    );
    assert!(
        prunes
            .iter()
            .all(|j| j["bytes"].as_u64().unwrap() > 1 << 20),
        "the forgotten day's data was pruned: {prunes:?}"
    );
    // a second tick the same day makes no second prune
    tick(dir.path(), "2027-01-03T12:00:00Z");
    let r = run(coffer(dir.path()).args(["jobs", "list", "--kind", "prune", "--json"]));
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&r.stdout).unwrap().len(),
        2
    );

    let out = restic(dir.path(), &["check", "--read-data"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // the kept point restores
    let r = run(coffer(dir.path()).args([
        "recovery-points",
        "list",
        "--status",
        "COMPLETED",
        "--json",
    ]));
    let kept: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(kept.len(), 1);
    let target = dir.path().join("restored");
    let r = run(coffer(dir.path()).args([
        "restore",
        "start",
        "--recovery-point",
        kept[0]["id"].as_str().unwrap(),
        "--target",
        target.to_str().unwrap(),
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // on demand: a prune job now, which finds nothing left to prune
    let r = run(coffer(dir.path()).args(["vault", "prune", "main", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let job: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(job["kind"], "prune");
    assert_eq!(job["state"], "COMPLETED");
    assert!(r.stderr.contains("unused (limit 10%)"), "{}", r.stderr);
}

#[test]
fn a_compliance_lock_past_its_grace_period_cannot_be_removed_or_shortened() {
    let lock = "lock {\n    mode           = \"compliance\"\n    min_retention  = \"7d\"\n    changeable_for = \"3d\"\n  }";
    let dir = applied(&config("delete_after = \"35d\"", lock, ""));
    // within its grace period the lock may still go: the plan is fine
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"35d\"", "", ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["plan"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // as if the lock had been applied in January: it became fixed three days later
    let state_path = dir.path().join(".coffer/state.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    let objects = state["objects"].as_array_mut().unwrap();
    let vault = objects
        .iter_mut()
        .find(|o| o["address"] == "vault.main")
        .unwrap();
    assert!(vault["lock_applied_at"].is_string(), "{vault}");
    vault["lock_applied_at"] = "2026-01-01T00:00:00Z".into();
    std::fs::write(&state_path, serde_json::to_string_pretty(&state).unwrap()).unwrap();

    let r = run(coffer(dir.path()).args(["plan"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("coffer::compliance_lock_fixed"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("removes it"), "{}", r.stderr);
    assert!(
        r.stderr.contains("became fixed on 2026-01-04"),
        "{}",
        r.stderr
    );
    // shortening is refused at the lock block; lengthening is allowed
    let shorter = lock.replace("\"7d\"", "\"3d\"");
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"35d\"", &shorter, ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["plan"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("shortens its min_retention"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("lock {"),
        "the diagnostic points at the lock block: {}",
        r.stderr
    );
    let longer = lock.replace("\"7d\"", "\"14d\"");
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"35d\"", &longer, ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["plan"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn prune_holds_restics_exclusive_lock_and_a_dead_holders_lock_is_stale() {
    let dir = applied(&config("delete_after = \"35d\"", "", ""));
    nightly(dir.path(), 1, "03:30:00");
    // a coffer killed while pruning leaves its lock behind, as a killed restic would
    let r = run(coffer(dir.path())
        .args(["vault", "prune", "main"])
        .env("COFFER_FAILPOINT", "prune-locked"));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("fail point prune-locked reached"),
        "{}",
        r.stderr
    );
    // restic reads it: an exclusive lock, in restic's format and the vault's key
    let out = restic(dir.path(), &["list", "locks", "--no-lock"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = String::from_utf8_lossy(&out.stdout).to_string();
    let id = ids.lines().next().expect("one lock").trim().to_string();
    let out = restic(dir.path(), &["cat", "lock", &id, "--no-lock"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lock["exclusive"], true, "{lock}");
    // restic will not back up meanwhile (on another host, where the lock's process cannot
    // be looked for)
    let out = restic(dir.path(), &["backup", "--host", "x", "main.hcl"]);
    assert!(!out.status.success());
    // the next prune sees that the lock's process is gone from this host (stale by `restic
    // unlock`'s rule), removes the lock and prunes (issue 17: a killed prune blocked every
    // later one until someone ran `restic unlock`)
    let r = run(coffer(dir.path()).args(["vault", "prune", "main"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out = restic(dir.path(), &["list", "locks", "--no-lock"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "its own lock is removed"
    );
}

#[test]
fn a_vaults_cold_repository_receives_file_points_at_their_cold_date_and_restores_them() {
    let vault = "cold_storage {\n    storage = \"file://./vaults/cold\"\n  }";
    let dir = applied(&config(
        "cold_storage_after = \"1d\"\n      delete_after = \"100d\"",
        vault,
        "",
    ));
    assert!(
        dir.path().join("vaults/cold/config").exists(),
        "apply initialised it"
    );
    nightly(dir.path(), 1, "03:30:00");
    let warm_id = vault_snapshots(dir.path())[0].id.to_hex().to_string();
    let t = nightly(dir.path(), 3, "03:30:00");
    assert_eq!(t["lifecycle"]["cold_started"], 1, "{t}");
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let first = list
        .iter()
        .find(|p| p["created_at"].as_str().unwrap().starts_with("2027-01-01"))
        .unwrap();
    assert_eq!(first["storage_class"], "COLD", "{first}");
    let cold_id = first["native_id"].as_str().unwrap().to_string();
    assert_ne!(cold_id, warm_id, "restic's copy makes a new snapshot");
    // forgotten in the warm repository, present in the cold one, which restic reads
    assert!(vault_snapshots(dir.path())
        .iter()
        .all(|s| s.id.to_hex().to_string() != warm_id));
    let out = restic_on(
        dir.path(),
        "vaults/cold",
        &["snapshots", "--json", "--no-lock"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0]["id"], cold_id.as_str());
    // a cold point restores from the cold repository
    let target = dir.path().join("restored");
    let r = run(coffer(dir.path()).args([
        "restore",
        "start",
        "--recovery-point",
        first["id"].as_str().unwrap(),
        "--target",
        target.to_str().unwrap(),
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(std::fs::read_dir(&target).unwrap().next().is_some());
    // and a cold point's deletion forgets it in the cold repository
    let r = run(coffer(dir.path()).args([
        "recovery-points",
        "delete",
        first["id"].as_str().unwrap(),
        "--yes",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out = restic_on(
        dir.path(),
        "vaults/cold",
        &["snapshots", "--json", "--no-lock"],
    );
    let snaps: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(snaps.is_empty(), "{snaps:?}");
}

#[test]
fn cold_storage_settings_are_checked_at_their_attributes() {
    let bad_class = "cold_storage {\n    storage       = \"s3://bucket/cold\"\n    storage_class = \"GLACIER\"\n  }";
    let dir = workspace(&config(
        "cold_storage_after = \"1d\"\n      delete_after = \"100d\"",
        bad_class,
        "",
    ));
    let r = run(coffer(dir.path()).args(["validate"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("not a storage class coffer can restore from at once"),
        "{}",
        r.stderr
    );
    let no_class = "cold_storage {\n    storage = \"s3://bucket/cold\"\n  }";
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"35d\"", no_class, ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["validate"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("needs `storage_class`"), "{}", r.stderr);
    let file_class = "cold_storage {\n    storage       = \"file://./cold\"\n    storage_class = \"GLACIER_IR\"\n  }";
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"35d\"", file_class, ""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["validate"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("storage_class applies to cold repositories in S3"),
        "{}",
        r.stderr
    );
    let orphan = "cold_storage {\n    storage = \"file://./vaults/cold\"\n  }";
    let text = config("delete_after = \"35d\"", orphan, "")
        .replace("  storage = \"file://./vaults/main\"\n", "");
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let r = run(coffer(dir.path()).args(["validate"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("coffer::cold_storage_without_storage"),
        "{}",
        r.stderr
    );
    // cold_storage_after into a vault without cold_storage: valid, with a warning at it
    let text = config(
        "cold_storage_after = \"1d\"\n      delete_after = \"100d\"",
        "",
        "",
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let r = run(coffer(dir.path()).args(["validate"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("coffer::no_cold_storage"), "{}", r.stderr);
    assert!(r.stderr.contains("stay warm"), "{}", r.stderr);
}

#[test]
fn force_destroy_is_refused_while_a_legal_hold_may_hold_the_vaults_points() {
    let hold = "legal_hold \"audit\" {\n  vaults = [vault.main]\n}";
    let dir = applied(&config(
        "delete_after = \"35d\"",
        "force_destroy = true",
        hold,
    ));
    nightly(dir.path(), 1, "03:30:00");
    let r = run(coffer(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("coffer::vault_held"), "{}", r.stderr);
    assert!(
        dir.path().join("vaults/main/config").exists(),
        "nothing was deleted"
    );
    // released, the vault can go with its data
    std::fs::write(
        dir.path().join("main.hcl"),
        config("delete_after = \"35d\"", "force_destroy = true", ""),
    )
    .unwrap();
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!dir.path().join("vaults/main").exists());
}
