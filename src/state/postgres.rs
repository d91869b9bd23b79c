//! The PostgreSQL state backend: the current state of a workspace and every earlier version,
//! the apply journal as rows, and the state and runner locks as lease rows on the database's
//! clock. A lock records its holder (who, where, what, since) for others to see; its holder
//! renews the lease every 10 s, so a holder that died releases it when its 30 s lease ends,
//! and `force-unlock ID` removes it at once. A write checks in one transaction that the lock is
//! still held and that the stored state is not newer than what is written: a lost update fails
//! and says so, and writes nothing.

use super::local::{with_journal, BackendError, Loaded, LockInfo};
use super::model::{JournalEntry, State};
use crate::pg::PgConnection;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const COMPONENT: &str = "state";

const MIGRATIONS: &[&str] = &[
    // 1: the current state, its history, the apply journal and the locks
    "CREATE TABLE state_current (
        workspace   text PRIMARY KEY,
        lineage     text NOT NULL,
        serial      bigint NOT NULL,
        data        text NOT NULL,
        written_at  timestamptz NOT NULL DEFAULT now(),
        written_by  text NOT NULL
    );
    CREATE TABLE state_versions (
        workspace   text NOT NULL,
        lineage     text NOT NULL,
        serial      bigint NOT NULL,
        data        text NOT NULL,
        written_at  timestamptz NOT NULL DEFAULT now(),
        written_by  text NOT NULL,
        PRIMARY KEY (workspace, lineage, serial)
    );
    CREATE TABLE state_journal (
        workspace   text NOT NULL,
        seq         bigint NOT NULL,
        entry       text NOT NULL,
        PRIMARY KEY (workspace, seq)
    );
    CREATE TABLE state_locks (
        workspace   text NOT NULL,
        name        text NOT NULL,
        lock_id     text NOT NULL,
        info        jsonb NOT NULL,
        expires_at  timestamptz NOT NULL,
        PRIMARY KEY (workspace, name)
    );",
];

/// How long a lock lives unless its holder renews it, and how often the holder does.
pub const LEASE: Duration = Duration::from_secs(30);
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The state of one workspace in PostgreSQL.
pub struct PgState {
    conn: PgConnection,
    workspace: String,
}

/// A state or runner lock, renewed while held and released when dropped.
pub struct PgLock {
    pub info: LockInfo,
    name: &'static str,
    conn: PgConnection,
    workspace: String,
    stop: Option<mpsc::Sender<()>>,
}

impl Drop for PgLock {
    fn drop(&mut self) {
        self.stop.take();
        let (ws, name, id) = (self.workspace.clone(), self.name, self.info.id.clone());
        let _ = self.conn.call(move |c| {
            c.execute(
                "DELETE FROM state_locks WHERE workspace = $1 AND name = $2 AND lock_id = $3",
                &[&ws, &name, &id],
            )?;
            Ok(())
        });
    }
}

/// The apply journal of an apply holding the lock: one row per entry, written at once.
pub struct PgJournal {
    conn: PgConnection,
    workspace: String,
    next: i64,
}

impl PgJournal {
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), BackendError> {
        let line = serde_json::to_string(entry)
            .map_err(|e| BackendError::Database(format!("cannot write the journal: {e}")))?;
        let (ws, seq) = (self.workspace.clone(), self.next);
        self.conn
            .call(move |c| {
                c.execute(
                    "INSERT INTO state_journal (workspace, seq, entry) VALUES ($1, $2, $3)",
                    &[&ws, &seq, &line],
                )?;
                Ok(())
            })
            .map_err(|e| BackendError::Database(format!("cannot write the journal: {e}")))?;
        self.next += 1;
        Ok(())
    }
}

/// One stored version of the state (`coffer state history`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct StateVersion {
    pub lineage: String,
    pub serial: i64,
    /// RFC 3339, on the database's clock (the file's time for the local backend).
    #[schemars(with = "String")]
    pub written_at: DateTime<Utc>,
    pub written_by: String,
    /// Whether this is the current state.
    pub current: bool,
}

/// The holder recorded in the first column of a `state_locks` row.
fn holder(row: postgres::Row) -> LockInfo {
    row.get::<_, postgres::types::Json<LockInfo>>(0).0
}

fn failed(what: &str) -> impl Fn(String) -> BackendError + '_ {
    move |e| BackendError::Database(format!("cannot {what}: {e}"))
}

impl PgState {
    /// The state of `workspace` on `conn`, its tables brought up to date.
    pub fn open(conn: PgConnection, workspace: &str) -> Result<PgState, BackendError> {
        conn.migrate(COMPONENT, MIGRATIONS)
            .map_err(BackendError::Database)?;
        Ok(PgState {
            conn,
            workspace: workspace.to_string(),
        })
    }

    fn journal_name(&self) -> PathBuf {
        PathBuf::from(format!("{} (apply journal)", self.conn.place))
    }

    /// Reads the state and replays any journal an interrupted apply left.
    pub fn read(&self) -> Result<Option<Loaded>, BackendError> {
        let ws = self.workspace.clone();
        let (data, journal) = self
            .conn
            .call(move |c| {
                let data: Option<String> = c
                    .query_opt(
                        "SELECT data FROM state_current WHERE workspace = $1",
                        &[&ws],
                    )?
                    .map(|r| r.get(0));
                let lines: Vec<String> = c
                    .query(
                        "SELECT entry FROM state_journal WHERE workspace = $1 ORDER BY seq",
                        &[&ws],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                Ok((data, lines))
            })
            .map_err(failed("read the state"))?;
        let state = match data {
            Some(text) => Some(State::parse(&text).map_err(|source| BackendError::Invalid {
                path: PathBuf::from(&self.conn.place),
                backup: PathBuf::from("`coffer state history` (an earlier version)"),
                source,
            })?),
            None => None,
        };
        let journal = (!journal.is_empty()).then(|| journal.join("\n") + "\n");
        with_journal(state, journal.as_deref(), &self.journal_name())
    }

    /// Takes the state lock (`name` "state") or the runner lock ("runner"), waiting up to
    /// `timeout`; `on_wait` hears once who holds it.
    pub fn lock(
        &self,
        name: &'static str,
        operation: &str,
        timeout: Duration,
        mut on_wait: impl FnMut(&LockInfo),
    ) -> Result<PgLock, BackendError> {
        let started = Instant::now();
        let mut told = false;
        loop {
            let info = LockInfo {
                id: uuid::Uuid::new_v4().to_string(),
                operation: operation.to_string(),
                pid: std::process::id(),
                host: gethostname::gethostname().to_string_lossy().into_owned(),
                user: std::env::var("USER")
                    .or_else(|_| std::env::var("USERNAME"))
                    .unwrap_or_else(|_| "unknown".into()),
                created_at: Utc::now(),
                version: crate::VERSION.to_string(),
            };
            let (ws, mine) = (self.workspace.clone(), info.clone());
            let lease = LEASE.as_secs_f64();
            let holder = self
                .conn
                .call(move |c| {
                    let taken = c.query_opt(
                        "INSERT INTO state_locks (workspace, name, lock_id, info, expires_at)
                         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
                         ON CONFLICT (workspace, name) DO UPDATE
                            SET lock_id = EXCLUDED.lock_id, info = EXCLUDED.info, expires_at = EXCLUDED.expires_at
                          WHERE state_locks.expires_at < now()
                         RETURNING lock_id",
                        &[&ws, &name, &mine.id, &postgres::types::Json(&mine), &lease],
                    )?;
                    if taken.is_some() {
                        return Ok(None);
                    }
                    let row = c.query_opt(
                        "SELECT info FROM state_locks WHERE workspace = $1 AND name = $2",
                        &[&ws, &name],
                    )?;
                    Ok(Some(row.map(holder)))
                })
                .map_err(failed("take the lock"))?;
            let Some(holder) = holder else {
                return Ok(self.held(name, info));
            };
            if let (false, Some(h)) = (told, &holder) {
                on_wait(h);
                told = true;
            }
            if started.elapsed() >= timeout {
                let (holder_text, id) = match holder {
                    Some(h) => (h.to_string(), h.id),
                    None => ("holder unknown".to_string(), "ID".to_string()),
                };
                return Err(if name == "runner" {
                    BackendError::RunnerLocked {
                        holder: holder_text,
                        waited: timeout,
                    }
                } else {
                    BackendError::Locked {
                        holder: holder_text,
                        id,
                        waited: timeout,
                    }
                });
            }
            std::thread::sleep(
                Duration::from_millis(200).min(
                    timeout
                        .saturating_sub(started.elapsed())
                        .max(Duration::from_millis(1)),
                ),
            );
        }
    }

    /// A lock just taken, with the thread that renews its lease until it is dropped.
    fn held(&self, name: &'static str, info: LockInfo) -> PgLock {
        let (stop, stopped) = mpsc::channel::<()>();
        let (conn, ws, id) = (self.conn.clone(), self.workspace.clone(), info.id.clone());
        let lease = LEASE.as_secs_f64();
        let _ = std::thread::Builder::new()
            .name("coffer-lease".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(RENEW_EVERY) {
                    let (ws, lock_id) = (ws.clone(), id.clone());
                    let renewed = conn.call(move |c| {
                        Ok(c.execute(
                            "UPDATE state_locks SET expires_at = now() + make_interval(secs => $4)
                             WHERE workspace = $1 AND name = $2 AND lock_id = $3",
                            &[&ws, &name, &lock_id, &lease],
                        )?)
                    });
                    if renewed == Ok(0) {
                        // broken by force-unlock or expired and taken: writes will be refused
                        tracing::warn!("the {name} lock {id} was lost");
                        return;
                    }
                }
            });
        PgLock {
            info,
            name,
            conn: self.conn.clone(),
            workspace: self.workspace.clone(),
            stop: Some(stop),
        }
    }

    /// The holder of the state lock, if it is held.
    pub fn lock_holder(&self) -> Option<LockInfo> {
        let ws = self.workspace.clone();
        self.conn
            .call(move |c| {
                Ok(c.query_opt(
                    "SELECT info FROM state_locks WHERE workspace = $1 AND name = 'state' AND expires_at > now()",
                    &[&ws],
                )?
                .map(holder))
            })
            .ok()
            .flatten()
    }

    /// Removes the state lock with ID `id`; its holder's later writes are refused.
    pub fn force_unlock(&self, id: &str) -> Result<LockInfo, BackendError> {
        let (ws, id) = (self.workspace.clone(), id.to_string());
        let wanted = id.clone();
        let (removed, current) = self
            .conn
            .call(move |c| {
                let removed = c
                    .query_opt(
                        "DELETE FROM state_locks WHERE workspace = $1 AND name = 'state' AND lock_id = $2 RETURNING info",
                        &[&ws, &id],
                    )?
                    .map(holder);
                let current = c
                    .query_opt(
                        "SELECT info FROM state_locks WHERE workspace = $1 AND name = 'state' AND expires_at > now()",
                        &[&ws],
                    )?
                    .map(holder);
                Ok((removed, current))
            })
            .map_err(failed("unlock the state"))?;
        match (removed, current) {
            (Some(info), _) => Ok(info),
            (None, Some(info)) => Err(BackendError::Unlock(format!(
                "lock ID `{wanted}` does not match the current lock ({info})"
            ))),
            (None, None) => Err(BackendError::Unlock("the state is not locked".into())),
        }
    }

    /// Writes `state` as the current version and keeps it in the history, and clears the
    /// journal, in one transaction that first checks `lock` still holds the state lock and
    /// that the stored state is not newer than `state`.
    pub fn write(&self, lock: &PgLock, state: &State) -> Result<(), BackendError> {
        let (ws, id) = (self.workspace.clone(), lock.info.id.clone());
        let (lineage, serial, data) = (state.lineage.clone(), state.serial as i64, state.to_text());
        let by = format!(
            "{}@{} ({})",
            lock.info.user, lock.info.host, lock.info.operation
        );
        let refused = self
            .conn
            .call(move |c| {
                let mut tx = c.transaction()?;
                let held = tx.query_opt(
                    "SELECT 1 FROM state_locks WHERE workspace = $1 AND name = 'state' AND lock_id = $2
                       AND expires_at > now() FOR UPDATE",
                    &[&ws, &id],
                )?;
                if held.is_none() {
                    return Ok(Some(format!(
                        "the state lock {id} is no longer held (its lease ended, or it was broken with force-unlock); nothing was written"
                    )));
                }
                let stored = tx.query_opt(
                    "SELECT lineage, serial FROM state_current WHERE workspace = $1 FOR UPDATE",
                    &[&ws],
                )?;
                if let Some(r) = stored {
                    let (l, s): (String, i64) = (r.get(0), r.get(1));
                    if l != lineage {
                        return Ok(Some(format!(
                            "the stored state is of lineage {l}, not {lineage}; nothing was written"
                        )));
                    }
                    if s > serial {
                        return Ok(Some(format!(
                            "the stored state moved on to serial {s} while this coffer writes serial {serial}; nothing was written: run the command again"
                        )));
                    }
                }
                tx.execute(
                    "INSERT INTO state_current (workspace, lineage, serial, data, written_by)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (workspace) DO UPDATE SET lineage = EXCLUDED.lineage,
                        serial = EXCLUDED.serial, data = EXCLUDED.data, written_at = now(),
                        written_by = EXCLUDED.written_by",
                    &[&ws, &lineage, &serial, &data, &by],
                )?;
                tx.execute(
                    "INSERT INTO state_versions (workspace, lineage, serial, data, written_by)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (workspace, lineage, serial) DO UPDATE SET data = EXCLUDED.data,
                        written_at = now(), written_by = EXCLUDED.written_by",
                    &[&ws, &lineage, &serial, &data, &by],
                )?;
                tx.execute("DELETE FROM state_journal WHERE workspace = $1", &[&ws])?;
                tx.commit()?;
                Ok(None)
            })
            .map_err(failed("write the state"))?;
        match refused {
            Some(why) => Err(BackendError::Database(format!(
                "cannot write the state to {}: {why}",
                self.conn.place
            ))),
            None => Ok(()),
        }
    }

    /// Starts the apply journal on top of `state`, which must be stored as written.
    pub fn begin_journal(
        &self,
        _lock: &PgLock,
        state: &State,
        now: DateTime<Utc>,
    ) -> Result<PgJournal, BackendError> {
        let ws = self.workspace.clone();
        self.conn
            .call(move |c| {
                c.execute("DELETE FROM state_journal WHERE workspace = $1", &[&ws])?;
                Ok(())
            })
            .map_err(failed("start the journal"))?;
        let mut journal = PgJournal {
            conn: self.conn.clone(),
            workspace: self.workspace.clone(),
            next: 0,
        };
        journal.append(&JournalEntry::Begin {
            lineage: state.lineage.clone(),
            base_serial: state.serial,
            started_at: now,
        })?;
        Ok(journal)
    }

    /// Every stored version, newest first.
    pub fn history(&self) -> Result<Vec<StateVersion>, BackendError> {
        let ws = self.workspace.clone();
        self.conn
            .call(move |c| {
                let rows = c.query(
                    "SELECT v.lineage, v.serial, v.written_at, v.written_by,
                            (s.lineage = v.lineage AND s.serial = v.serial) IS TRUE
                       FROM state_versions v LEFT JOIN state_current s ON s.workspace = v.workspace
                      WHERE v.workspace = $1 ORDER BY v.written_at DESC, v.serial DESC",
                    &[&ws],
                )?;
                Ok(rows
                    .iter()
                    .map(|r| StateVersion {
                        lineage: r.get(0),
                        serial: r.get(1),
                        written_at: r.get(2),
                        written_by: r.get(3),
                        current: r.get(4),
                    })
                    .collect())
            })
            .map_err(failed("read the state's history"))
    }

    /// Whether any state is stored (`init -migrate-state` refuses a backend that has one).
    pub fn is_empty(&self) -> Result<bool, BackendError> {
        let ws = self.workspace.clone();
        self.conn
            .call(move |c| {
                Ok(
                    c.query_opt("SELECT 1 FROM state_current WHERE workspace = $1", &[&ws])?
                        .is_none(),
                )
            })
            .map_err(failed("read the state"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::PgTarget;

    fn store() -> (PgState, PgState) {
        let target = PgTarget {
            conn_str: crate::pg_test::database(),
            schema: "coffer".into(),
        };
        let open = || PgState::open(PgConnection::open(&target).unwrap(), "default").unwrap();
        (open(), open())
    }

    #[test]
    fn a_write_needs_the_live_lock_and_keeps_every_version() {
        let (a, b) = store();
        assert!(a.read().unwrap().is_none());
        assert!(a.is_empty().unwrap());
        let lock = a.lock("state", "apply", Duration::ZERO, |_| {}).unwrap();
        // another process sees who holds it and gives up after its timeout
        let mut heard = None;
        let e = b
            .lock("state", "plan", Duration::from_millis(300), |h| {
                heard = Some(h.clone())
            })
            .err()
            .unwrap();
        assert_eq!(
            heard.as_ref().map(|h| h.id.as_str()),
            Some(lock.info.id.as_str())
        );
        assert!(e.to_string().contains("operation `apply`"), "{e}");
        assert_eq!(b.lock_holder().map(|h| h.id), Some(lock.info.id.clone()));
        let mut state = State::new("lineage-1".to_string());
        state.serial = 1;
        a.write(&lock, &state).unwrap();
        state.serial = 2;
        a.write(&lock, &state).unwrap();
        assert_eq!(b.read().unwrap().unwrap().state.serial, 2);
        // a stale writer is refused: the stored state is newer
        state.serial = 1;
        let e = a.write(&lock, &state).unwrap_err().to_string();
        assert!(e.contains("moved on to serial 2"), "{e}");
        let history = b.history().unwrap();
        assert_eq!(
            history
                .iter()
                .map(|v| (v.serial, v.current))
                .collect::<Vec<_>>(),
            [(2, true), (1, false)]
        );
        // broken by force-unlock: the old holder's writes are refused, and others may lock
        let info = b.force_unlock(&lock.info.id).unwrap();
        assert_eq!(info.operation, "apply");
        state.serial = 3;
        let e = a.write(&lock, &state).unwrap_err().to_string();
        assert!(e.contains("is no longer held"), "{e}");
        assert_eq!(b.read().unwrap().unwrap().state.serial, 2);
        let again = b.lock("state", "apply", Duration::ZERO, |_| {}).unwrap();
        assert!(b
            .force_unlock("nope")
            .unwrap_err()
            .to_string()
            .contains("does not match"));
        drop(lock); // dropping a broken lock does not release the new holder's
        assert_eq!(a.lock_holder().map(|h| h.id), Some(again.info.id.clone()));
        drop(again);
        assert_eq!(a.lock_holder(), None);
        assert!(a
            .force_unlock("x")
            .unwrap_err()
            .to_string()
            .contains("not locked"));
    }

    #[test]
    fn a_lock_whose_holder_died_is_taken_once_its_lease_ends() {
        let (a, b) = store();
        let lock = a.lock("runner", "daemon", Duration::ZERO, |_| {}).unwrap();
        // the holder dies: nothing renews the lease; end it as time would
        let ws = "default".to_string();
        a.conn
            .call(move |c| {
                c.execute(
                    "UPDATE state_locks SET expires_at = now() - interval '1 second' WHERE workspace = $1",
                    &[&ws],
                )?;
                Ok(())
            })
            .unwrap();
        std::mem::forget(lock);
        let taken = b.lock("runner", "run", Duration::ZERO, |_| {}).unwrap();
        assert_eq!(taken.info.operation, "run");
        let e = a
            .lock("runner", "run", Duration::ZERO, |_| {})
            .err()
            .unwrap();
        assert!(matches!(e, BackendError::RunnerLocked { .. }), "{e}");
    }

    #[test]
    fn an_interrupted_apply_is_replayed_from_its_journal_rows() {
        let (a, b) = store();
        let lock = a.lock("state", "apply", Duration::ZERO, |_| {}).unwrap();
        let mut state = State::new("lineage-1".to_string());
        state.serial = 1;
        a.write(&lock, &state).unwrap();
        let mut journal = a.begin_journal(&lock, &state, Utc::now()).unwrap();
        let address: crate::address::Address = "vault.main".parse().unwrap();
        journal
            .append(&JournalEntry::Put {
                object: crate::state::StateObject {
                    kind: address.kind(),
                    address,
                    id: "main".into(),
                    attributes: serde_json::json!({}),
                    depends_on: vec![],
                    created_at: DateTime::UNIX_EPOCH,
                    updated_at: DateTime::UNIX_EPOCH,
                    lock_applied_at: None,
                },
            })
            .unwrap();
        // the apply dies here, before it writes the state
        drop(journal);
        drop(lock);
        let loaded = b.read().unwrap().unwrap();
        assert!(loaded.replayed_journal);
        assert_eq!(
            loaded.state.serial, 2,
            "the journal's step is part of the state"
        );
        assert_eq!(loaded.state.objects.len(), 1);
        // once the state is written the journal is gone
        let lock = b.lock("state", "apply", Duration::ZERO, |_| {}).unwrap();
        b.write(&lock, &loaded.state).unwrap();
        assert!(!a.read().unwrap().unwrap().replayed_journal);
    }
}
