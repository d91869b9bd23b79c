//! `coffer validate`: every problem of the configuration, as text or JSON (diagnostics and the evaluated configuration).

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::Exit;

pub fn validate(ctx: &Ctx, json: bool, vars: &VarArgs) -> Result<Exit, CmdError> {
    let loaded = ctx.load_raw(vars)?;
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    if json {
        let diags: Vec<_> = loaded
            .diagnostics
            .iter()
            .map(|d| d.to_json(&loaded.sources))
            .collect();
        super::json::print(&super::json::ValidateJson {
            valid: errors == 0,
            error_count: errors,
            warning_count: warnings,
            diagnostics: diags,
            config: loaded.config.as_ref().map(crate::objects::config_json),
        });
    } else {
        ctx.print_diagnostics(&loaded.diagnostics, &loaded.sources);
        if errors == 0 {
            let w = if warnings > 0 {
                format!(
                    " ({warnings} warning{})",
                    if warnings == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            };
            println!("Success! The configuration is valid{w}.");
        } else {
            eprintln!(
                "{errors} error{}, {warnings} warning{}.",
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" }
            );
        }
    }
    Ok(if errors == 0 {
        Exit::Success
    } else {
        Exit::Error
    })
}
