//! What a job gives the recovery point it creates: the tags to put on it, its lifecycle
//! (when it goes to cold storage, when it is deleted), as durations from the rule or from
//! `backup start --delete-after`, the dates they imply once the point is complete, and the
//! copies to make of it (the rule's `copy_to`).

use crate::config::duration::Duration;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Tags and lifecycle for what a job creates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobOptions {
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// A duration such as `90d`; `None` never moves the point to cold storage.
    #[serde(default)]
    pub cold_storage_after: Option<String>,
    /// A duration such as `35d`; `None` keeps the point forever.
    #[serde(default)]
    pub delete_after: Option<String>,
    /// A delete job's reason (lifecycle, retention, manual), recorded as the point's
    /// `deleted_by` when it succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_by: Option<crate::jobs::DeletedBy>,
    /// The rule opts EBS snapshots in to the archive tier (`opt_in_to_archive`): only then
    /// does an EBS point get a `cold_at`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in_to_archive: bool,
    /// The copies a backup's point gets once it completes: one copy job per entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<CopyOptions>,
    /// What a restore creates, as restore metadata (`jobs::restore_metadata`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub restore: BTreeMap<String, String>,
    /// A restore tags what it creates with the point's source tags too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copy_source_tags: bool,
}

/// One `copy_to` of a rule, as the backup job carries it to the copy jobs it creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyOptions {
    /// The destination vault's name.
    pub vault: String,
    /// How long after the source completes the copy must be done, e.g. `24h`.
    pub window: String,
    /// The copy's lifecycle: its `copy_to` block's, else the rule's.
    #[serde(default)]
    pub cold_storage_after: Option<String>,
    #[serde(default)]
    pub delete_after: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in_to_archive: bool,
}

impl CopyOptions {
    /// The copy job's own options: the rule's tags, and the copy's lifecycle.
    pub fn job_options(&self, tags: &BTreeMap<String, String>) -> JobOptions {
        JobOptions {
            tags: tags.clone(),
            cold_storage_after: self.cold_storage_after.clone(),
            delete_after: self.delete_after.clone(),
            deleted_by: None,
            opt_in_to_archive: self.opt_in_to_archive,
            ..JobOptions::default()
        }
    }

    /// The copy window.
    pub fn window(&self) -> chrono::Duration {
        Duration::parse(&self.window)
            .map(|d| d.to_chrono())
            .unwrap_or_else(|_| chrono::Duration::hours(24))
    }
}

fn after(start: DateTime<Utc>, duration: Option<&str>) -> Option<DateTime<Utc>> {
    Duration::parse(duration?).ok()?.after(start)
}

impl JobOptions {
    /// Days the point is kept (`None`: forever), which decides overlapping rules.
    pub fn retention_days(&self) -> Option<u64> {
        Duration::parse(self.delete_after.as_deref()?)
            .ok()
            .map(|d| d.days())
    }

    /// When a point created at `created_at` goes cold and is deleted. Lifecycle counts from
    /// the point's creation, as AWS Backup counts it.
    pub fn lifecycle_dates(
        &self,
        created_at: DateTime<Utc>,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (
            after(created_at, self.cold_storage_after.as_deref()),
            after(created_at, self.delete_after.as_deref()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_dates_count_from_creation() {
        let o = JobOptions {
            tags: BTreeMap::new(),
            cold_storage_after: Some("90d".into()),
            delete_after: Some("1y".into()),
            deleted_by: None,
            opt_in_to_archive: false,
            ..JobOptions::default()
        };
        let done = DateTime::parse_from_rfc3339("2026-12-05T06:40:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (cold, delete) = o.lifecycle_dates(done);
        assert_eq!(cold.unwrap().to_rfc3339(), "2027-03-05T06:40:00+00:00");
        // a year is 365 days
        assert_eq!(delete.unwrap().to_rfc3339(), "2027-12-05T06:40:00+00:00");
        assert_eq!(o.retention_days(), Some(365));
        assert_eq!(JobOptions::default().lifecycle_dates(done), (None, None));
        assert_eq!(JobOptions::default().retention_days(), None);
    }
}
