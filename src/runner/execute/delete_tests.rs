//! Tests of delete and cold jobs with a scripted provider and paused time: what is recorded for a
//! deletion, an object already gone, an object coffer did not make, failures across ticks,
//! a hold that came after the job, and an archiving that outlasts a tick.

use super::super::tests::{Fake, ARN};
use super::super::*;
use crate::catalog::{NewJob, NewRecoveryPoint, RecoveryPoint, SqliteCatalog};
use crate::inventory::ResourceType;
use crate::jobs::lifecycle::{Hold, Policies};
use crate::jobs::{DeletedBy, JobOptions, PointStatus, Windows};
use crate::providers::Deletion;
use crate::runner::Settings;

struct Setup {
    catalog: RefCell<SqliteCatalog>,
    point: String,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
    let mut p = NewRecoveryPoint::minimal(
        "main",
        "snap-1",
        ARN,
        "ebs_volume",
        Utc::now() - chrono::Duration::days(40),
    );
    p.job_id = Some("job-made".into());
    p.rule = Some("plan.daily.rule.nightly".into());
    let point = catalog.add_recovery_point(&p).unwrap();
    Setup {
        catalog: RefCell::new(catalog),
        point,
        _dir: dir,
    }
}

impl Setup {
    fn cold_job(&self) -> JobRecord {
        let now = Utc::now();
        self.catalog
            .borrow_mut()
            .create_job(
                &NewJob {
                    kind: JobKind::Cold,
                    plan: None,
                    rule: Some("plan.daily.rule.nightly".into()),
                    resource_arn: ARN.into(),
                    vault: "main".into(),
                    windows: Windows::on_demand(now),
                    options: JobOptions::default(),
                    recovery_point_id: Some(self.point.clone()),
                    source_recovery_point_id: None,
                },
                now,
            )
            .unwrap()
            .expect("created")
    }

    fn delete_job(&self, by: DeletedBy) -> JobRecord {
        let now = Utc::now();
        self.catalog
            .borrow_mut()
            .create_job(
                &NewJob {
                    kind: JobKind::Delete,
                    plan: None,
                    rule: Some("plan.daily.rule.nightly".into()),
                    resource_arn: ARN.into(),
                    vault: "main".into(),
                    windows: Windows::on_demand(now),
                    options: JobOptions {
                        deleted_by: Some(by),
                        ..JobOptions::default()
                    },
                    recovery_point_id: Some(self.point.clone()),
                    source_recovery_point_id: None,
                },
                now,
            )
            .unwrap()
            .expect("created")
    }

    /// Runs `job` once (one tick's attempt) and returns it and its point as recorded.
    async fn run(
        &self,
        engine: &Fake,
        job: &JobRecord,
        policies: &Policies,
    ) -> (JobRecord, RecoveryPoint) {
        let settings = Settings {
            retry_base: std::time::Duration::from_millis(10),
            delete_retry_for: std::time::Duration::from_secs(1),
            ..Settings::default()
        };
        let inventory = Inventory::new(vec![Resource::new(
            ARN,
            ResourceType::EbsVolume,
            "us-east-1",
            "1",
        )]);
        let stop = AtomicBool::new(false);
        let report = |_: Event| {};
        let exec = Executor {
            provider: engine,
            catalog: &self.catalog,
            inventory: &inventory,
            settings: &settings,
            clock: Clock::system(),
            stop: &stop,
            report: &report,
            policies,
            halted: Default::default(),
        };
        let current = self.catalog.borrow().job(&job.id).unwrap().unwrap();
        exec.run_all(vec![current], &BTreeMap::new()).await.unwrap();
        let c = self.catalog.borrow();
        (
            c.job(&job.id).unwrap().unwrap(),
            c.recovery_point(&self.point).unwrap().unwrap(),
        )
    }
}

#[tokio::test(start_paused = true)]
async fn a_deletion_is_recorded_with_its_reason() {
    let s = setup();
    let engine = Fake::default();
    let job = s.delete_job(DeletedBy::Retention);
    let (job, point) = s.run(&engine, &job, &Policies::default()).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(*engine.deleted.borrow(), ["snap-1"]);
    assert_eq!(point.status, PointStatus::Deleted);
    assert_eq!(point.deleted_by, Some(DeletedBy::Retention));
    assert!(point.deleted_at.is_some());
}

#[tokio::test(start_paused = true)]
async fn an_object_already_gone_was_deleted_outside_unless_the_job_had_asked() {
    let s = setup();
    let engine = Fake::default();
    engine
        .deletions
        .borrow_mut()
        .push(Ok(Deletion::Gone { notes: Vec::new() }));
    let job = s.delete_job(DeletedBy::Lifecycle);
    let (job, point) = s.run(&engine, &job, &Policies::default()).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(point.deleted_by, Some(DeletedBy::Outside));
    assert!(job.warning.unwrap().contains("deleted outside coffer"));

    // a job left RUNNING by a coffer that died after asking: the deletion is its own
    let s = setup();
    let job = s.delete_job(DeletedBy::Lifecycle);
    let now = Utc::now();
    for to in [JobState::Pending, JobState::Running] {
        s.catalog
            .borrow_mut()
            .transition_job(&job.id, to, now, None)
            .unwrap();
    }
    engine
        .deletions
        .borrow_mut()
        .push(Ok(Deletion::Gone { notes: Vec::new() }));
    let (job, point) = s.run(&engine, &job, &Policies::default()).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(point.deleted_by, Some(DeletedBy::Lifecycle));
}

#[tokio::test(start_paused = true)]
async fn an_object_without_the_job_tag_is_left_and_the_point_expires() {
    let s = setup();
    let engine = Fake::default();
    engine.deletions.borrow_mut().push(Ok(Deletion::NotOurs(
        "snapshot snap-1 does not carry the tag".into(),
    )));
    let job = s.delete_job(DeletedBy::Lifecycle);
    let (job, point) = s.run(&engine, &job, &Policies::default()).await;
    assert_eq!(job.state(), JobState::Failed);
    assert_eq!(point.status, PointStatus::Expired);
    assert_eq!(
        point.status_message.as_deref(),
        Some("snapshot snap-1 does not carry the tag")
    );
    let later = Utc::now() + chrono::Duration::days(30);
    assert!(
        s.catalog.borrow().retry_due(later).unwrap().is_empty(),
        "a foreign object is not tried again"
    );
}

#[tokio::test(start_paused = true)]
async fn a_deletion_that_keeps_failing_expires_after_three_ticks_and_is_retried_daily() {
    let s = setup();
    let engine = Fake::default();
    let job = s.delete_job(DeletedBy::Lifecycle);
    for tick in 1..=TICKS_BEFORE_EXPIRED {
        // every call of the tick fails: throttled until its retries run out
        engine.deletions.borrow_mut().extend(
            (0..50).map(|_| Err(ProviderError::transient("InvalidSnapshot.InUse: in use"))),
        );
        let (job, point) = s.run(&engine, &job, &Policies::default()).await;
        engine.deletions.borrow_mut().clear();
        assert_eq!(job.attempts, tick);
        if tick < TICKS_BEFORE_EXPIRED {
            assert_eq!(job.state(), JobState::Running, "tick {tick}");
            assert_eq!(point.status, PointStatus::Completed);
            assert!(job.error.unwrap().contains("attempt"));
        } else {
            assert_eq!(job.state(), JobState::Failed);
            assert_eq!(point.status, PointStatus::Expired);
            assert!(point.status_message.unwrap().contains("in use"));
        }
    }
    let c = s.catalog.borrow();
    assert!(c.retry_due(Utc::now()).unwrap().is_empty());
    let due = c.retry_due(Utc::now() + chrono::Duration::days(2)).unwrap();
    assert_eq!(due.len(), 1, "tried again a day later");
}

#[tokio::test(start_paused = true)]
async fn a_hold_placed_after_the_job_was_created_stops_it() {
    let s = setup();
    let engine = Fake::default();
    let job = s.delete_job(DeletedBy::Lifecycle);
    let policies = Policies {
        holds: vec![Hold {
            name: "audit".into(),
            vaults: vec!["main".into()],
            resources: vec![],
            created_from: None,
            created_to: None,
        }],
        ..Policies::default()
    };
    let (job, point) = s.run(&engine, &job, &policies).await;
    assert_eq!(job.state(), JobState::Failed);
    assert!(job.error.unwrap().contains("legal hold audit"));
    assert!(engine.deleted.borrow().is_empty(), "nothing was asked");
    assert_eq!(point.status, PointStatus::Completed);
}

#[tokio::test(start_paused = true)]
async fn a_long_archiving_is_left_running_and_finished_by_a_later_tick() {
    let s = setup();
    let engine = Fake::default();
    let job = s.cold_job();
    let (job, point) = s.run(&engine, &job, &Policies::default()).await;
    assert_eq!(
        job.state(),
        JobState::Running,
        "still archiving when the tick moved on"
    );
    assert_eq!(point.storage_class, crate::jobs::StorageClass::Warm);
    engine
        .tierings
        .borrow_mut()
        .push(crate::providers::Tiering::Completed);
    let (job, point) = s.run(&engine, &job, &Policies::default()).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(point.storage_class, crate::jobs::StorageClass::Cold);
    assert_eq!(
        engine.archived.get(),
        2,
        "each tick asks the provider, which follows a request under way rather than repeating it"
    );
}
