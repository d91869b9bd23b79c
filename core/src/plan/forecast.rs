//! The retention forecast (pure): which existing recovery points the first tick after apply
//! would delete (or move to cold storage) because of this change, and not without it. Keep
//! policies, `keep_at_least`, legal holds and vault locks are evaluated at every tick, so a
//! change to them can delete existing points; `delete_after` and `cold_storage_after` apply
//! to new points only, as in AWS Backup. The plan shows the result and apply refuses it
//! unless `--allow-deletions` covers it.

use crate::jobs::expiry::Action;
use crate::jobs::lifecycle::{evaluate, Policies};
use crate::jobs::live::LivePoints;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One point the change would act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastEntry {
    pub id: String,
    pub vault: String,
    pub resource_arn: String,
    pub created_at: DateTime<Utc>,
    /// The rule that made it (`plan.P.rule.R`), if a rule did.
    pub rule: Option<String>,
    /// Why the change acts on it.
    pub reason: String,
}

/// The points the first tick after apply would delete or move to cold storage because of
/// this change; `recovery_points` in plan JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    pub delete: Vec<ForecastEntry>,
    pub cold: Vec<ForecastEntry>,
}

impl Forecast {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.cold.is_empty()
    }
}

/// The lifecycle policies before and after a plan in `mode`, when they differ (only then can
/// the plan delete existing points); `None` also for drift-only plans, which change nothing,
/// and for recorded attributes no coffer wrote (the state reader reports those).
pub fn changed_policies(
    mode: crate::plan::Mode,
    state: Option<&crate::state::State>,
    desired: &[crate::objects::ObjectSpec],
) -> Option<(Policies, Policies)> {
    use crate::plan::Mode;
    let recorded = state.map(|s| s.objects.iter().map(|(a, o)| (a, &o.attributes)));
    let before = match recorded {
        Some(objects) => Policies::from_objects(objects).ok()?,
        None => Policies::default(),
    };
    let after = match mode {
        Mode::Normal => {
            Policies::from_objects(desired.iter().map(|o| (&o.address, &o.attributes))).ok()?
        }
        Mode::Destroy => Policies::default(),
        Mode::DriftOnly => return None,
    };
    (before != after).then_some((before, after))
}

/// Compares what lifecycle does with `points` under the recorded policies (`before`) and the
/// planned ones (`after`) at `now`. `points` must hold whole groups (see
/// [`evaluate`]); `exists` tells whether a resource still exists.
pub fn forecast(
    before: &Policies,
    after: &Policies,
    points: &LivePoints,
    exists: &dyn Fn(&str) -> bool,
    now: DateTime<Utc>,
) -> Forecast {
    let old: BTreeMap<usize, Action> = evaluate(points, before, exists, now, false)
        .into_iter()
        .map(|v| (v.index, v.action))
        .collect();
    let mut out = Forecast::default();
    for v in evaluate(points, after, exists, now, false) {
        let p = &points.points[v.index];
        let g = points.group_of(p);
        let was = old.get(&v.index);
        let entry = || ForecastEntry {
            id: p.id.clone(),
            vault: g.vault.clone(),
            resource_arn: g.resource_arn.clone(),
            created_at: p.created_at,
            rule: g.rule.clone(),
            reason: forecast_reason(&v.reason(p), was),
        };
        match v.action {
            Action::Delete(_) if !matches!(was, Some(Action::Delete(_))) => {
                out.delete.push(entry())
            }
            Action::Cold if was != Some(&Action::Cold) => out.cold.push(entry()),
            _ => {}
        }
    }
    let order = |a: &ForecastEntry, b: &ForecastEntry| {
        (&a.vault, a.created_at, &a.id).cmp(&(&b.vault, b.created_at, &b.id))
    };
    out.delete.sort_by(order);
    out.cold.sort_by(order);
    out
}

/// The reason, with what protected the point before the change when something did.
fn forecast_reason(now: &str, was: Option<&Action>) -> String {
    match was {
        Some(Action::Wait(why)) => format!("{now}; before this change {why}"),
        _ => now.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::lifecycle::{Hold, RulePolicy};
    use crate::jobs::record::{NewRecoveryPoint, RecoveryPoint};
    use crate::jobs::retention::KeepPolicy;
    use crate::jobs::{PointStatus, StorageClass};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn point(id: &str, day: u32) -> RecoveryPoint {
        let mut p = NewRecoveryPoint::minimal(
            "main",
            id,
            "dir:/data",
            "directory",
            at(&format!("2027-01-{day:02}T03:00:00Z")),
        );
        p.rule = Some("plan.p.rule.r".into());
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

    fn keeping(last: u32) -> Policies {
        let mut p = Policies::default();
        p.rules.insert(
            "plan.p.rule.r".into(),
            RulePolicy {
                vault: "main".into(),
                keep: Some(KeepPolicy {
                    last,
                    ..KeepPolicy::default()
                }),
                floor: 1,
                tz: chrono_tz::Tz::UTC,
                opt_in_to_archive: false,
            },
        );
        p
    }

    #[test]
    fn a_tighter_keep_policy_forecasts_the_points_it_would_delete() {
        let points: Vec<RecoveryPoint> = (1..=5).map(|d| point(&format!("p{d}"), d)).collect();
        let points = LivePoints::from_points(&points);
        let exists = |_: &str| true;
        let now = at("2027-01-06T00:00:00Z");
        let f = forecast(&keeping(3), &keeping(1), &points, &exists, now);
        let ids: Vec<&str> = f.delete.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["p3", "p4"], "p1 and p2 went already; p5 stays");
        assert_eq!(f.delete[0].reason, "no keep clause keeps it");
        assert!(f.cold.is_empty());
        assert!(forecast(&keeping(1), &keeping(3), &points, &exists, now).is_empty());
        assert!(forecast(&keeping(2), &keeping(2), &points, &exists, now).is_empty());
    }

    #[test]
    fn releasing_a_hold_forecasts_what_it_held_back() {
        let points: Vec<RecoveryPoint> = (1..=3).map(|d| point(&format!("p{d}"), d)).collect();
        let points = LivePoints::from_points(&points);
        let mut held = keeping(1);
        held.holds.push(Hold {
            name: "audit".into(),
            vaults: vec!["main".into()],
            resources: vec![],
            created_from: None,
            created_to: None,
        });
        let exists = |_: &str| true;
        let f = forecast(
            &held,
            &keeping(1),
            &points,
            &exists,
            at("2027-01-06T00:00:00Z"),
        );
        assert_eq!(f.delete.len(), 2);
        assert_eq!(
            f.delete[0].reason,
            "no keep clause keeps it; before this change held by legal hold audit"
        );
    }
}
