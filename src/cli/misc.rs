//! Smaller commands: `validate`, `fmt`, `init`, `version`, `completions`, `force-unlock`.

use super::args::{Cli, VarArgs};
use super::context::{CmdError, Ctx};
use super::Exit;
use crate::config::fmt::format_hcl;
use crate::diag::{Diagnostic, FileId, SourceFile, Sources, Span};
use crate::workspace;
use std::path::{Path, PathBuf};

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

fn collect_hcl(ctx: &Ctx, paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, CmdError> {
    let paths = if paths.is_empty() {
        vec![ctx.dir.clone()]
    } else {
        paths
            .into_iter()
            .map(|p| if p.is_absolute() { p } else { ctx.dir.join(p) })
            .collect()
    };
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(workspace::config_files(&p).map_err(|e| e.to_string())?);
        } else if p.exists() {
            files.push(p);
        } else {
            return Err(format!("{} does not exist", p.display()));
        }
    }
    Ok(files)
}

fn display_name(ctx: &Ctx, p: &Path) -> String {
    p.strip_prefix(&ctx.dir).unwrap_or(p).display().to_string()
}

pub fn fmt(ctx: &Ctx, check: bool, diff: bool, paths: Vec<PathBuf>) -> Result<Exit, CmdError> {
    let files = collect_hcl(ctx, paths)?;
    let mut unformatted = 0;
    let mut failed = 0;
    for path in files {
        let name = display_name(ctx, &path);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let formatted = match format_hcl(&text) {
            Ok(f) => f,
            Err(e) => {
                let mut sources = Sources::default();
                let id: FileId = sources.add(SourceFile::new(name.clone(), text.clone()));
                let start = e.offset.min(text.len());
                let end = text
                    .get(start..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(start, |c| start + c.len_utf8());
                let d = Diagnostic::error(
                    "coffer::syntax_error",
                    format!("cannot format {name}: {}", e.message),
                )
                .at(Span::new(id, start..end), "here")
                .with_help("fix the syntax error first; `coffer validate` reports every problem");
                ctx.print_diagnostics(&[d], &sources);
                failed += 1;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        unformatted += 1;
        println!("{name}");
        if diff {
            let d = similar::TextDiff::from_lines(&text, &formatted);
            print!(
                "{}",
                d.unified_diff().context_radius(3).header(
                    &format!("{name} (original)"),
                    &format!("{name} (formatted)")
                )
            );
        }
        if !check {
            let tmp = path.with_extension("hcl.fmt-tmp");
            std::fs::write(&tmp, &formatted)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| format!("cannot write {name}: {e}"))?;
        }
    }
    if failed > 0 {
        return Ok(Exit::Error);
    }
    Ok(if check && unformatted > 0 {
        Exit::NeedsFormatting
    } else {
        Exit::Success
    })
}

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

pub fn version(json: bool) -> Result<Exit, CmdError> {
    if json {
        super::json::print(&super::json::VersionJson {
            coffer_version: crate::VERSION.to_string(),
            state_format_version: crate::state::model::STATE_FORMAT_VERSION,
            plan_format_version: crate::plan::PLAN_FORMAT_VERSION,
        });
    } else {
        println!(
            "coffer {}\nstate format {}, plan format {}",
            crate::VERSION,
            crate::state::model::STATE_FORMAT_VERSION,
            crate::plan::PLAN_FORMAT_VERSION
        );
    }
    Ok(Exit::Success)
}

pub fn completions(shell: clap_complete::Shell) -> Result<Exit, CmdError> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "coffer", &mut std::io::stdout());
    Ok(Exit::Success)
}

pub fn force_unlock(ctx: &Ctx, id: &str) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort();
    let info = backend.force_unlock(id).map_err(|e| e.to_string())?;
    println!(
        "The state lock {} has been removed (it was held for `{}` by process {} on {}).",
        info.id, info.operation, info.pid, info.host
    );
    Ok(Exit::Success)
}
