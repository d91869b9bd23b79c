//! `coffer daemon` and `coffer worker`: tick forever, sleeping until the next run (a worker
//! also runs what it can claim of the shared queue); SIGHUP reloads, SIGINT and SIGTERM stop.

use super::args::{RunnerArgs, ServeArgs, VarArgs};
use super::context::{runtime, CmdError, Ctx};
use super::runner::*;
use super::schedule::rfc3339;
use super::Exit;
use crate::jobs::{JobKind, RuleInfo};
use crate::runner::Clock;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Signals the daemon reacts to, as flags set by a signal task.
#[derive(Default)]
pub(super) struct Signals {
    stop: Arc<AtomicBool>,
    reload: AtomicBool,
    wake: tokio::sync::Notify,
}

pub(super) async fn listen(signals: Arc<Signals>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => signals.reload.store(true, Ordering::SeqCst),
            _ = term.recv() => signals.stop.store(true, Ordering::SeqCst),
            _ = int.recv() => signals.stop.store(true, Ordering::SeqCst),
        }
        signals.wake.notify_one();
    }
}

/// The next time any rule runs after `now`.
pub(super) fn next_run(rules: &[RuleInfo], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rules
        .iter()
        .filter_map(|r| r.schedule.next_after(now))
        .min()
}

/// `coffer worker`: the daemon's loop as one of several workers on a PostgreSQL backend.
pub fn worker(
    ctx: &Ctx,
    args: &RunnerArgs,
    vars: &VarArgs,
    serve: &ServeArgs,
    name: Option<String>,
    shutdown_timeout: std::time::Duration,
    lease: std::time::Duration,
) -> Result<Exit, CmdError> {
    if lease < MIN_LEASE {
        return Err(format!(
            "--lease {}s is too short: a worker renews its claims every third of the lease, so it must be at least {}s",
            lease.as_secs_f64(),
            MIN_LEASE.as_secs()
        ));
    }
    let name = name.unwrap_or_else(|| {
        format!(
            "{}-{}",
            gethostname::gethostname().to_string_lossy(),
            std::process::id()
        )
    });
    daemon(
        ctx,
        args,
        vars,
        serve,
        Some(Worker {
            name,
            shutdown_timeout,
            lease,
        }),
    )
}

/// What makes a daemon a worker.
pub struct Worker {
    name: String,
    /// How long held jobs may take to finish once told to stop.
    shutdown_timeout: std::time::Duration,
    /// How long a claim on a job lives unless renewed.
    lease: std::time::Duration,
}

/// Once `stop` is set, gives the worker's held jobs `timeout` to finish; if the worker is
/// still running then, hands back every claim it holds (from a connection of its own, so
/// that a job blocked on its main connection does not hold it up) and ends the process.
fn shutdown_watchdog(
    target: crate::pg::PgTarget,
    name: String,
    stop: Arc<AtomicBool>,
    timeout: std::time::Duration,
) {
    std::thread::spawn(move || {
        const GLANCE: std::time::Duration = std::time::Duration::from_millis(100);
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(GLANCE);
        }
        std::thread::sleep(timeout);
        // the main thread did not leave in time: what it holds goes back to the queue
        let reporter = Reporter::Log;
        let freed = crate::pg::PgConnection::open(&target)
            .map_err(|e| e.to_string())
            .and_then(|conn| {
                crate::catalog::PgCatalog::over(conn)
                    .hand_back(&name)
                    .map_err(|e| e.to_string())
            });
        match freed {
            Ok((ids, kept)) => {
                let kept_text = if kept.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} job{} whose request to AWS may still be on its way {} freed when {} lease ends: {}",
                        kept.len(),
                        if kept.len() == 1 { "" } else { "s" },
                        if kept.len() == 1 { "is" } else { "are" },
                        if kept.len() == 1 { "its" } else { "their" },
                        kept.join(", ")
                    )
                };
                say!(
                    reporter,
                    warn,
                    format!(
                        "coffer worker {name} stopped after its shutdown timeout of {}s; handed back {} unfinished job{} for other workers{}{kept_text}",
                        timeout.as_secs(),
                        ids.len(),
                        if ids.len() == 1 { "" } else { "s" },
                        if ids.is_empty() { String::new() } else { format!(": {}", ids.join(", ")) },
                    ),
                    event = "handed_back",
                    jobs = ids.len(),
                    kept = kept.len(),
                )
            }
            Err(e) => say!(
                reporter,
                error,
                format!("coffer worker {name} stopped after its shutdown timeout and could not hand back its jobs (they are freed when their leases end): {e}"),
                event = "hand_back_failed",
                error = e.as_str(),
            ),
        }
        std::process::exit(0);
    });
}

/// Records worker `name` in the shared backend: as started, or beating again.
fn heartbeat(
    backend: &crate::state::backend::Backend,
    name: &str,
    started: bool,
) -> Result<(), CmdError> {
    let Some(catalog) = backend.pg_catalog() else {
        return Ok(());
    };
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    catalog
        .and_then(|c| c.worker_heartbeat(name, &host, std::process::id(), started))
        .map_err(|e| e.to_string())
}

/// The shortest `--lease`: below it a renewal every third of the lease would race a slow
/// database round trip.
const MIN_LEASE: std::time::Duration = std::time::Duration::from_secs(3);

pub fn daemon(
    ctx: &Ctx,
    args: &RunnerArgs,
    vars: &VarArgs,
    serve: &ServeArgs,
    worker: Option<Worker>,
) -> Result<Exit, CmdError> {
    let reporter = Reporter::Log;
    let signals = Arc::new(Signals::default());
    let rt = runtime()?;
    rt.spawn(listen(signals.clone()));
    let mut settings = settings(args);
    let mut s = session(ctx, vars)?;
    let what = if worker.is_some() { "worker" } else { "daemon" };
    if let Some(w) = &worker {
        if !matches!(s.backend, crate::state::backend::Backend::Postgres { .. }) {
            return Err(
                "`coffer worker` runs jobs with other workers through a shared PostgreSQL backend; this configuration keeps state and catalog locally (`coffer { backend \"postgres\" { … } }` shares them), or run `coffer daemon`"
                    .into(),
            );
        }
        settings.worker = Some(crate::runner::WorkerSettings {
            name: w.name.clone(),
            lease: w.lease,
        });
        heartbeat(&s.backend, &w.name, true)?;
        if let crate::state::backend::Backend::Postgres { target, .. } = &s.backend {
            shutdown_watchdog(
                target.clone(),
                w.name.clone(),
                signals.stop.clone(),
                w.shutdown_timeout,
            );
        }
        // idle, a worker sleeps until its next run or poll; a job created meanwhile (by
        // another worker's tick, `restore start --no-wait`, a restore test) wakes it at once
        if let crate::state::backend::Backend::Postgres { target, .. } = &s.backend {
            let signals = signals.clone();
            crate::pg::listen_for_jobs(target, move || signals.wake.notify_one())?;
        }
    }
    let live = Arc::new(crate::serve::Liveness::default());
    if let Some(addr) = serve.address() {
        // the session loaded (and reported on) the configuration already; this reads it
        // again only for where its selections are written
        let loaded = ctx.load_raw(vars)?;
        let opts = super::serve::options(addr, &serve.auth, &loaded, None)?;
        let bound = crate::serve::start(opts, s.backend.spec(), live.clone())?;
        say!(
            reporter,
            info,
            format!("serving the dashboard, /metrics, /healthz and /readyz on http://{bound}"),
            event = "listening",
            address = bound.to_string().as_str(),
        );
    }
    live.discovered(
        s.inventory.clone(),
        crate::controls::vault_accounts(&s.config),
    );
    let notifier =
        crate::notify_delivery::Notifier::start(s.notifications.clone(), ctx.dir.clone());
    live.notifications(notifier.counts.clone());
    say!(
        reporter,
        info,
        format!(
            "coffer {what} started (pid {}), {} rule{}",
            std::process::id(),
            s.rules.len(),
            if s.rules.len() == 1 { "" } else { "s" }
        ),
        event = "started",
        pid = std::process::id(),
        rules = s.rules.len(),
    );
    loop {
        live.busy(Utc::now());
        let tick_args = RunnerArgs {
            lock_timeout: std::time::Duration::from_secs(600),
            ..args.clone()
        };
        if let Some(w) = &worker {
            if let Err(e) = heartbeat(&s.backend, &w.name, false) {
                say!(
                    reporter,
                    warn,
                    format!("cannot record this worker's heartbeat: {e}"),
                    event = "heartbeat_failed",
                    error = e.as_str()
                );
            }
        }
        let tick = || {
            one_tick(
                ctx,
                &s,
                Clock::system(),
                &settings,
                &signals.stop,
                &reporter,
                Some(&notifier),
            )
        };
        let tick_result = if worker.is_some() {
            // A worker holds no runner lock while it ticks. It only tries for it, briefly: a
            // running `restore start` holds it, so with the lock no file restore is running
            // and those a dead coffer left may be ended.
            if let Ok(_lock) = runner_lock(ctx, &s.backend, "worker", std::time::Duration::ZERO) {
                let ended = ctx.catalog(&s.backend).and_then(|mut c| {
                    crate::app::restore::end_interrupted(&mut *c, Utc::now())
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = ended {
                    say!(
                        reporter,
                        error,
                        format!("cannot end interrupted restores: {e}"),
                        event = "restore_interrupted_failed",
                        error = e.as_str(),
                    );
                }
            }
            tick()
        } else {
            runner_lock(ctx, &s.backend, "daemon", tick_args.lock_timeout).and_then(|_lock| tick())
        };
        let tick_failed = tick_result.is_err();
        if notifier.wants(crate::notify::NotificationEvent::ControlNonCompliant) {
            if let Err(e) = notify_controls(ctx, &s, &notifier) {
                say!(
                    reporter,
                    warn,
                    format!("cannot evaluate the controls for notifications: {e}"),
                    event = "controls_failed",
                    error = e.as_str(),
                );
            }
        }
        live.ticked(Utc::now(), !tick_failed);
        match tick_result {
            Ok(r) => {
                say!(
                    reporter,
                    info,
                    format!(
                        "tick done: {} created, {} executed",
                        r.created,
                        r.jobs.len()
                    ),
                    event = "tick",
                    created = r.created,
                    executed = r.jobs.len(),
                    overlaps = r.overlaps.len(),
                );
                for t in &r.lifecycle.tripped {
                    notifier.send(crate::notify::mass_deletion_blocked(
                        &t.vault,
                        t.deleting,
                        t.live,
                        Utc::now(),
                    ));
                    say!(
                        reporter,
                        error,
                        tripped_text(t),
                        event = "mass_deletion_breaker",
                        vault = t.vault.as_str(),
                        deleting = t.deleting,
                        live = t.live,
                    );
                }
                for j in &r.interrupted {
                    say!(
                        reporter,
                        warn,
                        format!("ended restore job {} that an interrupted coffer left", j.id),
                        event = "restore_interrupted",
                        job_id = j.id.as_str(),
                    );
                }
                for o in &r.overlaps {
                    say!(
                        reporter,
                        warn,
                        format!(
                            "overlap: {} of {} made outside coffer at {}",
                            o.native_id,
                            o.resource_arn,
                            rfc3339(o.created_at)
                        ),
                        event = "overlap",
                        native_id = o.native_id.as_str(),
                        resource_arn = o.resource_arn.as_str(),
                    );
                }
            }
            Err(e) => say!(
                reporter,
                error,
                format!("tick failed: {e}"),
                event = "tick_failed",
                error = e.as_str(),
            ),
        }
        if signals.stop.load(Ordering::SeqCst) {
            break;
        }
        let now = Utc::now();
        let next = next_run(&s.rules, now);
        // jobs still running in AWS are looked at again after a poll interval, and so is
        // everything after a tick that failed (the database or a network was away) or when
        // the catalog cannot say: waiting for the next scheduled run could take a day
        let unfinished = tick_failed
            || ctx
                .catalog(&s.backend)
                .and_then(|c| {
                    c.jobs(&crate::catalog::JobFilter {
                        kind: Some(JobKind::Backup),
                        unfinished: true,
                        ..Default::default()
                    })
                    .map_err(|e| e.to_string())
                })
                .map(|j| !j.is_empty())
                .unwrap_or(true);
        let mut wait = next.map_or(std::time::Duration::from_secs(3600), |n| {
            (n - now).to_std().unwrap_or_default() + std::time::Duration::from_secs(1)
        });
        if unfinished {
            wait = wait.min(settings.poll_interval);
        }
        let wake_at = now + chrono::Duration::from_std(wait).unwrap_or_default();
        live.sleeping(wake_at);
        let next_text = next.map(rfc3339);
        say!(
            reporter,
            info,
            format!("sleeping until {}", rfc3339(wake_at)),
            event = "sleeping",
            next_run = next_text.as_deref(),
            wake_at = rfc3339(wake_at).as_str(),
        );
        rt.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = signals.wake.notified() => {}
            }
        });
        if signals.stop.load(Ordering::SeqCst) {
            break;
        }
        live.busy(Utc::now());
        // read the applied configuration and discover again before every tick, so applied
        // changes and new resources take effect; SIGHUP does this at once
        let hup = signals.reload.swap(false, Ordering::SeqCst);
        match session(ctx, vars) {
            Ok(new) => {
                s = new;
                live.discovered(
                    s.inventory.clone(),
                    crate::controls::vault_accounts(&s.config),
                );
                notifier.set(s.notifications.clone());
                if hup {
                    say!(
                        reporter,
                        info,
                        format!("configuration reloaded: {} rules", s.rules.len()),
                        event = "reloaded",
                        rules = s.rules.len(),
                    );
                }
            }
            Err(e) => say!(
                reporter,
                error,
                format!("reload failed, keeping the previous configuration: {e}"),
                event = "reload_failed",
                error = e.as_str(),
            ),
        }
    }
    say!(
        reporter,
        info,
        format!("coffer {what} stopped; unfinished jobs will be resumed by the next run"),
        event = "stopped",
    );
    notifier.finish(std::time::Duration::from_secs(10));
    Ok(Exit::Success)
}

/// Evaluates the controls and sends `CONTROL_NON_COMPLIANT` for each that became
/// NON_COMPLIANT since the catalog last recorded its status (the first time, for each that
/// is): the catalog decides, so daemons and workers sharing it send each change once, and a
/// restart does not send it again.
fn notify_controls(
    ctx: &Ctx,
    s: &Session,
    notifier: &crate::notify_delivery::Notifier,
) -> Result<(), CmdError> {
    let Some(state) = s
        .backend
        .read()
        .map_err(|e| e.to_string())?
        .map(|l| l.state)
    else {
        return Ok(());
    };
    let mut catalog = ctx.catalog(&s.backend)?;
    let (points, restores) = crate::app::compliance::read(&*catalog)?;
    let now = Utc::now();
    let results = crate::app::compliance::evaluate(
        &state,
        &s.inventory,
        &points,
        &restores,
        &crate::controls::vault_accounts(&s.config),
        now,
    );
    for c in results {
        let ok = c.status == crate::controls::Status::Compliant;
        let became_non_compliant = catalog
            .note_control_status(&c.framework, c.control.name(), ok, now)
            .map_err(|e| e.to_string())?;
        if became_non_compliant {
            let bad: Vec<_> = c
                .resources
                .iter()
                .filter(|r| r.status == crate::controls::Status::NonCompliant)
                .collect();
            let first = bad
                .first()
                .map(|r| format!("{}: {}", r.arn, r.reason))
                .unwrap_or_default();
            notifier.send(crate::notify::control_non_compliant(
                &c.framework,
                c.control.name(),
                bad.len(),
                &first,
                now,
            ));
        }
    }
    Ok(())
}
