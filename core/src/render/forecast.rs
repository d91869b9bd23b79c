//! The plan's "Recovery point changes" section: per vault, the existing points the first tick
//! after apply would delete or move to cold storage because of the change (how many, the
//! oldest and newest creation time, the rules and resources, the first ten ids), as text and
//! as a markdown table.

use super::{minute, Style};
use crate::plan::forecast::{Forecast, ForecastEntry};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How many ids each vault's list shows.
const SHOWN: usize = 10;

fn by_vault(entries: &[ForecastEntry]) -> BTreeMap<&str, Vec<&ForecastEntry>> {
    let mut out: BTreeMap<&str, Vec<&ForecastEntry>> = BTreeMap::new();
    for e in entries {
        out.entry(e.vault.as_str()).or_default().push(e);
    }
    out
}

/// When the oldest and the newest of `list` were made: `OLDEST to NEWEST`.
fn made(list: &[&ForecastEntry]) -> String {
    let oldest = list.iter().map(|e| e.created_at).min();
    let newest = list.iter().map(|e| e.created_at).max();
    format!(
        "{} to {}",
        oldest.map(minute).unwrap_or_default(),
        newest.map(minute).unwrap_or_default()
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The section as text; nothing when the forecast is empty.
pub fn text(out: &mut String, f: &Forecast, style: Style) {
    if f.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} (what the first tick after apply does to existing points):\n",
        style.bold("Recovery point changes")
    );
    for (verb, entries, mark) in [
        ("deleted", &f.delete, style.red("-")),
        ("moved to cold storage", &f.cold, style.yellow("~")),
    ] {
        for (vault, list) in by_vault(entries) {
            let _ = writeln!(
                out,
                "  {mark} vault.{vault}: {} recovery point{} {verb}, made {}",
                list.len(),
                plural(list.len()),
                made(&list),
            );
            let mut groups: BTreeMap<(&str, &str), usize> = BTreeMap::new();
            for e in &list {
                *groups
                    .entry((e.rule.as_deref().unwrap_or("on-demand"), &e.resource_arn))
                    .or_default() += 1;
            }
            for ((rule, arn), n) in groups {
                let _ = writeln!(out, "      {n} of {arn} by {rule}");
            }
            for e in list.iter().take(SHOWN) {
                let _ = writeln!(
                    out,
                    "      {}  made {}: {}",
                    e.id,
                    minute(e.created_at),
                    e.reason
                );
            }
            if list.len() > SHOWN {
                let _ = writeln!(out, "      … and {} more", list.len() - SHOWN);
            }
        }
    }
    if !f.delete.is_empty() {
        let _ = writeln!(
            out,
            "\n  apply deletes none of them unless run with --allow-deletions {}.",
            f.delete.len()
        );
    }
    out.push('\n');
}

/// The section as a markdown table; nothing when the forecast is empty.
pub fn markdown(out: &mut String, f: &Forecast) {
    if f.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n#### Recovery point changes\n\n| | vault | points | made | first ids |\n|---|---|---|---|---|"
    );
    for (verb, entries) in [("- delete", &f.delete), ("~ cold", &f.cold)] {
        for (vault, list) in by_vault(entries) {
            let ids: Vec<String> = list
                .iter()
                .take(SHOWN)
                .map(|e| format!("`{}`", e.id))
                .collect();
            let _ = writeln!(
                out,
                "| {verb} | `vault.{vault}` | {} | {} | {}{} |",
                list.len(),
                made(&list),
                ids.join(" "),
                if list.len() > SHOWN { " …" } else { "" }
            );
        }
    }
    if !f.delete.is_empty() {
        let _ = writeln!(
            out,
            "\n> **Warning:** this change deletes {} existing recovery point{}; `coffer apply` refuses it without `--allow-deletions {}`.",
            f.delete.len(),
            plural(f.delete.len()),
            f.delete.len()
        );
    }
}
