//! The read model and the views over the fixture estate: each status lands on its day, missed
//! runs are found from the schedule, freshness, failures in a row and the headline.

use super::fixture::{self, at, DATA, ORDERS, SCRATCH, WEB};
use super::*;
use chrono::NaiveDate;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cell(m: &Model, arn: &str, d: &str) -> Option<Status> {
    m.resource(arn)
        .unwrap()
        .days
        .get(&date(d))
        .and_then(|c| c.worst)
}

#[test]
fn each_run_lands_on_its_day_with_the_worst_status() {
    let m = fixture::small().model();
    assert_eq!(cell(&m, DATA, "2026-12-08"), Some(Status::Ok));
    assert_eq!(cell(&m, DATA, "2026-12-09"), Some(Status::Failed));
    assert_eq!(cell(&m, WEB, "2026-12-08"), Some(Status::OkWithIssues));
    assert_eq!(cell(&m, WEB, "2026-12-10"), Some(Status::Running));
    assert_eq!(cell(&m, ORDERS, "2026-12-07"), Some(Status::Missed));
    assert_eq!(cell(&m, WEB, "2026-11-29"), Some(Status::NotYetProtected));
    assert_eq!(
        cell(&m, WEB, "2026-11-30"),
        None,
        "applied after the day's run"
    );
    assert_eq!(cell(&m, SCRATCH, "2026-12-09"), None);
}

#[test]
fn missed_runs_are_those_the_schedule_expected_without_a_job() {
    let m = fixture::small().model();
    let missed: Vec<(&str, String)> = m
        .missed
        .iter()
        .map(|r| (r.resource_arn.as_str(), r.scheduled_at.to_rfc3339()))
        .collect();
    assert_eq!(missed, [(ORDERS, "2026-12-07T03:00:00+00:00".to_string())]);
    // a run whose start window is still open is not missed yet
    let mut estate = fixture::small();
    estate.now = at("2026-12-11T03:30:00Z");
    assert_eq!(estate.model().missed.len(), 1);
    estate.now = at("2026-12-11T04:00:01Z");
    assert_eq!(
        estate.model().missed.len(),
        4,
        "the 11th's runs of three resources"
    );
}

#[test]
fn freshness_failures_and_the_headline_name_the_worst() {
    let m = fixture::small().model();
    let data = m.resource(DATA).unwrap();
    assert_eq!(data.failures_in_row, 2);
    assert!(data.stale, "its newest point is from the 8th");
    assert_eq!(data.rpo.as_ref().unwrap().0, chrono::Duration::days(1));
    assert!(data
        .last_error
        .as_ref()
        .unwrap()
        .1
        .contains("SnapshotCreation"));
    let orders = m.resource(ORDERS).unwrap();
    assert_eq!((orders.failures_in_row, orders.stale), (0, false));
    assert!(!m.resource(SCRATCH).unwrap().is_protected());
    let o = overview::build(&m);
    assert!(!o.all_good);
    assert_eq!((o.resources, o.protected, o.unprotected), (4, 3, 1));
    assert_eq!(o.failing, 1);
    assert!(
        o.headline
            .starts_with("3 resources need attention; the worst: data"),
        "{}",
        o.headline
    );
    assert_eq!(o.next_runs[0].start, at("2026-12-11T03:00:00Z"));
    assert_eq!(o.next_runs[0].resources, 3);
}

#[test]
fn an_estate_with_nothing_wrong_says_so() {
    let mut estate = fixture::small();
    estate.jobs.retain(|j| {
        j.job.resource_arn == ORDERS && j.job.windows.scheduled_at > at("2026-12-08T00:00:00Z")
    });
    estate.inventory.resources.retain(|r| r.arn == ORDERS);
    estate.now = at("2026-12-10T12:00:00Z");
    let m = estate.model();
    // runs of the days before the 8th have no jobs left: they are missed, but the newest is good
    let o = overview::build(&m);
    assert_eq!(o.headline, "All 1 resource is protected and fresh");
    assert!(o.all_good);
}

#[test]
fn the_matrix_filters_and_reports_the_success_ratio() {
    let m = fixture::small().model();
    let all = matrix::build(
        &m,
        matrix::Query {
            days: 30,
            ..Default::default()
        },
    );
    assert_eq!(all.days.len(), 30);
    assert_eq!(all.rows, 4);
    assert_eq!(all.groups[0].plan, "daily");
    let orders = all
        .groups
        .iter()
        .flat_map(|g| &g.rows)
        .find(|r| r.resource_arn == ORDERS)
        .unwrap();
    assert_eq!((orders.good, orders.expected), (9, 10));
    let rds = matrix::build(
        &m,
        matrix::Query {
            days: 7,
            resource_type: Some("RDS".into()),
            ..Default::default()
        },
    );
    assert_eq!(rds.rows, 1);
    let dev = matrix::build(
        &m,
        matrix::Query {
            days: 7,
            tag: Some("Env=dev".into()),
            ..Default::default()
        },
    );
    assert_eq!(dev.rows, 1);
    assert_eq!(dev.groups[0].plan, "", "not protected by any plan");
    let dr = matrix::build(
        &m,
        matrix::Query {
            days: 7,
            vault: Some("dr".into()),
            ..Default::default()
        },
    );
    assert_eq!(dr.rows, 3, "the rule copies into dr");
}

#[test]
fn jobs_resource_vaults_schedule_and_audit_read_the_model() {
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
    assert_eq!(failed.total, 2);
    assert_eq!(failed.top_errors[0].jobs, 2);
    let bar = failed
        .chart
        .iter()
        .find(|b| b.date == date("2026-12-09"))
        .unwrap();
    assert_eq!(bar.counts[&Status::Failed], 1);
    let web = resource::build(&m, WEB, &estate.points_of(WEB)).unwrap();
    assert_eq!(web.protections[0].source.as_deref(), Some("main.hcl:25"));
    let copy = web.points.iter().find(|p| p.vault == "dr").unwrap();
    assert_eq!(copy.holds, ["audit-2026"]);
    assert!(copy.locked_until.is_some());
    assert!(web.commands[0]
        .command
        .starts_with("coffer backup start --resource arn:aws:ec2"));
    assert_eq!(web.restore_tests.len(), 1);
    let v = vaults::build(&m);
    let main = v.vaults.iter().find(|v| v.name == "main").unwrap();
    assert_eq!(main.growth.len(), 30);
    assert_eq!(main.growth.last().unwrap().bytes, main.bytes);
    assert!(main.growth_bytes > 0);
    let s = schedule::build(&m);
    assert_eq!(s.rules[0].runs.len(), 2, "two nights in 48 hours");
    assert_eq!(s.missed.len(), 1);
    let a = audit::build(&m);
    assert_eq!(a.rto_seconds, Some(3600));
    assert_eq!(a.restore_tests[0].within_rto, Some(true));
    assert!(a.controls.iter().any(|c| c.non_compliant > 0));
}

#[test]
fn a_vault_shows_its_newest_check_and_a_damaged_one_fails() {
    let mut estate = fixture::small();
    let v = vaults::build(&estate.model());
    let files = v.vaults.iter().find(|v| v.name == "files").unwrap();
    assert_eq!(files.last_check_status, Some(Status::Ok));
    assert_eq!(files.last_check.as_ref().unwrap().snapshots, 12);
    let main = v.vaults.iter().find(|v| v.name == "main").unwrap();
    assert_eq!((&main.last_check, main.last_check_status), (&None, None));

    let check = estate.checks.get_mut("files").unwrap();
    check.warnings = 2;
    let warned = vaults::build(&estate.model());
    assert_eq!(
        warned
            .vaults
            .iter()
            .find(|v| v.name == "files")
            .unwrap()
            .last_check_status,
        Some(Status::OkWithIssues)
    );
    let check = estate.checks.get_mut("files").unwrap();
    check.errors = 1;
    check.first_error = Some("pack 3f2a is missing".into());
    let m = estate.model();
    let damaged = vaults::build(&m);
    assert_eq!(
        damaged
            .vaults
            .iter()
            .find(|v| v.name == "files")
            .unwrap()
            .last_check_status,
        Some(Status::Failed)
    );
    let o = overview::build(&m);
    let files = o.vaults.iter().find(|v| v.vault == "files").unwrap();
    assert_eq!(files.last_check_status, Some(Status::Failed));
}
