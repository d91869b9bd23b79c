//! Job reports (`coffer report jobs|copies|restores`): the rows of AWS Backup's backup, copy
//! and restore job report templates, built from catalog job records for a time window, and
//! rendered as a text table for people, CSV and JSON for tools, and markdown for a pull
//! request or wiki. Like AWS's reports, a window holds the jobs that ended in it and every
//! job still active at its end. Pure: jobs, the window and nothing else.

use super::{rfc3339, table};
use crate::jobs::record::JobRecord;
use crate::jobs::{JobKind, JobState};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Backup jobs (AWS's BACKUP_JOB_REPORT).
    Jobs,
    /// Copy jobs (COPY_JOB_REPORT).
    Copies,
    /// Restore jobs (RESTORE_JOB_REPORT).
    Restores,
}

impl ReportKind {
    /// The job kind the report is about.
    pub fn job_kind(self) -> JobKind {
        match self {
            ReportKind::Jobs => JobKind::Backup,
            ReportKind::Copies => JobKind::Copy,
            ReportKind::Restores => JobKind::Restore,
        }
    }
}

/// The report's window: jobs that ended in `[start, end)`, and jobs still active at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One job of a report, with the fields of AWS Backup's job report templates that coffer
/// knows (backup, copy and restore fields; those of other kinds are null); schema in
/// schema/report-jobs.schema.json.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobReportRow {
    /// RFC 3339, seconds: the report's window.
    pub report_time_period_start: String,
    pub report_time_period_end: String,
    /// From the resource's ARN; null for local directories.
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// The job's id (backupJobId, copyJobId or restoreJobId in AWS's templates).
    pub job_id: String,
    /// coffer's job state: CREATED, PENDING, RUNNING, COMPLETED, PARTIAL, FAILED, EXPIRED,
    /// ABORTING, ABORTED.
    pub job_status: JobState,
    /// Why the job failed, or what its completion warns of.
    pub status_message: Option<String>,
    /// EBS, EC2, RDS, Aurora, EFS, DynamoDB or directory.
    pub resource_type: Option<String>,
    /// The resource backed up, whose point is copied, or whose point is restored.
    pub resource_arn: String,
    pub backup_plan_name: Option<String>,
    pub backup_rule_name: Option<String>,
    /// When the job was created, started and ended (RFC 3339, seconds).
    pub creation_date: String,
    pub start_window_end: String,
    pub completion_date: Option<String>,
    /// Seconds from creation to the end, for jobs that ended.
    pub job_run_time: Option<i64>,
    pub backup_size_in_bytes: Option<u64>,
    /// The vault the job writes to (the destination, for a copy; the point's, for a restore).
    pub backup_vault_name: String,
    /// The point the job made (backup, copy) or restores.
    pub recovery_point_id: Option<String>,
    /// A copy's source point.
    pub source_recovery_point_id: Option<String>,
    /// What a restore created.
    pub created_resource_arn: Option<String>,
    /// A restore test's validation of what a restore created.
    pub validation_status: Option<String>,
    pub attempts: u32,
}

/// The resource type an ARN names, as coffer's inventory spells it.
pub fn resource_type_of(arn: &str) -> Option<&'static str> {
    if arn.starts_with("dir:") {
        return Some("directory");
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (service, rest) = (parts.get(2)?, parts.get(5)?);
    match *service {
        "ec2" if rest.starts_with("volume/") => Some("EBS"),
        "ec2" if rest.starts_with("instance/") => Some("EC2"),
        "rds" if rest.starts_with("db:") => Some("RDS"),
        "rds" if rest.starts_with("cluster:") => Some("Aurora"),
        "elasticfilesystem" => Some("EFS"),
        "dynamodb" => Some("DynamoDB"),
        _ => None,
    }
}

/// The region and account of an AWS ARN.
fn region_and_account(arn: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return (None, None);
    }
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    (some(parts[3]), some(parts[4]))
}

/// The last part of an address (`plan.daily` → `daily`, `plan.daily.rule.nightly` →
/// `nightly`).
fn short_name(address: &Option<String>, marker: &str) -> Option<String> {
    address
        .as_deref()
        .map(|a| a.rsplit_once(marker).map_or(a, |(_, n)| n).to_string())
}

/// The report's rows: `kind`'s jobs that ended in `window`, and those still active at its
/// end, oldest first.
pub fn job_report(kind: ReportKind, jobs: &[JobRecord], window: Window) -> Vec<JobReportRow> {
    /// A row with when its job was created and its run was scheduled, to sort by.
    type Keyed = ((DateTime<Utc>, DateTime<Utc>), JobReportRow);
    let mut rows: Vec<Keyed> = jobs
        .iter()
        .filter(|j| j.job.kind == kind.job_kind())
        .filter_map(|j| {
            let created = j.history.transitions.first()?.1;
            let state = j.state();
            let ended = state
                .is_terminal()
                .then(|| j.history.transitions.last().map(|t| t.1))
                .flatten();
            let shown = match ended {
                Some(at) => at >= window.start && at < window.end,
                None => created < window.end,
            };
            if !shown {
                return None;
            }
            let (region, account_id) = region_and_account(&j.job.resource_arn);
            let row = JobReportRow {
                report_time_period_start: rfc3339(window.start),
                report_time_period_end: rfc3339(window.end),
                account_id,
                region,
                job_id: j.id.clone(),
                job_status: state,
                status_message: j.error.clone().or_else(|| j.warning.clone()),
                resource_type: resource_type_of(&j.job.resource_arn).map(str::to_string),
                resource_arn: j.job.resource_arn.clone(),
                backup_plan_name: short_name(&j.job.plan, "plan."),
                backup_rule_name: short_name(&j.job.rule, ".rule."),
                creation_date: rfc3339(created),
                start_window_end: rfc3339(j.job.windows.start_by),
                completion_date: ended.map(rfc3339),
                job_run_time: j.duration_seconds(),
                backup_size_in_bytes: j.bytes,
                backup_vault_name: j.job.vault.clone(),
                recovery_point_id: j.job.recovery_point_id.clone(),
                source_recovery_point_id: j.job.source_recovery_point_id.clone(),
                created_resource_arn: j.created_resource_arn.clone(),
                validation_status: j.validation_status.clone(),
                attempts: j.attempts,
            };
            Some(((created, j.job.windows.scheduled_at), row))
        })
        .collect();
    // oldest first; jobs created at once by their run, then resource
    rows.sort_by(|a, b| {
        (a.0, &a.1.resource_arn, &a.1.job_id).cmp(&(b.0, &b.1.resource_arn, &b.1.job_id))
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

/// Every column of a row, in order, as CSV writes them: the JSON field names.
pub const COLUMNS: [&str; 22] = [
    "reportTimePeriodStart",
    "reportTimePeriodEnd",
    "accountId",
    "region",
    "jobId",
    "jobStatus",
    "statusMessage",
    "resourceType",
    "resourceArn",
    "backupPlanName",
    "backupRuleName",
    "creationDate",
    "startWindowEnd",
    "completionDate",
    "jobRunTime",
    "backupSizeInBytes",
    "backupVaultName",
    "recoveryPointId",
    "sourceRecoveryPointId",
    "createdResourceArn",
    "validationStatus",
    "attempts",
];

/// A row's values, in the order of [`COLUMNS`].
fn cells(r: &JobReportRow) -> [String; 22] {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        r.report_time_period_start.clone(),
        r.report_time_period_end.clone(),
        o(&r.account_id),
        o(&r.region),
        r.job_id.clone(),
        r.job_status.as_str().to_string(),
        o(&r.status_message),
        o(&r.resource_type),
        r.resource_arn.clone(),
        o(&r.backup_plan_name),
        o(&r.backup_rule_name),
        r.creation_date.clone(),
        r.start_window_end.clone(),
        o(&r.completion_date),
        r.job_run_time.map(|t| t.to_string()).unwrap_or_default(),
        n(r.backup_size_in_bytes),
        r.backup_vault_name.clone(),
        o(&r.recovery_point_id),
        o(&r.source_recovery_point_id),
        o(&r.created_resource_arn),
        o(&r.validation_status),
        r.attempts.to_string(),
    ]
}

/// The rows as CSV with a header line (every column, even with no rows).
pub fn report_csv(rows: &[JobReportRow]) -> String {
    let cells: Vec<[String; 22]> = rows.iter().map(cells).collect();
    table::csv(&COLUMNS, &cells)
}

/// What a report is called in its title.
fn title(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Jobs => "Backup jobs",
        ReportKind::Copies => "Copy jobs",
        ReportKind::Restores => "Restore jobs",
    }
}

/// A count of the rows per state, worst first: `2 FAILED, 10 COMPLETED`.
fn tally(rows: &[JobReportRow]) -> String {
    let mut counts: Vec<(JobState, usize)> = Vec::new();
    for r in rows {
        match counts.iter_mut().find(|(s, _)| *s == r.job_status) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.job_status, 1)),
        }
    }
    let rank = |s: JobState| match s {
        JobState::Failed | JobState::Aborted | JobState::Expired => 0,
        JobState::Partial => 1,
        JobState::Completed => 3,
        _ => 2,
    };
    counts.sort_by_key(|(s, _)| (rank(*s), s.as_str()));
    if counts.is_empty() {
        return "no jobs".into();
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns a person reads, of every row.
fn person_columns(r: &JobReportRow) -> [String; 7] {
    [
        r.job_id.clone(),
        r.job_status.as_str().to_string(),
        r.resource_arn.clone(),
        r.backup_vault_name.clone(),
        r.creation_date.clone(),
        r.completion_date.clone().unwrap_or_else(|| "-".into()),
        r.status_message.clone().unwrap_or_default(),
    ]
}

const PERSON_HEADER: [&str; 7] = [
    "JOB", "STATUS", "RESOURCE", "VAULT", "CREATED", "ENDED", "MESSAGE",
];

/// The report as a table for people: a title with the window and a tally, then a line per
/// job.
pub fn report_text(kind: ReportKind, rows: &[JobReportRow], window: Window) -> String {
    let mut out = format!(
        "{} from {} to {}: {}\n",
        title(kind),
        rfc3339(window.start),
        rfc3339(window.end),
        tally(rows)
    );
    if rows.is_empty() {
        return out;
    }
    let lines: Vec<[String; 7]> = rows.iter().map(person_columns).collect();
    out.push_str(&table::text(&PERSON_HEADER, &lines));
    out
}

/// The report as markdown: a heading with the window and tally, and a table of the columns
/// people read.
pub fn report_markdown(kind: ReportKind, rows: &[JobReportRow], window: Window) -> String {
    let mut out = format!(
        "### {} from {} to {}\n\n{}\n",
        title(kind),
        rfc3339(window.start),
        rfc3339(window.end),
        tally(rows)
    );
    if rows.is_empty() {
        return out;
    }
    out.push('\n');
    let lines: Vec<[String; 7]> = rows.iter().map(person_columns).collect();
    out.push_str(&table::markdown(&PERSON_HEADER, &lines));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::record::NewJob;
    use crate::jobs::{History, JobOptions, Windows};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn job(id: &str, kind: JobKind, transitions: &[(JobState, &str)]) -> JobRecord {
        JobRecord {
            id: id.into(),
            job: NewJob {
                kind,
                plan: Some("plan.daily".into()),
                rule: Some("plan.daily.rule.nightly".into()),
                resource_arn: "arn:aws:ec2:eu-west-1:111122223333:volume/vol-1".into(),
                vault: "main".into(),
                windows: Windows {
                    scheduled_at: at("2026-12-05T03:00:00Z"),
                    start_by: at("2026-12-05T04:00:00Z"),
                    complete_by: at("2026-12-05T10:00:00Z"),
                },
                options: JobOptions::default(),
                recovery_point_id: None,
                source_recovery_point_id: None,
            },
            history: History {
                transitions: transitions.iter().map(|(s, t)| (*s, at(t))).collect(),
            },
            attempts: 1,
            error: None,
            bytes: Some(1 << 30),
            native_ids: vec![],
            warning: None,
            created_resource_arn: None,
            validation_status: None,
            validation_message: None,
            deletion_status: None,
        }
    }

    fn window() -> Window {
        Window {
            start: at("2026-12-05T00:00:00Z"),
            end: at("2026-12-06T00:00:00Z"),
        }
    }

    #[test]
    fn a_window_holds_the_jobs_that_ended_in_it_and_those_still_active() {
        let jobs = vec![
            job(
                "ended-in",
                JobKind::Backup,
                &[
                    (JobState::Created, "2026-12-05T03:00:01Z"),
                    (JobState::Completed, "2026-12-05T03:10:00Z"),
                ],
            ),
            job(
                "ended-before",
                JobKind::Backup,
                &[
                    (JobState::Created, "2026-12-04T03:00:01Z"),
                    (JobState::Failed, "2026-12-04T03:10:00Z"),
                ],
            ),
            job(
                "running",
                JobKind::Backup,
                &[
                    (JobState::Created, "2026-12-03T03:00:01Z"),
                    (JobState::Running, "2026-12-03T03:00:02Z"),
                ],
            ),
            job(
                "a-copy",
                JobKind::Copy,
                &[
                    (JobState::Created, "2026-12-05T03:00:01Z"),
                    (JobState::Completed, "2026-12-05T03:10:00Z"),
                ],
            ),
        ];
        let rows = job_report(ReportKind::Jobs, &jobs, window());
        let ids: Vec<&str> = rows.iter().map(|r| r.job_id.as_str()).collect();
        assert_eq!(ids, ["running", "ended-in"]);
        let done = &rows[1];
        assert_eq!(done.job_run_time, Some(599));
        assert_eq!(done.region.as_deref(), Some("eu-west-1"));
        assert_eq!(done.account_id.as_deref(), Some("111122223333"));
        assert_eq!(done.resource_type.as_deref(), Some("EBS"));
        assert_eq!(done.backup_plan_name.as_deref(), Some("daily"));
        assert_eq!(done.backup_rule_name.as_deref(), Some("nightly"));
        assert_eq!(rows[0].completion_date, None);
        let copies = job_report(ReportKind::Copies, &jobs, window());
        assert_eq!(copies.len(), 1);
    }

    #[test]
    fn csv_quotes_what_would_break_a_field_and_markdown_escapes_bars() {
        let mut failed = job(
            "j1",
            JobKind::Backup,
            &[
                (JobState::Created, "2026-12-05T03:00:01Z"),
                (JobState::Failed, "2026-12-05T03:10:00Z"),
            ],
        );
        failed.error = Some("KMS key \"k\" is disabled, see | docs".into());
        let rows = job_report(ReportKind::Jobs, &[failed], window());
        let csv = report_csv(&rows);
        let mut lines = csv.split("\r\n");
        let header = lines.next().unwrap();
        assert!(header.starts_with("reportTimePeriodStart,reportTimePeriodEnd,accountId"));
        let row = lines.next().unwrap();
        assert!(
            row.contains(",\"KMS key \"\"k\"\" is disabled, see | docs\","),
            "{row}"
        );
        // CSV's columns are JSON's fields, in the same order
        let json = serde_json::to_value(&rows[0]).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns = COLUMNS.to_vec();
        columns.sort();
        let mut sorted = fields.clone();
        sorted.sort();
        assert_eq!(sorted, columns);
        let md = report_markdown(ReportKind::Jobs, &rows, window());
        assert!(md.contains("see \\| docs"), "{md}");
        assert!(md.contains("1 FAILED"), "{md}");
    }
}
