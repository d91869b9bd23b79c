//! Tests of the executor with a scripted provider, most with paused time.

use super::*;
use crate::catalog::{JobFilter, NewJob, PointFilter, SqliteCatalog};
use crate::inventory::ResourceType;
use crate::jobs::{JobOptions, Windows};
use crate::providers::{Deletion, Finished, ForeignSnapshot, Preflight};
use std::cell::Cell;

/// A copy a test's engine was asked for: the source's native id, the destination vault and
/// the copy's tags.
pub(super) type AskedCopy = (String, String, BTreeMap<String, String>);

/// An engine whose behaviour each test scripts.
#[derive(Default)]
pub(super) struct Fake {
    /// Errors `start` returns before it succeeds.
    pub(super) start_errors: RefCell<Vec<ProviderError>>,
    /// Polls that answer Pending before Done; `u32::MAX`: never done.
    pub(super) pending_polls: Cell<u32>,
    pub(super) started: Cell<u32>,
    pub(super) discarded: RefCell<Vec<String>>,
    pub(super) existing: Option<String>,
    pub(super) unreadable: Vec<String>,
    /// What `delete` answers, last first; when empty, it deletes.
    pub(super) deletions: RefCell<Vec<Result<Deletion, ProviderError>>>,
    /// The native ids `delete` was asked to delete.
    pub(super) deleted: RefCell<Vec<String>>,
    /// How many times `archive` was asked.
    pub(super) archived: Cell<u32>,
    /// What `tiering` answers, last first; when empty, in progress.
    pub(super) tierings: RefCell<Vec<crate::providers::Tiering>>,
    /// The copies asked for: (source native id, destination vault, tags).
    pub(super) copies: RefCell<Vec<AskedCopy>>,
    /// Errors `restore` returns before it succeeds (last first).
    pub(super) restore_errors: RefCell<Vec<ProviderError>>,
    /// The restore metadata each restore was asked with.
    pub(super) restores: RefCell<Vec<BTreeMap<String, String>>>,
    /// What `restored` answers, last first; when empty, ready.
    pub(super) restorings: RefCell<Vec<crate::providers::Restoring>>,
    /// Backups `start` (or copies `copy`) makes whose answer is then lost (a transient
    /// error, as a cut connection or a timeout gives), before it answers normally.
    pub(super) lost_answers: Cell<u32>,
    /// What `start` or `copy` made, which `find` finds by the job's tag.
    pub(super) made: RefCell<Option<String>>,
}

impl Provider for Fake {
    fn supports(&self, t: ResourceType) -> bool {
        t == ResourceType::EbsVolume
    }
    fn service(&self, _: &Resource) -> &'static str {
        "EC2"
    }
    async fn preflight(&self, _: &[&Resource]) -> Preflight {
        Preflight::default()
    }
    async fn find(&self, _: &Resource, _: &str, _: &str) -> Result<Option<String>, ProviderError> {
        Ok(self.existing.clone().or_else(|| self.made.borrow().clone()))
    }
    async fn start(
        &self,
        _: &Resource,
        _: &str,
        _: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        assert!(tags.contains_key("coffer:job"));
        if let Some(e) = self.start_errors.borrow_mut().pop() {
            return Err(e);
        }
        self.started.set(self.started.get() + 1);
        let made = format!("snap-{}", self.started.get());
        *self.made.borrow_mut() = Some(made.clone());
        if self.lost_answers.get() > 0 {
            self.lost_answers.set(self.lost_answers.get() - 1);
            return Err(ProviderError::transient(
                "ec2:CreateSnapshot: connection reset before the answer",
            ));
        }
        Ok(made)
    }
    async fn poll(&self, _: &Resource, _: &str, id: &str) -> Result<Progress, ProviderError> {
        let left = self.pending_polls.get();
        if left > 0 {
            if left != u32::MAX {
                self.pending_polls.set(left - 1);
            }
            return Ok(Progress::Pending { percent: Some(50) });
        }
        Ok(Progress::Done(Finished {
            native_id: id.into(),
            native_ids: vec![id.into()],
            size_bytes: Some(1 << 30),
            encrypted: false,
            kms_key: None,
            unreadable: self.unreadable.clone(),
        }))
    }
    async fn copy(
        &self,
        _: &Resource,
        source: &crate::providers::CopySource<'_>,
        vault: &str,
        _: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let mut copies = self.copies.borrow_mut();
        copies.push((source.native_id.into(), vault.into(), tags.clone()));
        let made = format!("copy-{}", copies.len());
        if self.lost_answers.get() > 0 {
            self.lost_answers.set(self.lost_answers.get() - 1);
            *self.made.borrow_mut() = Some(made);
            return Err(ProviderError::transient(
                "ec2:CopySnapshot: connection reset before the answer",
            ));
        }
        Ok(made)
    }
    async fn restore(
        &self,
        _: &Resource,
        req: &crate::providers::RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        assert_eq!(req.tags[crate::providers::aws::RESTORE_JOB_TAG], req.job_id);
        if let Some(e) = self.restore_errors.borrow_mut().pop() {
            return Err(e);
        }
        let mut restores = self.restores.borrow_mut();
        restores.push(req.metadata.clone());
        Ok(format!("vol-restored-{}", restores.len()))
    }
    async fn restored(
        &self,
        _: &Resource,
        _: &crate::providers::RestoreRequest<'_>,
        created: &str,
    ) -> Result<crate::providers::Restoring, ProviderError> {
        Ok(self
            .restorings
            .borrow_mut()
            .pop()
            .unwrap_or(crate::providers::Restoring::Ready {
                arn: format!("arn:aws:ec2:us-east-1:1:volume/{created}"),
                endpoint: None,
                port: None,
            }))
    }
    async fn discard_restored(
        &self,
        _: &Resource,
        _: &crate::providers::RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        self.discarded.borrow_mut().push(created.into());
        Ok(())
    }
    async fn exists(&self, _: &Resource, _: &str, id: &str) -> Result<bool, ProviderError> {
        Ok(!self.discarded.borrow().iter().any(|d| d == id))
    }
    async fn discard(&self, _: &Resource, _: &str, id: &str) -> Result<(), ProviderError> {
        self.discarded.borrow_mut().push(id.into());
        Ok(())
    }
    async fn archive(
        &self,
        _: &Resource,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<crate::providers::Archiving, ProviderError> {
        self.archived.set(self.archived.get() + 1);
        Ok(crate::providers::Archiving::Started)
    }
    async fn tiering(
        &self,
        _: &Resource,
        _: &str,
        _: &str,
    ) -> Result<crate::providers::Tiering, ProviderError> {
        Ok(self
            .tierings
            .borrow_mut()
            .pop()
            .unwrap_or(crate::providers::Tiering::InProgress))
    }
    async fn delete(
        &self,
        _: &Resource,
        _: &str,
        id: &str,
        _: &str,
    ) -> Result<Deletion, ProviderError> {
        self.deleted.borrow_mut().push(id.into());
        self.deletions
            .borrow_mut()
            .pop()
            .unwrap_or(Ok(Deletion::Deleted { notes: Vec::new() }))
    }
    async fn prune(
        &self,
        _: &str,
        _: u8,
    ) -> Result<Option<crate::providers::Pruned>, ProviderError> {
        Ok(None)
    }
    async fn foreign_snapshots(
        &self,
        _: &[&Resource],
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        Ok(Vec::new())
    }
}

pub(super) const ARN: &str = "arn:aws:ec2:us-east-1:1:volume/vol-1";

/// Runs one job for `ARN` whose windows close `start_secs` / `complete_secs` from now.
async fn run_one(
    engine: &Fake,
    start_secs: i64,
    complete_secs: i64,
    was_running: bool,
) -> (crate::catalog::JobRecord, SqliteCatalog, tempfile::TempDir) {
    let settings = Settings {
        poll_interval: std::time::Duration::from_millis(20),
        retry_base: std::time::Duration::from_millis(10),
        ..Settings::default()
    };
    run_one_with(
        engine,
        start_secs,
        complete_secs,
        was_running,
        settings,
        None,
    )
    .await
}

/// [`run_one`] with these settings, told to stop `stop_after` after it began, if given.
async fn run_one_with(
    engine: &Fake,
    start_secs: i64,
    complete_secs: i64,
    was_running: bool,
    settings: Settings,
    stop_after: Option<std::time::Duration>,
) -> (crate::catalog::JobRecord, SqliteCatalog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = RefCell::new(SqliteCatalog::open(&dir.path().join("c.db")).unwrap());
    let clock = Clock::system();
    let now = clock.now();
    let job = catalog
        .borrow_mut()
        .create_job(
            &NewJob {
                kind: JobKind::Backup,
                plan: Some("plan.daily".into()),
                rule: Some("plan.daily.rule.nightly".into()),
                resource_arn: ARN.into(),
                vault: "main".into(),
                windows: Windows {
                    scheduled_at: now,
                    start_by: now + chrono::Duration::seconds(start_secs),
                    complete_by: now + chrono::Duration::seconds(complete_secs),
                },
                options: JobOptions {
                    delete_after: Some("35d".into()),
                    ..JobOptions::default()
                },
                recovery_point_id: None,
                source_recovery_point_id: None,
            },
            now,
        )
        .unwrap()
        .unwrap();
    let job = if was_running {
        // a process that died after the job became RUNNING
        catalog
            .borrow_mut()
            .transition_job(&job.id, JobState::Running, now, None)
            .unwrap()
    } else {
        job
    };
    let inventory = Inventory::new(vec![Resource::new(
        ARN,
        ResourceType::EbsVolume,
        "us-east-1",
        "1",
    )]);
    let stop = AtomicBool::new(false);
    let events = RefCell::new(Vec::new());
    let report = |e: Event| events.borrow_mut().push(format!("{e:?}"));
    let exec = Executor {
        provider: engine,
        catalog: &catalog,
        inventory: &inventory,
        settings: &settings,
        clock,
        stop: &stop,
        report: &report,
        policies: &Default::default(),
        halted: Default::default(),
    };
    let stopper = async {
        if let Some(after) = stop_after {
            tokio::time::sleep(after).await;
            stop.store(true, Ordering::SeqCst);
        }
    };
    let refused = BTreeMap::new();
    let (ran, ()) = tokio::join!(exec.run_all(vec![job.clone()], &refused), stopper);
    ran.unwrap();
    let back = catalog.borrow().job(&job.id).unwrap().unwrap();
    let reopened = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
    (back, reopened, dir)
}

fn states(j: &crate::catalog::JobRecord) -> Vec<JobState> {
    j.history.transitions.iter().map(|(s, _)| *s).collect()
}

#[tokio::test]
async fn a_job_runs_to_completion_and_records_its_point() {
    let engine = Fake {
        pending_polls: Cell::new(2),
        ..Fake::default()
    };
    let (job, catalog, _dir) = run_one(&engine, 60, 600, false).await;
    use JobState::*;
    assert_eq!(states(&job), [Created, Pending, Running, Completed]);
    assert_eq!(job.native_ids, ["snap-1"]);
    assert_eq!(job.attempts, 1);
    let points = catalog.recovery_points(&PointFilter::default()).unwrap();
    assert_eq!(points.len(), 1);
    let p = &points[0].point;
    assert_eq!(p.job_id.as_deref(), Some(job.id.as_str()));
    assert_eq!(p.tags["coffer:rule"], "nightly");
    assert_eq!(p.tags["coffer:plan"], "daily");
    let done = p.completed_at.unwrap();
    // lifecycle counts from creation (when the backup started), not completion
    assert!(done > p.created_at, "the point took time to complete");
    assert_eq!(p.delete_at, Some(p.created_at + chrono::Duration::days(35)));
    assert_eq!(
        job.job.recovery_point_id.as_deref(),
        Some(points[0].id.as_str())
    );
}

#[tokio::test]
async fn transient_errors_are_retried_and_counted() {
    let engine = Fake {
        start_errors: RefCell::new(vec![
            ProviderError::transient("RequestLimitExceeded"),
            ProviderError::transient("RequestLimitExceeded"),
        ]),
        ..Fake::default()
    };
    let (job, _, _dir) = run_one(&engine, 60, 600, false).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(job.attempts, 3);
}

/// Found by the 1,000-job worker test: a backup whose answer was lost (the request reached
/// AWS, the connection did not bring the answer back) is looked for by its tag before the
/// retry asks again, and adopted: one snapshot, not two.
#[tokio::test]
async fn a_backup_whose_answer_was_lost_is_adopted_by_the_retry_not_made_again() {
    let engine = Fake {
        lost_answers: Cell::new(1),
        ..Fake::default()
    };
    let (job, _, _dir) = run_one(&engine, 60, 600, false).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(engine.started.get(), 1, "asked for once");
    assert_eq!(job.native_ids, ["snap-1"]);
}

#[tokio::test]
async fn permanent_errors_fail_the_job_with_the_message() {
    let engine = Fake {
        start_errors: RefCell::new(vec![ProviderError::permanent(
            "ec2:CreateSnapshot failed: InvalidVolume.NotFound",
        )]),
        ..Fake::default()
    };
    let (job, catalog, _dir) = run_one(&engine, 60, 600, false).await;
    assert_eq!(job.state(), JobState::Failed);
    assert!(job.error.unwrap().contains("InvalidVolume.NotFound"));
    assert!(catalog
        .recovery_points(&PointFilter::default())
        .unwrap()
        .is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_job_past_its_complete_by_time_is_aborted_and_cleaned_up() {
    let engine = Fake {
        pending_polls: Cell::new(u32::MAX),
        ..Fake::default()
    };
    let (job, _, _dir) = run_one(&engine, 1, 1, false).await;
    use JobState::*;
    assert_eq!(states(&job), [Created, Pending, Running, Aborting, Aborted]);
    assert_eq!(*engine.discarded.borrow(), ["snap-1"]);
    assert!(job
        .error
        .unwrap()
        .contains("the unfinished snap-1 was deleted"));
}

#[tokio::test]
async fn unreadable_files_end_the_job_partial_with_their_names() {
    let engine = Fake {
        unreadable: vec!["/data/secret.key".into(), "/data/locked.db".into()],
        ..Fake::default()
    };
    let (job, catalog, _dir) = run_one(&engine, 60, 600, false).await;
    assert_eq!(job.state(), JobState::Partial);
    assert_eq!(
            job.error.as_deref(),
            Some("2 files could not be read and are not in the recovery point: /data/secret.key, /data/locked.db")
        );
    // what was read is still a recovery point
    assert_eq!(
        catalog
            .recovery_points(&PointFilter::default())
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_fresh_job_does_not_look_for_an_earlier_attempt() {
    // `existing` would be adopted if the runner looked; a job that never ran must not
    let engine = Fake {
        existing: Some("snap-not-ours".into()),
        ..Fake::default()
    };
    let (job, _, _dir) = run_one(&engine, 60, 600, false).await;
    assert_eq!(job.native_ids, ["snap-1"]);
}

#[tokio::test]
async fn a_resumed_job_that_never_got_its_request_through_asks_now() {
    let engine = Fake::default();
    let (job, _, _dir) = run_one(&engine, 60, 600, true).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(engine.started.get(), 1);
}

#[tokio::test]
async fn a_job_past_its_start_by_time_expires_without_starting() {
    let engine = Fake::default();
    let (job, _, _dir) = run_one(&engine, -1, 600, false).await;
    assert_eq!(states(&job), [JobState::Created, JobState::Expired]);
    assert_eq!(engine.started.get(), 0);
}

#[tokio::test]
async fn what_an_earlier_attempt_made_is_adopted_not_made_again() {
    let engine = Fake {
        existing: Some("snap-earlier".into()),
        ..Fake::default()
    };
    let (job, catalog, _dir) = run_one(&engine, 60, 600, true).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(engine.started.get(), 0);
    assert_eq!(job.native_ids, ["snap-earlier"]);
    assert_eq!(catalog.jobs(&JobFilter::default()).unwrap().len(), 1);
}

/// Issue 11, defect 5: Ctrl-C or SIGTERM (the stop flag) cuts a retry's sleep and a poll's
/// sleep short, within a second, and leaves the job for the next tick instead of failing it.
#[tokio::test(start_paused = true)]
async fn stopping_interrupts_retry_and_poll_sleeps_within_a_second() {
    let slow = Settings {
        poll_interval: std::time::Duration::from_secs(15 * 60),
        retry_base: std::time::Duration::from_secs(5 * 60),
        ..Settings::default()
    };
    let stop_after = Some(std::time::Duration::from_secs(3));

    let throttled = Fake {
        start_errors: RefCell::new(vec![ProviderError::transient("RequestLimitExceeded")]),
        ..Fake::default()
    };
    let began = tokio::time::Instant::now();
    let (job, _, _dir) =
        run_one_with(&throttled, 3600, 7200, false, slow.clone(), stop_after).await;
    let took = began.elapsed();
    assert!(
        took < std::time::Duration::from_secs(4),
        "the retry sleep of 5 minutes ended {took:?} after the start"
    );
    assert_eq!(job.state(), JobState::Running, "left for the next tick");
    assert_eq!(throttled.started.get(), 0);
    assert_eq!(job.attempts, 1);

    let pending = Fake {
        pending_polls: Cell::new(u32::MAX),
        ..Fake::default()
    };
    let began = tokio::time::Instant::now();
    let (job, _, _dir) = run_one_with(&pending, 3600, 7200, false, slow, stop_after).await;
    let took = began.elapsed();
    assert!(
        took < std::time::Duration::from_secs(4),
        "the poll sleep of 15 minutes ended {took:?} after the start"
    );
    assert_eq!(job.state(), JobState::Running);
    assert_eq!(job.native_ids, ["snap-1"], "what was started is recorded");
}
