//! What restore tests do (pure): the applied tests read from recorded objects, the runs that
//! came due between two ticks, and for each run and selection the one eligible point per
//! resource it restores (COMPLETED, in an included vault, created within the selection
//! window; the newest, or one at random), as AWS Backup's restore testing picks them. The
//! names of a validation's and a cleanup's outcomes are here too.

use crate::address::Address;
use crate::coverage::select::glob;
use crate::inventory::ResourceType;
use crate::jobs::record::RecoveryPoint;
use crate::jobs::PointStatus;
use crate::objects::{attrs, RestoreTestAttrs, RestoreTestSelectionAttrs};
use crate::schedule::Schedule;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// The tag restored test resources carry (the test's name): what the next tick cleans up
/// after a crash, and what selections never cover.
pub const RESTORE_TEST_TAG: &str = "coffer:restore-test";

/// AWS Backup's validation statuses.
pub const SUCCESSFUL: &str = "SUCCESSFUL";
pub const FAILED: &str = "FAILED";
pub const TIMED_OUT: &str = "TIMED_OUT";

/// An applied restore test as a tick needs it.
#[derive(Debug, Clone)]
pub struct TestInfo {
    pub name: String,
    pub schedule: Schedule,
    pub start_window: Duration,
    pub attrs: RestoreTestAttrs,
}

/// The restore tests among recorded objects.
pub fn tests_from_objects<'a>(
    objects: impl IntoIterator<Item = (&'a Address, &'a Value)>,
) -> Result<Vec<TestInfo>, String> {
    let mut out = Vec::new();
    for (address, value) in objects {
        let Address::RestoreTest(name) = address else {
            continue;
        };
        let t: RestoreTestAttrs = attrs::read(address, value).map_err(|e| e.to_string())?;
        let tz = match t.timezone.as_str() {
            "UTC" => None,
            zone => Some(
                crate::schedule::occurrence::parse_timezone(zone)
                    .ok_or_else(|| format!("{address}: unknown time zone `{zone}`"))?,
            ),
        };
        let schedule =
            Schedule::parse(&t.schedule, tz).map_err(|e| format!("{address}: {}", e.message))?;
        out.push(TestInfo {
            name: name.clone(),
            schedule,
            start_window: t.start_window.to_chrono(),
            attrs: t,
        });
    }
    Ok(out)
}

/// A test run that came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRun {
    pub test: String,
    pub scheduled_at: DateTime<Utc>,
    /// Its start window closed before the tick: it is not run.
    pub expired: bool,
}

/// Runs scheduled in `(since, now]`.
pub fn due_runs(tests: &[TestInfo], since: DateTime<Utc>, now: DateTime<Utc>) -> Vec<DueRun> {
    let mut out = Vec::new();
    for t in tests {
        let mut cursor = since;
        while let Some(at) = t.schedule.next_after(cursor) {
            if at > now {
                break;
            }
            cursor = at;
            out.push(DueRun {
                test: t.name.clone(),
                scheduled_at: at,
                expired: now > at + t.start_window,
            });
        }
    }
    out
}

/// The job `rule` of a test's selection: `restore_test.NAME.selection.SEL`.
pub fn selection_label(test: &str, selection: &str) -> String {
    format!("restore_test.{test}.selection.{selection}")
}

/// The test and selection a job `rule` names, if it is a restore test's.
pub fn parse_label(rule: &str) -> Option<(&str, &str)> {
    rule.strip_prefix("restore_test.")?
        .split_once(".selection.")
}

fn mix(mut x: u64) -> u64 {
    // splitmix64: a fixed, well-spread choice from the run's seed
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn selected(s: &RestoreTestSelectionAttrs, p: &RecoveryPoint) -> bool {
    ResourceType::parse(&p.point.resource_type) == Some(s.resource_type)
        && (s.resources.is_empty() || s.resources.iter().any(|g| glob(g, &p.point.resource_arn)))
}

fn conditions_hold(s: &RestoreTestSelectionAttrs, tags: &BTreeMap<String, String>) -> bool {
    s.string_equals.iter().all(|(k, v)| tags.get(k) == Some(v))
        && s.string_not_equals
            .iter()
            .all(|(k, v)| tags.get(k) != Some(v))
}

/// For each selection of `test`, the one point per resource a run at `run_at` restores: among
/// the resource's eligible points (COMPLETED, in an included vault, created within the
/// selection window before `run_at`), the newest, or one at random (fixed by the test, the run
/// and the resource, so that racing ticks pick the same). A resource is selected when its ARN
/// matches (or the selection names none) and the tag conditions hold for its newest eligible
/// point. Returns (selection name, point), by selection then resource.
pub fn choose<'a>(
    test_name: &str,
    test: &RestoreTestAttrs,
    points: &'a [RecoveryPoint],
    run_at: DateTime<Utc>,
) -> Vec<(String, &'a RecoveryPoint)> {
    let from = run_at - test.selection_window.to_chrono();
    let mut out = Vec::new();
    for (name, s) in &test.selections {
        let mut by_resource: BTreeMap<&str, Vec<&RecoveryPoint>> = BTreeMap::new();
        for p in points {
            if p.status == PointStatus::Completed
                && test.includes_vault(&p.point.vault)
                && p.point.created_at >= from
                && p.point.created_at <= run_at
                && selected(s, p)
            {
                by_resource
                    .entry(&p.point.resource_arn)
                    .or_default()
                    .push(p);
            }
        }
        for (arn, mut candidates) in by_resource {
            candidates.sort_by(|a, b| {
                b.point
                    .created_at
                    .cmp(&a.point.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            if !conditions_hold(s, &candidates[0].point.tags) {
                continue;
            }
            let pick = if test.algorithm == "random" {
                let seed = seed_of(&format!("{test_name}/{name}/{arn}/{}", run_at.timestamp()));
                candidates[(mix(seed) % candidates.len() as u64) as usize]
            } else {
                candidates[0]
            };
            out.push((name.clone(), pick));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::duration::Duration as D;
    use crate::jobs::record::NewRecoveryPoint;
    use crate::jobs::StorageClass;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn point(id: &str, vault: &str, arn: &str, t: &str, created: &str) -> RecoveryPoint {
        let mut p = NewRecoveryPoint::minimal(vault, id, arn, t, at(created));
        p.tags.insert("Env".into(), "prod".into());
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

    fn test(algorithm: &str) -> RestoreTestAttrs {
        RestoreTestAttrs {
            schedule: "cron(0 4 ? * SUN *)".into(),
            timezone: "UTC".into(),
            start_window: D::parse("24h").unwrap(),
            algorithm: algorithm.into(),
            vaults: vec![],
            exclude_vaults: vec!["vault.dr".into()],
            selection_window: D::parse("30d").unwrap(),
            selections: [(
                "volumes".to_string(),
                RestoreTestSelectionAttrs {
                    resource_type: ResourceType::EbsVolume,
                    resources: vec![],
                    string_equals: [("Env".to_string(), "prod".to_string())].into(),
                    string_not_equals: BTreeMap::new(),
                    overrides: BTreeMap::new(),
                    validation_window: D::parse("4h").unwrap(),
                    validate: None,
                },
            )]
            .into(),
        }
    }

    const VOL: &str = "arn:aws:ec2:us-east-1:1:volume/vol-1";
    const VOL2: &str = "arn:aws:ec2:us-east-1:1:volume/vol-2";

    #[test]
    fn each_resource_gets_its_newest_eligible_point() {
        let mut deleted = point("gone", "main", VOL, "EBS", "2026-12-05T03:00:00Z");
        deleted.status = PointStatus::Deleted;
        let mut untagged = point("u", "main", VOL2, "EBS", "2026-12-05T03:00:00Z");
        untagged.point.tags.clear();
        let points = [
            point("old", "main", VOL, "EBS", "2026-10-01T03:00:00Z"),
            point("a", "main", VOL, "EBS", "2026-12-01T03:00:00Z"),
            point("b", "main", VOL, "EBS", "2026-12-04T03:00:00Z"),
            point("copy", "dr", VOL, "EBS", "2026-12-04T04:00:00Z"),
            point(
                "db",
                "main",
                "arn:aws:rds:us-east-1:1:db:x",
                "RDS",
                "2026-12-04T03:00:00Z",
            ),
            deleted,
            untagged,
        ];
        let picked = choose(
            "weekly",
            &test("latest"),
            &points,
            at("2026-12-06T04:00:00Z"),
        );
        let ids: Vec<(&str, &str)> = picked
            .iter()
            .map(|(s, p)| (s.as_str(), p.id.as_str()))
            .collect();
        // not the deleted one, not the excluded vault's copy, not the RDS point, not vol-2
        // (its newest point lacks the tag)
        assert_eq!(ids, [("volumes", "b")]);
    }

    #[test]
    fn random_picks_among_the_window_and_racing_ticks_pick_the_same() {
        let points: Vec<RecoveryPoint> = (1..=9)
            .map(|d| {
                point(
                    &format!("p{d}"),
                    "main",
                    VOL,
                    "EBS",
                    &format!("2026-12-0{d}T03:00:00Z"),
                )
            })
            .collect();
        let t = test("random");
        let mut seen = std::collections::BTreeSet::new();
        for week in 0..20 {
            let run = at("2026-12-10T04:00:00Z") + Duration::minutes(week);
            let a = choose("weekly", &t, &points, run);
            let b = choose("weekly", &t, &points, run);
            assert_eq!(a[0].1.id, b[0].1.id, "the same pick for the same run");
            seen.insert(a[0].1.id.clone());
        }
        assert!(seen.len() > 3, "spread over the window: {seen:?}");
    }

    #[test]
    fn runs_come_due_at_their_schedule_and_expire_after_their_start_window() {
        let mut t = test("latest");
        t.start_window = D::parse("1h").unwrap();
        let tests = vec![TestInfo {
            name: "weekly".into(),
            schedule: Schedule::parse(&t.schedule, None).unwrap(),
            start_window: t.start_window.to_chrono(),
            attrs: t,
        }];
        // Sundays 6 and 13 December 2026, 04:00
        let runs = due_runs(
            &tests,
            at("2026-12-05T00:00:00Z"),
            at("2026-12-13T04:30:00Z"),
        );
        assert_eq!(runs.len(), 2);
        assert!(runs[0].expired && !runs[1].expired);
        assert_eq!(
            selection_label("weekly", "volumes"),
            "restore_test.weekly.selection.volumes"
        );
        assert_eq!(
            parse_label("restore_test.weekly.selection.volumes"),
            Some(("weekly", "volumes"))
        );
    }
}
