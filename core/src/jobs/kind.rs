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
}

impl JobKind {
    pub const ALL: [JobKind; 2] = [JobKind::Backup, JobKind::Restore];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backup => "backup",
            JobKind::Restore => "restore",
        }
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
}

impl PointStatus {
    pub const ALL: [PointStatus; 2] = [PointStatus::Completed, PointStatus::Deleted];

    pub fn as_str(self) -> &'static str {
        match self {
            PointStatus::Completed => "COMPLETED",
            PointStatus::Deleted => "DELETED",
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
    }
}
