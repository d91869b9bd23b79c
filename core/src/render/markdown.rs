//! Pull-request comment rendering: a summary line and the list of affected addresses first,
//! the full text plan in a collapsible section, always under GitHub's 65,536-character
//! comment limit (what does not fit is cut and the cut is stated).

use super::text::{render_text, summary_line};
use super::Style;
use crate::plan::{Action, Plan};
use std::fmt::Write as _;

/// GitHub's limit on the size of one comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Space kept free below the limit for the closing lines and safety.
const MARGIN: usize = 1_024;
/// At most this much of the budget goes to the address table.
const TABLE_SHARE: usize = 24_000;

/// The plan as a markdown comment of at most [`GITHUB_COMMENT_LIMIT`] characters.
pub fn render_markdown(plan: &Plan) -> String {
    render_markdown_within(plan, GITHUB_COMMENT_LIMIT)
}

/// Like [`render_markdown`] with an explicit limit (in characters).
pub fn render_markdown_within(plan: &Plan, limit: usize) -> String {
    let mut out = String::new();
    let s = &plan.summary;
    if s.is_empty() {
        let drifted = if plan.has_drift() { ", but drift" } else { "" };
        let _ = writeln!(
            out,
            "### coffer plan: no changes{drifted}\n\n{}",
            summary_line(s)
        );
        super::drift::markdown(&mut out, &plan.drift);
        return out;
    }
    let protection = if s.protection_gained > 0 || s.protection_lost > 0 {
        format!(
            "; protection: {} gained, {} lost",
            s.protection_gained, s.protection_lost
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "### coffer plan: {} to add, {} to change, {} to destroy{protection}\n",
        s.add, s.change, s.destroy
    );
    let changed: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "| action | address |\n|---|---|");
    }
    let table_budget = TABLE_SHARE.min(limit.saturating_sub(MARGIN) / 2);
    let mut shown = 0;
    for c in &changed {
        let row = format!(
            "| {} {} | `{}` |\n",
            c.action.symbol(),
            action_word(c.action),
            c.address
        );
        if out.chars().count() + row.chars().count() > table_budget {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if shown < changed.len() {
        let _ = writeln!(
            out,
            "| … | and {} more (list cut to fit a GitHub comment) |",
            changed.len() - shown
        );
    }
    if let Some(c) = &plan.coverage {
        if !c.gained.is_empty() || !c.lost.is_empty() {
            let _ = writeln!(out, "\n#### Protection changes\n\n| | resource | selection | plan | cause |\n|---|---|---|---|---|");
            let rows = c
                .gained
                .iter()
                .map(|g| ("+ gains", g))
                .chain(c.lost.iter().map(|l| ("- loses", l)));
            let total = c.gained.len() + c.lost.len();
            let mut shown = 0;
            for (what, ch) in rows {
                let cause = match (&ch.cause, &ch.detail) {
                    (crate::coverage::Cause::Drift, Some(d)) => format!("drift: {d}"),
                    (crate::coverage::Cause::Drift, None) => "drift".into(),
                    _ => "configuration".into(),
                };
                let row = format!(
                    "| {what} | `{}` | `{}` | `{}` | {cause} |\n",
                    ch.arn, ch.selection, ch.plan
                );
                if out.chars().count() + row.chars().count() > table_budget * 2 {
                    break;
                }
                out.push_str(&row);
                shown += 1;
            }
            if shown < total {
                let _ = writeln!(
                    out,
                    "| … | and {} more (cut to fit a GitHub comment) | | | |",
                    total - shown
                );
            }
        }
        for u in &c.unmatched_selections {
            let _ = writeln!(out, "\n> **Warning:** `{u}` matches no resources.");
        }
    }
    super::forecast::markdown(&mut out, &plan.recovery_points);
    super::drift::markdown(&mut out, &plan.drift);
    for n in &plan.notes {
        let _ = writeln!(out, "\n> **Note:** {n}");
    }

    let details_head = "\n<details><summary>Show the full plan</summary>\n\n```diff\n";
    let details_tail = "```\n\n</details>\n";
    let text = diff_friendly(&render_text(plan, Style::PLAIN));
    let used = out.chars().count() + details_head.len() + details_tail.len();
    let budget = limit.saturating_sub(MARGIN).saturating_sub(used);
    out.push_str(details_head);
    let total_lines = text.lines().count();
    let mut taken = 0;
    let mut size = 0;
    for line in text.lines() {
        let n = line.chars().count() + 1;
        if size + n > budget {
            break;
        }
        out.push_str(line);
        out.push('\n');
        size += n;
        taken += 1;
    }
    if taken < total_lines {
        let _ = writeln!(
            out,
            "… output cut to fit GitHub's {limit}-character comment limit: {taken} of {total_lines} lines shown; run `coffer plan` for the full plan"
        );
    }
    out.push_str(details_tail);
    out
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "destroy",
        Action::NoOp => "no-op",
    }
}

/// Moves each line's change marker to the first column (`~` becomes `!`) so GitHub's diff
/// highlighting colours it.
fn diff_friendly(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let converted = if let Some(rest) = trimmed.strip_prefix("-/+ ") {
            Some(format!("!{}{rest}", " ".repeat(indent + 3)))
        } else {
            [("+ ", '+'), ("- ", '-'), ("~ ", '!')]
                .iter()
                .find(|(p, _)| trimmed.starts_with(p))
                .map(|(p, m)| format!("{m}{}{}", " ".repeat(indent + 1), &trimmed[p.len()..]))
        };
        match converted {
            Some(c) => out.push_str(&c),
            None => {
                out.push(' ');
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_move_to_the_first_column() {
        let t = diff_friendly("  + vault \"a\" {\n      ~ x = 1 -> 2\n-/+ vault \"b\" {\n    }\n");
        assert_eq!(
            t,
            "+   vault \"a\" {\n!       x = 1 -> 2\n!   vault \"b\" {\n     }\n"
        );
    }
}
