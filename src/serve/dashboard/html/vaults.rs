//! The vaults page.

use super::parts::{badge, bytes, job_link, page, time};
use super::svg::sparkline;
use crate::dashboard::vaults::{VaultView, Vaults};
use chrono::{DateTime, Utc};
use maud::{html, Markup};

pub fn render(v: &Vaults) -> Markup {
    let now = v.now;
    let body = html! {
        table {
            thead { tr {
                th scope="col" { "Vault" } th scope="col" { "Storage" }
                th.num scope="col" { "Points" } th.num scope="col" { "Size" }
                th scope="col" { "By storage class" } th scope="col" { "Last 30 days" }
                th scope="col" { "Lock" } th scope="col" { "Legal holds" }
                th scope="col" { "Last check" } th scope="col" { "Last prune" }
            } }
            tbody { @for x in &v.vaults { tr {
                th scope="row" { (x.name) }
                td { @match &x.storage { Some(s) => { code { (s) } }, None => { "AWS" } } }
                td.num { (x.points) }
                td.num { (bytes(x.bytes)) }
                td { @for c in &x.classes { (c.storage_class.as_str()) ": " (c.points) ", " (bytes(c.bytes)) br; } }
                td {
                    (sparkline(&format!("{}: size over the last 30 days", x.name),
                        &x.growth.iter().map(|g| (g.date.to_string(), g.bytes)).collect::<Vec<_>>()))
                    br;
                    span.muted { @if x.growth_bytes >= 0 { "+" (bytes(x.growth_bytes as u64)) } @else { "−" (bytes(x.growth_bytes.unsigned_abs())) } }
                }
                td { @match &x.lock {
                    Some(l) => { (l.mode)
                        @if let Some(m) = &l.min_retention { ", keeps at least " (m) }
                        @if let Some(m) = &l.max_retention { ", at most " (m) } },
                    None => { span.muted { "none" } },
                } }
                td { @if x.holds.is_empty() { span.muted { "none" } } @for h in &x.holds { code { (h) } " " } }
                td { (last_check(x, now)) }
                td { @match &x.last_prune {
                    Some(p) => { (badge(p.status)) " " (time(p.scheduled_at, now)) " " (job_link(&p.id)) },
                    None => { span.muted { "never" } },
                } }
            } } }
        }
        details {
            summary { "Points by status" }
            table {
                thead { tr { th scope="col" { "Vault" } th scope="col" { "Status" } th.num scope="col" { "Points" } } }
                tbody { @for x in &v.vaults { @for s in &x.statuses { tr {
                    td { (x.name) } td { (s.status.as_str()) } td.num { (s.points) }
                } } } }
            }
        }
    };
    page("Vaults", "/vaults", "/api/v1/vaults", now, body)
}

/// What a vault's newest `coffer vault check` found, with the first error of a damaged one.
fn last_check(v: &VaultView, now: DateTime<Utc>) -> Markup {
    let (Some(c), Some(status)) = (&v.last_check, v.last_check_status) else {
        return html! { span.muted { @if v.storage.is_some() { "never" } @else { "not applicable (AWS)" } } };
    };
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    html! {
        (badge(status)) " "
        @if c.missing { "repository missing" }
        @else if c.errors > 0 { "damaged: " (plural(c.errors, "error")) }
        @else { "intact, " (plural(c.snapshots, "snapshot")) }
        @if c.warnings > 0 { ", " (plural(c.warnings, "warning")) }
        @if let Some(d) = &c.read_data_subset { ", " (d) " of the data read back" }
        br;
        (time(c.checked_at, now))
        @if let Some(e) = &c.first_error { br; span.muted { (e) } }
    }
}
