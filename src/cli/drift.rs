//! Finding drift for `coffer plan`: the applied vaults' repositories opened and their
//! snapshots listed (the quick structure check), every COMPLETED recovery point's native
//! object looked for through its type's provider (only when refreshing, as that calls AWS),
//! and the catalog's backup jobs for resources that keep failing. What cannot be looked at is
//! said, never taken as drift.

use super::context::{CmdError, Ctx};
use crate::catalog::{Catalog, JobFilter, PointFilter};
use crate::config::model::Config;
use crate::inventory::Inventory;
use crate::jobs::{JobKind, PointStatus};
use crate::plan::drift::{self, BrokenRepository, Drift, MissingPoint};
use crate::providers::files::FileBackups;
use crate::providers::route::ByResourceType;
use crate::providers::Provider;
use crate::repository::{self, RepositoryError};
use crate::state::State;
use futures_util::StreamExt;
use std::collections::BTreeSet;

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
        let problem = match repository::open(&repo.location, &key) {
            Err(RepositoryError::Missing(_)) => Some("no repository is there any more".to_string()),
            Err(RepositoryError::Failed(e)) => Some(e),
            Ok(open) => open.get_all_snapshots().err().map(|e| e.to_string()),
        };
        if let Some(problem) = problem {
            out.repositories.push(BrokenRepository {
                vault: vault.clone(),
                storage: repo.location.to_string(),
                problem,
            });
            broken.insert(vault.clone());
        }
    }
    if !refresh {
        out.unchecked.push(
            "whether recovery points' native objects still exist (--refresh=false calls no cloud)"
                .into(),
        );
        return Ok(out);
    }
    let points = catalog
        .recovery_points(&PointFilter {
            status: Some(PointStatus::Completed),
            ..PointFilter::default()
        })
        .map_err(|e| e.to_string())?;
    let points: Vec<_> = points
        .into_iter()
        .filter(|p| !broken.contains(&p.point.vault))
        .filter_map(|p| Some((p.source_resource()?, p)))
        .collect();
    if points.is_empty() {
        return Ok(out);
    }
    let targets = super::discovery::targets(config)?;
    let runtime = super::context::runtime()?;
    let results = runtime.block_on(async {
        let provider = ByResourceType(
            crate::providers::aws::providers(&targets, prepared.homes.clone()).await,
            FileBackups::new(prepared.repositories.clone(), false),
        );
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
            Some(Ok(false)) => out.missing_points.push(MissingPoint {
                vault: p.point.vault.clone(),
                recovery_point_id: p.id.clone(),
                resource_arn: p.point.resource_arn.clone(),
                native_id: p.point.native_id.clone(),
            }),
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
    out.missing_points.sort();
    Ok(out)
}
