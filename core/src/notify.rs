//! Notifications (pure): the events coffer notifies of (AWS Backup's names where they exist,
//! coffer's own otherwise), the payload each delivery carries (schema/notification.schema.json),
//! and which events a job's start or end, a blocked mass deletion or a control that stopped
//! being met raise. Delivery is the shell's.

use crate::jobs::record::JobRecord;
use crate::jobs::{restore_test, DeletedBy, JobKind, JobState};
use crate::render::rfc3339;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a notification can be about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationEvent {
    BackupJobStarted,
    BackupJobCompleted,
    BackupJobFailed,
    CopyJobFailed,
    RestoreJobCompleted,
    RestoreJobFailed,
    /// A point moved to cold storage.
    RecoveryPointModified,
    /// A point was deleted at the end of its lifecycle or retention.
    RecoveryPointExpired,
    /// A restore test's validation failed or timed out, or its restore failed.
    RestoreTestFailed,
    /// A control became NON_COMPLIANT.
    ControlNonCompliant,
    /// The mass-deletion breaker held a vault's deletions back.
    MassDeletionBlocked,
}

impl NotificationEvent {
    pub const ALL: [NotificationEvent; 11] = [
        NotificationEvent::BackupJobStarted,
        NotificationEvent::BackupJobCompleted,
        NotificationEvent::BackupJobFailed,
        NotificationEvent::CopyJobFailed,
        NotificationEvent::RestoreJobCompleted,
        NotificationEvent::RestoreJobFailed,
        NotificationEvent::RecoveryPointModified,
        NotificationEvent::RecoveryPointExpired,
        NotificationEvent::RestoreTestFailed,
        NotificationEvent::ControlNonCompliant,
        NotificationEvent::MassDeletionBlocked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NotificationEvent::BackupJobStarted => "BACKUP_JOB_STARTED",
            NotificationEvent::BackupJobCompleted => "BACKUP_JOB_COMPLETED",
            NotificationEvent::BackupJobFailed => "BACKUP_JOB_FAILED",
            NotificationEvent::CopyJobFailed => "COPY_JOB_FAILED",
            NotificationEvent::RestoreJobCompleted => "RESTORE_JOB_COMPLETED",
            NotificationEvent::RestoreJobFailed => "RESTORE_JOB_FAILED",
            NotificationEvent::RecoveryPointModified => "RECOVERY_POINT_MODIFIED",
            NotificationEvent::RecoveryPointExpired => "RECOVERY_POINT_EXPIRED",
            NotificationEvent::RestoreTestFailed => "RESTORE_TEST_FAILED",
            NotificationEvent::ControlNonCompliant => "CONTROL_NON_COMPLIANT",
            NotificationEvent::MassDeletionBlocked => "MASS_DELETION_BLOCKED",
        }
    }

    pub fn parse(name: &str) -> Option<NotificationEvent> {
        NotificationEvent::ALL
            .into_iter()
            .find(|e| e.name() == name)
    }
}

/// What one delivery carries (schema/notification.schema.json): the event, and the job,
/// resource, vault or control it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Payload {
    pub event: NotificationEvent,
    /// RFC 3339, seconds: when coffer saw it happen.
    pub time: String,
    /// The `notification` block delivering it (filled in per delivery).
    pub notification: String,
    pub job_id: Option<String>,
    pub job_kind: Option<JobKind>,
    pub job_state: Option<JobState>,
    pub resource_arn: Option<String>,
    pub vault: Option<String>,
    pub recovery_point_id: Option<String>,
    pub framework: Option<String>,
    pub control: Option<String>,
    /// What happened, in a sentence.
    pub message: String,
}

fn about_job(
    event: NotificationEvent,
    j: &JobRecord,
    now: DateTime<Utc>,
    message: String,
) -> Payload {
    Payload {
        event,
        time: rfc3339(now),
        notification: String::new(),
        job_id: Some(j.id.clone()),
        job_kind: Some(j.job.kind),
        job_state: Some(j.state()),
        resource_arn: Some(j.job.resource_arn.clone()),
        vault: Some(j.job.vault.clone()),
        recovery_point_id: j.job.recovery_point_id.clone(),
        framework: None,
        control: None,
        message,
    }
}

/// A backup job asked for its backup.
pub fn job_started(
    job_id: &str,
    kind: JobKind,
    resource_arn: &str,
    now: DateTime<Utc>,
) -> Option<Payload> {
    (kind == JobKind::Backup).then(|| Payload {
        event: NotificationEvent::BackupJobStarted,
        time: rfc3339(now),
        notification: String::new(),
        job_id: Some(job_id.to_string()),
        job_kind: Some(kind),
        job_state: Some(JobState::Running),
        resource_arn: Some(resource_arn.to_string()),
        vault: None,
        recovery_point_id: None,
        framework: None,
        control: None,
        message: format!("backup job {job_id} of {resource_arn} started"),
    })
}

/// What a job's end raises (a restore test's failed restore raises both its restore's and
/// the test's event).
pub fn job_ended(j: &JobRecord, now: DateTime<Utc>) -> Vec<Payload> {
    use NotificationEvent as E;
    let state = j.state();
    let failed = matches!(
        state,
        JobState::Failed | JobState::Aborted | JobState::Expired
    );
    let why = j
        .error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    let arn = &j.job.resource_arn;
    let mut out = Vec::new();
    let mut push = |e: NotificationEvent, m: String| out.push(about_job(e, j, now, m));
    match (j.job.kind, state) {
        (JobKind::Backup, JobState::Completed | JobState::Partial) => push(
            E::BackupJobCompleted,
            format!("backup job {} of {arn} ended {state}", j.id),
        ),
        (JobKind::Backup, _) if failed => push(
            E::BackupJobFailed,
            format!("backup job {} of {arn} ended {state}{why}", j.id),
        ),
        (JobKind::Copy, _) if failed => push(
            E::CopyJobFailed,
            format!(
                "copy job {} into vault {} ended {state}{why}",
                j.id, j.job.vault
            ),
        ),
        (JobKind::Restore, JobState::Completed) => push(
            E::RestoreJobCompleted,
            format!("restore job {} of a point of {arn} completed", j.id),
        ),
        (JobKind::Restore, _) if failed => push(
            E::RestoreJobFailed,
            format!(
                "restore job {} of a point of {arn} ended {state}{why}",
                j.id
            ),
        ),
        (JobKind::Cold, JobState::Completed) => push(
            E::RecoveryPointModified,
            format!(
                "recovery point {} moved to cold storage",
                j.job.recovery_point_id.as_deref().unwrap_or("?")
            ),
        ),
        (JobKind::Delete, JobState::Completed)
            if matches!(
                j.job.options.deleted_by,
                Some(DeletedBy::Lifecycle | DeletedBy::Retention)
            ) =>
        {
            push(
                E::RecoveryPointExpired,
                format!(
                    "recovery point {} of {arn} was deleted at the end of its retention",
                    j.job.recovery_point_id.as_deref().unwrap_or("?")
                ),
            )
        }
        _ => {}
    }
    let test = j
        .job
        .rule
        .as_deref()
        .and_then(restore_test::parse_label)
        .map(|(t, _)| t.to_string());
    if let (JobKind::Restore, Some(test)) = (j.job.kind, test) {
        let bad_validation = matches!(j.validation_status.as_deref(), Some("FAILED" | "TIMED_OUT"));
        if failed || bad_validation {
            let what = match (&j.validation_status, &j.validation_message) {
                (Some(s), Some(m)) if bad_validation => format!("validation {s}: {m}"),
                (Some(s), None) if bad_validation => format!("validation {s}"),
                _ => format!("its restore ended {state}{why}"),
            };
            out.push(about_job(
                E::RestoreTestFailed,
                j,
                now,
                format!("restore test {test} of {arn} failed: {what}"),
            ));
        }
    }
    out
}

/// The mass-deletion breaker held a vault's deletions back.
pub fn mass_deletion_blocked(vault: &str, deleting: u64, live: u64, now: DateTime<Utc>) -> Payload {
    Payload {
        event: NotificationEvent::MassDeletionBlocked,
        time: rfc3339(now),
        notification: String::new(),
        job_id: None,
        job_kind: None,
        job_state: None,
        resource_arn: None,
        vault: Some(vault.to_string()),
        recovery_point_id: None,
        framework: None,
        control: None,
        message: format!(
            "deleting {deleting} of vault {vault}'s {live} live points was held back by the mass-deletion breaker; run with --allow-mass-deletion if it is meant"
        ),
    }
}

/// A control that became NON_COMPLIANT, with how many resources fail it.
pub fn control_non_compliant(
    framework: &str,
    control: &str,
    failing: usize,
    first_reason: &str,
    now: DateTime<Utc>,
) -> Payload {
    Payload {
        event: NotificationEvent::ControlNonCompliant,
        time: rfc3339(now),
        notification: String::new(),
        job_id: None,
        job_kind: None,
        job_state: None,
        resource_arn: None,
        vault: None,
        recovery_point_id: None,
        framework: Some(framework.to_string()),
        control: Some(control.to_string()),
        message: format!(
            "{framework} / {control} is NON_COMPLIANT: {failing} resource{} fail it ({first_reason})",
            if failing == 1 { "" } else { "s" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::record::NewJob;
    use crate::jobs::{History, JobOptions, Windows};

    fn job(kind: JobKind, state: JobState, rule: Option<&str>) -> JobRecord {
        let t = DateTime::parse_from_rfc3339("2026-12-05T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        JobRecord {
            id: "job-1".into(),
            job: NewJob {
                kind,
                plan: None,
                rule: rule.map(str::to_string),
                resource_arn: "dir:/data".into(),
                vault: "main".into(),
                windows: Windows {
                    scheduled_at: t,
                    start_by: t,
                    complete_by: t,
                },
                options: JobOptions::default(),
                recovery_point_id: Some("rp-1".into()),
                source_recovery_point_id: None,
            },
            history: History {
                transitions: vec![(JobState::Created, t), (state, t)],
            },
            attempts: 1,
            error: Some("disk full".into()),
            bytes: None,
            native_ids: vec![],
            warning: None,
            created_resource_arn: None,
            validation_status: None,
            validation_message: None,
            deletion_status: None,
        }
    }

    fn events(j: &JobRecord) -> Vec<&'static str> {
        job_ended(j, Utc::now())
            .iter()
            .map(|p| p.event.name())
            .collect()
    }

    #[test]
    fn job_ends_raise_aws_backups_events() {
        assert_eq!(
            events(&job(JobKind::Backup, JobState::Failed, None)),
            ["BACKUP_JOB_FAILED"]
        );
        assert_eq!(
            events(&job(JobKind::Backup, JobState::Expired, None)),
            ["BACKUP_JOB_FAILED"]
        );
        assert_eq!(
            events(&job(JobKind::Backup, JobState::Completed, None)),
            ["BACKUP_JOB_COMPLETED"]
        );
        assert_eq!(
            events(&job(JobKind::Copy, JobState::Failed, None)),
            ["COPY_JOB_FAILED"]
        );
        assert!(events(&job(JobKind::Copy, JobState::Completed, None)).is_empty());
        assert_eq!(
            events(&job(JobKind::Cold, JobState::Completed, None)),
            ["RECOVERY_POINT_MODIFIED"]
        );
        let mut expired = job(JobKind::Delete, JobState::Completed, None);
        assert!(
            events(&expired).is_empty(),
            "a manual deletion is no expiry"
        );
        expired.job.options.deleted_by = Some(DeletedBy::Retention);
        assert_eq!(events(&expired), ["RECOVERY_POINT_EXPIRED"]);
        let label = restore_test::selection_label("weekly", "files");
        let mut tested = job(JobKind::Restore, JobState::Completed, Some(&label));
        tested.validation_status = Some("FAILED".into());
        tested.validation_message = Some("no orders".into());
        assert_eq!(
            events(&tested),
            ["RESTORE_JOB_COMPLETED", "RESTORE_TEST_FAILED"]
        );
        let p = &job_ended(&tested, Utc::now())[1];
        assert_eq!(
            p.message,
            "restore test weekly of dir:/data failed: validation FAILED: no orders"
        );
        assert_eq!(
            events(&job(JobKind::Restore, JobState::Failed, Some(&label))),
            ["RESTORE_JOB_FAILED", "RESTORE_TEST_FAILED"]
        );
        let p = &job_ended(&job(JobKind::Backup, JobState::Failed, None), Utc::now())[0];
        assert_eq!(
            p.message,
            "backup job job-1 of dir:/data ended FAILED: disk full"
        );
        assert_eq!(p.job_id.as_deref(), Some("job-1"));
    }

    #[test]
    fn event_names_round_trip() {
        for e in NotificationEvent::ALL {
            assert_eq!(NotificationEvent::parse(e.name()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.name());
        }
    }
}
