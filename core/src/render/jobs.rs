//! Rendering of jobs and recovery points for people (aligned tables, one job in detail) and
//! machines (JSON). Pure: records in, strings and JSON values out.

use crate::jobs::record::{JobRecord, RecoveryPoint};
use crate::jobs::JobKind;
use crate::jobs::JobState;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

fn t(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn opt_t(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |a| Value::String(t(a)))
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

/// A job as JSON (the shape of `jobs list --json` elements and `jobs show --json`).
pub fn job_json(j: &JobRecord) -> Value {
    json!({
        "id": j.id,
        "kind": j.job.kind,
        "state": j.state().as_str(),
        "plan": j.job.plan,
        "rule": j.job.rule,
        "resource_arn": j.job.resource_arn,
        "vault": j.job.vault,
        "scheduled_at": t(j.job.windows.scheduled_at),
        "start_by": t(j.job.windows.start_by),
        "complete_by": t(j.job.windows.complete_by),
        "attempts": j.attempts,
        "error": j.error,
        "bytes": j.bytes,
        "native_ids": j.native_ids,
        "recovery_point_id": j.recovery_point_id,
        "warning": j.warning,
        "recovery_point_tags": j.job.options.tags,
        "lifecycle": {
            "cold_storage_after": j.job.options.cold_storage_after,
            "delete_after": j.job.options.delete_after,
        },
        "transitions": j.history.transitions.iter().map(|(s, at)| json!({"state": s.as_str(), "at": t(*at)})).collect::<Vec<_>>(),
    })
}

/// A recovery point as JSON.
pub fn point_json(p: &RecoveryPoint) -> Value {
    let q = &p.point;
    json!({
        "id": p.id,
        "status": p.status,
        "vault": q.vault,
        "native_id": q.native_id,
        "resource_arn": q.resource_arn,
        "resource_type": q.resource_type,
        "resource": q.resource,
        "plan": q.plan,
        "rule": q.rule,
        "job_id": q.job_id,
        "created_at": t(q.created_at),
        "completed_at": opt_t(q.completed_at),
        "size_bytes": q.size_bytes,
        "encrypted": q.encrypted,
        "kms_key": q.kms_key,
        "cold_at": opt_t(q.cold_at),
        "delete_at": opt_t(q.delete_at),
        "tags": q.tags,
    })
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
    if let Some(rp) = &j.recovery_point_id {
        field("Recovery point", rp.clone());
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
pub fn points_table(points: &[RecoveryPoint]) -> String {
    if points.is_empty() {
        return "No recovery points.\n".into();
    }
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let q = &p.point;
            vec![
                p.id.clone(),
                q.vault.clone(),
                t(q.created_at),
                q.resource_type.clone(),
                q.resource_arn.clone(),
                q.native_id.clone(),
                size(q.size_bytes),
                q.delete_at.map_or_else(|| "never".into(), t),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "ID",
            "VAULT",
            "CREATED",
            "TYPE",
            "RESOURCE",
            "NATIVE ID",
            "SIZE",
            "DELETE AT",
        ],
        &rows,
    );
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
