//! The vaults page.

use super::parts::{badge, bytes, job_link, page, time};
use super::svg::sparkline;
use crate::dashboard::vaults::Vaults;
use maud::{html, Markup};

pub fn render(v: &Vaults) -> Markup {
    let now = v.now;
    let body = html! {
        table {
            thead { tr {
                th scope="col" { "Vault" } th scope="col" { "Storage" }
                th.num scope="col" { "Points" } th.num scope="col" { "Size" }
                th scope="col" { "By storage class" } th scope="col" { "Last 30 days" }
                th scope="col" { "Lock" } th scope="col" { "Legal holds" } th scope="col" { "Last prune" }
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
