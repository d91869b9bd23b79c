//! Tests of lifecycle evaluation: the floor, retention, removed rules, holds and locks.

use super::*;
use crate::jobs::live::LivePoints;
use crate::jobs::record::NewRecoveryPoint;
use crate::jobs::retention::KeepPolicy;
use crate::jobs::{PointStatus, StorageClass};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const RULE: &str = "plan.p.rule.nightly";
const ARN: &str = "arn:aws:ec2:us-east-1:1:volume/vol-1";

fn point(id: &str, created: &str, delete: Option<&str>) -> RecoveryPoint {
    let mut p = NewRecoveryPoint::minimal("main", id, ARN, "ebs_volume", at(created));
    p.rule = Some(RULE.into());
    p.delete_at = delete.map(at);
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

fn policies(keep: Option<KeepPolicy>, floor: u32) -> Policies {
    let mut p = Policies::default();
    p.rules.insert(
        RULE.into(),
        RulePolicy {
            vault: "main".into(),
            keep,
            floor,
            tz: Tz::UTC,
            opt_in_to_archive: false,
        },
    );
    p
}

fn actions<'a>(points: &'a [RecoveryPoint], v: &'a [Verdict]) -> Vec<(&'a str, &'a Action)> {
    v.iter()
        .map(|v| (points[v.index].id.as_str(), &v.action))
        .collect()
}

const NOW: &str = "2027-01-10T12:00:00Z";

#[test]
fn the_floor_keeps_the_newest_points_of_a_resource_that_exists_past_their_date() {
    let points = [
        point("a", "2026-12-01T03:00:00Z", Some("2027-01-01T03:00:00Z")),
        point("b", "2026-12-02T03:00:00Z", Some("2027-01-02T03:00:00Z")),
        point("c", "2026-12-03T03:00:00Z", Some("2027-01-03T03:00:00Z")),
    ];
    let exists = |_: &str| true;
    let v = evaluate(
        &LivePoints::from_points(&points),
        &policies(None, 2),
        &exists,
        at(NOW),
        true,
    );
    let expected = [
        (
            "c",
            Action::Wait(
                "it is among the newest points of a resource that still exists (keep_at_least)"
                    .into(),
            ),
        ),
        (
            "b",
            Action::Wait(
                "it is among the newest points of a resource that still exists (keep_at_least)"
                    .into(),
            ),
        ),
        ("a", Action::Delete(Reason::Lifecycle)),
    ];
    assert_eq!(
        actions(&points, &v),
        expected.iter().map(|(i, a)| (*i, a)).collect::<Vec<_>>()
    );
    assert_eq!(v[0].kept_by, ["keep_at_least 2"]);
    // the resource is gone: AWS Backup's behaviour, every expired point goes
    let gone = |_: &str| false;
    let v = evaluate(
        &LivePoints::from_points(&points),
        &policies(None, 2),
        &gone,
        at(NOW),
        true,
    );
    assert!(v
        .iter()
        .all(|v| v.action == Action::Delete(Reason::Lifecycle)));
    // keep_at_least = 0 is AWS's behaviour too
    let v = evaluate(
        &LivePoints::from_points(&points),
        &policies(None, 0),
        &exists,
        at(NOW),
        true,
    );
    assert!(v.iter().all(|v| matches!(v.action, Action::Delete(_))));
}

#[test]
fn retention_deletes_what_no_clause_keeps_and_says_why_the_rest_stay() {
    // one point a day for ten days
    let points: Vec<RecoveryPoint> = (1..=10)
        .map(|d| {
            point(
                &format!("d{d:02}"),
                &format!("2027-01-{d:02}T03:00:00Z"),
                None,
            )
        })
        .collect();
    let keep = KeepPolicy {
        daily: 3,
        ..KeepPolicy::default()
    };
    let exists = |_: &str| true;
    let v = evaluate(
        &LivePoints::from_points(&points),
        &policies(Some(keep), 1),
        &exists,
        at(NOW),
        true,
    );
    let deleted: Vec<&str> = v
        .iter()
        .filter(|v| v.action == Action::Delete(Reason::Retention))
        .map(|v| points[v.index].id.as_str())
        .collect();
    assert_eq!(deleted, ["d07", "d06", "d05", "d04", "d03", "d02", "d01"]);
    let newest = v.iter().find(|v| points[v.index].id == "d10").unwrap();
    assert_eq!(newest.action, Action::Keep);
    assert_eq!(newest.kept_by, ["keep daily", "keep_at_least 1"]);
    assert_eq!(
        newest.reason(&LivePoints::from_points(&points).points[9]),
        "kept",
        "a kept point has no deletion reason"
    );
}

#[test]
fn a_rule_no_longer_applied_keeps_the_default_floor_and_on_demand_points_have_none() {
    let mut on_demand = point("od", "2026-12-01T03:00:00Z", Some("2027-01-01T00:00:00Z"));
    on_demand.point.rule = None;
    let points = [
        point("old", "2026-12-01T03:00:00Z", Some("2027-01-01T00:00:00Z")),
        on_demand,
    ];
    let exists = |_: &str| true;
    let v = evaluate(
        &LivePoints::from_points(&points),
        &Policies::default(),
        &exists,
        at(NOW),
        true,
    );
    let by_id: BTreeMap<&str, &Action> = actions(&points, &v).into_iter().collect();
    assert!(matches!(by_id["old"], Action::Wait(_)));
    assert_eq!(by_id["od"], &Action::Delete(Reason::Lifecycle));
}

#[test]
fn holds_match_by_vault_resource_pattern_and_inclusive_dates() {
    let p = point("a", "2026-06-30T23:59:00Z", None);
    let hold = |vaults: &[&str], resources: &[&str], from: Option<&str>, to: Option<&str>| Hold {
        name: "h".into(),
        vaults: vaults.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        created_from: from.map(|d| d.parse().unwrap()),
        created_to: to.map(|d| d.parse().unwrap()),
    };
    assert!(hold(&["main"], &[], None, None).matches(&p));
    assert!(!hold(&["dr"], &[], None, None).matches(&p));
    assert!(hold(&[], &["arn:aws:ec2:*:volume/*"], None, None).matches(&p));
    assert!(!hold(&["main"], &["arn:aws:rds:*"], None, None).matches(&p));
    assert!(hold(&[], &[], Some("2026-06-30"), Some("2026-06-30")).matches(&p));
    assert!(!hold(&[], &[], Some("2026-07-01"), None).matches(&p));
    assert!(!hold(&[], &[], None, Some("2026-06-29")).matches(&p));
}

#[test]
fn holds_and_locks_refuse_deletion_on_every_path() {
    let p = point("a", "2026-12-01T00:00:00Z", Some("2027-01-01T00:00:00Z"));
    let mut policies = policies(None, 0);
    assert_eq!(policies.deletion_refused(&p, at(NOW)), None);
    policies.locks.insert(
        "main".into(),
        LockAttrs {
            mode: "compliance".into(),
            min_retention: Some(crate::config::duration::Duration::parse("60d").unwrap()),
            max_retention: None,
            changeable_for: None,
        },
    );
    assert_eq!(
        policies.deletion_refused(&p, at(NOW)).unwrap(),
        "a is in vault main, whose lock keeps it until 2027-01-30 00:00 UTC"
    );
    let exists = |_: &str| true;
    let v = evaluate(
        &LivePoints::from_points(std::slice::from_ref(&p)),
        &policies,
        &exists,
        at(NOW),
        true,
    );
    assert!(matches!(v[0].action, Action::Wait(_)));
    assert!(v[0]
        .kept_by
        .contains(&"vault lock: until 2027-01-30 00:00 UTC".to_string()));
    policies.locks.clear();
    policies.holds.push(Hold {
        name: "audit".into(),
        vaults: vec!["main".into()],
        resources: vec![],
        created_from: None,
        created_to: None,
    });
    assert_eq!(
        policies.deletion_refused(&p, at(NOW)).unwrap(),
        "a is under legal hold audit"
    );
    let v = evaluate(
        &LivePoints::from_points(std::slice::from_ref(&p)),
        &policies,
        &exists,
        at(NOW),
        true,
    );
    assert_eq!(v[0].action, Action::Wait("held by legal hold audit".into()));
    assert!(v[0].kept_by.contains(&"legal hold audit".to_string()));
}

/// Issue 13: copies follow their own lifecycle; the rule's `keep` thins out its target vault.
#[test]
fn a_rules_keep_policy_thins_its_target_vault_and_leaves_its_copies_alone() {
    let mut points = Vec::new();
    for (vault, prefix) in [("main", "m"), ("dr", "c")] {
        for day in 1..=3 {
            let mut p = point(
                &format!("{prefix}{day}"),
                &format!("2027-01-0{day}T03:00:00Z"),
                None,
            );
            p.point.vault = vault.into();
            points.push(p);
        }
    }
    let keep = KeepPolicy {
        last: 1,
        ..KeepPolicy::default()
    };
    let exists = |_: &str| true;
    let v = evaluate(
        &LivePoints::from_points(&points),
        &policies(Some(keep), 0),
        &exists,
        at(NOW),
        true,
    );
    let deleted: Vec<&str> = v
        .iter()
        .filter(|v| matches!(v.action, Action::Delete(_)))
        .map(|v| points[v.index].id.as_str())
        .collect();
    assert_eq!(
        deleted,
        ["m2", "m1"],
        "only the target vault's older points"
    );
}
