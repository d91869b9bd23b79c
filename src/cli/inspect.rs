//! `coffer show`, `coffer state list` and `coffer state show`: read-only views of the
//! recorded state and of saved plans.

use super::context::{CmdError, Ctx};
use super::Exit;
use crate::address::Address;
use crate::plan::Plan;
use crate::render::{self, Style};
use crate::state::State;
use std::path::PathBuf;

fn read_state(ctx: &Ctx) -> Result<Option<State>, CmdError> {
    let backend = ctx.backend_best_effort();
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

pub fn state_list(ctx: &Ctx) -> Result<Exit, CmdError> {
    if let Some(state) = read_state(ctx)? {
        for a in state.objects.keys() {
            println!("{a}");
        }
    }
    Ok(Exit::Success)
}

pub fn state_show(ctx: &Ctx, address: &str) -> Result<Exit, CmdError> {
    let addr: Address = address
        .parse()
        .map_err(|e: crate::address::AddressParseError| e.to_string())?;
    let state =
        read_state(ctx)?.ok_or_else(|| "no state: nothing has been applied yet".to_string())?;
    let Some(o) = state.get(&addr) else {
        let near = crate::config::suggest::did_you_mean(
            address,
            state
                .objects
                .keys()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        )
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default();
        return Err(format!("no object {addr} in state{near}"));
    };
    print!(
        "{}",
        render::text::render_object(&o.address, &o.id, &o.attributes)
    );
    println!(
        "\n# created {}, updated {}",
        o.created_at.to_rfc3339(),
        o.updated_at.to_rfc3339()
    );
    if !o.depends_on.is_empty() {
        let deps: Vec<String> = o.depends_on.iter().map(ToString::to_string).collect();
        println!("# depends on {}", deps.join(", "));
    }
    Ok(Exit::Success)
}
