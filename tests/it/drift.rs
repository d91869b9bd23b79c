//! Reality drift in `coffer plan` over file-level vaults (issue 16): a repository snapshot
//! deleted behind coffer's back, a repository directory removed, and a resource whose last
//! three backups failed each appear under **Drift** in text, markdown and JSON, and make
//! `--detailed-exitcode` exit 2 where the same plan without them exits 0. The EBS case is in
//! lifecycle_aws.rs.

use crate::files::{apply, tick};
use crate::support::{coffer, run, workspace};
use coffer::catalog::{Catalog, NewJob, SqliteCatalog};
use coffer::jobs::{JobKind, JobOptions, JobState, Windows};
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
  }
}

selection "dirs" {
  plan      = plan.daily
  resources = ["dir:*"]
}

directory "docs" {
  path = "./docs"
}
"#;

fn backed_up() -> tempfile::TempDir {
    let dir = workspace(CONFIG);
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/a.txt"), "hello").unwrap();
    apply(dir.path());
    let report = tick(dir.path(), "2026-12-05T03:10:00Z");
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    dir
}

fn plan(dir: &Path, args: &[&str]) -> (i32, String) {
    let r = run(coffer(dir).args(["plan", "-detailed-exitcode"]).args(args));
    assert!(r.code == 0 || r.code == 2, "{}\n{}", r.stdout, r.stderr);
    (r.code, r.stdout)
}

fn drift(dir: &Path) -> (i32, Value) {
    let (code, out) = plan(dir, &["--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    crate::schemas::assert_valid("plan", &json);
    (code, json["drift"].clone())
}

#[test]
fn a_repository_snapshot_deleted_behind_coffers_back_is_drift() {
    let dir = backed_up();
    let (code, d) = drift(dir.path());
    assert_eq!(code, 0, "{d:#}");
    assert_eq!(d["missing_points"], serde_json::json!([]));
    let snapshots = dir.path().join("vaults/main/snapshots");
    for f in std::fs::read_dir(&snapshots).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let (code, d) = drift(dir.path());
    assert_eq!(code, 2, "{d:#}");
    let missing = d["missing_points"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{d:#}");
    assert_eq!(missing[0]["vault"], "main");
    let (_, text) = plan(dir.path(), &[]);
    assert!(
        text.contains("Drift: 1 thing changed behind coffer's back"),
        "{text}"
    );
    assert!(
        text.contains("Recovery points whose native object is gone"),
        "{text}"
    );
    let (_, md) = plan(dir.path(), &["--format", "markdown"]);
    assert!(md.contains("#### Drift"), "{md}");
    assert!(md.contains("is gone"), "{md}");
    // repositories are on this machine: --refresh=false, which calls no cloud, still looks
    let (code, text) = plan(dir.path(), &["--refresh=false"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("Recovery points whose native object is gone"),
        "{text}"
    );
}

#[test]
fn a_removed_repository_is_drift_and_its_points_are_not_looked_for() {
    let dir = backed_up();
    std::fs::rename(dir.path().join("vaults/main"), dir.path().join("elsewhere")).unwrap();
    let (code, d) = drift(dir.path());
    assert_eq!(code, 2, "{d:#}");
    let repos = d["repositories"].as_array().unwrap();
    assert_eq!(repos.len(), 1, "{d:#}");
    assert_eq!(repos[0]["vault"], "main");
    assert_eq!(repos[0]["problem"], "no repository is there any more");
    assert_eq!(d["missing_points"], serde_json::json!([]));
    let (_, md) = plan(dir.path(), &["--drift-only", "--format", "markdown"]);
    assert!(md.contains("repository missing or broken"), "{md}");
}

#[test]
fn a_resource_whose_last_three_backups_failed_is_drift() {
    let dir = workspace(CONFIG);
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    apply(dir.path());
    let docs = format!(
        "dir:{}",
        dir.path().join("docs").canonicalize().unwrap().display()
    );
    let mut c = SqliteCatalog::open(&dir.path().join(".coffer/catalog.db")).unwrap();
    let at = |d: u32| {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-12-0{d}T03:00:00Z"))
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    for day in 1..=3 {
        let job = NewJob {
            kind: JobKind::Backup,
            plan: Some("plan.daily".into()),
            rule: Some("plan.daily.rule.nightly".into()),
            resource_arn: docs.clone(),
            vault: "main".into(),
            windows: Windows {
                scheduled_at: at(day),
                start_by: at(day),
                complete_by: at(day),
            },
            options: JobOptions::default(),
            recovery_point_id: None,
            source_recovery_point_id: None,
        };
        let j = c.create_job(&job, at(day)).unwrap().unwrap();
        c.transition_job(&j.id, JobState::Pending, at(day), None)
            .unwrap();
        c.transition_job(&j.id, JobState::Running, at(day), None)
            .unwrap();
        c.transition_job(&j.id, JobState::Failed, at(day), Some("disk on fire"))
            .unwrap();
        let (code, d) = drift(dir.path());
        let failing = d["failing_resources"].as_array().unwrap();
        if day < 3 {
            assert_eq!((code, failing.len()), (0, 0), "day {day}: {d:#}");
        } else {
            assert_eq!((code, failing.len()), (2, 1), "{d:#}");
            assert_eq!(failing[0]["resource_arn"], docs.as_str());
            assert_eq!(failing[0]["last_error"], "disk on fire");
            assert_eq!(failing[0]["since"], "2026-12-01T03:00:00Z");
        }
    }
    let (_, text) = plan(dir.path(), &[]);
    assert!(
        text.contains("Resources whose last 3 backups failed"),
        "{text}"
    );
    assert!(text.contains("last error: disk on fire"), "{text}");
}
