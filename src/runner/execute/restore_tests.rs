//! Tests of restore jobs of AWS points with a scripted provider and paused time: a restore runs
//! to its new resource, named after the job; a wait (an archived snapshot coming back) longer
//! than a tick's budget leaves the job RUNNING for the next tick instead of failing it; and a
//! restore whose new resource fails has it deleted.

use super::tests::{Fake, ARN};
use super::*;
use crate::catalog::{NewJob, NewRecoveryPoint, SqliteCatalog};
use crate::inventory::ResourceType;
use crate::jobs::{JobOptions, Windows};
use crate::providers::Restoring;
use crate::runner::Settings;

struct Setup {
    catalog: RefCell<SqliteCatalog>,
    job: JobRecord,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
    let mut p = NewRecoveryPoint::minimal("main", "snap-1", ARN, "EBS", Utc::now());
    p.job_id = Some("job-made".into());
    let point = catalog.add_recovery_point(&p).unwrap();
    let now = Utc::now();
    let job = catalog
        .create_job(
            &NewJob {
                kind: JobKind::Restore,
                plan: None,
                rule: None,
                resource_arn: ARN.into(),
                vault: "main".into(),
                windows: Windows::on_demand(now),
                options: JobOptions {
                    restore: [("volumeSize".to_string(), "5".to_string())].into(),
                    ..JobOptions::default()
                },
                recovery_point_id: Some(point),
                source_recovery_point_id: None,
            },
            now,
        )
        .unwrap()
        .unwrap();
    Setup {
        catalog: RefCell::new(catalog),
        job,
        _dir: dir,
    }
}

impl Setup {
    async fn run(&self, engine: &Fake) -> JobRecord {
        let settings = Settings {
            retry_base: std::time::Duration::from_secs(1),
            poll_interval: std::time::Duration::from_secs(30),
            delete_retry_for: std::time::Duration::from_secs(120),
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
            policies: &Default::default(),
            halted: Default::default(),
        };
        let current = self.catalog.borrow().job(&self.job.id).unwrap().unwrap();
        exec.run_all(vec![current], &BTreeMap::new()).await.unwrap();
        self.catalog.borrow().job(&self.job.id).unwrap().unwrap()
    }
}

fn states(j: &JobRecord) -> Vec<JobState> {
    j.history.transitions.iter().map(|(s, _)| *s).collect()
}

#[tokio::test(start_paused = true)]
async fn a_restore_creates_its_resource_with_the_jobs_metadata() {
    let s = setup();
    let engine = Fake::default();
    let job = s.run(&engine).await;
    use JobState::*;
    assert_eq!(states(&job), [Created, Pending, Running, Completed]);
    assert_eq!(
        job.created_resource_arn.as_deref(),
        Some("arn:aws:ec2:us-east-1:1:volume/vol-restored-1")
    );
    assert_eq!(job.native_ids, ["vol-restored-1"]);
    assert_eq!(engine.restores.borrow()[0]["volumeSize"], "5");
}

#[tokio::test(start_paused = true)]
async fn a_wait_longer_than_a_ticks_budget_leaves_the_restore_for_the_next_tick() {
    let s = setup();
    let engine = Fake::default();
    // the snapshot comes back from the archive tier after many tries
    for _ in 0..20 {
        engine
            .restore_errors
            .borrow_mut()
            .push(ProviderError::transient(
                "snapshot snap-1 is being restored to the standard tier",
            ));
    }
    let job = s.run(&engine).await;
    assert_eq!(job.state(), JobState::Running, "left, not failed");
    assert!(job.error.as_deref().unwrap().contains("standard tier"));
    assert!(engine.restores.borrow().is_empty());
    // the next tick carries on until it is back, then restores
    engine.restore_errors.borrow_mut().truncate(2);
    let job = s.run(&engine).await;
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(engine.restores.borrow().len(), 1, "asked once it was back");
}

#[tokio::test(start_paused = true)]
async fn a_restored_resource_that_fails_is_deleted() {
    let s = setup();
    let engine = Fake::default();
    engine
        .restorings
        .borrow_mut()
        .push(Restoring::Failed("volume vol-restored-1 is error".into()));
    let job = s.run(&engine).await;
    assert_eq!(job.state(), JobState::Failed);
    assert!(
        job.error
            .as_deref()
            .unwrap()
            .contains("vol-restored-1 was deleted"),
        "{:?}",
        job.error
    );
    assert_eq!(*engine.discarded.borrow(), ["vol-restored-1"]);
}
