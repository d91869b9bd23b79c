//! `coffer restore start` for AWS recovery points: the restore metadata (the source's
//! configuration recorded with the point, coffer's defaults, `--set` overrides) is worked out
//! and printed with `--dry-run`, or a `restore` job creates a new resource from the point,
//! waited for unless `--no-wait`; the source is never overwritten.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::restore::Options;
use super::runner::*;
use super::Exit;
use crate::catalog::{NewJob, RecoveryPoint};
use crate::inventory::ResourceType;
use crate::jobs::{restore_metadata, JobKind, JobOptions, PointStatus, Windows};
use chrono::Utc;
use std::collections::BTreeMap;

/// `KEY=VALUE` pairs of `--set`.
fn overrides(sets: &[String]) -> Result<Vec<(String, String)>, CmdError> {
    sets.iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| {
                    format!("--set `{s}`: expected KEY=VALUE, e.g. --set volumeType=gp3")
                })
        })
        .collect()
}

/// The point's type, and the metadata its restore would use.
fn metadata(
    point: &RecoveryPoint,
    sets: &[String],
    name: Option<&str>,
) -> Result<(ResourceType, BTreeMap<String, String>), CmdError> {
    let t = ResourceType::parse(&point.point.resource_type).ok_or_else(|| {
        format!(
            "{} is a {} point, which coffer cannot restore",
            point.id, point.point.resource_type
        )
    })?;
    let source = point
        .source_resource()
        .map(|r| r.metadata)
        .unwrap_or_default();
    let m = restore_metadata::resolve(t, &source, &overrides(sets)?, name)
        .map_err(|e| e.to_string())?;
    Ok((t, m))
}

pub fn start(
    ctx: &Ctx,
    point: &RecoveryPoint,
    opts: &Options,
    lock_timeout: std::time::Duration,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let file_only = [
        (opts.target.is_some(), "--target"),
        (opts.path.is_some(), "--path"),
        (opts.overwrite, "--overwrite"),
    ];
    if let Some((_, flag)) = file_only.iter().find(|(given, _)| *given) {
        return Err(format!(
            "{flag} is for file-level points; {} is a {} point, which restores into a new resource: change what it creates with --set KEY=VALUE (see --dry-run)",
            point.id, point.point.resource_type
        ));
    }
    if point.status != PointStatus::Completed {
        return Err(format!(
            "{} is {}: only completed recovery points restore",
            point.id, point.status
        ));
    }
    if opts.dry_run {
        let (t, m) = metadata(point, &opts.set, Some("coffer-restore-<job id>"))?;
        if opts.json {
            super::json::print(&super::json::RestoreDryRunJson {
                recovery_point_id: point.id.clone(),
                resource_type: t,
                native_id: point.point.native_id.clone(),
                vault: point.point.vault.clone(),
                metadata: m,
            });
        } else {
            println!(
                "Restoring {} ({} {}, vault {}) would create a new {t} resource with:",
                point.id, t, point.point.native_id, point.point.vault
            );
            let width = m.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &m {
                println!("  {k:<width$} = {v}");
            }
            println!("Nothing was created (--dry-run).");
        }
        return Ok(Exit::Success);
    }
    let (t, m) = metadata(point, &opts.set, None)?;
    let s = session(ctx, vars)?;
    let job = NewJob {
        kind: JobKind::Restore,
        plan: None,
        rule: None,
        resource_arn: point.point.resource_arn.clone(),
        vault: point.point.vault.clone(),
        windows: Windows::on_demand(Utc::now()),
        options: JobOptions {
            restore: m,
            copy_source_tags: opts.copy_source_tags,
            ..JobOptions::default()
        },
        recovery_point_id: Some(point.id.clone()),
        source_recovery_point_id: None,
    };
    if opts.no_wait {
        let _lock = runner_lock(ctx, &s.backend, "restore start", lock_timeout)?;
        let created = ctx
            .catalog(&s.backend)?
            .create_job(&job, Utc::now())
            .map_err(|e| e.to_string())?
            .ok_or("a restore of this point was already started at this instant")?;
        if opts.json {
            super::json::print(&crate::render::jobs::JobJson::of(&created));
        } else {
            println!(
                "Restore job {} recorded; the next `coffer run` (or the daemon) restores {} and `coffer jobs show {}` follows it.",
                created.id, point.id, created.id
            );
        }
        return Ok(Exit::Success);
    }
    let how = OnDemand {
        op: "restore start",
        lock_timeout,
        settings: crate::runner::Settings::default(),
        json_out: opts.json,
        already: "a restore of this point was already started at this instant",
    };
    let job = run_on_demand(ctx, &s, how, job, |supports| {
        if supports(t) {
            Ok(())
        } else {
            Err(format!(
                "coffer cannot restore {t} points: no provider \"aws\" block covers them"
            ))
        }
    })?;
    Ok(if job.state() == crate::jobs::JobState::Completed {
        Exit::Success
    } else {
        Exit::Error
    })
}
