//! What a job does ([`JobKind`]) and what a recovery point's life has come to
//! ([`PointStatus`]), with the spellings the catalog, `--json` and `--kind` use.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a job does. The runner runs each kind through its own path and never one kind as
/// another: a restore is never resumed as a backup.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Makes a recovery point of a resource.
    Backup,
    /// Restores a recovery point into a new resource or directory.
    Restore,
    /// Deletes a recovery point (its lifecycle or retention ended, or a user asked).
    Delete,
    /// Moves a recovery point to cold storage.
    Cold,
    /// Removes unused data from a vault's repository, under its exclusive lock.
    Prune,
    /// Copies a recovery point into another vault (another region, account or repository).
    Copy,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::Backup,
        JobKind::Restore,
        JobKind::Delete,
        JobKind::Cold,
        JobKind::Prune,
        JobKind::Copy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backup => "backup",
            JobKind::Restore => "restore",
            JobKind::Delete => "delete",
            JobKind::Cold => "cold",
            JobKind::Prune => "prune",
            JobKind::Copy => "copy",
        }
    }

    /// Whether jobs of this kind act on one recovery point's lifecycle (the tick creates them).
    pub fn is_lifecycle(self) -> bool {
        matches!(self, JobKind::Delete | JobKind::Cold | JobKind::Prune)
    }

    /// Reads a kind as the catalog stores it or `--kind` gives it (case-insensitive).
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a recovery point is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PointStatus {
    /// Made and kept: it can be restored.
    Completed,
    /// Removed (its repository was destroyed, or lifecycle removed it); the record is kept for
    /// audit.
    Deleted,
    /// Past its retention but not deleted (AWS Backup's word): its native object could not be
    /// deleted, or is not coffer's; the record says why.
    Expired,
}

impl PointStatus {
    pub const ALL: [PointStatus; 3] = [
        PointStatus::Completed,
        PointStatus::Deleted,
        PointStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PointStatus::Completed => "COMPLETED",
            PointStatus::Deleted => "DELETED",
            PointStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Option<PointStatus> {
        PointStatus::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for PointStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a recovery point's data is: the standard tier, or cold storage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StorageClass {
    Warm,
    Cold,
}

impl StorageClass {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::Warm => "WARM",
            StorageClass::Cold => "COLD",
        }
    }

    pub fn parse(s: &str) -> Option<StorageClass> {
        [StorageClass::Warm, StorageClass::Cold]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// What deleted a recovery point.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeletedBy {
    /// Its `delete_after` date passed.
    Lifecycle,
    /// A `keep` policy no longer kept it.
    Retention,
    /// `coffer recovery-points delete`.
    Manual,
    /// Someone or something outside coffer (its native object, or its whole repository, is gone).
    Outside,
    /// Its vault was destroyed with `force_destroy`, and its repository with it.
    ForceDestroy,
}

impl DeletedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletedBy::Lifecycle => "lifecycle",
            DeletedBy::Retention => "retention",
            DeletedBy::Manual => "manual",
            DeletedBy::Outside => "outside",
            DeletedBy::ForceDestroy => "force_destroy",
        }
    }

    pub fn parse(s: &str) -> Option<DeletedBy> {
        [
            DeletedBy::Lifecycle,
            DeletedBy::Retention,
            DeletedBy::Manual,
            DeletedBy::Outside,
            DeletedBy::ForceDestroy,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_read_back_what_they_write() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in PointStatus::ALL {
            assert_eq!(PointStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(JobKind::parse("lifecycle"), None);
        for d in [DeletedBy::ForceDestroy, DeletedBy::Outside] {
            assert_eq!(DeletedBy::parse(d.as_str()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        assert_eq!(StorageClass::parse("cold"), Some(StorageClass::Cold));
    }
}
