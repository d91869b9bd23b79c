//! The plan's **Drift** section: what changed in reality behind coffer's back (recovery points
//! whose native object is gone, repositories missing or broken, resources whose last three
//! backups failed), as text and as markdown, with what to do about each.

use super::{minute, Style};
use crate::plan::drift::{Drift, FAILURES_IN_A_ROW};
use std::fmt::Write as _;

fn headline(d: &Drift) -> String {
    let n = d.count();
    format!(
        "{n} thing{} changed behind coffer's back",
        if n == 1 { "" } else { "s" }
    )
}

pub fn text(out: &mut String, d: &Drift, style: Style) {
    for u in &d.unchecked {
        let _ = writeln!(out, "{} drift not checked: {u}", style.yellow("Warning:"));
    }
    if !d.unchecked.is_empty() {
        out.push('\n');
    }
    if d.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}: {}\n", style.bold("Drift"), headline(d));
    if !d.missing_points.is_empty() {
        let _ = writeln!(
            out,
            "  Recovery points whose native object is gone (deleted outside coffer; they cannot be restored):"
        );
        for p in &d.missing_points {
            let _ = writeln!(
                out,
                "    {} vault.{}  {}  {}  ({})",
                style.red("!"),
                p.vault,
                p.recovery_point_id,
                p.native_id,
                p.resource_arn
            );
        }
        out.push('\n');
    }
    if !d.repositories.is_empty() {
        let _ = writeln!(
            out,
            "  Vault repositories missing or broken (`coffer apply` initialises a missing one; `coffer vault check` examines the rest):"
        );
        for r in &d.repositories {
            let _ = writeln!(
                out,
                "    {} vault.{}  {}: {}",
                style.red("!"),
                r.vault,
                r.storage,
                r.problem
            );
        }
        out.push('\n');
    }
    if !d.failing_resources.is_empty() {
        let _ = writeln!(
            out,
            "  Resources whose last {FAILURES_IN_A_ROW} backups failed (`coffer jobs show ID` for each):"
        );
        for f in &d.failing_resources {
            let _ = writeln!(
                out,
                "    {} {}  since {}: {}",
                style.red("!"),
                f.resource_arn,
                minute(f.since),
                f.jobs.join(", ")
            );
            if let Some(e) = &f.last_error {
                let first = e.lines().next().unwrap_or_default();
                let _ = writeln!(out, "        last error: {first}");
            }
        }
        out.push('\n');
    }
}

fn cell(s: &str) -> String {
    super::table::md_cell(s)
}

pub fn markdown(out: &mut String, d: &Drift) {
    for u in &d.unchecked {
        let _ = writeln!(out, "\n> **Warning:** drift not checked: {}", cell(u));
    }
    if d.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### Drift\n\n{}.\n", headline(d));
    let _ = writeln!(out, "| | what | where | detail |\n|---|---|---|---|");
    for p in &d.missing_points {
        let _ = writeln!(
            out,
            "| ! | point `{}` is gone | `vault.{}` | native `{}` of `{}` |",
            p.recovery_point_id,
            p.vault,
            cell(&p.native_id),
            cell(&p.resource_arn)
        );
    }
    for r in &d.repositories {
        let _ = writeln!(
            out,
            "| ! | repository missing or broken | `vault.{}` | `{}`: {} |",
            r.vault,
            cell(&r.storage),
            cell(&r.problem)
        );
    }
    for f in &d.failing_resources {
        let last = f
            .last_error
            .as_deref()
            .and_then(|e| e.lines().next())
            .map(|e| format!("; last error: {}", cell(e)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| ! | last {FAILURES_IN_A_ROW} backups failed | `{}` | since {}{last} |",
            cell(&f.resource_arn),
            minute(f.since)
        );
    }
}
