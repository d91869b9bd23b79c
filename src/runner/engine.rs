//! What the job runner needs from a backup engine: find what an earlier attempt of a job
//! made (by its `coffer:job` tag), start a backup, poll it until it is done, throw away what
//! an aborted job half-made, and check quotas and encryption keys before starting. The AWS
//! snapshot engine implements it, and so can a test double.

use crate::inventory::{Resource, ResourceType};
use std::collections::BTreeMap;

/// Why an engine call failed, and whether trying again later may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// Throttling, a 5xx, a timeout, or a resource that is busy: retried inside the window.
    pub transient: bool,
    /// The AWS error, in words, with a hint where there is one.
    pub message: String,
}

impl EngineError {
    pub fn permanent(message: impl Into<String>) -> EngineError {
        EngineError {
            transient: false,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> EngineError {
        EngineError {
            transient: true,
            message: message.into(),
        }
    }
}

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Finished {
    /// The recovery point's native id: snapshot id, AMI id, RDS snapshot ARN.
    pub native_id: String,
    /// Everything the backup consists of (an AMI and its snapshots).
    pub native_ids: Vec<String>,
    pub size_bytes: Option<u64>,
    pub encrypted: bool,
    pub kms_key: Option<String>,
    /// Files that could not be read (file-level backups): the job ends PARTIAL.
    pub unreadable: Vec<String>,
}

/// Where a started backup is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Pending { percent: Option<u8> },
    Done(Finished),
    Failed(String),
}

/// What the checks before starting found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preflight {
    /// Said once per tick, e.g. a quota at 80%.
    pub warnings: Vec<String>,
    /// Resources that must not be backed up now, with the reason (a full quota, an unusable
    /// key); their jobs fail with it.
    pub refused: BTreeMap<String, String>,
}

/// A snapshot taken by someone else of a resource coffer covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignSnapshot {
    pub resource_arn: String,
    pub native_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Who made it, when its tags or description say (DLM, AWS Backup …).
    pub origin: Option<String>,
}

/// A backup engine for some resource types.
#[allow(async_fn_in_trait)]
pub trait Engine {
    /// Whether this engine backs up resources of this type.
    fn supports(&self, t: ResourceType) -> bool;
    /// Which service's concurrency limit a resource's jobs count against.
    fn service(&self, r: &Resource) -> &'static str;
    /// Quotas and keys, for the resources about to be backed up.
    async fn preflight(&self, resources: &[&Resource]) -> Preflight;
    /// What an earlier attempt of `job_id` already started, found by its `coffer:job` tag.
    async fn find(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, EngineError>;
    /// Starts a backup tagged with `tags`; returns its native id.
    async fn start(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, EngineError>;
    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, EngineError>;
    /// Deletes what an aborted job half-made.
    async fn discard(&self, r: &Resource, vault: &str, native_id: &str) -> Result<(), EngineError>;
    /// Snapshots of these resources not made by coffer, created in `[from, to]`.
    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ForeignSnapshot>, EngineError>;
}

/// Two engines as one: each resource goes to the first engine that supports its type.
pub struct Either<A, B>(pub A, pub B);

impl<A: Engine, B: Engine> Either<A, B> {
    fn first(&self, r: &Resource) -> bool {
        self.0.supports(r.resource_type)
    }
}

impl<A: Engine, B: Engine> Engine for Either<A, B> {
    fn supports(&self, t: ResourceType) -> bool {
        self.0.supports(t) || self.1.supports(t)
    }

    fn service(&self, r: &Resource) -> &'static str {
        if self.first(r) {
            self.0.service(r)
        } else {
            self.1.service(r)
        }
    }

    async fn preflight(&self, resources: &[&Resource]) -> Preflight {
        let (a, b): (Vec<&Resource>, Vec<&Resource>) =
            resources.iter().copied().partition(|r| self.first(r));
        let mut out = self.0.preflight(&a).await;
        let more = self.1.preflight(&b).await;
        out.warnings.extend(more.warnings);
        out.refused.extend(more.refused);
        out
    }

    async fn find(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, EngineError> {
        if self.first(r) {
            self.0.find(r, vault, job_id).await
        } else {
            self.1.find(r, vault, job_id).await
        }
    }

    async fn start(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, EngineError> {
        if self.first(r) {
            self.0.start(r, vault, job_id, tags).await
        } else {
            self.1.start(r, vault, job_id, tags).await
        }
    }

    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, EngineError> {
        if self.first(r) {
            self.0.poll(r, vault, native_id).await
        } else {
            self.1.poll(r, vault, native_id).await
        }
    }

    async fn discard(&self, r: &Resource, vault: &str, native_id: &str) -> Result<(), EngineError> {
        if self.first(r) {
            self.0.discard(r, vault, native_id).await
        } else {
            self.1.discard(r, vault, native_id).await
        }
    }

    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ForeignSnapshot>, EngineError> {
        let (a, b): (Vec<&Resource>, Vec<&Resource>) =
            resources.iter().copied().partition(|r| self.first(r));
        let mut out = self.0.foreign_snapshots(&a, from, to).await?;
        out.extend(self.1.foreign_snapshots(&b, from, to).await?);
        out.sort();
        Ok(out)
    }
}
