//! Rendering of jobs and recovery points for people (aligned tables, one job in detail) and
//! machines (JSON). Pure: records in, strings and JSON values out.

use crate::jobs::record::{JobRecord, RecoveryPoint};
use crate::jobs::{DeletedBy, JobKind, JobState, PointStatus, StorageClass};
use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

fn t(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Bytes in words: `8.0 GiB`.
pub fn size(bytes: Option<u64>) -> String {
    let Some(b) = bytes else {
        return "-".into();
    };
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// A job as `--json` writes it (`jobs list` elements, `jobs show`, `backup start`, and the
/// jobs of `run`); schema/job.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobJson {
    pub id: String,
    pub kind: JobKind,
    pub state: JobState,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub resource_arn: String,
    pub vault: String,
    /// RFC 3339, seconds.
    pub scheduled_at: String,
    pub start_by: String,
    pub complete_by: String,
    pub attempts: u32,
    pub error: Option<String>,
    pub bytes: Option<u64>,
    /// What the job made outside coffer (snapshot ids, AMI id, RDS snapshot ARN, repository
    /// snapshot id).
    pub native_ids: Vec<String>,
    /// The point the job made (backup, copy) or acts on (delete, cold, restore).
    pub recovery_point_id: Option<String>,
    /// The point a copy job copies.
    pub source_recovery_point_id: Option<String>,
    /// What a restore created.
    pub created_resource_arn: Option<String>,
    /// What a restore creates, as restore metadata.
    pub restore_metadata: BTreeMap<String, String>,
    /// From creation to the end, for jobs that ended (a restore's restore time).
    pub duration_seconds: Option<i64>,
    /// A restore test's validation (SUCCESSFUL, FAILED, TIMED_OUT), recorded once, and why.
    pub validation_status: Option<String>,
    pub validation_message: Option<String>,
    /// Whether what a restore test restored was deleted (SUCCESSFUL, FAILED …).
    pub deletion_status: Option<String>,
    pub warning: Option<String>,
    pub recovery_point_tags: BTreeMap<String, String>,
    pub lifecycle: LifecycleJson,
    /// Every state the job went through, with when.
    pub transitions: Vec<TransitionJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LifecycleJson {
    pub cold_storage_after: Option<String>,
    pub delete_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TransitionJson {
    pub state: JobState,
    pub at: String,
}

impl JobJson {
    pub fn of(j: &JobRecord) -> JobJson {
        JobJson {
            id: j.id.clone(),
            kind: j.job.kind,
            state: j.state(),
            plan: j.job.plan.clone(),
            rule: j.job.rule.clone(),
            resource_arn: j.job.resource_arn.clone(),
            vault: j.job.vault.clone(),
            scheduled_at: t(j.job.windows.scheduled_at),
            start_by: t(j.job.windows.start_by),
            complete_by: t(j.job.windows.complete_by),
            attempts: j.attempts,
            error: j.error.clone(),
            bytes: j.bytes,
            native_ids: j.native_ids.clone(),
            recovery_point_id: j.job.recovery_point_id.clone(),
            source_recovery_point_id: j.job.source_recovery_point_id.clone(),
            created_resource_arn: j.created_resource_arn.clone(),
            restore_metadata: j.job.options.restore.clone(),
            duration_seconds: j.duration_seconds(),
            validation_status: j.validation_status.clone(),
            validation_message: j.validation_message.clone(),
            deletion_status: j.deletion_status.clone(),
            warning: j.warning.clone(),
            recovery_point_tags: j.job.options.tags.clone(),
            lifecycle: LifecycleJson {
                cold_storage_after: j.job.options.cold_storage_after.clone(),
                delete_after: j.job.options.delete_after.clone(),
            },
            transitions: j
                .history
                .transitions
                .iter()
                .map(|(s, at)| TransitionJson {
                    state: *s,
                    at: t(*at),
                })
                .collect(),
        }
    }
}

/// A recovery point as `recovery-points list --json` writes it;
/// schema/recovery-points.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PointJson {
    pub id: String,
    pub status: PointStatus,
    /// `WARM`, or `COLD` once lifecycle moved it to cold storage.
    pub storage_class: StorageClass,
    pub deleted_at: Option<String>,
    pub deleted_by: Option<DeletedBy>,
    /// The applied legal holds that match it.
    pub holds: Vec<String>,
    /// Why it is EXPIRED (past its retention, not deleted), when it is.
    pub status_message: Option<String>,
    /// With `--why`: what keeps it (keep clauses, `delete_after`, `keep_at_least`, a vault
    /// lock, legal holds); empty when lifecycle deletes it at the next tick.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_by: Option<Vec<String>>,
    pub vault: String,
    pub native_id: String,
    pub resource_arn: String,
    pub resource_type: String,
    /// The source resource as it was at backup time.
    pub resource: Value,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub job_id: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub size_bytes: Option<u64>,
    pub encrypted: bool,
    pub kms_key: Option<String>,
    pub cold_at: Option<String>,
    pub delete_at: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The point this one is a copy of (copies only).
    pub source_recovery_point_id: Option<String>,
}

/// A recovery point with what the applied configuration says about it now.
#[derive(Debug, Clone, Copy)]
pub struct PointView<'a> {
    pub point: &'a RecoveryPoint,
    pub holds: &'a [String],
    /// What keeps it, when asked (`--why`).
    pub kept_by: Option<&'a [String]>,
}

impl<'a> PointView<'a> {
    /// A point with no holds and no reasons asked for.
    pub fn bare(point: &'a RecoveryPoint) -> PointView<'a> {
        PointView {
            point,
            holds: &[],
            kept_by: None,
        }
    }
}

impl PointJson {
    pub fn of(v: PointView<'_>) -> PointJson {
        let p = v.point;
        let q = &p.point;
        PointJson {
            id: p.id.clone(),
            status: p.status,
            storage_class: p.storage_class,
            deleted_at: p.deleted_at.map(t),
            deleted_by: p.deleted_by,
            holds: v.holds.to_vec(),
            status_message: p.status_message.clone(),
            kept_by: v.kept_by.map(<[String]>::to_vec),
            vault: q.vault.clone(),
            native_id: q.native_id.clone(),
            resource_arn: q.resource_arn.clone(),
            resource_type: q.resource_type.clone(),
            resource: q.resource.clone(),
            plan: q.plan.clone(),
            rule: q.rule.clone(),
            job_id: q.job_id.clone(),
            created_at: t(q.created_at),
            completed_at: q.completed_at.map(t),
            size_bytes: q.size_bytes,
            encrypted: q.encrypted,
            kms_key: q.kms_key.clone(),
            cold_at: q.cold_at.map(t),
            delete_at: q.delete_at.map(t),
            tags: q.tags.clone(),
            source_recovery_point_id: q.source_recovery_point_id.clone(),
        }
    }
}

/// Any typed output as a JSON value (object keys sorted, as every `--json` output has them).
pub fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A job as JSON (the shape of `jobs list --json` elements and `jobs show --json`).
pub fn job_json(j: &JobRecord) -> Value {
    to_json(&JobJson::of(j))
}

/// A recovery point as JSON.
pub fn point_json(v: PointView<'_>) -> Value {
    to_json(&PointJson::of(v))
}

/// Rows as aligned columns; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let n = cells.len();
        let mut out = String::new();
        for (i, c) in cells.into_iter().enumerate() {
            out.push_str(c);
            if i + 1 < n {
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// The rule that made a job; `on-demand` for `backup start`, the kind for other jobs.
fn rule_or_on_demand(j: &JobRecord) -> String {
    match &j.job.rule {
        Some(r) => r.clone(),
        None if j.job.kind == JobKind::Backup => "on-demand".into(),
        None => j.job.kind.to_string(),
    }
}

/// What a job made, or the first line of why it did not.
pub fn detail(j: &JobRecord) -> String {
    if j.job.kind == JobKind::Prune && j.state() == JobState::Completed {
        return match j.bytes {
            Some(0) | None => "nothing to prune".into(),
            Some(b) => format!("pruned {} of unused data", size(Some(b))),
        };
    }
    match (j.native_ids.first(), &j.error) {
        (Some(n), _) => n.clone(),
        (None, Some(e)) => e.lines().next().unwrap_or_default().to_string(),
        (None, None) => "-".into(),
    }
}

/// `coffer jobs list`.
pub fn jobs_table(jobs: &[JobRecord]) -> String {
    if jobs.is_empty() {
        return "No jobs.\n".into();
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.clone(),
                j.state().as_str().to_string(),
                t(j.job.windows.scheduled_at),
                rule_or_on_demand(j),
                j.job.resource_arn.clone(),
                detail(j),
            ]
        })
        .collect();
    let mut out = table(
        &["ID", "STATE", "SCHEDULED", "RULE", "RESOURCE", "DETAIL"],
        &rows,
    );
    let mut counts: Vec<(JobState, usize)> = JobState::ALL
        .into_iter()
        .map(|s| (s, jobs.iter().filter(|j| j.state() == s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    counts.sort_by_key(|(s, _)| *s);
    let parts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str().to_lowercase()))
        .collect();
    out.push_str(&format!(
        "\n{} job{}: {}.\n",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" },
        parts.join(", ")
    ));
    out
}

/// `coffer jobs show ID`.
pub fn job_detail(j: &JobRecord) -> String {
    let mut out = String::new();
    let mut field = |k: &str, v: String| out.push_str(&format!("{k:<17}{v}\n"));
    field("Job", j.id.clone());
    field("Kind", j.job.kind.to_string());
    field("State", j.state().as_str().to_string());
    field("Rule", rule_or_on_demand(j));
    field("Resource", j.job.resource_arn.clone());
    field("Vault", j.job.vault.clone());
    field("Scheduled", t(j.job.windows.scheduled_at));
    field("Start by", t(j.job.windows.start_by));
    field("Complete by", t(j.job.windows.complete_by));
    field("Attempts", j.attempts.to_string());
    if !j.native_ids.is_empty() {
        field("Created", j.native_ids.join(", "));
    }
    if j.bytes.is_some() {
        field("Size", size(j.bytes));
    }
    if let Some(rp) = &j.job.source_recovery_point_id {
        field("Copy of", rp.clone());
    }
    if let Some(rp) = &j.job.recovery_point_id {
        field("Recovery point", rp.clone());
    }
    if let Some(arn) = &j.created_resource_arn {
        field("Created resource", arn.clone());
    }
    for (k, v) in &j.job.options.restore {
        field(&format!("  {k}"), v.clone());
    }
    if let (JobKind::Restore, Some(s)) = (j.job.kind, j.duration_seconds()) {
        field("Restore time", format!("{s} s"));
    }
    if let Some(v) = &j.validation_status {
        let why = j
            .validation_message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        field("Validation", format!("{v}{why}"));
    }
    if let Some(d) = &j.deletion_status {
        field("Cleanup", d.clone());
    }
    if let Some(e) = &j.error {
        field("Error", e.replace('\n', &format!("\n{:17}", "")));
    }
    if let Some(w) = &j.warning {
        field("Warning", w.clone());
    }
    out.push_str("\nHistory:\n");
    for (s, at) in &j.history.transitions {
        out.push_str(&format!("  {}  {}\n", t(*at), s.as_str()));
    }
    out
}

/// `coffer recovery-points list`.
pub fn points_table(points: &[PointView<'_>]) -> String {
    if points.is_empty() {
        return "No recovery points.\n".into();
    }
    let why = points.iter().any(|v| v.kept_by.is_some());
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|v| {
            let p = v.point;
            let q = &p.point;
            let status = match (p.deleted_by, p.deleted_at) {
                (Some(by), Some(at)) => format!("{} ({}, {})", p.status, by.as_str(), t(at)),
                (Some(by), None) => format!("{} ({})", p.status, by.as_str()),
                _ => p.status.to_string(),
            };
            let mut row = vec![
                p.id.clone(),
                status,
                p.storage_class.as_str().to_string(),
                q.vault.clone(),
                t(q.created_at),
                q.resource_type.clone(),
                q.resource_arn.clone(),
                q.native_id.clone(),
                size(q.size_bytes),
                q.delete_at.map_or_else(|| "never".into(), t),
                if v.holds.is_empty() {
                    "-".into()
                } else {
                    v.holds.join(",")
                },
            ];
            if why {
                row.push(match v.kept_by {
                    Some([]) => "nothing: deleted at the next tick".into(),
                    Some(k) => k.join("; "),
                    None => "-".into(),
                });
            }
            row
        })
        .collect();
    let mut header = vec![
        "ID",
        "STATUS",
        "STORAGE",
        "VAULT",
        "CREATED",
        "TYPE",
        "RESOURCE",
        "NATIVE ID",
        "SIZE",
        "DELETE AT",
        "HOLDS",
    ];
    if why {
        header.push("KEPT BY");
    }
    let mut out = table(&header, &rows);
    for v in points {
        if let Some(m) = &v.point.status_message {
            out.push_str(&format!("\n{} {}: {m}", v.point.id, v.point.status));
        }
    }
    if points.iter().any(|v| v.point.status_message.is_some()) {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} recovery point{}.\n",
        points.len(),
        if points.len() == 1 { "" } else { "s" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(size(None), "-");
        assert_eq!(size(Some(512)), "512 B");
        assert_eq!(size(Some(8 << 30)), "8.0 GiB");
    }

    #[test]
    fn tables_align_columns_and_leave_the_last_unpadded() {
        let out = table(&["A", "LONG"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(out, "A    LONG\nxyz  1\n");
    }
}
