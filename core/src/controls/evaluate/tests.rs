//! Each control over a hand-built configuration, inventory and catalog, compliant and not.

use super::*;
use crate::config::{load, ConfigInput};
use crate::diag::SourceFile;
use crate::inventory::Resource;
use crate::jobs::record::{NewJob, NewRecoveryPoint};
use crate::jobs::{History, JobOptions, StorageClass, Windows};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const NOW: &str = "2026-12-10T12:00:00Z";
const VOL: &str = "arn:aws:ec2:eu-west-1:111122223333:volume/vol-1";
const DB: &str = "arn:aws:rds:eu-west-1:111122223333:db:orders";

fn objects(text: &str) -> BTreeMap<Address, Value> {
    let loaded = load(ConfigInput {
        files: vec![SourceFile::new("main.hcl", text)],
        now: at(NOW),
        ..Default::default()
    });
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    crate::objects::desired(&loaded.config.unwrap())
        .into_iter()
        .map(|o| (o.address, o.attributes))
        .collect()
}

fn inventory() -> Inventory {
    Inventory::new(vec![
        Resource::new(VOL, ResourceType::EbsVolume, "eu-west-1", "111122223333")
            .with_tags(&[("Env", "prod")]),
        Resource::new(DB, ResourceType::RdsInstance, "eu-west-1", "111122223333")
            .with_tags(&[("Env", "dev")]),
    ])
}

fn point(id: &str, vault: &str, arn: &str, created: &str) -> RecoveryPoint {
    let mut p = NewRecoveryPoint::minimal(vault, &format!("snap-{id}"), arn, "EBS", at(created));
    p.completed_at = Some(at(created));
    p.encrypted = true;
    RecoveryPoint {
        id: id.into(),
        status: PointStatus::Completed,
        storage_class: StorageClass::Warm,
        deleted_at: None,
        deleted_by: None,
        status_message: None,
        point: p,
    }
}

fn restore(id: &str, arn: &str, start: &str, end: &str, state: JobState) -> JobRecord {
    JobRecord {
        id: id.into(),
        job: NewJob {
            kind: JobKind::Restore,
            plan: None,
            rule: Some(restore_test::selection_label("weekly", "volumes")),
            resource_arn: arn.into(),
            vault: "main".into(),
            windows: Windows {
                scheduled_at: at(start),
                start_by: at(start),
                complete_by: at(end),
            },
            options: JobOptions::default(),
            recovery_point_id: Some("p1".into()),
            source_recovery_point_id: None,
        },
        history: History {
            transitions: vec![(JobState::Created, at(start)), (state, at(end))],
        },
        attempts: 1,
        error: None,
        bytes: None,
        native_ids: vec![],
        warning: None,
        created_resource_arn: None,
        validation_status: (state == JobState::Completed).then(|| "SUCCESSFUL".into()),
        validation_message: None,
        deletion_status: None,
    }
}

const BASE: &str = r#"
vault "main" {}
vault "dr" {
  region = "us-east-1"
  lock {
    mode          = "governance"
    min_retention = "30d"
    max_retention = "400d"
  }
}
plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
    lifecycle { delete_after = "35d" }
  }
}
selection "prod" {
  plan    = plan.daily
  any_tag = { Env = ["prod"] }
}
"#;

/// A resource's ARN, status and reason.
type Verdict = (String, Status, String);

/// Evaluates one framework (added to BASE) and returns each control's resources as
/// (arn, status, reason).
fn run(
    framework: &str,
    points: &[RecoveryPoint],
    restores: &[JobRecord],
) -> Vec<(ControlKind, Vec<Verdict>)> {
    let objects = objects(&format!("{BASE}\nframework \"f\" {{\n{framework}\n}}"));
    let inventory = inventory();
    let accounts = BTreeMap::from([("dr".to_string(), "444455556666".to_string())]);
    evaluate(&Evidence {
        objects: &objects,
        inventory: &inventory,
        points,
        restores,
        vault_accounts: &accounts,
        now: at(NOW),
    })
    .into_iter()
    .map(|c| {
        (
            c.control,
            c.resources
                .into_iter()
                .map(|r| (r.arn, r.status, r.reason))
                .collect(),
        )
    })
    .collect()
}

fn only(framework: &str, points: &[RecoveryPoint], restores: &[JobRecord]) -> Vec<Verdict> {
    let mut all = run(framework, points, restores);
    assert_eq!(all.len(), 1);
    all.pop().unwrap().1
}

use Status::{Compliant as C, NonCompliant as N};

#[test]
fn protected_by_backup_plan_follows_coverage() {
    let r = only(
        r#"control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" {}"#,
        &[],
        &[],
    );
    assert_eq!(
        r,
        [
            (VOL.to_string(), C, "covered by selection.prod".to_string()),
            (DB.to_string(), N, "no selection covers it".to_string()),
        ]
    );
}

#[test]
fn frequency_and_retention_need_one_rule_meeting_both() {
    let scope = r#"scope { resource_types = ["EBS"] }"#;
    let r = only(
        &format!(
            r#"control "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" {{
{scope}
}}"#
        ),
        &[],
        &[],
    );
    assert_eq!(r[0].1, C, "{}", r[0].2);
    assert_eq!(
        r[0].2,
        "plan.daily.rule.nightly runs every 24h and keeps points for 35d"
    );
    let r = only(
        &format!(
            r#"control "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" {{
                 required_frequency = "12h"
                 required_retention = "90d"
                 {scope}
               }}"#
        ),
        &[],
        &[],
    );
    assert_eq!(r[0].1, N);
    assert_eq!(
        r[0].2,
        "no rule runs at least every 12h and keeps points at least 90d (plan.daily.rule.nightly: every 24h, for 35d)"
    );
}

#[test]
fn encrypted_evaluates_only_resources_with_points() {
    let mut plain = point("p2", "main", VOL, "2026-12-09T03:00:00Z");
    plain.point.encrypted = false;
    let points = [point("p1", "main", VOL, "2026-12-08T03:00:00Z"), plain];
    let r = only(
        r#"control "BACKUP_RECOVERY_POINT_ENCRYPTED" {}"#,
        &points,
        &[],
    );
    assert_eq!(
        r,
        [(
            VOL.to_string(),
            N,
            "1 of 2 points are not encrypted (p2)".to_string()
        )]
    );
    let r = only(
        r#"control "BACKUP_RECOVERY_POINT_ENCRYPTED" {}"#,
        &points[..1],
        &[],
    );
    assert_eq!(r[0].1, C);
}

#[test]
fn minimum_retention_counts_delete_at_from_creation() {
    let mut short = point("p1", "main", VOL, "2026-12-08T03:00:00Z");
    short.point.delete_at = Some(at("2026-12-15T03:00:00Z"));
    let mut forever = point("p2", "main", VOL, "2026-12-09T03:00:00Z");
    forever.point.delete_at = None;
    let r = only(
        r#"control "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK" {}"#,
        &[short.clone(), forever.clone()],
        &[],
    );
    assert_eq!(r[0].1, N);
    assert_eq!(r[0].2, "1 of 2 points are kept less than 35d (p1 kept 7d)");
    let r = only(
        r#"control "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK" { required_retention = "7d" }"#,
        &[short, forever],
        &[],
    );
    assert_eq!(r[0].1, C);
}

#[test]
fn vault_lock_needs_a_point_in_a_lock_within_the_limits() {
    let only_main = [point("p1", "main", VOL, "2026-12-09T03:00:00Z")];
    let both = [
        point("p1", "main", VOL, "2026-12-09T03:00:00Z"),
        point("p2", "dr", VOL, "2026-12-09T04:00:00Z"),
    ];
    let control = |extra: &str| {
        format!(
            r#"control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK" {{
                 {extra}
                 scope {{ tags = {{ Env = "prod" }} }}
               }}"#
        )
    };
    let r = only(&control(""), &only_main, &[]);
    assert_eq!(
        r,
        [(
            VOL.to_string(),
            N,
            "no point is in a locked vault: vault.main has no lock".to_string()
        )]
    );
    let r = only(&control(""), &both, &[]);
    assert_eq!(r[0].1, C, "{}", r[0].2);
    let r = only(&control(r#"min_retention = "60d""#), &both, &[]);
    assert_eq!(r[0].1, N);
    assert!(
        r[0].2
            .contains("vault.dr's lock keeps points at least 30d, below 60d"),
        "{}",
        r[0].2
    );
    let r = only(&control(r#"max_retention = "1y""#), &both, &[]);
    assert!(r[0].2.contains("allows up to 400d, above 1y"), "{}", r[0].2);
    // no point at all is no protection
    let r = only(&control(""), &[], &[]);
    assert_eq!(r[0].2, "no completed recovery point");
}

#[test]
fn cross_region_and_cross_account_look_at_where_points_are() {
    let both = [
        point("p1", "main", VOL, "2026-12-09T03:00:00Z"),
        point("p2", "dr", VOL, "2026-12-09T04:00:00Z"),
    ];
    let scope = r#"scope { resource_types = ["EBS"] }"#;
    let region = |p: &str| {
        format!(
            r#"control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" {{
{p}
{scope}
}}"#
        )
    };
    assert_eq!(only(&region(""), &both, &[])[0].2, "p2 is in us-east-1");
    assert_eq!(
        only(&region(""), &both[..1], &[])[0],
        (
            VOL.to_string(),
            N,
            "no point is outside eu-west-1".to_string()
        )
    );
    let r = only(&region(r#"regions = ["ap-south-1"]"#), &both, &[]);
    assert_eq!((r[0].1, r[0].2.as_str()), (N, "no point is in ap-south-1"));
    let account = |p: &str| {
        format!(
            r#"control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" {{
{p}
{scope}
}}"#
        )
    };
    assert_eq!(
        only(&account(""), &both, &[])[0].2,
        "p2 is in account 444455556666"
    );
    assert_eq!(only(&account(""), &both[..1], &[])[0].1, N);
    let r = only(&account(r#"accounts = ["999999999999"]"#), &both, &[]);
    assert_eq!(r[0].1, N);
}

#[test]
fn last_recovery_point_says_how_old_the_newest_is() {
    let scope = r#"scope { resource_types = ["EBS"] }"#;
    let points = [
        point("old", "main", VOL, "2026-12-01T03:00:00Z"),
        point("new", "main", VOL, "2026-12-09T05:00:00Z"),
    ];
    let rpo = |p: &str| {
        format!(
            r#"control "BACKUP_LAST_RECOVERY_POINT_CREATED" {{
{p}
{scope}
}}"#
        )
    };
    let r = only(&rpo(""), &points, &[]);
    assert_eq!(
        (r[0].1, r[0].2.as_str()),
        (N, "newest point is 31h old, the control allows 24h")
    );
    assert_eq!(only(&rpo(r#"max_age = "36h""#), &points, &[])[0].1, C);
    // a deleted point is no evidence
    let mut gone = point("new", "main", VOL, "2026-12-10T11:00:00Z");
    gone.status = PointStatus::Deleted;
    assert_eq!(
        only(&rpo(""), &[gone], &[])[0].2,
        "no completed recovery point"
    );
}

#[test]
fn restore_time_uses_the_latest_completed_restore_test() {
    let scope = r#"scope { resource_types = ["EBS"] }"#;
    let rto = format!(
        r#"control "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" {{
max_restore_time = "30m"
{scope}
}}"#
    );
    let slow = restore(
        "r1",
        VOL,
        "2026-12-01T00:00:00Z",
        "2026-12-01T01:00:00Z",
        JobState::Completed,
    );
    let fast = restore(
        "r2",
        VOL,
        "2026-12-08T00:00:00Z",
        "2026-12-08T00:12:00Z",
        JobState::Completed,
    );
    let failed = restore(
        "r3",
        VOL,
        "2026-12-09T00:00:00Z",
        "2026-12-09T00:01:00Z",
        JobState::Failed,
    );
    let r = only(&rto, &[], std::slice::from_ref(&slow));
    assert_eq!(
        r[0],
        (
            VOL.to_string(),
            N,
            "the latest restore test (job r1) took 1h, the target is 30m".into()
        )
    );
    let r = only(&rto, &[], &[fast, slow, failed]);
    assert_eq!(
        r[0],
        (
            VOL.to_string(),
            C,
            "the latest restore test (job r2) took 12m, the target is 30m".into()
        )
    );
    assert_eq!(
        only(&rto, &[], &[])[0].2,
        "no restore test has restored it yet"
    );
}

#[test]
fn restore_test_passed_needs_a_recent_successful_validation() {
    let scope = r#"scope { resource_types = ["EBS"] }"#;
    let control = format!(
        r#"control "RESTORE_TEST_PASSED" {{
{scope}
}}"#
    );
    let good = restore(
        "r1",
        VOL,
        "2026-12-08T00:00:00Z",
        "2026-12-08T00:10:00Z",
        JobState::Completed,
    );
    assert_eq!(only(&control, &[], std::slice::from_ref(&good))[0].1, C);
    let mut bad_validation = restore(
        "r2",
        VOL,
        "2026-12-09T00:00:00Z",
        "2026-12-09T00:10:00Z",
        JobState::Completed,
    );
    bad_validation.validation_status = Some("FAILED".into());
    bad_validation.validation_message = Some("orders table is empty".into());
    let r = only(&control, &[], &[good.clone(), bad_validation]);
    assert_eq!(
        r[0].2,
        "the latest restore test (job r2, 35h50m ago) failed: validation FAILED: orders table is empty"
    );
    assert_eq!(r[0].1, N);
    let stale = format!(
        r#"control "RESTORE_TEST_PASSED" {{
max_age = "1d"
{scope}
}}"#
    );
    let r = only(&stale, &[], &[good]);
    assert_eq!(
        (r[0].1, r[0].2.as_str()),
        (
            N,
            "the latest restore test passed 59h50m ago, the control allows 24h"
        )
    );
    // a restore whose validation has not been recorded yet does not count either way
    let mut pending = restore(
        "r4",
        VOL,
        "2026-12-10T11:00:00Z",
        "2026-12-10T11:05:00Z",
        JobState::Completed,
    );
    pending.validation_status = None;
    let good = restore(
        "r1",
        VOL,
        "2026-12-08T00:00:00Z",
        "2026-12-08T00:10:00Z",
        JobState::Completed,
    );
    assert_eq!(only(&control, &[], &[good, pending])[0].1, C);
}

#[test]
fn a_framework_reports_defaults_and_non_compliance_of_any_resource() {
    let objects = objects(&format!(
        "{BASE}\nframework \"f\" {{\n control \"BACKUP_LAST_RECOVERY_POINT_CREATED\" {{}}\n}}"
    ));
    let inventory = inventory();
    let points = [point("p1", "main", VOL, "2026-12-10T03:00:00Z")];
    let results = evaluate(&Evidence {
        objects: &objects,
        inventory: &inventory,
        points: &points,
        restores: &[],
        vault_accounts: &BTreeMap::new(),
        now: at(NOW),
    });
    let c = &results[0];
    assert_eq!(c.parameters.describe(), ["max_age=1d"]);
    assert_eq!(
        (c.count(Status::Compliant), c.count(Status::NonCompliant)),
        (1, 1)
    );
    assert_eq!(c.status, Status::NonCompliant);
    assert_eq!(c.scope.describe(), "all resources");
}

#[test]
fn ages_read_as_people_say_them() {
    assert_eq!(age(45), "45m");
    assert_eq!(age(31 * 60), "31h");
    assert_eq!(age(90), "1h30m");
    assert_eq!(age(24 * 60), "24h");
    assert_eq!(age(3 * 24 * 60), "3d");
    assert_eq!(age(35 * 24 * 60), "35d");
}

#[test]
fn as_of_sees_the_catalog_as_it_stood() {
    let mut deleted_later = point("a", "main", VOL, "2026-12-01T03:00:00Z");
    deleted_later.status = PointStatus::Deleted;
    deleted_later.deleted_at = Some(at("2026-12-05T00:00:00Z"));
    let later = point("b", "main", VOL, "2026-12-06T03:00:00Z");
    let ended_later = restore(
        "r",
        VOL,
        "2026-12-03T00:00:00Z",
        "2026-12-04T01:00:00Z",
        JobState::Completed,
    );
    let (points, restores) = as_of(
        &[deleted_later, later],
        &[ended_later],
        at("2026-12-04T00:00:00Z"),
    );
    assert_eq!(points.len(), 1);
    assert_eq!(
        (points[0].id.as_str(), points[0].status),
        ("a", PointStatus::Completed)
    );
    assert!(restores.is_empty());
}
