//! The overview page.

use super::parts::{badge, bytes, maybe_time, page, resource_link, time};
use crate::dashboard::overview::{KindCounts, Overview};
use crate::dashboard::Status;
use maud::{html, Markup};

fn job_table(caption: &str, rows: &[KindCounts]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Kind" }
                @for s in Status::ALL { @if s != Status::NotYetProtected && s != Status::Missed {
                    th.num scope="col" { (badge(s)) }
                } }
            } }
            tbody {
                @if rows.is_empty() { tr { td colspan="6" { span.muted { "no jobs" } } } }
                @for r in rows {
                    tr {
                        th scope="row" { (r.kind.as_str()) }
                        @for s in Status::ALL { @if s != Status::NotYetProtected && s != Status::Missed {
                            td.num { (r.counts.get(&s).copied().unwrap_or(0)) }
                        } }
                    }
                }
            }
        }
    }
}

pub fn render(o: &Overview) -> Markup {
    let now = o.now;
    let body = html! {
        p.headline.good[o.all_good].bad[!o.all_good] role="status" {
            @if o.all_good { (badge(Status::Ok)) } @else { (badge(Status::Failed)) }
            " " (o.headline)
        }
        ul.tiles aria-label="Resources" {
            li { span.n { (o.protected) } "protected of " (o.resources) }
            li { span.n { (o.unprotected) } a href="/matrix" { "not protected by any plan" } }
            li { span.n { (o.stale) } "stale (past their RPO)" }
            li { span.n { (o.failing) } "failing (2 or more failures in a row)" }
        }
        @if !o.attention.is_empty() {
            h2 { "Needs attention" }
            table {
                thead { tr {
                    th scope="col" { "Resource" } th scope="col" { "Status" }
                    th scope="col" { "Newest good point" } th scope="col" { "Last error" }
                } }
                tbody { @for a in &o.attention { tr {
                    td { (resource_link(&a.resource_arn, a.name.as_deref())) " " span.muted { (a.resource_type) } }
                    td {
                        (badge(a.status))
                        @if a.failures_in_row >= 2 { ", " (a.failures_in_row) " failures in a row" }
                        @if a.stale { ", stale" }
                    }
                    td { (maybe_time(a.last_good, now)) }
                    td { @if let Some(e) = &a.last_error { code { (e) } } }
                } } }
            }
        }
        h2 { "Jobs" }
        (job_table("The last 24 hours", &o.jobs_24h))
        (job_table("The last 7 days", &o.jobs_7d))
        p { a href="/jobs" { "Every job" } }
        h2 { "Next runs" }
        table {
            thead { tr { th scope="col" { "Rule" } th scope="col" { "Starts" } th scope="col" { "Must start by" } th.num scope="col" { "Resources" } } }
            tbody {
                @if o.next_runs.is_empty() { tr { td colspan="4" { span.muted { "no rule is scheduled" } } } }
                @for r in &o.next_runs { tr {
                    td { code { (r.rule) } } td { (time(r.start, now)) } td { (time(r.start_by, now)) } td.num { (r.resources) }
                } }
            }
        }
        p { a href="/schedule" { "The next 48 hours" } }
        h2 { "Storage" }
        table {
            thead { tr {
                th scope="col" { "Vault" } th.num scope="col" { "Recovery points" } th.num scope="col" { "Size" }
                th scope="col" { "Last check" }
            } }
            tbody { @for v in &o.vaults { tr {
                td { a href="/vaults" { (v.vault) } } td.num { (v.points) } td.num { (bytes(v.bytes)) }
                td { @match v.last_check_status { Some(s) => { (badge(s)) }, None => { span.muted { "none" } } } }
            } } }
        }
        h2 { "Configuration" }
        dl.facts {
            dt { "Last apply" } dd { (maybe_time(o.last_apply, now)) ", state serial " (o.state_serial) }
            dt { "Drift" } dd { (o.drift.message) }
        }
    };
    page("Overview", "/", "/api/v1/overview", now, body)
}
