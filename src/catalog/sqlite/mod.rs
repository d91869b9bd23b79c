//! The SQLite catalog (`.coffer/catalog.db`): versioned migrations recorded in
//! `PRAGMA user_version`, write transactions that take the lock up front so that two
//! processes never create or move the same job twice, and read-only opening that never
//! creates a file.

use super::{
    Catalog, CatalogError, JobFilter, JobRecord, JobUpdate, NewJob, NewRecoveryPoint, PointChange,
    PointFilter, RecoveryPoint, VaultCheck, VaultPoints,
};
use crate::jobs::live::LivePoints;
use crate::jobs::{
    DeletedBy, History, JobKind, JobOptions, JobState, PointStatus, StorageClass, Windows,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod rows;
mod schema;
#[cfg(test)]
mod tests;

use rows::*;
use schema::*;

/// The SQLite catalog.
pub struct SqliteCatalog {
    conn: Option<Connection>,
    path: PathBuf,
}

impl SqliteCatalog {
    fn err(path: &Path, e: impl std::fmt::Display) -> CatalogError {
        CatalogError {
            path: path.to_path_buf(),
            // a full or read-only disk is said in words; SQLite rolled the write back
            message: crate::disk::explained(e.to_string(), "the catalog"),
        }
    }

    /// Opens (creating and migrating if needed) the catalog at `path`.
    pub fn open(path: &Path) -> Result<SqliteCatalog, CatalogError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Self::err(path, e))?;
        }
        let mut conn = Connection::open(path).map_err(|e| Self::err(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| Self::err(path, e))?;
        // WAL with synchronous=NORMAL: a commit survives the process being killed at any point
        // and costs no fsync; a power cut may lose the last commits, which the next tick
        // recovers from AWS by the `coffer:job` tag.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(|e| Self::err(path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| Self::err(path, e))?;
        migrate(&mut conn, path)?;
        Ok(SqliteCatalog {
            conn: Some(conn),
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing catalog read-only; a missing file is an empty catalog (nothing has
    /// been backed up yet) and is not created.
    pub fn open_read_only(path: &Path) -> Result<SqliteCatalog, CatalogError> {
        if !path.exists() {
            return Ok(SqliteCatalog {
                conn: None,
                path: path.to_path_buf(),
            });
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| Self::err(path, e))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| Self::err(path, e))?;
        newer_check(path, version)?;
        if version < MIGRATIONS.len() as i64 {
            // an older catalog is brought up to date rather than refused
            drop(conn);
            return SqliteCatalog::open(path);
        }
        Ok(SqliteCatalog {
            conn: Some(conn),
            path: path.to_path_buf(),
        })
    }
}

impl SqliteCatalog {
    /// Every vault check recorded, oldest first.
    fn vault_check_history(&self) -> Result<Vec<VaultCheck>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        vault_checks(
            conn,
            "SELECT vault, checked_at, location, snapshots, read_data_subset,
                    missing, errors, warnings, first_error
             FROM vault_checks ORDER BY checked_at, vault",
        )
        .map_err(|e| Self::err(&self.path, e))
    }

    /// Everything this catalog holds, for `init -migrate-state`.
    pub fn dump(&self) -> Result<crate::catalog::CatalogDump, CatalogError> {
        let points = self.recovery_points(&PointFilter::default())?;
        let jobs = self.jobs(&JobFilter::default())?;
        let tick_cursor = self.tick_cursor()?;
        let Some(conn) = &self.conn else {
            return Ok(crate::catalog::CatalogDump {
                points,
                retry_at: BTreeMap::new(),
                jobs,
                approved: BTreeMap::new(),
                tick_cursor,
                checks: Vec::new(),
                controls: Vec::new(),
            });
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let pairs = |sql: &str| -> Result<BTreeMap<String, DateTime<Utc>>, CatalogError> {
            let mut stmt = conn.prepare(sql).map_err(e)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(e)?;
            let mut out = BTreeMap::new();
            for row in rows {
                let (id, at) = row.map_err(e)?;
                out.insert(id, parse_ts(&at).map_err(e)?);
            }
            Ok(out)
        };
        Ok(crate::catalog::CatalogDump {
            points,
            retry_at: pairs("SELECT id, retry_at FROM recovery_points WHERE retry_at IS NOT NULL")?,
            jobs,
            approved: pairs("SELECT point_id, approved_at FROM approved_deletions")?,
            tick_cursor,
            checks: self.vault_check_history()?,
            controls: control_statuses(conn).map_err(e)?,
        })
    }

    fn writable(&mut self) -> Result<(&mut Connection, PathBuf), CatalogError> {
        let path = self.path.clone();
        match self.conn.as_mut() {
            Some(c) => Ok((c, path)),
            None => Err(Self::err(&path, "the catalog was opened read-only")),
        }
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Points due for deletion or cold storage: two index range scans (migration 5's
/// `recovery_points_due_delete` and `recovery_points_due_cold`), one per date.
pub(super) fn due_points_sql() -> String {
    format!(
        "SELECT * FROM (
            SELECT {POINT_COLUMNS}, delete_at AS due FROM recovery_points
             WHERE status = 'COMPLETED' AND delete_at IS NOT NULL AND delete_at <= ?1
            UNION
            SELECT {POINT_COLUMNS}, cold_at AS due FROM recovery_points
             WHERE status = 'COMPLETED' AND cold_at IS NOT NULL AND cold_at <= ?1
               AND storage_class = 'WARM'
         ) GROUP BY id ORDER BY MIN(due), id"
    )
}

/// Whether a delete, cold or copy job may be created for its point now (other jobs always
/// may): the point must still be there to act on, and only warm, completed points are
/// copied. Runs inside `create_job`'s transaction.
fn point_allows(tx: &Connection, job: &NewJob, at: DateTime<Utc>) -> rusqlite::Result<bool> {
    if let (JobKind::Copy, Some(source)) = (job.kind, &job.source_recovery_point_id) {
        let row: Option<(String, String)> = tx
            .prepare_cached("SELECT status, storage_class FROM recovery_points WHERE id = ?1")?
            .query_row(params![source], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        return Ok(row.is_some_and(|(status, class)| {
            status == PointStatus::Completed.as_str() && class == StorageClass::Warm.as_str()
        }));
    }
    let (JobKind::Delete | JobKind::Cold, Some(point)) = (job.kind, &job.recovery_point_id) else {
        return Ok(true);
    };
    let row: Option<(String, String, Option<String>)> = tx
        .prepare_cached(
            "SELECT status, storage_class, retry_at FROM recovery_points WHERE id = ?1",
        )?
        .query_row(params![point], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((status, class, retry_at)) = row else {
        return Ok(false);
    };
    let manual = job.options.deleted_by == Some(DeletedBy::Manual);
    Ok(match (job.kind, status.as_str()) {
        (JobKind::Delete, "COMPLETED") => true,
        (JobKind::Delete, "EXPIRED") => manual || opt_ts(retry_at)?.is_some_and(|r| r <= at),
        (JobKind::Cold, "COMPLETED") => class == StorageClass::Warm.as_str(),
        _ => false,
    })
}

impl Catalog for SqliteCatalog {
    fn vault_points(&self) -> Result<BTreeMap<String, VaultPoints>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(BTreeMap::new());
        };
        let mut stmt = conn
            .prepare(
                "SELECT vault, COUNT(*), MAX(COALESCE(completed_at, created_at)) FROM recovery_points \
                 WHERE status != 'DELETED' GROUP BY vault",
            )
            .map_err(|e| Self::err(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    opt_ts(r.get(2)?)?,
                ))
            })
            .map_err(|e| Self::err(&self.path, e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (vault, n, newest) = row.map_err(|e| Self::err(&self.path, e))?;
            out.insert(
                vault,
                VaultPoints {
                    count: n.max(0) as u64,
                    newest,
                },
            );
        }
        Ok(out)
    }

    fn vault_live_count(&self, vault: &str) -> Result<u64, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(0);
        };
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM recovery_points WHERE vault = ?1 AND status IN ('COMPLETED', 'EXPIRED')",
            )
            .and_then(|mut s| s.query_row(params![vault], |r| r.get(0)))
            .map_err(|e| Self::err(&self.path, e))?;
        Ok(n.max(0) as u64)
    }

    fn forget_vault_points(
        &mut self,
        vault: &str,
        at: DateTime<Utc>,
        by: DeletedBy,
    ) -> Result<u64, CatalogError> {
        let (conn, path) = self.writable()?;
        let n = conn
            .execute(
                "UPDATE recovery_points SET status = 'DELETED', deleted_at = ?2, deleted_by = ?3
                 WHERE vault = ?1 AND status != 'DELETED'",
                params![vault, ts(at), by.as_str()],
            )
            .map_err(|e| Self::err(&path, e))?;
        Ok(n as u64)
    }

    fn add_recovery_point(&mut self, p: &NewRecoveryPoint) -> Result<String, CatalogError> {
        let (conn, path) = self.writable()?;
        let e = |e: rusqlite::Error| Self::err(&path, e);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        if let Some(job) = &p.job_id {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM recovery_points WHERE job_id = ?1",
                    params![job],
                    |r| r.get(0),
                )
                .optional()
                .map_err(e)?;
            if let Some(id) = existing {
                return Ok(id);
            }
        }
        let id = format!("rp-{}", uuid::Uuid::new_v4().simple());
        exec(&tx,
            &format!("INSERT INTO recovery_points ({POINT_COLUMNS}) VALUES (?1, 'COMPLETED', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 'WARM', NULL, NULL, NULL, ?18)"),
            params![
                id,
                p.vault,
                p.native_id,
                p.resource_arn,
                p.resource_type,
                json_text(&p.resource),
                p.plan,
                p.rule,
                p.job_id,
                ts(p.created_at),
                p.completed_at.map(ts),
                p.size_bytes.map(|b| b as i64),
                p.encrypted,
                p.kms_key,
                p.cold_at.map(ts),
                p.delete_at.map(ts),
                json_text(&p.tags),
                p.source_recovery_point_id,
            ],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(id)
    }

    fn recovery_point(&self, id: &str) -> Result<Option<RecoveryPoint>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(None);
        };
        conn.query_row(
            &format!("SELECT {POINT_COLUMNS} FROM recovery_points WHERE id = ?1"),
            params![id],
            point_row,
        )
        .optional()
        .map_err(|e| Self::err(&self.path, e))
    }

    fn due_points(&self, now: DateTime<Utc>) -> Result<Vec<RecoveryPoint>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn.prepare_cached(&due_points_sql()).map_err(e)?;
        let rows = stmt
            .query_map(params![ts(now)], point_row)
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)?;
        Ok(rows)
    }

    fn retry_due(&self, now: DateTime<Utc>) -> Result<Vec<RecoveryPoint>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {POINT_COLUMNS} FROM recovery_points
                 WHERE status = 'EXPIRED' AND retry_at IS NOT NULL AND retry_at <= ?1
                 ORDER BY retry_at, id"
            ))
            .map_err(e)?;
        let rows = stmt
            .query_map(params![ts(now)], point_row)
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)?;
        Ok(rows)
    }

    fn live_points(&self, filter: &PointFilter, into: &mut LivePoints) -> Result<(), CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {LIVE_POINT_COLUMNS} FROM recovery_points
                 WHERE status = 'COMPLETED' AND (?1 IS NULL OR vault = ?1)
                   AND (?2 IS NULL OR resource_arn = ?2) AND (?3 IS NULL OR rule = ?3)"
            ))
            .map_err(e)?;
        let mut rows = stmt
            .query(params![filter.vault, filter.resource_arn, filter.rule])
            .map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            live_point_row(r, into).map_err(e)?;
        }
        Ok(())
    }

    fn change_point(&mut self, id: &str, change: &PointChange) -> Result<(), CatalogError> {
        let (conn, path) = self.writable()?;
        let n = match change {
            PointChange::Deleted { at, by } => exec(
                conn,
                "UPDATE recovery_points SET status = 'DELETED', deleted_at = ?2, deleted_by = ?3,
                 retry_at = NULL WHERE id = ?1",
                params![id, ts(*at), by.as_str()],
            ),
            PointChange::Expired { reason, retry_at } => exec(
                conn,
                "UPDATE recovery_points SET status = 'EXPIRED', status_message = ?2, retry_at = ?3
                 WHERE id = ?1 AND status != 'DELETED'",
                params![id, reason, retry_at.map(ts)],
            ),
            PointChange::Cold { native_id } => exec(
                conn,
                "UPDATE recovery_points SET storage_class = 'COLD', native_id = COALESCE(?2, native_id)
                 WHERE id = ?1",
                params![id, native_id],
            ),
            PointChange::StaysWarm { reason } => exec(
                conn,
                "UPDATE recovery_points SET cold_at = NULL, status_message = ?2 WHERE id = ?1",
                params![id, reason],
            ),
        }
        .map_err(|e| Self::err(&path, e))?;
        if n == 0 {
            return Err(Self::err(&path, format!("no live recovery point {id}")));
        }
        Ok(())
    }

    fn approve_deletions(&mut self, ids: &[String], at: DateTime<Utc>) -> Result<(), CatalogError> {
        let (conn, path) = self.writable()?;
        let e = |e: rusqlite::Error| Self::err(&path, e);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        for id in ids {
            exec(
                &tx,
                "INSERT OR IGNORE INTO approved_deletions (point_id, approved_at) VALUES (?1, ?2)",
                params![id, ts(at)],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    fn approved_deletions(&self) -> Result<BTreeSet<String>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(BTreeSet::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn
            .prepare_cached(
                "SELECT a.point_id FROM approved_deletions a
                 JOIN recovery_points p ON p.id = a.point_id WHERE p.status != 'DELETED'",
            )
            .map_err(e)?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .map_err(e)?
            .collect::<rusqlite::Result<BTreeSet<String>>>()
            .map_err(e)?;
        Ok(ids)
    }

    fn recovery_points(&self, filter: &PointFilter) -> Result<Vec<RecoveryPoint>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {POINT_COLUMNS} FROM recovery_points
                 WHERE (?1 IS NULL OR vault = ?1) AND (?2 IS NULL OR resource_arn = ?2)
                   AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR rule = ?4)
                 ORDER BY created_at DESC, resource_arn, id"
            ))
            .map_err(e)?;
        let rows = stmt
            .query_map(
                params![
                    filter.vault,
                    filter.resource_arn,
                    filter.status.map(PointStatus::as_str),
                    filter.rule,
                ],
                point_row,
            )
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)?;
        Ok(rows)
    }

    fn create_job(
        &mut self,
        job: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, CatalogError> {
        let (conn, path) = self.writable()?;
        let id = format!("job-{}", uuid::Uuid::new_v4().simple());
        let e = |e: rusqlite::Error| Self::err(&path, e);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        if !point_allows(&tx, job, at).map_err(e)? {
            return Ok(None);
        }
        let inserted = exec(&tx,
                "INSERT OR IGNORE INTO jobs (id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, state, options, created_at, updated_at, recovery_point_id, source_recovery_point_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'CREATED', ?10, ?11, ?11, ?12, ?13)",
                params![
                    id,
                    job.kind.as_str(),
                    job.plan,
                    job.rule,
                    job.resource_arn,
                    job.vault,
                    ts(job.windows.scheduled_at),
                    ts(job.windows.start_by),
                    ts(job.windows.complete_by),
                    json_text(&job.options),
                    ts(at),
                    job.recovery_point_id,
                    job.source_recovery_point_id,
                ],
            )
            .map_err(e)?;
        if inserted == 0 {
            return Ok(None);
        }
        if let (JobKind::Delete, Some(point)) = (job.kind, &job.recovery_point_id) {
            // the retry this job is becomes due again only if it fails
            exec(
                &tx,
                "UPDATE recovery_points SET retry_at = NULL WHERE id = ?1",
                params![point],
            )
            .map_err(e)?;
        }
        exec(
            &tx,
            "INSERT INTO job_transitions (job_id, seq, state, at) VALUES (?1, 0, 'CREATED', ?2)",
            params![id, ts(at)],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(Some(JobRecord {
            id,
            job: job.clone(),
            history: History::created(at),
            attempts: 0,
            error: None,
            bytes: None,
            native_ids: Vec::new(),
            warning: None,
            created_resource_arn: None,
            validation_status: None,
            validation_message: None,
            deletion_status: None,
        }))
    }

    fn transition_job(
        &mut self,
        id: &str,
        to: JobState,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<JobRecord, CatalogError> {
        let (conn, path) = self.writable()?;
        let e = |e: rusqlite::Error| Self::err(&path, e);
        // IMMEDIATE: take the write lock first, so two workers cannot both move the same job
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        let job = load_job(&tx, id).map_err(e)?;
        let Some(mut job) = job else {
            return Err(Self::err(&path, format!("no job {id}")));
        };
        job.history
            .advance(to, at)
            .map_err(|t| Self::err(&path, format!("job {id}: {t}")))?;
        let seq = job.history.transitions.len() - 1;
        let at_text = job.history.transitions[seq].1;
        exec(
            &tx,
            "INSERT INTO job_transitions (job_id, seq, state, at) VALUES (?1, ?2, ?3, ?4)",
            params![id, seq as i64, to.as_str(), ts(at_text)],
        )
        .map_err(e)?;
        exec(&tx,
            "UPDATE jobs SET state = ?2, updated_at = ?3, error = COALESCE(?4, error) WHERE id = ?1",
            params![id, to.as_str(), ts(at_text), error],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        if let Some(msg) = error {
            job.error = Some(msg.to_string());
        }
        Ok(job)
    }

    fn update_job(&mut self, id: &str, u: &JobUpdate) -> Result<(), CatalogError> {
        let (conn, path) = self.writable()?;
        let n = exec(conn,
                "UPDATE jobs SET native_ids = COALESCE(?2, native_ids), bytes = COALESCE(?3, bytes),
                 recovery_point_id = COALESCE(?4, recovery_point_id), attempts = COALESCE(?5, attempts),
                 warning = COALESCE(?6, warning), error = COALESCE(?7, error),
                 created_resource_arn = COALESCE(?8, created_resource_arn),
                 validation_message = CASE WHEN validation_status IS NULL THEN COALESCE(?10, validation_message) ELSE validation_message END,
                 validation_status = COALESCE(validation_status, ?9),
                 deletion_status = COALESCE(?11, deletion_status) WHERE id = ?1",
                params![
                    id,
                    u.native_ids.as_ref().map(json_text),
                    u.bytes.map(|b| b as i64),
                    u.recovery_point_id,
                    u.attempts,
                    u.warning,
                    u.error,
                    u.created_resource_arn,
                    u.validation_status,
                    u.validation_message,
                    u.deletion_status,
                ],
            )
            .map_err(|e| Self::err(&path, e))?;
        if n == 0 {
            return Err(Self::err(&path, format!("no job {id}")));
        }
        Ok(())
    }

    fn job(&self, id: &str) -> Result<Option<JobRecord>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(None);
        };
        load_job(conn, id).map_err(|e| Self::err(&self.path, e))
    }

    fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        // One query: each job's row once per transition (LEFT JOIN, in order), folded into
        // records here; the filters run in SQL, on the state index for unfinished jobs.
        let terminal = JobState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let columns = JOB_COLUMNS
            .split(", ")
            .map(|c| format!("j.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {columns}, t.state, t.at FROM jobs j
                 LEFT JOIN job_transitions t ON t.job_id = j.id
                 WHERE (?1 IS NULL OR j.state = ?1) AND (?2 IS NULL OR j.scheduled_at >= ?2)
                   AND (?3 IS NULL OR j.kind = ?3) AND (?4 = 0 OR j.state NOT IN ({terminal}))
                 ORDER BY j.scheduled_at DESC, j.resource_arn, j.id, t.seq"
            ))
            .map_err(e)?;
        let mut rows = stmt
            .query(params![
                filter.state.map(JobState::as_str),
                filter.since.map(ts),
                filter.kind.map(JobKind::as_str),
                filter.unfinished,
            ])
            .map_err(e)?;
        let mut out: Vec<JobRecord> = Vec::new();
        let n = JOB_COLUMNS.split(", ").count();
        while let Some(r) = rows.next().map_err(e)? {
            let id: String = r.get(0).map_err(e)?;
            if out.last().is_none_or(|j| j.id != id) {
                out.push(job_row(r).map_err(e)?);
            }
            let (Some(state), Some(at)) = (
                r.get::<_, Option<String>>(n).map_err(e)?,
                r.get::<_, Option<String>>(n + 1).map_err(e)?,
            ) else {
                continue;
            };
            let transition = (parse_state(&state).map_err(e)?, parse_ts(&at).map_err(e)?);
            if let Some(job) = out.last_mut() {
                job.history.transitions.push(transition);
            }
        }
        Ok(out)
    }

    fn tick_cursor(&self) -> Result<Option<DateTime<Utc>>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(None);
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let v: Option<String> = conn
            .query_row(
                "SELECT value FROM scheduler WHERE key = 'tick_cursor'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(e)?;
        opt_ts(v).map_err(e)
    }

    fn advance_tick_cursor(&mut self, to: DateTime<Utc>) -> Result<(), CatalogError> {
        let (conn, path) = self.writable()?;
        // timestamps are written in one fixed-width format, so text order is time order
        exec(
            conn,
            "INSERT INTO scheduler (key, value) VALUES ('tick_cursor', ?1)
             ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
            params![ts(to)],
        )
        .map_err(|e| Self::err(&path, e))?;
        Ok(())
    }

    fn record_vault_check(&mut self, check: &VaultCheck) -> Result<(), CatalogError> {
        let (conn, path) = self.writable()?;
        exec(
            conn,
            "INSERT OR REPLACE INTO vault_checks
             (vault, checked_at, location, snapshots, read_data_subset, missing, errors, warnings, first_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                check.vault,
                ts(check.checked_at),
                check.location,
                check.snapshots as i64,
                check.read_data_subset,
                check.missing,
                check.errors as i64,
                check.warnings as i64,
                check.first_error,
            ],
        )
        .map_err(|e| Self::err(&path, e))?;
        Ok(())
    }

    fn note_control_status(
        &mut self,
        framework: &str,
        control: &str,
        compliant: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError> {
        let (conn, path) = self.writable()?;
        // a row comes back only when the status was recorded anew or changed
        let changed = conn
            .prepare_cached(CONTROL_STATUS_UPSERT)
            .and_then(|mut st| {
                st.query_row(params![framework, control, compliant, ts(at)], |_| Ok(()))
                    .optional()
            })
            .map_err(|e| Self::err(&path, e))?;
        Ok(changed.is_some() && !compliant)
    }

    fn last_vault_checks(&self) -> Result<BTreeMap<String, VaultCheck>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(BTreeMap::new());
        };
        // timestamps are written in one fixed-width format, so max() is the newest
        let checks = vault_checks(
            conn,
            "SELECT c.vault, c.checked_at, c.location, c.snapshots, c.read_data_subset,
                    c.missing, c.errors, c.warnings, c.first_error
             FROM vault_checks c
             JOIN (SELECT vault, max(checked_at) AS at FROM vault_checks GROUP BY vault) n
               ON n.vault = c.vault AND n.at = c.checked_at",
        )
        .map_err(|e| Self::err(&self.path, e))?;
        Ok(checks.into_iter().map(|c| (c.vault.clone(), c)).collect())
    }
}
