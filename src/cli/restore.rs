//! File-level recovery points in vault repositories: `coffer restore start` restores one (or
//! one path in it) into a directory, refuses to write over existing files unless asked, reads
//! everything back to verify it, and records the restore as a job; `coffer vault check`
//! checks a repository's integrity.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::Exit;
use crate::catalog::{Catalog, JobUpdate, NewJob, SqliteCatalog};
use crate::inventory::{Resource, ResourceType};
use crate::jobs::{JobOptions, JobState, Windows};
use crate::render::jobs::size;
use crate::repository;
use chrono::Utc;
use std::path::PathBuf;

pub struct Options {
    pub recovery_point: String,
    pub target: PathBuf,
    pub path: Option<String>,
    pub overwrite: bool,
    pub json: bool,
}

/// The applied vault's repository and its key.
fn vault_repository(
    ctx: &Ctx,
    backend: &crate::state::local::LocalBackend,
    vault: &str,
) -> Result<(repository::Location, String), CmdError> {
    let state = backend
        .read()
        .map_err(|e| e.to_string())?
        .map(|l| l.state)
        .ok_or("nothing has been applied yet")?;
    let address = crate::address::Address::Vault(vault.to_string());
    let attributes = &state
        .objects
        .get(&address)
        .ok_or_else(|| format!("{address} is not applied"))?
        .attributes;
    let repo = repository::vault_repository_from_env(vault, attributes, &ctx.dir)?
        .ok_or_else(|| format!("{address} has no storage, so no repository"))?;
    Ok((repo.location, repo.password?))
}

pub fn vault_check(
    ctx: &Ctx,
    name: &str,
    read_data_subset: Option<&str>,
    json: bool,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let (config, _) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config));
    let (location, password) = vault_repository(ctx, &backend, name)?;
    let checked = repository::check(&location, &password, read_data_subset)?;
    if json {
        let v = serde_json::json!({
            "vault": name,
            "location": location.to_string(),
            "snapshots": checked.snapshots,
            "read_data_subset": read_data_subset,
            "ok": checked.errors.is_empty(),
            "errors": checked.errors,
            "warnings": checked.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for w in &checked.warnings {
            println!("warning: {w}");
        }
        for e in &checked.errors {
            println!("error: {e}");
        }
        let data = read_data_subset
            .map(|s| format!(", and {s} of the stored data read back"))
            .unwrap_or_default();
        if checked.errors.is_empty() {
            println!(
                "Vault {name} ({location}) is intact: {} snapshot{} checked{data}.",
                checked.snapshots,
                if checked.snapshots == 1 { "" } else { "s" }
            );
        } else {
            println!(
                "Vault {name} ({location}) is damaged: {} error{}.",
                checked.errors.len(),
                if checked.errors.len() == 1 { "" } else { "s" }
            );
        }
    }
    Ok(if checked.errors.is_empty() {
        Exit::Success
    } else {
        Exit::Error
    })
}

pub fn start(ctx: &Ctx, opts: Options, vars: &VarArgs) -> Result<Exit, CmdError> {
    let (config, _) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config));
    let mut catalog =
        SqliteCatalog::open(&backend.dir().join("catalog.db")).map_err(|e| e.to_string())?;
    let point = catalog
        .recovery_point(&opts.recovery_point)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no recovery point `{}` in the catalog; `coffer recovery-points list` shows the IDs",
                opts.recovery_point
            )
        })?;
    let resource: Resource =
        serde_json::from_value(point.point.resource.clone()).map_err(|_| {
            format!(
                "recovery point {} does not record its source resource",
                point.id
            )
        })?;
    if !matches!(
        resource.resource_type,
        ResourceType::Directory | ResourceType::EfsFileSystem
    ) {
        return Err(format!(
            "recovery point {} is a {} snapshot ({}); coffer restores file-level points, restore snapshots with AWS",
            point.id, resource.resource_type, point.point.native_id
        ));
    }
    let source = resource
        .mount_path
        .clone()
        .or_else(|| resource.arn.strip_prefix("dir:").map(str::to_string))
        .map(PathBuf::from)
        .ok_or_else(|| format!("recovery point {} records no source path", point.id))?;
    let (location, password) = vault_repository(ctx, &backend, &point.point.vault)?;
    // `-C DIR` runs as if started in DIR: a relative target is inside it
    let target = crate::workspace::normalize(&ctx.dir.join(&opts.target));
    repository::check_target(&target, opts.overwrite)?;

    let now = Utc::now();
    let job = catalog
        .create_job(
            &NewJob {
                kind: "restore".into(),
                plan: None,
                rule: None,
                resource_arn: resource.arn.clone(),
                vault: point.point.vault.clone(),
                windows: Windows {
                    scheduled_at: now,
                    start_by: now + chrono::Duration::hours(8),
                    complete_by: now + chrono::Duration::days(7),
                },
                options: JobOptions::default(),
            },
            now,
        )
        .map_err(|e| e.to_string())?
        .ok_or("a restore of this resource was already started at this instant")?;
    catalog
        .transition_job(&job.id, JobState::Running, Utc::now(), None)
        .map_err(|e| e.to_string())?;
    let outcome = repository::restore(
        &location,
        &password,
        &point.point.native_id,
        &source,
        opts.path.as_deref(),
        &target,
        opts.overwrite,
    );
    match outcome {
        Err(e) => {
            catalog
                .transition_job(&job.id, JobState::Failed, Utc::now(), Some(&e))
                .map_err(|e| e.to_string())?;
            Err(e)
        }
        Ok(r) => {
            catalog
                .update_job(
                    &job.id,
                    &JobUpdate {
                        attempts: Some(1),
                        native_ids: Some(vec![target.display().to_string()]),
                        bytes: Some(r.bytes),
                        recovery_point_id: Some(point.id.clone()),
                        warning: None,
                    },
                )
                .map_err(|e| e.to_string())?;
            catalog
                .transition_job(&job.id, JobState::Completed, Utc::now(), None)
                .map_err(|e| e.to_string())?;
            if opts.json {
                let v = serde_json::json!({
                    "job_id": job.id,
                    "recovery_point_id": point.id,
                    "target": target.display().to_string(),
                    "files": r.files,
                    "dirs": r.dirs,
                    "bytes": r.bytes,
                    "verified_files": r.verified,
                });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!(
                    "Restored {} file{} and {} director{} ({}) from {} into {}; {} file{} read back and verified.",
                    r.files,
                    if r.files == 1 { "" } else { "s" },
                    r.dirs,
                    if r.dirs == 1 { "y" } else { "ies" },
                    size(Some(r.bytes)),
                    point.id,
                    target.display(),
                    r.verified,
                    if r.verified == 1 { "" } else { "s" },
                );
            }
            Ok(Exit::Success)
        }
    }
}
