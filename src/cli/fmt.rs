//! `coffer fmt`: canonical formatting of the configuration files, in place, checked (`--check`) or as a diff.

use super::context::{CmdError, Ctx};
use super::Exit;
use crate::config::fmt::format_hcl;
use crate::diag::{Diagnostic, FileId, SourceFile, Sources, Span};
use crate::workspace;
use std::path::{Path, PathBuf};

pub(super) fn collect_hcl(ctx: &Ctx, paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, CmdError> {
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

pub(super) fn display_name(ctx: &Ctx, p: &Path) -> String {
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
