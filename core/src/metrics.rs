//! The figures `/metrics` serves, computed from catalog records and evaluated controls:
//! jobs by kind and state, the durations of jobs that ended, bytes backed up, the newest
//! completed point per resource, points per vault, storage class and status, RPO violations,
//! restore test results and restore times, and control compliance. Pure; the shell encodes
//! them in the Prometheus text format.

use crate::controls::{ControlKind, ControlResult, Status};
use crate::jobs::record::{JobRecord, RecoveryPoint};
use crate::jobs::{restore_test, JobKind, JobState, PointStatus, StorageClass};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Everything `/metrics` reports about the catalog, keyed for labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Jobs in the catalog, by kind and state.
    pub jobs: BTreeMap<(JobKind, JobState), u64>,
    /// Seconds from creation to end of every job that ended, by kind.
    pub durations: BTreeMap<JobKind, Vec<f64>>,
    /// Bytes of completed backup jobs, by vault.
    pub backup_bytes: BTreeMap<String, u64>,
    /// When the newest COMPLETED point of each resource completed, with its type.
    pub newest_point: BTreeMap<String, (String, DateTime<Utc>)>,
    /// Points by vault, storage class and status.
    pub points: BTreeMap<(String, StorageClass, PointStatus), u64>,
    /// Resources past a `BACKUP_LAST_RECOVERY_POINT_CREATED` control's `max_age`, by framework.
    pub rpo_violations: BTreeMap<String, u64>,
    /// Restore tests' restores by validation status (SUCCESSFUL, FAILED, TIMED_OUT, and
    /// FAILED for a restore that failed before validating).
    pub restore_tests: BTreeMap<String, u64>,
    /// The latest completed restore test's restore time of each resource, in seconds.
    pub restore_seconds: BTreeMap<String, f64>,
    /// Each control's status and counts of resources compliant and not.
    pub controls: Vec<ControlFigure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFigure {
    pub framework: String,
    pub control: ControlKind,
    pub compliant: bool,
    pub resources_compliant: u64,
    pub resources_non_compliant: u64,
}

pub fn figures(
    jobs: &[JobRecord],
    points: &[RecoveryPoint],
    controls: &[ControlResult],
) -> Figures {
    let mut f = Figures::default();
    let mut latest_test: BTreeMap<&str, (DateTime<Utc>, f64)> = BTreeMap::new();
    for j in jobs {
        let state = j.state();
        *f.jobs.entry((j.job.kind, state)).or_default() += 1;
        if let Some(s) = j.duration_seconds() {
            f.durations.entry(j.job.kind).or_default().push(s as f64);
        }
        if j.job.kind == JobKind::Backup && state == JobState::Completed {
            *f.backup_bytes.entry(j.job.vault.clone()).or_default() += j.bytes.unwrap_or(0);
        }
        let is_test = j
            .job
            .rule
            .as_deref()
            .is_some_and(|r| restore_test::parse_label(r).is_some());
        if j.job.kind == JobKind::Restore && is_test && state.is_terminal() {
            let status = match (&j.validation_status, state) {
                (Some(s), _) => s.clone(),
                (None, JobState::Completed) => continue,
                (None, _) => "FAILED".to_string(),
            };
            *f.restore_tests.entry(status).or_default() += 1;
            if state == JobState::Completed {
                if let (Some(s), Some(end)) = (j.duration_seconds(), j.history.transitions.last()) {
                    let e = latest_test
                        .entry(&j.job.resource_arn)
                        .or_insert((end.1, s as f64));
                    if end.1 >= e.0 {
                        *e = (end.1, s as f64);
                    }
                }
            }
        }
    }
    f.restore_seconds = latest_test
        .into_iter()
        .map(|(arn, (_, s))| (arn.to_string(), s))
        .collect();
    for p in points {
        *f.points
            .entry((p.point.vault.clone(), p.storage_class, p.status))
            .or_default() += 1;
        if p.status == PointStatus::Completed {
            let t = p.point.completed_at.unwrap_or(p.point.created_at);
            let e = f
                .newest_point
                .entry(p.point.resource_arn.clone())
                .or_insert_with(|| (p.point.resource_type.clone(), t));
            if t > e.1 {
                e.1 = t;
            }
        }
    }
    for c in controls {
        let bad = c.count(Status::NonCompliant) as u64;
        if c.control == ControlKind::LastRecoveryPointCreated {
            *f.rpo_violations.entry(c.framework.clone()).or_default() += bad;
        }
        f.controls.push(ControlFigure {
            framework: c.framework.clone(),
            control: c.control,
            compliant: c.status == Status::Compliant,
            resources_compliant: c.count(Status::Compliant) as u64,
            resources_non_compliant: bad,
        });
    }
    f
}
