//! Golden tests of `coffer report controls|resources` (issue 16): a framework applied over
//! two directories, a catalog written through the library with fixed times, evaluated at a
//! fixed `--until`, in every format (JSON checked against its schema); and the exit codes CI relies on (4 when a control is
//! not met, 0 when all are).

use crate::support::{coffer, run, workspace};
use coffer::catalog::{Catalog, JobUpdate, NewJob, NewRecoveryPoint, SqliteCatalog};
use coffer::jobs::{JobKind, JobOptions, JobState, Windows};
use std::path::Path;

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

const BASE: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
}
plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
    lifecycle { delete_after = "35d" }
  }
}
directory "web" {
  path = "./web"
  tags = { Env = "prod" }
}
directory "scratch" {
  path = "./scratch"
}
selection "prod" {
  plan    = plan.daily
  any_tag = { Env = ["prod"] }
}
"#;

const FRAMEWORK: &str = r#"
framework "prod" {
  description = "what production must meet"
  control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" {}
  control "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" {
    scope { tags = { Env = "prod" } }
  }
  control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
    max_age = "24h"
  }
  control "BACKUP_RECOVERY_POINT_ENCRYPTED" {}
  control "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK" {
    required_retention = "90d"
  }
  control "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" {
    max_restore_time = "10m"
    scope { tags = { Env = "prod" } }
  }
  control "RESTORE_TEST_PASSED" {
    max_age = "7d"
    scope { tags = { Env = "prod" } }
  }
}
"#;

/// Only what the catalog below meets.
const MET: &str = r#"
framework "prod" {
  control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
    max_age = "24h"
    scope { tags = { Env = "prod" } }
  }
  control "RESTORE_TEST_PASSED" {
    scope {
      resource_types = ["directory"]
      tags           = { Env = "prod" }
    }
  }
}
"#;

fn setup(framework: &str) -> tempfile::TempDir {
    let dir = workspace(&format!("{BASE}{framework}"));
    for d in ["web", "scratch"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let r = run(coffer(dir.path()).args(["apply", "-auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    seed(dir.path());
    dir
}

/// A completed point of `web` made 9 hours before the report, kept 35 days, and a restore
/// test of it that took 12 minutes and passed.
fn seed(dir: &Path) {
    let web = format!("dir:{}", dir.join("web").canonicalize().unwrap().display());
    let mut c = SqliteCatalog::open(&dir.join(".coffer/catalog.db")).unwrap();
    let mut point = NewRecoveryPoint::minimal(
        "main",
        "0123abcd",
        &web,
        "directory",
        at("2026-12-05T03:00:00Z"),
    );
    point.completed_at = Some(at("2026-12-05T03:01:00Z"));
    point.encrypted = true;
    point.delete_at = Some(at("2027-01-09T03:01:00Z"));
    point.plan = Some("plan.daily".into());
    point.rule = Some("plan.daily.rule.nightly".into());
    let rp = c.add_recovery_point(&point).unwrap();
    let restore = NewJob {
        kind: JobKind::Restore,
        plan: None,
        rule: Some("restore_test.weekly.selection.files".into()),
        resource_arn: web,
        vault: "main".into(),
        windows: Windows {
            scheduled_at: at("2026-12-05T06:00:00Z"),
            start_by: at("2026-12-05T07:00:00Z"),
            complete_by: at("2026-12-05T08:00:00Z"),
        },
        options: JobOptions::default(),
        recovery_point_id: Some(rp),
        source_recovery_point_id: None,
    };
    let j = c
        .create_job(&restore, at("2026-12-05T06:00:00Z"))
        .unwrap()
        .unwrap();
    c.transition_job(&j.id, JobState::Pending, at("2026-12-05T06:00:00Z"), None)
        .unwrap();
    c.transition_job(&j.id, JobState::Running, at("2026-12-05T06:00:01Z"), None)
        .unwrap();
    c.update_job(
        &j.id,
        &JobUpdate {
            validation_status: Some("SUCCESSFUL".into()),
            ..JobUpdate::default()
        },
    )
    .unwrap();
    c.transition_job(&j.id, JobState::Completed, at("2026-12-05T06:12:00Z"), None)
        .unwrap();
}

const UNTIL: [&str; 2] = ["--until", "2026-12-05T12:00:00Z"];

/// The workspace's path and the random ids, made stable.
fn stable(dir: &Path, text: &str) -> String {
    let root = dir.canonicalize().unwrap().display().to_string();
    let mut out = text.replace(&root, "<workspace>");
    for (prefix, name) in [("job-", "JOB"), ("rp-", "POINT")] {
        let mut n = 0;
        while let Some(i) = out
            .find(prefix)
            .filter(|&i| out.len() >= i + prefix.len() + 32)
        {
            n += 1;
            let id = out[i..i + prefix.len() + 32].to_string();
            out = out.replace(&id, &format!("{name}{n}"));
        }
    }
    out
}

#[test]
fn control_and_resource_reports_in_every_format() {
    let dir = setup(FRAMEWORK);
    for (report, format) in [
        ("controls", "text"),
        ("controls", "markdown"),
        ("controls", "csv"),
        ("controls", "json"),
        ("resources", "text"),
        ("resources", "markdown"),
        ("resources", "csv"),
        ("resources", "json"),
    ] {
        let r = run(coffer(dir.path())
            .args(["report", report, "--format", format])
            .args(UNTIL));
        assert_eq!(r.code, 4, "{report} {format}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("controls are NON_COMPLIANT (exit code 4)"),
            "{}",
            r.stderr
        );
        insta::assert_snapshot!(
            format!("report_{report}_{format}"),
            stable(dir.path(), &r.stdout)
        );
    }
    // written to a file atomically, the same text
    let file = dir.path().join("controls.csv");
    let r = run(coffer(dir.path())
        .args(["report", "controls", "--format", "csv", "--output"])
        .arg(&file)
        .args(UNTIL));
    assert_eq!((r.code, r.stdout.as_str()), (4, ""), "{}", r.stderr);
    let stdout = run(coffer(dir.path())
        .args(["report", "controls", "--format", "csv"])
        .args(UNTIL));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout.stdout);
}

#[test]
fn report_controls_exits_0_when_every_control_is_met_and_4_when_time_passes() {
    let dir = setup(MET);
    let r = run(coffer(dir.path()).args(["report", "controls"]).args(UNTIL));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .starts_with("Controls at 2026-12-05T12:00:00Z: 2 COMPLIANT"),
        "{}",
        r.stdout
    );
    // two days later the point is too old, and the restore test still recent enough
    let r = run(coffer(dir.path()).args(["report", "controls", "--until", "2026-12-07T12:00:00Z"]));
    assert_eq!(r.code, 4, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("newest point is 56h59m old, the control allows 24h"),
        "{}",
        r.stdout
    );
    // before the point existed, as the catalog stood then
    let r = run(coffer(dir.path()).args([
        "report",
        "resources",
        "--format",
        "csv",
        "--until",
        "2026-12-05T02:00:00Z",
    ]));
    assert_eq!(r.code, 4);
    assert!(
        r.stdout.contains("no completed recovery point"),
        "{}",
        r.stdout
    );
    // a window makes no sense for an evaluation at one instant
    let r = run(coffer(dir.path()).args(["report", "controls", "--since", "2026-12-01T00:00:00Z"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("--since does not apply to compliance reports"),
        "{}",
        r.stderr
    );
}

#[test]
fn report_controls_says_when_no_framework_is_applied() {
    let dir = workspace("vault \"main\" {}\n");
    let r = run(coffer(dir.path()).args(["report", "controls"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("run `coffer apply`"), "{}", r.stderr);
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "-auto-approve"])).code,
        0
    );
    let r = run(coffer(dir.path()).args(["report", "controls"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("no framework is configured"),
        "{}",
        r.stderr
    );
}
