//! CLI behaviour through the built binary: exit codes, confirmation, saved and stale plans,
//! lock contention, corrupt state, crash recovery, variables, destroy protection and the
//! smaller commands.

use crate::support::{coffer, repo, run, workspace, BASIC};
use coffer::catalog::{Catalog, NewRecoveryPoint, SqliteCatalog};
use coffer::state::local::LocalBackend;
use std::path::Path;
use std::time::Duration;

fn apply(dir: &Path) {
    let r = run(coffer(dir).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "apply failed:\n{}\n{}", r.stdout, r.stderr);
}

/// Records a recovery point of vault `main`, made now, in the workspace's catalog.
fn record_point_made_now(dir: &Path) {
    let mut catalog = SqliteCatalog::open(&dir.join(".coffer/catalog.db")).unwrap();
    catalog
        .add_recovery_point(&NewRecoveryPoint::minimal(
            "main",
            "snap-1",
            "dir:/data",
            "directory",
            chrono::Utc::now(),
        ))
        .unwrap();
}

fn serial(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join(".coffer/state.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["serial"]
        .as_u64()
        .unwrap()
}

#[test]
fn validate_exit_codes_and_locations() {
    let ok = workspace(BASIC);
    let r = run(coffer(ok.path()).arg("validate"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Success! The configuration is valid."));

    let bad = workspace("vault \"main\" {\n  storge = \"file://x\"\n}\n");
    let r = run(coffer(bad.path()).arg("validate"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("unknown attribute `storge` in vault \"main\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("main.hcl:2:3"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `storage`?"), "{}", r.stderr);

    let r = run(coffer(bad.path()).args(["validate", "--json"]));
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error_count"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["file"], "main.hcl");
    assert_eq!(d["range"]["start"]["line"], 2);
    assert_eq!(d["range"]["start"]["column"], 3);
    assert_eq!(d["range"]["end"]["column"], 9);
    assert_eq!(d["code"], "coffer::unknown_attribute");
    assert!(v["config"].is_null());
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let dir = workspace(
        &std::fs::read_to_string(repo().join("tests/fixtures/diagnostics/many_errors.hcl"))
            .unwrap(),
    );
    let r = run(coffer(dir.path()).args(["validate", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["error_count"].as_u64().unwrap() >= 5, "{}", r.stdout);
}

#[test]
fn no_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(coffer(dir.path()).arg("plan"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no configuration files (*.hcl)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("coffer init"));
}

#[test]
fn plan_detailed_exitcode() {
    let dir = workspace(BASIC);
    let r = run(coffer(dir.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to destroy."),
        "{}",
        r.stdout
    );
    let r = run(coffer(dir.path()).arg("plan"));
    assert_eq!(r.code, 0, "without the flag, changes still exit 0");
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("No changes."));
    std::fs::write(dir.path().join("main.hcl"), BASIC.replace("35d", "36d")).unwrap();
    let r = run(coffer(dir.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("~ lifecycle = {"), "{}", r.stdout);
    std::fs::write(dir.path().join("main.hcl"), "vault \"x\" {}").unwrap();
    let r = run(coffer(dir.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(r.code, 1, "errors exit 1 even with --detailed-exitcode");
}

#[test]
fn plan_formats() {
    let dir = workspace(BASIC);
    let md = run(coffer(dir.path()).args(["plan", "--format", "markdown"]));
    assert!(
        md.stdout
            .starts_with("### coffer plan: 5 to add, 0 to change, 0 to destroy"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("<details>"));
    let json = run(coffer(dir.path()).args(["plan", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["add"], 5);
    let single_dash = run(coffer(dir.path()).args(["plan", "-json"]));
    assert_eq!(single_dash.code, 0);
    assert!(single_dash.stdout.starts_with('{'));
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let dir = workspace(BASIC);
    let r = run(coffer(dir.path())
        .arg("apply")
        .stdin(std::process::Stdio::null()));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--auto-approve"), "{}", r.stderr);
    assert!(
        !dir.path().join(".coffer/state.json").exists(),
        "nothing may be applied"
    );
}

#[test]
fn apply_creates_vault_storage_and_is_idempotent() {
    let dir = workspace(BASIC);
    apply(dir.path());
    assert!(dir.path().join("vaults/main").is_dir());
    assert_eq!(serial(dir.path()), 1);
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("No changes."));
    assert_eq!(serial(dir.path()), 1, "a no-op apply does not write state");
    let list = run(coffer(dir.path()).args(["state", "list"]));
    assert_eq!(
        list.stdout,
        "vault.main\nplan.daily\nplan.daily.rule.nightly\nselection.tagged\ndirectory.data\n"
    );
}

#[test]
fn saved_plan_is_applied_exactly_and_a_stale_one_is_refused() {
    let dir = workspace(BASIC);
    let r = run(coffer(dir.path()).args(["plan", "--out", "p1.json"]));
    assert_eq!(r.code, 0);
    // the configuration changes after the plan was saved: apply still does what the plan says
    std::fs::write(
        dir.path().join("main.hcl"),
        BASIC.replace("directory \"data\"", "directory \"other\""),
    )
    .unwrap();
    let r = run(coffer(dir.path()).args(["apply", "p1.json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list = run(coffer(dir.path()).args(["state", "list"]));
    assert!(list.stdout.contains("directory.data"), "{}", list.stdout);

    // a plan made against serial 1 is stale once another apply moved the state on
    let r = run(coffer(dir.path()).args(["plan", "--out", "p2.json"]));
    assert_eq!(r.code, 0);
    std::fs::write(dir.path().join("main.hcl"), BASIC).unwrap();
    let r = run(coffer(dir.path()).args(["plan", "--out", "p3.json"]));
    assert_eq!(r.code, 0);
    assert_eq!(run(coffer(dir.path()).args(["apply", "p2.json"])).code, 0);
    let before = std::fs::read_to_string(dir.path().join(".coffer/state.json")).unwrap();
    let r = run(coffer(dir.path()).args(["apply", "p3.json"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is stale"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".coffer/state.json")).unwrap(),
        before
    );

    // a plan made before any state existed is stale once some state exists
    let fresh = workspace(BASIC);
    assert_eq!(
        run(coffer(fresh.path()).args(["plan", "--out", "p.json"])).code,
        0
    );
    apply(fresh.path());
    let r = run(coffer(fresh.path()).args(["apply", "p.json"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("made against no state at all"),
        "{}",
        r.stderr
    );

    let shown = run(coffer(dir.path()).args(["show", "p2.json"]));
    assert_eq!(shown.code, 0);
    assert!(shown.stdout.contains("Plan:"), "{}", shown.stdout);
}

#[test]
fn a_busy_lock_fails_naming_its_holder() {
    let dir = workspace(BASIC);
    let backend = LocalBackend::new(dir.path().join(".coffer"));
    let held = backend.lock("test-holder", Duration::ZERO, |_| {}).unwrap();
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve", "--lock-timeout", "300ms"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(&held.info.id), "{}", r.stderr);
    assert!(r.stderr.contains("operation `test-holder`"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("process {}", std::process::id())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("coffer force-unlock"), "{}", r.stderr);
    assert!(!dir.path().join(".coffer/state.json").exists());

    // force-unlock needs the right ID, then frees the state
    let wrong = run(coffer(dir.path()).args(["force-unlock", "not-the-id"]));
    assert_eq!(wrong.code, 1);
    let ok = run(coffer(dir.path()).args(["force-unlock", &held.info.id]));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    apply(dir.path());
    drop(held);
}

#[test]
fn a_waiting_writer_proceeds_when_the_lock_is_released() {
    let dir = workspace(BASIC);
    let backend = LocalBackend::new(dir.path().join(".coffer"));
    let held = backend.lock("test-holder", Duration::ZERO, |_| {}).unwrap();
    let mut child = coffer(dir.path())
        .args(["apply", "--auto-approve", "--lock-timeout", "30s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // release the lock only once the writer says it waits for it
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("Waiting up to") {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(n > 0, "the writer ended without waiting: {seen}");
        seen.push_str(&line);
    }
    drop(held);
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{seen}");
}

#[test]
fn concurrent_applies_serialise_and_leave_valid_state() {
    let dir = workspace(BASIC);
    let spawn = || {
        coffer(dir.path())
            .args(["apply", "--auto-approve", "--lock-timeout", "60s"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let outs = [
        String::from_utf8_lossy(&a.stdout).into_owned(),
        String::from_utf8_lossy(&b.stdout).into_owned(),
    ];
    assert_eq!(
        outs.iter()
            .filter(|o| o.contains("Apply complete!"))
            .count(),
        1,
        "{outs:?}"
    );
    assert_eq!(
        outs.iter().filter(|o| o.contains("No changes.")).count(),
        1,
        "{outs:?}"
    );
    assert_eq!(serial(dir.path()), 1);
    assert_eq!(
        run(coffer(dir.path()).args(["plan", "--detailed-exitcode"])).code,
        0
    );
}

#[test]
fn corrupt_or_newer_state_is_reported_and_never_overwritten() {
    let dir = workspace(BASIC);
    std::fs::create_dir_all(dir.path().join(".coffer")).unwrap();
    let path = dir.path().join(".coffer/state.json");
    std::fs::write(&path, "{\"format_version\": 1, \"serial\": ").unwrap();
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["show"],
        &["state", "list"],
    ] {
        let r = run(coffer(dir.path()).args(args));
        assert_eq!(r.code, 1, "{args:?}");
        assert!(
            r.stderr.contains("state is corrupt"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("was not modified"), "{}", r.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"format_version\": 1, \"serial\": "
    );

    let newer = r#"{"format_version": 2, "serial": 9, "lineage": "x", "coffer_version": "9.9.9", "objects": []}"#;
    std::fs::write(&path, newer).unwrap();
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("written by a newer coffer"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
}

/// A large configuration, so that apply runs long enough to be interrupted.
fn many_objects(n: usize) -> String {
    let mut text = String::from("vault \"main\" {\n  storage = \"file://./vaults/main\"\n}\n");
    for i in 0..n {
        text.push_str(&format!(
            "plan \"p{i}\" {{\n  rule \"r\" {{\n    schedule = \"cron(0 3 * * ? *)\"\n    target_vault = vault.main\n  }}\n}}\nselection \"s{i}\" {{\n  plan = plan.p{i}\n  resources = [\"arn:aws:ec2:us-east-1:1:volume/v{i}\"]\n}}\n"
        ));
    }
    text
}

#[test]
fn apply_killed_mid_way_leaves_true_state_and_can_finish() {
    let dir = workspace(&many_objects(300));
    // killed (as by SIGKILL) right after its 500th step was journaled
    let killed = run(coffer(dir.path())
        .args(["apply", "--auto-approve"])
        .env("COFFER_FAILPOINT", "apply-after-step-500"));
    assert_ne!(killed.code, 0);
    assert!(
        killed
            .stderr
            .contains("fail point apply-after-step-500 reached"),
        "{}",
        killed.stderr
    );

    // whatever was done is in state (journal replayed); the rest is still planned
    let listed = run(coffer(dir.path()).args(["state", "list"]));
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let done = listed.stdout.lines().count();
    assert_eq!(done, 500, "exactly the journaled steps are in state");
    let plan = run(coffer(dir.path()).args(["plan", "--json"]));
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let remaining = v["summary"]["add"].as_u64().unwrap() as usize;
    assert_eq!(
        done + remaining,
        1 + 3 * 300,
        "done {done} + remaining {remaining}"
    );
    assert_eq!(v["summary"]["destroy"], 0);
    apply(dir.path());
    assert_eq!(
        run(coffer(dir.path()).args(["plan", "--detailed-exitcode"])).code,
        0
    );
    assert!(!dir.path().join(".coffer/state.journal").exists());
}

#[test]
fn destroying_a_vault_with_recovery_points_needs_force_destroy() {
    let dir = workspace(BASIC);
    apply(dir.path());
    record_point_made_now(dir.path());
    let r = run(coffer(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("cannot destroy vault `main`: it holds 1 recovery point"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("force_destroy = true"), "{}", r.stderr);
    assert_eq!(
        run(coffer(dir.path()).args(["state", "list"]))
            .stdout
            .lines()
            .count(),
        5
    );

    std::fs::write(
        dir.path().join("main.hcl"),
        BASIC.replace(
            "storage = \"file://./vaults/main\"",
            "storage = \"file://./vaults/main\"\n  force_destroy = true",
        ),
    )
    .unwrap();
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 0 added, 0 changed, 5 destroyed."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "vault.main: force_destroy deletes the repository at file://./vaults/main and the 1 recovery point it holds"
        ),
        "{}",
        r.stdout
    );
    assert!(
        !dir.path().join("vaults/main").exists(),
        "force_destroy deletes the repository data"
    );
    assert_eq!(run(coffer(dir.path()).args(["state", "list"])).stdout, "");
    // and the catalog records its points as deleted
    let r = run(coffer(dir.path()).args(["recovery-points", "list", "--json"]));
    let points: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(points[0]["status"], "DELETED", "{points:#}");
    assert_eq!(points[0]["deleted_by"], "force_destroy", "{points:#}");
}

#[test]
fn destroying_a_vault_keeps_its_repository_without_force_destroy_and_a_lock_blocks_force() {
    // no points and no force_destroy: the vault goes, its repository stays
    let dir = workspace(BASIC);
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("is kept"), "{}", r.stdout);
    assert!(dir.path().join("vaults/main/config").is_file());

    // force_destroy, but the vault's lock still holds a point made today
    let locked = BASIC.replace(
        "storage = \"file://./vaults/main\"",
        "storage = \"file://./vaults/main\"\n  force_destroy = true\n  lock {\n    mode          = \"governance\"\n    min_retention = \"30d\"\n  }",
    );
    let dir = workspace(&locked);
    apply(dir.path());
    record_point_made_now(dir.path());
    let r = run(coffer(dir.path()).args(["destroy", "--auto-approve"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("cannot destroy vault `main`: its lock keeps its recovery points until"),
        "{}",
        r.stderr
    );
    assert!(dir.path().join("vaults/main/config").is_file());
}

#[test]
fn variables_from_env_files_and_flags_in_order_of_precedence() {
    let dir = workspace(
        r#"
variable "team" {
  type = string
}
variable "retention_days" {
  type    = number
  default = 35
}
vault "main" {
  tags = { Team = var.team, Days = tostring(var.retention_days) }
}
"#,
    );
    let missing = run(coffer(dir.path()).arg("validate"));
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("no value for required variable `team`"),
        "{}",
        missing.stderr
    );

    std::fs::write(
        dir.path().join("vars.hcl.in"),
        "team = \"from-file\"\nretention_days = 90\n",
    )
    .unwrap();
    let tags = |args: &[&str], env: Option<&str>| -> serde_json::Value {
        let mut c = coffer(dir.path());
        c.args(["validate", "--json"]).args(args);
        if let Some(v) = env {
            c.env("COFFER_VAR_team", v);
        }
        let r = run(&mut c);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["config"]["vaults"]["main"]
            ["tags"]
            .clone()
    };
    assert_eq!(tags(&[], Some("from-env"))["Team"], "from-env");
    assert_eq!(
        tags(&["-var-file", "vars.hcl.in"], Some("from-env"))["Team"],
        "from-file"
    );
    assert_eq!(tags(&["-var-file", "vars.hcl.in"], None)["Days"], "90");
    assert_eq!(
        tags(
            &["-var-file", "vars.hcl.in", "-var", "team=from-flag"],
            Some("from-env")
        )["Team"],
        "from-flag"
    );
    let bad =
        run(coffer(dir.path()).args(["validate", "-var", "team=x", "-var", "retention_days=lots"]));
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("`lots` is not a number"),
        "{}",
        bad.stderr
    );
    let unknown = run(coffer(dir.path()).args(["validate", "-var", "team=x", "-var", "tema=y"]));
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("did you mean `team`?"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn fmt_check_diff_and_write() {
    let messy = "vault \"main\"{\nstorage=\"file://./v\"   # keep me\n    tags   =  {}\n}\n";
    let dir = workspace(messy);
    let r = run(coffer(dir.path()).args(["fmt", "--check", "--diff"]));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("main.hcl"));
    assert!(
        r.stdout.contains("+  storage = \"file://./v\" # keep me"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.hcl")).unwrap(),
        messy,
        "--check never writes"
    );
    assert_eq!(run(coffer(dir.path()).arg("fmt")).code, 0);
    let formatted = std::fs::read_to_string(dir.path().join("main.hcl")).unwrap();
    assert!(formatted.contains("# keep me"));
    assert_eq!(run(coffer(dir.path()).args(["fmt", "--check"])).code, 0);
    assert_eq!(run(coffer(dir.path()).arg("validate")).code, 0);

    let broken = workspace("vault \"x\" {\n");
    let r = run(coffer(broken.path()).arg("fmt"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot format main.hcl"), "{}", r.stderr);
}

#[test]
fn init_writes_a_valid_starter_only_into_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(coffer(dir.path()).arg("init"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = run(coffer(dir.path()).arg("validate"));
    assert_eq!(v.code, 0, "{}", v.stderr);
    assert_eq!(
        run(coffer(dir.path()).args(["fmt", "--check"])).code,
        0,
        "the starter is formatted"
    );
    let again = run(coffer(dir.path()).arg("init"));
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already holds a configuration"));
}

#[test]
fn show_and_state_show() {
    let dir = workspace(BASIC);
    let none = run(coffer(dir.path()).arg("show"));
    assert!(none.stdout.contains("No state"), "{}", none.stdout);
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["state", "show", "plan.daily.rule.nightly"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("schedule"), "{}", r.stdout);
    assert!(
        r.stdout.contains("# depends on vault.main, plan.daily"),
        "{}",
        r.stdout
    );
    let r = run(coffer(dir.path()).args(["state", "show", "vault.mian"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("did you mean vault.main?"),
        "{}",
        r.stderr
    );
    let r = run(coffer(dir.path()).args(["state", "show", "bogus"]));
    assert_eq!(r.code, 1);
    let r = run(coffer(dir.path()).arg("show"));
    assert!(r.stdout.contains("vault \"main\" {"), "{}", r.stdout);
}

#[test]
fn help_version_completions_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let h = run(coffer(dir.path()).arg("--help"));
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("Typical workflow"));
    assert!(h.stdout.contains("plan"));
    let v = run(coffer(dir.path()).arg("version"));
    assert!(v
        .stdout
        .starts_with(&format!("coffer {}", env!("CARGO_PKG_VERSION"))));
    let c = run(coffer(dir.path()).args(["completions", "bash"]));
    assert_eq!(c.code, 0);
    assert!(c.stdout.contains("coffer"));
    let bad = run(coffer(dir.path()).args(["plan", "--no-such-flag"]));
    assert_eq!(bad.code, 1);
}

#[test]
fn schedule_lists_runs_with_windows_as_text_and_json() {
    let dir =
        workspace(&std::fs::read_to_string(repo().join("examples/quickstart/main.hcl")).unwrap());
    let r = run(coffer(dir.path()).args([
        "schedule",
        "--from",
        "2026-11-26T07:00:00Z",
        "--limit",
        "2",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("at 06:00 UTC on the first Saturday of every month"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("2026-12-05 06:00 UTC   2026-12-05 08:00 UTC   2026-12-05 14:00 UTC"),
        "{}",
        r.stdout
    );

    let r = run(coffer(dir.path()).args([
        "schedule",
        "--json",
        "--from",
        "2026-11-26T07:00:00Z",
        "--until",
        "2027-01-31T00:00:00Z",
        "--rule",
        "plan.standard.rule.first-saturday",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rules = v.as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["rule"], "plan.standard.rule.first-saturday");
    assert_eq!(rules[0]["expression"], "cron(0 6 ? * 7#1 *)");
    assert_eq!(rules[0]["timezone"], "UTC");
    let runs = rules[0]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "--until cuts the list");
    assert_eq!(runs[0]["start"], "2026-12-05T06:00:00Z");
    assert_eq!(runs[0]["start_by"], "2026-12-05T08:00:00Z");
    assert_eq!(runs[0]["complete_by"], "2026-12-05T14:00:00Z");
    assert_eq!(runs[1]["start"], "2027-01-02T06:00:00Z");

    let bad =
        run(coffer(dir.path()).args(["schedule", "--rule", "plan.standard.rule.first-saturdy"]));
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("did you mean plan.standard.rule.first-saturday?"),
        "{}",
        bad.stderr
    );
    let bad = run(coffer(dir.path()).args(["schedule", "--from", "tomorrow"]));
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("not an RFC 3339 time"),
        "{}",
        bad.stderr
    );
}

#[test]
fn schedule_in_a_time_zone_shows_local_times() {
    let dir = workspace(
        r#"
vault "main" {}
plan "p" {
  rule "paris" {
    schedule     = "cron(0 6 ? * 7#1 *)"
    timezone     = "Europe/Paris"
    target_vault = vault.main
  }
}
"#,
    );
    let r = run(coffer(dir.path()).args([
        "schedule",
        "--json",
        "--from",
        "2026-11-26T00:00:00Z",
        "--limit",
        "1",
    ]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["timezone"], "Europe/Paris");
    assert_eq!(v[0]["runs"][0]["start"], "2026-12-05T05:00:00Z");
    let r = run(coffer(dir.path()).args([
        "schedule",
        "--from",
        "2026-11-26T00:00:00Z",
        "--limit",
        "1",
    ]));
    assert!(r.stdout.contains("2026-12-05 06:00 CET"), "{}", r.stdout);
}

/// Reads JSON log lines from the daemon's stderr until one has `event` == `want`.
pub(crate) fn wait_for_event(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    want: &str,
    seen: &mut Vec<String>,
) -> serde_json::Value {
    for line in lines.by_ref() {
        let line = line.expect("a log line");
        seen.push(line.clone());
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v["time"].is_string() && v["level"].is_string(), "{line}");
        if v["event"] == want {
            return v;
        }
    }
    panic!(
        "the daemon ended before logging `{want}`:\n{}",
        seen.join("\n")
    );
}

#[test]
fn the_daemon_ticks_sleeps_until_the_next_run_reloads_on_sighup_and_stops_on_sigterm() {
    use std::io::BufRead;
    let dir = workspace(BASIC);
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    apply(dir.path());
    let mut child = coffer(dir.path())
        .args(["daemon", "--log-format", "json"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let started = wait_for_event(&mut lines, "started", &mut seen);
    assert_eq!(started["rules"], 1);
    wait_for_event(&mut lines, "tick", &mut seen);
    let sleeping = wait_for_event(&mut lines, "sleeping", &mut seen);
    // the nightly rule runs at 03:00 UTC: the daemon sleeps until then
    assert!(
        sleeping["next_run"]
            .as_str()
            .unwrap()
            .ends_with("T03:00:00Z"),
        "{sleeping}"
    );
    // SIGHUP: read the applied configuration again (now with a second rule), and tick
    std::fs::write(
        dir.path().join("main.hcl"),
        BASIC.replace(
            "plan \"daily\" {",
            "plan \"daily\" {\n  rule \"weekly\" {\n    schedule     = \"cron(0 5 ? * SUN *)\"\n    target_vault = vault.main\n  }\n",
        ),
    )
    .unwrap();
    apply(dir.path());
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let reloaded = wait_for_event(&mut lines, "reloaded", &mut seen);
    assert_eq!(reloaded["rules"], 2);
    wait_for_event(&mut lines, "sleeping", &mut seen);
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_for_event(&mut lines, "stopped", &mut seen);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", seen.join("\n"));
}

#[test]
fn apply_initialises_vault_repositories_with_the_vault_key_and_never_writes_the_key() {
    let dir = workspace(BASIC);
    // without a key, creating the vault fails and says how to give one
    let r = run(coffer(dir.path())
        .args(["apply", "--auto-approve"])
        .env_remove("COFFER_VAULT_PASSWORD"));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("Error: vault.main: its repository at file://")
            && r.stderr.contains("set COFFER_VAULT_PASSWORD"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    // from a file
    let key = dir.path().join("vault.key");
    std::fs::write(&key, "a-key-only-the-file-knows\n").unwrap();
    let r = run(coffer(dir.path())
        .args(["apply", "--auto-approve"])
        .env_remove("COFFER_VAULT_PASSWORD")
        .env("COFFER_VAULT_PASSWORD_FILE", &key));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // restic's repository layout
    for d in ["config", "keys", "data", "index", "snapshots"] {
        assert!(dir.path().join("vaults/main").join(d).exists(), "{d}");
    }
    // the key appears in no file coffer wrote
    for entry in crate::support::files_under(&dir.path().join(".coffer")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes
                .windows(b"a-key-only-the-file-knows".len())
                .any(|w| w == b"a-key-only-the-file-knows"),
            "{} holds the key",
            entry.display()
        );
    }
}

/// Copies the quickstart into a temporary directory (without anything a run left there).
fn quickstart_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if [".coffer", "vaults", "restored"].contains(&name.to_str().unwrap()) {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(&name));
            } else {
                std::fs::copy(e.path(), to.join(&name)).unwrap();
            }
        }
    }
    copy(&repo().join("examples/quickstart"), dir.path());
    dir
}

#[test]
fn readme_first_command_backs_up_the_quickstart_and_a_point_restores() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let first = readme
        .lines()
        .find(|l| l.starts_with("export COFFER_VAULT_PASSWORD="))
        .expect("README opens with the quickstart command");
    let dir = quickstart_copy();
    let mut key = String::new();
    for part in first.split(" && ") {
        if let Some(k) = part.strip_prefix("export COFFER_VAULT_PASSWORD=") {
            key = k.to_string();
            continue;
        }
        let args = part
            .strip_prefix("cargo run --quiet -- -C examples/quickstart ")
            .unwrap_or_else(|| panic!("unexpected step `{part}`"));
        let r = run(coffer(dir.path())
            .env("COFFER_VAULT_PASSWORD", &key)
            .args(args.split_whitespace()));
        assert_eq!(r.code, 0, "`{part}`\n{}\n{}", r.stdout, r.stderr);
    }
    let r = run(coffer(dir.path()).env("COFFER_VAULT_PASSWORD", &key).args([
        "recovery-points",
        "list",
        "--json",
    ]));
    let points: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let points = points.as_array().unwrap();
    assert_eq!(
        points.len(),
        4,
        "both sample directories, each copied into `dr`: {points:#?}"
    );
    let in_vault = |vault: &str| -> Vec<&serde_json::Value> {
        points.iter().filter(|p| p["vault"] == vault).collect()
    };
    assert_eq!(in_vault("primary").len(), 2);
    for copy in in_vault("dr") {
        let source = points
            .iter()
            .find(|p| p["id"] == copy["source_recovery_point_id"])
            .expect("a copy names its source");
        assert_eq!(source["vault"], "primary");
        assert_eq!(copy["resource_arn"], source["resource_arn"]);
        assert_eq!(copy["created_at"], source["created_at"]);
        // the copy_to block's own lifecycle: delete_after = "1y", from the source's creation
        assert_eq!(copy["delete_at"], "2027-12-05T06:30:00Z");
        assert_eq!(copy["tags"]["coffer:vault"], "dr");
    }
    // the copy restores: it is the one read back below
    let docs = in_vault("dr")
        .into_iter()
        .find(|p| {
            p["resource_arn"]
                .as_str()
                .unwrap()
                .ends_with("/data/documents")
        })
        .unwrap();
    let target = dir.path().join("restored");
    let r = run(coffer(dir.path())
        .env("COFFER_VAULT_PASSWORD", &key)
        .args([
            "restore",
            "start",
            "--recovery-point",
            docs["id"].as_str().unwrap(),
            "--target",
        ])
        .arg(&target));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for f in std::fs::read_dir(dir.path().join("data/documents")).unwrap() {
        let f = f.unwrap();
        assert_eq!(
            std::fs::read(f.path()).unwrap(),
            std::fs::read(target.join(f.file_name())).unwrap()
        );
    }
}

#[test]
fn a_vault_takes_its_key_from_one_setting_and_only_with_storage() {
    let both = workspace(
        "vault \"main\" {\n  storage       = \"file://./v\"\n  password_env  = \"KEY\"\n  password_file = \"key.txt\"\n}\n",
    );
    let r = run(coffer(both.path()).arg("validate"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "a vault takes its key from `password_env` or from `password_file`, not both"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("main.hcl:4:"), "{}", r.stderr);

    let no_storage = workspace("vault \"main\" {\n  password_env = \"KEY\"\n}\n");
    let r = run(coffer(no_storage.path()).arg("validate"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("only a vault with `storage` has a repository key"),
        "{}",
        r.stderr
    );
}

/// Issue 11, defect 12: plan says that a vault's key cannot be found, before apply would fail
/// half-way through.
#[test]
fn plan_warns_at_a_vault_whose_key_cannot_be_found() {
    let dir = workspace(BASIC);
    let r = run(coffer(dir.path())
        .arg("plan")
        .env_remove("COFFER_VAULT_PASSWORD"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("coffer::vault_key_missing")
            && r.stderr
                .contains("the key of vault `main`'s repository cannot be found")
            && r.stderr.contains("main.hcl:2:7"),
        "{}",
        r.stderr
    );
    let r = run(coffer(dir.path()).arg("plan"));
    assert!(!r.stderr.contains("vault_key_missing"), "{}", r.stderr);
}

/// Issue 17: a worker's lease below 3 s is refused before it claims anything (a renewal
/// every third of it would race a slow round trip to the database).
#[test]
fn a_worker_lease_shorter_than_three_seconds_is_refused() {
    let dir = workspace(BASIC);
    let r = run(coffer(dir.path()).args(["worker", "--lease", "1s"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("--lease 1s is too short") && r.stderr.contains("at least 3s"),
        "{}",
        r.stderr
    );
}
