//! `coffer inventory`: discovered resources and what protects each, filtered by type, tag
//! or lack of protection, with snapshots made outside coffer during a rule's latest window
//! (overlaps); as a table or as JSON.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::discovery;
use super::Exit;
use crate::coverage::{self, Protection, Rules};
use crate::inventory::ResourceType;
use crate::objects;
use crate::providers::{ForeignSnapshot, Provider};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

pub struct Options {
    pub unprotected: bool,
    pub resource_type: Option<String>,
    pub tags: Vec<String>,
    pub json: bool,
    pub vars: VarArgs,
}

/// One resource in `coffer inventory --json` (an array of these);
/// schema/inventory.schema.json.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Row<'a> {
    arn: &'a str,
    #[serde(rename = "type")]
    resource_type: ResourceType,
    region: &'a str,
    account: &'a str,
    name: Option<&'a str>,
    tags: &'a BTreeMap<String, String>,
    created_at: Option<String>,
    mount_path: Option<&'a str>,
    relationships: &'a [crate::inventory::Relationship],
    protected_by: &'a [Protection],
    /// Snapshots of this resource that coffer did not make, within the latest window of a
    /// rule that covers it.
    overlaps: Vec<RowOverlap>,
}

/// A snapshot of the resource made outside coffer.
#[derive(Serialize, schemars::JsonSchema)]
pub struct RowOverlap {
    created_at: String,
    native_id: String,
    /// Who made it, when its tags or description say.
    origin: Option<String>,
}

/// From a run's scheduled time to its complete-by time.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// Snapshots made outside coffer of covered AWS resources, each within the latest run
/// window (scheduled time to complete-by) of a rule that covers the resource.
fn overlaps(
    config: &crate::config::model::Config,
    rules: &[crate::jobs::RuleInfo],
    coverage: &coverage::Coverage,
    inventory: &crate::inventory::Inventory,
) -> Result<BTreeMap<String, Vec<ForeignSnapshot>>, CmdError> {
    let targets = discovery::targets(config)?;
    if targets.is_empty() {
        return Ok(BTreeMap::new());
    }
    let now = Utc::now();
    let mut windows: BTreeMap<&str, Vec<Window>> = BTreeMap::new();
    for (arn, protections) in coverage {
        for rule in rules
            .iter()
            .filter(|r| protections.iter().any(|p| p.plan == r.plan))
        {
            if let Some(start) = rule.schedule.prev_before(now) {
                windows.entry(arn.as_str()).or_default().push((
                    start,
                    start
                        .checked_add_signed(rule.completion_window)
                        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
                ));
            }
        }
    }
    let resources: Vec<&crate::inventory::Resource> = windows
        .keys()
        .filter_map(|arn| inventory.get(arn))
        .filter(|r| r.resource_type != ResourceType::Directory)
        .collect();
    let Some(from) = windows.values().flatten().map(|(s, _)| *s).min() else {
        return Ok(BTreeMap::new());
    };
    if resources.is_empty() {
        return Ok(BTreeMap::new());
    }
    let runtime = super::context::runtime()?;
    let found = runtime
        .block_on(async {
            let providers = crate::providers::aws::providers(&targets, BTreeMap::new()).await;
            providers.foreign_snapshots(&resources, from, now).await
        })
        .map_err(|e| {
            format!(
                "could not look for snapshots made outside coffer: {}",
                e.message
            )
        })?;
    let mut out: BTreeMap<String, Vec<ForeignSnapshot>> = BTreeMap::new();
    for f in found {
        let inside = windows.get(f.resource_arn.as_str()).is_some_and(|ws| {
            ws.iter()
                .any(|(s, e)| f.created_at >= *s && f.created_at <= *e)
        });
        if inside {
            out.entry(f.resource_arn.clone()).or_default().push(f);
        }
    }
    Ok(out)
}

pub fn inventory(ctx: &Ctx, opts: Options) -> Result<Exit, CmdError> {
    let (config, _) = ctx.load(&opts.vars)?;
    let wanted_type = match &opts.resource_type {
        Some(t) => Some(ResourceType::parse(t).ok_or_else(|| {
            let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
            format!(
                "unknown resource type `{t}`; types are {}",
                names.join(", ")
            )
        })?),
        None => None,
    };
    let mut wanted_tags = Vec::new();
    for t in &opts.tags {
        let (k, v) = t
            .split_once('=')
            .ok_or_else(|| format!("--tag expects KEY=VALUE, got `{t}`"))?;
        wanted_tags.push((k.to_string(), v.to_string()));
    }
    let inventory = discovery::refresh(ctx, &config)?;
    let desired = objects::desired(&config);
    let rules = Rules::from_objects(desired.iter().map(|o| (&o.address, &o.attributes)));
    let coverage = coverage::compute(&rules, &inventory);
    let scheduled =
        crate::jobs::rules_from_objects(desired.iter().map(|o| (&o.address, &o.attributes)))?;
    let overlaps = overlaps(&config, &scheduled, &coverage, &inventory)?;
    let none: Vec<Protection> = Vec::new();
    let rows: Vec<Row> = inventory
        .resources
        .iter()
        .filter(|r| wanted_type.is_none_or(|t| r.resource_type == t))
        .filter(|r| wanted_tags.iter().all(|(k, v)| r.tags.get(k) == Some(v)))
        .map(|r| Row {
            arn: &r.arn,
            resource_type: r.resource_type,
            region: &r.region,
            account: &r.account,
            name: r.name.as_deref(),
            tags: &r.tags,
            created_at: r
                .created_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            mount_path: r.mount_path.as_deref(),
            relationships: &r.relationships,
            protected_by: coverage.get(&r.arn).map_or(&none[..], |v| &v[..]),
            overlaps: overlaps
                .get(&r.arn)
                .into_iter()
                .flatten()
                .map(|o| RowOverlap {
                    native_id: o.native_id.clone(),
                    created_at: o
                        .created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    origin: o.origin.clone(),
                })
                .collect(),
        })
        .filter(|row| !opts.unprotected || row.protected_by.is_empty())
        .collect();
    if opts.json {
        super::json::print_in_order(&rows);
        return Ok(Exit::Success);
    }
    if rows.is_empty() {
        println!("No resources match.");
        return Ok(Exit::Success);
    }
    let style = crate::render::Style {
        color: ctx.color_out,
    };
    for row in &rows {
        let name = row.name.map(|n| format!(" \"{n}\"")).unwrap_or_default();
        println!(
            "{} {}{name} ({})",
            row.resource_type,
            style.bold(row.arn),
            row.region
        );
        if row.protected_by.is_empty() {
            println!("    {}", style.yellow("unprotected"));
        }
        for p in row.protected_by {
            println!("    protected by {} in {}", p.selection, p.plan);
        }
        for o in &row.overlaps {
            let origin = o
                .origin
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            println!(
                "    {} {} at {}{origin}, within a rule's window",
                style.yellow("overlap: snapshot made outside coffer"),
                o.native_id,
                o.created_at,
            );
        }
    }
    let unprotected = rows.iter().filter(|r| r.protected_by.is_empty()).count();
    println!(
        "\n{} resources, {} protected, {unprotected} unprotected.",
        rows.len(),
        rows.len() - unprotected
    );
    Ok(Exit::Success)
}
