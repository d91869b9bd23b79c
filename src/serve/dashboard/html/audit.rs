//! The compliance and restore tests page.

use super::parts::{badge, job_link, page, resource_link, seconds, time};
use crate::controls::Status as Compliance;
use crate::dashboard::audit::Audit;
use crate::dashboard::Status;
use maud::{html, Markup};

fn compliance(s: Compliance) -> Markup {
    match s {
        Compliance::Compliant => {
            html! { span.badge.s-ok { span aria-hidden="true" { "✓" } " compliant" } }
        }
        Compliance::NonCompliant => {
            html! { span.badge.s-failed { span aria-hidden="true" { "✕" } " non-compliant" } }
        }
    }
}

pub fn render(a: &Audit) -> Markup {
    let now = a.now;
    let body = html! {
        h2 { "Controls" }
        @if a.controls.is_empty() { p.muted { "No framework is applied." } }
        @for c in &a.controls {
            details open[c.status == Compliance::NonCompliant] {
                summary { (compliance(c.status)) " " code { (c.control) } " in " (c.framework)
                    " — " (c.compliant) " compliant, " (c.non_compliant) " not" }
                p { (c.description) "." }
                table {
                    thead { tr { th scope="col" { "Resource" } th scope="col" { "Result" } th scope="col" { "Evidence" } } }
                    tbody { @for r in &c.resources { tr {
                        td { (resource_link(&r.resource_arn, None)) } td { (compliance(r.status)) } td { (r.reason) }
                    } } }
                }
            }
        }
        h2 { "Restore tests" }
        p { @match a.rto_seconds {
            Some(s) => { "Restore time objective: " (seconds(s)) @if let Some(src) = &a.rto_source { " (" (src) ")" } "." },
            None => { "No control sets a restore time objective." },
        } }
        table {
            thead { tr {
                th scope="col" { "Job" } th scope="col" { "Test" } th scope="col" { "Resource" } th scope="col" { "When" }
                th scope="col" { "Result" } th.num scope="col" { "Restore time" } th scope="col" { "Against the RTO" } th scope="col" { "Message" }
            } }
            tbody {
                @if a.restore_tests.is_empty() { tr { td colspan="8" { span.muted { "no restore test has run" } } } }
                @for t in &a.restore_tests { tr {
                    td { (job_link(&t.job_id)) }
                    td { code { (t.test) } " / " code { (t.selection) } }
                    td { (resource_link(&t.resource_arn, None)) }
                    td { (time(t.scheduled_at, now)) }
                    td { @match t.validation_status.as_deref() {
                        Some("SUCCESSFUL") => { (badge(Status::Ok)) " SUCCESSFUL" },
                        Some(v) => { (badge(Status::Failed)) " " (v) },
                        None => { span.muted { (t.state) } },
                    } }
                    td.num { @if let Some(s) = t.restore_seconds { (seconds(s)) } }
                    td { @match t.within_rto { Some(true) => { (badge(Status::Ok)) " within" }, Some(false) => { (badge(Status::Failed)) " over" }, None => { span.muted { "—" } } } }
                    td { @if let Some(m) = &t.message { (m) } }
                } }
            }
        }
    };
    page(
        "Compliance and restore tests",
        "/audit",
        "/api/v1/audit",
        now,
        body,
    )
}
