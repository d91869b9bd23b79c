//! Executing a delete job: the point's native object is deleted through its type's provider,
//! only if it carries the point's `coffer:job` tag and no lock or hold protects it at that
//! moment. Transient errors are retried with doubling delays for a while; a deletion that
//! still fails stays RUNNING for the next tick, and after three ticks the point becomes
//! EXPIRED with the error and is tried again daily. An object already gone is recorded as
//! deleted from outside, unless the job had already asked (a crash between the request and
//! its record), when the deletion is the job's own.

use super::{Executor, Outcome};
use crate::catalog::{JobRecord, JobUpdate, PointChange};
use crate::failpoint;
use crate::jobs::{DeletedBy, JobState, PointStatus};
use crate::providers::{Deletion, Provider};
use tokio::sync::Semaphore;

#[cfg(test)]
#[path = "delete_tests.rs"]
mod tests;

/// Ticks a failing deletion is tried in before its point becomes EXPIRED.
pub const TICKS_BEFORE_EXPIRED: u32 = 3;

impl<'a, E: Provider> Executor<'a, E> {
    pub(super) async fn run_delete(
        &self,
        job: JobRecord,
        global: &Semaphore,
        services: &std::collections::BTreeMap<String, Semaphore>,
    ) -> Result<Outcome, String> {
        let id = job.id.clone();
        let by = job.job.options.deleted_by.unwrap_or(DeletedBy::Lifecycle);
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
        if point.status == PointStatus::Deleted {
            return self.end(&id, JobState::Completed, None);
        }
        if let Some(refused) = self.policies.deletion_refused(&point, self.clock.now()) {
            return self.end(
                &id,
                JobState::Failed,
                Some(&format!("not deleted: {refused}")),
            );
        }
        let Some(made_by) = point.point.job_id.clone() else {
            let msg = format!(
                "{point_id} records no coffer job, so coffer cannot tell that it made {}; it is left alone",
                point.point.native_id
            );
            self.catalog
                .borrow_mut()
                .change_point(
                    &point_id,
                    &PointChange::Expired {
                        reason: msg.clone(),
                        retry_at: None,
                    },
                )
                .map_err(Self::catalog_err)?;
            return self.end(&id, JobState::Failed, Some(&msg));
        };
        let resource = self
            .inventory
            .get(&point.point.resource_arn)
            .cloned()
            .or_else(|| point.source_resource());
        let Some(resource) = resource.filter(|r| self.provider.supports(r.resource_type)) else {
            let msg = format!(
                "coffer cannot delete {} recovery points here",
                point.point.resource_type
            );
            return self.end(&id, JobState::Failed, Some(&msg));
        };

        let state = job.state();
        let _global = global.acquire().await.map_err(|e| e.to_string())?;
        let _service = match services.get(self.provider.service(&resource)) {
            Some(s) => Some(s.acquire().await.map_err(|e| e.to_string())?),
            None => None,
        };
        if self.stopping() {
            return Ok(Outcome::Left);
        }
        // A job that was RUNNING may have asked already: what it finds gone is its own work.
        // A deletion waits for nothing, so it goes from CREATED straight to RUNNING.
        let resumed = state == JobState::Running;
        if state != JobState::Running {
            self.transition(&id, JobState::Running, None)?;
        }
        let attempts = job.attempts + 1;
        self.update(
            &id,
            JobUpdate {
                attempts: Some(attempts),
                native_ids: Some(vec![point.point.native_id.clone()]),
                ..JobUpdate::default()
            },
        )?;
        let deadline = self.clock.now()
            + chrono::Duration::from_std(self.settings.delete_retry_for)
                .unwrap_or(chrono::Duration::zero());
        let (deleted, _) = self
            .retrying(deadline, || {
                self.provider.delete(
                    &resource,
                    &point.point.vault,
                    &point.point.native_id,
                    &made_by,
                )
            })
            .await;
        failpoint::abort_at("after-delete-request");
        let now = self.clock.now();
        let record = |change: PointChange| {
            self.catalog
                .borrow_mut()
                .change_point(&point_id, &change)
                .map_err(Self::catalog_err)
        };
        let noted = |notes: Vec<String>| -> Result<(), String> {
            if notes.is_empty() {
                return Ok(());
            }
            self.update(
                &id,
                JobUpdate {
                    warning: Some(notes.join("; ")),
                    ..JobUpdate::default()
                },
            )
        };
        match deleted {
            Ok(Deletion::Deleted { notes }) => {
                record(PointChange::Deleted { at: now, by })?;
                noted(notes)?;
                self.transition(&id, JobState::Completed, None)?;
                Ok(Outcome::Done)
            }
            Ok(Deletion::Gone { mut notes }) => {
                let by = if resumed { by } else { DeletedBy::Outside };
                if by == DeletedBy::Outside {
                    notes.insert(
                        0,
                        format!(
                            "{} was already gone: deleted outside coffer",
                            point.point.native_id
                        ),
                    );
                }
                record(PointChange::Deleted { at: now, by })?;
                noted(notes)?;
                self.end(&id, JobState::Completed, None)
            }
            Ok(Deletion::NotOurs(msg)) => {
                record(PointChange::Expired {
                    reason: msg.clone(),
                    retry_at: None,
                })?;
                self.end(&id, JobState::Failed, Some(&msg))
            }
            Err(e) if self.left_by_stop(&e) => Ok(Outcome::Left),
            Err(e) if attempts < TICKS_BEFORE_EXPIRED => {
                // tried again at the next tick
                self.update(
                    &id,
                    JobUpdate {
                        error: Some(format!(
                            "attempt {attempts} of {TICKS_BEFORE_EXPIRED} failed: {}",
                            e.message
                        )),
                        ..JobUpdate::default()
                    },
                )?;
                (self.report)(super::Event::Warning(format!(
                    "{id}: deleting {} failed, to be tried again at the next tick: {}",
                    point.point.native_id, e.message
                )));
                Ok(Outcome::Left)
            }
            Err(e) => {
                let msg = format!(
                    "could not delete {} in {TICKS_BEFORE_EXPIRED} ticks: {}",
                    point.point.native_id, e.message
                );
                record(PointChange::Expired {
                    reason: msg.clone(),
                    retry_at: Some(now + chrono::Duration::days(1)),
                })?;
                self.end(&id, JobState::Failed, Some(&msg))
            }
        }
    }

    /// Moves a job to a terminal state; one not yet RUNNING reaches COMPLETED through
    /// RUNNING, as the state machine wants.
    pub(super) fn end(
        &self,
        id: &str,
        to: JobState,
        error: Option<&str>,
    ) -> Result<Outcome, String> {
        if to == JobState::Completed {
            let state = self
                .catalog
                .borrow()
                .job(id)
                .map_err(Self::catalog_err)?
                .map(|j| j.state());
            if state.is_some_and(|s| s != JobState::Running) {
                self.transition(id, JobState::Running, None)?;
            }
        }
        self.transition(id, to, error)?;
        Ok(Outcome::Done)
    }
}
