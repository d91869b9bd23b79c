//! Jobs (`/jobs`): jobs per day by status (the stacked bars), the most frequent errors, and a
//! filterable, paginated table of recent jobs of every kind; and one job's page: its
//! transitions, error and what it made.

use super::model::{JobRow, Model};
use super::status::{self, Status};
use crate::jobs::record::JobRecord;
use crate::jobs::JobKind;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

pub const ROWS_PER_PAGE: usize = 50;
/// Days of bars.
pub const CHART_DAYS: i64 = 14;
const TOP_ERRORS: usize = 5;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub kind: Option<JobKind>,
    pub status: Option<Status>,
    /// A part of the resource ARN.
    pub resource: Option<String>,
    pub page: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Jobs {
    pub now: DateTime<Utc>,
    pub chart: Vec<DayBar>,
    pub top_errors: Vec<ErrorCount>,
    pub kind: Option<JobKind>,
    pub status: Option<Status>,
    pub resource: Option<String>,
    pub page: usize,
    pub pages: usize,
    /// Jobs that pass the filters, on all pages (of the last 31 days).
    pub total: usize,
    pub rows: Vec<JobRow>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DayBar {
    pub date: NaiveDate,
    pub counts: BTreeMap<Status, u64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorCount {
    pub message: String,
    pub jobs: u64,
}

pub fn build(model: &Model, q: Query) -> Jobs {
    let today = model.today();
    let chart = (0..CHART_DAYS)
        .rev()
        .map(|back| {
            let date = today - Duration::days(back);
            let mut counts = BTreeMap::new();
            for ((_, kind, s), n) in model
                .job_days
                .range((date, JobKind::Backup, Status::NotYetProtected)..)
                .take_while(|((d, _, _), _)| *d == date)
            {
                if q.kind.is_none_or(|k| k == *kind) {
                    *counts.entry(*s).or_default() += n;
                }
            }
            DayBar { date, counts }
        })
        .collect();
    let passing: Vec<&JobRow> = model
        .jobs
        .iter()
        .filter(|j| q.kind.is_none_or(|k| j.kind == k))
        .filter(|j| q.status.is_none_or(|s| j.status == s))
        .filter(|j| {
            q.resource
                .as_ref()
                .is_none_or(|r| j.resource_arn.contains(r.as_str()))
        })
        .collect();
    let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
    for j in &passing {
        if j.status == Status::Failed {
            if let Some(m) = &j.message {
                *errors.entry(m.as_str()).or_default() += 1;
            }
        }
    }
    let mut top_errors: Vec<ErrorCount> = errors
        .into_iter()
        .map(|(m, n)| ErrorCount {
            message: m.to_string(),
            jobs: n,
        })
        .collect();
    top_errors.sort_by(|a, b| b.jobs.cmp(&a.jobs).then(a.message.cmp(&b.message)));
    top_errors.truncate(TOP_ERRORS);
    let pages = passing.len().div_ceil(ROWS_PER_PAGE).max(1);
    let page = q.page.clamp(1, pages);
    Jobs {
        now: model.now,
        chart,
        top_errors,
        kind: q.kind,
        status: q.status,
        resource: q.resource,
        page,
        pages,
        total: passing.len(),
        rows: passing
            .into_iter()
            .skip((page - 1) * ROWS_PER_PAGE)
            .take(ROWS_PER_PAGE)
            .cloned()
            .collect(),
    }
}

/// One job's page.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobDetail {
    pub id: String,
    pub kind: JobKind,
    pub state: String,
    pub status: Status,
    pub resource_arn: String,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub vault: String,
    pub scheduled_at: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
    pub complete_by: DateTime<Utc>,
    pub transitions: Vec<Transition>,
    pub attempts: u32,
    pub error: Option<String>,
    pub warning: Option<String>,
    pub bytes: Option<u64>,
    pub duration_seconds: Option<i64>,
    /// The point it made or acted on, and the one a copy copied.
    pub recovery_point_id: Option<String>,
    pub source_recovery_point_id: Option<String>,
    /// What it made outside coffer (snapshot ids, AMI ids).
    pub native_ids: Vec<String>,
    pub created_resource_arn: Option<String>,
    pub validation_status: Option<String>,
    pub validation_message: Option<String>,
    pub deletion_status: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Transition {
    pub state: String,
    pub at: DateTime<Utc>,
}

pub fn detail(j: &JobRecord) -> JobDetail {
    JobDetail {
        id: j.id.clone(),
        kind: j.job.kind,
        state: j.state().as_str().to_string(),
        status: status::of_job(j),
        resource_arn: j.job.resource_arn.clone(),
        plan: j.job.plan.clone(),
        rule: j.job.rule.clone(),
        vault: j.job.vault.clone(),
        scheduled_at: j.job.windows.scheduled_at,
        start_by: j.job.windows.start_by,
        complete_by: j.job.windows.complete_by,
        transitions: j
            .history
            .transitions
            .iter()
            .map(|(s, at)| Transition {
                state: s.as_str().to_string(),
                at: *at,
            })
            .collect(),
        attempts: j.attempts,
        error: j.error.clone(),
        warning: j.warning.clone(),
        bytes: j.bytes,
        duration_seconds: j.duration_seconds(),
        recovery_point_id: j.job.recovery_point_id.clone(),
        source_recovery_point_id: j.job.source_recovery_point_id.clone(),
        native_ids: j.native_ids.clone(),
        created_resource_arn: j.created_resource_arn.clone(),
        validation_status: j.validation_status.clone(),
        validation_message: j.validation_message.clone(),
        deletion_status: j.deletion_status.clone(),
    }
}
