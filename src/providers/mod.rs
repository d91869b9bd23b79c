//! Providers: what coffer does to each resource type, behind one trait ([`Provider`]) that
//! the job runner calls: find what an earlier attempt of a job made (by its `coffer:job` tag),
//! start a backup or a copy, poll it until it is done, throw away what an aborted job half-made, check
//! quotas and keys before starting, and look for snapshots made outside coffer.
//!
//! One module per resource type: [`aws::ebs`] (EBS volumes), [`aws::ami`] (EC2 instances,
//! as AMIs), [`aws::rds`] (RDS instances and Aurora clusters, which share it), and [`files`]
//! (directories and mounted EFS, into vault repositories). [`aws::preflight`] holds the KMS
//! and quota checks; [`route`] sends each resource to its type's provider.

pub mod aws;
pub mod files;
pub mod route;

pub use route::ByResourceType;

use crate::inventory::{Resource, ResourceType};
use std::collections::BTreeMap;

/// Why a provider call failed, and whether trying again later may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// Throttling, a 5xx, a timeout, or a resource that is busy: retried inside the window.
    pub transient: bool,
    /// The identity coffer acts as was refused (credentials that expired or were revoked
    /// mid-run): no call succeeds until they are renewed, so the run stops and leaves every
    /// job where it is for the next one, instead of failing jobs whose backups may be under
    /// way. Such an error is also transient.
    pub halts: bool,
    /// The AWS error, in words, with a hint where there is one.
    pub message: String,
}

impl ProviderError {
    pub fn permanent(message: impl Into<String>) -> ProviderError {
        ProviderError {
            transient: false,
            halts: false,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> ProviderError {
        ProviderError {
            transient: true,
            halts: false,
            message: message.into(),
        }
    }

    /// Credentials refused: see [`ProviderError::halts`].
    pub fn credentials(message: impl Into<String>) -> ProviderError {
        ProviderError {
            transient: true,
            halts: true,
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

/// What deleting a recovery point's native object came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Deleted; the notes say what was kept and why (an AMI's snapshot that another AMI
    /// still uses).
    Deleted { notes: Vec<String> },
    /// It was already gone (what belonged to it and was left is deleted, and noted).
    Gone { notes: Vec<String> },
    /// It does not carry the point's `coffer:job` tag: not coffer's to delete. Nothing was
    /// deleted.
    NotOurs(String),
}

/// Where moving a point to cold storage stands after asking for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Archiving {
    /// Asked for (now or by an earlier attempt); follow it with [`Provider::tiering`].
    Started,
    /// It is in cold storage now; its native id there, when moving it gave it a new one (a
    /// snapshot copied into a cold repository).
    Done { native_id: Option<String> },
    /// Its native object is gone.
    Gone,
    /// It does not carry the point's `coffer:job` tag; nothing was asked.
    NotOurs(String),
    /// This type has no cold storage here.
    Unsupported(String),
}

/// How a move to cold storage is going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tiering {
    InProgress,
    Completed,
    Failed(String),
}

/// What a prune of a vault's repository found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct Pruned {
    /// Unused data before, as a percentage of the repository's data.
    pub unused_percent: f64,
    /// Whether it exceeded the limit, so that the repository was pruned.
    pub pruned: bool,
    /// Bytes of blobs removed (or marked for removal, restic's two-phase prune).
    pub removed_bytes: u64,
}

/// The recovery point a copy is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource<'a> {
    /// The vault the point is in.
    pub vault: &'a str,
    /// Its native id (snapshot id, AMI id, RDS snapshot ARN, repository snapshot id).
    pub native_id: &'a str,
    pub encrypted: bool,
    /// The KMS key it is encrypted with, when known.
    pub kms_key: Option<&'a str>,
}

/// A restore to make: of the point `native_id` in `vault`, into a new resource described by
/// `metadata` (AWS Backup's restore metadata names), tagged with `tags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreRequest<'a> {
    pub vault: &'a str,
    pub native_id: &'a str,
    pub metadata: &'a BTreeMap<String, String>,
    pub job_id: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

/// Where a restore stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restoring {
    InProgress,
    /// The new resource is usable: its ARN, and for databases where to reach it.
    Ready {
        arn: String,
        endpoint: Option<String>,
        port: Option<u16>,
    },
    Failed(String),
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

/// What coffer does to the resources of some types: one implementation per resource type
/// (or family of types that work alike). Adding an operation (copy, delete, archive,
/// restore) is one method here and one implementation per provider; [`ByResourceType`]
/// forwards it.
#[allow(async_fn_in_trait)]
pub trait Provider {
    /// Whether this provider handles resources of this type.
    fn supports(&self, t: ResourceType) -> bool;
    /// Which service's concurrency limit a resource's jobs count against.
    fn service(&self, r: &Resource) -> &'static str;
    /// The region where `vault`'s native points of `r` live (AWS types), for the limit on
    /// copies into one region.
    fn home_region(&self, r: &Resource, vault: &str) -> Option<String> {
        let _ = (r, vault);
        None
    }
    /// Quotas and keys, for the resources about to be backed up.
    async fn preflight(&self, resources: &[&Resource]) -> Preflight;
    /// What an earlier attempt of `job_id` already started, found by its `coffer:job` tag.
    async fn find(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, ProviderError>;
    /// Starts a backup tagged with `tags`; returns its native id.
    async fn start(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError>;
    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, ProviderError>;
    /// Starts copying a point of `r` into `vault` (in the vault's region and account, with its
    /// key), tagged with `tags`; returns the copy's native id there. The copy is then
    /// followed with [`Provider::poll`], found again with [`Provider::find`] and thrown away
    /// with [`Provider::discard`], each given the destination vault.
    async fn copy(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError>;
    /// Starts restoring a point of `r` into a new resource in the point's vault's region and
    /// account; returns the new resource's id (volume id, instance id, DB identifier).
    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        let _ = req;
        Err(ProviderError::permanent(format!(
            "coffer restores {} points from their files (--target), not here",
            r.resource_type
        )))
    }
    /// What an earlier attempt of the restore job created, if anything (by its
    /// `coffer:restore-job` tag, or the name it was given).
    async fn find_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        let _ = (r, req);
        Ok(None)
    }
    /// How the restore that created `created` is going (a step it still needs, such as an
    /// Aurora cluster's instance, is taken here).
    async fn restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        let _ = (r, req, created);
        Ok(Restoring::Failed(
            "not a restore this provider makes".into(),
        ))
    }
    /// coffer's own check of what a restore test restored (a restore test without a `validate`
    /// command): `Ok` with what was checked, or why it fails. Unless a provider checks more
    /// (sizes, counts), the restored resource is looked at again and must still be usable
    /// (an instance `running`, a database or cluster `available`), as [`Provider::restored`]
    /// judges it: having been usable when the restore completed is not enough.
    async fn validate_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<String, String> {
        let usable = match r.resource_type {
            ResourceType::Ec2Instance => "running",
            _ => "available",
        };
        match self.restored(r, req, created).await {
            Ok(Restoring::Ready { .. }) => Ok(format!(
                "the restored {} {created} is {usable}",
                r.resource_type
            )),
            Ok(Restoring::InProgress) => Err(format!(
                "the restored {} {created} is not {usable} any more",
                r.resource_type
            )),
            Ok(Restoring::Failed(why)) => Err(why),
            Err(e) => Err(e.message),
        }
    }
    /// Deletes what a failed or aborted restore created.
    async fn discard_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        let _ = (r, req, created);
        Ok(())
    }
    /// Stops sharing a copy's source with the destination's account, once the copy is done
    /// or given up (a copy across accounts shares its source for the copy only).
    async fn unshare(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
    ) -> Result<(), ProviderError> {
        let _ = (r, source, vault);
        Ok(())
    }
    /// Whether a recovery point's native object `native_id` in `vault` still exists (a
    /// snapshot, image, DB snapshot, backup or repository snapshot), for the plan's drift.
    async fn exists(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError>;
    /// Deletes what an aborted job half-made.
    async fn discard(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<(), ProviderError>;
    /// Deletes a recovery point's native object `native_id` (and what belongs to it, such as
    /// an AMI's snapshots), but only if it carries `coffer:job` = `job_id`.
    async fn delete(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Deletion, ProviderError>;
    /// Whether points of `r` in `vault` can go to cold storage by this provider alone (a vault
    /// with a cold repository); EBS archiving depends on the rule instead.
    fn has_cold_storage(&self, r: &Resource, vault: &str) -> bool {
        let _ = (r, vault);
        false
    }
    /// Moves a point's native object to cold storage (EBS: the archive tier), if it carries
    /// `coffer:job` = `job_id`; an earlier request still in progress is not made again.
    async fn archive(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Archiving, ProviderError> {
        let _ = (vault, native_id, job_id);
        Ok(Archiving::Unsupported(format!(
            "{} recovery points have no cold storage",
            r.resource_type
        )))
    }
    /// How the move of `native_id` to cold storage is going.
    async fn tiering(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Tiering, ProviderError> {
        let _ = (vault, native_id);
        Ok(Tiering::Failed(format!(
            "{} recovery points have no cold storage",
            r.resource_type
        )))
    }
    /// Prunes the repository of `vault` if its unused data exceeds `max_unused_percent`;
    /// `None` when this provider keeps no repository for the vault.
    async fn prune(
        &self,
        vault: &str,
        max_unused_percent: u8,
    ) -> Result<Option<Pruned>, ProviderError>;
    /// Snapshots of these resources not made by coffer, created in `[from, to]`.
    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError>;
}
