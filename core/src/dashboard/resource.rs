//! One resource (`/resources/{id}`): identity, the selections that cover it with where they
//! are written, its freshness, recovery points with lifecycle dates, storage class, locks,
//! holds and copies, restore tests, recent jobs, the next run, and the command lines to back
//! it up now or restore a point.

use super::model::{JobRow, Model};
use super::status::Status;
use crate::address::Address;
use crate::jobs::record::RecoveryPoint;
use crate::jobs::{PointStatus, StorageClass};
use chrono::{DateTime, Utc};
use serde::Serialize;

const RECENT_JOBS: usize = 20;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ResourceView {
    pub now: DateTime<Utc>,
    pub arn: String,
    pub resource_type: String,
    pub name: Option<String>,
    pub region: String,
    pub account: String,
    pub tags: std::collections::BTreeMap<String, String>,
    pub protections: Vec<ProtectionView>,
    /// Its worst current concern (none: all is well, or it is not protected).
    pub attention: Option<Status>,
    pub last_good: Option<DateTime<Utc>>,
    pub rpo_seconds: Option<i64>,
    pub rpo_source: Option<String>,
    pub stale: bool,
    pub failures_in_row: u32,
    pub last_error: Option<String>,
    pub next_run: Option<NextRun>,
    pub points: Vec<PointView>,
    pub restore_tests: Vec<JobRow>,
    pub jobs: Vec<JobRow>,
    /// Command lines to run by hand.
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProtectionView {
    pub selection: String,
    pub plan: String,
    /// Where the selection is written (`main.hcl:12`), when the configuration loads.
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NextRun {
    pub rule: String,
    pub start: DateTime<Utc>,
    pub vault: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PointView {
    pub id: String,
    pub vault: String,
    pub status: PointStatus,
    pub storage_class: StorageClass,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub size_bytes: Option<u64>,
    pub encrypted: bool,
    pub cold_at: Option<DateTime<Utc>>,
    pub delete_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Until when the vault's lock keeps it (its minimum retention).
    pub locked_until: Option<DateTime<Utc>>,
    /// The legal holds that keep it.
    pub holds: Vec<String>,
    /// For a copy, the point it copies.
    pub copy_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Command {
    pub purpose: String,
    pub command: String,
}

/// Quotes `s` for a POSIX shell when it needs it.
fn shell(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `points` are the resource's recovery points from the catalog, newest first.
pub fn build(model: &Model, arn: &str, points: &[RecoveryPoint]) -> Option<ResourceView> {
    let r = model.resource(arn)?;
    let next_run = model
        .rules
        .iter()
        .filter(|rule| r.protections.iter().any(|p| p.plan == rule.plan))
        .filter_map(|rule| {
            Some(NextRun {
                rule: rule.address.to_string(),
                start: rule.schedule.next_after(model.now)?,
                vault: rule.vault.clone(),
            })
        })
        .min_by(|a, b| (a.start, &a.rule).cmp(&(b.start, &b.rule)));
    let points: Vec<PointView> = points
        .iter()
        .map(|p| {
            let lock = model
                .vaults
                .get(&p.point.vault)
                .and_then(|v| v.lock.as_ref());
            let locked_until = lock
                .and_then(|l| l.min_retention.as_ref())
                .map(|m| p.point.created_at + m.to_chrono())
                .filter(|t| *t > model.now && p.status == PointStatus::Completed);
            PointView {
                id: p.id.clone(),
                vault: p.point.vault.clone(),
                status: p.status,
                storage_class: p.storage_class,
                created_at: p.point.created_at,
                completed_at: p.point.completed_at,
                size_bytes: p.point.size_bytes,
                encrypted: p.point.encrypted,
                cold_at: p.point.cold_at,
                delete_at: p.point.delete_at,
                deleted_at: p.deleted_at,
                locked_until,
                holds: model
                    .holds
                    .iter()
                    .filter(|h| h.matches(p))
                    .map(|h| h.name.clone())
                    .collect(),
                copy_of: p.point.source_recovery_point_id.clone(),
            }
        })
        .collect();
    let mut commands = Vec::new();
    if let Some(run) = &next_run {
        commands.push(Command {
            purpose: "Back it up now".into(),
            command: format!(
                "coffer backup start --resource {} --vault {}",
                shell(arn),
                shell(&run.vault)
            ),
        });
    }
    if let Some(p) = points.iter().find(|p| p.status == PointStatus::Completed) {
        let target = if r.resource_type == "directory" {
            " --target ./restored"
        } else {
            ""
        };
        commands.push(Command {
            purpose: format!(
                "Restore its newest point ({})",
                crate::render::minute(p.created_at)
            ),
            command: format!(
                "coffer restore start --recovery-point {}{target}",
                shell(&p.id)
            ),
        });
    }
    let label = |a: &Address| a.to_string();
    Some(ResourceView {
        now: model.now,
        arn: r.arn.clone(),
        resource_type: r.resource_type.clone(),
        name: r.name.clone(),
        region: r.region.clone(),
        account: r.account.clone(),
        tags: r.tags.clone(),
        protections: r
            .protections
            .iter()
            .map(|p| ProtectionView {
                selection: label(&p.selection),
                plan: label(&p.plan),
                source: model.sources.get(&p.selection).cloned(),
            })
            .collect(),
        attention: r.attention(),
        last_good: r.last_good,
        rpo_seconds: r.rpo.as_ref().map(|x| x.0.num_seconds()),
        rpo_source: r.rpo.as_ref().map(|x| x.1.clone()),
        stale: r.stale,
        failures_in_row: r.failures_in_row,
        last_error: r.last_error.as_ref().map(|e| e.1.clone()),
        next_run,
        points,
        restore_tests: model
            .restore_tests
            .iter()
            .filter(|t| t.resource_arn == arn)
            .cloned()
            .collect(),
        jobs: model
            .jobs
            .iter()
            .filter(|j| j.resource_arn == arn)
            .take(RECENT_JOBS)
            .cloned()
            .collect(),
        commands,
    })
}
