//! restic's exclusive repository lock, held while coffer prunes a vault repository: a lock
//! file in `locks/` (JSON with time, host, user and pid, encrypted with the repository key and
//! named by its SHA-256, as restic writes them), so that restic and anything else honouring
//! restic's locks neither backs up nor prunes meanwhile. A lock of someone else younger than
//! 30 minutes (restic's stale limit) refuses the prune, naming who holds it, unless it was
//! taken on this host by a process that no longer exists (a coffer killed mid-prune): such a
//! lock is stale by `restic unlock`'s own rule, and coffer, which prunes unattended, removes it
//! itself instead of refusing every later prune until someone runs `restic unlock`.

use super::crypto::{cipher, decrypt, encrypt};
use super::raw::RawFiles;
use super::Location;
use chrono::{DateTime, Utc};
use rustic_core::repofile::MasterKey;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// How old another lock must be before restic (and coffer) treats it as stale.
const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(30);

/// A lock file's content, in restic's field names.
#[derive(Debug, Serialize, Deserialize)]
struct LockFile {
    time: DateTime<Utc>,
    exclusive: bool,
    hostname: String,
    username: String,
    pid: u32,
    #[serde(default)]
    uid: u32,
    #[serde(default)]
    gid: u32,
}

/// The lock, held until dropped (its file is then removed).
pub struct ExclusiveLock {
    files: RawFiles,
    name: String,
}

impl Drop for ExclusiveLock {
    fn drop(&mut self) {
        let _ = self.files.remove(&self.name);
    }
}

fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether a process with this pid runs on this host (signal 0 asks without sending one).
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Takes restic's exclusive lock on the repository at `location` at `now`, or says who holds
/// a lock on it.
pub fn exclusive(
    location: &Location,
    key: &MasterKey,
    now: DateTime<Utc>,
) -> Result<ExclusiveLock, String> {
    let files = RawFiles::of(location)?;
    let c = cipher(key)?;
    for name in files.list("locks")? {
        let Some(data) = files.read(&format!("locks/{name}"))? else {
            continue; // removed meanwhile
        };
        let lock = decrypt(&c, &data).and_then(|d| serde_json::from_slice::<LockFile>(&d).ok());
        match lock {
            Some(l) if now - l.time >= STALE_AFTER => continue,
            Some(l) if l.hostname == host() && !process_exists(l.pid) => {
                // its process died holding it: stale by `restic unlock`'s rule on this host
                files.remove(&format!("locks/{name}"))?;
                tracing::info!(
                    "removed the lock {name} of {location}: its process {} on this host is gone",
                    l.pid
                );
                continue;
            }
            Some(l) => {
                return Err(format!(
                    "repository {location} is locked by {}@{} (pid {}) since {}{}; try again later, or remove a stale lock with `restic unlock`",
                    l.username,
                    l.hostname,
                    l.pid,
                    l.time.format("%Y-%m-%d %H:%M:%S UTC"),
                    if l.exclusive { ", exclusively" } else { "" }
                ))
            }
            None => {
                return Err(format!(
                    "repository {location} holds a lock file ({name}) that its key cannot read; remove it with `restic unlock` if nothing uses the repository"
                ))
            }
        }
    }
    let content = LockFile {
        time: now,
        exclusive: true,
        hostname: host(),
        username: std::env::var("USER").unwrap_or_else(|_| "coffer".into()),
        pid: std::process::id(),
        uid: 0,
        gid: 0,
    };
    let plain = serde_json::to_vec(&content).map_err(|e| e.to_string())?;
    let data = encrypt(&c, &plain)?;
    let digest = sha2::Sha256::digest(&data);
    let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("locks/{name}");
    files.write(&name, data)?;
    Ok(ExclusiveLock { files, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leave(files: &RawFiles, key: &MasterKey, hostname: String, pid: u32) {
        let lock = LockFile {
            time: Utc::now(),
            exclusive: true,
            hostname,
            username: "someone".into(),
            pid,
            uid: 0,
            gid: 0,
        };
        let data = encrypt(&cipher(key).unwrap(), &serde_json::to_vec(&lock).unwrap()).unwrap();
        let name: String = sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        files.write(&format!("locks/{name}"), data).unwrap();
    }

    /// A pid that no process has: one of a child that ended.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    /// Issue 17 (found by the kill -9 loop): a prune killed while holding its lock no longer
    /// blocks every later prune until someone runs `restic unlock`: the lock of a process gone
    /// from this host is stale (`restic unlock`'s rule) and removed. Live holders and other
    /// hosts' young locks still refuse.
    #[test]
    fn issue_17_a_lock_left_by_a_dead_process_on_this_host_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("locks")).unwrap();
        let location = Location::File(dir.path().to_path_buf());
        let files = RawFiles::of(&location).unwrap();
        let key = MasterKey::new();
        let now = Utc::now();
        leave(&files, &key, host(), dead_pid());
        let held = exclusive(&location, &key, now).expect("a dead process's lock is stale");
        assert_eq!(files.list("locks").unwrap().len(), 1, "only the new lock");
        // this process is alive and holds it: another lock is refused
        let refused = exclusive(&location, &key, now).err().unwrap();
        assert!(refused.contains("is locked by"), "{refused}");
        drop(held);
        // another host's young lock stands whatever its pid
        leave(&files, &key, "elsewhere".into(), dead_pid());
        let refused = exclusive(&location, &key, now).err().unwrap();
        assert!(refused.contains("@elsewhere"), "{refused}");
    }
}
