//! `coffer vault check NAME`: a vault repository's integrity, optionally reading stored data back.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::json::VaultCheckJson;
use super::restore::*;
use super::Exit;
use crate::repository::{self, RepositoryError};

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
    let checked = match repository::check(&location, &password, read_data_subset) {
        Ok(c) => c,
        Err(RepositoryError::Missing(_)) => {
            let why = RepositoryError::Missing(location.to_string()).for_vault(name);
            if json {
                super::json::print(&VaultCheckJson {
                    vault: name.to_string(),
                    location: location.to_string(),
                    snapshots: 0,
                    read_data_subset: read_data_subset.map(str::to_string),
                    ok: false,
                    missing: true,
                    errors: vec![why],
                    warnings: Vec::new(),
                });
            } else {
                println!("Vault {name} ({location}) is missing: {why}.");
            }
            return Ok(Exit::Error);
        }
        Err(e) => return Err(e.for_vault(name)),
    };
    if json {
        super::json::print(&VaultCheckJson {
            vault: name.to_string(),
            location: location.to_string(),
            snapshots: checked.snapshots,
            read_data_subset: read_data_subset.map(str::to_string),
            ok: checked.errors.is_empty(),
            missing: false,
            errors: checked.errors.clone(),
            warnings: checked.warnings.clone(),
        });
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
