//! File-level recovery points in vault repositories: `coffer restore start` restores one (or
//! one path in it) into a directory (AWS points go to `restore_aws`), refuses to write over existing files unless asked, reads
//! everything back to verify it, records the restore as a job and notifies its end.

use super::args::VarArgs;
use super::context::{interruptible, CmdError, Ctx};
use super::Exit;
use crate::app::restore;
use crate::render::jobs::size;
use crate::repository::{self};
use chrono::Utc;
use std::path::PathBuf;

pub struct Options {
    pub recovery_point: String,
    pub target: Option<PathBuf>,
    pub set: Vec<String>,
    pub dry_run: bool,
    pub no_wait: bool,
    pub copy_source_tags: bool,
    pub path: Option<String>,
    pub overwrite: bool,
    pub json: bool,
}

/// The applied vault's repository and its key.
pub(super) fn vault_repository(
    ctx: &Ctx,
    backend: &crate::state::backend::Backend,
    vault: &str,
) -> Result<(repository::Location, String), CmdError> {
    vault_repositories(ctx, backend, vault).map(|(warm, _, key)| (warm, key))
}

/// The applied vault's repository, its cold repository if it has one, and their key.
pub(super) fn vault_repositories(
    ctx: &Ctx,
    backend: &crate::state::backend::Backend,
    vault: &str,
) -> Result<(repository::Location, Option<repository::Location>, String), CmdError> {
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
    let key = repo.key()?;
    Ok((repo.location, repo.cold, key))
}

/// Delivers what the restore's end raises (`RESTORE_JOB_COMPLETED` or `RESTORE_JOB_FAILED`)
/// to the applied notifications, as the runner does for the jobs it runs, waiting for the
/// deliveries as a one-shot command does.
fn notify_ended(
    ctx: &Ctx,
    backend: &crate::state::backend::Backend,
    job: &crate::catalog::JobRecord,
) {
    let Ok(Some(loaded)) = backend.read() else {
        return;
    };
    let subscriptions = crate::notify_delivery::subscriptions(&loaded.state);
    let Some(notifier) = super::runner::notifier_for(ctx, &subscriptions) else {
        return;
    };
    for payload in crate::notify::job_ended(job, Utc::now()) {
        notifier.send(payload);
    }
    notifier.finish(super::runner::DELIVERY_WAIT);
}

pub fn start(
    ctx: &Ctx,
    opts: Options,
    lock_timeout: std::time::Duration,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let (config, _) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config))?;
    let point = ctx
        .catalog_read_only(&backend)?
        .recovery_point(&opts.recovery_point)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no recovery point `{}` in the catalog; `coffer recovery-points list` shows the IDs",
                opts.recovery_point
            )
        })?;
    if !crate::runner::execute::restore::is_file_level(&point.point.resource_type) {
        return super::restore_aws::start(ctx, &point, &opts, lock_timeout, vars);
    }
    let file_only = [
        (!opts.set.is_empty(), "--set"),
        (opts.dry_run, "--dry-run"),
        (opts.no_wait, "--no-wait"),
        (opts.copy_source_tags, "--copy-source-tags"),
    ];
    if let Some((_, flag)) = file_only.iter().find(|(given, _)| *given) {
        return Err(format!(
            "{flag} is for restores of AWS points; {} is a file-level point: restore it with --target DIR (and --path, --overwrite)",
            point.id
        ));
    }
    let Some(target) = opts.target.clone() else {
        return Err(format!(
            "{} is a file-level point: say where to restore it with --target DIR",
            point.id
        ));
    };
    let (resource, source) = restore::file_source(&point)?;
    let (warm, cold, password) = vault_repositories(ctx, &backend, &point.point.vault)?;
    // a cold point is read from the vault's cold repository
    let location = match (point.storage_class, cold) {
        (crate::jobs::StorageClass::Cold, Some(cold)) => cold,
        (crate::jobs::StorageClass::Cold, None) => {
            return Err(format!(
            "{} is in cold storage, but vault `{}` no longer declares its cold_storage repository",
            point.id, point.point.vault
        ))
        }
        _ => warm,
    };
    // `-C DIR` runs as if started in DIR: a relative target is inside it
    let target = crate::workspace::normalize(&ctx.dir.join(&target));
    repository::check_target(&target, opts.overwrite)?;

    // Jobs run one coffer at a time: a tick that ran beside this restore would see its job
    // unfinished and take it for one a dead coffer left.
    let _lock = super::runner::runner_lock(ctx, &backend, "restore start", lock_timeout)?;
    let stop = interruptible()?;
    let mut catalog = ctx.catalog(&backend)?;
    restore::end_interrupted(&mut *catalog, Utc::now()).map_err(|e| e.to_string())?;
    let job = restore::begin(&mut *catalog, &point, &resource.arn, Utc::now())?;
    crate::failpoint::abort_at("restore-running");
    ctx.waiting(&format!(
        "Restoring {} into {} (job {})...",
        point.id,
        target.display(),
        job.id
    ));
    let outcome = restore::run(
        restore::FileRestore {
            point: point.clone(),
            source,
            location,
            password,
            path: opts.path.clone(),
            target: target.clone(),
            overwrite: opts.overwrite,
        },
        &stop,
    );
    let ended = restore::finish(&mut *catalog, &job, &point, &target, &outcome, Utc::now())
        .map_err(|e| e.to_string())?;
    notify_ended(ctx, &backend, &ended);
    match outcome {
        restore::Outcome::Failed(e) => Err(e),
        restore::Outcome::Interrupted => {
            eprintln!(
                "coffer: restore interrupted; job {} is {}: {}",
                ended.id,
                ended.state(),
                ended.error.as_deref().unwrap_or_default()
            );
            Ok(Exit::Interrupted)
        }
        restore::Outcome::Restored(r) => {
            if opts.json {
                super::json::print(&super::json::RestoreJson {
                    job_id: job.id.clone(),
                    recovery_point_id: point.id.clone(),
                    target: target.display().to_string(),
                    files: r.files,
                    dirs: r.dirs,
                    bytes: r.bytes,
                    verified_files: r.verified,
                });
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
