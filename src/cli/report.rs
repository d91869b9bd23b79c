//! `coffer report jobs|copies|restores`: job reports over a window, read from the catalog
//! (never creating it), in the format asked for, to standard output or a file written
//! atomically.

use super::args::{ReportArgs, ReportCommand, ReportFormat};
use super::context::{CmdError, Ctx};
use super::schedule::instant;
use super::Exit;
use crate::catalog::JobFilter;
use crate::render::report::{
    job_report, report_csv, report_markdown, report_text, ReportKind, Window,
};
use chrono::Utc;

pub fn report(ctx: &Ctx, command: ReportCommand) -> Result<Exit, CmdError> {
    let (kind, args) = match command {
        ReportCommand::Jobs(a) => (ReportKind::Jobs, a),
        ReportCommand::Copies(a) => (ReportKind::Copies, a),
        ReportCommand::Restores(a) => (ReportKind::Restores, a),
    };
    let window = window(&args)?;
    let backend = ctx.backend_best_effort()?;
    let catalog = ctx.catalog_read_only(&backend)?;
    let jobs = catalog
        .jobs(&JobFilter {
            kind: Some(kind.job_kind()),
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    let rows = job_report(kind, &jobs, window);
    let text = match args.format {
        ReportFormat::Text => report_text(kind, &rows, window),
        ReportFormat::Markdown => report_markdown(kind, &rows, window),
        ReportFormat::Csv => report_csv(&rows),
        ReportFormat::Json => {
            let mut t = serde_json::to_string_pretty(&rows)
                .map_err(|e| format!("cannot write JSON: {e}"))?;
            t.push('\n');
            t
        }
    };
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            let tmp = std::path::PathBuf::from(format!("{}.tmp", path.display()));
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;
            eprintln!("{} jobs written to {}", rows.len(), path.display());
        }
    }
    Ok(Exit::Success)
}

/// `--since` and `--until`, by default the 24 hours up to now.
fn window(args: &ReportArgs) -> Result<Window, CmdError> {
    let end = match &args.until {
        Some(t) => instant("until", t)?,
        None => Utc::now(),
    };
    let start = match &args.since {
        Some(t) => instant("since", t)?,
        None => end - chrono::Duration::hours(24),
    };
    if start >= end {
        return Err(format!(
            "--since {} is not before --until {}: the window would be empty",
            super::schedule::rfc3339(start),
            super::schedule::rfc3339(end)
        ));
    }
    Ok(Window { start, end })
}
