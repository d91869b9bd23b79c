//! Reality drift: what changed behind coffer's back, for the plan's **Drift** section and
//! `--detailed-exitcode`. Recovery points whose native object is gone and repositories that
//! are missing or broken are found by the shell (they need the cloud and the disk) and
//! handed in; resources whose last three backups failed come from the catalog's jobs here.
//! Pure.

use crate::jobs::record::JobRecord;
use crate::jobs::{JobKind, JobState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many backups in a row must fail for a resource to count as failing.
pub const FAILURES_IN_A_ROW: usize = 3;

/// Everything drifted, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// COMPLETED recovery points whose native object no longer exists.
    pub missing_points: Vec<MissingPoint>,
    /// Vault repositories that are missing or fail the quick structure check.
    pub repositories: Vec<BrokenRepository>,
    /// Resources whose last three backup jobs ended without a recovery point.
    pub failing_resources: Vec<FailingResource>,
    /// What could not be looked at, and why (an unreachable region); not drift itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing_points.is_empty()
            && self.repositories.is_empty()
            && self.failing_resources.is_empty()
    }

    /// How many findings, for the summary line.
    pub fn count(&self) -> usize {
        self.missing_points.len() + self.repositories.len() + self.failing_resources.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MissingPoint {
    pub vault: String,
    pub recovery_point_id: String,
    pub resource_arn: String,
    pub native_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BrokenRepository {
    pub vault: String,
    /// The repository's location (`file://…`, `s3://…`).
    pub storage: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailingResource {
    pub resource_arn: String,
    /// The failed jobs, newest first.
    pub jobs: Vec<String>,
    /// When the oldest of them was created: failing since.
    pub since: DateTime<Utc>,
    /// The newest failure's error.
    pub last_error: Option<String>,
}

/// Resources whose last [`FAILURES_IN_A_ROW`] backup jobs that ended all ended FAILED,
/// ABORTED or EXPIRED (no recovery point), by ARN.
pub fn failing_resources(jobs: &[JobRecord]) -> Vec<FailingResource> {
    let mut by_resource: BTreeMap<&str, Vec<&JobRecord>> = BTreeMap::new();
    for j in jobs {
        if j.job.kind == JobKind::Backup && j.state().is_terminal() {
            by_resource.entry(&j.job.resource_arn).or_default().push(j);
        }
    }
    let created = |j: &JobRecord| j.history.transitions.first().map(|t| t.1);
    let mut out = Vec::new();
    for (arn, mut list) in by_resource {
        list.sort_by(|a, b| (created(b), &b.id).cmp(&(created(a), &a.id)));
        let last: Vec<&JobRecord> = list.into_iter().take(FAILURES_IN_A_ROW).collect();
        let failed = |j: &&JobRecord| {
            matches!(
                j.state(),
                JobState::Failed | JobState::Aborted | JobState::Expired
            )
        };
        if last.len() == FAILURES_IN_A_ROW && last.iter().all(failed) {
            out.push(FailingResource {
                resource_arn: arn.to_string(),
                jobs: last.iter().map(|j| j.id.clone()).collect(),
                since: last
                    .last()
                    .and_then(|j| created(j))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
                last_error: last[0].error.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::record::NewJob;
    use crate::jobs::{History, JobOptions, Windows};

    fn at(h: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-12-0{h}T03:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn job(id: &str, arn: &str, day: u32, state: JobState) -> JobRecord {
        JobRecord {
            id: id.into(),
            job: NewJob {
                kind: JobKind::Backup,
                plan: None,
                rule: None,
                resource_arn: arn.into(),
                vault: "main".into(),
                windows: Windows {
                    scheduled_at: at(day),
                    start_by: at(day),
                    complete_by: at(day),
                },
                options: JobOptions::default(),
                recovery_point_id: None,
                source_recovery_point_id: None,
            },
            history: History {
                transitions: vec![(JobState::Created, at(day)), (state, at(day))],
            },
            attempts: 1,
            error: (state == JobState::Failed).then(|| format!("boom {day}")),
            bytes: None,
            native_ids: vec![],
            warning: None,
            created_resource_arn: None,
            validation_status: None,
            validation_message: None,
            deletion_status: None,
        }
    }

    #[test]
    fn three_failures_in_a_row_make_a_failing_resource() {
        use JobState::*;
        let jobs = vec![
            job("a1", "a", 1, Completed),
            job("a2", "a", 2, Failed),
            job("a3", "a", 3, Expired),
            job("a4", "a", 4, Failed),
            // a success after two failures: not failing
            job("b1", "b", 1, Failed),
            job("b2", "b", 2, Failed),
            job("b3", "b", 3, Completed),
            // only two failures so far
            job("c1", "c", 1, Failed),
            job("c2", "c", 2, Failed),
            // a running job does not count either way
            job("d1", "d", 1, Failed),
            job("d2", "d", 2, Failed),
            job("d3", "d", 3, Failed),
            job("d4", "d", 4, Running),
        ];
        let f = failing_resources(&jobs);
        let arns: Vec<&str> = f.iter().map(|f| f.resource_arn.as_str()).collect();
        assert_eq!(arns, ["a", "d"]);
        assert_eq!(f[0].jobs, ["a4", "a3", "a2"]);
        assert_eq!(f[0].since, at(2));
        assert_eq!(f[0].last_error.as_deref(), Some("boom 4"));
    }
}
