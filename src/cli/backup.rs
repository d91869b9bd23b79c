//! `coffer backup start`: an on-demand backup of one resource, waited for.

use super::args::{RunnerArgs, VarArgs};
use super::context::{interruptible, runtime, CmdError, Ctx};
use super::runner::*;
use super::{discovery, Exit};
use crate::catalog::{Catalog, NewJob};
use crate::jobs::{JobKind, JobOptions, Windows};
use crate::providers::Provider;
use crate::render::jobs::job_detail;
use crate::runner::cycle::{reload, run_jobs};
use crate::runner::execute::Executor;
use crate::runner::{Clock, Event};
use std::cell::RefCell;

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
    if !s.vaults.iter().any(|v| v == vault) {
        let known = if s.vaults.is_empty() {
            "none".to_string()
        } else {
            s.vaults.join(", ")
        };
        return Err(format!(
            "no vault `{vault}` has been applied (applied vaults: {known})"
        ));
    }
    let Some(r) = s.inventory.get(resource) else {
        return Err(format!(
            "no resource {resource} was found by discovery; `coffer inventory` lists what coffer can see"
        ));
    };
    let targets = discovery::targets(&s.config)?;
    let _lock = runner_lock(ctx, &s.backend, "backup start", args.lock_timeout)?;
    let clock = Clock::system();
    let now = clock.now();
    let catalog = RefCell::new(ctx.catalog(&s.backend)?);
    let job = NewJob {
        kind: JobKind::Backup,
        plan: None,
        rule: None,
        resource_arn: r.arn.clone(),
        vault: vault.to_string(),
        windows: Windows::on_demand(now),
        options: JobOptions {
            delete_after,
            ..JobOptions::default()
        },
        recovery_point_id: None,
    };
    let stop = interruptible()?;
    let reporter = Reporter::for_output(ctx, json_out);
    let rt = runtime()?;
    let settings = settings(args);
    let ended = rt.block_on(async {
        let providers = providers(&s, &targets).await;
        // refused before the job is recorded, so a refusal leaves no job behind
        if !providers.supports(r.resource_type) {
            return Err(format!(
                "coffer cannot back up {} resources",
                r.resource_type
            ));
        }
        let created = catalog
            .borrow_mut()
            .create_job(&job, now)
            .map_err(|e| e.to_string())?
            .ok_or("a job for this resource was already created at this instant")?;
        let report = |e: Event| reporter.event(&e);
        let exec = Executor {
            provider: &providers,
            catalog: &catalog,
            inventory: &s.inventory,
            settings: &settings,
            clock,
            stop: &stop,
            report: &report,
            policies: &s.policies,
        };
        let id = created.id.clone();
        run_jobs(&exec, vec![created]).await?;
        reload(&exec, &[id])
    })?;
    reporter.finish();
    let Some(job) = ended.first() else {
        return Err("the job disappeared from the catalog".into());
    };
    if json_out {
        super::json::print(&crate::render::jobs::JobJson::of(job));
    } else {
        print!("{}", job_detail(job));
    }
    Ok(if any_failed(&ended) || !job.state().is_terminal() {
        Exit::Error
    } else {
        Exit::Success
    })
}
