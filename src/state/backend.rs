//! The backend a configuration names, whichever it is: a local directory (state files and the
//! SQLite catalog) or a PostgreSQL database (state rows and the PostgreSQL catalog). Commands
//! read, lock and write state and open the catalog through this, never through one kind.

use super::local::{self, BackendError, Loaded, LocalBackend, LockInfo};
use super::model::{JournalEntry, State};
use super::postgres::{PgJournal, PgLock, PgState, StateVersion};
use crate::catalog::{Catalog, CatalogError, PgCatalog, SqliteCatalog};
use crate::pg::{PgConnection, PgTarget};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Where state and catalog are kept.
pub enum Backend {
    Local(LocalBackend),
    Postgres {
        state: PgState,
        target: PgTarget,
        /// The one connection state and catalogs share, its catalog tables migrated once.
        conn: PgConnection,
        catalog_migrated: std::sync::OnceLock<()>,
    },
}

/// A held state or runner lock.
pub enum Lock {
    Local(local::StateLock),
    Postgres(PgLock),
}

impl Lock {
    pub fn info(&self) -> &LockInfo {
        match self {
            Lock::Local(l) => &l.info,
            Lock::Postgres(l) => &l.info,
        }
    }
}

/// An open apply journal.
pub enum Journal {
    Local(local::Journal),
    Postgres(PgJournal),
}

impl Journal {
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), BackendError> {
        match self {
            Journal::Local(j) => j.append(entry),
            Journal::Postgres(j) => j.append(entry),
        }
    }

    pub fn sync(&mut self) -> Result<(), BackendError> {
        match self {
            Journal::Local(j) => j.sync(),
            // every entry is committed as it is written
            Journal::Postgres(_) => Ok(()),
        }
    }
}

fn mismatch() -> BackendError {
    BackendError::Unlock("a lock of one backend was used with another".into())
}

/// What opens a backend again, from another thread (a server's): the local directory or the
/// PostgreSQL target.
#[derive(Debug, Clone)]
pub enum BackendSpec {
    Local(LocalBackend),
    Postgres(PgTarget),
}

impl BackendSpec {
    /// A backend of its own, with its own connection.
    pub fn open(&self) -> Result<Backend, BackendError> {
        match self {
            BackendSpec::Local(b) => Ok(Backend::Local(b.clone())),
            BackendSpec::Postgres(t) => Backend::postgres(t.clone()),
        }
    }
}

impl Backend {
    /// What opens this backend again.
    pub fn spec(&self) -> BackendSpec {
        match self {
            Backend::Local(b) => BackendSpec::Local(b.clone()),
            Backend::Postgres { target, .. } => BackendSpec::Postgres(target.clone()),
        }
    }

    /// The PostgreSQL backend at `target`, for the default workspace.
    pub fn postgres(target: PgTarget) -> Result<Backend, BackendError> {
        let conn = PgConnection::open(&target).map_err(BackendError::Database)?;
        Ok(Backend::Postgres {
            state: PgState::open(conn.clone(), "default")?,
            target,
            conn,
            catalog_migrated: std::sync::OnceLock::new(),
        })
    }

    /// The PostgreSQL catalog over this backend's connection, its tables migrated on first
    /// use; `None` for the local backend.
    pub fn pg_catalog(&self) -> Option<Result<PgCatalog, CatalogError>> {
        let Backend::Postgres {
            conn,
            catalog_migrated,
            ..
        } = self
        else {
            return None;
        };
        let catalog = PgCatalog::over(conn.clone());
        if catalog_migrated.get().is_none() {
            if let Err(e) = catalog.migrate() {
                return Some(Err(e));
            }
            let _ = catalog_migrated.set(());
        }
        Some(Ok(catalog))
    }

    /// What to call this backend in messages.
    pub fn describe(&self) -> String {
        match self {
            Backend::Local(b) => format!("the local backend in {}", b.dir().display()),
            Backend::Postgres { target, .. } => {
                format!("PostgreSQL (schema {})", target.schema)
            }
        }
    }

    pub fn read(&self) -> Result<Option<Loaded>, BackendError> {
        match self {
            Backend::Local(b) => b.read(),
            Backend::Postgres { state, .. } => state.read(),
        }
    }

    pub fn lock(
        &self,
        operation: &str,
        timeout: Duration,
        on_wait: impl FnMut(&LockInfo),
    ) -> Result<Lock, BackendError> {
        match self {
            Backend::Local(b) => b.lock(operation, timeout, on_wait).map(Lock::Local),
            Backend::Postgres { state, .. } => state
                .lock("state", operation, timeout, on_wait)
                .map(Lock::Postgres),
        }
    }

    /// The job runner's lock: one process runs this catalog's jobs at a time.
    pub fn runner_lock(
        &self,
        operation: &str,
        timeout: Duration,
        on_wait: impl FnMut(&LockInfo),
    ) -> Result<Lock, BackendError> {
        match self {
            Backend::Local(b) => b.runner_lock(operation, timeout, on_wait).map(Lock::Local),
            Backend::Postgres { state, .. } => state
                .lock("runner", operation, timeout, on_wait)
                .map(Lock::Postgres),
        }
    }

    pub fn lock_holder(&self) -> Option<LockInfo> {
        match self {
            Backend::Local(b) => b.lock_holder(),
            Backend::Postgres { state, .. } => state.lock_holder(),
        }
    }

    pub fn force_unlock(&self, id: &str) -> Result<LockInfo, BackendError> {
        match self {
            Backend::Local(b) => b.force_unlock(id),
            Backend::Postgres { state, .. } => state.force_unlock(id),
        }
    }

    pub fn write(&self, lock: &Lock, s: &State) -> Result<(), BackendError> {
        match (self, lock) {
            (Backend::Local(b), Lock::Local(l)) => b.write(l, s),
            (Backend::Postgres { state, .. }, Lock::Postgres(l)) => state.write(l, s),
            _ => Err(mismatch()),
        }
    }

    pub fn begin_journal(
        &self,
        lock: &Lock,
        s: &State,
        now: DateTime<Utc>,
    ) -> Result<Journal, BackendError> {
        match (self, lock) {
            (Backend::Local(b), Lock::Local(l)) => b.begin_journal(l, s, now).map(Journal::Local),
            (Backend::Postgres { state, .. }, Lock::Postgres(l)) => {
                state.begin_journal(l, s, now).map(Journal::Postgres)
            }
            _ => Err(mismatch()),
        }
    }

    /// Drops the journal of an apply that changed nothing (the state stays as it was).
    pub fn discard_journal(&self, lock: &Lock, s: &State) -> Result<(), BackendError> {
        match self {
            Backend::Local(b) => {
                let _ = std::fs::remove_file(b.journal_path());
                Ok(())
            }
            // writing the unchanged state clears the journal rows in the same transaction
            Backend::Postgres { .. } => self.write(lock, s),
        }
    }

    /// Every stored version of the state, newest first: PostgreSQL keeps them all, the local
    /// backend its current state and one backup (`state.json.backup`).
    pub fn history(&self) -> Result<Vec<StateVersion>, BackendError> {
        let b = match self {
            Backend::Postgres { state, .. } => return state.history(),
            Backend::Local(b) => b,
        };
        let mut out = Vec::new();
        for (path, current) in [(b.state_path(), true), (b.backup_path(), false)] {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(s) = State::parse(&text) else {
                continue;
            };
            let written_at = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(DateTime::<Utc>::from)
                .unwrap_or_default();
            out.push(StateVersion {
                lineage: s.lineage.clone(),
                serial: s.serial as i64,
                written_at,
                written_by: format!("coffer {} ({})", s.coffer_version, path.display()),
                current,
            });
        }
        Ok(out)
    }

    /// The catalog, for writing (created and migrated if needed).
    pub fn catalog(&self) -> Result<Box<dyn Catalog>, CatalogError> {
        Ok(match self {
            Backend::Local(b) => Box::new(SqliteCatalog::open(&b.dir().join("catalog.db"))?),
            Backend::Postgres { .. } => Box::new(self.pg()?),
        })
    }

    fn pg(&self) -> Result<PgCatalog, CatalogError> {
        self.pg_catalog().unwrap_or_else(|| {
            Err(CatalogError {
                path: "postgres".into(),
                message: "the local backend has no PostgreSQL catalog".into(),
            })
        })
    }

    /// [`Backend::catalog`] in a `RefCell`, as the job executor shares it.
    pub fn catalog_cell(&self) -> Result<Box<std::cell::RefCell<dyn Catalog>>, CatalogError> {
        Ok(match self {
            Backend::Local(b) => Box::new(std::cell::RefCell::new(SqliteCatalog::open(
                &b.dir().join("catalog.db"),
            )?)),
            Backend::Postgres { .. } => Box::new(std::cell::RefCell::new(self.pg()?)),
        })
    }

    /// The catalog for reading; a local catalog that does not exist yet is empty and is not
    /// created.
    pub fn catalog_read_only(&self) -> Result<Box<dyn Catalog>, CatalogError> {
        Ok(match self {
            Backend::Local(b) => {
                Box::new(SqliteCatalog::open_read_only(&b.dir().join("catalog.db"))?)
            }
            Backend::Postgres { .. } => Box::new(self.pg()?),
        })
    }
}
