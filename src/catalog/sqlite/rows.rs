//! Rows to records and back: timestamps in one fixed-width text form (so text order is time
//! order), kinds, states and statuses by name, JSON columns.

use super::*;

/// Runs a statement through the connection's statement cache: the catalog runs the same few
/// statements thousands of times in a tick, and parsing them each time dominated its CPU time.
pub(super) fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

pub(super) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

pub(super) fn unknown(what: &str, s: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} {s}").into(),
    )
}

pub(super) fn parse_state(s: &str) -> rusqlite::Result<JobState> {
    JobState::parse(s).ok_or_else(|| unknown("job state", s))
}

pub(super) fn parse_kind(s: &str) -> rusqlite::Result<JobKind> {
    JobKind::parse(s).ok_or_else(|| unknown("job kind", s))
}

pub(super) fn parse_status(s: &str) -> rusqlite::Result<PointStatus> {
    PointStatus::parse(s).ok_or_else(|| unknown("recovery point status", s))
}

pub(super) const JOB_COLUMNS: &str = "id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, attempts, error, bytes, native_ids, options, recovery_point_id, warning";

pub(super) fn json_column<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(super) fn opt_ts(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

/// A job row without its transitions (the columns of [`JOB_COLUMNS`], in order).
pub(super) fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    Ok(JobRecord {
        id: r.get(0)?,
        job: NewJob {
            kind: parse_kind(&r.get::<_, String>(1)?)?,
            plan: r.get(2)?,
            rule: r.get(3)?,
            resource_arn: r.get(4)?,
            vault: r.get(5)?,
            windows: Windows {
                scheduled_at: parse_ts(&r.get::<_, String>(6)?)?,
                start_by: parse_ts(&r.get::<_, String>(7)?)?,
                complete_by: parse_ts(&r.get::<_, String>(8)?)?,
            },
            options: json_column::<JobOptions>(&r.get::<_, String>(13)?)?,
            recovery_point_id: r.get(14)?,
        },
        history: History {
            transitions: Vec::new(),
        },
        attempts: r.get(9)?,
        error: r.get(10)?,
        bytes: r.get::<_, Option<i64>>(11)?.map(|b| b.max(0) as u64),
        native_ids: json_column(&r.get::<_, String>(12)?)?,
        warning: r.get(15)?,
    })
}

/// Reads one job and its transitions.
pub(super) fn load_job(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobRecord>> {
    let row = conn
        .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))?
        .query_row(params![id], job_row)
        .optional()?;
    let Some(mut job) = row else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached("SELECT state, at FROM job_transitions WHERE job_id = ?1 ORDER BY seq")?;
    job.history.transitions = stmt
        .query_map(params![id], |r| {
            Ok((
                parse_state(&r.get::<_, String>(0)?)?,
                parse_ts(&r.get::<_, String>(1)?)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(job))
}

pub(super) const POINT_COLUMNS: &str = "id, status, vault, native_id, resource_arn, resource_type, resource, plan, rule, job_id, created_at, completed_at, size_bytes, encrypted, kms_key, cold_at, delete_at, tags, storage_class, deleted_at, deleted_by, status_message";

pub(super) fn point_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecoveryPoint> {
    Ok(RecoveryPoint {
        id: r.get(0)?,
        status: parse_status(&r.get::<_, String>(1)?)?,
        storage_class: StorageClass::parse(&r.get::<_, String>(18)?)
            .ok_or_else(|| unknown("storage class", "?"))?,
        deleted_at: opt_ts(r.get(19)?)?,
        deleted_by: r
            .get::<_, Option<String>>(20)?
            .map(|d| DeletedBy::parse(&d).ok_or_else(|| unknown("deleter", &d)))
            .transpose()?,
        status_message: r.get(21)?,
        point: NewRecoveryPoint {
            vault: r.get(2)?,
            native_id: r.get(3)?,
            resource_arn: r.get(4)?,
            resource_type: r.get(5)?,
            resource: json_column(&r.get::<_, String>(6)?)?,
            plan: r.get(7)?,
            rule: r.get(8)?,
            job_id: r.get(9)?,
            created_at: parse_ts(&r.get::<_, String>(10)?)?,
            completed_at: opt_ts(r.get(11)?)?,
            size_bytes: r.get::<_, Option<i64>>(12)?.map(|b| b.max(0) as u64),
            encrypted: r.get(13)?,
            kms_key: r.get(14)?,
            cold_at: opt_ts(r.get(15)?)?,
            delete_at: opt_ts(r.get(16)?)?,
            tags: json_column(&r.get::<_, String>(17)?)?,
        },
    })
}
