//! Getting an inventory for a command: local directories from the configuration plus,
//! when AWS providers are configured, discovery through the AWS provider (or the inventory
//! recorded at the last apply, with `--refresh=false`).

use super::context::{CmdError, Ctx};
use crate::aws::{self, Target};
use crate::config::model::Config;
use crate::inventory::Inventory;
use crate::plan::InventorySource;
use crate::state::State;
use crate::workspace;
use std::collections::BTreeMap;

/// The provider blocks to discover from. A provider without `region` uses AWS_REGION or
/// AWS_DEFAULT_REGION.
pub fn targets(config: &Config) -> Result<Vec<Target>, CmdError> {
    let env_region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok();
    config
        .providers
        .iter()
        .map(|p| {
            let region = p.region.clone().or_else(|| env_region.clone()).ok_or_else(|| {
                let which = p.alias.as_deref().map(|a| format!(" (alias {a})")).unwrap_or_default();
                format!("provider \"aws\"{which} has no region: set `region` in the block, or AWS_REGION in the environment")
            })?;
            Ok(Target {
                region,
                profile: p.profile.clone(),
                alias: p.alias.clone(),
                assume_role: p.assume_role.clone(),
            })
        })
        .collect()
}

/// Discovers everything now.
pub fn refresh(ctx: &Ctx, config: &Config) -> Result<Inventory, CmdError> {
    let mut resources = workspace::local_resources(config, &ctx.dir);
    let targets = targets(config)?;
    if !targets.is_empty() {
        let started = std::time::Instant::now();
        let regions: Vec<String> = targets.iter().map(|t| t.region.clone()).collect();
        let mounts: BTreeMap<String, String> = config
            .efs_mounts
            .values()
            .map(|m| (m.file_system_id.clone(), m.mount_path.clone()))
            .collect();
        let runtime = super::context::runtime()?;
        let found = runtime
            .block_on(aws::discover(targets, mounts))
            .map_err(|e| e.to_string())?;
        let calls: u64 = found.calls.values().sum();
        eprintln!(
            "Discovered {} AWS resources in {} ({calls} API calls, {:.1} s).",
            found.resources.len(),
            regions.join(", "),
            started.elapsed().as_secs_f64()
        );
        resources.extend(found.resources);
    }
    Ok(Inventory::new(resources))
}

/// The inventory a plan uses: refreshed, or recorded at the last apply.
pub fn for_plan(
    ctx: &Ctx,
    config: &Config,
    state: Option<&State>,
    refresh_now: bool,
) -> Result<Option<(Inventory, InventorySource)>, CmdError> {
    if refresh_now {
        return Ok(Some((refresh(ctx, config)?, InventorySource::Refreshed)));
    }
    Ok(state
        .and_then(|s| s.inventory.clone())
        .map(|i| (i, InventorySource::Recorded)))
}
