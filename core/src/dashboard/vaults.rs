//! Vaults (`/vaults`): points and bytes per vault and storage class, 30-day growth, the
//! vault's lock and the legal holds on it, and its last check and prune.

use super::model::{JobRow, Model};
use super::status::Status;
use crate::jobs::record::VaultCheck;
use crate::jobs::{PointStatus, StorageClass};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub const GROWTH_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Vaults {
    pub now: DateTime<Utc>,
    pub vaults: Vec<VaultView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VaultView {
    pub name: String,
    /// Where a file-level vault's repository is (absent: AWS native).
    pub storage: Option<String>,
    pub points: u64,
    pub bytes: u64,
    pub classes: Vec<ClassView>,
    /// Points of every status, live or not.
    pub statuses: Vec<StatusCount>,
    /// Live bytes at the end of each of the last 30 days, oldest first.
    pub growth: Vec<GrowthDay>,
    /// Bytes gained over those days (negative: shrank).
    pub growth_bytes: i64,
    pub lock: Option<LockView>,
    pub holds: Vec<String>,
    pub last_prune: Option<JobRow>,
    /// The newest `coffer vault check` (none: never checked).
    pub last_check: Option<VaultCheck>,
    /// What that check means: ok, ok with issues (warnings), failed (damaged or missing).
    pub last_check_status: Option<Status>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ClassView {
    pub storage_class: StorageClass,
    pub points: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StatusCount {
    pub status: PointStatus,
    pub points: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GrowthDay {
    pub date: NaiveDate,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LockView {
    pub mode: String,
    pub min_retention: Option<String>,
    pub max_retention: Option<String>,
}

pub fn build(model: &Model) -> Vaults {
    let today = model.today();
    Vaults {
        now: model.now,
        vaults: model
            .vaults
            .values()
            .map(|v| {
                let growth: Vec<GrowthDay> = v
                    .growth(today, GROWTH_DAYS)
                    .into_iter()
                    .map(|(date, bytes)| GrowthDay { date, bytes })
                    .collect();
                let growth_bytes = match (growth.first(), growth.last()) {
                    (Some(a), Some(b)) => b.bytes as i64 - a.bytes as i64,
                    _ => 0,
                };
                VaultView {
                    name: v.name.clone(),
                    storage: v.storage.clone(),
                    points: v.live_points(),
                    bytes: v.live_bytes(),
                    classes: v
                        .classes
                        .iter()
                        .map(|(c, (n, b))| ClassView {
                            storage_class: *c,
                            points: *n,
                            bytes: *b,
                        })
                        .collect(),
                    statuses: v
                        .statuses
                        .iter()
                        .map(|(s, n)| StatusCount {
                            status: *s,
                            points: *n,
                        })
                        .collect(),
                    growth,
                    growth_bytes,
                    lock: v.lock.as_ref().map(|l| LockView {
                        mode: l.mode.clone(),
                        min_retention: l.min_retention.as_ref().map(|d| d.as_str().to_string()),
                        max_retention: l.max_retention.as_ref().map(|d| d.as_str().to_string()),
                    }),
                    holds: v.holds.clone(),
                    last_prune: v.last_prune.clone(),
                    last_check: v.last_check.clone(),
                    last_check_status: v.last_check.as_ref().map(check_status),
                }
            })
            .collect(),
    }
}

/// A vault check's status: failed when the repository is damaged or missing, ok with issues
/// when it only warned.
pub fn check_status(c: &VaultCheck) -> Status {
    if !c.ok() {
        Status::Failed
    } else if c.warnings > 0 {
        Status::OkWithIssues
    } else {
        Status::Ok
    }
}
