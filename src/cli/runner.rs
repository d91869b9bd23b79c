//! `coffer run`, `coffer daemon` and `coffer backup start`: load what was applied (rules and
//! selections come from the recorded state, so only reviewed changes take effect), discover
//! resources, take the runner lock, and hand jobs to the runner; show progress as a bar on a
//! terminal, as plain lines otherwise, or as JSON log lines.

use super::args::{RunnerArgs, VarArgs};
use super::context::{interruptible, runtime, CmdError, Ctx};
use super::schedule::{instant, rfc3339};
use super::{discovery, Exit};
use crate::catalog::{Catalog, JobRecord, NewJob, SqliteCatalog};
use crate::config::model::Config;
use crate::coverage::Coverage;
use crate::inventory::Inventory;
use crate::jobs::{JobKind, JobOptions, JobState, RuleInfo, Windows};
use crate::providers::files::FileBackups;
use crate::providers::ByResourceType;
use crate::providers::Provider;
use crate::render::jobs::{job_detail, job_json};
use crate::repository::VaultRepository;
use crate::runner::cycle::{reload, run_jobs, tick, TickReport};
use crate::runner::execute::Executor;
use crate::runner::{Clock, Event, Settings};
use crate::state::local::{LocalBackend, StateLock};
use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What was applied, what exists now, and where jobs are recorded.
struct Session {
    config: Config,
    backend: LocalBackend,
    rules: Vec<RuleInfo>,
    coverage: Coverage,
    inventory: Inventory,
    vaults: Vec<String>,
    /// Each applied vault's repository, for file-level backups.
    repositories: BTreeMap<String, VaultRepository>,
}

fn session(ctx: &Ctx, vars: &VarArgs) -> Result<Session, CmdError> {
    let (config, _) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config));
    let Some(state) = backend.read().map_err(|e| e.to_string())?.map(|l| l.state) else {
        return Err(
            "nothing has been applied yet: run `coffer apply` first (jobs follow the applied configuration)"
                .into(),
        );
    };
    let inventory = discovery::refresh(ctx, &config)?;
    let prepared =
        crate::app::session::prepare(&state, &inventory, &ctx.dir, &|k| std::env::var(k).ok())?;
    let crate::app::session::Prepared {
        rules,
        coverage,
        vaults,
        repositories,
    } = prepared;
    Ok(Session {
        config,
        backend,
        rules,
        coverage,
        inventory,
        vaults,
        repositories,
    })
}

fn settings(args: &RunnerArgs) -> Settings {
    Settings {
        concurrency: args.max_concurrent_jobs,
        per_service: args.max_jobs_per_service,
        poll_interval: args.poll_interval,
        suspicious_shrink: args.suspicious_shrink.clamp(0.0, 1.0),
        ..Settings::default()
    }
}

pub(super) fn runner_lock(
    ctx: &Ctx,
    backend: &LocalBackend,
    op: &str,
    lock_timeout: std::time::Duration,
) -> Result<StateLock, CmdError> {
    backend
        .runner_lock(op, lock_timeout, |holder| {
            if !lock_timeout.is_zero() {
                ctx.waiting(&format!(
                    "Waiting up to {lock_timeout:?} for {holder} to finish running jobs..."
                ));
            }
        })
        .map_err(|e| e.to_string())
}

fn open_catalog(backend: &LocalBackend) -> Result<SqliteCatalog, CmdError> {
    SqliteCatalog::open(&backend.dir().join("catalog.db")).map_err(|e| e.to_string())
}

/// How progress is shown.
enum Reporter {
    Bar(indicatif::ProgressBar),
    Lines,
    /// As log events (the daemon), through `tracing`.
    Log,
}

/// Says `message` the way the reporter shows things; as a log event, with the given fields.
macro_rules! say {
    ($reporter:expr, $level:ident, $message:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        let message: String = $message;
        match &$reporter {
            Reporter::Log => tracing::$level!($($key = $value,)* "{message}"),
            Reporter::Bar(bar) => bar.println(&message),
            Reporter::Lines => eprintln!("{message}"),
        }
    }};
}

impl Reporter {
    /// Log events when stderr carries JSON logs; plain lines when stdout carries JSON;
    /// otherwise a bar on a terminal, lines elsewhere.
    fn for_output(ctx: &Ctx, json_out: bool) -> Reporter {
        if ctx.log_json {
            Reporter::Log
        } else if !json_out && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} jobs {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Reporter::Bar(bar)
        } else {
            Reporter::Lines
        }
    }

    fn expect(&self, jobs: usize) {
        if let Reporter::Bar(b) = self {
            b.set_length(jobs as u64);
        }
    }

    fn event(&self, e: &Event) {
        match e {
            Event::Warning(w) => say!(self, warn, format!("Warning: {w}")),
            Event::Queued { jobs } => self.expect(*jobs),
            Event::Started {
                job_id,
                resource_arn,
                adopted,
            } => {
                let what = if *adopted {
                    "adopted the backup an earlier attempt made"
                } else {
                    "backup requested"
                };
                say!(
                    self,
                    info,
                    format!("{job_id} {resource_arn}: {what}"),
                    event = "job_started",
                    job_id = job_id.as_str(),
                    resource_arn = resource_arn.as_str(),
                    adopted = *adopted,
                );
            }
            Event::Progress { job_id, percent } => {
                if let Reporter::Bar(b) = self {
                    b.set_message(format!("{job_id} {}%", percent.unwrap_or(0)));
                }
            }
            Event::Ended(job) => {
                if let Reporter::Bar(b) = self {
                    b.inc(1);
                }
                let err = job
                    .error
                    .as_deref()
                    .map(|e| format!(": {}", e.lines().next().unwrap_or("")))
                    .unwrap_or_default();
                let message = format!("{} {} {}{err}", job.id, job.state(), job.job.resource_arn);
                let job_text = serde_json::to_string(&job_json(job)).unwrap_or_default();
                if job.state() == JobState::Completed {
                    say!(
                        self,
                        info,
                        message,
                        event = "job_ended",
                        job_json = job_text.as_str()
                    );
                } else {
                    say!(
                        self,
                        warn,
                        message,
                        event = "job_ended",
                        job_json = job_text.as_str()
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Reporter::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

/// Whether any of these jobs failed, which makes the command exit 1.
fn any_failed(jobs: &[JobRecord]) -> bool {
    jobs.iter().any(|j| {
        matches!(
            j.state(),
            JobState::Failed | JobState::Aborted | JobState::Partial
        )
    })
}

fn tick_text(r: &TickReport, at: DateTime<Utc>) -> String {
    let mut out = format!(
        "Tick at {} (runs since {}): {} job{} created, {} resumed.\n",
        rfc3339(at),
        r.since.map(rfc3339).unwrap_or_default(),
        r.created,
        if r.created == 1 { "" } else { "s" },
        r.resumed,
    );
    if !r.jobs.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = r
            .jobs
            .iter()
            .map(|j| {
                vec![
                    j.id.clone(),
                    j.state().to_string(),
                    j.job.rule.clone().unwrap_or_else(|| "on-demand".into()),
                    j.job.resource_arn.clone(),
                    crate::render::jobs::detail(j),
                ]
            })
            .collect();
        out.push_str(&crate::render::jobs::table(
            &["JOB", "STATE", "RULE", "RESOURCE", "DETAIL"],
            &rows,
        ));
    }
    for j in &r.interrupted {
        out.push_str(&format!(
            "\nEnded restore job {} ({}) that an interrupted coffer left: {}\n",
            j.id,
            j.state(),
            j.error.as_deref().unwrap_or_default()
        ));
    }
    for (t, n) in &r.unsupported {
        out.push_str(&format!(
            "\nSkipped {n} {t} resource{}: coffer cannot back them up.\n",
            if *n == 1 { "" } else { "s" }
        ));
    }
    if !r.overlaps.is_empty() {
        out.push_str(&format!(
            "\nOverlaps: {} snapshot{} of covered resources made outside coffer during this run's window:\n",
            r.overlaps.len(),
            if r.overlaps.len() == 1 { "" } else { "s" }
        ));
        for o in &r.overlaps {
            out.push_str(&format!(
                "  {} of {} at {}{}\n",
                o.native_id,
                o.resource_arn,
                rfc3339(o.created_at),
                o.origin
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ));
        }
    }
    let count = |s: JobState| r.jobs.iter().filter(|j| j.state() == s).count();
    out.push_str(&format!(
        "\nSummary: {} completed, {} failed, {} aborted, {} expired, {} still running.\n",
        count(JobState::Completed),
        count(JobState::Failed),
        count(JobState::Aborted),
        count(JobState::Expired),
        r.jobs.iter().filter(|j| !j.state().is_terminal()).count(),
    ));
    out
}

fn tick_json(r: &TickReport, at: DateTime<Utc>) -> super::json::TickJson {
    use crate::render::jobs::JobJson;
    super::json::TickJson {
        at: rfc3339(at),
        since: r.since.map(rfc3339),
        created: r.created,
        resumed: r.resumed,
        jobs: r.jobs.iter().map(JobJson::of).collect(),
        skipped: r.unsupported.clone(),
        interrupted_restores: r.interrupted.iter().map(JobJson::of).collect(),
        overlaps: r
            .overlaps
            .iter()
            .map(|o| super::json::OverlapJson {
                resource_arn: o.resource_arn.clone(),
                native_id: o.native_id.clone(),
                created_at: rfc3339(o.created_at),
                origin: o.origin.clone(),
            })
            .collect(),
    }
}

/// Snapshots for AWS resources, file-level backups for directories and mounted EFS.
async fn providers(
    s: &Session,
    targets: &[crate::aws::Target],
) -> ByResourceType<crate::providers::aws::AwsProviders, FileBackups> {
    ByResourceType(
        crate::providers::aws::providers(targets).await,
        FileBackups::new(s.repositories.clone(), std::io::stderr().is_terminal()),
    )
}

/// One tick, with everything loaded; returns the report.
fn one_tick(
    s: &Session,
    clock: Clock,
    settings: &Settings,
    stop: &AtomicBool,
    reporter: &Reporter,
) -> Result<TickReport, CmdError> {
    let catalog = RefCell::new(open_catalog(&s.backend)?);
    let targets = discovery::targets(&s.config)?;
    let rt = runtime()?;
    rt.block_on(async {
        let providers = providers(s, &targets).await;
        let report = |e: Event| reporter.event(&e);
        let exec = Executor {
            provider: &providers,
            catalog: &catalog,
            inventory: &s.inventory,
            settings,
            clock,
            stop,
            report: &report,
        };
        tick(&exec, &s.rules, &s.coverage).await
    })
}

pub fn run(
    ctx: &Ctx,
    at: Option<String>,
    json_out: bool,
    args: &RunnerArgs,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let at = at.as_deref().map(|t| instant("at", t)).transpose()?;
    let s = session(ctx, vars)?;
    let _lock = runner_lock(ctx, &s.backend, "run", args.lock_timeout)?;
    let clock = at.map_or_else(Clock::system, Clock::starting_at);
    let started = clock.now();
    let stop = interruptible()?;
    let reporter = Reporter::for_output(ctx, json_out);
    let report = one_tick(&s, clock, &settings(args), &stop, &reporter)?;
    reporter.finish();
    if json_out {
        super::json::print(&tick_json(&report, started));
    } else {
        print!("{}", tick_text(&report, started));
    }
    Ok(if any_failed(&report.jobs) {
        Exit::Error
    } else {
        Exit::Success
    })
}

pub fn backup_start(
    ctx: &Ctx,
    resource: &str,
    vault: &str,
    delete_after: Option<String>,
    json_out: bool,
    args: &RunnerArgs,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    if let Some(d) = &delete_after {
        crate::config::duration::Duration::parse(d)
            .map_err(|e| format!("--delete-after `{d}`: {}", e.message))?;
    }
    let s = session(ctx, vars)?;
    if !s.vaults.iter().any(|v| v == vault) {
        let known = if s.vaults.is_empty() {
            "none".to_string()
        } else {
            s.vaults.join(", ")
        };
        return Err(format!(
            "no vault `{vault}` has been applied (applied vaults: {known})"
        ));
    }
    let Some(r) = s.inventory.get(resource) else {
        return Err(format!(
            "no resource {resource} was found by discovery; `coffer inventory` lists what coffer can see"
        ));
    };
    let targets = discovery::targets(&s.config)?;
    let _lock = runner_lock(ctx, &s.backend, "backup start", args.lock_timeout)?;
    let clock = Clock::system();
    let now = clock.now();
    let catalog = RefCell::new(open_catalog(&s.backend)?);
    let job = NewJob {
        kind: JobKind::Backup,
        plan: None,
        rule: None,
        resource_arn: r.arn.clone(),
        vault: vault.to_string(),
        windows: Windows::on_demand(now),
        options: JobOptions {
            delete_after,
            ..JobOptions::default()
        },
    };
    let stop = interruptible()?;
    let reporter = Reporter::for_output(ctx, json_out);
    let rt = runtime()?;
    let settings = settings(args);
    let ended = rt.block_on(async {
        let providers = providers(&s, &targets).await;
        // refused before the job is recorded, so a refusal leaves no job behind
        if !providers.supports(r.resource_type) {
            return Err(format!(
                "coffer cannot back up {} resources",
                r.resource_type
            ));
        }
        let created = catalog
            .borrow_mut()
            .create_job(&job, now)
            .map_err(|e| e.to_string())?
            .ok_or("a job for this resource was already created at this instant")?;
        let report = |e: Event| reporter.event(&e);
        let exec = Executor {
            provider: &providers,
            catalog: &catalog,
            inventory: &s.inventory,
            settings: &settings,
            clock,
            stop: &stop,
            report: &report,
        };
        let id = created.id.clone();
        run_jobs(&exec, vec![created]).await?;
        reload(&exec, &[id])
    })?;
    reporter.finish();
    let Some(job) = ended.first() else {
        return Err("the job disappeared from the catalog".into());
    };
    if json_out {
        super::json::print(&crate::render::jobs::JobJson::of(job));
    } else {
        print!("{}", job_detail(job));
    }
    Ok(if any_failed(&ended) || !job.state().is_terminal() {
        Exit::Error
    } else {
        Exit::Success
    })
}

/// Signals the daemon reacts to, as flags set by a signal task.
#[derive(Default)]
struct Signals {
    stop: Arc<AtomicBool>,
    reload: AtomicBool,
    wake: tokio::sync::Notify,
}

async fn listen(signals: Arc<Signals>) {
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
fn next_run(rules: &[RuleInfo], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rules
        .iter()
        .filter_map(|r| r.schedule.next_after(now))
        .min()
}

pub fn daemon(ctx: &Ctx, args: &RunnerArgs, vars: &VarArgs) -> Result<Exit, CmdError> {
    let reporter = Reporter::Log;
    let signals = Arc::new(Signals::default());
    let rt = runtime()?;
    rt.spawn(listen(signals.clone()));
    let settings = settings(args);
    let mut s = session(ctx, vars)?;
    say!(
        reporter,
        info,
        format!(
            "coffer daemon started (pid {}), {} rule{}",
            std::process::id(),
            s.rules.len(),
            if s.rules.len() == 1 { "" } else { "s" }
        ),
        event = "started",
        pid = std::process::id(),
        rules = s.rules.len(),
    );
    loop {
        let tick_args = RunnerArgs {
            lock_timeout: std::time::Duration::from_secs(600),
            ..args.clone()
        };
        let tick_result = runner_lock(ctx, &s.backend, "daemon", tick_args.lock_timeout)
            .and_then(|_lock| one_tick(&s, Clock::system(), &settings, &signals.stop, &reporter));
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
        // jobs still running in AWS are looked at again after a poll interval
        let unfinished = open_catalog(&s.backend)
            .and_then(|c| {
                c.jobs(&crate::catalog::JobFilter {
                    kind: Some(JobKind::Backup),
                    unfinished: true,
                    ..Default::default()
                })
                .map_err(|e| e.to_string())
            })
            .map(|j| !j.is_empty())
            .unwrap_or(false);
        let mut wait = next.map_or(std::time::Duration::from_secs(3600), |n| {
            (n - now).to_std().unwrap_or_default() + std::time::Duration::from_secs(1)
        });
        if unfinished {
            wait = wait.min(settings.poll_interval);
        }
        let wake_at = now + chrono::Duration::from_std(wait).unwrap_or_default();
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
        // read the applied configuration and discover again before every tick, so applied
        // changes and new resources take effect; SIGHUP does this at once
        let hup = signals.reload.swap(false, Ordering::SeqCst);
        match session(ctx, vars) {
            Ok(new) => {
                s = new;
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
        "coffer daemon stopped; unfinished jobs will be resumed by the next run".to_string(),
        event = "stopped",
    );
    Ok(Exit::Success)
}
