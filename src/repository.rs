//! Vault repositories (effectful shell): where a vault's file-level recovery points live
//! (`file://PATH`, relative to the configuration, or `s3://BUCKET/PREFIX`), the key that opens
//! them (`COFFER_VAULT_PASSWORD` or `COFFER_VAULT_PASSWORD_FILE`, never written anywhere by
//! coffer, or one coffer generated and keeps wrapped with the vault's KMS key, [`kms_key`]), and opening or initialising them in restic's format through rustic_core, so the
//! data stays readable with `restic` itself.

mod crypto;
pub mod kms_key;
pub mod lock;
mod raw;
mod restorer;
mod s3;

use crate::objects::{self, VaultAttrs};
use rustic_backend::BackendOptions;
use rustic_core::{
    ConfigOptions, Credentials, KeyOptions, OpenStatus, Repository, RepositoryOptions,
};
use std::path::{Path, PathBuf};

/// Where a vault's repository is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on this machine (absolute).
    File(PathBuf),
    /// A bucket and key prefix in S3 (or an S3-compatible endpoint); data packs are written
    /// with `pack_class` (a cold repository's `storage_class`), everything else in STANDARD.
    S3 {
        bucket: String,
        prefix: String,
        pack_class: Option<String>,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "file://{}", p.display()),
            Location::S3 { bucket, prefix, .. } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Reads a vault's `storage` text; relative `file://` paths are relative to `config_dir`.
pub fn parse_location(storage: &str, config_dir: &Path) -> Result<Location, String> {
    if let Some(path) = storage.strip_prefix("file://") {
        if path.is_empty() {
            return Err(format!(
                "`{storage}` names no directory; write e.g. file://./vaults/main"
            ));
        }
        return Ok(Location::File(crate::workspace::normalize(
            &crate::workspace::resolve(config_dir, path),
        )));
    }
    if let Some(rest) = storage.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!(
                "`{storage}` names no bucket; write e.g. s3://my-bucket/coffer/main"
            ));
        }
        return Ok(Location::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
            pack_class: None,
        });
    }
    Err(format!(
        "`{storage}` is not a repository location; coffer knows file://PATH and s3://BUCKET/PREFIX"
    ))
}

/// The default repository key, from `COFFER_VAULT_PASSWORD`, or the first line of the file
/// named by `COFFER_VAULT_PASSWORD_FILE`. `env` looks up an environment variable.
pub fn password(env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    if let Some(p) = env("COFFER_VAULT_PASSWORD").filter(|p| !p.is_empty()) {
        return Ok(p);
    }
    if let Some(file) = env("COFFER_VAULT_PASSWORD_FILE").filter(|p| !p.is_empty()) {
        return first_line(Path::new(&file), "COFFER_VAULT_PASSWORD_FILE");
    }
    Err("vault repositories are encrypted with a key: set COFFER_VAULT_PASSWORD, or COFFER_VAULT_PASSWORD_FILE to a file holding it".into())
}

/// The first line of a key file; `what` names where the file's name came from.
fn first_line(file: &Path, what: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {what} {}: {e}", file.display()))?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(format!("{what} {} is empty", file.display()));
    }
    Ok(line.to_string())
}

/// A vault's repository: where it is, and its key or why there is none (said only when the
/// repository is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultRepository {
    pub location: Location,
    /// The key from the environment or a key file, or why there is none; for a repository
    /// whose key is wrapped with KMS, what opens it until apply wrapped a key ([`Self::key`]).
    pub password: Result<String, String>,
    /// The cold repository file-level points move to (`cold_storage`), opened with the same
    /// key.
    pub cold: Option<Location>,
    /// The vault's KMS key, when the repository's key is kept wrapped with it
    /// (`coffer.key.kms`): a vault with `kms_key_arn` and no `password_env` / `password_file`.
    pub wrapped_by: Option<String>,
}

impl VaultRepository {
    /// The key that opens the repository: unwrapped with KMS (kms:Decrypt) when the vault's
    /// key is wrapped, else [`Self::password`].
    pub fn key(&self) -> Result<String, String> {
        let Some(kms) = &self.wrapped_by else {
            return self.password.clone();
        };
        match kms_key::unwrap(&self.location, kms)? {
            Some(key) => Ok(key),
            // a repository made before its vault had a KMS key, until apply wraps its key
            None => self.password.clone().map_err(|_| {
                format!(
                    "its key is generated by `coffer apply` and kept in {}/{} wrapped with {kms}, which does not exist yet: run `coffer apply`",
                    self.location,
                    kms_key::KEY_FILE
                )
            }),
        }
    }
}

/// The repository of a vault, from its applied or planned attributes (`storage`, and the key
/// settings `password_env` / `password_file`, which override the `COFFER_VAULT_PASSWORD*`
/// defaults); `None` for a vault without storage. Relative paths are relative to
/// `config_dir`; `env` looks up an environment variable.
pub fn vault_repository(
    vault: &str,
    attributes: &serde_json::Value,
    config_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<VaultRepository>, String> {
    let attrs: VaultAttrs =
        objects::attrs::read(&format!("vault.{vault}"), attributes).map_err(|e| e.to_string())?;
    let Some(storage) = attrs.storage.as_deref() else {
        return Ok(None);
    };
    let location = parse_location(storage, config_dir)?;
    let password = if let Some(var) = attrs.password_env.as_deref() {
        env(var).filter(|p| !p.is_empty()).ok_or_else(|| {
            format!("vault `{vault}` takes its key from the environment variable {var} (password_env), which is not set")
        })
    } else if let Some(file) = attrs.password_file.as_deref() {
        let path = crate::workspace::resolve(config_dir, file);
        first_line(&path, &format!("vault `{vault}`'s password_file"))
    } else {
        password(env)
    };
    let cold = attrs
        .cold_storage
        .as_ref()
        .map(|c| {
            parse_location(&c.storage, config_dir).map(|l| match l {
                Location::S3 { bucket, prefix, .. } => Location::S3 {
                    bucket,
                    prefix,
                    pack_class: c.storage_class.clone(),
                },
                other => other,
            })
        })
        .transpose()?;
    // a vault with a KMS key and no key setting of its own keeps a generated key wrapped
    let wrapped_by = attrs
        .kms_key_arn
        .clone()
        .filter(|_| attrs.password_env.is_none() && attrs.password_file.is_none());
    Ok(Some(VaultRepository {
        location,
        password,
        cold,
        wrapped_by,
    }))
}

/// [`vault_repository`] with the process environment.
pub fn vault_repository_from_env(
    vault: &str,
    attributes: &serde_json::Value,
    config_dir: &Path,
) -> Result<Option<VaultRepository>, String> {
    vault_repository(vault, attributes, config_dir, &|k| std::env::var(k).ok())
}

fn backends(location: &Location) -> Result<rustic_core::RepositoryBackends, String> {
    match location {
        Location::File(path) => BackendOptions::default()
            .repository(path.to_string_lossy().into_owned())
            .to_backends()
            .map_err(|e| format!("repository {location}: {e}")),
        Location::S3 {
            bucket,
            prefix,
            pack_class,
        } => {
            let backend = s3::S3Backend::new(bucket, prefix)
                .map_err(|e| format!("repository {location}: {e}"))?
                .with_pack_class(pack_class.as_deref());
            Ok(rustic_core::RepositoryBackends::new(
                std::sync::Arc::new(backend),
                None,
            ))
        }
    }
}

/// Deletes a repository and all its data (a vault's `force_destroy`). Nothing there yet is
/// not an error.
pub fn delete_repository(location: &Location) -> Result<(), String> {
    match location {
        Location::File(dir) => match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot delete the repository {location}: {e}"))
            }
            _ => Ok(()),
        },
        Location::S3 { bucket, prefix, .. } => {
            let backend = s3::S3Backend::new(bucket, prefix)
                .map_err(|e| format!("repository {location}: {e}"))?;
            s3::delete_all(&backend)
                .map(|_| ())
                .map_err(|e| format!("cannot delete the repository {location}: {e}"))
        }
    }
}

/// The zstd level of new repositories. Level 1 keeps a compression context's tables small,
/// which makes backups of many small files markedly faster (benches/files.py) for a little
/// less compression; rustic_core (patched, vendor/rustic_core/PATCHED.md) reuses one context
/// per worker thread.
const COMPRESSION_LEVEL: i32 = 1;

/// An open repository.
pub type OpenRepository = Repository<OpenStatus>;

/// Why an operation on a vault's repository failed: the repository is missing, or
/// something else went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// Nothing is at the location. Only `coffer apply` creates a repository, so that a
    /// repository that vanished is reported, never silently replaced by an empty one.
    #[error("no repository at {0}: it is missing (deleted, or never initialised); run `coffer apply` to initialise it")]
    Missing(String),
    #[error("{0}")]
    Failed(String),
}

impl From<String> for RepositoryError {
    fn from(message: String) -> RepositoryError {
        RepositoryError::Failed(message)
    }
}

impl RepositoryError {
    /// The error said of a vault's repository.
    pub fn for_vault(&self, vault: &str) -> String {
        match self {
            RepositoryError::Missing(_) => format!("vault `{vault}`: {self}"),
            RepositoryError::Failed(m) => m.clone(),
        }
    }
}

fn key_hint(location: &Location, e: impl std::fmt::Display) -> String {
    format!("cannot open the repository {location}: {e}\n  Check the vault key: the vault's password_env or password_file if it names one, else COFFER_VAULT_PASSWORD (or the file COFFER_VAULT_PASSWORD_FILE names).")
}

/// Opens the existing repository at `location`; a location with no repository is
/// [`RepositoryError::Missing`] and nothing is created there.
pub fn open(location: &Location, password: &str) -> Result<OpenRepository, RepositoryError> {
    open_with_progress(location, password, rustic_core::NoProgressBars)
}

/// [`open`], reporting the progress of long operations (a backup) to `progress`.
pub fn open_with_progress(
    location: &Location,
    password: &str,
    progress: impl rustic_core::ProgressBars,
) -> Result<OpenRepository, RepositoryError> {
    // A directory that is not there is checked first, so that not even the backend's
    // directories are made (for S3 the config look-up below is the check, in one request).
    if matches!(location, Location::File(_))
        && !exists(location).map_err(RepositoryError::Failed)?
    {
        return Err(RepositoryError::Missing(location.to_string()));
    }
    let repo = unopened(location, progress).map_err(RepositoryError::Failed)?;
    let exists = repo
        .config_id()
        .map_err(|e| RepositoryError::Failed(format!("repository {location}: {e}")))?
        .is_some();
    if !exists {
        return Err(RepositoryError::Missing(location.to_string()));
    }
    repo.open(&Credentials::password(password))
        .map_err(|e| RepositoryError::Failed(key_hint(location, e)))
}

fn unopened<P: rustic_core::ProgressBars>(
    location: &Location,
    progress: P,
) -> Result<Repository<()>, String> {
    Repository::new_with_progress(
        &RepositoryOptions::default(),
        &backends(location)?,
        progress,
    )
    .map_err(|e| format!("repository {location}: {e}"))
}

/// Whether a repository is at `location` (its config file is there). Derives no key.
pub fn exists(location: &Location) -> Result<bool, String> {
    if let Location::File(dir) = location {
        return Ok(dir.join("config").is_file());
    }
    unopened(location, rustic_core::NoProgressBars)?
        .config_id()
        .map(|id| id.is_some())
        .map_err(|e| format!("repository {location}: {e}"))
}

/// Initialises a repository at `location` in restic's format, or opens the one already there;
/// returns whether it was created. Only `apply` calls this (when it creates a vault).
pub fn init_or_open(location: &Location, password: &str) -> Result<(OpenRepository, bool), String> {
    let repo = unopened(location, rustic_core::NoProgressBars)?;
    let credentials = Credentials::password(password);
    let exists = repo
        .config_id()
        .map_err(|e| format!("repository {location}: {e}"))?
        .is_some();
    if exists {
        let open = repo.open(&credentials).map_err(|e| key_hint(location, e))?;
        return Ok((open, false));
    }
    let open = repo
        .init(
            &credentials,
            &KeyOptions::default(),
            &ConfigOptions::default().set_compression(COMPRESSION_LEVEL),
        )
        .map_err(|e| format!("cannot initialise the repository {location}: {e}"))?;
    Ok((open, true))
}

/// Opens an existing repository with its master key, as [`OpenRepository::key`] gave it after
/// an earlier open: without deriving the key from the password again, which is deliberately
/// slow.
pub fn open_with_key(
    location: &Location,
    key: rustic_core::repofile::MasterKey,
    progress: impl rustic_core::ProgressBars,
) -> Result<OpenRepository, String> {
    unopened(location, progress).and_then(|repo| {
        repo.open(&Credentials::Masterkey(key))
            .map_err(|e| format!("cannot open the repository {location}: {e}"))
    })
}

/// What a restore wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Files read back after writing and found identical to the recovery point.
    pub verified: u64,
}

/// What a repository check found: problems that break integrity, and warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub snapshots: usize,
}

/// Checks a repository's structure (index, packs, trees of every snapshot) and, with
/// `read_data_subset` (`all`, `10%`, `1/5` or a size such as `1G`), also reads that much of
/// the stored data back and verifies it.
pub fn check(
    location: &Location,
    password: &str,
    read_data_subset: Option<&str>,
) -> Result<Checked, RepositoryError> {
    use rustic_core::{CheckOptions, ReadSubsetOption};
    let mut opts = CheckOptions::default();
    if let Some(subset) = read_data_subset {
        let parsed: ReadSubsetOption = subset.parse().map_err(|e| {
            format!("--read-data-subset `{subset}`: {e}; use all, a percentage (10%), n/m (1/5) or a size (1G)")
        })?;
        opts = opts.read_data(true).read_data_subset(parsed);
    }
    let repo = open(location, password)?;
    let snapshots = repo
        .get_all_snapshots()
        .map_err(|e| format!("check of {location}: {e}"))?
        .len();
    let results = repo
        .check(opts)
        .map_err(|e| format!("check of {location}: {e}"))?;
    let mut out = Checked {
        snapshots,
        ..Checked::default()
    };
    // rustic_core does not export the level's type, only its Debug names (Warn, Error)
    for (level, finding) in results.0 {
        if format!("{level:?}") == "Warn" {
            out.warnings.push(finding.to_string());
        } else {
            out.errors.push(finding.to_string());
        }
    }
    Ok(out)
}

/// Refuses a restore target that already holds files, unless `overwrite`.
pub fn check_target(target: &Path, overwrite: bool) -> Result<(), String> {
    let occupied = std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_some());
    if occupied && !overwrite {
        return Err(format!(
            "{} is not empty; restore into an empty or new directory, or pass --overwrite to replace what is there",
            target.display()
        ));
    }
    Ok(())
}

/// Restores `subpath` (relative to the backed-up directory `source`) of snapshot `snapshot_id`
/// into `target` (see [`restorer`]), every file read back and checked against the snapshot. A
/// target that already holds files is refused unless `overwrite`.
pub fn restore(
    location: &Location,
    password: &str,
    snapshot_id: &str,
    source: &Path,
    subpath: Option<&str>,
    target: &Path,
    overwrite: bool,
) -> Result<Restored, RepositoryError> {
    use rustic_core::LsOptions;
    check_target(target, overwrite)?;
    let repo = open(location, password)?;
    let fail = |e: Box<rustic_core::RusticError>| format!("restore from {location}: {e}");
    let repo = repo.to_indexed().map_err(fail)?;
    let snap = repo
        .get_snapshot_from_str(snapshot_id, |_| true)
        .map_err(fail)?;
    let mut inside = source.to_path_buf();
    if let Some(sub) = subpath.filter(|s| !s.is_empty()) {
        let sub = Path::new(sub);
        if sub.is_absolute()
            || sub
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(RepositoryError::Failed(format!(
                "--path `{}` must be relative to the backed-up directory and stay inside it",
                sub.display()
            )));
        }
        inside.push(sub);
    }
    let node = repo
        .node_from_snapshot_and_path(&snap, &inside.to_string_lossy())
        .map_err(|e| format!("{} is not in the recovery point: {e}", inside.display()))?;
    let nodes = repo
        .ls(&node, &LsOptions::default())
        .map_err(fail)?
        .map(|item| item.map_err(|e| format!("restore from {location}: {e}")));
    let backends = backends(location)?;
    let backend = backends.repository();
    // reads from S3 wait on the network, so more of them run than there are cores
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let readers = match location {
        Location::File(_) => cores,
        Location::S3 { .. } => cores.max(8),
    };
    let written = restorer::restore(
        &repo,
        &*backend,
        &node,
        nodes,
        &restorer::Destination {
            root: target,
            overwrite,
        },
        readers,
    )
    .map_err(RepositoryError::Failed)?;
    Ok(Restored {
        files: written.files,
        dirs: written.dirs,
        bytes: written.bytes,
        verified: written.verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustic_core::{BackupOptions, PathList, SnapshotOptions};

    #[test]
    fn locations_are_file_or_s3() {
        let dir = Path::new("/etc/coffer");
        assert_eq!(
            parse_location("file://./vaults/main", dir).unwrap(),
            Location::File(PathBuf::from("/etc/coffer/vaults/main"))
        );
        assert_eq!(
            parse_location("file:///srv/backup", dir).unwrap(),
            Location::File(PathBuf::from("/srv/backup"))
        );
        assert_eq!(
            parse_location("s3://bucket/coffer/main/", dir).unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                prefix: "coffer/main".into(),
                pack_class: None,
            }
        );
        assert!(parse_location("gs://x", dir)
            .unwrap_err()
            .contains("file://PATH and s3://BUCKET/PREFIX"));
        assert!(parse_location("s3:///x", dir)
            .unwrap_err()
            .contains("names no bucket"));
    }

    #[test]
    fn the_password_comes_from_the_environment_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\nignored\n").unwrap();
        let f = file.to_string_lossy().into_owned();
        let env = |vars: Vec<(&'static str, String)>| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        assert_eq!(
            password(&env(vec![("COFFER_VAULT_PASSWORD", "direct".into())])).unwrap(),
            "direct"
        );
        assert_eq!(
            password(&env(vec![("COFFER_VAULT_PASSWORD_FILE", f.clone())])).unwrap(),
            "from-file"
        );
        assert!(password(&env(vec![]))
            .unwrap_err()
            .contains("set COFFER_VAULT_PASSWORD"));
        assert!(password(&env(vec![(
            "COFFER_VAULT_PASSWORD_FILE",
            "/nonexistent/pw".into()
        )]))
        .unwrap_err()
        .contains("cannot read COFFER_VAULT_PASSWORD_FILE /nonexistent/pw"));
    }

    #[test]
    fn a_vault_can_name_its_own_key_variable_or_file_over_the_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prod.key"), "from-vault-file\n").unwrap();
        let env = |k: &str| match k {
            "COFFER_VAULT_PASSWORD" => Some("default".to_string()),
            "PROD_KEY" => Some("from-vault-env".to_string()),
            _ => None,
        };
        let repo = |attrs: serde_json::Value| {
            vault_repository("prod", &attrs, dir.path(), &env)
                .unwrap()
                .map(|r| r.password)
        };
        let storage = "file://./repo";
        assert_eq!(repo(serde_json::json!({"storage": null})), None);
        assert_eq!(
            repo(serde_json::json!({"storage": storage})),
            Some(Ok("default".into()))
        );
        assert_eq!(
            repo(serde_json::json!({"storage": storage, "password_env": "PROD_KEY"})),
            Some(Ok("from-vault-env".into()))
        );
        assert_eq!(
            repo(serde_json::json!({"storage": storage, "password_file": "prod.key"})),
            Some(Ok("from-vault-file".into()))
        );
        let missing = repo(serde_json::json!({"storage": storage, "password_env": "NOPE"}))
            .unwrap()
            .unwrap_err();
        assert!(
            missing.contains("vault `prod`") && missing.contains("NOPE"),
            "{missing}"
        );
        // a named setting never falls back to the default key
        assert!(
            repo(serde_json::json!({"storage": storage, "password_file": "absent.key"}))
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn a_repository_is_created_once_then_opened_and_refuses_a_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::File(dir.path().join("repo"));
        assert_eq!(
            open(&location, "secret").err(),
            Some(RepositoryError::Missing(location.to_string())),
            "open never creates"
        );
        assert!(!dir.path().join("repo").exists());
        let (_, created) = init_or_open(&location, "secret").unwrap();
        assert!(created);
        // restic's layout
        for d in ["config", "keys", "data", "index", "snapshots"] {
            assert!(dir.path().join("repo").join(d).exists(), "{d}");
        }
        let (_, created) = init_or_open(&location, "secret").unwrap();
        assert!(!created);
        let repo = open(&location, "secret").unwrap();
        // a backup through rustic_core lands as a snapshot
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("a.txt"), "hello").unwrap();
        let repo = repo.to_indexed_ids().unwrap();
        let snap = SnapshotOptions::default().to_snapshot().unwrap();
        let source = PathList::from_string(&src.to_string_lossy())
            .unwrap()
            .sanitize()
            .unwrap();
        repo.backup(&BackupOptions::default(), &source, snap)
            .unwrap();
        assert_eq!(repo.get_all_snapshots().unwrap().len(), 1);
        let err = open(&location, "wrong").err().unwrap().to_string();
        assert!(err.contains("cannot open the repository"), "{err}");
        assert!(!err.contains("secret"));
    }
}
