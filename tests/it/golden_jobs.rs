//! Golden tests of what `coffer jobs list`, `coffer jobs show` and `coffer recovery-points
//! list` print, in text and JSON, from a catalog written through the library with fixed
//! times. Random ids are replaced by stable names before comparing.

use crate::support::{coffer, run, workspace, BASIC};
use coffer::catalog::{Catalog, JobUpdate, NewJob, NewRecoveryPoint, SqliteCatalog};
use coffer::jobs::{JobKind, JobOptions, JobState, Windows};
use std::path::Path;

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

const VOL: &str = "arn:aws:ec2:us-east-1:111122223333:volume/vol-0a1b2c3d";
const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:orders";
const INSTANCE: &str = "arn:aws:ec2:us-east-1:111122223333:instance/i-0f00";

fn nightly(resource: &str, day: &str) -> NewJob {
    NewJob {
        kind: JobKind::Backup,
        plan: Some("plan.daily".into()),
        rule: Some("plan.daily.rule.nightly".into()),
        resource_arn: resource.into(),
        vault: "main".into(),
        windows: Windows {
            scheduled_at: at(&format!("{day}T03:00:00Z")),
            start_by: at(&format!("{day}T04:00:00Z")),
            complete_by: at(&format!("{day}T07:00:00Z")),
        },
        options: JobOptions {
            tags: [("Team".to_string(), "data".to_string())].into(),
            cold_storage_after: None,
            delete_after: Some("35d".into()),
            deleted_by: None,
            opt_in_to_archive: false,
            ..JobOptions::default()
        },
        recovery_point_id: None,
        source_recovery_point_id: None,
    }
}

/// A catalog with a completed, a failed, an expired and an on-demand job.
fn seed(dir: &Path) {
    let mut c = SqliteCatalog::open(&dir.join(".coffer/catalog.db")).unwrap();
    let mut done = |job: &NewJob,
                    native: &[&str],
                    bytes: u64,
                    t0: &str,
                    t1: &str,
                    resource: serde_json::Value| {
        let j = c.create_job(job, at(t0)).unwrap().unwrap();
        c.transition_job(&j.id, JobState::Pending, at(t0), None)
            .unwrap();
        c.transition_job(&j.id, JobState::Running, at(t0), None)
            .unwrap();
        let mut point = NewRecoveryPoint::minimal(
            &job.vault,
            native[0],
            &job.resource_arn,
            resource["type"].as_str().unwrap(),
            at(t0),
        );
        point.resource = resource;
        point.plan = job.plan.clone();
        point.rule = job.rule.clone();
        point.job_id = Some(j.id.clone());
        point.completed_at = Some(at(t1));
        point.size_bytes = Some(bytes);
        point.encrypted = true;
        point.kms_key = Some("arn:aws:kms:us-east-1:111122223333:key/1234".into());
        point.delete_at = job.options.lifecycle_dates(at(t1)).1;
        point.tags = job.options.tags.clone();
        let rp = c.add_recovery_point(&point).unwrap();
        c.update_job(
            &j.id,
            &JobUpdate {
                attempts: Some(1),
                native_ids: Some(native.iter().map(|s| s.to_string()).collect()),
                bytes: Some(bytes),
                recovery_point_id: Some(rp),
                ..JobUpdate::default()
            },
        )
        .unwrap();
        c.transition_job(&j.id, JobState::Completed, at(t1), None)
            .unwrap();
        j.id
    };
    let vol_job = done(
        &nightly(VOL, "2026-12-05"),
        &["snap-0123456789abcdef0"],
        8 << 30,
        "2026-12-05T03:00:05Z",
        "2026-12-05T03:12:40Z",
        serde_json::json!({"arn": VOL, "type": "EBS", "name": "web-data", "tags": {"Backup": "daily"}, "relationships": [{"kind": "attached_to", "arn": INSTANCE}]}),
    );
    let mut on_demand = nightly(INSTANCE, "2026-12-05");
    on_demand.plan = None;
    on_demand.rule = None;
    on_demand.windows = Windows {
        scheduled_at: at("2026-12-05T10:00:00Z"),
        start_by: at("2026-12-05T18:00:00Z"),
        complete_by: at("2026-12-12T10:00:00Z"),
    };
    on_demand.options = JobOptions {
        delete_after: Some("7d".into()),
        ..JobOptions::default()
    };
    done(
        &on_demand,
        &["ami-0feedface", "snap-0aaa", "snap-0bbb"],
        16 << 30,
        "2026-12-05T10:00:00Z",
        "2026-12-05T10:20:00Z",
        serde_json::json!({"arn": INSTANCE, "type": "EC2", "name": "app", "tags": {}}),
    );
    c.update_job(
        &vol_job,
        &JobUpdate {
            warning: Some("suspicious: the source shrank by 60% since the previous recovery point (1000 to 400 bytes)".into()),
            ..JobUpdate::default()
        },
    )
    .unwrap();
    let failed = c
        .create_job(&nightly(DB, "2026-12-05"), at("2026-12-05T03:00:05Z"))
        .unwrap()
        .unwrap();
    c.transition_job(
        &failed.id,
        JobState::Pending,
        at("2026-12-05T03:00:05Z"),
        None,
    )
    .unwrap();
    c.transition_job(
        &failed.id,
        JobState::Failed,
        at("2026-12-05T03:00:06Z"),
        Some("the RDS quota ManualSnapshots in us-east-1 is full (100 of 100 used, 1 more wanted): delete old manual snapshots or ask AWS for a higher quota"),
    )
    .unwrap();
    let expired = c
        .create_job(&nightly(VOL, "2026-12-04"), at("2026-12-05T03:00:05Z"))
        .unwrap()
        .unwrap();
    c.transition_job(
        &expired.id,
        JobState::Expired,
        at("2026-12-05T03:00:05Z"),
        Some("missed: the start window closed at 2026-12-04T04:00:00+00:00 before coffer ran (was it stopped?)"),
    )
    .unwrap();
}

/// Replaces random job and recovery point ids by `job-###…1`, `rp-###…1`, … in order of
/// appearance, keeping their length so that columns stay aligned.
fn stable(text: &str) -> String {
    let mut out = text.to_string();
    for prefix in ["job-", "rp-"] {
        let mut n = 0;
        loop {
            let random = out.match_indices(prefix).map(|(i, _)| i).find(|&i| {
                let rest = &out[i + prefix.len()..];
                rest.len() >= 32 && rest[..32].chars().all(|c| c.is_ascii_hexdigit())
            });
            let Some(i) = random else { break };
            n += 1;
            let id = out[i..i + prefix.len() + 32].to_string();
            out = out.replace(&id, &format!("{prefix}{n:#>32}"));
        }
    }
    out
}

fn output(dir: &Path, args: &[&str]) -> String {
    let r = run(coffer(dir).args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    stable(&r.stdout)
}

#[test]
fn jobs_and_recovery_points_as_people_and_scripts_read_them() {
    let dir = workspace(BASIC);
    seed(dir.path());
    let list = output(dir.path(), &["jobs", "list"]);
    insta::assert_snapshot!("jobs_list", list);
    insta::assert_snapshot!(
        "jobs_list_json",
        output(dir.path(), &["jobs", "list", "--json"])
    );
    insta::assert_snapshot!(
        "jobs_list_failed",
        output(dir.path(), &["jobs", "list", "--state", "failed"])
    );
    // `jobs show` of the first job in the list (the on-demand one)
    let raw = run(coffer(dir.path()).args(["jobs", "list", "--json"]));
    let jobs: serde_json::Value = serde_json::from_str(&raw.stdout).unwrap();
    let completed = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["resource_arn"] == VOL && j["state"] == "COMPLETED")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    insta::assert_snapshot!(
        "jobs_show",
        output(dir.path(), &["jobs", "show", &completed])
    );
    insta::assert_snapshot!(
        "jobs_show_json",
        output(dir.path(), &["jobs", "show", &completed, "--json"])
    );
    insta::assert_snapshot!(
        "recovery_points_list",
        output(dir.path(), &["recovery-points", "list"])
    );
    insta::assert_snapshot!(
        "recovery_points_list_json",
        output(
            dir.path(),
            &[
                "recovery-points",
                "list",
                "--vault",
                "main",
                "--resource",
                VOL,
                "--json"
            ]
        )
    );
    let r = run(coffer(dir.path()).args(["jobs", "show", "job-nope"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("no job `job-nope` in the catalog; `coffer jobs list` shows the IDs"),
        "{}",
        r.stderr
    );
    let r = run(coffer(dir.path()).args(["jobs", "list", "--state", "DONE"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("--state `DONE` is not a job state; use one of CREATED, PENDING"),
        "{}",
        r.stderr
    );
}

/// Issue 16: `coffer report jobs` over the seeded catalog, in each format, for the day of
/// 5 December: the completed, failed and expired backups that ended that day, in AWS Backup's
/// job report fields. JSON validates against schema/report-jobs.schema.json (in schemas.rs's
/// committed schemas), and `--output` writes the same text to a file.
#[test]
fn job_reports_in_every_format() {
    let dir = workspace(BASIC);
    seed(dir.path());
    let day = [
        "--since",
        "2026-12-05T00:00:00Z",
        "--until",
        "2026-12-06T00:00:00Z",
    ];
    for format in ["text", "markdown", "csv", "json"] {
        let mut args = vec!["report", "jobs", "--format", format];
        args.extend(day);
        insta::assert_snapshot!(format!("report_jobs_{format}"), output(dir.path(), &args));
    }
    // nothing was copied or restored that day
    let mut args = vec!["report", "copies"];
    args.extend(day);
    assert_eq!(
        output(dir.path(), &args),
        "Copy jobs from 2026-12-05T00:00:00Z to 2026-12-06T00:00:00Z: no jobs\n"
    );
    let file = dir.path().join("jobs.csv");
    let mut args = vec!["report", "jobs", "--format", "csv", "--output"];
    args.push(file.to_str().unwrap());
    args.extend(day);
    assert_eq!(output(dir.path(), &args), "");
    let mut stdout = vec!["report", "jobs", "--format", "csv"];
    stdout.extend(day);
    assert_eq!(
        stable(&std::fs::read_to_string(&file).unwrap()),
        output(dir.path(), &stdout)
    );
    // an empty window is refused, saying why
    let r = run(coffer(dir.path()).args([
        "report",
        "jobs",
        "--since",
        "2026-12-06T00:00:00Z",
        "--until",
        "2026-12-05T00:00:00Z",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("is not before --until"), "{}", r.stderr);
}
