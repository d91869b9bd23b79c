//! The catalog: jobs with their state history and recovery points with a copy of their
//! source resource's metadata. [`Catalog`] is the interface the rest of coffer uses; the
//! embedded SQLite implementation ([`SqliteCatalog`], `.coffer/catalog.db`) is one backend, and
//! nothing SQLite-specific appears in this interface, so a PostgreSQL one can satisfy it.

#[cfg(test)]
mod conformance;
mod postgres;
mod sqlite;

pub use crate::jobs::record::{
    JobFilter, JobRecord, JobUpdate, NewJob, NewRecoveryPoint, PointChange, PointFilter,
    RecoveryPoint, VaultCheck, VaultPoints,
};
pub use postgres::{CatalogDump, PgCatalog, WorkerRecord};
pub use sqlite::SqliteCatalog;

use crate::jobs::live::LivePoints;
use crate::jobs::JobState;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("catalog {path}: {message}")]
pub struct CatalogError {
    pub path: PathBuf,
    pub message: String,
}

/// What coffer needs from a catalog, whatever stores it.
pub trait Catalog {
    /// Live recovery points per vault name (vaults with none are absent).
    fn vault_points(&self) -> Result<BTreeMap<String, VaultPoints>, CatalogError>;
    /// How many live (not DELETED) points `vault` holds, counted by index.
    fn vault_live_count(&self, vault: &str) -> Result<u64, CatalogError>;
    /// Marks every live point of `vault` DELETED (its repository was deleted); returns how
    /// many.
    fn forget_vault_points(
        &mut self,
        vault: &str,
        at: DateTime<Utc>,
        by: crate::jobs::DeletedBy,
    ) -> Result<u64, CatalogError>;
    /// Records a recovery point and returns its id. A point for a job that already has one is
    /// not recorded twice: the existing id is returned.
    fn add_recovery_point(&mut self, point: &NewRecoveryPoint) -> Result<String, CatalogError>;
    fn recovery_point(&self, id: &str) -> Result<Option<RecoveryPoint>, CatalogError>;
    /// Live points whose `delete_at` or (while warm) `cold_at` is at or before `now`, oldest
    /// date first; found by index, without reading the other points.
    fn due_points(&self, now: DateTime<Utc>) -> Result<Vec<RecoveryPoint>, CatalogError>;
    /// EXPIRED points whose failed deletion is due to be tried again at `now`.
    fn retry_due(&self, now: DateTime<Utc>) -> Result<Vec<RecoveryPoint>, CatalogError>;
    /// Recovery points, newest first.
    fn recovery_points(&self, filter: &PointFilter) -> Result<Vec<RecoveryPoint>, CatalogError>;
    /// Adds the COMPLETED points that `filter` selects to `into`, compactly (ids, dates,
    /// groups interned; see [`LivePoints`]), in no particular order: a tick reads every point
    /// of the rules with `keep` policies, and reading little is what keeps it fast. Read a
    /// point whole with [`Catalog::recovery_point`] before acting on it.
    fn live_points(&self, filter: &PointFilter, into: &mut LivePoints) -> Result<(), CatalogError>;
    /// Records what lifecycle did to a point.
    fn change_point(&mut self, id: &str, change: &PointChange) -> Result<(), CatalogError>;
    /// Remembers that an apply approved deleting these points (`--allow-deletions`).
    fn approve_deletions(&mut self, ids: &[String], at: DateTime<Utc>) -> Result<(), CatalogError>;
    /// The points whose deletion an apply approved.
    fn approved_deletions(&self) -> Result<BTreeSet<String>, CatalogError>;
    /// Creates a job in state CREATED, unless one already exists for the same kind, rule,
    /// run and resource (then `None`: two racing ticks create it once). A delete or cold
    /// job is created only while its point is still in a state the job can act on (live,
    /// warm for cold; EXPIRED and due for retry, or any EXPIRED for a manual deletion), and
    /// only if no unfinished job of its kind exists for the point.
    fn create_job(
        &mut self,
        job: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, CatalogError>;
    /// Moves a job to `to` at `at`, if the state machine allows it.
    fn transition_job(
        &mut self,
        id: &str,
        to: JobState,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<JobRecord, CatalogError>;
    /// Records what a job created or measured.
    fn update_job(&mut self, id: &str, update: &JobUpdate) -> Result<(), CatalogError>;
    fn job(&self, id: &str) -> Result<Option<JobRecord>, CatalogError>;
    /// Jobs, newest run first.
    fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, CatalogError>;
    /// Up to when the scheduler has looked for due runs.
    fn tick_cursor(&self) -> Result<Option<DateTime<Utc>>, CatalogError>;
    /// Moves the scheduler cursor forward (never back).
    fn advance_tick_cursor(&mut self, to: DateTime<Utc>) -> Result<(), CatalogError>;
    /// Records what a `coffer vault check` found (a second record for the same vault at the
    /// same instant replaces the first).
    fn record_vault_check(&mut self, check: &VaultCheck) -> Result<(), CatalogError>;
    /// The newest check of each vault that has been checked.
    fn last_vault_checks(&self) -> Result<BTreeMap<String, VaultCheck>, CatalogError>;
    /// Records whether `framework`'s `control` is compliant at `at`, and returns whether it
    /// became NON_COMPLIANT with this record (it was compliant, or never recorded): when
    /// `CONTROL_NON_COMPLIANT` is sent. The check and the record are one atomic step, so of
    /// the daemons and workers sharing a catalog exactly one sees each change, and a restart
    /// does not announce a control that was already NON_COMPLIANT again.
    fn note_control_status(
        &mut self,
        framework: &str,
        control: &str,
        compliant: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError>;
    /// Claims for `worker`, for `lease`, up to `limits.jobs` of the unfinished jobs `wanted`
    /// (given oldest run first) that no worker holds a live claim on, taking no job of a
    /// resource any worker holds an unfinished claimed job of, and none that would put more
    /// than `limits.per_service` claimed jobs on its service or `limits.copies_per_slot`
    /// copies into its destination region, counting every worker's claims. Returns the ids
    /// claimed (with those of `wanted` it already held) and those of `wanted` that have ended
    /// and need not be asked for again. From then on every change this catalog makes to a
    /// claimed job checks the claim is still this one's (a worker whose lease ended and whose
    /// job another worker claimed cannot touch it), and the claim ends with the job. A catalog
    /// that one runner uses at a time (SQLite, under the runner lock) claims everything it is
    /// given.
    fn claim_jobs(
        &mut self,
        wanted: &[ClaimRequest],
        worker: &str,
        lease: std::time::Duration,
        limits: &ClaimLimits,
    ) -> Result<Claimed, CatalogError> {
        let _ = (worker, lease, limits);
        Ok(Claimed {
            claimed: wanted.iter().map(|w| w.id.clone()).collect(),
            ended: Vec::new(),
        })
    }
    /// Renews the leases of this catalog's claims; returns the jobs whose claim was lost.
    fn renew_claims(&self, lease: std::time::Duration) -> Result<Vec<String>, CatalogError> {
        let _ = lease;
        Ok(Vec::new())
    }
    /// Hands back every claim this catalog holds on an unfinished job, so that any worker
    /// may claim it at once.
    fn release_claims(&mut self) -> Result<(), CatalogError> {
        Ok(())
    }
}

/// A control's last recorded status, as `init -migrate-state` copies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlStatus {
    pub framework: String,
    pub control: String,
    pub compliant: bool,
    /// When it last changed.
    pub since: DateTime<Utc>,
}

/// A job a worker asks to claim, with what it counts against while claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub id: String,
    /// The service the job's work runs against (`ec2`, `rds`): jobs per service.
    pub service: Option<String>,
    /// For a copy, its service and destination region: copies per destination region.
    pub copy_slot: Option<String>,
}

impl ClaimRequest {
    /// A job that counts against no limit but the worker's own.
    pub fn unlimited(id: &str) -> ClaimRequest {
        ClaimRequest {
            id: id.to_string(),
            service: None,
            copy_slot: None,
        }
    }
}

/// What a claim took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claimed {
    /// The jobs now this worker's.
    pub claimed: Vec<String>,
    /// Jobs asked for that ended meanwhile (another worker finished them).
    pub ended: Vec<String>,
}

/// How much one claim may take, counted across every worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// New jobs to claim at most (the claiming worker's free room).
    pub jobs: usize,
    /// Claimed unfinished jobs on one service at most, across workers.
    pub per_service: usize,
    /// Claimed unfinished copies into one destination region of one service, across workers.
    pub copies_per_slot: usize,
}

impl ClaimLimits {
    /// No limit: everything asked for may be claimed.
    pub const NONE: ClaimLimits = ClaimLimits {
        jobs: usize::MAX,
        per_service: usize::MAX,
        copies_per_slot: usize::MAX,
    };
}

/// What a change to a job says when the worker making it lost its claim on the job.
pub const LOST_CLAIM: &str = "is no longer this worker's";

/// The catalog's columns, in the order both backends read them.
pub(crate) mod columns {
    /// A job row without its transitions.
    pub(crate) const JOB_COLUMNS: &str = "id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, attempts, error, bytes, native_ids, options, recovery_point_id, warning, source_recovery_point_id, created_resource_arn, validation_status, validation_message, deletion_status";
    /// A recovery point row.
    pub(crate) const POINT_COLUMNS: &str = "id, status, vault, native_id, resource_arn, resource_type, resource, plan, rule, job_id, created_at, completed_at, size_bytes, encrypted, kms_key, cold_at, delete_at, tags, storage_class, deleted_at, deleted_by, status_message, source_recovery_point_id";
    /// What a tick reads of each live point.
    pub(crate) const LIVE_POINT_COLUMNS: &str =
        "id, vault, resource_arn, rule, created_at, cold_at, delete_at, storage_class";
}
