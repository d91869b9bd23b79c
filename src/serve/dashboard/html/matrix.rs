//! The protection matrix page.

use super::parts::{badge, encode, legend, maybe_time, page, pager, resource_link, seconds};
use super::svg::day_cells;
use crate::dashboard::matrix::Matrix;
use crate::dashboard::Status;
use maud::{html, Markup};

fn query(m: &Matrix, page: usize) -> String {
    let mut q = format!("/matrix?days={}&page={page}", m.days.len());
    for (k, v) in [
        ("type", &m.resource_type),
        ("vault", &m.vault),
        ("tag", &m.tag),
    ] {
        if let Some(v) = v {
            q.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    q
}

pub fn render(m: &Matrix) -> Markup {
    let now = m.now;
    let days = m.days.len();
    let body = html! {
        form.filters method="get" action="/matrix" aria-label="Filters" {
            label { "Days"
                select name="days" {
                    @for d in [7, 14, 30, 60, 90] {
                        option value=(d) selected[d == days] { (d) }
                    }
                }
            }
            label { "Type"
                select name="type" {
                    option value="" { "any" }
                    @for t in &m.resource_types {
                        option value=(t) selected[m.resource_type.as_ref() == Some(t)] { (t) }
                    }
                }
            }
            label { "Vault"
                select name="vault" {
                    option value="" { "any" }
                    @for v in &m.vaults {
                        option value=(v) selected[m.vault.as_ref() == Some(v)] { (v) }
                    }
                }
            }
            label { "Tag (KEY or KEY=VALUE)"
                input type="text" name="tag" value=(m.tag.as_deref().unwrap_or("")) size="16";
            }
            button type="submit" { "Show" }
        }
        (legend())
        p { (m.rows) " resources, page " (m.page) " of " (m.pages) ". Each square is a day ("
            (m.days.first().map(|d| d.to_string()).unwrap_or_default()) " to "
            (m.days.last().map(|d| d.to_string()).unwrap_or_default())
            ", UTC) with the worst status of its runs; hover for the day's runs." }
        table.matrix aria-label="Protection matrix" {
            thead { tr {
                th scope="col" { "Resource" }
                th scope="col" { "Days" }
                th scope="col" { "Newest good point" }
                th.num scope="col" { "Success" }
                th.num scope="col" { "Failures in a row" }
                th scope="col" { "Last error" }
            } }
            @for g in &m.groups {
                tbody {
                    tr { th.group colspan="6" scope="rowgroup" {
                        @if g.plan.is_empty() { "Not protected by any plan" } @else { "Plan " code { (g.plan) } }
                        " · " (g.resource_type)
                    } }
                    @for r in &g.rows { tr {
                        th scope="row" { (resource_link(&r.resource_arn, r.name.as_deref())) }
                        td { (day_cells(r.name.as_deref().unwrap_or(&r.resource_arn), &r.cells)) }
                        td {
                            (maybe_time(r.last_good, now))
                            @if r.stale { " " (badge(Status::Missed)) span.muted { " past its RPO" } }
                            @if let Some(rpo) = r.rpo_seconds { br; span.muted { "RPO " (seconds(rpo)) } }
                        }
                        td.num {
                            @match r.success_ratio {
                                Some(x) => { (format!("{:.0}%", x * 100.0)) br; span.muted { (r.good) "/" (r.expected) } },
                                None => { span.muted { "—" } },
                            }
                        }
                        td.num { (r.failures_in_row) }
                        td { @if let Some(e) = &r.last_error { code { (e) } } }
                    } }
                }
            }
        }
        (pager(m.page, m.pages, |p| query(m, p)))
    };
    page(
        "Protection matrix",
        "/matrix",
        &query(m, m.page).replacen("/matrix", "/api/v1/matrix", 1),
        now,
        body,
    )
}
