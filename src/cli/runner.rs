//! What the job commands (`run`, `daemon`, `backup start`, `restore start`) share: the
//! session prepared from what was applied and what discovery finds, the runner lock, the
//! providers, and how progress is shown (a bar on a terminal, plain lines, or log events).

use super::args::{RunnerArgs, VarArgs};
use super::context::{runtime, CmdError, Ctx};
use super::discovery;
use super::schedule::rfc3339;
use crate::catalog::JobRecord;
use crate::config::model::Config;
use crate::coverage::Coverage;
use crate::inventory::Inventory;
use crate::jobs::{JobState, RuleInfo};
use crate::providers::files::FileBackups;
use crate::providers::ByResourceType;
use crate::render::jobs::job_json;
use crate::repository::VaultRepository;
use crate::runner::cycle::{tick, TickReport};
use crate::runner::execute::Executor;
use crate::runner::{Clock, Event, Settings};
use crate::state::backend::{Backend, Lock};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;

/// What was applied, what exists now, and where jobs are recorded.
pub(super) struct Session {
    pub(super) config: Config,
    pub(super) backend: Backend,
    pub(super) rules: Vec<RuleInfo>,
    pub(super) coverage: Coverage,
    pub(super) inventory: Inventory,
    pub(super) vaults: Vec<String>,
    /// Each applied vault's repository, for file-level backups.
    pub(super) repositories: BTreeMap<String, VaultRepository>,
    pub(super) policies: crate::jobs::lifecycle::Policies,
    /// Where each applied vault's native points live.
    pub(super) homes: BTreeMap<String, crate::providers::aws::VaultHome>,
    pub(super) restore_tests: crate::runner::restore_test::RestoreTests,
    /// The applied notifications.
    pub(super) notifications: Vec<crate::notify_delivery::Subscription>,
}

impl Session {
    /// Refuses a vault that is not applied, naming those that are.
    pub(super) fn applied_vault(&self, vault: &str) -> Result<(), CmdError> {
        if self.vaults.iter().any(|v| v == vault) {
            return Ok(());
        }
        let known = if self.vaults.is_empty() {
            "none".to_string()
        } else {
            self.vaults.join(", ")
        };
        Err(format!(
            "no vault `{vault}` has been applied (applied vaults: {known})"
        ))
    }

    /// The recorded recovery point `id`, or an error that says how to find the ids.
    pub(super) fn recovery_point(
        &self,
        ctx: &Ctx,
        id: &str,
    ) -> Result<crate::catalog::RecoveryPoint, CmdError> {
        ctx.catalog_read_only(&self.backend)?
            .recovery_point(id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!("no recovery point {id}; `coffer recovery-points list` lists them")
            })
    }
}

pub(super) fn session(ctx: &Ctx, vars: &VarArgs) -> Result<Session, CmdError> {
    let (config, _) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config))?;
    let Some(state) = backend.read().map_err(|e| e.to_string())?.map(|l| l.state) else {
        return Err(
            "nothing has been applied yet: run `coffer apply` first (jobs follow the applied configuration)"
                .into(),
        );
    };
    let inventory = discovery::refresh(ctx, &config)?;
    let notifications = crate::notify_delivery::subscriptions(&state);
    let prepared =
        crate::app::session::prepare(&state, &inventory, &ctx.dir, &|k| std::env::var(k).ok())?;
    let crate::app::session::Prepared {
        rules,
        coverage,
        vaults,
        repositories,
        policies,
        homes,
        restore_tests,
    } = prepared;
    Ok(Session {
        config,
        backend,
        rules,
        coverage,
        inventory,
        vaults,
        repositories,
        policies,
        homes,
        restore_tests,
        notifications,
    })
}

pub(super) fn settings(args: &RunnerArgs) -> Settings {
    Settings {
        concurrency: args.max_concurrent_jobs,
        per_service: args.max_jobs_per_service,
        poll_interval: args.poll_interval,
        suspicious_shrink: args.suspicious_shrink.clamp(0.0, 1.0),
        allow_mass_deletion: args.allow_mass_deletion,
        max_concurrent_copies: usize::from(args.max_concurrent_copies),
        ..Settings::default()
    }
}

pub(super) fn runner_lock(
    ctx: &Ctx,
    backend: &Backend,
    op: &str,
    lock_timeout: std::time::Duration,
) -> Result<Lock, CmdError> {
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

/// How progress is shown.
pub(super) enum Reporter {
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
pub(super) use say;

impl Reporter {
    /// Log events when stderr carries JSON logs; plain lines when stdout carries JSON;
    /// otherwise a bar on a terminal, lines elsewhere.
    pub(super) fn for_output(ctx: &Ctx, json_out: bool) -> Reporter {
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

    pub(super) fn expect(&self, jobs: usize) {
        if let Reporter::Bar(b) = self {
            b.set_length(jobs as u64);
        }
    }

    pub(super) fn event(&self, e: &Event) {
        match e {
            Event::Warning(w) => say!(self, warn, format!("Warning: {w}")),
            Event::Info(m) => say!(self, info, m.clone()),
            Event::Queued { jobs } => self.expect(*jobs),
            Event::Started {
                job_id,
                kind,
                resource_arn,
                adopted,
            } => {
                let what = if *adopted {
                    format!("adopted the {kind} an earlier attempt made")
                } else {
                    format!("{kind} requested")
                };
                say!(
                    self,
                    info,
                    format!("{job_id} {resource_arn}: {what}"),
                    event = "job_started",
                    job_id = job_id.as_str(),
                    kind = kind.as_str(),
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

    pub(super) fn finish(&self) {
        if let Reporter::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

/// What the mass-deletion breaker held back in one vault, in words.
pub(super) fn tripped_text(t: &crate::runner::lifecycle::Tripped) -> String {
    format!(
        "vault {}: lifecycle would delete {} of its {} recovery points this tick, more than 10 and more than 20%; nothing in it was deleted. If the clock and the policies are right, run again with --allow-mass-deletion",
        t.vault, t.deleting, t.live
    )
}

/// Whether a tick's report makes the command exit 1: a job failed, or the breaker tripped.
pub(super) fn tick_failed(r: &TickReport) -> bool {
    any_failed(&r.jobs) || !r.lifecycle.tripped.is_empty()
}

/// Whether any of these jobs failed, which makes the command exit 1.
pub(super) fn any_failed(jobs: &[JobRecord]) -> bool {
    jobs.iter().any(|j| {
        matches!(
            j.state(),
            JobState::Failed | JobState::Aborted | JobState::Partial
        )
    })
}

pub(super) fn tick_text(r: &TickReport, at: DateTime<Utc>) -> String {
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
    if r.lifecycle.created > 0 || r.lifecycle.waiting > 0 || r.lifecycle.cold > 0 {
        out.push_str(&format!(
            "\nLifecycle: {} deletion{} and {} move{} to cold storage started, {} point{} past {} date kept by a lock, a legal hold or keep_at_least.\n",
            r.lifecycle.created,
            if r.lifecycle.created == 1 { "" } else { "s" },
            r.lifecycle.cold,
            if r.lifecycle.cold == 1 { "" } else { "s" },
            r.lifecycle.waiting,
            if r.lifecycle.waiting == 1 { "" } else { "s" },
            if r.lifecycle.waiting == 1 { "its" } else { "their" },
        ));
    }
    for t in &r.lifecycle.tripped {
        out.push_str(&format!("\nError: {}.\n", tripped_text(t)));
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

pub(super) fn tick_json(r: &TickReport, at: DateTime<Utc>) -> super::json::TickJson {
    use crate::render::jobs::JobJson;
    super::json::TickJson {
        at: rfc3339(at),
        since: r.since.map(rfc3339),
        created: r.created,
        resumed: r.resumed,
        jobs: r.jobs.iter().map(JobJson::of).collect(),
        skipped: r.unsupported.clone(),
        interrupted_restores: r.interrupted.iter().map(JobJson::of).collect(),
        lifecycle: super::json::LifecycleJson {
            deletions_started: r.lifecycle.created,
            cold_started: r.lifecycle.cold,
            waiting: r.lifecycle.waiting,
            breaker: r
                .lifecycle
                .tripped
                .iter()
                .map(|t| super::json::BreakerJson {
                    vault: t.vault.clone(),
                    deleting: t.deleting,
                    live: t.live,
                })
                .collect(),
        },
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
pub(super) async fn providers(
    s: &Session,
    targets: &[crate::aws::Target],
) -> ByResourceType<crate::providers::aws::AwsProviders, FileBackups> {
    ByResourceType(
        crate::providers::aws::providers(targets, s.homes.clone()).await,
        FileBackups::new(s.repositories.clone(), std::io::stderr().is_terminal()),
    )
}

/// One tick, with everything loaded; returns the report.
/// The notifier a command that runs jobs once uses, when notifications are applied.
pub(super) fn notifier(ctx: &Ctx, s: &Session) -> Option<crate::notify_delivery::Notifier> {
    notifier_for(ctx, &s.notifications)
}

/// The notifier for `subscriptions`, when there are any.
pub(super) fn notifier_for(
    ctx: &Ctx,
    subscriptions: &[crate::notify_delivery::Subscription],
) -> Option<crate::notify_delivery::Notifier> {
    (!subscriptions.is_empty())
        .then(|| crate::notify_delivery::Notifier::start(subscriptions.to_vec(), ctx.dir.clone()))
}

/// What a one-shot command raised is delivered before it ends, within a minute.
pub(super) const DELIVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub(super) fn one_tick(
    ctx: &Ctx,
    s: &Session,
    clock: Clock,
    settings: &Settings,
    stop: &AtomicBool,
    reporter: &Reporter,
    notifier: Option<&crate::notify_delivery::Notifier>,
) -> Result<TickReport, CmdError> {
    let catalog = ctx.catalog_cell(&s.backend)?;
    let targets = discovery::targets(&s.config)?;
    let rt = runtime()?;
    rt.block_on(async {
        let providers = providers(s, &targets).await;
        let report = |e: Event| {
            if let Some(n) = notifier {
                n.on_event(&e);
            }
            reporter.event(&e)
        };
        let exec = Executor {
            provider: &providers,
            catalog: &*catalog,
            inventory: &s.inventory,
            settings,
            clock,
            stop,
            report: &report,
            policies: &s.policies,
            halted: Default::default(),
        };
        let report = tick(&exec, &s.rules, &s.restore_tests, &s.coverage).await?;
        match exec.halt_reason() {
            Some(why) => Err(halted(&why)),
            None => Ok(report),
        }
    })
}

/// The error of a run that stopped by itself (credentials refused mid-run).
fn halted(why: &str) -> CmdError {
    format!(
        "{why}\n  The run stopped there: no job was failed for it, and every unfinished job was left as it was for the next run. Renew the credentials and run again."
    )
}

/// How an on-demand job is run.
pub(super) struct OnDemand<'a> {
    /// The command, as the runner lock names its holder.
    pub(super) op: &'a str,
    pub(super) lock_timeout: std::time::Duration,
    pub(super) settings: Settings,
    pub(super) json_out: bool,
    /// Why the catalog did not create the job (one like it exists already).
    pub(super) already: &'a str,
}

/// One on-demand job, run now under the runner lock, then shown as text or JSON: what
/// `backup start`, `recovery-points delete` and `vault prune` share. `refuse` is asked, with
/// the providers' `supports`, before the job is recorded, so a refusal leaves no job behind.
/// Returns the job as it ended (or was left, when stopped).
pub(super) fn run_on_demand(
    ctx: &Ctx,
    s: &Session,
    how: OnDemand<'_>,
    job: crate::catalog::NewJob,
    refuse: impl FnOnce(&dyn Fn(crate::inventory::ResourceType) -> bool) -> Result<(), String>,
) -> Result<JobRecord, CmdError> {
    use crate::providers::Provider;
    let targets = discovery::targets(&s.config)?;
    let _lock = runner_lock(ctx, &s.backend, how.op, how.lock_timeout)?;
    let clock = Clock::system();
    let catalog = ctx.catalog_cell(&s.backend)?;
    let stop = super::context::interruptible()?;
    let reporter = Reporter::for_output(ctx, how.json_out);
    let notifier = notifier(ctx, s);
    let ended = runtime()?.block_on(async {
        let providers = providers(s, &targets).await;
        refuse(&|t| providers.supports(t))?;
        let created = catalog
            .borrow_mut()
            .create_job(&job, clock.now())
            .map_err(|e| e.to_string())?
            .ok_or(how.already)?;
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
            settings: &how.settings,
            clock,
            stop: &stop,
            report: &report,
            policies: &s.policies,
            halted: Default::default(),
        };
        let id = created.id.clone();
        crate::runner::cycle::run_jobs(&exec, vec![created]).await?;
        if let Some(why) = exec.halt_reason() {
            return Err(halted(&why));
        }
        crate::runner::cycle::reload(&exec, &[id])
    })?;
    reporter.finish();
    if let Some(n) = notifier {
        n.finish(DELIVERY_WAIT);
    }
    let job = ended
        .into_iter()
        .next()
        .ok_or("the job disappeared from the catalog")?;
    if how.json_out {
        super::json::print(&crate::render::jobs::JobJson::of(&job));
    } else {
        print!("{}", crate::render::jobs::job_detail(&job));
    }
    Ok(job)
}
