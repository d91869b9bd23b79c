//! The local state backend: `state.json` in a directory (default `.coffer`), written
//! atomically (temp file, fsync, rename) with the previous version kept as
//! `state.json.backup`; an append-only apply journal `state.journal` replayed on load; and an
//! exclusive lock (`state.lock`, an OS file lock) that records its holder.

use super::model::{replay, JournalEntry, JournalError, State, StateError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Who holds the state lock, recorded inside the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub version: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ID {}, operation `{}`, process {} on {} (user {}), since {}",
            self.id,
            self.operation,
            self.pid,
            self.host,
            self.user,
            self.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot read the state file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the state file {path}: {source}\n  The previous state is intact.{}", disk_note(.source))]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: {source}\n  The file was not modified. Restore it from {backup} or fix it by hand.")]
    Invalid {
        path: PathBuf,
        backup: PathBuf,
        source: StateError,
    },
    #[error("{path}: {source}\n  The journal and state were not modified; move the journal aside only if you know the state is right.")]
    Journal { path: PathBuf, source: JournalError },
    #[error("the state is locked by another coffer ({holder})\n  Waited {waited:?}. Wait for it to finish, or pass --lock-timeout to wait longer; if that process is gone for good, run `coffer force-unlock {id}`.")]
    Locked {
        holder: String,
        id: String,
        waited: Duration,
    },
    #[error("jobs are being run by another coffer ({holder})\n  Waited {waited:?}. Its jobs continue there; pass --lock-timeout to wait for it. The lock is an OS file lock, so it goes away with the process that held it.")]
    RunnerLocked { holder: String, waited: Duration },
    #[error("cannot lock the state at {path}: {source}\n  The state was not changed.{}", disk_note(.source))]
    Lock { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Unlock(String),
    /// The PostgreSQL backend's database refused or failed a request.
    #[error("{0}")]
    Database(String),
}

/// What a failed write under the state directory means, on a line of its own.
fn disk_note(e: &io::Error) -> String {
    crate::disk::hint(e, "the state directory")
        .map(|h| format!("\n  {h}"))
        .unwrap_or_default()
}

/// The state directory and its files.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    dir: PathBuf,
}

/// Holds the exclusive state lock until dropped.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    pub info: LockInfo,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Clear the holder before releasing, so nobody reads a stale name.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The open apply journal. Each entry is written with one `write` call as soon as its step
/// is done (so it survives the process being killed); entries are flushed to disk in groups
/// and on close, so apply stays linear instead of syncing once per object.
pub struct Journal {
    file: File,
    path: PathBuf,
    unsynced: usize,
}

/// How many journal entries may wait for an fsync.
const JOURNAL_SYNC_EVERY: usize = 256;

impl Journal {
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), BackendError> {
        let mut line = serde_json::to_string(entry).map_err(|e| BackendError::Write {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|source| BackendError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.unsynced += 1;
        if self.unsynced >= JOURNAL_SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    pub fn sync(&mut self) -> Result<(), BackendError> {
        self.unsynced = 0;
        self.file.sync_data().map_err(|source| BackendError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// What [`LocalBackend::read`] found.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub state: State,
    /// True when a journal from an interrupted apply was replayed; the next write folds it in.
    pub replayed_journal: bool,
}

impl LocalBackend {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalBackend { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn backup_path(&self) -> PathBuf {
        self.dir.join("state.json.backup")
    }
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join("state.journal")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join("state.lock")
    }

    /// Reads the state and replays any journal left by an interrupted apply.
    /// `Ok(None)` when nothing has been applied yet.
    pub fn read(&self) -> Result<Option<Loaded>, BackendError> {
        let path = self.state_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(BackendError::Read { path, source }),
        };
        let state = match text {
            Some(t) => Some(State::parse(&t).map_err(|source| BackendError::Invalid {
                path: path.clone(),
                backup: self.backup_path(),
                source,
            })?),
            None => None,
        };
        let jpath = self.journal_path();
        let journal = match fs::read_to_string(&jpath) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(BackendError::Read {
                    path: jpath,
                    source,
                })
            }
        };
        with_journal(state, journal.as_deref(), &jpath)
    }

    fn ensure_dir(&self) -> Result<(), BackendError> {
        fs::create_dir_all(&self.dir).map_err(|source| BackendError::Write {
            path: self.dir.clone(),
            source,
        })
    }

    /// Takes the exclusive lock, waiting up to `timeout`. `on_wait` is called once with the
    /// holder when the lock is busy.
    pub fn lock(
        &self,
        operation: &str,
        timeout: Duration,
        on_wait: impl FnMut(&LockInfo),
    ) -> Result<StateLock, BackendError> {
        self.lock_at(self.lock_path(), operation, timeout, on_wait)
    }

    /// Takes the job runner's lock (`runner.lock`): one `coffer run` or `coffer daemon` runs
    /// jobs from this catalog at a time, so any unfinished job found while holding it was left
    /// by a process that is gone and may be resumed.
    pub fn runner_lock(
        &self,
        operation: &str,
        timeout: Duration,
        on_wait: impl FnMut(&LockInfo),
    ) -> Result<StateLock, BackendError> {
        self.lock_at(self.dir.join("runner.lock"), operation, timeout, on_wait)
            .map_err(|e| match e {
                BackendError::Locked { holder, waited, .. } => {
                    BackendError::RunnerLocked { holder, waited }
                }
                other => other,
            })
    }

    fn lock_at(
        &self,
        path: PathBuf,
        operation: &str,
        timeout: Duration,
        mut on_wait: impl FnMut(&LockInfo),
    ) -> Result<StateLock, BackendError> {
        self.ensure_dir()?;
        let started = Instant::now();
        let mut told = false;
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|source| BackendError::Lock {
                    path: path.clone(),
                    source,
                })?;
            match file.try_lock() {
                Ok(()) => {
                    // The file may have been moved aside by force-unlock while we waited.
                    if !same_file(&file, &path) {
                        continue;
                    }
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
                    let text = serde_json::to_string_pretty(&info).unwrap_or_default();
                    file.set_len(0)
                        .and_then(|_| file.seek(SeekFrom::Start(0)))
                        .and_then(|_| file.write_all(text.as_bytes()))
                        .and_then(|_| file.sync_data())
                        .map_err(|source| BackendError::Lock {
                            path: path.clone(),
                            source,
                        })?;
                    return Ok(StateLock { file, info });
                }
                Err(fs::TryLockError::WouldBlock) => {
                    let holder = read_lock_info(&mut file);
                    if !told {
                        if let Some(h) = &holder {
                            on_wait(h);
                            told = true;
                        }
                    }
                    if started.elapsed() >= timeout {
                        return Err(BackendError::Locked {
                            holder: holder
                                .as_ref()
                                .map_or_else(|| "holder unknown".to_string(), ToString::to_string),
                            id: holder.map_or_else(|| "ID".to_string(), |h| h.id),
                            waited: timeout,
                        });
                    }
                    std::thread::sleep(
                        Duration::from_millis(100).min(
                            timeout
                                .saturating_sub(started.elapsed())
                                .max(Duration::from_millis(1)),
                        ),
                    );
                }
                Err(fs::TryLockError::Error(source)) => {
                    return Err(BackendError::Lock { path, source })
                }
            }
        }
    }

    /// The current holder, if the state is locked.
    pub fn lock_holder(&self) -> Option<LockInfo> {
        let mut file = File::open(self.lock_path()).ok()?;
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(_) => read_lock_info(&mut file),
        }
    }

    /// Breaks the lock with the given ID (the holder keeps running but no longer excludes
    /// others). Returns the holder that was removed.
    pub fn force_unlock(&self, id: &str) -> Result<LockInfo, BackendError> {
        let path = self.lock_path();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BackendError::Unlock("the state is not locked".into()))
            }
            Err(source) => return Err(BackendError::Lock { path, source }),
        };
        let info = read_lock_info(&mut file);
        let held = matches!(file.try_lock_shared(), Err(fs::TryLockError::WouldBlock));
        if !held {
            let _ = file.unlock();
        }
        match info {
            Some(info) if info.id == id => {
                let aside = self.dir.join(format!("state.lock.broken-{}", info.id));
                fs::rename(&path, &aside).map_err(|source| BackendError::Lock {
                    path: path.clone(),
                    source,
                })?;
                let _ = fs::remove_file(&aside);
                Ok(info)
            }
            Some(info) if held => Err(BackendError::Unlock(format!(
                "lock ID `{id}` does not match the current lock ({info})"
            ))),
            _ => Err(BackendError::Unlock("the state is not locked".into())),
        }
    }

    /// Writes `state` atomically: temp file, fsync, previous version to the backup, rename,
    /// then removes the journal (it is now part of the state). Requires the lock.
    pub fn write(&self, _lock: &StateLock, state: &State) -> Result<(), BackendError> {
        self.ensure_dir()?;
        let path = self.state_path();
        let tmp = self
            .dir
            .join(format!("state.json.tmp-{}", std::process::id()));
        let werr = |source| BackendError::Write {
            path: path.clone(),
            source,
        };
        // a write that fails (a full disk) leaves no half-written file behind
        let written = File::create(&tmp).and_then(|mut f| {
            f.write_all(state.to_text().as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(werr(e));
        }
        if path.exists() {
            let backup_tmp = self.dir.join("state.json.backup.tmp");
            let kept = fs::copy(&path, &backup_tmp)
                .and_then(|_| File::open(&backup_tmp))
                .and_then(|f| f.sync_all())
                .and_then(|()| fs::rename(&backup_tmp, self.backup_path()));
            if let Err(e) = kept {
                let _ = fs::remove_file(&backup_tmp);
                let _ = fs::remove_file(&tmp);
                return Err(werr(e));
            }
        }
        fs::rename(&tmp, &path).map_err(werr)?;
        sync_dir(&self.dir);
        match fs::remove_file(self.journal_path()) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(BackendError::Write {
                    path: self.journal_path(),
                    source,
                })
            }
        }
        Ok(())
    }

    /// Starts the journal for an apply on top of `state` (which must already be on disk
    /// as written, i.e. any earlier journal folded in). Requires the lock.
    pub fn begin_journal(
        &self,
        _lock: &StateLock,
        state: &State,
        now: DateTime<Utc>,
    ) -> Result<Journal, BackendError> {
        self.ensure_dir()?;
        let path = self.journal_path();
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|source| BackendError::Write {
                path: path.clone(),
                source,
            })?;
        let mut journal = Journal {
            file,
            path,
            unsynced: 0,
        };
        journal.append(&JournalEntry::Begin {
            lineage: state.lineage.clone(),
            base_serial: state.serial,
            started_at: now,
        })?;
        journal.sync()?;
        sync_dir(&self.dir);
        Ok(journal)
    }
}

/// The state as an interrupted apply left it: `state` (none before the first apply) with
/// `journal` (the apply journal's text, named `jpath` in errors) replayed on top, unless the
/// journal was already folded in.
pub(super) fn with_journal(
    state: Option<State>,
    journal: Option<&str>,
    jpath: &Path,
) -> Result<Option<Loaded>, BackendError> {
    let Some(journal) = journal else {
        return Ok(state.map(|state| Loaded {
            state,
            replayed_journal: false,
        }));
    };
    let begin = journal
        .lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<JournalEntry>(l).ok());
    let Some(JournalEntry::Begin {
        lineage,
        base_serial,
        ..
    }) = begin
    else {
        if journal.trim().is_empty() {
            return Ok(state.map(|state| Loaded {
                state,
                replayed_journal: false,
            }));
        }
        return Err(BackendError::Journal {
            path: jpath.to_path_buf(),
            source: JournalError::Corrupt {
                line: 1,
                reason: "the first entry is not `begin`".into(),
            },
        });
    };
    let mut state = match state {
        Some(s) => s,
        None => State::new(lineage.clone()),
    };
    // A journal already folded into the state (the process died after writing the state
    // but before removing the journal) is stale; the next write removes it.
    if lineage == state.lineage && base_serial < state.serial {
        return Ok(Some(Loaded {
            state,
            replayed_journal: true,
        }));
    }
    let applied = replay(&mut state, journal).map_err(|source| BackendError::Journal {
        path: jpath.to_path_buf(),
        source,
    })?;
    if applied > 0 {
        state.serial += 1;
    }
    Ok(Some(Loaded {
        state,
        replayed_journal: true,
    }))
}

fn read_lock_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateObject;

    fn obj(addr: &str) -> StateObject {
        let address: crate::address::Address = addr.parse().unwrap();
        StateObject {
            kind: address.kind(),
            address,
            id: "id".into(),
            attributes: serde_json::json!({}),
            depends_on: vec![],
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            lock_applied_at: None,
        }
    }

    #[test]
    fn write_keeps_a_backup_and_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join(".coffer"));
        assert!(b.read().unwrap().is_none());
        let lock = b.lock("test", Duration::ZERO, |_| {}).unwrap();
        let mut s = State::new("L");
        s.serial = 1;
        b.write(&lock, &s).unwrap();
        s.serial = 2;
        b.write(&lock, &s).unwrap();
        assert_eq!(b.read().unwrap().unwrap().state.serial, 2);
        let backup = State::parse(&fs::read_to_string(b.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 1);
    }

    #[test]
    fn journal_is_replayed_after_a_crash_and_folded_in_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let lock = b.lock("apply", Duration::ZERO, |_| {}).unwrap();
        let mut s = State::new("L");
        s.serial = 4;
        b.write(&lock, &s).unwrap();
        let mut j = b.begin_journal(&lock, &s, Utc::now()).unwrap();
        j.append(&JournalEntry::Put {
            object: obj("vault.a"),
        })
        .unwrap();
        drop(j); // "crash": no final write
        drop(lock);
        let loaded = b.read().unwrap().unwrap();
        assert!(loaded.replayed_journal);
        assert_eq!(loaded.state.serial, 5);
        assert!(loaded
            .state
            .objects
            .contains_key(&"vault.a".parse().unwrap()));
        let lock = b.lock("apply", Duration::ZERO, |_| {}).unwrap();
        b.write(&lock, &loaded.state).unwrap();
        assert!(!b.journal_path().exists());
        let again = b.read().unwrap().unwrap();
        assert!(!again.replayed_journal);
        assert_eq!(again.state, loaded.state);
    }

    #[test]
    fn stale_journal_after_the_state_was_written_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let lock = b.lock("apply", Duration::ZERO, |_| {}).unwrap();
        let mut s = State::new("L");
        s.serial = 1;
        let mut j = b.begin_journal(&lock, &s, Utc::now()).unwrap();
        j.append(&JournalEntry::Put {
            object: obj("vault.a"),
        })
        .unwrap();
        s.serial = 2;
        s.objects.insert("vault.a".parse().unwrap(), obj("vault.a"));
        // write the state but pretend the journal removal never happened
        let journal_text = fs::read_to_string(b.journal_path()).unwrap();
        b.write(&lock, &s).unwrap();
        fs::write(b.journal_path(), journal_text).unwrap();
        let loaded = b.read().unwrap().unwrap();
        assert_eq!(loaded.state, s);
    }

    #[test]
    fn corrupt_state_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        fs::write(b.state_path(), "{oops").unwrap();
        let err = b.read().unwrap_err().to_string();
        assert!(err.contains("corrupt"), "{err}");
        assert_eq!(fs::read_to_string(b.state_path()).unwrap(), "{oops");
    }

    #[test]
    fn second_locker_fails_naming_the_holder_and_force_unlock_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let first = b.lock("apply", Duration::ZERO, |_| {}).unwrap();
        let mut seen = None;
        let err = b
            .lock("plan", Duration::from_millis(250), |h| {
                seen = Some(h.clone())
            })
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&first.info.id), "{text}");
        assert!(text.contains("operation `apply`"), "{text}");
        assert_eq!(seen.unwrap().id, first.info.id);
        assert_eq!(b.lock_holder().unwrap().id, first.info.id);
        assert!(b.force_unlock("wrong").is_err());
        let removed = b.force_unlock(&first.info.id).unwrap();
        assert_eq!(removed.id, first.info.id);
        let second = b.lock("plan", Duration::ZERO, |_| {}).unwrap();
        assert_ne!(second.info.id, first.info.id);
    }

    #[test]
    fn released_lock_is_reusable_and_clears_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        drop(b.lock("apply", Duration::ZERO, |_| {}).unwrap());
        assert!(b.lock_holder().is_none());
        drop(b.lock("apply", Duration::ZERO, |_| {}).unwrap());
    }
}
