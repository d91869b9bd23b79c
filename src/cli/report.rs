//! `coffer report jobs|copies|restores|resources|controls`: job reports over a window, and
//! the applied frameworks' controls evaluated at one instant over the inventory and the
//! catalog (never creating it), in the format asked for, to standard output or a file
//! written atomically.

use super::args::{ComplianceArgs, ReportArgs, ReportCommand, ReportFormat};
use super::context::{CmdError, Ctx};
use super::schedule::instant;
use super::Exit;
use crate::catalog::JobFilter;
use crate::controls;
use crate::render::compliance;
use crate::render::report::{
    job_report, report_csv, report_markdown, report_text, ReportKind, Window,
};
use chrono::Utc;

pub fn report(ctx: &Ctx, command: ReportCommand) -> Result<Exit, CmdError> {
    let (kind, args) = match command {
        ReportCommand::Jobs(a) => (ReportKind::Jobs, a),
        ReportCommand::Copies(a) => (ReportKind::Copies, a),
        ReportCommand::Restores(a) => (ReportKind::Restores, a),
        ReportCommand::Resources(a) => return compliance(ctx, Compliance::Resources, a),
        ReportCommand::Controls(a) => return compliance(ctx, Compliance::Controls, a),
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
        ReportFormat::Json => json(&rows)?,
    };
    write(ctx, &args, &text, &format!("{} jobs", rows.len()))?;
    Ok(Exit::Success)
}

fn json<T: serde::Serialize>(rows: &T) -> Result<String, CmdError> {
    let mut t =
        serde_json::to_string_pretty(rows).map_err(|e| format!("cannot write JSON: {e}"))?;
    t.push('\n');
    Ok(t)
}

/// The report to standard output, or to `--output` atomically (saying what was written); a
/// relative path is relative to the configuration directory (`-C`), as `plan --out` is.
fn write(ctx: &Ctx, args: &ReportArgs, text: &str, what: &str) -> Result<(), CmdError> {
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            let path = &ctx.dir.join(path);
            let tmp = std::path::PathBuf::from(format!("{}.tmp", path.display()));
            std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;
            eprintln!("{what} written to {}", path.display());
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compliance {
    Resources,
    Controls,
}

/// `report resources|controls`: every applied framework's controls evaluated at `--until`
/// (default now); exit 4 when any is not met.
fn compliance(ctx: &Ctx, which: Compliance, args: ComplianceArgs) -> Result<Exit, CmdError> {
    if args.report.since.is_some() {
        return Err("--since does not apply to compliance reports: controls are evaluated at one instant, --until T (default now), over the catalog as it stood then".into());
    }
    let now = match &args.report.until {
        Some(t) => instant("until", t)?,
        None => Utc::now(),
    };
    let (config, _) = ctx.load(&args.vars)?;
    let backend = ctx.backend(Some(&config))?;
    let state = backend.read().map_err(|e| e.to_string())?.map(|l| l.state);
    let Some(state) = state else {
        return Err("nothing has been applied here yet: run `coffer apply` so that the configuration's frameworks are evaluated".into());
    };
    let inventory = match super::discovery::for_plan(
        ctx,
        &config,
        Some(&state),
        args.refresh.refresh,
    )? {
        Some((i, _)) => i,
        None => {
            eprintln!("Warning: no inventory was recorded at the last apply; run with --refresh to discover resources.");
            crate::inventory::Inventory::default()
        }
    };
    let catalog = ctx.catalog_read_only(&backend)?;
    let (points, restores) = crate::app::compliance::read(&*catalog)?;
    let (points, restores) = controls::as_of(&points, &restores, now);
    let results = crate::app::compliance::evaluate(
        &state,
        &inventory,
        &points,
        &restores,
        &controls::vault_accounts(&config),
        now,
    );
    if results.is_empty() && config.frameworks.is_empty() {
        eprintln!("Warning: no framework is configured, so no control is evaluated; add `framework \"NAME\" {{ control \"…\" {{}} }}` and run `coffer apply`.");
    } else if results.is_empty() {
        eprintln!("Warning: the configuration's frameworks are not applied yet; run `coffer apply` to evaluate them.");
    }
    let args = &args.report;
    let (text, what) = match which {
        Compliance::Controls => {
            let text = match args.format {
                ReportFormat::Text => compliance::controls_text(&results, now),
                ReportFormat::Markdown => compliance::controls_markdown(&results, now),
                ReportFormat::Csv => {
                    compliance::controls_csv(&compliance::control_rows(&results, now))
                }
                ReportFormat::Json => json(&compliance::control_rows(&results, now))?,
            };
            (text, format!("{} controls", results.len()))
        }
        Compliance::Resources => {
            let rows = compliance::resource_rows(&results, now);
            let text = match args.format {
                ReportFormat::Text => compliance::resources_text(&rows, now),
                ReportFormat::Markdown => compliance::resources_markdown(&rows, now),
                ReportFormat::Csv => compliance::resources_csv(&rows),
                ReportFormat::Json => json(&rows)?,
            };
            (text, format!("{} resource results", rows.len()))
        }
    };
    write(ctx, args, &text, &what)?;
    let failing = results
        .iter()
        .filter(|c| c.status == controls::Status::NonCompliant)
        .count();
    if failing > 0 {
        eprintln!(
            "{failing} of {} controls are NON_COMPLIANT (exit code 4).",
            results.len()
        );
        return Ok(Exit::NonCompliant);
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
