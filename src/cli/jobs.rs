//! `coffer jobs list` and `coffer jobs show ID`: jobs from the catalog (never creating it),
//! as tables or JSON.

use super::context::{CmdError, Ctx};
use super::schedule::instant;
use super::Exit;
use crate::catalog::JobFilter;
use crate::jobs::{JobKind, JobState};
use crate::render::jobs::{job_detail, job_json, jobs_table};

pub fn jobs_list(
    ctx: &Ctx,
    state: Option<String>,
    since: Option<String>,
    kind: Option<String>,
    json_out: bool,
) -> Result<Exit, CmdError> {
    let kind = kind
        .map(|k| {
            JobKind::parse(&k).ok_or_else(|| {
                let names: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "--kind `{k}` is not a job kind; use one of {}",
                    names.join(", ")
                )
            })
        })
        .transpose()?;
    let state = state
        .map(|s| {
            JobState::parse(&s).ok_or_else(|| {
                let names: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "--state `{s}` is not a job state; use one of {}",
                    names.join(", ")
                )
            })
        })
        .transpose()?;
    let since = since.as_deref().map(|t| instant("since", t)).transpose()?;
    let backend = ctx.backend_best_effort()?;
    let catalog = ctx.catalog_read_only(&backend)?;
    let jobs = catalog
        .jobs(&JobFilter {
            state,
            since,
            kind,
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    if json_out {
        super::json::print_in_order(&serde_json::Value::Array(
            jobs.iter().map(job_json).collect(),
        ));
    } else {
        print!("{}", jobs_table(&jobs));
    }
    Ok(Exit::Success)
}

pub fn jobs_show(ctx: &Ctx, id: &str, json_out: bool) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort()?;
    let catalog = ctx.catalog_read_only(&backend)?;
    let job = catalog
        .job(id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no job `{id}` in the catalog; `coffer jobs list` shows the IDs"))?;
    if json_out {
        super::json::print_in_order(&job_json(&job));
    } else {
        print!("{}", job_detail(&job));
    }
    Ok(Exit::Success)
}
