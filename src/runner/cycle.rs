//! One scheduler tick: every rule run that came due since the last tick (the catalog keeps
//! the cursor) becomes one job per covered resource, created once even when ticks race; runs
//! whose start window closed before the tick are recorded as EXPIRED; then every unfinished
//! job, old or new, is executed, and snapshots of covered resources that coffer did not make
//! during the runs' windows are reported as overlaps. The copies the completed backups created
//! (their rules' `copy_to`) run next, then the restore tests that came due (restore, validate,
//! clean up) and the cleanup of what earlier runs left. Then lifecycle: the points whose dates
//! passed or that no `keep` clause keeps get delete jobs ([`super::lifecycle`]), which run with
//! the unfinished deletions of earlier ticks.

use super::execute::Executor;
use super::Event;
use crate::catalog::{JobFilter, JobRecord, NewJob};
use crate::coverage::Coverage;
use crate::jobs::{due, JobKind, JobState, RuleInfo};
use crate::providers::{ForeignSnapshot, Provider};
use std::collections::BTreeMap;

/// What a tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// Jobs this tick created (including those recorded as EXPIRED at once).
    pub created: usize,
    pub expired_at_creation: usize,
    /// Unfinished jobs from earlier ticks that this tick took up again.
    pub resumed: usize,
    /// Restore jobs left unfinished by a coffer that ended mid-restore, now recorded FAILED.
    pub interrupted: Vec<JobRecord>,
    /// Covered resources of types no engine here backs up, per type (file-level backups).
    pub unsupported: BTreeMap<String, usize>,
    /// Every job this tick executed, as it ended (or was left, when stopping).
    pub jobs: Vec<JobRecord>,
    pub overlaps: Vec<ForeignSnapshot>,
    /// The window `[from, to]` the overlaps were looked for in.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// What lifecycle decided (its delete jobs are among `jobs`).
    pub lifecycle: super::lifecycle::LifecycleReport,
}

/// Runs one tick with the given rules and coverage.
pub async fn tick<E: Provider>(
    exec: &Executor<'_, E>,
    rules: &[RuleInfo],
    tests: &super::restore_test::RestoreTests,
    coverage: &Coverage,
) -> Result<TickReport, String> {
    let now = exec.clock.now();
    let mut report = TickReport::default();
    let cursor = exec
        .catalog
        .borrow()
        .tick_cursor()
        .map_err(|e| e.to_string())?;
    // The first tick looks back one start window, and records nothing as missed: runs before
    // coffer first ran were never coffer's to miss.
    let first = cursor.is_none();
    let lookback = rules
        .iter()
        .map(|r| r.start_window)
        .max()
        .unwrap_or_else(chrono::Duration::zero);
    let since = cursor.unwrap_or(now - lookback);
    report.since = Some(since);
    let mut overlap_targets: Vec<&crate::inventory::Resource> = Vec::new();
    for d in due(rules, coverage, since, now) {
        if first && d.expired {
            continue;
        }
        let Some(resource) = exec.inventory.get(&d.resource_arn) else {
            continue;
        };
        if !exec.provider.supports(resource.resource_type) {
            *report
                .unsupported
                .entry(resource.resource_type.to_string())
                .or_default() += 1;
            continue;
        }
        let new = NewJob {
            kind: JobKind::Backup,
            plan: Some(d.plan.to_string()),
            rule: Some(d.rule.to_string()),
            resource_arn: d.resource_arn.clone(),
            vault: d.vault.clone(),
            windows: d.windows,
            options: d.options.clone(),
            recovery_point_id: None,
            source_recovery_point_id: None,
        };
        let created = exec
            .catalog
            .borrow_mut()
            .create_job(&new, now)
            .map_err(|e| e.to_string())?;
        let Some(job) = created else { continue };
        report.created += 1;
        if d.expired {
            let msg = format!(
                "missed: the start window closed at {} before coffer ran (was it stopped?)",
                d.windows.start_by.to_rfc3339()
            );
            let rec = exec
                .catalog
                .borrow_mut()
                .transition_job(&job.id, JobState::Expired, now, Some(&msg))
                .map_err(|e| e.to_string())?;
            report.expired_at_creation += 1;
            (exec.report)(Event::Ended(Box::new(rec)));
        } else if !overlap_targets.iter().any(|r| r.arn == resource.arn) {
            overlap_targets.push(resource);
        }
    }
    exec.catalog
        .borrow_mut()
        .advance_tick_cursor(now)
        .map_err(|e| e.to_string())?;

    if exec.settings.worker.is_none() {
        report.interrupted = end_interrupted_restores(exec)?;
    }
    let unfinished: Vec<JobRecord> = exec
        .catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Backup),
            unfinished: true,
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    report.resumed = unfinished
        .iter()
        .filter(|j| j.history.transitions.first().is_some_and(|t| t.1 < now))
        .count();
    let ids = run_jobs(exec, unfinished).await?;
    report.jobs = reload(exec, &ids)?;

    // restores of AWS points left unfinished (`restore start --no-wait`, or a coffer that died)
    let restores = exec
        .catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Restore),
            unfinished: true,
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    // A file-level restore is run by the process that started it (`restore start`, or the
    // restore test that made it); under the runner lock a tick ends those a dead coffer left,
    // and a worker, which ticks beside them, leaves them alone.
    let restores = if exec.settings.worker.is_some() {
        let catalog = exec.catalog.borrow();
        let mut aws = Vec::new();
        for j in restores {
            let point = match &j.job.recovery_point_id {
                Some(p) => catalog.recovery_point(p).map_err(|e| e.to_string())?,
                None => None,
            };
            if point
                .is_some_and(|p| !super::execute::restore::is_file_level(&p.point.resource_type))
            {
                aws.push(j);
            }
        }
        aws
    } else {
        restores
    };
    if !restores.is_empty() {
        let ids = exec.run_all(restores, &BTreeMap::new()).await?;
        report.jobs.extend(reload(exec, &ids)?);
    }

    // the copies of the points the backups made, and those earlier ticks left unfinished
    crate::failpoint::abort_at("before-copies");
    let copies = exec
        .catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Copy),
            unfinished: true,
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    if !copies.is_empty() {
        let ids = exec.run_all(copies, &BTreeMap::new()).await?;
        report.jobs.extend(reload(exec, &ids)?);
    }

    // restore tests that came due, then what earlier runs left to validate or clean up
    for run in crate::jobs::restore_test::due_runs(&tests.tests, since, now) {
        if run.expired {
            if !first {
                (exec.report)(Event::Warning(format!(
                    "restore_test.{}: the run at {} was not started within its start window (was coffer stopped?)",
                    run.test,
                    run.scheduled_at.to_rfc3339()
                )));
            }
            continue;
        }
        if let Some(test) = tests.tests.iter().find(|t| t.name == run.test) {
            report
                .jobs
                .extend(super::restore_test::run(exec, tests, test, run.scheduled_at).await?);
        }
    }
    for j in super::restore_test::finish_left(exec, tests).await? {
        match report.jobs.iter_mut().find(|r| r.id == j.id) {
            Some(r) => *r = j,
            None => report.jobs.push(j),
        }
    }

    // lifecycle, after the backups: the floor counts the points they just made
    let presence = exec.inventory.presence();
    let exists = |arn: &str| presence.exists(arn);
    report.lifecycle = super::lifecycle::create_jobs(
        &mut *exec.catalog.borrow_mut(),
        exec.policies,
        &exists,
        exec.settings.allow_mass_deletion,
        exec.clock.now(),
    )?;
    let mut deletions: Vec<JobRecord> = Vec::new();
    for kind in [JobKind::Delete, JobKind::Cold] {
        deletions.extend(
            exec.catalog
                .borrow()
                .jobs(&JobFilter {
                    kind: Some(kind),
                    unfinished: true,
                    ..JobFilter::default()
                })
                .map_err(|e| e.to_string())?,
        );
    }
    let mut deleted = Vec::new();
    if !deletions.is_empty() {
        let ids = exec.run_all(deletions, &BTreeMap::new()).await?;
        deleted = reload(exec, &ids)?;
        report.jobs.extend(deleted.iter().cloned());
    }
    // repositories that lost points hold unused data: prune them, at most once a day
    let vaults =
        super::lifecycle::vaults_to_prune(&*exec.catalog.borrow(), exec.policies, &deleted)?;
    for vault in vaults {
        let job = super::lifecycle::prune_job(&vault, exec.clock.now());
        exec.catalog
            .borrow_mut()
            .create_job(&job, exec.clock.now())
            .map_err(|e| e.to_string())?;
    }
    let prunes: Vec<JobRecord> = exec
        .catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Prune),
            unfinished: true,
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    if !prunes.is_empty() {
        let ids = exec.run_all(prunes, &BTreeMap::new()).await?;
        report.jobs.extend(reload(exec, &ids)?);
    }

    if !overlap_targets.is_empty() {
        match exec
            .provider
            .foreign_snapshots(
                &overlap_targets,
                since.min(now - lookback),
                exec.clock.now(),
            )
            .await
        {
            Ok(found) => report.overlaps = found,
            Err(e) => (exec.report)(Event::Warning(format!(
                "could not look for snapshots made outside coffer: {}",
                e.message
            ))),
        }
    }
    Ok(report)
}

/// Preflight checks (quotas, keys) for the backups about to start, then executes every job;
/// returns the ids of those run (a worker's: those it claimed).
pub async fn run_jobs<E: Provider>(
    exec: &Executor<'_, E>,
    jobs: Vec<JobRecord>,
) -> Result<Vec<String>, String> {
    let starting: Vec<&crate::inventory::Resource> = jobs
        .iter()
        .filter(|j| j.job.kind == JobKind::Backup && j.state() != JobState::Running)
        .filter_map(|j| exec.inventory.get(&j.job.resource_arn))
        .filter(|r| exec.provider.supports(r.resource_type))
        .collect();
    let preflight = if starting.is_empty() {
        Default::default()
    } else {
        exec.provider.preflight(&starting).await
    };
    for w in &preflight.warnings {
        (exec.report)(Event::Warning(w.clone()));
    }
    exec.run_all(jobs, &preflight.refused).await
}

/// The jobs with these ids as the catalog now has them.
pub fn reload<E: Provider>(
    exec: &Executor<'_, E>,
    ids: &[String],
) -> Result<Vec<JobRecord>, String> {
    let catalog = exec.catalog.borrow();
    let mut out = Vec::new();
    for id in ids {
        if let Some(j) = catalog.job(id).map_err(|e| e.to_string())? {
            out.push(j);
        }
    }
    Ok(out)
}

/// Ends the restore jobs that a coffer left unfinished when it died. `coffer restore start`
/// holds the runner lock for the whole restore, and the tick holds it too, so a restore job
/// that is unfinished while the tick runs belongs to no living process: it is recorded FAILED
/// with the reason, never resumed as a backup of its source.
pub fn end_interrupted_restores<E: Provider>(
    exec: &Executor<'_, E>,
) -> Result<Vec<JobRecord>, String> {
    let now = exec.clock.now();
    let mut catalog = exec.catalog.borrow_mut();
    crate::app::restore::end_interrupted(&mut *catalog, now).map_err(|e| e.to_string())
}
