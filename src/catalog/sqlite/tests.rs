//! Tests of the SQLite catalog.

use super::*;

fn point(vault: &str) -> NewRecoveryPoint {
    NewRecoveryPoint::minimal(
        vault,
        "snap-1",
        "dir:/data",
        "directory",
        DateTime::UNIX_EPOCH,
    )
}

#[test]
fn counts_points_per_vault() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let mut c = SqliteCatalog::open(&path).unwrap();
    c.add_recovery_point(&point("a")).unwrap();
    c.add_recovery_point(&point("a")).unwrap();
    c.add_recovery_point(&point("b")).unwrap();
    let ro = SqliteCatalog::open_read_only(&path).unwrap();
    let counts = ro.vault_points().unwrap();
    assert_eq!(counts.get("a").map(|p| p.count), Some(2));
    assert_eq!(counts.get("b").map(|p| p.count), Some(1));
    assert_eq!(
        counts.get("a").and_then(|p| p.newest),
        Some(point("a").created_at)
    );
    let gone = DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        c.forget_vault_points("a", gone, DeletedBy::ForceDestroy)
            .unwrap(),
        2
    );
    let forgotten = c
        .recovery_points(&PointFilter {
            status: Some(PointStatus::Deleted),
            ..PointFilter::default()
        })
        .unwrap();
    assert_eq!(forgotten.len(), 2);
    assert!(forgotten
        .iter()
        .all(|p| p.deleted_at == Some(gone) && p.deleted_by == Some(DeletedBy::ForceDestroy)));
    assert_eq!(ro.vault_points().unwrap().get("a"), None);
    assert_eq!(
        c.forget_vault_points("a", gone, DeletedBy::ForceDestroy)
            .unwrap(),
        0
    );
    // reopening does not re-run migrations
    SqliteCatalog::open(&path).unwrap();
}

fn new_job(resource: &str) -> NewJob {
    let at = |h| {
        DateTime::parse_from_rfc3339(&format!("2026-12-05T{h:02}:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    };
    NewJob {
        kind: JobKind::Backup,
        plan: Some("plan.monthly".into()),
        rule: Some("plan.monthly.rule.first-saturday".into()),
        resource_arn: resource.into(),
        vault: "main".into(),
        windows: Windows {
            scheduled_at: at(6),
            start_by: at(8),
            complete_by: at(14),
        },
        options: JobOptions::default(),
        recovery_point_id: None,
        source_recovery_point_id: None,
    }
}

#[test]
fn a_job_is_created_once_per_run_and_resource() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
    let at = DateTime::parse_from_rfc3339("2026-12-05T06:00:01Z")
        .unwrap()
        .with_timezone(&Utc);
    let first = c
        .create_job(&new_job("arn:vol-1"), at)
        .unwrap()
        .expect("created");
    assert_eq!(first.state(), JobState::Created);
    assert!(
        c.create_job(&new_job("arn:vol-1"), at).unwrap().is_none(),
        "a second tick creates nothing"
    );
    assert!(c.create_job(&new_job("arn:vol-2"), at).unwrap().is_some());
    // a second connection (another process) sees the same and cannot create it again
    let mut other = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
    assert!(other
        .create_job(&new_job("arn:vol-1"), at)
        .unwrap()
        .is_none());
    assert_eq!(other.jobs(&JobFilter::default()).unwrap().len(), 2);
}

#[test]
fn transitions_follow_the_state_machine_and_keep_their_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let mut c = SqliteCatalog::open(&path).unwrap();
    let t = |m: u32| {
        DateTime::parse_from_rfc3339(&format!("2026-12-05T06:{m:02}:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    };
    let job = c.create_job(&new_job("arn:vol-1"), t(0)).unwrap().unwrap();
    c.transition_job(&job.id, JobState::Pending, t(1), None)
        .unwrap();
    let running = c
        .transition_job(&job.id, JobState::Running, t(2), None)
        .unwrap();
    assert_eq!(running.state(), JobState::Running);
    let err = c
        .transition_job(&job.id, JobState::Expired, t(3), None)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("a RUNNING job cannot become EXPIRED"),
        "{err}"
    );
    c.transition_job(
        &job.id,
        JobState::Failed,
        t(4),
        Some("SnapshotLimitExceeded"),
    )
    .unwrap();
    let ro = SqliteCatalog::open_read_only(&path).unwrap();
    let back = ro.job(&job.id).unwrap().unwrap();
    assert_eq!(back.state(), JobState::Failed);
    assert_eq!(back.error.as_deref(), Some("SnapshotLimitExceeded"));
    let states: Vec<JobState> = back.history.transitions.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        states,
        [
            JobState::Created,
            JobState::Pending,
            JobState::Running,
            JobState::Failed
        ]
    );
    assert_eq!(back.history.entered(JobState::Running), Some(t(2)));
    assert_eq!(
        ro.jobs(&JobFilter {
            state: Some(JobState::Failed),
            ..JobFilter::default()
        })
        .unwrap()
        .len(),
        1
    );
    assert!(ro
        .jobs(&JobFilter {
            state: Some(JobState::Completed),
            ..JobFilter::default()
        })
        .unwrap()
        .is_empty());
}

#[test]
fn an_older_catalog_is_migrated_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1i64).unwrap();
    }
    let c = SqliteCatalog::open_read_only(&path).unwrap();
    assert!(c.jobs(&JobFilter::default()).unwrap().is_empty());
}

#[test]
fn missing_catalog_is_empty_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let c = SqliteCatalog::open_read_only(&path).unwrap();
    assert!(c.vault_points().unwrap().is_empty());
    assert!(!path.exists());
}

#[test]
fn jobs_filter_by_kind_and_unfinished_state_in_one_query() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
    let at = DateTime::parse_from_rfc3339("2026-12-05T06:00:01Z")
        .unwrap()
        .with_timezone(&Utc);
    let done = c.create_job(&new_job("arn:vol-1"), at).unwrap().unwrap();
    c.transition_job(&done.id, JobState::Running, at, None)
        .unwrap();
    c.transition_job(&done.id, JobState::Completed, at, None)
        .unwrap();
    let open = c.create_job(&new_job("arn:vol-2"), at).unwrap().unwrap();
    let restore = NewJob {
        kind: JobKind::Restore,
        ..new_job("arn:vol-3")
    };
    let restore = c.create_job(&restore, at).unwrap().unwrap();
    let ids =
        |f: JobFilter| -> Vec<String> { c.jobs(&f).unwrap().into_iter().map(|j| j.id).collect() };
    let unfinished_backups = ids(JobFilter {
        kind: Some(JobKind::Backup),
        unfinished: true,
        ..JobFilter::default()
    });
    assert_eq!(unfinished_backups, std::slice::from_ref(&open.id));
    let restores = ids(JobFilter {
        kind: Some(JobKind::Restore),
        ..JobFilter::default()
    });
    assert_eq!(restores, std::slice::from_ref(&restore.id));
    // every job comes back with its whole history, in order
    let all = c.jobs(&JobFilter::default()).unwrap();
    assert_eq!(all.len(), 3);
    let finished = all.iter().find(|j| j.id == done.id).unwrap();
    let states: Vec<JobState> = finished.history.transitions.iter().map(|t| t.0).collect();
    assert_eq!(
        states,
        [JobState::Created, JobState::Running, JobState::Completed]
    );
    assert_eq!(finished, &c.job(&done.id).unwrap().unwrap());
}

/// Issue 11, defect 4: a catalog from a newer coffer says so, on a writable open too.
#[test]
fn a_newer_catalog_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    SqliteCatalog::open(&path).unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99i64).unwrap();
    }
    let expected = format!(
        "written by a newer coffer: catalog version 99, this coffer knows {}",
        MIGRATIONS.len()
    );
    for err in [
        SqliteCatalog::open(&path).err().unwrap(),
        SqliteCatalog::open_read_only(&path).err().unwrap(),
    ] {
        assert!(err.to_string().contains(&expected), "{err}");
    }
}

/// Issue 12: lifecycle dates count from creation; migration 5 moves the dates a catalog
/// recorded from completion.
#[test]
fn migration_5_counts_recorded_lifecycle_dates_from_creation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..4] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 4i64).unwrap();
        tx.commit().unwrap();
        // made at 06:00, completed at 06:40, to be deleted 35 days after completion
        conn.execute(
            "INSERT INTO recovery_points (id, vault, native_id, resource_arn, resource_type, created_at, completed_at, delete_at)
             VALUES ('rp-1', 'main', 'snap-1', 'arn:vol-1', 'EBS', ?1, ?2, ?3)",
            params![
                ts(at("2026-12-05T06:00:00Z")),
                ts(at("2026-12-05T06:40:00Z")),
                ts(at("2027-01-09T06:40:00Z"))
            ],
        )
        .unwrap();
    }
    let c = SqliteCatalog::open(&path).unwrap();
    let p = c.recovery_point("rp-1").unwrap().unwrap();
    assert_eq!(p.point.delete_at, Some(at("2027-01-09T06:00:00Z")));
    assert_eq!(p.point.cold_at, None);
}

/// Issue 12: due points come from an index, not a scan of every point.
#[test]
fn due_points_are_found_by_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let mut due = point("main");
    due.native_id = "due".into();
    due.delete_at = Some(at("2027-01-01T00:00:00Z"));
    due.cold_at = Some(at("2026-12-15T00:00:00Z"));
    let mut cold = point("main");
    cold.native_id = "cold".into();
    cold.cold_at = Some(at("2026-12-20T00:00:00Z"));
    let mut later = point("main");
    later.native_id = "later".into();
    later.delete_at = Some(at("2028-01-01T00:00:00Z"));
    for p in [&due, &cold, &later, &point("main")] {
        c.add_recovery_point(p).unwrap();
    }
    let found: Vec<String> = c
        .due_points(at("2027-06-01T00:00:00Z"))
        .unwrap()
        .into_iter()
        .map(|p| p.point.native_id)
        .collect();
    assert_eq!(
        found,
        ["due", "cold"],
        "each once, by its earliest due date"
    );
    let conn = c.conn.as_ref().unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", due_points_sql()))
        .unwrap()
        .query_map(params![ts(at("2027-06-01T00:00:00Z"))], |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("recovery_points_due_delete") && plan.contains("recovery_points_due_cold"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN recovery_points"), "{plan}");
}

/// Issue 17: a catalog file damaged on disk (bytes flipped, a page zeroed, the file cut
/// short), 300 seeded ways: opening and reading it either works or says what is wrong; it
/// never panics and never loops. (SQLite's own code is fuzzed upstream; this checks coffer's
/// handling of what SQLite returns, and of rows that decode into nonsense.)
#[test]
fn a_damaged_catalog_file_is_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    {
        let mut c = SqliteCatalog::open(&path).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-05T06:00:01Z")
            .unwrap()
            .with_timezone(&Utc);
        for i in 0..40 {
            let job = c
                .create_job(&new_job(&format!("arn:vol-{i}")), at)
                .unwrap()
                .unwrap();
            c.transition_job(&job.id, JobState::Pending, at, None)
                .unwrap();
            c.add_recovery_point(&point(if i % 2 == 0 { "a" } else { "b" }))
                .unwrap();
        }
    }
    let pristine = std::fs::read(&path).unwrap();
    let mut seed: u64 = 0x5eed_c0ff_ee17;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut opened, mut refused) = (0, 0);
    for case in 0..300 {
        let mut bytes = pristine.clone();
        match case % 3 {
            0 => {
                for _ in 0..1 + next() % 16 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] ^= 1 << (next() % 8);
                }
            }
            1 => {
                let page = 4096;
                let start = (next() as usize % (bytes.len() / page)) * page;
                bytes[start..(start + page).min(pristine.len())].fill(0);
            }
            _ => bytes.truncate(next() as usize % bytes.len()),
        }
        let damaged = dir.path().join(format!("damaged-{case}.db"));
        std::fs::write(&damaged, &bytes).unwrap();
        let read = SqliteCatalog::open(&damaged).and_then(|c| {
            c.jobs(&JobFilter::default())?;
            c.recovery_points(&PointFilter::default())?;
            c.vault_points()?;
            Ok(())
        });
        match read {
            Ok(()) => opened += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                refused += 1;
            }
        }
        let _ = std::fs::remove_file(&damaged);
    }
    // both outcomes happen: the damage reached data SQLite checks and data it cannot
    assert!(
        refused > 0 && opened > 0,
        "{opened} opened, {refused} refused"
    );
}
