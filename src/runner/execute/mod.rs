//! Executing jobs: every unfinished job is moved through PENDING and RUNNING to a terminal
//! state, with at most `concurrency` jobs at once, at most `per_service` per service, and one
//! job per resource at a time. A job first looks for what an earlier attempt made (and
//! adopts it), else asks for a backup; transient errors are retried with doubling delays
//! while the window allows; a job past its start-by time expires and one past its
//! complete-by time is aborted and what it half-made deleted. When told to stop, it starts
//! nothing new and leaves running jobs for the next tick to resume. Backups run here; each
//! other kind has its own module (`copy`, `delete`, `cold`, `prune`, `restore`), and a backup that
//! completes creates its copy jobs.

use super::{Clock, Event, Settings};
use crate::catalog::{
    Catalog, ClaimLimits, ClaimRequest, JobRecord, JobUpdate, NewRecoveryPoint, PointFilter,
};
use crate::failpoint;
use crate::inventory::{Inventory, Resource};
use crate::jobs::{forced_transition, JobKind, JobState};
use crate::providers::{Progress, Provider, ProviderError};
use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Semaphore;

mod cold;
mod copy;
#[cfg(test)]
#[path = "copy_tests.rs"]
mod copy_tests;
mod delete;
mod prune;
pub mod restore;
#[cfg(test)]
#[path = "restore_tests.rs"]
mod restore_tests;
#[cfg(test)]
mod tests;

pub use delete::TICKS_BEFORE_EXPIRED;

/// Everything executing jobs needs.
pub struct Executor<'a, E: Provider> {
    pub provider: &'a E,
    pub catalog: &'a RefCell<dyn Catalog + 'a>,
    pub inventory: &'a Inventory,
    pub settings: &'a Settings,
    pub clock: Clock,
    pub stop: &'a AtomicBool,
    pub report: &'a dyn Fn(Event),
    /// The applied locks and holds, checked right before anything is deleted.
    pub policies: &'a crate::jobs::lifecycle::Policies,
    /// Why this run stopped by itself: the first error that halts (credentials refused).
    /// Every job is then left where it is, as when told to stop.
    pub halted: std::sync::Mutex<Option<String>>,
}

/// The tags a job's recovery point carries: the rule's `recovery_point_tags`, then coffer's
/// own (which a rule cannot override).
pub fn backup_tags(job: &JobRecord) -> BTreeMap<String, String> {
    let mut tags = job.job.options.tags.clone();
    let name = |a: &Option<String>, part: &str| {
        a.as_deref()
            .map(|a| a.rsplit_once(part).map_or(a, |(_, n)| n).to_string())
            .unwrap_or_else(|| "on-demand".to_string())
    };
    tags.insert("coffer:vault".into(), job.job.vault.clone());
    tags.insert("coffer:plan".into(), name(&job.job.plan, "plan."));
    tags.insert("coffer:rule".into(), name(&job.job.rule, ".rule."));
    tags.insert(crate::jobs::JOB_TAG.into(), job.id.clone());
    tags
}

/// Why a job is PARTIAL: how many files could not be read, and the first of them.
pub fn unreadable_message(files: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut msg = format!(
        "{} file{} could not be read and {} not in the recovery point: {}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if files.len() == 1 { "is" } else { "are" },
        files[..files.len().min(SHOWN)].join(", ")
    );
    if files.len() > SHOWN {
        msg.push_str(&format!(" (and {} more)", files.len() - SHOWN));
    }
    msg
}

/// How a job ended inside [`Executor::run_job`], before it is written down.
pub(super) enum Outcome {
    Done,
    /// Told to stop: the job stays where it is for the next tick.
    Left,
}

impl<'a, E: Provider> Executor<'a, E> {
    fn catalog_err(e: impl std::fmt::Display) -> String {
        e.to_string()
    }

    fn transition(&self, id: &str, to: JobState, error: Option<&str>) -> Result<JobRecord, String> {
        let rec = self
            .catalog
            .borrow_mut()
            .transition_job(id, to, self.clock.now(), error)
            .map_err(Self::catalog_err)?;
        if to.is_terminal() {
            (self.report)(Event::Ended(Box::new(rec.clone())));
        }
        Ok(rec)
    }

    /// Whether an error only stands because the runner was told to stop while it would have
    /// retried: the job is then left as it is for the next tick, not failed.
    fn left_by_stop(&self, e: &ProviderError) -> bool {
        self.halt_on(e);
        e.transient && self.stopping()
    }

    /// Whether jobs should stop where they are: told to stop, or halted by an error.
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.halt_reason().is_some()
    }

    /// Halts the run when `e` says nothing can succeed (see [`ProviderError::halts`]).
    fn halt_on(&self, e: &ProviderError) {
        if e.halts {
            if let Ok(mut h) = self.halted.lock() {
                if h.is_none() {
                    (self.report)(Event::Warning(format!(
                        "{}\n  coffer stops here and leaves its jobs as they are for the next run",
                        e.message
                    )));
                    *h = Some(e.message.clone());
                }
            }
        }
    }

    /// Why the run halted by itself, if it did.
    pub fn halt_reason(&self) -> Option<String> {
        self.halted.lock().ok().and_then(|h| h.clone())
    }

    /// Sleeps for `d`, or less when told to stop (Ctrl-C, SIGTERM): the flag is looked at
    /// every tenth of a second. Returns whether the whole time passed.
    async fn pause(&self, d: std::time::Duration) -> bool {
        const GLANCE: std::time::Duration = std::time::Duration::from_millis(100);
        let until = tokio::time::Instant::now() + d;
        loop {
            if self.stopping() {
                return false;
            }
            let now = tokio::time::Instant::now();
            if now >= until {
                return true;
            }
            tokio::time::sleep((until - now).min(GLANCE)).await;
        }
    }

    fn update(&self, id: &str, u: JobUpdate) -> Result<(), String> {
        self.catalog
            .borrow_mut()
            .update_job(id, &u)
            .map_err(Self::catalog_err)
    }

    /// Calls `f` until it succeeds, fails for good, or the next try would come after
    /// `deadline`. Returns the result and the number of calls made.
    async fn retrying<T, F, Fut>(
        &self,
        deadline: DateTime<Utc>,
        mut f: F,
    ) -> (Result<T, ProviderError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let mut delay = self.settings.retry_base;
        let mut calls = 0;
        loop {
            calls += 1;
            match f().await {
                Err(e) if e.halts => {
                    self.halt_on(&e);
                    return (Err(e), calls);
                }
                Err(e) if e.transient && !self.stopping() => {
                    let wake = self.clock.now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
                    if wake > deadline {
                        let msg = format!(
                            "{} (gave up after {calls} attempts: the window closes at {})",
                            e.message,
                            deadline.to_rfc3339()
                        );
                        return (Err(ProviderError::permanent(msg)), calls);
                    }
                    (self.report)(Event::Warning(format!(
                        "{}; retrying in {:?}",
                        e.message, delay
                    )));
                    if !self.pause(delay).await {
                        // stopping: the error stands, and the job is left for the next tick
                        return (Err(e), calls);
                    }
                    delay = (delay * 2).min(std::time::Duration::from_secs(300));
                }
                other => return (other, calls),
            }
        }
    }

    /// A point's cold date, if it can go cold: only EBS snapshots of rules that opt in, and
    /// file-level points of vaults with a cold repository, go cold; RDS, Aurora and AMIs have
    /// no cold tier (AWS Backup ignores the setting for them).
    fn cold_at(
        &self,
        resource: &Resource,
        job: &JobRecord,
        cold_at: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        cold_at.filter(|_| {
            (resource.resource_type == crate::inventory::ResourceType::EbsVolume
                && job.job.options.opt_in_to_archive)
                || self.provider.has_cold_storage(resource, &job.job.vault)
        })
    }

    /// The resource whose point a copy job copies, as discovered or as its point recorded it.
    fn copied_resource(&self, job: &JobRecord) -> Result<Option<Resource>, String> {
        if let Some(r) = self.inventory.get(&job.job.resource_arn) {
            return Ok(Some(r.clone()));
        }
        let Some(source) = &job.job.source_recovery_point_id else {
            return Ok(None);
        };
        Ok(self
            .catalog
            .borrow()
            .recovery_point(source)
            .map_err(Self::catalog_err)?
            .and_then(|p| p.source_resource()))
    }

    /// Words for a failure, naming the KMS key when the key is what failed.
    fn failure(r: &Resource, e: &ProviderError) -> String {
        match &r.kms_key {
            Some(k) if e.message.contains("KMS") || e.message.contains("kms") => format!(
                "the KMS key {k} that encrypts {} is not usable: {}",
                r.arn, e.message
            ),
            _ => e.message.clone(),
        }
    }

    /// Runs every given job to an end (or, when stopping, leaves it for resumption), and
    /// returns the ids of those it ran. A worker runs only those it claims, renewing its
    /// claims while they run.
    pub async fn run_all(
        &self,
        jobs: Vec<JobRecord>,
        refused: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, String> {
        let Some(worker) = &self.settings.worker else {
            let ids = jobs.iter().map(|j| j.id.clone()).collect();
            return self.run_unclaimed(jobs, refused).await.map(|()| ids);
        };
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let renew = async {
            loop {
                tokio::time::sleep(worker.lease / 3).await;
                match self.catalog.borrow().renew_claims(worker.lease) {
                    Ok(lost) => {
                        for id in lost {
                            (self.report)(Event::Warning(format!(
                                "job {id} was claimed by another worker after this one's lease ended; this worker leaves it"
                            )));
                        }
                    }
                    Err(e) => (self.report)(Event::Warning(format!(
                        "cannot renew this worker's claims: {e}"
                    ))),
                }
            }
        };
        let ran = tokio::select! {
            r = self.run_claiming(jobs, refused, worker) => r,
            () = renew => Ok(Vec::new()),
        };
        // what is left unfinished (stopping, or waiting on AWS) is handed back for the next
        // tick of any worker
        let released = self
            .catalog
            .borrow_mut()
            .release_claims()
            .map_err(|e| e.to_string());
        released.and(ran)
    }

    /// What a job counts against while a worker holds it: its service for backups, copies
    /// and deletions (as [`Executor::run_unclaimed`] limits them), and a copy's destination.
    fn claim_request(&self, job: &JobRecord) -> Result<ClaimRequest, String> {
        let mut req = ClaimRequest::unlimited(&job.id);
        if matches!(
            job.job.kind,
            JobKind::Backup | JobKind::Delete | JobKind::Copy
        ) {
            if let Some(r) = self.inventory.get(&job.job.resource_arn) {
                req.service = Some(self.provider.service(r).to_string());
            }
        }
        if job.job.kind == JobKind::Copy {
            if let Some(r) = self.copied_resource(job)? {
                req.copy_slot = Some(copy::copy_slot(self.provider, &r, &job.job.vault));
            }
        }
        Ok(req)
    }

    /// A worker's way through `jobs`: it claims as many as it has room for (the database
    /// holds the limits across workers), runs them, and claims more as each ends, until
    /// none is left that it can claim. Returns the ids it ran.
    async fn run_claiming(
        &self,
        jobs: Vec<JobRecord>,
        refused: &BTreeMap<String, String>,
        worker: &super::WorkerSettings,
    ) -> Result<Vec<String>, String> {
        use futures_util::stream::{FuturesUnordered, StreamExt};
        /// How soon a worker with room asks again for jobs that others' claims kept from it.
        const RECLAIM: std::time::Duration = std::time::Duration::from_secs(1);
        // oldest run first, as the claims take them
        let mut jobs = jobs;
        jobs.sort_by(|a, b| {
            (a.job.windows.scheduled_at, &a.id).cmp(&(b.job.windows.scheduled_at, &b.id))
        });
        let mut wanted = jobs
            .iter()
            .map(|j| self.claim_request(j))
            .collect::<Result<Vec<_>, String>>()?;
        let room = self.settings.concurrency.max(1);
        let limits = ClaimLimits {
            jobs: room,
            per_service: self.settings.per_service.max(1),
            copies_per_slot: self.settings.max_concurrent_copies.max(1),
        };
        // the database enforces the limits; these only bound this worker's own work
        let global = Semaphore::new(room);
        let services = BTreeMap::new();
        let (global, services) = (&global, &services);
        let mut running = FuturesUnordered::new();
        let mut ran = Vec::new();
        let mut first_error = None;
        loop {
            let free = room.saturating_sub(running.len());
            // claims are taken in batches (when idle, or half the room is free), since each
            // is a transaction that every worker's claims wait for
            let worth = running.is_empty() || free * 2 >= room;
            if !self.stopping() && worth && free > 0 && !wanted.is_empty() {
                let claimed = self.catalog.borrow_mut().claim_jobs(
                    &wanted,
                    &worker.name,
                    worker.lease,
                    &ClaimLimits {
                        jobs: free,
                        ..limits
                    },
                );
                let claimed = match claimed {
                    Ok(c) => c,
                    // the jobs already running are seen to their end, not dropped mid-call
                    // (a backup asked for and not yet recorded would be made again)
                    Err(e) => {
                        first_error.get_or_insert(e.to_string());
                        wanted.clear();
                        continue;
                    }
                };
                let done: std::collections::BTreeSet<&String> =
                    claimed.claimed.iter().chain(&claimed.ended).collect();
                wanted.retain(|w| !done.contains(&w.id));
                for id in claimed.claimed {
                    // the job as it is now: another worker may have moved it on since it
                    // was read
                    let job = match self.catalog.borrow().job(&id) {
                        Ok(Some(job)) => job,
                        Ok(None) => continue,
                        Err(e) => {
                            first_error.get_or_insert(e.to_string());
                            continue;
                        }
                    };
                    ran.push(id);
                    running.push(self.run_job(job, refused, global, services));
                }
            }
            if running.is_empty() {
                break;
            }
            let ended = tokio::select! {
                r = running.next() => r,
                () = tokio::time::sleep(RECLAIM), if !wanted.is_empty() && running.len() < room => None,
            };
            match ended {
                // another worker has the job now: this one leaves it and goes on
                Some(Err(e)) if e.contains(crate::catalog::LOST_CLAIM) => {
                    (self.report)(Event::Warning(e));
                }
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                _ => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(ran),
        }
    }

    async fn run_unclaimed(
        &self,
        jobs: Vec<JobRecord>,
        refused: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        let global = Semaphore::new(self.settings.concurrency.max(1));
        let mut services: BTreeMap<String, Semaphore> = BTreeMap::new();
        // one queue per resource, oldest run first: one job per resource at a time
        let mut queues: BTreeMap<String, Vec<JobRecord>> = BTreeMap::new();
        for j in jobs {
            if let Some(r) = self.inventory.get(&j.job.resource_arn) {
                services
                    .entry(self.provider.service(r).to_string())
                    .or_insert_with(|| Semaphore::new(self.settings.per_service.max(1)));
            }
            if j.job.kind == JobKind::Copy {
                if let Some(r) = self.copied_resource(&j)? {
                    services
                        .entry(copy::copy_slot(self.provider, &r, &j.job.vault))
                        .or_insert_with(|| {
                            Semaphore::new(self.settings.max_concurrent_copies.max(1))
                        });
                }
            }
            queues
                .entry(j.job.resource_arn.clone())
                .or_default()
                .push(j);
        }
        (self.report)(Event::Queued {
            jobs: queues.values().map(Vec::len).sum(),
        });
        let services = &services;
        let global = &global;
        let runs = queues.into_values().map(|mut queue| async move {
            queue.sort_by_key(|j| j.job.windows.scheduled_at);
            for job in queue {
                match self.run_job(job, refused, global, services).await {
                    // another worker has the job now: this one leaves it and goes on
                    Err(e) if e.contains(crate::catalog::LOST_CLAIM) => {
                        (self.report)(Event::Warning(e));
                    }
                    r => {
                        r?;
                    }
                }
            }
            Ok::<(), String>(())
        });
        for r in futures_util::future::join_all(runs).await {
            r?;
        }
        Ok(())
    }

    async fn run_job(
        &self,
        job: JobRecord,
        refused: &BTreeMap<String, String>,
        global: &Semaphore,
        services: &BTreeMap<String, Semaphore>,
    ) -> Result<Outcome, String> {
        let id = job.id.clone();
        match job.job.kind {
            JobKind::Delete => return self.run_delete(job, global, services).await,
            JobKind::Copy => return self.run_copy(job, global, services).await,
            JobKind::Restore => return self.run_restore(job, global).await,
            JobKind::Prune => return self.run_prune(job).await,
            JobKind::Cold => return self.run_cold(job).await,
            _ => {}
        }
        if job.job.kind != JobKind::Backup {
            // Each kind has its own path; a job of another kind run here would be run as a
            // backup of its resource.
            (self.report)(Event::Warning(format!(
                "job {id} is a {} job; the backup runner leaves it alone",
                job.job.kind
            )));
            return Ok(Outcome::Left);
        }
        let w = job.job.windows;
        let mut state = job.state();
        if let Some(JobState::Expired) = forced_transition(state, &w, self.clock.now()) {
            let msg = format!(
                "not started by its start-by time {}",
                w.start_by.to_rfc3339()
            );
            self.transition(&id, JobState::Expired, Some(&msg))?;
            return Ok(Outcome::Done);
        }
        let Some(resource) = self.inventory.get(&job.job.resource_arn) else {
            let msg = "the resource was not found by discovery: it was deleted, or no provider block covers its region any more";
            self.transition(&id, JobState::Failed, Some(msg))?;
            return Ok(Outcome::Done);
        };
        if !self.provider.supports(resource.resource_type) {
            let msg = format!("coffer cannot back up {} resources", resource.resource_type);
            self.transition(&id, JobState::Failed, Some(&msg))?;
            return Ok(Outcome::Done);
        }
        if state != JobState::Running {
            if let Some(reason) = refused.get(&resource.arn) {
                self.transition(&id, JobState::Failed, Some(reason))?;
                return Ok(Outcome::Done);
            }
            if state == JobState::Created {
                self.transition(&id, JobState::Pending, None)?;
                state = JobState::Pending;
            }
        }
        // wait for a slot
        let _global = global.acquire().await.map_err(|e| e.to_string())?;
        let _service = match services.get(self.provider.service(resource)) {
            Some(s) => Some(s.acquire().await.map_err(|e| e.to_string())?),
            None => None,
        };
        if self.stopping() {
            return Ok(Outcome::Left);
        }
        if state == JobState::Pending {
            if forced_transition(state, &w, self.clock.now()) == Some(JobState::Expired) {
                let msg = format!(
                    "waited for a slot past its start-by time {}",
                    w.start_by.to_rfc3339()
                );
                self.transition(&id, JobState::Expired, Some(&msg))?;
                return Ok(Outcome::Done);
            }
            self.transition(&id, JobState::Running, None)?;
        }

        // What an earlier attempt made, if anything. Only a job that was already RUNNING can
        // have asked for a backup (a job becomes RUNNING before it asks), so only such a job,
        // left by a process that died, looks for one.
        let resumed = state == JobState::Running;
        let native = match job.native_ids.first() {
            Some(n) => Some(n.clone()),
            None if !resumed => self.request(&job, resource).await?,
            None => {
                let (found, _) = self
                    .retrying(w.complete_by, || {
                        self.provider.find(resource, &job.job.vault, &id)
                    })
                    .await;
                match found {
                    Err(e) if self.left_by_stop(&e) => None,
                    Err(e) => {
                        self.transition(&id, JobState::Failed, Some(&Self::failure(resource, &e)))?;
                        None
                    }
                    Ok(Some(n)) => {
                        self.started(JobKind::Backup, &id, resource, &n, None, true)?;
                        Some(n)
                    }
                    Ok(None) => self.request(&job, resource).await?,
                }
            }
        };
        let Some(native) = native else {
            return Ok(Outcome::Done);
        };
        self.wait(&job, resource, &native).await
    }

    /// Asks for the backup, retrying transient errors until the start window closes. Returns
    /// the native id, or `None` when the job failed (and was recorded so).
    async fn request(
        &self,
        job: &JobRecord,
        resource: &Resource,
    ) -> Result<Option<String>, String> {
        let id = &job.id;
        let tags = backup_tags(job);
        let w = job.job.windows;
        // A try that failed on a lost connection or a timeout may still have made the backup
        // (CreateSnapshot takes no idempotency token): every later try first looks for it by
        // the job's tag and adopts it, so that no backup is made twice.
        let tried = std::cell::Cell::new(false);
        let (started, calls) = self
            .retrying(w.start_by.max(self.clock.now()), || async {
                if tried.replace(true) {
                    if let Some(made) = self.provider.find(resource, &job.job.vault, id).await? {
                        return Ok(made);
                    }
                }
                self.provider
                    .start(resource, &job.job.vault, id, &tags)
                    .await
            })
            .await;
        let attempts = Some(job.attempts + calls);
        match started {
            Err(e) if self.left_by_stop(&e) => {
                self.update(
                    id,
                    JobUpdate {
                        attempts,
                        ..JobUpdate::default()
                    },
                )?;
                Ok(None)
            }
            Err(e) => {
                self.update(
                    id,
                    JobUpdate {
                        attempts,
                        ..JobUpdate::default()
                    },
                )?;
                self.transition(id, JobState::Failed, Some(&Self::failure(resource, &e)))?;
                Ok(None)
            }
            Ok(n) => {
                failpoint::abort_at("after-backup-request");
                self.started(JobKind::Backup, id, resource, &n, attempts, false)?;
                // a backup that takes long: the job is held, RUNNING, its backup recorded
                failpoint::pause_at("backup-running-pause");
                Ok(Some(n))
            }
        }
    }

    /// Records the backup a job asked for (or adopted) and says so.
    fn started(
        &self,
        kind: JobKind,
        id: &str,
        resource: &Resource,
        native: &str,
        attempts: Option<u32>,
        adopted: bool,
    ) -> Result<(), String> {
        self.update(
            id,
            JobUpdate {
                attempts,
                native_ids: Some(vec![native.to_string()]),
                ..JobUpdate::default()
            },
        )?;
        (self.report)(Event::Started {
            job_id: id.to_string(),
            kind,
            resource_arn: resource.arn.clone(),
            adopted,
        });
        Ok(())
    }

    /// Polls a started backup until it is done, fails, or runs out of window.
    async fn wait(
        &self,
        job: &JobRecord,
        resource: &Resource,
        native: &str,
    ) -> Result<Outcome, String> {
        let id = &job.id;
        let w = job.job.windows;
        loop {
            if self.stopping() {
                return Ok(Outcome::Left);
            }
            if forced_transition(JobState::Running, &w, self.clock.now())
                == Some(JobState::Aborting)
            {
                self.transition(id, JobState::Aborting, None)?;
                let msg = match self.provider.discard(resource, &job.job.vault, native).await {
                    Ok(()) => format!(
                        "not finished by its complete-by time {}; the unfinished {native} was deleted",
                        w.complete_by.to_rfc3339()
                    ),
                    Err(e) => format!(
                        "not finished by its complete-by time {}; deleting the unfinished {native} failed too: {}",
                        w.complete_by.to_rfc3339(),
                        e.message
                    ),
                };
                self.transition(id, JobState::Aborted, Some(&msg))?;
                return Ok(Outcome::Done);
            }
            let (polled, _) = self
                .retrying(w.complete_by, || {
                    self.provider.poll(resource, &job.job.vault, native)
                })
                .await;
            match polled {
                Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
                Err(e) => {
                    self.transition(id, JobState::Failed, Some(&Self::failure(resource, &e)))?;
                    return Ok(Outcome::Done);
                }
                Ok(Progress::Pending { percent }) => {
                    (self.report)(Event::Progress {
                        job_id: id.clone(),
                        percent,
                    });
                    self.pause(self.settings.poll_interval).await;
                }
                Ok(Progress::Failed(msg)) => {
                    let _ = self
                        .provider
                        .discard(resource, &job.job.vault, native)
                        .await;
                    self.transition(id, JobState::Failed, Some(&msg))?;
                    return Ok(Outcome::Done);
                }
                Ok(Progress::Done(f)) => {
                    let now = self.clock.now();
                    let started_at = self
                        .catalog
                        .borrow()
                        .job(id)
                        .map_err(Self::catalog_err)?
                        .and_then(|j| j.history.entered(JobState::Running))
                        .unwrap_or(job.job.windows.scheduled_at);
                    let previous = self
                        .catalog
                        .borrow()
                        .recovery_points(&PointFilter {
                            status: None,
                            vault: None,
                            resource_arn: Some(resource.arn.clone()),
                            ..PointFilter::default()
                        })
                        .map_err(Self::catalog_err)?
                        .into_iter()
                        .find(|p| p.point.job_id.as_deref() != Some(id.as_str()))
                        .and_then(|p| p.point.size_bytes);
                    let warning = crate::jobs::suspicious::shrink_warning(
                        previous,
                        f.size_bytes,
                        self.settings.suspicious_shrink,
                    );
                    if let Some(w) = &warning {
                        (self.report)(Event::Warning(format!("{id} {}: {w}", resource.arn)));
                    }
                    let (cold_at, delete_at) = job.job.options.lifecycle_dates(started_at);
                    let cold_at = self.cold_at(resource, job, cold_at);
                    let point = NewRecoveryPoint {
                        vault: job.job.vault.clone(),
                        native_id: f.native_id.clone(),
                        resource_arn: resource.arn.clone(),
                        resource_type: resource.resource_type.as_str().to_string(),
                        resource: serde_json::to_value(resource).unwrap_or_default(),
                        plan: job.job.plan.clone(),
                        rule: job.job.rule.clone(),
                        job_id: Some(id.clone()),
                        created_at: started_at,
                        completed_at: Some(now),
                        size_bytes: f.size_bytes,
                        encrypted: f.encrypted || resource.encrypted,
                        kms_key: f.kms_key.clone().or_else(|| resource.kms_key.clone()),
                        cold_at,
                        delete_at,
                        tags: backup_tags(job),
                        source_recovery_point_id: None,
                    };
                    let rp = self
                        .catalog
                        .borrow_mut()
                        .add_recovery_point(&point)
                        .map_err(Self::catalog_err)?;
                    // the copies are created before the backup is COMPLETED: a crash between
                    // the two resumes the backup, which creates them (once)
                    self.create_copies(job, &rp, now)?;
                    self.update(
                        id,
                        JobUpdate {
                            native_ids: Some(f.native_ids.clone()),
                            bytes: f.size_bytes,
                            recovery_point_id: Some(rp),
                            warning,
                            ..JobUpdate::default()
                        },
                    )?;
                    if f.unreadable.is_empty() {
                        self.transition(id, JobState::Completed, None)?;
                    } else {
                        let msg = unreadable_message(&f.unreadable);
                        self.transition(id, JobState::Partial, Some(&msg))?;
                    }
                    return Ok(Outcome::Done);
                }
            }
        }
    }
}
