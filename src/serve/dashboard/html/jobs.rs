//! The jobs page and a job's page.

use super::parts::{
    badge, bytes, encode, job_link, maybe_time, page, pager, resource_link, seconds, time,
};
use super::svg::stacked_bars;
use crate::dashboard::jobs::{JobDetail, Jobs};
use crate::dashboard::model::JobRow;
use crate::dashboard::Status;
use crate::jobs::JobKind;
use maud::{html, Markup};

const KINDS: [JobKind; 6] = [
    JobKind::Backup,
    JobKind::Copy,
    JobKind::Restore,
    JobKind::Delete,
    JobKind::Cold,
    JobKind::Prune,
];

fn query(j: &Jobs, page: usize) -> String {
    let mut q = format!("/jobs?page={page}");
    if let Some(k) = j.kind {
        q.push_str(&format!("&kind={}", k.as_str()));
    }
    if let Some(s) = j.status {
        q.push_str(&format!("&status={}", s.key()));
    }
    if let Some(r) = &j.resource {
        q.push_str(&format!("&resource={}", encode(r)));
    }
    q
}

/// A table of job rows.
pub fn table(caption: &str, rows: &[JobRow], now: chrono::DateTime<chrono::Utc>) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Job" } th scope="col" { "Kind" } th scope="col" { "Status" }
                th scope="col" { "Resource" } th scope="col" { "Vault" } th scope="col" { "Scheduled" }
                th.num scope="col" { "Took" } th.num scope="col" { "Size" } th scope="col" { "Message" }
            } }
            tbody {
                @if rows.is_empty() { tr { td colspan="9" { span.muted { "no jobs" } } } }
                @for r in rows { tr {
                    td { (job_link(&r.id)) }
                    td { (r.kind.as_str()) }
                    td { (badge(r.status)) br; span.muted { (r.state) } }
                    td { (resource_link(&r.resource_arn, None)) }
                    td { (r.vault) }
                    td { (time(r.scheduled_at, now)) }
                    td.num { @if let Some(s) = r.duration_seconds { (seconds(s)) } }
                    td.num { @if let Some(b) = r.bytes { (bytes(b)) } }
                    td { @if let Some(m) = &r.message { code { (m) } } }
                } }
            }
        }
    }
}

pub fn render(j: &Jobs) -> Markup {
    let now = j.now;
    let days: Vec<(String, _)> = j
        .chart
        .iter()
        .map(|b| (b.date.to_string(), b.counts.clone()))
        .collect();
    let shown: Vec<Status> = Status::ALL
        .into_iter()
        .filter(|s| !matches!(s, Status::Missed | Status::NotYetProtected))
        .collect();
    let body = html! {
        figure {
            (stacked_bars("Jobs per day by status over the last 14 days", &days))
            figcaption { "Jobs per day by status, the last " (j.chart.len()) " days"
                @if let Some(k) = j.kind { " (" (k.as_str()) " jobs)" } "." }
        }
        details {
            summary { "The same figures as a table" }
            table {
                thead { tr { th scope="col" { "Day" } @for s in &shown { th.num scope="col" { (s.word()) } } } }
                tbody { @for b in &j.chart { tr {
                    th scope="row" { (b.date) }
                    @for s in &shown { td.num { (b.counts.get(s).copied().unwrap_or(0)) } }
                } } }
            }
        }
        @if !j.top_errors.is_empty() {
            h2 { "Most frequent errors" }
            ol { @for e in &j.top_errors { li { (e.jobs) " × " code { (e.message) } } } }
        }
        h2 { "Jobs of the last 31 days" }
        form.filters method="get" action="/jobs" aria-label="Filters" {
            label { "Kind"
                select name="kind" {
                    option value="" { "any" }
                    @for k in KINDS { option value=(k.as_str()) selected[j.kind == Some(k)] { (k.as_str()) } }
                }
            }
            label { "Status"
                select name="status" {
                    option value="" { "any" }
                    @for s in &shown { option value=(s.key()) selected[j.status == Some(*s)] { (s.word()) } }
                }
            }
            label { "Resource contains"
                input type="text" name="resource" value=(j.resource.as_deref().unwrap_or("")) size="24";
            }
            button type="submit" { "Show" }
        }
        (table(&format!("{} jobs, page {} of {}", j.total, j.page, j.pages), &j.rows, now))
        (pager(j.page, j.pages, |p| query(j, p)))
    };
    page(
        "Jobs",
        "/jobs",
        &query(j, j.page).replacen("/jobs", "/api/v1/jobs", 1),
        now,
        body,
    )
}

pub fn render_detail(d: &JobDetail, now: chrono::DateTime<chrono::Utc>) -> Markup {
    let body = html! {
        p { (badge(d.status)) " " span.muted { (d.state) } }
        dl.facts {
            dt { "Kind" } dd { (d.kind.as_str()) }
            dt { "Resource" } dd { (resource_link(&d.resource_arn, None)) }
            dt { "Vault" } dd { (d.vault) }
            @if let Some(p) = &d.plan { dt { "Plan" } dd { code { (p) } } }
            @if let Some(r) = &d.rule { dt { "Rule" } dd { code { (r) } } }
            dt { "Scheduled" } dd { (time(d.scheduled_at, now)) }
            dt { "Must start by" } dd { (time(d.start_by, now)) }
            dt { "Must complete by" } dd { (time(d.complete_by, now)) }
            dt { "Attempts" } dd { (d.attempts) }
            @if let Some(s) = d.duration_seconds { dt { "Took" } dd { (seconds(s)) } }
            @if let Some(b) = d.bytes { dt { "Size" } dd { (bytes(b)) } }
            @if let Some(p) = &d.recovery_point_id { dt { "Recovery point" } dd { code { (p) } } }
            @if let Some(p) = &d.source_recovery_point_id { dt { "Copy of" } dd { code { (p) } } }
            @if !d.native_ids.is_empty() { dt { "Made" } dd { @for n in &d.native_ids { code { (n) } " " } } }
            @if let Some(a) = &d.created_resource_arn { dt { "Restored into" } dd { code { (a) } } }
            @if let Some(v) = &d.validation_status { dt { "Validation" } dd { (v) @if let Some(m) = &d.validation_message { " — " (m) } } }
            @if let Some(v) = &d.deletion_status { dt { "Restored copy deleted" } dd { (v) } }
        }
        @if let Some(e) = &d.error { h2 { "Error" } pre { (e) } }
        @if let Some(w) = &d.warning { h2 { "Warning" } pre { (w) } }
        h2 { "Transitions" }
        table {
            thead { tr { th scope="col" { "State" } th scope="col" { "At" } } }
            tbody { @for t in &d.transitions { tr { td { (t.state) } td { (time(t.at, now)) } } } }
        }
        p { "Ended: " (maybe_time(d.transitions.last().filter(|_| d.status != Status::Running).map(|t| t.at), now)) }
    };
    page(
        &format!("Job {}", d.id),
        "/jobs",
        &format!("/api/v1/jobs/{}", encode(&d.id)),
        now,
        body,
    )
}
