//! PostgreSQL rows to records: kinds, states and statuses by name, `jsonb` documents, times
//! as they are.

use super::*;
use crate::jobs::{JobOptions, Windows};

fn unknown(what: &str, s: &str) -> PgFail {
    PgFail(format!("unknown {what} {s} in the catalog"))
}

pub(super) fn parse_state(s: &str) -> Result<JobState, PgFail> {
    JobState::parse(s).ok_or_else(|| unknown("job state", s))
}

/// A job row without its transitions (the columns of [`JOB_COLUMNS`], in order).
pub(super) fn job_row(r: &postgres::Row) -> Result<JobRecord, PgFail> {
    let kind: &str = r.try_get(1)?;
    let attempts: i32 = r.try_get(9)?;
    Ok(JobRecord {
        id: r.try_get(0)?,
        job: NewJob {
            kind: JobKind::parse(kind).ok_or_else(|| unknown("job kind", kind))?,
            plan: r.try_get(2)?,
            rule: r.try_get(3)?,
            resource_arn: r.try_get(4)?,
            vault: r.try_get(5)?,
            windows: Windows {
                scheduled_at: r.try_get(6)?,
                start_by: r.try_get(7)?,
                complete_by: r.try_get(8)?,
            },
            options: r.try_get::<_, Json<JobOptions>>(13)?.0,
            recovery_point_id: r.try_get(14)?,
            source_recovery_point_id: r.try_get(16)?,
        },
        history: History {
            transitions: Vec::new(),
        },
        attempts: attempts.max(0) as u32,
        error: r.try_get(10)?,
        bytes: r.try_get::<_, Option<i64>>(11)?.map(|b| b.max(0) as u64),
        native_ids: r.try_get::<_, Json<Vec<String>>>(12)?.0,
        warning: r.try_get(15)?,
        created_resource_arn: r.try_get(17)?,
        validation_status: r.try_get(18)?,
        validation_message: r.try_get(19)?,
        deletion_status: r.try_get(20)?,
    })
}

/// Reads one job and its transitions; `lock` holds the job's row until the transaction ends.
pub(super) fn load_job(
    tx: &mut postgres::Transaction<'_>,
    id: &str,
    lock: bool,
) -> Result<Option<JobRecord>, PgFail> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let Some(row) = tx.query_opt(
        &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1{lock}"),
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let mut job = job_row(&row)?;
    for r in tx.query(
        "SELECT state, at FROM job_transitions WHERE job_id = $1 ORDER BY seq",
        &[&id],
    )? {
        job.history
            .transitions
            .push((parse_state(r.try_get(0)?)?, r.try_get(1)?));
    }
    Ok(Some(job))
}

/// Adds one point of a `LIVE_POINT_COLUMNS` row to `into`, its group interned.
pub(super) fn live_point_row(r: &postgres::Row, into: &mut LivePoints) -> Result<(), PgFail> {
    let group = into.group(
        r.try_get::<_, &str>(1)?,
        r.try_get::<_, &str>(2)?,
        r.try_get::<_, Option<&str>>(3)?,
    );
    into.points.push(crate::jobs::live::LivePoint {
        id: r.try_get(0)?,
        group,
        created_at: r.try_get(4)?,
        cold_at: r.try_get(5)?,
        delete_at: r.try_get(6)?,
        cold: r.try_get::<_, &str>(7)? == StorageClass::Cold.as_str(),
    });
    Ok(())
}

pub(super) fn point_row(r: &postgres::Row) -> Result<RecoveryPoint, PgFail> {
    let status: &str = r.try_get(1)?;
    let class: &str = r.try_get(18)?;
    Ok(RecoveryPoint {
        id: r.try_get(0)?,
        status: PointStatus::parse(status)
            .ok_or_else(|| unknown("recovery point status", status))?,
        storage_class: StorageClass::parse(class).ok_or_else(|| unknown("storage class", class))?,
        deleted_at: r.try_get(19)?,
        deleted_by: r
            .try_get::<_, Option<&str>>(20)?
            .map(|d| DeletedBy::parse(d).ok_or_else(|| unknown("deleter", d)))
            .transpose()?,
        status_message: r.try_get(21)?,
        point: NewRecoveryPoint {
            vault: r.try_get(2)?,
            native_id: r.try_get(3)?,
            resource_arn: r.try_get(4)?,
            resource_type: r.try_get(5)?,
            resource: r.try_get::<_, Json<_>>(6)?.0,
            plan: r.try_get(7)?,
            rule: r.try_get(8)?,
            job_id: r.try_get(9)?,
            created_at: r.try_get(10)?,
            completed_at: r.try_get(11)?,
            size_bytes: r.try_get::<_, Option<i64>>(12)?.map(|b| b.max(0) as u64),
            encrypted: r.try_get(13)?,
            kms_key: r.try_get(14)?,
            cold_at: r.try_get(15)?,
            delete_at: r.try_get(16)?,
            tags: r.try_get::<_, Json<_>>(17)?.0,
            source_recovery_point_id: r.try_get(22)?,
        },
    })
}
