//! `coffer restore-test start NAME` runs one applied restore test now (restore, validate,
//! clean up) and waits, exiting 1 unless every validation is SUCCESSFUL; `coffer
//! restore-test list` shows each test's last runs with their validation results and restore
//! times.

use super::context::{runtime, CmdError, Ctx};
use super::json::{RestoreTestJson, TestRestoreJson, TestRunJson};
use super::runner::*;
use super::Exit;
use crate::catalog::{JobFilter, JobRecord};
use crate::jobs::restore_test::{parse_label, SUCCESSFUL};
use crate::jobs::JobKind;
use crate::runner::execute::Executor;
use crate::runner::{Clock, Event};
use std::collections::BTreeMap;

fn restore_json(j: &JobRecord) -> TestRestoreJson {
    let selection = j
        .job
        .rule
        .as_deref()
        .and_then(parse_label)
        .map(|(_, s)| s.to_string())
        .unwrap_or_default();
    TestRestoreJson {
        job_id: j.id.clone(),
        selection,
        resource_arn: j.job.resource_arn.clone(),
        recovery_point_id: j.job.recovery_point_id.clone(),
        state: j.state().as_str().to_string(),
        created_resource_arn: j.created_resource_arn.clone(),
        validation_status: j.validation_status.clone(),
        validation_message: j.validation_message.clone(),
        restore_time_seconds: j.duration_seconds(),
        deletion_status: j.deletion_status.clone(),
    }
}

fn print_restores(jobs: &[JobRecord]) {
    for j in jobs {
        let r = restore_json(j);
        println!(
            "  {}  {}  {}  {}  validation {}{}  restore time {}  cleanup {}",
            r.job_id,
            r.selection,
            r.resource_arn,
            r.state,
            r.validation_status.as_deref().unwrap_or("-"),
            r.validation_message
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            r.restore_time_seconds
                .map_or("-".to_string(), |s| format!("{s} s")),
            r.deletion_status.as_deref().unwrap_or("-"),
        );
    }
}

pub fn start(
    ctx: &Ctx,
    name: &str,
    json_out: bool,
    lock_timeout: std::time::Duration,
    vars: &super::args::VarArgs,
) -> Result<Exit, CmdError> {
    let s = session(ctx, vars)?;
    let Some(test) = s.restore_tests.tests.iter().find(|t| t.name == name) else {
        let known: Vec<&str> = s
            .restore_tests
            .tests
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        return Err(format!(
            "no restore_test `{name}` has been applied (applied: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let targets = super::discovery::targets(&s.config)?;
    let _lock = runner_lock(ctx, &s.backend, "restore-test start", lock_timeout)?;
    let catalog = ctx.catalog_cell(&s.backend)?;
    let stop = super::context::interruptible()?;
    let reporter = Reporter::for_output(ctx, json_out);
    let clock = Clock::system();
    let settings = crate::runner::Settings::default();
    let notifier = notifier(ctx, &s);
    let jobs = runtime()?.block_on(async {
        let providers = providers(&s, &targets).await;
        let report = |e: Event| {
            if let Some(n) = &notifier {
                n.on_event(&e);
            }
            reporter.event(&e)
        };
        let exec = Executor {
            provider: &providers,
            catalog: &*catalog,
            inventory: &s.inventory,
            settings: &settings,
            clock,
            stop: &stop,
            report: &report,
            policies: &s.policies,
            halted: Default::default(),
        };
        crate::runner::restore_test::run(&exec, &s.restore_tests, test, clock.now()).await
    })?;
    reporter.finish();
    if let Some(n) = notifier {
        n.finish(DELIVERY_WAIT);
    }
    if json_out {
        super::json::print(&jobs.iter().map(restore_json).collect::<Vec<_>>());
    } else if jobs.is_empty() {
        println!("restore_test.{name}: no recovery point is eligible (none in the selection window and vaults that the selections match).");
    } else {
        println!("restore_test.{name}: {} restore(s):", jobs.len());
        print_restores(&jobs);
    }
    let passed = jobs
        .iter()
        .all(|j| j.validation_status.as_deref() == Some(SUCCESSFUL));
    Ok(if passed { Exit::Success } else { Exit::Error })
}

pub fn list(ctx: &Ctx, json_out: bool, runs: usize) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort()?;
    let catalog = ctx.catalog_read_only(&backend)?;
    let jobs = catalog
        .jobs(&JobFilter {
            kind: Some(JobKind::Restore),
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    // test → run time → restores, newest run first
    let mut tests: BTreeMap<String, BTreeMap<std::cmp::Reverse<String>, Vec<JobRecord>>> =
        BTreeMap::new();
    for j in jobs {
        let Some((test, _)) = j.job.rule.as_deref().and_then(parse_label) else {
            continue;
        };
        let at = j
            .job
            .windows
            .scheduled_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        tests
            .entry(test.to_string())
            .or_default()
            .entry(std::cmp::Reverse(at))
            .or_default()
            .push(j);
    }
    let out: Vec<RestoreTestJson> = tests
        .into_iter()
        .map(|(test, by_run)| RestoreTestJson {
            test,
            runs: by_run
                .into_iter()
                .take(runs)
                .map(|(at, jobs)| TestRunJson {
                    scheduled_at: at.0,
                    restores: jobs.iter().map(restore_json).collect(),
                })
                .collect(),
        })
        .collect();
    if json_out {
        super::json::print(&out);
        return Ok(Exit::Success);
    }
    if out.is_empty() {
        println!("No restore test has run yet.");
    }
    for t in &out {
        println!("restore_test.{}", t.test);
        for r in &t.runs {
            let ok = r
                .restores
                .iter()
                .filter(|x| x.validation_status.as_deref() == Some(SUCCESSFUL))
                .count();
            println!(
                "  run {}: {ok} of {} validated SUCCESSFUL",
                r.scheduled_at,
                r.restores.len()
            );
            for x in &r.restores {
                println!(
                    "    {}  {}  {}  validation {}  restore time {}  cleanup {}",
                    x.selection,
                    x.resource_arn,
                    x.state,
                    x.validation_status.as_deref().unwrap_or("-"),
                    x.restore_time_seconds
                        .map_or("-".to_string(), |s| format!("{s} s")),
                    x.deletion_status.as_deref().unwrap_or("-"),
                );
            }
        }
    }
    Ok(Exit::Success)
}
