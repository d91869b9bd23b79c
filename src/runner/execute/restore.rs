//! Executing a restore job of an AWS recovery point: the point's snapshot, AMI or DB snapshot
//! is restored into a new resource, in the point's vault's region and account, as the job's
//! restore metadata says, tagged `coffer:restore-job=<job id>`; PENDING → RUNNING →
//! COMPLETED, FAILED or ABORTED, with `created_resource_arn` recorded. A restore an earlier
//! attempt asked for is found by its tag or name and adopted, never made twice; one that fails,
//! or is not done by its complete-by time, has what it made deleted. File-level restores run
//! in the command that asked for them ([`crate::app::restore`]).

use super::{Executor, Outcome};
use crate::catalog::{JobRecord, JobUpdate, RecoveryPoint};
use crate::failpoint;
use crate::inventory::{Resource, ResourceType};
use crate::jobs::{JobKind, JobState};
use crate::providers::aws::RESTORE_JOB_TAG;
use crate::providers::{Provider, RestoreRequest, Restoring};
use std::collections::BTreeMap;
use tokio::sync::Semaphore;

/// Whether points of this type are restored from their files rather than by a provider.
pub fn is_file_level(t: &str) -> bool {
    matches!(
        ResourceType::parse(t),
        Some(ResourceType::Directory | ResourceType::EfsFileSystem) | None
    )
}

/// The tags a restored resource carries: the restore job's, a `Name` (EBS, EC2), and with
/// `--copy-source-tags` the source's own (AWS's reserved `aws:` tags excepted).
pub fn restore_tags(job: &JobRecord, point: &RecoveryPoint) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    if job.job.options.copy_source_tags {
        if let Some(source) = point.source_resource() {
            tags.extend(
                source
                    .tags
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with("aws:")),
            );
        }
    }
    if matches!(
        ResourceType::parse(&point.point.resource_type),
        Some(ResourceType::EbsVolume | ResourceType::Ec2Instance)
    ) {
        tags.insert(
            "Name".into(),
            crate::jobs::restore_metadata::default_name(&job.id),
        );
    }
    tags.insert(RESTORE_JOB_TAG.into(), job.id.clone());
    // a restore test's: the tick that follows a crash finds it, and no selection covers it
    if let Some((test, _)) = job
        .job
        .rule
        .as_deref()
        .and_then(crate::jobs::restore_test::parse_label)
    {
        tags.insert(
            crate::jobs::restore_test::RESTORE_TEST_TAG.into(),
            test.to_string(),
        );
    }
    tags
}

/// The restore metadata a job restores with: what it recorded, and the name of what it
/// creates (after the job, unless the user named it).
pub fn restore_metadata(job: &JobRecord, t: ResourceType) -> BTreeMap<String, String> {
    let mut metadata = job.job.options.restore.clone();
    if let Some(key) = crate::jobs::restore_metadata::name_key(t) {
        metadata
            .entry(key.to_string())
            .or_insert_with(|| crate::jobs::restore_metadata::default_name(&job.id));
    }
    metadata
}

impl<'a, E: Provider> Executor<'a, E> {
    pub(super) async fn run_restore(
        &self,
        job: JobRecord,
        global: &Semaphore,
    ) -> Result<Outcome, String> {
        let id = job.id.clone();
        let point_id = job.job.recovery_point_id.clone().unwrap_or_default();
        let point = self
            .catalog
            .borrow()
            .recovery_point(&point_id)
            .map_err(Self::catalog_err)?;
        let Some(point) = point else {
            let msg = format!("no recovery point {point_id} to restore");
            return self.end(&id, JobState::Failed, Some(&msg));
        };
        let resource = point
            .source_resource()
            .filter(|r| self.provider.supports(r.resource_type));
        let Some(resource) = resource else {
            let msg = format!(
                "coffer cannot restore {} recovery points here",
                point.point.resource_type
            );
            return self.end(&id, JobState::Failed, Some(&msg));
        };
        let mut state = job.state();
        if state == JobState::Created {
            self.transition(&id, JobState::Pending, None)?;
            state = JobState::Pending;
        }
        let _global = global.acquire().await.map_err(|e| e.to_string())?;
        if self.stopping() {
            return Ok(Outcome::Left);
        }
        if state == JobState::Pending {
            self.transition(&id, JobState::Running, None)?;
        }
        let tags = restore_tags(&job, &point);
        let metadata = restore_metadata(&job, resource.resource_type);
        let req = RestoreRequest {
            vault: &point.point.vault,
            native_id: &point.point.native_id,
            metadata: &metadata,
            job_id: &id,
            tags: &tags,
        };
        let deadline = job.job.windows.complete_by;
        // only a RUNNING job can have asked; one a dead coffer left looks before asking again
        let created = match job.native_ids.first() {
            Some(n) => n.clone(),
            None => {
                let found = if state == JobState::Running {
                    let (found, _) = self
                        .retrying(deadline, || self.provider.find_restored(&resource, &req))
                        .await;
                    match found {
                        Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
                        Err(e) => return self.end(&id, JobState::Failed, Some(&e.message)),
                        Ok(f) => f,
                    }
                } else {
                    None
                };
                let adopted = found.is_some();
                let created = match found {
                    Some(f) => f,
                    None => match self
                        .request_restore(&job, &resource, &req, deadline)
                        .await?
                    {
                        Ok(c) => c,
                        Err(outcome) => return Ok(outcome),
                    },
                };
                failpoint::abort_at("after-restore-request");
                self.started(JobKind::Restore, &id, &resource, &created, None, adopted)?;
                created
            }
        };
        self.wait_restore(&id, &resource, &req, &created, deadline)
            .await
    }

    /// Asks for the restore; returns what it creates, or how the job ended or was left. Transient
    /// errors are retried with doubling delays. An archived EBS snapshot is first brought back
    /// to the standard tier, which takes hours in AWS: a tick waits for a while (as it follows
    /// an archiving), then leaves the job RUNNING for the next tick, which asks again and finds
    /// the tier restore under way.
    async fn request_restore(
        &self,
        job: &JobRecord,
        resource: &Resource,
        req: &RestoreRequest<'_>,
        deadline: chrono::DateTime<chrono::Utc>,
    ) -> Result<Result<String, Outcome>, String> {
        let id = &job.id;
        let budget = (self.clock.now()
            + chrono::Duration::from_std(self.settings.delete_retry_for)
                .unwrap_or(chrono::Duration::zero()))
        .min(deadline);
        let mut delay = self.settings.retry_base;
        let longest = self.settings.poll_interval.max(self.settings.retry_base);
        let (mut calls, mut said) = (0, false);
        // A try that failed on a lost answer may still have started the restore (an RDS or
        // DynamoDB restore takes the name of what it makes, and asked again fails on it):
        // every later try first looks for it.
        let asked = loop {
            calls += 1;
            let asking = async {
                if calls > 1 {
                    if let Some(made) = self.provider.find_restored(resource, req).await? {
                        return Ok(made);
                    }
                }
                self.provider.restore(resource, req).await
            };
            match asking.await {
                Err(e) if e.halts => break Err(e),
                Err(e) if e.transient && !self.stopping() => {
                    if !said {
                        (self.report)(super::Event::Warning(format!("{id}: {}", e.message)));
                        said = true;
                    }
                    let wake = self.clock.now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
                    if wake > deadline {
                        break Err(crate::providers::ProviderError::permanent(format!(
                            "{} (gave up after {calls} attempts: the restore's window closes at {})",
                            e.message,
                            deadline.to_rfc3339()
                        )));
                    }
                    if wake > budget {
                        self.update(
                            id,
                            JobUpdate {
                                attempts: Some(job.attempts + calls),
                                error: Some(e.message.clone()),
                                ..JobUpdate::default()
                            },
                        )?;
                        (self.report)(super::Event::Info(format!(
                            "{id}: still waiting ({}); the next tick carries on",
                            e.message
                        )));
                        return Ok(Err(Outcome::Left));
                    }
                    if !self.pause(delay).await {
                        break Err(e);
                    }
                    delay = (delay * 2).min(longest);
                }
                other => break other,
            }
        };
        self.update(
            id,
            JobUpdate {
                attempts: Some(job.attempts + calls),
                ..JobUpdate::default()
            },
        )?;
        match asked {
            Err(e) if self.left_by_stop(&e) => Ok(Err(Outcome::Left)),
            Err(e) => Ok(Err(self.end(id, JobState::Failed, Some(&e.message))?)),
            Ok(c) => Ok(Ok(c)),
        }
    }

    /// Follows a restore until its new resource is usable, it fails, or its window closes.
    async fn wait_restore(
        &self,
        id: &str,
        resource: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
        deadline: chrono::DateTime<chrono::Utc>,
    ) -> Result<Outcome, String> {
        loop {
            if self.stopping() {
                return Ok(Outcome::Left);
            }
            if self.clock.now() > deadline {
                self.transition(id, JobState::Aborting, None)?;
                let msg = match self.provider.discard_restored(resource, req, created).await {
                    Ok(()) => format!(
                        "not finished by its complete-by time {}; the unfinished {created} was deleted",
                        deadline.to_rfc3339()
                    ),
                    Err(e) => format!(
                        "not finished by its complete-by time {}; deleting the unfinished {created} failed too: {}",
                        deadline.to_rfc3339(),
                        e.message
                    ),
                };
                self.transition(id, JobState::Aborted, Some(&msg))?;
                return Ok(Outcome::Done);
            }
            let (polled, _) = self
                .retrying(deadline, || self.provider.restored(resource, req, created))
                .await;
            match polled {
                Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
                Err(e) => {
                    self.transition(id, JobState::Failed, Some(&e.message))?;
                    return Ok(Outcome::Done);
                }
                Ok(Restoring::InProgress) => {
                    self.pause(self.settings.poll_interval).await;
                }
                Ok(Restoring::Failed(msg)) => {
                    let msg = match self.provider.discard_restored(resource, req, created).await {
                        Ok(()) => format!("{msg}; {created} was deleted"),
                        Err(e) => format!("{msg}; deleting {created} failed too: {}", e.message),
                    };
                    self.transition(id, JobState::Failed, Some(&msg))?;
                    return Ok(Outcome::Done);
                }
                Ok(Restoring::Ready { arn, .. }) => {
                    self.update(
                        id,
                        JobUpdate {
                            created_resource_arn: Some(arn),
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
