//! `coffer workers list`: the workers a PostgreSQL backend has seen, with their heartbeat and
//! the jobs they hold.

use super::context::{CmdError, Ctx};
use super::Exit;
use crate::state::backend::Backend;

pub fn list(ctx: &Ctx, json: bool) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort()?;
    let workers = match backend.pg_catalog() {
        Some(catalog) => catalog
            .and_then(|c| c.workers())
            .map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    if json {
        super::json::print(&workers);
        return Ok(Exit::Success);
    }
    if workers.is_empty() {
        match backend {
            Backend::Local(_) => println!(
                "No workers: with the local backend jobs run in `coffer run` or `coffer daemon`; workers share a postgres backend."
            ),
            Backend::Postgres { .. } => println!("No worker has run against this backend yet."),
        }
        return Ok(Exit::Success);
    }
    println!(
        "{:<24} {:<24} {:>7} {:<10} {:<20} {:<20} {:>4}",
        "NAME", "HOST", "PID", "VERSION", "STARTED", "LAST HEARTBEAT", "JOBS"
    );
    for w in &workers {
        println!(
            "{:<24} {:<24} {:>7} {:<10} {:<20} {:<20} {:>4}",
            w.name, w.host, w.pid, w.version, w.started_at, w.last_heartbeat, w.jobs_held
        );
    }
    Ok(Exit::Success)
}
