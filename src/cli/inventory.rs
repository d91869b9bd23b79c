//! `coffer inventory`: discovered resources and what protects each, filtered by type, tag
//! or lack of protection; as a table or as JSON.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::discovery;
use super::Exit;
use crate::coverage::{self, Protection, Rules};
use crate::inventory::ResourceType;
use crate::objects;
use serde::Serialize;
use std::collections::BTreeMap;

pub struct Options {
    pub unprotected: bool,
    pub resource_type: Option<String>,
    pub tags: Vec<String>,
    pub json: bool,
    pub vars: VarArgs,
}

#[derive(Serialize)]
struct Row<'a> {
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
        })
        .filter(|row| !opts.unprotected || row.protected_by.is_empty())
        .collect();
    if opts.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
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
    }
    let unprotected = rows.iter().filter(|r| r.protected_by.is_empty()).count();
    println!(
        "\n{} resources, {} protected, {unprotected} unprotected.",
        rows.len(),
        rows.len() - unprotected
    );
    Ok(Exit::Success)
}
