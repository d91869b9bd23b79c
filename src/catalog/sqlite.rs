//! The SQLite catalog (`.coffer/catalog.db`): versioned migrations recorded in
//! `PRAGMA user_version`, write transactions that take the lock up front so that two
//! processes never create or move the same job twice, and read-only opening that never
//! creates a file.

use super::{
    Catalog, CatalogError, JobFilter, JobRecord, JobUpdate, NewJob, NewRecoveryPoint, PointFilter,
    RecoveryPoint, VaultPoints,
};
use crate::jobs::{History, JobKind, JobOptions, JobState, PointStatus, Windows};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: recovery points
    "CREATE TABLE recovery_points (
        id            TEXT PRIMARY KEY,
        vault         TEXT NOT NULL,
        native_id     TEXT NOT NULL,
        resource_arn  TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'COMPLETED'
    );
    CREATE INDEX recovery_points_by_vault ON recovery_points (vault);",
    // 2: jobs with the time of every state, one job per (kind, rule, run, resource)
    "CREATE TABLE jobs (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        plan          TEXT,
        rule          TEXT,
        resource_arn  TEXT NOT NULL,
        vault         TEXT NOT NULL,
        scheduled_at  TEXT NOT NULL,
        start_by      TEXT NOT NULL,
        complete_by   TEXT NOT NULL,
        state         TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        error         TEXT,
        bytes         INTEGER,
        native_ids    TEXT NOT NULL DEFAULT '[]',
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        UNIQUE (kind, rule, scheduled_at, resource_arn)
    );
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_resource ON jobs (resource_arn);
    CREATE TABLE job_transitions (
        job_id  TEXT NOT NULL REFERENCES jobs (id),
        seq     INTEGER NOT NULL,
        state   TEXT NOT NULL,
        at      TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
    );",
    // 3: full recovery point records (source metadata, lifecycle, tags), job options and
    // results, and the scheduler's cursor
    "ALTER TABLE recovery_points ADD COLUMN resource TEXT NOT NULL DEFAULT 'null';
    ALTER TABLE recovery_points ADD COLUMN plan TEXT;
    ALTER TABLE recovery_points ADD COLUMN rule TEXT;
    ALTER TABLE recovery_points ADD COLUMN job_id TEXT;
    ALTER TABLE recovery_points ADD COLUMN completed_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN size_bytes INTEGER;
    ALTER TABLE recovery_points ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE recovery_points ADD COLUMN kms_key TEXT;
    ALTER TABLE recovery_points ADD COLUMN cold_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN delete_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
    CREATE UNIQUE INDEX recovery_points_by_job ON recovery_points (job_id) WHERE job_id IS NOT NULL;
    CREATE INDEX recovery_points_by_resource ON recovery_points (resource_arn);
    ALTER TABLE jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE jobs ADD COLUMN recovery_point_id TEXT;
    CREATE TABLE scheduler (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );",
    // 4: a warning on a job that did not fail but looks wrong (a source that shrank)
    "ALTER TABLE jobs ADD COLUMN warning TEXT;",
];

/// The SQLite catalog.
pub struct SqliteCatalog {
    conn: Option<Connection>,
    path: PathBuf,
}

impl SqliteCatalog {
    fn err(path: &Path, e: impl std::fmt::Display) -> CatalogError {
        CatalogError {
            path: path.to_path_buf(),
            message: e.to_string(),
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

/// Refuses a catalog whose schema is newer than this coffer knows: migrating it back is not
/// possible, and reading it could misread what a newer coffer recorded.
fn newer_check(path: &Path, version: i64) -> Result<(), CatalogError> {
    if version > MIGRATIONS.len() as i64 {
        return Err(SqliteCatalog::err(
            path,
            format!(
                "written by a newer coffer: catalog version {version}, this coffer knows {}; upgrade coffer to use this catalog",
                MIGRATIONS.len()
            ),
        ));
    }
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), CatalogError> {
    let e = |e: rusqlite::Error| SqliteCatalog::err(path, e);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(e)?;
    newer_check(path, version)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(e)?;
        tx.execute_batch(sql).map_err(e)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(e)?;
        tx.commit().map_err(e)?;
    }
    Ok(())
}

/// Runs a statement through the connection's statement cache: the catalog runs the same few
/// statements thousands of times in a tick, and parsing them each time dominated its CPU time.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn unknown(what: &str, s: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} {s}").into(),
    )
}

fn parse_state(s: &str) -> rusqlite::Result<JobState> {
    JobState::parse(s).ok_or_else(|| unknown("job state", s))
}

fn parse_kind(s: &str) -> rusqlite::Result<JobKind> {
    JobKind::parse(s).ok_or_else(|| unknown("job kind", s))
}

fn parse_status(s: &str) -> rusqlite::Result<PointStatus> {
    PointStatus::parse(s).ok_or_else(|| unknown("recovery point status", s))
}

const JOB_COLUMNS: &str = "id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, attempts, error, bytes, native_ids, options, recovery_point_id, warning";

fn json_column<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_ts(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

/// A job row without its transitions (the columns of [`JOB_COLUMNS`], in order).
fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
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
        },
        history: History {
            transitions: Vec::new(),
        },
        attempts: r.get(9)?,
        error: r.get(10)?,
        bytes: r.get::<_, Option<i64>>(11)?.map(|b| b.max(0) as u64),
        native_ids: json_column(&r.get::<_, String>(12)?)?,
        recovery_point_id: r.get(14)?,
        warning: r.get(15)?,
    })
}

/// Reads one job and its transitions.
fn load_job(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobRecord>> {
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

const POINT_COLUMNS: &str = "id, status, vault, native_id, resource_arn, resource_type, resource, plan, rule, job_id, created_at, completed_at, size_bytes, encrypted, kms_key, cold_at, delete_at, tags";

fn point_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecoveryPoint> {
    Ok(RecoveryPoint {
        id: r.get(0)?,
        status: parse_status(&r.get::<_, String>(1)?)?,
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

impl SqliteCatalog {
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

    fn forget_vault_points(&mut self, vault: &str) -> Result<u64, CatalogError> {
        let (conn, path) = self.writable()?;
        let n = conn
            .execute(
                "UPDATE recovery_points SET status = 'DELETED' WHERE vault = ?1 AND status != 'DELETED'",
                [vault],
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
            &format!("INSERT INTO recovery_points ({POINT_COLUMNS}) VALUES (?1, 'COMPLETED', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
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

    fn recovery_points(&self, filter: &PointFilter) -> Result<Vec<RecoveryPoint>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {POINT_COLUMNS} FROM recovery_points
                 WHERE (?1 IS NULL OR vault = ?1) AND (?2 IS NULL OR resource_arn = ?2)
                 ORDER BY created_at DESC, resource_arn, id"
            ))
            .map_err(e)?;
        let rows = stmt
            .query_map(params![filter.vault, filter.resource_arn], point_row)
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
        let inserted = exec(&tx,
                "INSERT OR IGNORE INTO jobs (id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, state, options, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'CREATED', ?10, ?11, ?11)",
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
                    ts(at)
                ],
            )
            .map_err(e)?;
        if inserted == 0 {
            return Ok(None);
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
            recovery_point_id: None,
            warning: None,
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
                 warning = COALESCE(?6, warning) WHERE id = ?1",
                params![
                    id,
                    u.native_ids.as_ref().map(json_text),
                    u.bytes.map(|b| b as i64),
                    u.recovery_point_id,
                    u.attempts,
                    u.warning
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(vault: &str) -> NewRecoveryPoint {
        NewRecoveryPoint::minimal(
            vault,
            "snap-1",
            "dir:/data",
            "directory",
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn counts_points_per_vault() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let mut c = SqliteCatalog::open(&path).unwrap();
        c.add_recovery_point(&point("a")).unwrap();
        c.add_recovery_point(&point("a")).unwrap();
        c.add_recovery_point(&point("b")).unwrap();
        let ro = SqliteCatalog::open_read_only(&path).unwrap();
        let counts = ro.vault_points().unwrap();
        assert_eq!(counts.get("a").map(|p| p.count), Some(2));
        assert_eq!(counts.get("b").map(|p| p.count), Some(1));
        assert_eq!(
            counts.get("a").and_then(|p| p.newest),
            Some(point("a").created_at)
        );
        assert_eq!(c.forget_vault_points("a").unwrap(), 2);
        assert_eq!(ro.vault_points().unwrap().get("a"), None);
        assert_eq!(c.forget_vault_points("a").unwrap(), 0);
        // reopening does not re-run migrations
        SqliteCatalog::open(&path).unwrap();
    }

    fn new_job(resource: &str) -> NewJob {
        let at = |h| {
            DateTime::parse_from_rfc3339(&format!("2026-12-05T{h:02}:00:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        NewJob {
            kind: JobKind::Backup,
            plan: Some("plan.monthly".into()),
            rule: Some("plan.monthly.rule.first-saturday".into()),
            resource_arn: resource.into(),
            vault: "main".into(),
            windows: Windows {
                scheduled_at: at(6),
                start_by: at(8),
                complete_by: at(14),
            },
            options: JobOptions::default(),
        }
    }

    #[test]
    fn a_job_is_created_once_per_run_and_resource() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-05T06:00:01Z")
            .unwrap()
            .with_timezone(&Utc);
        let first = c
            .create_job(&new_job("arn:vol-1"), at)
            .unwrap()
            .expect("created");
        assert_eq!(first.state(), JobState::Created);
        assert!(
            c.create_job(&new_job("arn:vol-1"), at).unwrap().is_none(),
            "a second tick creates nothing"
        );
        assert!(c.create_job(&new_job("arn:vol-2"), at).unwrap().is_some());
        // a second connection (another process) sees the same and cannot create it again
        let mut other = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        assert!(other
            .create_job(&new_job("arn:vol-1"), at)
            .unwrap()
            .is_none());
        assert_eq!(other.jobs(&JobFilter::default()).unwrap().len(), 2);
    }

    #[test]
    fn transitions_follow_the_state_machine_and_keep_their_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let mut c = SqliteCatalog::open(&path).unwrap();
        let t = |m: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-12-05T06:{m:02}:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let job = c.create_job(&new_job("arn:vol-1"), t(0)).unwrap().unwrap();
        c.transition_job(&job.id, JobState::Pending, t(1), None)
            .unwrap();
        let running = c
            .transition_job(&job.id, JobState::Running, t(2), None)
            .unwrap();
        assert_eq!(running.state(), JobState::Running);
        let err = c
            .transition_job(&job.id, JobState::Expired, t(3), None)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("a RUNNING job cannot become EXPIRED"),
            "{err}"
        );
        c.transition_job(
            &job.id,
            JobState::Failed,
            t(4),
            Some("SnapshotLimitExceeded"),
        )
        .unwrap();
        let ro = SqliteCatalog::open_read_only(&path).unwrap();
        let back = ro.job(&job.id).unwrap().unwrap();
        assert_eq!(back.state(), JobState::Failed);
        assert_eq!(back.error.as_deref(), Some("SnapshotLimitExceeded"));
        let states: Vec<JobState> = back.history.transitions.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            states,
            [
                JobState::Created,
                JobState::Pending,
                JobState::Running,
                JobState::Failed
            ]
        );
        assert_eq!(back.history.entered(JobState::Running), Some(t(2)));
        assert_eq!(
            ro.jobs(&JobFilter {
                state: Some(JobState::Failed),
                ..JobFilter::default()
            })
            .unwrap()
            .len(),
            1
        );
        assert!(ro
            .jobs(&JobFilter {
                state: Some(JobState::Completed),
                ..JobFilter::default()
            })
            .unwrap()
            .is_empty());
    }

    #[test]
    fn an_older_catalog_is_migrated_not_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1i64).unwrap();
        }
        let c = SqliteCatalog::open_read_only(&path).unwrap();
        assert!(c.jobs(&JobFilter::default()).unwrap().is_empty());
    }

    #[test]
    fn missing_catalog_is_empty_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let c = SqliteCatalog::open_read_only(&path).unwrap();
        assert!(c.vault_points().unwrap().is_empty());
        assert!(!path.exists());
    }

    #[test]
    fn jobs_filter_by_kind_and_unfinished_state_in_one_query() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-05T06:00:01Z")
            .unwrap()
            .with_timezone(&Utc);
        let done = c.create_job(&new_job("arn:vol-1"), at).unwrap().unwrap();
        c.transition_job(&done.id, JobState::Running, at, None)
            .unwrap();
        c.transition_job(&done.id, JobState::Completed, at, None)
            .unwrap();
        let open = c.create_job(&new_job("arn:vol-2"), at).unwrap().unwrap();
        let restore = NewJob {
            kind: JobKind::Restore,
            ..new_job("arn:vol-3")
        };
        let restore = c.create_job(&restore, at).unwrap().unwrap();
        let ids = |f: JobFilter| -> Vec<String> {
            c.jobs(&f).unwrap().into_iter().map(|j| j.id).collect()
        };
        let unfinished_backups = ids(JobFilter {
            kind: Some(JobKind::Backup),
            unfinished: true,
            ..JobFilter::default()
        });
        assert_eq!(unfinished_backups, std::slice::from_ref(&open.id));
        let restores = ids(JobFilter {
            kind: Some(JobKind::Restore),
            ..JobFilter::default()
        });
        assert_eq!(restores, std::slice::from_ref(&restore.id));
        // every job comes back with its whole history, in order
        let all = c.jobs(&JobFilter::default()).unwrap();
        assert_eq!(all.len(), 3);
        let finished = all.iter().find(|j| j.id == done.id).unwrap();
        let states: Vec<JobState> = finished.history.transitions.iter().map(|t| t.0).collect();
        assert_eq!(
            states,
            [JobState::Created, JobState::Running, JobState::Completed]
        );
        assert_eq!(finished, &c.job(&done.id).unwrap().unwrap());
    }

    /// Issue 11, defect 4: a catalog from a newer coffer says so, on a writable open too.
    #[test]
    fn a_newer_catalog_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        SqliteCatalog::open(&path).unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99i64).unwrap();
        }
        let expected = format!(
            "written by a newer coffer: catalog version 99, this coffer knows {}",
            MIGRATIONS.len()
        );
        for err in [
            SqliteCatalog::open(&path).err().unwrap(),
            SqliteCatalog::open_read_only(&path).err().unwrap(),
        ] {
            assert!(err.to_string().contains(&expected), "{err}");
        }
    }
}
