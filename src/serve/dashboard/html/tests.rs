//! Golden pages: every view rendered over the fixture estate at its fixed `now`
//! (`coffer_core::dashboard::fixture`), so a change to what people read shows in review.

use crate::dashboard::fixture::{self, DATA, ORDERS, WEB};
use crate::dashboard::{audit, jobs, matrix, overview, resource, schedule, vaults, Status};

/// A page with one element per line, so a snapshot diff points at what changed.
fn lines(markup: maud::Markup) -> String {
    markup.into_string().replace("><", ">\n<")
}

#[test]
fn golden_overview() {
    let m = fixture::small().model();
    insta::assert_snapshot!(lines(super::overview::render(&overview::build(&m))));
}

#[test]
fn golden_matrix() {
    let m = fixture::small().model();
    let page = lines(super::matrix::render(&matrix::build(
        &m,
        matrix::Query {
            days: 14,
            ..Default::default()
        },
    )));
    // the failed nights of vol-data and the missed night of orders are cells with a title
    assert!(page.contains("data-date=\"2026-12-09\" data-status=\"failed\""));
    assert!(page.contains("data-date=\"2026-12-07\" data-status=\"missed\""));
    assert!(
        page.contains("<title>\n2026-12-07: 1 missed</title>")
            || page.contains("2026-12-07: 1 missed")
    );
    insta::assert_snapshot!(page);
}

#[test]
fn golden_jobs() {
    let m = fixture::small().model();
    insta::assert_snapshot!(lines(super::jobs::render(&jobs::build(
        &m,
        jobs::Query {
            page: 1,
            ..Default::default()
        }
    ))));
}

#[test]
fn golden_failed_jobs_and_a_job() {
    let estate = fixture::small();
    let m = estate.model();
    let failed = jobs::build(
        &m,
        jobs::Query {
            status: Some(Status::Failed),
            page: 1,
            ..Default::default()
        },
    );
    let job = estate
        .jobs
        .iter()
        .find(|j| j.id == "job-vol-data-10")
        .unwrap();
    insta::assert_snapshot!(format!(
        "{}\n\n----\n\n{}",
        lines(super::jobs::render(&failed)),
        lines(super::jobs::render_detail(&jobs::detail(job), m.now))
    ));
}

#[test]
fn golden_resources() {
    let estate = fixture::small();
    let m = estate.model();
    for arn in [WEB, DATA, ORDERS] {
        let view = resource::build(&m, arn, &estate.points_of(arn)).unwrap();
        let name = arn.rsplit(['/', ':']).next().unwrap().to_string();
        insta::assert_snapshot!(
            format!("resource_{name}"),
            lines(super::resource::render(&view))
        );
    }
}

#[test]
fn golden_vaults() {
    let m = fixture::small().model();
    insta::assert_snapshot!(lines(super::vaults::render(&vaults::build(&m))));
}

#[test]
fn golden_schedule() {
    let m = fixture::small().model();
    insta::assert_snapshot!(lines(super::schedule::render(&schedule::build(&m))));
}

#[test]
fn golden_audit() {
    let m = fixture::small().model();
    insta::assert_snapshot!(lines(super::audit::render(&audit::build(&m))));
}

#[test]
fn pages_escape_what_they_show() {
    let mut estate = fixture::small();
    let j = estate
        .jobs
        .iter_mut()
        .find(|j| j.id == "job-vol-data-10")
        .unwrap();
    j.error = Some("<script>alert(1)</script>".into());
    let m = estate.model();
    let page = super::overview::render(&overview::build(&m)).into_string();
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;"));
}
