//! The records a catalog keeps: jobs with their state history, recovery points with a copy of
//! their source's metadata, and the filters and updates that read and change them. Plain data,
//! shared by every catalog backend and by the core that plans and renders from them.

use crate::jobs::{
    DeletedBy, History, JobKind, JobOptions, JobState, PointStatus, StorageClass, Windows,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A recovery point as recorded when a backup completes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewRecoveryPoint {
    pub vault: String,
    /// The native identifier (snapshot id, AMI id, RDS snapshot ARN, repository snapshot id).
    pub native_id: String,
    pub resource_arn: String,
    pub resource_type: String,
    /// The source resource as it was at backup time (type, name, tags, relationships…); kept
    /// after the resource is gone, for audit.
    pub resource: serde_json::Value,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub job_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub size_bytes: Option<u64>,
    pub encrypted: bool,
    pub kms_key: Option<String>,
    /// When lifecycle moves the point to cold storage, and when it deletes it.
    pub cold_at: Option<DateTime<Utc>>,
    pub delete_at: Option<DateTime<Utc>>,
    pub tags: BTreeMap<String, String>,
    /// The point this one is a copy of (copies only).
    pub source_recovery_point_id: Option<String>,
}

impl NewRecoveryPoint {
    /// A point with only what every point has; the rest empty.
    pub fn minimal(
        vault: &str,
        native_id: &str,
        resource_arn: &str,
        resource_type: &str,
        created_at: DateTime<Utc>,
    ) -> NewRecoveryPoint {
        NewRecoveryPoint {
            vault: vault.into(),
            native_id: native_id.into(),
            resource_arn: resource_arn.into(),
            resource_type: resource_type.into(),
            resource: serde_json::Value::Null,
            plan: None,
            rule: None,
            job_id: None,
            created_at,
            completed_at: None,
            size_bytes: None,
            encrypted: false,
            kms_key: None,
            cold_at: None,
            delete_at: None,
            tags: BTreeMap::new(),
            source_recovery_point_id: None,
        }
    }
}

/// A recorded recovery point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryPoint {
    pub id: String,
    pub status: PointStatus,
    pub storage_class: StorageClass,
    /// When it was deleted, and what deleted it.
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<DeletedBy>,
    /// Why the point is EXPIRED (not deleted past its retention), or other news about it.
    pub status_message: Option<String>,
    #[serde(flatten)]
    pub point: NewRecoveryPoint,
}

impl RecoveryPoint {
    /// The point's source resource as it was recorded at backup time; for points recorded
    /// without it, what its ARN and type say (region and account are the ARN's); `None`
    /// when its type is not one coffer knows.
    pub fn source_resource(&self) -> Option<crate::inventory::Resource> {
        if let Ok(r) =
            serde_json::from_value::<crate::inventory::Resource>(self.point.resource.clone())
        {
            return Some(r);
        }
        let arn = &self.point.resource_arn;
        let parts: Vec<&str> = arn.split(':').collect();
        let (region, account) = match parts.as_slice() {
            ["arn", _, _, region, account, ..] => (region.to_string(), account.to_string()),
            _ => ("local".to_string(), "local".to_string()),
        };
        let t = crate::inventory::ResourceType::parse(&self.point.resource_type)?;
        Some(crate::inventory::Resource::new(
            arn.clone(),
            t,
            region,
            account,
        ))
    }
}

/// What lifecycle did to a recorded point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointChange {
    /// Its native object is gone, removed by `by`.
    Deleted { at: DateTime<Utc>, by: DeletedBy },
    /// Past its retention but not deleted, because of `reason`; tried again at `retry_at`
    /// (never, when `None`: the object is not coffer's).
    Expired {
        reason: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Its data moved to cold storage, under a new native id when moving gave it one.
    Cold { native_id: Option<String> },
    /// It cannot go to cold storage (not coffer's, no cold tier, a failed tiering): it stays
    /// warm, is not tried again, and says why.
    StaysWarm { reason: String },
}

/// Which recovery points to list.
#[derive(Debug, Clone, Default)]
pub struct PointFilter {
    pub status: Option<PointStatus>,
    pub vault: Option<String>,
    pub resource_arn: Option<String>,
    /// Points made by this rule (its address, `plan.P.rule.R`).
    pub rule: Option<String>,
}

/// A job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub resource_arn: String,
    pub vault: String,
    pub windows: Windows,
    /// Tags and lifecycle for what the job creates.
    pub options: JobOptions,
    /// The recovery point the job acts on (delete, cold, restore); a backup's or a copy's
    /// (the point it made) is recorded when it completes.
    pub recovery_point_id: Option<String>,
    /// The point a copy job copies.
    pub source_recovery_point_id: Option<String>,
}

/// A job as the catalog holds it, with its state history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: String,
    pub job: NewJob,
    pub history: History,
    pub attempts: u32,
    pub error: Option<String>,
    pub bytes: Option<u64>,
    /// What the job created outside coffer (snapshot ids, AMI id, RDS snapshot ARN …).
    pub native_ids: Vec<String>,
    /// Set when the job did not fail but its result looks wrong (a source that shrank).
    pub warning: Option<String>,
    /// What a restore created (a volume, instance, DB instance or cluster ARN).
    pub created_resource_arn: Option<String>,
    /// A restore test's validation: SUCCESSFUL, FAILED or TIMED_OUT (recorded once), and why.
    pub validation_status: Option<String>,
    pub validation_message: Option<String>,
    /// Whether what a restore test restored was deleted: SUCCESSFUL or FAILED (and why).
    pub deletion_status: Option<String>,
}

impl JobRecord {
    pub fn state(&self) -> JobState {
        self.history.state()
    }

    /// From the job's creation to its end (or to `now`, while it runs), in whole seconds: a
    /// restore's restore time.
    pub fn duration_seconds(&self) -> Option<i64> {
        let first = self.history.transitions.first()?.1;
        let state = self.state();
        let last = self.history.transitions.last()?.1;
        state.is_terminal().then(|| (last - first).num_seconds())
    }
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub kind: Option<JobKind>,
    /// Only jobs in a state that is not terminal (still to run, or running).
    pub unfinished: bool,
    /// Only jobs whose run was scheduled at or after this time.
    pub since: Option<DateTime<Utc>>,
}

/// What a running job learned, recorded as soon as it is known.
#[derive(Debug, Clone, Default)]
pub struct JobUpdate {
    /// How many times the job has asked for its backup so far.
    pub attempts: Option<u32>,
    pub native_ids: Option<Vec<String>>,
    pub bytes: Option<u64>,
    pub recovery_point_id: Option<String>,
    pub warning: Option<String>,
    /// The latest error of a job that is tried again (a deletion that failed this tick).
    pub error: Option<String>,
    /// What a restore created.
    pub created_resource_arn: Option<String>,
    /// A restore test's validation; a status already recorded is never changed.
    pub validation_status: Option<String>,
    pub validation_message: Option<String>,
    pub deletion_status: Option<String>,
}

/// A vault's live recovery points, in short: how many, and when the newest was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VaultPoints {
    pub count: u64,
    /// When the newest point completed (or was created, if it records no completion).
    pub newest: Option<DateTime<Utc>>,
}

/// What one `coffer vault check` found, as the catalog records it (the newest per vault is
/// what the dashboard's vault page shows as its last check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct VaultCheck {
    pub vault: String,
    pub checked_at: DateTime<Utc>,
    /// Where the repository checked is.
    pub location: String,
    /// Snapshots the check read.
    pub snapshots: u64,
    /// How much of the stored data was read back (`--read-data-subset`), if any was.
    pub read_data_subset: Option<String>,
    /// The repository was not there at all.
    pub missing: bool,
    /// Errors found (none: the repository is intact).
    pub errors: u64,
    pub warnings: u64,
    /// The first error, to say what is wrong.
    pub first_error: Option<String>,
}

impl VaultCheck {
    /// Whether the check found the repository there and intact.
    pub fn ok(&self) -> bool {
        !self.missing && self.errors == 0
    }
}
