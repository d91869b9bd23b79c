//! `coffer run`: one scheduler tick, reported as text or JSON.

use super::args::{RunnerArgs, VarArgs};
use super::context::{interruptible, CmdError, Ctx};
use super::runner::*;
use super::schedule::instant;
use super::Exit;
use crate::runner::Clock;

pub fn run(
    ctx: &Ctx,
    at: Option<String>,
    json_out: bool,
    args: &RunnerArgs,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let at = at.as_deref().map(|t| instant("at", t)).transpose()?;
    let s = session(ctx, vars)?;
    let _lock = runner_lock(ctx, &s.backend, "run", args.lock_timeout)?;
    let clock = at.map_or_else(Clock::system, Clock::starting_at);
    let started = clock.now();
    let stop = interruptible()?;
    let reporter = Reporter::for_output(ctx, json_out);
    let notifier = notifier(ctx, &s);
    let report = one_tick(
        ctx,
        &s,
        clock,
        &settings(args),
        &stop,
        &reporter,
        notifier.as_ref(),
    )?;
    reporter.finish();
    if let Some(n) = notifier {
        for t in &report.lifecycle.tripped {
            n.send(crate::notify::mass_deletion_blocked(
                &t.vault,
                t.deleting,
                t.live,
                clock.now(),
            ));
        }
        // what this tick raised is delivered before the command ends, within bounds
        n.finish(DELIVERY_WAIT);
    }
    if json_out {
        super::json::print(&tick_json(&report, started));
    } else {
        print!("{}", tick_text(&report, started));
    }
    Ok(if tick_failed(&report) {
        Exit::Error
    } else {
        Exit::Success
    })
}
