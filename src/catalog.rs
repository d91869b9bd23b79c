//! The catalog of recovery points (and, later, jobs): the [`Catalog`] interface the rest of
//! coffer uses, and its embedded SQLite implementation (`.coffer/catalog.db`) with versioned
//! migrations. Nothing SQLite-specific leaks out of this module.

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
            return Err(Self::err(
                path,
                "the catalog schema is older than this coffer; run `coffer apply` to migrate it",
            ));
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

    #[test]
    fn missing_catalog_is_empty_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let c = SqliteCatalog::open_read_only(&path).unwrap();
        assert!(c.recovery_point_counts().unwrap().is_empty());
        assert!(!path.exists());
    }
}
