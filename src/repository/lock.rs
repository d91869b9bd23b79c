//! restic's exclusive repository lock, held while coffer prunes a vault repository: a lock
//! file in `locks/` (JSON with time, host, user and pid, encrypted with the repository key and
//! named by its SHA-256, as restic writes them), so that restic and anything else honouring
//! restic's locks neither backs up nor prunes meanwhile. A lock of someone else younger than
//! 30 minutes (restic's stale limit) refuses the prune, naming who holds it.

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
