//! A resource's page.

use super::jobs::table as jobs_table;
use super::parts::{badge, bytes, encode, maybe_time, page, seconds, time};
use crate::dashboard::resource::ResourceView;
use crate::dashboard::Status;
use maud::{html, Markup};

pub fn render(r: &ResourceView) -> Markup {
    let now = r.now;
    let body = html! {
        dl.facts {
            dt { "ARN" } dd { code { (r.arn) } }
            dt { "Type" } dd { (r.resource_type) }
            dt { "Region, account" } dd { (r.region) ", " (r.account) }
            @if !r.tags.is_empty() {
                dt { "Tags" } dd { @for (k, v) in &r.tags { code { (k) "=" (v) } " " } }
            }
            dt { "Status" } dd {
                @match r.attention {
                    Some(s) => { (badge(s)) },
                    None if r.protections.is_empty() => { span.muted { "not protected by any plan" } },
                    None => { (badge(Status::Ok)) },
                }
                @if r.failures_in_row >= 2 { ", " (r.failures_in_row) " failures in a row" }
            }
            dt { "Newest good point" } dd {
                (maybe_time(r.last_good, now))
                @if let Some(rpo) = r.rpo_seconds {
                    " — RPO " (seconds(rpo))
                    @if let Some(s) = &r.rpo_source { " (" (s) ")" }
                    @if r.stale { ": " strong { "stale" } }
                }
            }
            @if let Some(e) = &r.last_error { dt { "Last error" } dd { code { (e) } } }
            dt { "Next run" } dd {
                @match &r.next_run {
                    Some(n) => { (time(n.start, now)) " by " code { (n.rule) } " into " (n.vault) },
                    None => { span.muted { "none scheduled" } },
                }
            }
        }
        h2 { "Protected by" }
        @if r.protections.is_empty() {
            p { "No selection covers it. Add it to a plan's selection (by tag or by ARN) and apply." }
        } @else {
            table {
                thead { tr { th scope="col" { "Selection" } th scope="col" { "Plan" } th scope="col" { "Written at" } } }
                tbody { @for p in &r.protections { tr {
                    td { code { (p.selection) } } td { code { (p.plan) } }
                    td { @match &p.source { Some(s) => { code { (s) } }, None => { span.muted { "the configuration did not load" } } } }
                } } }
            }
        }
        h2 { "Recovery points" }
        table {
            caption { (r.points.len()) " recovery points, newest first" }
            thead { tr {
                th scope="col" { "ID" } th scope="col" { "Vault" } th scope="col" { "Status" }
                th scope="col" { "Made" } th.num scope="col" { "Size" } th scope="col" { "Cold from" }
                th scope="col" { "Deleted from" } th scope="col" { "Locked until" } th scope="col" { "Legal holds" } th scope="col" { "Copy of" }
            } }
            tbody { @for p in &r.points { tr {
                td { code { (p.id) } }
                td { (p.vault) }
                td { (p.status.as_str()) " " span.muted { (p.storage_class.as_str()) } }
                td { (time(p.created_at, now)) }
                td.num { @if let Some(b) = p.size_bytes { (bytes(b)) } }
                td { (maybe_time(p.cold_at, now)) }
                td { @match p.deleted_at { Some(t) => { "deleted " (time(t, now)) }, None => { (maybe_time(p.delete_at, now)) } } }
                td { @if let Some(t) = p.locked_until { (time(t, now)) } }
                td { @for h in &p.holds { code { (h) } " " } }
                td { @if let Some(c) = &p.copy_of { code { (c) } } }
            } } }
        }
        h2 { "Restore tests" }
        (jobs_table("Restore tests of its points", &r.restore_tests, now))
        h2 { "Recent jobs" }
        (jobs_table("Its jobs of the last 31 days, newest first", &r.jobs, now))
        h2 { "By hand" }
        @if r.commands.is_empty() { p.muted { "Nothing to run: it has no rule and no point." } }
        @for c in &r.commands {
            p { (c.purpose) ":" }
            pre { code { (c.command) } }
        }
    };
    page(
        r.name.as_deref().unwrap_or(&r.arn),
        "/matrix",
        &format!("/api/v1/resources/{}", encode(&r.arn)),
        now,
        body,
    )
}
