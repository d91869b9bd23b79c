//! The catalog of recovery points (and, later, jobs): the [`Catalog`] interface the rest of
//! coffer uses, and its embedded SQLite implementation (`.coffer/catalog.db`) with versioned
//! migrations. Nothing SQLite-specific leaks out of this module.

use crate::jobs::{History, JobState, Windows};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("catalog {path}: {message}")]
pub struct CatalogError {
    pub path: PathBuf,
    pub message: String,
}

/// A recovery point as recorded when a backup completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecoveryPoint {
    pub vault: String,
    /// The native identifier (snapshot id, AMI id, repository snapshot id …).
    pub native_id: String,
    pub resource_arn: String,
    pub resource_type: String,
    pub created_at: DateTime<Utc>,
}

/// What coffer needs from a catalog, whatever stores it.
pub trait Catalog {
    /// Number of recovery points per vault name (vaults with none are absent).
    fn recovery_point_counts(&self) -> Result<BTreeMap<String, u64>, CatalogError>;
    /// Records a recovery point; returns its catalog id.
    fn add_recovery_point(&mut self, point: &NewRecoveryPoint) -> Result<String, CatalogError>;
    /// Creates a job in state CREATED, unless one already exists for the same kind, rule,
    /// run and resource (then `None`: two racing ticks create it once).
    fn create_job(
        &mut self,
        job: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, CatalogError>;
    /// Moves a job to `to` at `at`, if the state machine allows it.
    fn transition_job(
        &mut self,
        id: &str,
        to: JobState,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<JobRecord, CatalogError>;
    fn job(&self, id: &str) -> Result<Option<JobRecord>, CatalogError>;
    /// Jobs, newest run first, optionally only in one state.
    fn jobs(&self, state: Option<JobState>) -> Result<Vec<JobRecord>, CatalogError>;
}

/// A job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// `backup`, and later `copy`, `restore`, `lifecycle`, `restore-test`.
    pub kind: String,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub resource_arn: String,
    pub vault: String,
    pub windows: Windows,
}

/// A job as the catalog holds it, with its state history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: String,
    pub job: NewJob,
    pub history: History,
    pub attempts: u32,
    pub error: Option<String>,
}

impl JobRecord {
    pub fn state(&self) -> JobState {
        self.history.state()
    }
}

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
        migrate(&mut conn).map_err(|e| Self::err(path, e))?;
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
        if version > MIGRATIONS.len() as i64 {
            return Err(Self::err(
                path,
                format!(
                    "written by a newer coffer (schema {version}; this coffer knows {})",
                    MIGRATIONS.len()
                ),
            ));
        }
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

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(rusqlite::Error::InvalidQuery);
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
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

fn parse_state(s: &str) -> rusqlite::Result<JobState> {
    JobState::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown job state {s}").into(),
        )
    })
}

const JOB_COLUMNS: &str = "id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, attempts, error";

/// Reads one job and its transitions.
fn load_job(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobRecord>> {
    let row = conn
        .query_row(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
            params![id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    NewJob {
                        kind: r.get(1)?,
                        plan: r.get(2)?,
                        rule: r.get(3)?,
                        resource_arn: r.get(4)?,
                        vault: r.get(5)?,
                        windows: Windows {
                            scheduled_at: parse_ts(&r.get::<_, String>(6)?)?,
                            start_by: parse_ts(&r.get::<_, String>(7)?)?,
                            complete_by: parse_ts(&r.get::<_, String>(8)?)?,
                        },
                    },
                    r.get::<_, u32>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((id, job, attempts, error)) = row else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare("SELECT state, at FROM job_transitions WHERE job_id = ?1 ORDER BY seq")?;
    let transitions = stmt
        .query_map(params![id], |r| {
            Ok((
                parse_state(&r.get::<_, String>(0)?)?,
                parse_ts(&r.get::<_, String>(1)?)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(JobRecord {
        id,
        job,
        history: History { transitions },
        attempts,
        error,
    }))
}

impl Catalog for SqliteCatalog {
    fn recovery_point_counts(&self) -> Result<BTreeMap<String, u64>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(BTreeMap::new());
        };
        let mut stmt = conn
            .prepare("SELECT vault, COUNT(*) FROM recovery_points WHERE status != 'DELETED' GROUP BY vault")
            .map_err(|e| Self::err(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| Self::err(&self.path, e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (vault, n) = row.map_err(|e| Self::err(&self.path, e))?;
            out.insert(vault, n.max(0) as u64);
        }
        Ok(out)
    }

    fn add_recovery_point(&mut self, p: &NewRecoveryPoint) -> Result<String, CatalogError> {
        let Some(conn) = &self.conn else {
            return Err(Self::err(&self.path, "the catalog was opened read-only"));
        };
        let id = format!("rp-{}", uuid::Uuid::new_v4().simple());
        conn.execute(
            "INSERT INTO recovery_points (id, vault, native_id, resource_arn, resource_type, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, p.vault, p.native_id, p.resource_arn, p.resource_type, p.created_at.to_rfc3339()],
        )
        .map_err(|e| Self::err(&self.path, e))?;
        let _: Option<String> = conn
            .query_row(
                "SELECT id FROM recovery_points WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Self::err(&self.path, e))?;
        Ok(id)
    }

    fn create_job(
        &mut self,
        job: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, CatalogError> {
        let path = self.path.clone();
        let Some(conn) = self.conn.as_mut() else {
            return Err(Self::err(&path, "the catalog was opened read-only"));
        };
        let id = format!("job-{}", uuid::Uuid::new_v4().simple());
        let e = |e: rusqlite::Error| Self::err(&path, e);
        let tx = conn.transaction().map_err(e)?;
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO jobs (id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'CREATED', ?10, ?10)",
                params![
                    id,
                    job.kind,
                    job.plan,
                    job.rule,
                    job.resource_arn,
                    job.vault,
                    ts(job.windows.scheduled_at),
                    ts(job.windows.start_by),
                    ts(job.windows.complete_by),
                    ts(at)
                ],
            )
            .map_err(e)?;
        if inserted == 0 {
            return Ok(None);
        }
        tx.execute(
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
        }))
    }

    fn transition_job(
        &mut self,
        id: &str,
        to: JobState,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<JobRecord, CatalogError> {
        let path = self.path.clone();
        let Some(conn) = self.conn.as_mut() else {
            return Err(Self::err(&path, "the catalog was opened read-only"));
        };
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
        tx.execute(
            "INSERT INTO job_transitions (job_id, seq, state, at) VALUES (?1, ?2, ?3, ?4)",
            params![id, seq as i64, to.as_str(), ts(at_text)],
        )
        .map_err(e)?;
        let attempts = job.attempts + u32::from(to == JobState::Running);
        tx.execute(
            "UPDATE jobs SET state = ?2, updated_at = ?3, attempts = ?4, error = COALESCE(?5, error) WHERE id = ?1",
            params![id, to.as_str(), ts(at_text), attempts, error],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        job.attempts = attempts;
        if let Some(msg) = error {
            job.error = Some(msg.to_string());
        }
        Ok(job)
    }

    fn job(&self, id: &str) -> Result<Option<JobRecord>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(None);
        };
        load_job(conn, id).map_err(|e| Self::err(&self.path, e))
    }

    fn jobs(&self, state: Option<JobState>) -> Result<Vec<JobRecord>, CatalogError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let e = |e: rusqlite::Error| Self::err(&self.path, e);
        let mut stmt = conn
            .prepare("SELECT id FROM jobs WHERE (?1 IS NULL OR state = ?1) ORDER BY scheduled_at DESC, resource_arn, id")
            .map_err(e)?;
        let ids = stmt
            .query_map(params![state.map(JobState::as_str)], |r| {
                r.get::<_, String>(0)
            })
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)?;
        ids.iter()
            .filter_map(|id| load_job(conn, id).transpose())
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(vault: &str) -> NewRecoveryPoint {
        NewRecoveryPoint {
            vault: vault.into(),
            native_id: "snap-1".into(),
            resource_arn: "dir:/data".into(),
            resource_type: "directory".into(),
            created_at: DateTime::UNIX_EPOCH,
        }
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
        let counts = ro.recovery_point_counts().unwrap();
        assert_eq!(counts.get("a"), Some(&2));
        assert_eq!(counts.get("b"), Some(&1));
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
            kind: "backup".into(),
            plan: Some("plan.monthly".into()),
            rule: Some("plan.monthly.rule.first-saturday".into()),
            resource_arn: resource.into(),
            vault: "main".into(),
            windows: Windows {
                scheduled_at: at(6),
                start_by: at(8),
                complete_by: at(14),
            },
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
        assert_eq!(other.jobs(None).unwrap().len(), 2);
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
        assert_eq!(running.attempts, 1);
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
        assert_eq!(ro.jobs(Some(JobState::Failed)).unwrap().len(), 1);
        assert!(ro.jobs(Some(JobState::Completed)).unwrap().is_empty());
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
        assert!(c.jobs(None).unwrap().is_empty());
    }

    #[test]
    fn missing_catalog_is_empty_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let c = SqliteCatalog::open_read_only(&path).unwrap();
        assert!(c.recovery_point_counts().unwrap().is_empty());
        assert!(!path.exists());
    }
}
