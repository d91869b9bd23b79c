//! `coffer show [FILE]`: the recorded state, or a saved plan, as text or JSON.

use super::context::{CmdError, Ctx};
use super::Exit;
use crate::plan::Plan;
use crate::render::{self, Style};
use crate::state::State;
use std::path::PathBuf;

pub(super) fn read_state(ctx: &Ctx) -> Result<Option<State>, CmdError> {
    let backend = ctx.backend_best_effort()?;
    Ok(backend.read().map_err(|e| e.to_string())?.map(|l| l.state))
}

pub fn show(ctx: &Ctx, file: Option<PathBuf>, json: bool) -> Result<Exit, CmdError> {
    if let Some(path) = file {
        let path = if path.is_absolute() {
            path
        } else {
            ctx.dir.join(path)
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let plan = Plan::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if json {
            print!("{}", plan.to_json_text());
        } else {
            print!(
                "{}",
                render::render_text(
                    &plan,
                    Style {
                        color: ctx.color_out
                    }
                )
            );
        }
        return Ok(Exit::Success);
    }
    match read_state(ctx)? {
        None if json => println!("null"),
        None => println!("No state: nothing has been applied yet."),
        Some(state) if json => print!("{}", state.to_text()),
        Some(state) => {
            println!(
                "# state serial {}, lineage {}\n",
                state.serial, state.lineage
            );
            for o in state.objects.values() {
                println!(
                    "{}",
                    render::text::render_object(&o.address, &o.id, &o.attributes)
                );
            }
            if state.objects.is_empty() {
                println!("The state holds no objects.");
            }
        }
    }
    Ok(Exit::Success)
}
