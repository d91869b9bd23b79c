//! `coffer init`: a commented starter configuration in a directory without one.

use super::context::{CmdError, Ctx};
use super::fmt::display_name;
use super::Exit;
use crate::workspace;

pub fn init(ctx: &Ctx) -> Result<Exit, CmdError> {
    let existing = workspace::config_files(&ctx.dir).map_err(|e| e.to_string())?;
    if !existing.is_empty() {
        let names: Vec<String> = existing.iter().map(|p| display_name(ctx, p)).collect();
        return Err(format!(
            "{} already holds a configuration ({}); coffer init only writes into a directory without *.hcl files",
            ctx.dir.display(),
            names.join(", ")
        ));
    }
    let path = ctx.dir.join("main.hcl");
    std::fs::write(&path, super::starter::STARTER)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let data = ctx.dir.join("data");
    if !data.exists() {
        std::fs::create_dir_all(&data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    }
    println!(
        "Wrote {}.\n\nNext:\n  coffer validate\n  coffer plan\n  coffer apply",
        path.display()
    );
    Ok(Exit::Success)
}
