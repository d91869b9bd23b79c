//! Executing a cold job: the point's native object moves to cold storage through its type's
//! provider (EBS: the snapshot archive tier), only if it carries the point's `coffer:job` tag
//! and no legal hold matches it; the job follows the tiering until it completes (for a while
//! per tick; later ticks take it up again), and the point becomes COLD. A point that cannot go cold (not coffer's, a type without cold storage, a
//! failed tiering) stays warm with the reason, and is not tried again.

use super::{Executor, Outcome};
use crate::catalog::{JobRecord, JobUpdate, PointChange};
use crate::jobs::{DeletedBy, JobState, PointStatus};
use crate::providers::{Archiving, Provider, Tiering};

impl<'a, E: Provider> Executor<'a, E> {
    pub(super) async fn run_cold(&self, job: JobRecord) -> Result<Outcome, String> {
        let id = job.id.clone();
        let point_id = job.job.recovery_point_id.clone().unwrap_or_default();
        let point = self
            .catalog
            .borrow()
            .recovery_point(&point_id)
            .map_err(Self::catalog_err)?;
        let Some(point) = point else {
            return self.end(
                &id,
                JobState::Failed,
                Some(&format!("no recovery point {point_id}")),
            );
        };
        if point.status != PointStatus::Completed {
            return self.end(
                &id,
                JobState::Failed,
                Some(&format!("{point_id} is {}", point.status)),
            );
        }
        let holds = self.policies.holds_on(&point);
        if !holds.is_empty() {
            let msg = format!(
                "not moved to cold storage: {point_id} is under legal hold {}",
                holds.join(", ")
            );
            return self.end(&id, JobState::Failed, Some(&msg));
        }
        let stays_warm = |reason: String| -> Result<(), String> {
            self.catalog
                .borrow_mut()
                .change_point(&point_id, &PointChange::StaysWarm { reason })
                .map_err(Self::catalog_err)
        };
        let resource = self
            .inventory
            .get(&point.point.resource_arn)
            .cloned()
            .or_else(|| point.source_resource());
        let (Some(made_by), Some(resource)) = (point.point.job_id.clone(), resource) else {
            let msg = format!("{point_id} records no coffer job or source; it stays warm");
            stays_warm(msg.clone())?;
            return self.end(&id, JobState::Failed, Some(&msg));
        };
        if self.stopping() {
            return Ok(Outcome::Left);
        }
        if job.state() != JobState::Running {
            self.transition(&id, JobState::Running, None)?;
        }
        self.update(
            &id,
            JobUpdate {
                attempts: Some(job.attempts + 1),
                native_ids: Some(vec![point.point.native_id.clone()]),
                ..JobUpdate::default()
            },
        )?;
        let deadline = self.clock.now()
            + chrono::Duration::from_std(self.settings.delete_retry_for)
                .unwrap_or(chrono::Duration::zero());
        let native = point.point.native_id.clone();
        let (asked, _) = self
            .retrying(deadline, || {
                self.provider
                    .archive(&resource, &point.point.vault, &native, &made_by)
            })
            .await;
        match asked {
            Ok(Archiving::Started) => {}
            Ok(Archiving::Done { native_id }) => return self.cold(&id, &point_id, native_id),
            Ok(Archiving::Gone) => {
                self.catalog
                    .borrow_mut()
                    .change_point(
                        &point_id,
                        &PointChange::Deleted {
                            at: self.clock.now(),
                            by: DeletedBy::Outside,
                        },
                    )
                    .map_err(Self::catalog_err)?;
                let msg = format!("{native} is gone: deleted outside coffer");
                self.transition(&id, JobState::Failed, Some(&msg))?;
                return Ok(Outcome::Done);
            }
            Ok(Archiving::NotOurs(msg) | Archiving::Unsupported(msg)) => {
                stays_warm(msg.clone())?;
                self.transition(&id, JobState::Failed, Some(&msg))?;
                return Ok(Outcome::Done);
            }
            Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
            Err(e) => return self.retry_later(&id, &job, &point_id, &e.message),
        }
        loop {
            if self.stopping() {
                return Ok(Outcome::Left);
            }
            let (state, _) = self
                .retrying(deadline, || {
                    self.provider.tiering(&resource, &job.job.vault, &native)
                })
                .await;
            match state {
                Ok(Tiering::Completed) => return self.cold(&id, &point_id, None),
                Ok(Tiering::InProgress) => {
                    // archiving takes hours in AWS: a tick follows it for a while, then leaves
                    // the job RUNNING for the next tick, which finds the request under way
                    if self.clock.now() >= deadline {
                        (self.report)(super::Event::Info(format!(
                            "{id}: {native} is still moving to cold storage; the next tick follows it"
                        )));
                        return Ok(Outcome::Left);
                    }
                    (self.report)(super::Event::Progress {
                        job_id: id.clone(),
                        percent: None,
                    });
                    self.pause(self.settings.poll_interval).await;
                }
                Ok(Tiering::Failed(msg)) => {
                    stays_warm(msg.clone())?;
                    self.transition(&id, JobState::Failed, Some(&msg))?;
                    return Ok(Outcome::Done);
                }
                Err(e) if self.left_by_stop(&e) => return Ok(Outcome::Left),
                Err(e) => return self.retry_later(&id, &job, &point_id, &e.message),
            }
        }
    }

    fn cold(&self, id: &str, point_id: &str, native_id: Option<String>) -> Result<Outcome, String> {
        if let Some(n) = &native_id {
            self.update(
                id,
                JobUpdate {
                    native_ids: Some(vec![n.clone()]),
                    ..JobUpdate::default()
                },
            )?;
        }
        self.catalog
            .borrow_mut()
            .change_point(point_id, &PointChange::Cold { native_id })
            .map_err(Self::catalog_err)?;
        self.transition(id, JobState::Completed, None)?;
        Ok(Outcome::Done)
    }

    /// A failure that may pass: the job stays RUNNING for the next tick, up to three ticks.
    fn retry_later(
        &self,
        id: &str,
        job: &JobRecord,
        point_id: &str,
        error: &str,
    ) -> Result<Outcome, String> {
        if job.attempts + 1 < super::TICKS_BEFORE_EXPIRED {
            self.update(
                id,
                JobUpdate {
                    error: Some(error.to_string()),
                    ..JobUpdate::default()
                },
            )?;
            return Ok(Outcome::Left);
        }
        let msg = format!(
            "could not move it to cold storage in {} ticks: {error}",
            super::TICKS_BEFORE_EXPIRED
        );
        self.catalog
            .borrow_mut()
            .change_point(
                point_id,
                &PointChange::StaysWarm {
                    reason: msg.clone(),
                },
            )
            .map_err(Self::catalog_err)?;
        self.transition(id, JobState::Failed, Some(&msg))?;
        Ok(Outcome::Done)
    }
}
