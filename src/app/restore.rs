//! The life of a file-level restore job: find what a recovery point restores from, record the
//! job (CREATED, then RUNNING), restore on a worker thread while watching for Ctrl-C, and
//! record how it ended (COMPLETED, FAILED, or ABORTED when interrupted). A restore job that a
//! dead coffer left unfinished is ended as a restore, never resumed as a backup of its source.
//!
//! The caller holds the runner lock for the whole restore, as `coffer run` does for a tick, so
//! an unfinished restore job seen while holding that lock belongs to no living process.

use crate::catalog::{
    Catalog, CatalogError, JobFilter, JobRecord, JobUpdate, NewJob, RecoveryPoint,
};
use crate::failpoint;
use crate::inventory::{Resource, ResourceType};
use crate::jobs::{JobKind, JobOptions, JobState, Windows};
use crate::repository::{self, Location, Restored};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Why a restore job that a dead coffer left behind is recorded FAILED.
pub const INTERRUPTED: &str = "interrupted: the coffer that ran this restore ended before it finished (it was killed, or its machine stopped); the target may hold part of the restore, so run `coffer restore start` again, into an empty directory or with --overwrite";

/// The resource a file-level recovery point was made of, and the directory its files came
/// from (the paths inside the snapshot are under it).
pub fn file_source(point: &RecoveryPoint) -> Result<(Resource, PathBuf), String> {
    let resource: Resource = serde_json::from_value(point.point.resource.clone()).map_err(|e| {
        format!(
            "recovery point {} does not record its source resource: {e}",
            point.id
        )
    })?;
    if !matches!(
        resource.resource_type,
        ResourceType::Directory | ResourceType::EfsFileSystem
    ) {
        return Err(format!(
            "recovery point {} is a {} snapshot ({}); coffer restores file-level points, restore snapshots with AWS",
            point.id, resource.resource_type, point.point.native_id
        ));
    }
    let source = resource
        .mount_path
        .clone()
        .or_else(|| resource.arn.strip_prefix("dir:").map(str::to_string))
        .map(PathBuf::from)
        .ok_or_else(|| format!("recovery point {} records no source path", point.id))?;
    Ok((resource, source))
}

/// What to restore, from where, into where.
#[derive(Debug, Clone)]
pub struct FileRestore {
    pub point: RecoveryPoint,
    /// The backed-up directory the snapshot's paths are under.
    pub source: PathBuf,
    pub location: Location,
    pub password: String,
    /// Only this file or directory, relative to `source`.
    pub path: Option<String>,
    pub target: PathBuf,
    pub overwrite: bool,
}

/// How a restore ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Restored(Restored),
    Failed(String),
    /// Ctrl-C (or SIGTERM) came before the restore finished.
    Interrupted,
}

/// Records the restore job of `point` and moves it to RUNNING.
pub fn begin(
    catalog: &mut dyn Catalog,
    point: &RecoveryPoint,
    resource_arn: &str,
    now: DateTime<Utc>,
) -> Result<JobRecord, String> {
    let job = catalog
        .create_job(
            &NewJob {
                kind: JobKind::Restore,
                plan: None,
                rule: None,
                resource_arn: resource_arn.to_string(),
                vault: point.point.vault.clone(),
                windows: Windows::on_demand(now),
                options: JobOptions::default(),
                recovery_point_id: Some(point.id.clone()),
                source_recovery_point_id: None,
            },
            now,
        )
        .map_err(|e| e.to_string())?
        .ok_or("a restore of this resource was already started at this instant")?;
    catalog
        .transition_job(&job.id, JobState::Running, now, None)
        .map_err(|e| e.to_string())
}

/// Restores on a worker thread and waits for it, or for `stop` (checked every tenth of a
/// second), whichever comes first. An interrupted restore's thread is left to end with the
/// process.
pub fn run(request: FileRestore, stop: &AtomicBool) -> Outcome {
    let vault = request.point.point.vault.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("coffer-restore".into())
        .spawn(move || {
            failpoint::pause_at("restore-pause");
            let r = &request;
            let result = repository::restore(
                &r.location,
                &r.password,
                &r.point.point.native_id,
                &r.source,
                r.path.as_deref(),
                &r.target,
                r.overwrite,
            );
            let _ = tx.send(result);
        });
    if let Err(e) = worker {
        return Outcome::Failed(format!("cannot start the restore: {e}"));
    }
    loop {
        if stop.load(Ordering::SeqCst) {
            return Outcome::Interrupted;
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(restored)) => return Outcome::Restored(restored),
            Ok(Err(e)) => return Outcome::Failed(e.for_vault(&vault)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Outcome::Failed("the restore ended without a result".into())
            }
        }
    }
}

/// Records how the restore job ended and returns it as the catalog now has it.
pub fn finish(
    catalog: &mut dyn Catalog,
    job: &JobRecord,
    point: &RecoveryPoint,
    target: &std::path::Path,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<JobRecord, CatalogError> {
    match outcome {
        Outcome::Restored(r) => {
            catalog.update_job(
                &job.id,
                &JobUpdate {
                    attempts: Some(1),
                    native_ids: Some(vec![target.display().to_string()]),
                    bytes: Some(r.bytes),
                    recovery_point_id: Some(point.id.clone()),
                    ..JobUpdate::default()
                },
            )?;
            catalog.transition_job(&job.id, JobState::Completed, now, None)
        }
        Outcome::Failed(e) => catalog.transition_job(&job.id, JobState::Failed, now, Some(e)),
        Outcome::Interrupted => {
            let why = format!(
                "interrupted (Ctrl-C or SIGTERM) before the restore finished; {} may hold part of it",
                target.display()
            );
            catalog.transition_job(&job.id, JobState::Aborting, now, Some(&why))?;
            catalog.transition_job(&job.id, JobState::Aborted, now, None)
        }
    }
}

/// Ends every unfinished file-level restore job: each was left by a coffer that died
/// mid-restore (see the module's note on the runner lock). Restores of AWS points are the
/// runner's to resume (`runner::execute::restore`) and are left alone. Returns the ended.
pub fn end_interrupted(
    catalog: &mut dyn Catalog,
    now: DateTime<Utc>,
) -> Result<Vec<JobRecord>, CatalogError> {
    let left = catalog.jobs(&JobFilter {
        kind: Some(JobKind::Restore),
        unfinished: true,
        ..JobFilter::default()
    })?;
    let mut ended = Vec::new();
    for job in left {
        let file_level = match &job.job.recovery_point_id {
            Some(p) => catalog.recovery_point(p)?.is_none_or(|p| {
                crate::runner::execute::restore::is_file_level(&p.point.resource_type)
            }),
            None => true,
        };
        if !file_level {
            continue;
        }
        let to = if job.state() == JobState::Aborting {
            JobState::Aborted
        } else {
            JobState::Failed
        };
        ended.push(catalog.transition_job(&job.id, to, now, Some(INTERRUPTED))?);
    }
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{NewRecoveryPoint, SqliteCatalog};
    use crate::jobs::PointStatus;

    fn point() -> RecoveryPoint {
        let mut p = NewRecoveryPoint::minimal(
            "main",
            "abc",
            "dir:/data",
            "directory",
            DateTime::UNIX_EPOCH,
        );
        p.resource = serde_json::json!({
            "arn": "dir:/data", "type": "directory", "region": "local", "account": "local",
            "name": "data", "tags": {}, "created_at": null, "mount_path": "/data"
        });
        RecoveryPoint {
            id: "rp-1".into(),
            status: PointStatus::Completed,
            storage_class: crate::jobs::StorageClass::Warm,
            deleted_at: None,
            deleted_by: None,
            status_message: None,
            point: p,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_file_point_restores_from_its_source_directory_and_a_snapshot_does_not() {
        let (resource, source) = file_source(&point()).unwrap();
        assert_eq!(
            (resource.arn.as_str(), source),
            ("dir:/data", PathBuf::from("/data"))
        );
        let mut ebs = point();
        ebs.point.resource = serde_json::json!({
            "arn": "arn:aws:ec2:us-east-1:1:volume/vol-1", "type": "EBS", "region": "us-east-1",
            "account": "1", "name": null, "tags": {}, "created_at": null
        });
        let err = file_source(&ebs).unwrap_err();
        assert!(err.contains("is a EBS snapshot"), "{err}");
    }

    #[test]
    fn a_restore_job_runs_and_ends_as_a_restore() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        let p = point();
        let job = begin(&mut catalog, &p, "dir:/data", at("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(
            (job.job.kind, job.state()),
            (JobKind::Restore, JobState::Running)
        );

        let done = Outcome::Restored(Restored {
            files: 2,
            dirs: 1,
            bytes: 10,
            verified: 2,
        });
        let target = std::path::Path::new("/restore/here");
        let ended = finish(
            &mut catalog,
            &job,
            &p,
            target,
            &done,
            at("2026-12-01T00:01:00Z"),
        )
        .unwrap();
        assert_eq!(ended.state(), JobState::Completed);
        let back = catalog.job(&job.id).unwrap().unwrap();
        assert_eq!(back.job.recovery_point_id.as_deref(), Some("rp-1"));
        assert_eq!(back.bytes, Some(10));

        let other = begin(&mut catalog, &p, "dir:/data", at("2026-12-01T00:02:00Z")).unwrap();
        let stopped = finish(
            &mut catalog,
            &other,
            &p,
            target,
            &Outcome::Interrupted,
            at("2026-12-01T00:03:00Z"),
        )
        .unwrap();
        assert_eq!(stopped.state(), JobState::Aborted);
        let states: Vec<JobState> = stopped.history.transitions.iter().map(|t| t.0).collect();
        assert_eq!(
            states,
            [
                JobState::Created,
                JobState::Running,
                JobState::Aborting,
                JobState::Aborted
            ]
        );
    }

    #[test]
    fn restores_a_dead_coffer_left_are_failed_with_the_reason_and_nothing_else_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        let p = point();
        let left = begin(&mut catalog, &p, "dir:/data", at("2026-12-01T00:00:00Z")).unwrap();
        let backup = catalog
            .create_job(
                &NewJob {
                    kind: JobKind::Backup,
                    plan: None,
                    rule: None,
                    resource_arn: "dir:/data".into(),
                    vault: "main".into(),
                    windows: Windows::on_demand(at("2026-12-01T00:00:00Z")),
                    options: JobOptions::default(),
                    recovery_point_id: None,
                    source_recovery_point_id: None,
                },
                at("2026-12-01T00:00:00Z"),
            )
            .unwrap()
            .unwrap();
        let ended = end_interrupted(&mut catalog, at("2026-12-01T01:00:00Z")).unwrap();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].id, left.id);
        assert_eq!(ended[0].state(), JobState::Failed);
        assert_eq!(ended[0].error.as_deref(), Some(INTERRUPTED));
        assert_eq!(
            catalog.job(&backup.id).unwrap().unwrap().state(),
            JobState::Created,
            "a backup job is the runner's, not this"
        );
        assert!(end_interrupted(&mut catalog, at("2026-12-01T02:00:00Z"))
            .unwrap()
            .is_empty());
    }
}
