//! Tests of copy jobs with a scripted provider and paused time: a completed backup creates
//! its copies once, a copy becomes a point of the destination that keeps its source's
//! creation time, a copy an earlier attempt asked for is adopted, a copy not finished in its
//! window fails and what it made is deleted, and cold points are not copied.

use super::tests::{Fake, ARN};
use super::*;
use crate::catalog::{JobFilter, NewJob, NewRecoveryPoint, PointChange, SqliteCatalog};
use crate::inventory::ResourceType;
use crate::jobs::{CopyOptions, JobOptions, StorageClass, Windows};
use crate::runner::Settings;
use std::cell::Cell;

struct Setup {
    catalog: RefCell<SqliteCatalog>,
    /// A completed point of ARN in vault `main`, made 2 days ago.
    source: String,
    created: DateTime<Utc>,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
    let created = Utc::now() - chrono::Duration::days(2);
    let mut p = NewRecoveryPoint::minimal("main", "snap-1", ARN, "ebs_volume", created);
    p.job_id = Some("job-made".into());
    p.encrypted = true;
    let source = catalog.add_recovery_point(&p).unwrap();
    Setup {
        catalog: RefCell::new(catalog),
        source,
        created,
        _dir: dir,
    }
}

fn copies(vault: &str) -> Vec<CopyOptions> {
    vec![CopyOptions {
        vault: vault.into(),
        window: "2h".into(),
        cold_storage_after: None,
        delete_after: Some("30d".into()),
        opt_in_to_archive: false,
    }]
}

impl Setup {
    /// A copy job of the source into `dr` as its rule would create it, its window closing
    /// `window` from now.
    fn copy_job(&self, window: chrono::Duration) -> Option<JobRecord> {
        let now = Utc::now();
        self.catalog
            .borrow_mut()
            .create_job(
                &NewJob {
                    kind: JobKind::Copy,
                    plan: Some("plan.daily".into()),
                    rule: Some("plan.daily.rule.nightly".into()),
                    resource_arn: ARN.into(),
                    vault: "dr".into(),
                    windows: Windows {
                        scheduled_at: now,
                        start_by: now + window,
                        complete_by: now + window,
                    },
                    options: copies("dr")[0]
                        .job_options(&BTreeMap::from([("Team".to_string(), "ops".to_string())])),
                    recovery_point_id: None,
                    source_recovery_point_id: Some(self.source.clone()),
                },
                now,
            )
            .unwrap()
    }

    async fn run(&self, engine: &Fake, jobs: Vec<JobRecord>) {
        let settings = Settings {
            retry_base: std::time::Duration::from_millis(10),
            poll_interval: std::time::Duration::from_secs(60),
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
        exec.run_all(jobs, &BTreeMap::new()).await.unwrap();
    }

    fn job(&self, id: &str) -> JobRecord {
        self.catalog.borrow().job(id).unwrap().unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn a_copy_becomes_a_point_of_the_destination_that_keeps_its_sources_creation_time() {
    let s = setup();
    let engine = Fake::default();
    let job = s.copy_job(chrono::Duration::hours(2)).expect("created");
    s.run(&engine, vec![job.clone()]).await;
    let job = s.job(&job.id);
    use JobState::*;
    let states: Vec<JobState> = job.history.transitions.iter().map(|(s, _)| *s).collect();
    assert_eq!(states, [Created, Pending, Running, Completed]);
    let asked = engine.copies.borrow();
    assert_eq!(asked.len(), 1);
    let (source_native, vault, tags) = &asked[0];
    assert_eq!((source_native.as_str(), vault.as_str()), ("snap-1", "dr"));
    assert_eq!(tags["coffer:vault"], "dr");
    assert_eq!(tags[crate::jobs::JOB_TAG], job.id);
    assert_eq!(tags["Team"], "ops", "the rule's recovery_point_tags");
    let copy = s
        .catalog
        .borrow()
        .recovery_point(job.job.recovery_point_id.as_deref().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(copy.point.vault, "dr");
    assert_eq!(copy.point.native_id, "copy-1");
    assert_eq!(
        copy.point.source_recovery_point_id.as_deref(),
        Some(s.source.as_str())
    );
    assert_eq!(copy.point.job_id.as_deref(), Some(job.id.as_str()));
    assert_eq!(copy.point.created_at, s.created);
    assert_eq!(
        copy.point.delete_at,
        Some(s.created + chrono::Duration::days(30))
    );
    assert!(
        copy.point.encrypted,
        "a copy of an encrypted point is encrypted"
    );
    // a rule's copy of a point into a vault is made once
    assert!(s.copy_job(chrono::Duration::hours(2)).is_none());
}

#[tokio::test(start_paused = true)]
async fn a_completed_backup_creates_its_copies_once_before_it_is_completed() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = RefCell::new(SqliteCatalog::open(&dir.path().join("c.db")).unwrap());
    let now = Utc::now();
    let backup = catalog
        .borrow_mut()
        .create_job(
            &NewJob {
                kind: JobKind::Backup,
                plan: Some("plan.daily".into()),
                rule: Some("plan.daily.rule.nightly".into()),
                resource_arn: ARN.into(),
                vault: "main".into(),
                windows: Windows::on_demand(now),
                options: JobOptions {
                    copies: copies("dr"),
                    ..JobOptions::default()
                },
                recovery_point_id: None,
                source_recovery_point_id: None,
            },
            now,
        )
        .unwrap()
        .unwrap();
    let engine = Fake::default();
    let s = Setup {
        catalog,
        source: String::new(),
        created: now,
        _dir: dir,
    };
    s.run(&engine, vec![backup.clone()]).await;
    let backup = s.job(&backup.id);
    assert_eq!(backup.state(), JobState::Completed);
    let made = s
        .catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Copy),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(made.len(), 1);
    let copy = &made[0];
    assert_eq!(copy.job.vault, "dr");
    assert_eq!(
        copy.job.source_recovery_point_id,
        backup.job.recovery_point_id
    );
    assert_eq!(copy.job.rule, backup.job.rule);
    assert_eq!(copy.state(), JobState::Created);
    let completed = backup.history.entered(JobState::Completed).unwrap();
    let window = copy.job.windows.complete_by - copy.job.windows.scheduled_at;
    assert_eq!(window, chrono::Duration::hours(2));
    assert!(copy.job.windows.scheduled_at <= completed);
    // a backup resumed after a crash between its copies and its completion creates none twice
    let mut catalog = s.catalog.borrow_mut();
    let again = NewJob {
        windows: copy.job.windows,
        ..copy.job.clone()
    };
    assert!(catalog.create_job(&again, now).unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_copy_an_earlier_attempt_asked_for_is_adopted_not_made_again() {
    let s = setup();
    let engine = Fake {
        existing: Some("snap-found".into()),
        ..Fake::default()
    };
    let job = s.copy_job(chrono::Duration::hours(2)).unwrap();
    // a process that died after the job became RUNNING, before it recorded its copy
    let job = s
        .catalog
        .borrow_mut()
        .transition_job(&job.id, JobState::Running, Utc::now(), None)
        .unwrap();
    s.run(&engine, vec![job.clone()]).await;
    let job = s.job(&job.id);
    assert_eq!(job.state(), JobState::Completed);
    assert!(engine.copies.borrow().is_empty(), "no second copy");
    assert_eq!(job.native_ids, ["snap-found"]);
}

/// As with backups: a copy whose answer was lost is looked for by its tag before the retry
/// asks again, and adopted.
#[tokio::test(start_paused = true)]
async fn a_copy_whose_answer_was_lost_is_adopted_by_the_retry_not_made_again() {
    let s = setup();
    let engine = Fake {
        lost_answers: std::cell::Cell::new(1),
        ..Fake::default()
    };
    let job = s.copy_job(chrono::Duration::hours(2)).unwrap();
    s.run(&engine, vec![job.clone()]).await;
    let job = s.job(&job.id);
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(engine.copies.borrow().len(), 1, "asked for once");
    assert_eq!(job.native_ids, ["copy-1"]);
}

#[tokio::test(start_paused = true)]
async fn a_copy_not_finished_in_its_window_fails_and_what_it_made_is_deleted() {
    let s = setup();
    let engine = Fake {
        pending_polls: Cell::new(u32::MAX),
        ..Fake::default()
    };
    let job = s.copy_job(chrono::Duration::minutes(10)).unwrap();
    s.run(&engine, vec![job.clone()]).await;
    let job = s.job(&job.id);
    assert_eq!(job.state(), JobState::Failed);
    let error = job.error.unwrap();
    assert!(
        error.contains("not finished within its copy window"),
        "{error}"
    );
    assert!(error.contains("copy-1 was deleted"), "{error}");
    assert_eq!(*engine.discarded.borrow(), ["copy-1"]);
    assert!(job.job.recovery_point_id.is_none());
}

#[tokio::test(start_paused = true)]
async fn cold_and_expired_points_are_not_copied() {
    let s = setup();
    let job = s.copy_job(chrono::Duration::hours(2)).unwrap();
    s.catalog
        .borrow_mut()
        .change_point(&s.source, &PointChange::Cold { native_id: None })
        .unwrap();
    let engine = Fake::default();
    s.run(&engine, vec![job.clone()]).await;
    let job = s.job(&job.id);
    assert_eq!(job.state(), JobState::Failed);
    assert!(job
        .error
        .unwrap()
        .contains("only warm, completed recovery points are copied"));
    assert!(engine.copies.borrow().is_empty());
    // and the catalog creates no copy job of a cold point
    let point = s
        .catalog
        .borrow()
        .recovery_point(&s.source)
        .unwrap()
        .unwrap();
    assert_eq!(point.storage_class, StorageClass::Cold);
    let mut on_demand = s.job(&job.id).job;
    on_demand.rule = None;
    assert!(s
        .catalog
        .borrow_mut()
        .create_job(&on_demand, Utc::now())
        .unwrap()
        .is_none());
}
