//! `coffer backup start`: an on-demand backup of one resource, waited for.

use super::args::{RunnerArgs, VarArgs};
use super::context::{CmdError, Ctx};
use super::runner::*;
use super::Exit;
use crate::catalog::NewJob;
use crate::jobs::{JobKind, JobOptions, Windows};

pub fn backup_start(
    ctx: &Ctx,
    resource: &str,
    vault: &str,
    delete_after: Option<String>,
    json_out: bool,
    args: &RunnerArgs,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    if let Some(d) = &delete_after {
        crate::config::duration::Duration::parse(d)
            .map_err(|e| format!("--delete-after `{d}`: {}", e.message))?;
    }
    let s = session(ctx, vars)?;
    s.applied_vault(vault)?;
    let Some(r) = s.inventory.get(resource) else {
        return Err(format!(
            "no resource {resource} was found by discovery; `coffer inventory` lists what coffer can see"
        ));
    };
    let job = NewJob {
        kind: JobKind::Backup,
        plan: None,
        rule: None,
        resource_arn: r.arn.clone(),
        vault: vault.to_string(),
        windows: Windows::on_demand(chrono::Utc::now()),
        options: JobOptions {
            delete_after,
            ..JobOptions::default()
        },
        recovery_point_id: None,
        source_recovery_point_id: None,
    };
    let resource_type = r.resource_type;
    let how = OnDemand {
        op: "backup start",
        lock_timeout: args.lock_timeout,
        settings: settings(args),
        json_out,
        already: "a job for this resource was already created at this instant",
    };
    let job = run_on_demand(ctx, &s, how, job, |supports| {
        if supports(resource_type) {
            Ok(())
        } else {
            Err(format!("coffer cannot back up {resource_type} resources"))
        }
    })?;
    Ok(
        if any_failed(std::slice::from_ref(&job)) || !job.state().is_terminal() {
            Exit::Error
        } else {
            Exit::Success
        },
    )
}
