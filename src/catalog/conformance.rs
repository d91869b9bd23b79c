//! One test suite for every catalog backend: each test is written once against
//! [`Catalog`] and runs against the SQLite catalog and against a real PostgreSQL, so that the
//! two give every operation the same meaning.

use super::*;
use crate::jobs::{DeletedBy, JobKind, JobOptions, PointStatus, StorageClass, Windows};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn point(vault: &str, native: &str) -> NewRecoveryPoint {
    NewRecoveryPoint::minimal(
        vault,
        native,
        "dir:/data",
        "directory",
        at("2026-12-05T03:00:00Z"),
    )
}

fn job(kind: JobKind, resource: &str) -> NewJob {
    NewJob {
        kind,
        plan: Some("plan.daily".into()),
        rule: Some("plan.daily.rule.nightly".into()),
        resource_arn: resource.into(),
        vault: "main".into(),
        windows: Windows {
            scheduled_at: at("2026-12-05T03:00:00Z"),
            start_by: at("2026-12-05T04:00:00Z"),
            complete_by: at("2026-12-05T10:00:00Z"),
        },
        options: JobOptions::default(),
        recovery_point_id: None,
        source_recovery_point_id: None,
    }
}

fn points_are_counted_per_vault_and_forgotten_with_their_vault(c: &mut dyn Catalog) {
    c.add_recovery_point(&point("a", "s1")).unwrap();
    let mut newer = point("a", "s2");
    newer.completed_at = Some(at("2026-12-05T03:30:00Z"));
    c.add_recovery_point(&newer).unwrap();
    c.add_recovery_point(&point("b", "s3")).unwrap();
    let counts = c.vault_points().unwrap();
    assert_eq!(counts["a"].count, 2);
    assert_eq!(counts["a"].newest, Some(at("2026-12-05T03:30:00Z")));
    assert_eq!(counts["b"].count, 1);
    assert_eq!(c.vault_live_count("a").unwrap(), 2);
    let gone = at("2026-12-06T00:00:00Z");
    assert_eq!(
        c.forget_vault_points("a", gone, DeletedBy::ForceDestroy)
            .unwrap(),
        2
    );
    assert_eq!(
        c.forget_vault_points("a", gone, DeletedBy::ForceDestroy)
            .unwrap(),
        0
    );
    assert!(!c.vault_points().unwrap().contains_key("a"));
    assert_eq!(c.vault_live_count("a").unwrap(), 0);
    let deleted = c
        .recovery_points(&PointFilter {
            status: Some(PointStatus::Deleted),
            ..PointFilter::default()
        })
        .unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(deleted
        .iter()
        .all(|p| p.deleted_at == Some(gone) && p.deleted_by == Some(DeletedBy::ForceDestroy)));
}

fn a_point_keeps_every_field_and_a_job_records_one_point(c: &mut dyn Catalog) {
    let mut p = point("main", "snap-1");
    p.job_id = Some("job-1".into());
    p.plan = Some("plan.daily".into());
    p.rule = Some("plan.daily.rule.nightly".into());
    p.completed_at = Some(at("2026-12-05T03:10:00.123456Z"));
    p.size_bytes = Some(5 << 30);
    p.encrypted = true;
    p.kms_key = Some("arn:aws:kms:us-east-1:1:key/k".into());
    p.cold_at = Some(at("2027-01-05T03:00:00Z"));
    p.delete_at = Some(at("2027-12-05T03:00:00Z"));
    p.tags = [("team".to_string(), "data".to_string())].into();
    p.source_recovery_point_id = Some("rp-source".into());
    let id = c.add_recovery_point(&p).unwrap();
    let again = c.add_recovery_point(&p).unwrap();
    assert_eq!(again, id, "one point per job, however often it is recorded");
    let back = c.recovery_point(&id).unwrap().unwrap();
    assert_eq!(back.point, p);
    assert_eq!(back.status, PointStatus::Completed);
    assert_eq!(back.storage_class, StorageClass::Warm);
    assert_eq!(c.recovery_point("rp-none").unwrap(), None);
    // newest first, then by resource and id
    let mut older = point("main", "snap-0");
    older.created_at = at("2026-12-04T03:00:00Z");
    c.add_recovery_point(&older).unwrap();
    let listed: Vec<String> = c
        .recovery_points(&PointFilter::default())
        .unwrap()
        .into_iter()
        .map(|p| p.point.native_id)
        .collect();
    assert_eq!(listed, ["snap-1", "snap-0"]);
    let by_rule = c
        .recovery_points(&PointFilter {
            rule: Some("plan.daily.rule.nightly".into()),
            ..PointFilter::default()
        })
        .unwrap();
    assert_eq!(by_rule.len(), 1);
    let mut live = LivePoints::default();
    c.live_points(
        &PointFilter {
            vault: Some("main".into()),
            ..PointFilter::default()
        },
        &mut live,
    )
    .unwrap();
    assert_eq!(live.points.len(), 2);
}

fn a_run_makes_one_job_per_resource_and_jobs_move_by_the_state_machine(c: &mut dyn Catalog) {
    let t0 = at("2026-12-05T03:00:01Z");
    let first = c
        .create_job(&job(JobKind::Backup, "arn:vol-1"), t0)
        .unwrap();
    let first = first.expect("created");
    assert_eq!(first.state(), JobState::Created);
    assert!(c
        .create_job(&job(JobKind::Backup, "arn:vol-1"), t0)
        .unwrap()
        .is_none());
    assert!(c
        .create_job(&job(JobKind::Backup, "arn:vol-2"), t0)
        .unwrap()
        .is_some());
    // on-demand jobs (no rule) are not one per run
    let mut on_demand = job(JobKind::Backup, "arn:vol-1");
    on_demand.rule = None;
    assert!(c.create_job(&on_demand, t0).unwrap().is_some());
    assert!(c.create_job(&on_demand, t0).unwrap().is_some());

    c.transition_job(
        &first.id,
        JobState::Pending,
        at("2026-12-05T03:01:00Z"),
        None,
    )
    .unwrap();
    let running = c
        .transition_job(
            &first.id,
            JobState::Running,
            at("2026-12-05T03:02:00Z"),
            None,
        )
        .unwrap();
    assert_eq!(running.state(), JobState::Running);
    let e = c
        .transition_job(
            &first.id,
            JobState::Expired,
            at("2026-12-05T03:03:00Z"),
            None,
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("a RUNNING job cannot become EXPIRED"),
        "{e}"
    );
    assert!(c
        .transition_job("job-none", JobState::Pending, t0, None)
        .unwrap_err()
        .to_string()
        .contains("no job job-none"));
    let failed = c
        .transition_job(
            &first.id,
            JobState::Failed,
            at("2026-12-05T03:04:00Z"),
            Some("SnapshotLimitExceeded"),
        )
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("SnapshotLimitExceeded"));
    let back = c.job(&first.id).unwrap().unwrap();
    assert_eq!(back.history, failed.history);
    assert_eq!(back.error.as_deref(), Some("SnapshotLimitExceeded"));
    assert_eq!(
        back.history.entered(JobState::Running),
        Some(at("2026-12-05T03:02:00Z"))
    );
    assert_eq!(c.job("job-none").unwrap(), None);

    let all = c.jobs(&JobFilter::default()).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all.iter().find(|j| j.id == first.id).unwrap().history,
        back.history
    );
    let unfinished = c
        .jobs(&JobFilter {
            unfinished: true,
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(unfinished.len(), 3);
    let failed = c
        .jobs(&JobFilter {
            state: Some(JobState::Failed),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
    let copies = c
        .jobs(&JobFilter {
            kind: Some(JobKind::Copy),
            ..JobFilter::default()
        })
        .unwrap();
    assert!(copies.is_empty());
    let later = c
        .jobs(&JobFilter {
            since: Some(at("2026-12-06T00:00:00Z")),
            ..JobFilter::default()
        })
        .unwrap();
    assert!(later.is_empty());
}

fn a_job_update_records_results_and_the_first_validation_stays(c: &mut dyn Catalog) {
    let j = c
        .create_job(
            &job(JobKind::Restore, "arn:vol-1"),
            at("2026-12-05T03:00:00Z"),
        )
        .unwrap()
        .unwrap();
    c.update_job(
        &j.id,
        &JobUpdate {
            attempts: Some(2),
            native_ids: Some(vec!["snap-1".into(), "snap-2".into()]),
            bytes: Some(1 << 40),
            warning: Some("shrank".into()),
            created_resource_arn: Some("arn:vol-9".into()),
            validation_status: Some("SUCCESSFUL".into()),
            validation_message: Some("first".into()),
            ..JobUpdate::default()
        },
    )
    .unwrap();
    c.update_job(
        &j.id,
        &JobUpdate {
            validation_status: Some("FAILED".into()),
            validation_message: Some("second".into()),
            deletion_status: Some("SUCCESSFUL".into()),
            ..JobUpdate::default()
        },
    )
    .unwrap();
    let back = c.job(&j.id).unwrap().unwrap();
    assert_eq!(back.attempts, 2);
    assert_eq!(back.native_ids, ["snap-1", "snap-2"]);
    assert_eq!(back.bytes, Some(1 << 40));
    assert_eq!(back.warning.as_deref(), Some("shrank"));
    assert_eq!(back.created_resource_arn.as_deref(), Some("arn:vol-9"));
    assert_eq!(
        (
            back.validation_status.as_deref(),
            back.validation_message.as_deref()
        ),
        (Some("SUCCESSFUL"), Some("first")),
        "a validation result is recorded once"
    );
    assert_eq!(back.deletion_status.as_deref(), Some("SUCCESSFUL"));
    assert!(c
        .update_job("job-none", &JobUpdate::default())
        .unwrap_err()
        .to_string()
        .contains("no job job-none"));
}

fn lifecycle_and_copy_jobs_are_made_once_and_only_for_points_they_can_act_on(c: &mut dyn Catalog) {
    let now = at("2026-12-06T00:00:00Z");
    let id = c.add_recovery_point(&point("main", "snap-1")).unwrap();
    let delete = NewJob {
        recovery_point_id: Some(id.clone()),
        ..job(JobKind::Delete, "dir:/data")
    };
    let first = c.create_job(&delete, now).unwrap().expect("created");
    assert!(
        c.create_job(&delete, now).unwrap().is_none(),
        "one unfinished per point"
    );
    for s in [JobState::Running, JobState::Failed] {
        c.transition_job(&first.id, s, now, None).unwrap();
    }
    // an expired point is retried only once its retry is due, or by hand
    c.change_point(
        &id,
        &PointChange::Expired {
            reason: "AccessDenied".into(),
            retry_at: Some(at("2026-12-07T00:00:00Z")),
        },
    )
    .unwrap();
    let mut tomorrow = delete.clone();
    tomorrow.windows.scheduled_at = at("2026-12-07T00:00:00Z");
    assert!(
        c.create_job(&tomorrow, now).unwrap().is_none(),
        "not due yet"
    );
    assert_eq!(c.retry_due(now).unwrap().len(), 0);
    let due = at("2026-12-07T00:00:00Z");
    assert_eq!(c.retry_due(due).unwrap()[0].id, id);
    let retry = c.create_job(&tomorrow, due).unwrap().expect("due");
    assert_eq!(
        c.retry_due(due).unwrap().len(),
        0,
        "the retry job clears the retry date"
    );
    assert_eq!(retry.job.recovery_point_id.as_deref(), Some(id.as_str()));
    // no job for a point that is gone
    let missing = NewJob {
        recovery_point_id: Some("rp-none".into()),
        ..job(JobKind::Delete, "dir:/data")
    };
    assert!(c.create_job(&missing, now).unwrap().is_none());
    // cold only while warm; copies only of completed, warm points, once per vault and rule
    let warm = c.add_recovery_point(&point("main", "snap-2")).unwrap();
    let cold = NewJob {
        recovery_point_id: Some(warm.clone()),
        ..job(JobKind::Cold, "dir:/data")
    };
    let copy = NewJob {
        source_recovery_point_id: Some(warm.clone()),
        vault: "dr".into(),
        ..job(JobKind::Copy, "dir:/data")
    };
    assert!(c.create_job(&copy, now).unwrap().is_some());
    assert!(
        c.create_job(&copy, now).unwrap().is_none(),
        "one copy per vault"
    );
    let cold_job = c.create_job(&cold, now).unwrap().expect("warm point");
    for s in [JobState::Running, JobState::Completed] {
        c.transition_job(&cold_job.id, s, now, None).unwrap();
    }
    c.change_point(
        &warm,
        &PointChange::Cold {
            native_id: Some("snap-2-archived".into()),
        },
    )
    .unwrap();
    assert_eq!(
        c.recovery_point(&warm).unwrap().unwrap().point.native_id,
        "snap-2-archived"
    );
    assert!(c.create_job(&cold, now).unwrap().is_none(), "already cold");
    let mut second_copy = copy.clone();
    second_copy.vault = "dr-2".into();
    assert!(
        c.create_job(&second_copy, now).unwrap().is_none(),
        "cold points are not copied"
    );
    // prunes: one per vault and day
    let prune = job(JobKind::Prune, "vault:main");
    assert!(c.create_job(&prune, now).unwrap().is_some());
    assert!(c.create_job(&prune, now).unwrap().is_none());
}

fn due_points_come_once_by_their_earliest_date_and_changes_stick(c: &mut dyn Catalog) {
    let mut due = point("main", "due");
    due.delete_at = Some(at("2027-01-01T00:00:00Z"));
    due.cold_at = Some(at("2026-12-15T00:00:00Z"));
    let mut cold = point("main", "cold");
    cold.cold_at = Some(at("2026-12-20T00:00:00Z"));
    let mut later = point("main", "later");
    later.delete_at = Some(at("2028-01-01T00:00:00Z"));
    let mut ids = Vec::new();
    for p in [&due, &cold, &later, &point("main", "never")] {
        ids.push(c.add_recovery_point(p).unwrap());
    }
    let found = |c: &dyn Catalog| -> Vec<String> {
        c.due_points(at("2027-06-01T00:00:00Z"))
            .unwrap()
            .into_iter()
            .map(|p| p.point.native_id)
            .collect()
    };
    assert_eq!(found(c), ["due", "cold"]);
    c.change_point(
        &ids[1],
        &PointChange::StaysWarm {
            reason: "not EBS".into(),
        },
    )
    .unwrap();
    let stays = c.recovery_point(&ids[1]).unwrap().unwrap();
    assert_eq!(
        (stays.point.cold_at, stays.status_message.as_deref()),
        (None, Some("not EBS"))
    );
    assert_eq!(found(c), ["due"]);
    let gone = at("2027-01-01T00:00:05Z");
    c.change_point(
        &ids[0],
        &PointChange::Deleted {
            at: gone,
            by: DeletedBy::Lifecycle,
        },
    )
    .unwrap();
    let deleted = c.recovery_point(&ids[0]).unwrap().unwrap();
    assert_eq!(deleted.status, PointStatus::Deleted);
    assert_eq!(deleted.deleted_by, Some(DeletedBy::Lifecycle));
    assert!(found(c).is_empty());
    // an expiry does not bring a deleted point back
    assert!(c
        .change_point(
            &ids[0],
            &PointChange::Expired {
                reason: "x".into(),
                retry_at: None
            }
        )
        .is_err());
    assert!(c
        .change_point("rp-none", &PointChange::StaysWarm { reason: "x".into() })
        .unwrap_err()
        .to_string()
        .contains("no live recovery point rp-none"));
}

fn approved_deletions_are_remembered_while_their_points_live(c: &mut dyn Catalog) {
    let a = c.add_recovery_point(&point("main", "a")).unwrap();
    let b = c.add_recovery_point(&point("main", "b")).unwrap();
    let now = at("2026-12-06T00:00:00Z");
    c.approve_deletions(&[a.clone(), b.clone()], now).unwrap();
    c.approve_deletions(std::slice::from_ref(&a), now).unwrap();
    assert_eq!(
        c.approved_deletions().unwrap(),
        [a.clone(), b.clone()].into()
    );
    c.change_point(
        &b,
        &PointChange::Deleted {
            at: now,
            by: DeletedBy::Retention,
        },
    )
    .unwrap();
    assert_eq!(c.approved_deletions().unwrap(), [a].into());
}

fn the_tick_cursor_only_moves_forward(c: &mut dyn Catalog) {
    assert_eq!(c.tick_cursor().unwrap(), None);
    c.advance_tick_cursor(at("2026-12-05T03:00:00Z")).unwrap();
    c.advance_tick_cursor(at("2026-12-04T03:00:00Z")).unwrap();
    assert_eq!(c.tick_cursor().unwrap(), Some(at("2026-12-05T03:00:00Z")));
    c.advance_tick_cursor(at("2026-12-05T04:00:00.5Z")).unwrap();
    assert_eq!(c.tick_cursor().unwrap(), Some(at("2026-12-05T04:00:00.5Z")));
}

fn the_newest_check_of_each_vault_is_the_last(c: &mut dyn Catalog) {
    assert!(c.last_vault_checks().unwrap().is_empty());
    let check = |vault: &str, t: &str, errors: u64| VaultCheck {
        vault: vault.into(),
        checked_at: at(t),
        location: format!("file:///srv/{vault}"),
        snapshots: 7,
        read_data_subset: (errors == 0).then(|| "10%".to_string()),
        missing: false,
        errors,
        warnings: 1,
        first_error: (errors > 0).then(|| "pack 3f2a is missing".to_string()),
    };
    let damaged = check("main", "2026-12-05T04:00:00.123456Z", 2);
    c.record_vault_check(&check("main", "2026-12-04T04:00:00Z", 0))
        .unwrap();
    c.record_vault_check(&damaged).unwrap();
    c.record_vault_check(&check("main", "2026-12-03T04:00:00Z", 0))
        .unwrap();
    let intact = check("dr", "2026-12-01T04:00:00Z", 0);
    c.record_vault_check(&intact).unwrap();
    let last = c.last_vault_checks().unwrap();
    assert_eq!(last.len(), 2);
    assert_eq!(
        last["main"], damaged,
        "the newest check, not the last recorded"
    );
    assert_eq!(last["dr"], intact);
    // the same vault and instant again replaces the record
    let repaired = VaultCheck {
        errors: 0,
        first_error: None,
        ..damaged.clone()
    };
    c.record_vault_check(&repaired).unwrap();
    assert_eq!(c.last_vault_checks().unwrap()["main"], repaired);
}

fn a_control_becomes_non_compliant_once_per_change(c: &mut dyn Catalog) {
    let mut note = |compliant: bool, t: &str| {
        c.note_control_status(
            "ops",
            "BACKUP_LAST_RECOVERY_POINT_CREATED",
            compliant,
            at(t),
        )
        .unwrap()
    };
    // never recorded, then NON_COMPLIANT: a change, announced once
    assert!(note(false, "2026-12-05T03:00:00Z"));
    assert!(!note(false, "2026-12-05T03:05:00Z"), "still NON_COMPLIANT");
    assert!(
        !note(true, "2026-12-05T03:10:00Z"),
        "becoming compliant is not announced"
    );
    assert!(!note(true, "2026-12-05T03:15:00Z"));
    assert!(note(false, "2026-12-05T03:20:00Z"), "NON_COMPLIANT again");
    // a first record that is compliant is not a change to NON_COMPLIANT
    assert!(!c
        .note_control_status(
            "ops",
            "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
            true,
            at("2026-12-05T03:00:00Z")
        )
        .unwrap());
    // controls are told apart by framework too
    assert!(c
        .note_control_status(
            "audit",
            "BACKUP_LAST_RECOVERY_POINT_CREATED",
            false,
            at("2026-12-05T03:00:00Z")
        )
        .unwrap());
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let mut c = crate::catalog::SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
                super::$name(&mut c);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                let target = crate::pg::PgTarget {
                    conn_str: crate::pg_test::database(),
                    schema: "coffer".into(),
                };
                let mut c = crate::catalog::PgCatalog::open(&target).unwrap();
                super::$name(&mut c);
            })*
        }
    };
}

suite!(
    points_are_counted_per_vault_and_forgotten_with_their_vault,
    a_point_keeps_every_field_and_a_job_records_one_point,
    a_run_makes_one_job_per_resource_and_jobs_move_by_the_state_machine,
    a_job_update_records_results_and_the_first_validation_stays,
    lifecycle_and_copy_jobs_are_made_once_and_only_for_points_they_can_act_on,
    due_points_come_once_by_their_earliest_date_and_changes_stick,
    approved_deletions_are_remembered_while_their_points_live,
    the_tick_cursor_only_moves_forward,
    the_newest_check_of_each_vault_is_the_last,
    a_control_becomes_non_compliant_once_per_change,
);

/// Asks to claim `ids` with no limit but the lease.
fn claim(c: &mut PgCatalog, ids: &[String], worker: &str) -> Vec<String> {
    let wanted: Vec<ClaimRequest> = ids.iter().map(|id| ClaimRequest::unlimited(id)).collect();
    c.claim_jobs(
        &wanted,
        worker,
        std::time::Duration::from_secs(30),
        &ClaimLimits::NONE,
    )
    .unwrap()
    .claimed
}

fn pg_catalog() -> (crate::pg::PgTarget, PgCatalog, PgCatalog) {
    let target = crate::pg::PgTarget {
        conn_str: crate::pg_test::database(),
        schema: "coffer".into(),
    };
    let a = PgCatalog::open(&target).unwrap();
    let b = PgCatalog::open(&target).unwrap();
    (target, a, b)
}

/// Issue 15: workers claim jobs; a claim is exclusive while its lease lives, every change
/// to a claimed job checks the claim, and a worker that lost its job cannot touch it.
#[test]
fn workers_claim_jobs_once_and_a_lost_claim_cannot_touch_its_job() {
    use std::time::Duration;
    let (target, mut a, mut b) = pg_catalog();
    let t0 = at("2026-12-05T03:00:01Z");
    let ids: Vec<String> = ["arn:vol-1", "arn:vol-2"]
        .iter()
        .map(|r| {
            a.create_job(&job(JobKind::Backup, r), t0)
                .unwrap()
                .unwrap()
                .id
        })
        .collect();
    let lease = Duration::from_secs(30);
    assert_eq!(claim(&mut a, &ids[..1], "worker-a"), ids[..1]);
    assert_eq!(
        claim(&mut b, &ids, "worker-b"),
        ids[1..],
        "a live claim is not taken"
    );
    // claiming again keeps what one holds
    assert_eq!(claim(&mut a, &ids, "worker-a"), ids[..1]);
    assert!(a.renew_claims(lease).unwrap().is_empty());
    a.transition_job(&ids[0], JobState::Pending, t0, None)
        .unwrap();
    // a's lease ends (it stalled); b claims the job and moves it on
    let id = ids[0].clone();
    let conn = crate::pg::PgConnection::open(&target).unwrap();
    conn.call(move |c| {
        c.execute(
            "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
            &[&id],
        )?;
        Ok(())
    })
    .unwrap();
    assert_eq!(claim(&mut b, &ids[..1], "worker-b"), ids[..1]);
    b.transition_job(&ids[0], JobState::Running, t0, None)
        .unwrap();
    // a finds out, and nothing it does reaches the job
    assert_eq!(a.renew_claims(lease).unwrap(), ids[..1]);
    let e = a
        .transition_job(&ids[0], JobState::Failed, t0, Some("stale"))
        .unwrap_err();
    assert!(e.to_string().contains("no longer this worker's"), "{e}");
    let e = a
        .update_job(
            &ids[0],
            &JobUpdate {
                error: Some("stale".into()),
                ..JobUpdate::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("no longer this worker's"), "{e}");
    let done = b
        .transition_job(&ids[0], JobState::Completed, t0, None)
        .unwrap();
    assert_eq!(done.error, None);
    // a finished job is claimed by no one
    assert!(claim(&mut a, &ids[..1], "worker-a").is_empty());
    // one job per resource at a time, across workers: b holds vol-2's backup, so neither a
    // nor b takes vol-2's next job while that one is unfinished
    let mut next = job(JobKind::Backup, "arn:vol-2");
    next.windows.scheduled_at = at("2026-12-06T03:00:00Z");
    let second = a.create_job(&next, t0).unwrap().unwrap().id;
    let second = std::slice::from_ref(&second);
    assert!(claim(&mut a, second, "worker-a").is_empty());
    assert!(claim(&mut b, second, "worker-b").is_empty());
    b.release_claims().unwrap();
    // b handed vol-2's first job back: vol-2 is free for a
    assert_eq!(claim(&mut a, second, "worker-a"), second);
}

/// Issue 15: limits hold across workers, counted in the database: jobs per service, copies
/// per destination region, and no more new claims than the worker has room for.
#[test]
fn limits_hold_across_workers_per_service_and_per_copy_destination() {
    let (target, mut a, mut b) = pg_catalog();
    let mut maker = PgCatalog::open(&target).unwrap();
    let t0 = at("2026-12-05T03:00:01Z");
    let mut new = |resource: &str, minute: u32| {
        let mut j = job(JobKind::Backup, resource);
        j.windows.scheduled_at = at(&format!("2026-12-05T03:{minute:02}:00Z"));
        maker.create_job(&j, t0).unwrap().unwrap().id
    };
    let ec2: Vec<String> = (0..3).map(|i| new(&format!("arn:vol-{i}"), i)).collect();
    let rds = new("arn:db-1", 10);
    let copies: Vec<String> = (0..2)
        .map(|i| new(&format!("arn:copy-{i}"), 20 + i))
        .collect();
    let req = |id: &String, service: Option<&str>, slot: Option<&str>| ClaimRequest {
        id: id.clone(),
        service: service.map(str::to_string),
        copy_slot: slot.map(str::to_string),
    };
    let limits = ClaimLimits {
        jobs: 10,
        per_service: 2,
        copies_per_slot: 1,
    };
    let lease = std::time::Duration::from_secs(30);
    let ec2_reqs: Vec<ClaimRequest> = ec2.iter().map(|id| req(id, Some("ec2"), None)).collect();
    // a takes two EC2 jobs of three: the service's limit
    assert_eq!(
        a.claim_jobs(&ec2_reqs, "worker-a", lease, &limits)
            .unwrap()
            .claimed,
        ec2[..2]
    );
    // b may not take the third, since the limit counts a's claims too; RDS is free
    let mut asked = ec2_reqs[2..].to_vec();
    asked.push(req(&rds, Some("rds"), None));
    assert_eq!(
        b.claim_jobs(&asked, "worker-b", lease, &limits)
            .unwrap()
            .claimed,
        [rds]
    );
    // one of a's EC2 jobs ends: its slot is free for b, and a claim asking for the ended
    // job says it ended, so that it is not asked for again
    a.transition_job(&ec2[0], JobState::Failed, t0, Some("done"))
        .unwrap();
    let again = b
        .claim_jobs(&ec2_reqs[..1], "worker-b", lease, &limits)
        .unwrap();
    assert_eq!(
        again,
        Claimed {
            claimed: Vec::new(),
            ended: ec2[..1].to_vec()
        }
    );
    assert_eq!(
        b.claim_jobs(&ec2_reqs[2..], "worker-b", lease, &limits)
            .unwrap()
            .claimed,
        ec2[2..]
    );
    // copies into one destination region: one at a time across workers, the oldest first
    let copy_reqs: Vec<ClaimRequest> = copies
        .iter()
        .map(|id| req(id, None, Some("copies:ec2:eu-west-1")))
        .collect();
    assert_eq!(
        a.claim_jobs(&copy_reqs, "worker-a", lease, &limits)
            .unwrap()
            .claimed,
        copies[..1]
    );
    assert!(b
        .claim_jobs(&copy_reqs[1..], "worker-b", lease, &limits)
        .unwrap()
        .claimed
        .is_empty());
    // into another region it goes
    let elsewhere = [req(&copies[1], None, Some("copies:ec2:us-east-1"))];
    assert_eq!(
        b.claim_jobs(&elsewhere, "worker-b", lease, &limits)
            .unwrap()
            .claimed,
        copies[1..]
    );
    // a worker takes no more new jobs than it has room for
    let more: Vec<String> = (0..3)
        .map(|i| new(&format!("arn:fs-{i}"), 30 + i))
        .collect();
    let more_reqs: Vec<ClaimRequest> = more.iter().map(|id| ClaimRequest::unlimited(id)).collect();
    let one = ClaimLimits { jobs: 1, ..limits };
    assert_eq!(
        b.claim_jobs(&more_reqs, "worker-b", lease, &one)
            .unwrap()
            .claimed,
        more[..1]
    );
}

/// `init -migrate-state`'s copy: what a SQLite catalog holds arrives in PostgreSQL whole,
/// vault checks (every one, so the newest is still the last) and control statuses included.
#[test]
fn a_sqlite_catalog_moves_into_postgres_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut local = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
    let id = local.add_recovery_point(&point("main", "snap-1")).unwrap();
    local
        .create_job(
            &job(JobKind::Backup, "arn:vol-1"),
            at("2026-12-05T03:00:01Z"),
        )
        .unwrap()
        .unwrap();
    local
        .advance_tick_cursor(at("2026-12-05T03:10:00Z"))
        .unwrap();
    for (t, errors) in [("2026-12-04T04:00:00Z", 1), ("2026-12-05T04:00:00Z", 0)] {
        local
            .record_vault_check(&VaultCheck {
                vault: "main".into(),
                checked_at: at(t),
                location: "file:///srv/main".into(),
                snapshots: 3,
                read_data_subset: None,
                missing: false,
                errors,
                warnings: 0,
                first_error: (errors > 0).then(|| "pack 3f2a is missing".into()),
            })
            .unwrap();
    }
    assert!(local
        .note_control_status(
            "ops",
            "BACKUP_LAST_RECOVERY_POINT_CREATED",
            false,
            at("2026-12-05T04:00:00Z")
        )
        .unwrap());
    let dump = local.dump().unwrap();
    assert_eq!(dump.checks.len(), 2);
    let (_, mut pg, _) = pg_catalog();
    pg.import(dump).unwrap();
    assert!(
        !pg.note_control_status(
            "ops",
            "BACKUP_LAST_RECOVERY_POINT_CREATED",
            false,
            at("2026-12-05T05:00:00Z")
        )
        .unwrap(),
        "the control's status came along: it is not announced again"
    );
    assert_eq!(
        pg.last_vault_checks().unwrap(),
        local.last_vault_checks().unwrap()
    );
    assert_eq!(pg.last_vault_checks().unwrap()["main"].errors, 0);
    assert_eq!(
        pg.recovery_point(&id).unwrap(),
        local.recovery_point(&id).unwrap()
    );
    assert_eq!(pg.tick_cursor().unwrap(), local.tick_cursor().unwrap());
    assert_eq!(
        pg.jobs(&JobFilter::default()).unwrap().len(),
        local.jobs(&JobFilter::default()).unwrap().len()
    );
}

/// Two workers noting the same changes at the same moments: for each change to
/// NON_COMPLIANT exactly one of them is told.
#[test]
fn of_racing_workers_one_sees_a_control_become_non_compliant() {
    let (target, _, _) = pg_catalog();
    let rounds = 20;
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (target, start) = (target.clone(), start.clone());
            std::thread::spawn(move || {
                let mut c = PgCatalog::open(&target).unwrap();
                (0..rounds)
                    .map(|round| {
                        start.wait();
                        let t = at("2026-12-05T03:00:00Z") + chrono::Duration::minutes(round);
                        c.note_control_status(
                            "ops",
                            "BACKUP_LAST_RECOVERY_POINT_CREATED",
                            round % 2 == 1,
                            t,
                        )
                        .unwrap()
                    })
                    .collect::<Vec<bool>>()
            })
        })
        .collect();
    let told: Vec<Vec<bool>> = racers.into_iter().map(|h| h.join().unwrap()).collect();
    for round in 0..rounds as usize {
        let n = told.iter().filter(|t| t[round]).count();
        assert_eq!(n, usize::from(round % 2 == 0), "round {round}: {told:?}");
    }
}
