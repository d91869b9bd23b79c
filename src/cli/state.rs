//! `coffer state list`, `coffer state show ADDR` and `coffer state history`: the objects in
//! recorded state, and its stored versions.

use super::context::{CmdError, Ctx};
use super::show::*;
use super::Exit;
use crate::address::Address;
use crate::render::{self};

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

pub fn state_history(ctx: &Ctx, json: bool) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort()?;
    let versions = backend.history().map_err(|e| e.to_string())?;
    if json {
        super::json::print(&versions);
        return Ok(Exit::Success);
    }
    if versions.is_empty() {
        println!(
            "No state stored in {} yet: nothing has been applied.",
            backend.describe()
        );
        return Ok(Exit::Success);
    }
    println!(
        "{:>7}  {:<20}  {:<36}  WRITTEN BY",
        "SERIAL", "WRITTEN AT", "LINEAGE"
    );
    for v in &versions {
        println!(
            "{:>7}  {:<20}  {:<36}  {}{}",
            v.serial,
            v.written_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            v.lineage,
            v.written_by,
            if v.current { "  (current)" } else { "" }
        );
    }
    Ok(Exit::Success)
}
