//! Rows to records and back: timestamps in one fixed-width text form (so text order is time
//! order), kinds, states and statuses by name, JSON columns.

use super::*;
pub(super) use crate::catalog::columns::{JOB_COLUMNS, LIVE_POINT_COLUMNS, POINT_COLUMNS};

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

/// Reads a timestamp. Those coffer writes (`YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`) are read by
/// position, which a tick over a million points needs; any other RFC 3339 text by chrono.
pub(super) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    if let Some(t) = fixed_ts(s.as_bytes()) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn fixed_ts(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 30
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[29] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        num(20..29)?,
    )?;
    Some(date.and_time(time).and_utc())
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
            source_recovery_point_id: r.get(16)?,
        },
        history: History {
            transitions: Vec::new(),
        },
        attempts: r.get(9)?,
        error: r.get(10)?,
        bytes: r.get::<_, Option<i64>>(11)?.map(|b| b.max(0) as u64),
        native_ids: json_column(&r.get::<_, String>(12)?)?,
        warning: r.get(15)?,
        created_resource_arn: r.get(17)?,
        validation_status: r.get(18)?,
        validation_message: r.get(19)?,
        deletion_status: r.get(20)?,
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

/// Adds one point of a `LIVE_POINT_COLUMNS` row to `into`, its group interned.
pub(super) fn live_point_row(
    r: &rusqlite::Row<'_>,
    into: &mut crate::jobs::live::LivePoints,
) -> rusqlite::Result<()> {
    let text = |i: usize| -> rusqlite::Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    let group = into.group(
        text(1)?.unwrap_or_default(),
        text(2)?.unwrap_or_default(),
        text(3)?,
    );
    let point = crate::jobs::live::LivePoint {
        id: text(0)?.unwrap_or_default().to_string(),
        group,
        created_at: parse_ts(text(4)?.unwrap_or_default())?,
        cold_at: text(5)?.map(parse_ts).transpose()?,
        delete_at: text(6)?.map(parse_ts).transpose()?,
        cold: text(7)? == Some(StorageClass::Cold.as_str()),
    };
    into.points.push(point);
    Ok(())
}

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
            source_recovery_point_id: r.get(22)?,
        },
    })
}

/// Vault checks that `sql` selects, in its order (columns as `vault_checks` has them).
pub(super) fn vault_checks(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<VaultCheck>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(VaultCheck {
            vault: r.get(0)?,
            checked_at: parse_ts(&r.get::<_, String>(1)?)?,
            location: r.get(2)?,
            snapshots: r.get::<_, i64>(3)? as u64,
            read_data_subset: r.get(4)?,
            missing: r.get(5)?,
            errors: r.get::<_, i64>(6)? as u64,
            warnings: r.get::<_, i64>(7)? as u64,
            first_error: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// Every control's last status.
pub(super) fn control_statuses(
    conn: &Connection,
) -> rusqlite::Result<Vec<crate::catalog::ControlStatus>> {
    let mut stmt =
        conn.prepare("SELECT framework, control, compliant, since FROM control_statuses")?;
    let rows = stmt.query_map([], |r| {
        Ok(crate::catalog::ControlStatus {
            framework: r.get(0)?,
            control: r.get(1)?,
            compliant: r.get(2)?,
            since: parse_ts(&r.get::<_, String>(3)?)?,
        })
    })?;
    rows.collect()
}

/// Records a control's status, returning a row only when it is new or changed.
pub(super) const CONTROL_STATUS_UPSERT: &str = "INSERT INTO control_statuses (framework, control, compliant, since)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (framework, control) DO UPDATE SET compliant = excluded.compliant, since = excluded.since
       WHERE control_statuses.compliant <> excluded.compliant
     RETURNING compliant";
