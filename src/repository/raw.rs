//! Files beside a repository's own that rustic_core's backends have no file type for
//! (restic's `locks/`, coffer's wrapped repository key `coffer.key.kms`), in the repository's
//! directory or under its S3 prefix.

use super::Location;
use std::path::PathBuf;

/// A repository's place, for files of its own.
pub(super) enum RawFiles {
    File(PathBuf),
    S3(super::s3::S3Backend),
}

impl RawFiles {
    pub(super) fn of(location: &Location) -> Result<RawFiles, String> {
        Ok(match location {
            Location::File(dir) => RawFiles::File(dir.clone()),
            Location::S3 { bucket, prefix, .. } => {
                RawFiles::S3(super::s3::S3Backend::new(bucket, prefix)?)
            }
        })
    }

    /// The names of the files in `dir` (empty when there is no such directory).
    pub(super) fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        match self {
            RawFiles::File(root) => match std::fs::read_dir(root.join(dir)) {
                Ok(entries) => Ok(entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(format!("cannot list {}: {e}", root.join(dir).display())),
            },
            RawFiles::S3(b) => b.raw_list(dir).map_err(|e| e.to_string()),
        }
    }

    /// The file at `rel`, or `None` when there is none.
    pub(super) fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            RawFiles::File(root) => match std::fs::read(root.join(rel)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot read {}: {e}", root.join(rel).display())),
            },
            RawFiles::S3(b) => {
                if !b.raw_exists(rel).map_err(|e| e.to_string())? {
                    return Ok(None);
                }
                b.raw_get(rel)
                    .map(|b| Some(b.to_vec()))
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Writes the file at `rel` whole: a local file is written beside it and renamed over
    /// it, so that a crash leaves the old file or the new one, never half of either.
    pub(super) fn write(&self, rel: &str, data: Vec<u8>) -> Result<(), String> {
        match self {
            RawFiles::File(root) => {
                let path = root.join(rel);
                let tmp = path.with_extension("tmp");
                let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(fail)?;
                }
                std::fs::write(&tmp, data).map_err(fail)?;
                std::fs::rename(&tmp, &path).map_err(fail)
            }
            RawFiles::S3(b) => b.raw_put(rel, data).map_err(|e| e.to_string()),
        }
    }

    pub(super) fn remove(&self, rel: &str) -> Result<(), String> {
        match self {
            RawFiles::File(root) => std::fs::remove_file(root.join(rel)).map_err(|e| e.to_string()),
            RawFiles::S3(b) => b.raw_delete(rel).map_err(|e| e.to_string()),
        }
    }
}
