//! `coffer vault check NAME` (a vault repository's integrity, optionally reading stored data back)
//! and `coffer vault prune NAME` (unused data removed now, as a `prune` job).

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::json::VaultCheckJson;
use super::restore::*;
use super::Exit;
use crate::catalog::VaultCheck;
use crate::repository::{self, RepositoryError};

pub fn vault_check(
    ctx: &Ctx,
    name: &str,
    read_data_subset: Option<&str>,
    json: bool,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let (config, _) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config))?;
    let (location, password) = vault_repository(ctx, &backend, name)?;
    let (checked, missing) = match repository::check(&location, &password, read_data_subset) {
        Ok(c) => (c, false),
        Err(RepositoryError::Missing(_)) => {
            let why = RepositoryError::Missing(location.to_string()).for_vault(name);
            let checked = repository::Checked {
                errors: vec![why],
                warnings: Vec::new(),
                snapshots: 0,
            };
            (checked, true)
        }
        Err(e) => return Err(e.for_vault(name)),
    };
    let record = VaultCheck {
        vault: name.to_string(),
        checked_at: to_micros(chrono::Utc::now()),
        location: location.to_string(),
        snapshots: checked.snapshots as u64,
        read_data_subset: read_data_subset.map(str::to_string),
        missing,
        errors: checked.errors.len() as u64,
        warnings: checked.warnings.len() as u64,
        first_error: checked.errors.first().cloned(),
    };
    // What was found is said whether or not it could be recorded; a check that could not be
    // recorded says so, and the dashboard's last check stays the one before.
    let recorded = ctx
        .catalog(&backend)
        .and_then(|mut c| c.record_vault_check(&record).map_err(|e| e.to_string()));
    if json {
        super::json::print(&VaultCheckJson {
            vault: name.to_string(),
            location: location.to_string(),
            snapshots: checked.snapshots,
            read_data_subset: read_data_subset.map(str::to_string),
            ok: record.ok(),
            missing,
            errors: checked.errors.clone(),
            warnings: checked.warnings.clone(),
            checked_at: record.checked_at,
            recorded: recorded.is_ok(),
        });
    } else if missing {
        println!(
            "Vault {name} ({location}) is missing: {}.",
            checked.errors.join("; ")
        );
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
    if let Err(e) = recorded {
        eprintln!("warning: this check of vault {name} was not recorded in the catalog: {e}");
    }
    Ok(if record.ok() {
        Exit::Success
    } else {
        Exit::Error
    })
}

/// `t` to the microsecond, as both catalogs keep it.
fn to_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::Timelike;
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// `coffer vault prune NAME`: one prune job for the vault, run now.
pub fn vault_prune(
    ctx: &Ctx,
    name: &str,
    json: bool,
    lock_timeout: std::time::Duration,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    use super::runner::{run_on_demand, session, OnDemand};
    let s = session(ctx, vars)?;
    if !s.policies.prune_limits.contains_key(name) {
        return Err(if s.vaults.iter().any(|v| v == name) {
            format!("vault `{name}` has no storage, so it has no repository to prune")
        } else {
            format!("no vault `{name}` has been applied")
        });
    }
    let mut job = crate::runner::lifecycle::prune_job(name, chrono::Utc::now());
    job.windows = crate::jobs::Windows::on_demand(chrono::Utc::now());
    let how = OnDemand {
        op: "vault prune",
        lock_timeout,
        settings: crate::runner::Settings::default(),
        json_out: json,
        already: "a prune of this vault was already started at this instant",
    };
    let job = run_on_demand(ctx, &s, how, job, |_| Ok(()))?;
    Ok(if job.state() == crate::jobs::JobState::Completed {
        Exit::Success
    } else {
        Exit::Error
    })
}
