//! The lifecycle part of a tick: reads the points that lifecycle may act on (those whose dates
//! passed, found by index, the whole groups they belong to, and every group of a rule with a
//! `keep` policy), decides for each through the pure [`lifecycle::evaluate`], holds back every
//! deletion in a vault where the mass-deletion breaker trips, and creates one delete job per
//! point to delete and one cold job per point to move to cold storage (once, however many
//! ticks race), and one delete job per EXPIRED point whose daily retry is due.

use crate::catalog::{Catalog, NewJob, PointFilter, RecoveryPoint};
use crate::jobs::expiry::{breaker_trips, Action, Reason};
use crate::jobs::lifecycle::{self, Policies};
use crate::jobs::live::LivePoints;
use crate::jobs::{DeletedBy, JobKind, JobOptions, Windows};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// A vault where the breaker held back every deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tripped {
    pub vault: String,
    /// Deletions this tick would have made (not counting those an apply approved).
    pub deleting: u64,
    /// The vault's live points.
    pub live: u64,
}

/// What the lifecycle part of a tick decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleReport {
    /// Delete jobs created (first attempts and daily retries).
    pub created: usize,
    /// Cold jobs created (EBS snapshots of rules with `opt_in_to_archive`).
    pub cold: usize,
    /// Points lifecycle wanted to delete but a lock, a hold or the floor keeps.
    pub waiting: usize,
    pub tripped: Vec<Tripped>,
}

/// The live points lifecycle has to look at now: every group of a rule with a `keep`
/// policy, and the whole groups of the points whose dates passed (found by index).
pub fn candidates(
    catalog: &dyn Catalog,
    policies: &Policies,
    now: DateTime<Utc>,
) -> Result<LivePoints, String> {
    let err = |e: crate::catalog::CatalogError| e.to_string();
    let keep_rules: BTreeSet<&str> = policies
        .rules
        .iter()
        .filter(|(_, p)| p.keep.is_some())
        .map(|(r, _)| r.as_str())
        .collect();
    let in_keep_rule = |rule: Option<&str>| rule.is_some_and(|r| keep_rules.contains(r));
    let mut live = LivePoints::default();
    for rule in &keep_rules {
        let filter = PointFilter {
            rule: Some(rule.to_string()),
            ..PointFilter::default()
        };
        catalog.live_points(&filter, &mut live).map_err(err)?;
    }
    // the other groups of resources with due points (keep rules' groups are all read)
    let due = catalog.due_points(now).map_err(err)?;
    let resources: BTreeSet<&str> = due
        .iter()
        .filter(|p| !in_keep_rule(p.point.rule.as_deref()))
        .map(|p| p.point.resource_arn.as_str())
        .collect();
    for arn in resources {
        let mut group = LivePoints::default();
        let filter = PointFilter {
            resource_arn: Some(arn.to_string()),
            ..PointFilter::default()
        };
        catalog.live_points(&filter, &mut group).map_err(err)?;
        for p in group.points.iter() {
            let g = group.group_of(p);
            if in_keep_rule(g.rule.as_deref()) {
                continue;
            }
            let at = live.group(&g.vault, &g.resource_arn, g.rule.as_deref());
            live.points.push(crate::jobs::live::LivePoint {
                group: at,
                ..p.clone()
            });
        }
    }
    Ok(live)
}

/// The prune job of `vault` for the UTC day of `now`: at most one a day (the catalog creates
/// it once).
pub fn prune_job(vault: &str, now: DateTime<Utc>) -> NewJob {
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |d| d.and_utc());
    NewJob {
        kind: JobKind::Prune,
        plan: None,
        rule: None,
        resource_arn: format!("vault.{vault}"),
        vault: vault.to_string(),
        windows: Windows {
            scheduled_at: day,
            start_by: day + chrono::Duration::days(1),
            complete_by: day + chrono::Duration::days(1),
        },
        options: JobOptions::default(),
        recovery_point_id: None,
        source_recovery_point_id: None,
    }
}

/// The vaults with a repository in which these (ended) delete jobs removed file-level points:
/// their repositories now hold unused data.
pub fn vaults_to_prune(
    catalog: &dyn Catalog,
    policies: &Policies,
    deletions: &[crate::catalog::JobRecord],
) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for j in deletions {
        if j.job.kind != JobKind::Delete
            || j.state() != crate::jobs::JobState::Completed
            || !policies.prune_limits.contains_key(&j.job.vault)
        {
            continue;
        }
        let Some(id) = &j.job.recovery_point_id else {
            continue;
        };
        let point = catalog.recovery_point(id).map_err(|e| e.to_string())?;
        let file_level = point.is_some_and(|p| {
            matches!(
                crate::inventory::ResourceType::parse(&p.point.resource_type),
                Some(
                    crate::inventory::ResourceType::Directory
                        | crate::inventory::ResourceType::EfsFileSystem
                )
            ) && p.deleted_by != Some(DeletedBy::Outside)
        });
        if file_level {
            out.insert(j.job.vault.clone());
        }
    }
    Ok(out)
}

/// Whether a point may go to cold storage under the applied configuration: an EBS snapshot of
/// a rule that opts in to the archive tier, or a file-level point of a vault with a cold
/// repository (RDS, Aurora and AMIs have no cold tier).
fn goes_cold(p: &RecoveryPoint, policies: &Policies) -> bool {
    use crate::inventory::ResourceType;
    match ResourceType::parse(&p.point.resource_type) {
        Some(ResourceType::EbsVolume) => p
            .point
            .rule
            .as_ref()
            .and_then(|r| policies.rules.get(r))
            .is_some_and(|r| r.opt_in_to_archive),
        Some(ResourceType::Directory | ResourceType::EfsFileSystem) => {
            policies.cold_vaults.contains(&p.point.vault)
        }
        _ => false,
    }
}

/// The delete job for a point.
fn delete_job(p: &RecoveryPoint, by: DeletedBy, now: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: JobKind::Delete,
        plan: p.point.plan.clone(),
        rule: p.point.rule.clone(),
        resource_arn: p.point.resource_arn.clone(),
        vault: p.point.vault.clone(),
        windows: Windows::on_demand(now),
        options: JobOptions {
            deleted_by: Some(by),
            ..JobOptions::default()
        },
        recovery_point_id: Some(p.id.clone()),
        source_recovery_point_id: None,
    }
}

/// Decides and creates this tick's delete and cold jobs. `exists` tells whether a resource
/// still exists; `allow_mass_deletion` lets deletions through the breaker.
pub fn create_jobs(
    catalog: &mut dyn Catalog,
    policies: &Policies,
    exists: &dyn Fn(&str) -> bool,
    allow_mass_deletion: bool,
    now: DateTime<Utc>,
) -> Result<LifecycleReport, String> {
    let err = |e: crate::catalog::CatalogError| e.to_string();
    let mut report = LifecycleReport::default();
    let points = candidates(catalog, policies, now)?;
    let verdicts = lifecycle::evaluate(&points, policies, exists, now, false);
    let approved = catalog.approved_deletions().map_err(err)?;
    // points whose deletion is already under way (a deletion tried again at every tick) are
    // neither counted against the breaker nor given a second job
    let under_way: BTreeSet<String> = catalog
        .jobs(&crate::catalog::JobFilter {
            kind: Some(JobKind::Delete),
            unfinished: true,
            ..Default::default()
        })
        .map_err(err)?
        .into_iter()
        .filter_map(|j| j.job.recovery_point_id)
        .collect();
    let mut deletions: BTreeMap<&str, Vec<(&crate::jobs::live::LivePoint, DeletedBy)>> =
        BTreeMap::new();
    let mut colds = Vec::new();
    for v in &verdicts {
        let p = &points.points[v.index];
        match v.action {
            Action::Delete(_) if under_way.contains(&p.id) => {}
            Action::Delete(reason) => {
                let by = match reason {
                    Reason::Lifecycle => DeletedBy::Lifecycle,
                    Reason::Retention => DeletedBy::Retention,
                };
                deletions
                    .entry(&points.group_of(p).vault)
                    .or_default()
                    .push((p, by));
            }
            Action::Wait(_) => report.waiting += 1,
            Action::Cold => colds.push(p),
            Action::Keep => {}
        }
    }
    for p in colds {
        let Some(p) = catalog.recovery_point(&p.id).map_err(err)? else {
            continue;
        };
        if !goes_cold(&p, policies) {
            continue;
        }
        let job = NewJob {
            kind: JobKind::Cold,
            ..delete_job(&p, DeletedBy::Lifecycle, now)
        };
        let job = NewJob {
            options: JobOptions::default(),
            ..job
        };
        if catalog.create_job(&job, now).map_err(err)?.is_some() {
            report.cold += 1;
        }
    }
    for (vault, list) in deletions {
        let counted = list
            .iter()
            .filter(|(p, _)| !approved.contains(&p.id))
            .count() as u64;
        let in_vault = catalog.vault_live_count(vault).map_err(err)?;
        if !allow_mass_deletion && breaker_trips(in_vault, counted) {
            report.tripped.push(Tripped {
                vault: vault.to_string(),
                deleting: counted,
                live: in_vault,
            });
            continue;
        }
        for (p, by) in list {
            // the candidates were read without what a job records: read the point whole
            let Some(p) = catalog.recovery_point(&p.id).map_err(err)? else {
                continue;
            };
            if catalog
                .create_job(&delete_job(&p, by, now), now)
                .map_err(err)?
                .is_some()
            {
                report.created += 1;
            }
        }
    }
    for p in catalog.retry_due(now).map_err(err)? {
        let by = match p.point.delete_at {
            Some(at) if at <= now => DeletedBy::Lifecycle,
            _ => DeletedBy::Retention,
        };
        if catalog
            .create_job(&delete_job(&p, by, now), now)
            .map_err(err)?
            .is_some()
        {
            report.created += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
