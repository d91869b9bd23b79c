//! The schedule page.

use super::parts::{badge, page, resource_link, seconds, time};
use crate::dashboard::schedule::ScheduleView;
use crate::dashboard::Status;
use maud::{html, Markup};

pub fn render(s: &ScheduleView) -> Markup {
    let now = s.now;
    let body = html! {
        p { "Runs from now until " (time(s.until, now)) "." }
        @if s.rules.is_empty() { p.muted { "No backup rule is applied." } }
        @for r in &s.rules {
            section aria-labelledby={ "rule-" (r.rule) } {
                h2 id={ "rule-" (r.rule) } { code { (r.rule) } }
                p { (r.description) " (" (r.timezone) "), into " (r.vault)
                    "; must start within " (seconds(r.start_window_minutes * 60))
                    " and complete within " (seconds(r.completion_window_minutes * 60)) "." }
                p { "Each run covers " (r.resources) " resource" @if r.resources != 1 { "s" }
                    @if !r.resource_arns.is_empty() { ": "
                        @for (n, a) in r.resource_arns.iter().enumerate() { @if n > 0 { ", " } (resource_link(a, None)) }
                        @if r.resources > r.resource_arns.len() { " and " (r.resources - r.resource_arns.len()) " more" }
                    } "." }
                table {
                    thead { tr { th scope="col" { "Starts" } th scope="col" { "Must start by" } th scope="col" { "Must complete by" } } }
                    tbody {
                        @if r.runs.is_empty() { tr { td colspan="3" { span.muted { "no run in the next 48 hours" } } } }
                        @for run in &r.runs { tr {
                            td { (time(run.start, now)) } td { (time(run.start_by, now)) } td { (time(run.complete_by, now)) }
                        } }
                    }
                }
            }
        }
        h2 { "Missed in the last 7 days" }
        table {
            thead { tr { th scope="col" { "Status" } th scope="col" { "Rule" } th scope="col" { "Resource" } th scope="col" { "Was due" } th scope="col" { "Had to start by" } } }
            tbody {
                @if s.missed.is_empty() { tr { td colspan="5" { span.muted { "none" } } } }
                @for m in &s.missed { tr {
                    td { (badge(Status::Missed)) } td { code { (m.rule) } } td { (resource_link(&m.resource_arn, None)) }
                    td { (time(m.scheduled_at, now)) } td { (time(m.start_by, now)) }
                } }
            }
        }
    };
    page("Schedule", "/schedule", "/api/v1/schedule", now, body)
}
