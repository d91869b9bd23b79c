//! Executing a copy job: a warm, completed recovery point is copied into another vault (its
//! region and account, or its repository) through its type's provider, within the copy's
//! window, at most `max_concurrent_copies` at once into one destination region per service.
//! A copy an earlier attempt asked for is found by its `coffer:job` tag in the destination
//! and adopted; one not finished in its window fails, and what it half-made is deleted. The
//! copy becomes a recovery point of the destination vault that keeps the source's creation
//! time, with its own lifecycle. Backups create their copy jobs as they complete
//! ([`Executor::create_copies`]).

use super::{backup_tags, Executor, Outcome};
use crate::catalog::{JobRecord, JobUpdate, NewJob, NewRecoveryPoint, RecoveryPoint};
use crate::failpoint;
use crate::inventory::Resource;
use crate::jobs::{JobKind, JobState, PointStatus, StorageClass, Windows};
use crate::providers::{CopySource, Progress, Provider};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use tokio::sync::Semaphore;

/// A recorded point as the provider copies it.
fn copy_source(p: &RecoveryPoint) -> CopySource<'_> {
    CopySource {
        vault: &p.point.vault,
        native_id: &p.point.native_id,
        encrypted: p.point.encrypted,
        kms_key: p.point.kms_key.as_deref(),
    }
}

/// The key of the slots copies into one destination region of one service share.
pub(super) fn copy_slot<E: Provider>(provider: &E, r: &Resource, vault: &str) -> String {
    let region = provider
        .home_region(r, vault)
        .unwrap_or_else(|| "local".into());
    format!("copies:{}:{region}", provider.service(r))
}

impl<'a, E: Provider> Executor<'a, E> {
    /// Creates one copy job per `copy_to` of the backup that made `point` (once: a rule's
    /// copy of a point into a vault exists only once, however often this is called).
    pub(super) fn create_copies(
        &self,
        backup: &JobRecord,
        point: &str,
        completed: DateTime<Utc>,
    ) -> Result<(), String> {
        // DynamoDB has no native copy of a backup: the plan says so, and no job is made
        let uncopyable = self
            .inventory
            .get(&backup.job.resource_arn)
            .is_some_and(|r| r.resource_type == crate::inventory::ResourceType::DynamoDbTable);
        if uncopyable {
            return Ok(());
        }
        for c in &backup.job.options.copies {
            let window = c.window();
            let job = NewJob {
                kind: JobKind::Copy,
                plan: backup.job.plan.clone(),
                rule: backup.job.rule.clone(),
                resource_arn: backup.job.resource_arn.clone(),
                vault: c.vault.clone(),
                windows: Windows {
                    scheduled_at: completed,
                    start_by: completed + window,
                    complete_by: completed + window,
                },
                options: c.job_options(&backup.job.options.tags),
                recovery_point_id: None,
                source_recovery_point_id: Some(point.to_string()),
            };
            self.catalog
                .borrow_mut()
                .create_job(&job, self.clock.now())
                .map_err(Self::catalog_err)?;
        }
        Ok(())
    }

    pub(super) async fn run_copy(
        &self,
        job: JobRecord,
        global: &Semaphore,
        slots: &BTreeMap<String, Semaphore>,
    ) -> Result<Outcome, String> {
        let id = job.id.clone();
        let w = job.job.windows;
        let dest = job.job.vault.clone();
        let source_id = job.job.source_recovery_point_id.clone().unwrap_or_default();
        let source = self
            .catalog
            .borrow()
            .recovery_point(&source_id)
            .map_err(Self::catalog_err)?;
        let Some(source) = source else {
            let msg = format!("no recovery point {source_id} to copy");
            return self.end(&id, JobState::Failed, Some(&msg));
        };
        let mut state = job.state();
        if state != JobState::Running {
            if source.status != PointStatus::Completed || source.storage_class != StorageClass::Warm
            {
                let msg = format!(
                    "{source_id} is {} ({}): only warm, completed recovery points are copied",
                    source.status,
                    source.storage_class.as_str()
                );
                return self.end(&id, JobState::Failed, Some(&msg));
            }
            if self.clock.now() > w.complete_by {
                let msg = format!(
                    "not started within its copy window, which closed at {}",
                    w.complete_by.to_rfc3339()
                );
                return self.end(&id, JobState::Failed, Some(&msg));
            }
        }
        let resource = self
            .inventory
            .get(&source.point.resource_arn)
            .cloned()
            .or_else(|| source.source_resource());
        let Some(resource) = resource.filter(|r| self.provider.supports(r.resource_type)) else {
            let msg = format!(
                "coffer cannot copy {} recovery points here",
                source.point.resource_type
            );
            return self.end(&id, JobState::Failed, Some(&msg));
        };
        if state == JobState::Created {
            self.transition(&id, JobState::Pending, None)?;
            state = JobState::Pending;
        }
        let _global = global.acquire().await.map_err(|e| e.to_string())?;
        let _slot = match slots.get(&copy_slot(self.provider, &resource, &dest)) {
            Some(s) => Some(s.acquire().await.map_err(|e| e.to_string())?),
            None => None,
        };
        if self.stopping() {
            return Ok(Outcome::Left);
        }
        if state == JobState::Pending {
            if self.clock.now() > w.complete_by {
                let msg = format!(
                    "waited for a copy slot past its window, which closed at {}",
                    w.complete_by.to_rfc3339()
                );
                return self.end(&id, JobState::Failed, Some(&msg));
            }
            self.transition(&id, JobState::Running, None)?;
        }
        // Only a RUNNING job can have asked for its copy; one left by a process that died
        // looks for it in the destination before asking again.
        let resumed = state == JobState::Running;
        let native = match job.native_ids.first() {
            Some(n) => Some(n.clone()),
            None if !resumed => self.request_copy(&job, &resource, &source).await?,
            None => {
                let (found, _) = self
                    .retrying(w.complete_by, || self.provider.find(&resource, &dest, &id))
                    .await;
                match found {
                    Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
                    Err(e) => return self.end(&id, JobState::Failed, Some(&e.message)),
                    Ok(Some(n)) => {
                        self.started(JobKind::Copy, &id, &resource, &n, None, true)?;
                        Some(n)
                    }
                    Ok(None) => self.request_copy(&job, &resource, &source).await?,
                }
            }
        };
        let Some(native) = native else {
            return Ok(Outcome::Done);
        };
        self.wait_copy(&job, &resource, &source, &native).await
    }

    /// Stops sharing the source with the destination's account (copies across accounts);
    /// a failure is said, and does not change how the copy ended.
    async fn unshare(&self, job: &JobRecord, resource: &Resource, source: &RecoveryPoint) {
        let from = copy_source(source);
        if let Err(e) = self.provider.unshare(resource, &from, &job.job.vault).await {
            (self.report)(super::Event::Warning(format!(
                "{}: the source {} is still shared with the destination's account: {}",
                job.id, source.point.native_id, e.message
            )));
        }
    }

    /// Asks for the copy, retrying transient errors within the window. Returns its native id
    /// in the destination, or `None` when the job failed (and was recorded so) or was left.
    async fn request_copy(
        &self,
        job: &JobRecord,
        resource: &Resource,
        source: &RecoveryPoint,
    ) -> Result<Option<String>, String> {
        let id = &job.id;
        let tags = backup_tags(job);
        let from = copy_source(source);
        // as with backups: a try that failed on a lost answer may have made the copy, so
        // every later try first looks for it by the job's tag
        let tried = std::cell::Cell::new(false);
        let (asked, calls) = self
            .retrying(job.job.windows.complete_by, || async {
                if tried.replace(true) {
                    if let Some(made) = self.provider.find(resource, &job.job.vault, id).await? {
                        return Ok(made);
                    }
                }
                self.provider
                    .copy(resource, &from, &job.job.vault, id, &tags)
                    .await
            })
            .await;
        let attempts = Some(job.attempts + calls);
        self.update(
            id,
            JobUpdate {
                attempts,
                ..JobUpdate::default()
            },
        )?;
        match asked {
            Err(e) if self.left_by_stop(&e) => Ok(None),
            Err(e) => {
                self.unshare(job, resource, source).await;
                self.transition(id, JobState::Failed, Some(&e.message))?;
                Ok(None)
            }
            Ok(n) => {
                failpoint::abort_at("after-copy-request");
                self.started(JobKind::Copy, id, resource, &n, attempts, false)?;
                Ok(Some(n))
            }
        }
    }

    /// Follows a copy until it is done, fails, or its window closes (then what it made is
    /// deleted), and records it as a point of the destination vault.
    async fn wait_copy(
        &self,
        job: &JobRecord,
        resource: &Resource,
        source: &RecoveryPoint,
        native: &str,
    ) -> Result<Outcome, String> {
        let id = &job.id;
        let dest = &job.job.vault;
        let w = job.job.windows;
        loop {
            if self.stopping() {
                return Ok(Outcome::Left);
            }
            if self.clock.now() > w.complete_by {
                let msg = match self.provider.discard(resource, dest, native).await {
                    Ok(()) => format!(
                        "not finished within its copy window, which closed at {}; the unfinished copy {native} was deleted",
                        w.complete_by.to_rfc3339()
                    ),
                    Err(e) => format!(
                        "not finished within its copy window, which closed at {}; deleting the unfinished copy {native} failed too: {}",
                        w.complete_by.to_rfc3339(),
                        e.message
                    ),
                };
                self.unshare(job, resource, source).await;
                self.transition(id, JobState::Failed, Some(&msg))?;
                return Ok(Outcome::Done);
            }
            let (polled, _) = self
                .retrying(w.complete_by, || self.provider.poll(resource, dest, native))
                .await;
            match polled {
                Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
                Err(e) => {
                    self.transition(id, JobState::Failed, Some(&e.message))?;
                    return Ok(Outcome::Done);
                }
                Ok(Progress::Pending { percent }) => {
                    (self.report)(super::Event::Progress {
                        job_id: id.clone(),
                        percent,
                    });
                    self.pause(self.settings.poll_interval).await;
                }
                Ok(Progress::Failed(msg)) => {
                    let _ = self.provider.discard(resource, dest, native).await;
                    self.unshare(job, resource, source).await;
                    self.transition(id, JobState::Failed, Some(&msg))?;
                    return Ok(Outcome::Done);
                }
                Ok(Progress::Done(f)) => {
                    // shared for the copy only; a crash after this unshares again on resume
                    self.unshare(job, resource, source).await;
                    // a copy keeps its source's creation time, and its lifecycle counts from it
                    let created = source.point.created_at;
                    let (cold_at, delete_at) = job.job.options.lifecycle_dates(created);
                    let point = NewRecoveryPoint {
                        vault: dest.clone(),
                        native_id: f.native_id.clone(),
                        resource_arn: source.point.resource_arn.clone(),
                        resource_type: source.point.resource_type.clone(),
                        resource: source.point.resource.clone(),
                        plan: job.job.plan.clone(),
                        rule: job.job.rule.clone(),
                        job_id: Some(id.clone()),
                        created_at: created,
                        completed_at: Some(self.clock.now()),
                        size_bytes: f.size_bytes.or(source.point.size_bytes),
                        encrypted: f.encrypted || source.point.encrypted,
                        kms_key: f.kms_key.clone(),
                        cold_at: self.cold_at(resource, job, cold_at),
                        delete_at,
                        tags: backup_tags(job),
                        source_recovery_point_id: Some(source.id.clone()),
                    };
                    let rp = self
                        .catalog
                        .borrow_mut()
                        .add_recovery_point(&point)
                        .map_err(Self::catalog_err)?;
                    self.update(
                        id,
                        JobUpdate {
                            native_ids: Some(f.native_ids.clone()),
                            bytes: f.size_bytes,
                            recovery_point_id: Some(rp),
                            ..JobUpdate::default()
                        },
                    )?;
                    self.transition(id, JobState::Completed, None)?;
                    return Ok(Outcome::Done);
                }
            }
        }
    }
}
