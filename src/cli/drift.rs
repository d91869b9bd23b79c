//! Finding drift for `coffer plan`: the applied vaults' repositories opened and their
//! snapshots listed once each (the quick structure check, and what file-level points are
//! looked for among), every other COMPLETED recovery point's native object looked for
//! through its type's provider (only when refreshing, as that calls AWS),
//! and the catalog's backup jobs for resources that keep failing. What cannot be looked at is
//! said, never taken as drift.

use super::context::{CmdError, Ctx};
use crate::catalog::{Catalog, JobFilter, PointFilter};
use crate::config::model::Config;
use crate::inventory::{Inventory, ResourceType};
use crate::jobs::{JobKind, PointStatus};
use crate::plan::drift::{self, BrokenRepository, Drift, MissingPoint};
use crate::providers::Provider;
use crate::repository::{self, RepositoryError};
use crate::state::State;
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet};

/// How many native objects are looked for at once.
const CONCURRENCY: usize = 16;

pub fn find(
    ctx: &Ctx,
    config: &Config,
    state: Option<&State>,
    catalog: &dyn Catalog,
    refresh: bool,
) -> Result<Drift, CmdError> {
    let jobs = catalog
        .jobs(&JobFilter {
            kind: Some(JobKind::Backup),
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    let mut out = Drift {
        failing_resources: drift::failing_resources(&jobs),
        ..Drift::default()
    };
    let Some(state) = state else {
        return Ok(out);
    };
    let env = |k: &str| std::env::var(k).ok();
    let prepared = crate::app::session::prepare(state, &Inventory::default(), &ctx.dir, &env)?;
    let mut broken: BTreeSet<String> = BTreeSet::new();
    // each repository opened and listed once (its cold one too): the quick structure check,
    // and the snapshots its points are looked for among
    let mut snapshots: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (vault, repo) in &prepared.repositories {
        let key = match repo.key() {
            Ok(k) => k,
            Err(why) => {
                out.unchecked.push(format!(
                    "vault.{vault}'s repository, whose key cannot be found: {why}"
                ));
                broken.insert(vault.clone());
                continue;
            }
        };
        let mut ids = BTreeSet::new();
        let mut problem = None;
        for location in std::iter::once(&repo.location).chain(repo.cold.as_ref()) {
            match list(location, &key) {
                Ok(found) => ids.extend(found),
                Err(p) => {
                    problem = Some((location.to_string(), p));
                    break;
                }
            }
        }
        match problem {
            Some((storage, problem)) => {
                out.repositories.push(BrokenRepository {
                    vault: vault.clone(),
                    storage,
                    problem,
                });
                broken.insert(vault.clone());
            }
            None => {
                snapshots.insert(vault.clone(), ids);
            }
        }
    }
    let points = catalog
        .recovery_points(&PointFilter {
            status: Some(PointStatus::Completed),
            ..PointFilter::default()
        })
        .map_err(|e| e.to_string())?;
    let mut elsewhere = Vec::new();
    for p in points {
        let Some(r) = p.source_resource() else {
            continue;
        };
        // file-level points live in their vault's repository, the others in AWS
        let in_repository = matches!(
            r.resource_type,
            ResourceType::Directory | ResourceType::EfsFileSystem
        );
        if !in_repository {
            elsewhere.push((r, p));
        } else if broken.contains(&p.point.vault) {
            continue;
        } else if let Some(ids) = snapshots.get(&p.point.vault) {
            if !ids.contains(&p.point.native_id) {
                out.missing_points.push(missing(&p));
            }
        }
    }
    if !elsewhere.is_empty() && refresh {
        look_up_in_aws(config, &prepared.homes, &elsewhere, &mut out)?;
    } else if !elsewhere.is_empty() {
        let n = elsewhere.len();
        out.unchecked.push(if n == 1 {
            "whether the native object of 1 AWS recovery point still exists (--refresh=false calls no cloud)".to_string()
        } else {
            format!("whether the native objects of {n} AWS recovery points still exist (--refresh=false calls no cloud)")
        });
    }
    out.missing_points.sort();
    Ok(out)
}

/// Looks for each AWS point's native object through its type's provider, some at once; a
/// vault whose lookups fail is said to be unchecked, once.
fn look_up_in_aws(
    config: &Config,
    homes: &BTreeMap<String, crate::providers::aws::VaultHome>,
    points: &[(crate::inventory::Resource, crate::catalog::RecoveryPoint)],
    out: &mut Drift,
) -> Result<(), CmdError> {
    let targets = super::discovery::targets(config)?;
    let runtime = super::context::runtime()?;
    let results = runtime.block_on(async {
        let provider = crate::providers::aws::providers(&targets, homes.clone()).await;
        let provider = &provider;
        futures_util::stream::iter(points.iter())
            .map(|(r, p)| async move {
                let found = if provider.supports(r.resource_type) {
                    Some(provider.exists(r, &p.point.vault, &p.point.native_id).await)
                } else {
                    None
                };
                (p, found)
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
    });
    let mut failed_vaults = BTreeSet::new();
    for (p, found) in results {
        match found {
            Some(Ok(true)) | None => {}
            Some(Ok(false)) => out.missing_points.push(missing(p)),
            Some(Err(e)) => {
                if failed_vaults.insert(p.point.vault.clone()) {
                    out.unchecked.push(format!(
                        "some recovery points of vault.{} could not be looked for: {}",
                        p.point.vault, e.message
                    ));
                }
            }
        }
    }
    Ok(())
}

fn missing(p: &crate::catalog::RecoveryPoint) -> MissingPoint {
    MissingPoint {
        vault: p.point.vault.clone(),
        recovery_point_id: p.id.clone(),
        resource_arn: p.point.resource_arn.clone(),
        native_id: p.point.native_id.clone(),
    }
}

/// The full ids of a repository's snapshots, or what is wrong with it.
fn list(location: &repository::Location, key: &str) -> Result<Vec<String>, String> {
    let open = match repository::open(location, key) {
        Err(RepositoryError::Missing(_)) => return Err("no repository is there any more".into()),
        Err(RepositoryError::Failed(e)) => return Err(e),
        Ok(open) => open,
    };
    crate::providers::files::snapshot_ids(&open).map_err(|e| e.to_string())
}
