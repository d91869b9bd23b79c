//! The file-level provider: backs up directories, and EFS file systems mapped to a mount path,
//! into their vault's repository (restic's format, through rustic_core). Each backup is
//! incremental against the resource's previous snapshot (same host, label and path), carries
//! the recovery point tags as restic tags (`key=value`), and names every file it could not
//! read, so the job ends PARTIAL instead of COMPLETED with silent gaps.

use crate::inventory::{Resource, ResourceType};
use crate::providers::{
    Archiving, CopySource, Deletion, Finished, ForeignSnapshot, Preflight, Progress, Provider,
    ProviderError, Pruned, RestoreRequest, Restoring,
};
use crate::repository::{
    open, open_with_key, open_with_progress, Location, OpenRepository, VaultRepository,
};
use chrono::{DateTime, Utc};
use rustic_core::repofile::{MasterKey, SnapshotFile};
use rustic_core::{
    BackupOptions, LocalSource, NoProgressBars, ReadSource, ReadSourceEntry, ReadSourceOpen,
    RusticResult, SnapshotOptions,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many files the running backup has reached (shared by the source that walks them and
/// the bar that shows them).
type FileCount = Arc<AtomicU64>;

/// A progress bar for a file backup on a terminal: files reached, bytes, rate and ETA.
#[derive(Debug, Clone)]
struct TerminalProgress {
    files: FileCount,
}

#[derive(Debug)]
struct Bar {
    bar: indicatif::ProgressBar,
    files: FileCount,
}

impl rustic_core::RusticProgress for Bar {
    fn is_hidden(&self) -> bool {
        false
    }
    fn set_length(&self, len: u64) {
        self.bar.set_length(len);
    }
    fn set_title(&self, title: &str) {
        self.bar.set_prefix(title.to_string());
    }
    fn inc(&self, inc: u64) {
        self.bar
            .set_message(format!("{} files", self.files.load(Ordering::Relaxed)));
        self.bar.inc(inc);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl rustic_core::ProgressBars for TerminalProgress {
    fn progress(&self, kind: rustic_core::ProgressType, prefix: &str) -> rustic_core::Progress {
        // only the backup itself is long enough to deserve a bar
        if !matches!(kind, rustic_core::ProgressType::Bytes) {
            return rustic_core::Progress::hidden();
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {bar:30} {msg} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix(prefix.to_string());
        rustic_core::Progress::new(Bar {
            bar,
            files: self.files.clone(),
        })
    }
}

type Failures = Arc<Mutex<Vec<String>>>;

fn record(failures: &Failures, what: String) {
    if let Ok(mut f) = failures.lock() {
        f.push(what);
    }
}

/// A local source that writes down what it could not read instead of only logging it.
struct Watched {
    inner: LocalSource,
    failures: Failures,
    /// Files reached so far, for the progress bar.
    files: FileCount,
}

struct WatchedOpen<O> {
    inner: O,
    path: PathBuf,
    failures: Failures,
}

impl<O: ReadSourceOpen> ReadSourceOpen for WatchedOpen<O> {
    type Reader = O::Reader;

    fn open(self) -> RusticResult<Self::Reader> {
        let (path, failures) = (self.path, self.failures);
        self.inner.open().inspect_err(|e| {
            record(&failures, format!("{} ({e})", path.display()));
        })
    }
}

impl Watched {
    fn new(
        opts: &BackupOptions,
        paths: &[PathBuf],
        failures: Failures,
        files: FileCount,
    ) -> Result<Watched, ProviderError> {
        let inner = LocalSource::new(
            opts.ignore_save_opts,
            &opts.excludes,
            &opts.ignore_filter_opts,
            paths,
        )
        .map_err(failed)?;
        Ok(Watched {
            inner,
            failures,
            files,
        })
    }
}

type Entries<O> = Box<dyn Iterator<Item = RusticResult<ReadSourceEntry<O>>> + Send>;

impl ReadSource for Watched {
    type Open = WatchedOpen<<LocalSource as ReadSource>::Open>;
    type Iter = Entries<Self::Open>;

    fn size(&self) -> RusticResult<Option<u64>> {
        self.inner.size()
    }

    fn entries(&self) -> Self::Iter {
        let (failures, files) = (self.failures.clone(), self.files.clone());
        Box::new(self.inner.entries().map(move |entry| match entry {
            Err(e) => {
                record(&failures, e.to_string());
                Err(e)
            }
            Ok(ReadSourceEntry { path, node, open }) => {
                if node.is_file() {
                    files.fetch_add(1, Ordering::Relaxed);
                }
                Ok(ReadSourceEntry {
                    open: open.map(|inner| WatchedOpen {
                        inner,
                        path: path.clone(),
                        failures: failures.clone(),
                    }),
                    path,
                    node,
                })
            }
        }))
    }
}

fn failed(e: impl std::fmt::Display) -> ProviderError {
    let text = e.to_string();
    // a repository in S3 whose credentials expired or were revoked mid-run: nothing will
    // succeed until they are renewed, so the run halts instead of failing the job
    let refused = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(crate::aws::error::is_credential_code);
    if refused {
        return ProviderError::credentials(format!(
            "{text}\n  AWS rejected the credentials of the vault's S3 repository: check that the keys or profile are current."
        ));
    }
    ProviderError::permanent(text)
}

/// The restic tag that names the job a snapshot belongs to.
fn job_tag(job_id: &str) -> String {
    format!("{}={job_id}", crate::jobs::JOB_TAG)
}

/// One backup into an open repository, start to end (blocking).
fn backup(
    open: Open,
    path: PathBuf,
    label: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(String, Finished), ProviderError> {
    // a full or read-only disk is said in words
    let failed = |e: String| failed(crate::disk::explained(e, "the vault's repository"));
    let repo = open
        .repo
        .to_indexed_ids()
        .map_err(|e| failed(e.to_string()))?;
    open.files.store(0, Ordering::Relaxed);
    let mut snap = SnapshotOptions::default()
        .label(label.to_string())
        .to_snapshot()
        .map_err(|e| failed(e.to_string()))?;
    for (k, v) in tags {
        snap.tags.add(format!("{k}={v}"));
    }
    let opts = BackupOptions::default();
    let paths = vec![path.clone()];
    let failures: Failures = Arc::default();
    let source = Watched::new(&opts, &paths, failures.clone(), open.files)?;
    let snap = repo
        .archive(&opts, &source, snap, &paths)
        .map_err(|e| failed(format!("backup of {} failed: {e}", path.display())))?;
    let unreadable = failures.lock().map(|f| f.clone()).unwrap_or_default();
    let id = full_id(&snap);
    Ok((id.clone(), finished(id, &snap, unreadable)))
}

/// Prunes an open repository when its unused data exceeds `max_unused_percent` (blocking),
/// under restic's exclusive lock (taken by the caller). Packs are marked for deletion and
/// removed by a later prune (rustic's two-phase prune, `keep_delete` 23 hours).
fn prune(repo: &OpenRepository, max_unused_percent: u8) -> Result<Pruned, ProviderError> {
    let opts = rustic_core::PruneOptions::default().max_unused(
        rustic_core::LimitOption::Percentage(u64::from(max_unused_percent)),
    );
    let plan = repo.prune_plan(&opts).map_err(failed)?;
    let (used, unused) = plan
        .stats
        .size
        .values()
        .fold((0u64, 0u64), |(u, n), s| (u + s.used, n + s.unused));
    let unused_percent = if used + unused == 0 {
        0.0
    } else {
        unused as f64 * 100.0 / (used + unused) as f64
    };
    if unused_percent <= f64::from(max_unused_percent) {
        return Ok(Pruned {
            unused_percent,
            pruned: false,
            removed_bytes: 0,
        });
    }
    let removed_bytes = plan
        .stats
        .size
        .values()
        .map(|s| s.remove + s.repackrm)
        .sum();
    repo.prune(&opts, plan).map_err(failed)?;
    Ok(Pruned {
        unused_percent,
        pruned: true,
        removed_bytes,
    })
}

/// Opens a vault's cold repository (blocking).
fn open_cold(location: &Location, password: &str) -> Result<OpenRepository, ProviderError> {
    open(location, password).map_err(|e| failed(format!("the cold repository: {e:?}")))
}

/// A snapshot's full id (its Display is restic's 8-character short form).
pub(crate) fn full_id(snap: &SnapshotFile) -> String {
    snap.id.to_hex().as_str().to_string()
}

/// The ids of the snapshots in `repo` (a listing; no snapshot is read).
pub(crate) fn snapshot_ids(repo: &OpenRepository) -> rustic_core::RusticResult<Vec<String>> {
    Ok(repo
        .list::<rustic_core::repofile::SnapshotId>()?
        .map(|id| id.to_hex().as_str().to_string())
        .collect())
}

/// Every snapshot in `repo`. Jobs on one repository run side by side, so a snapshot another
/// job deleted between the listing and the reading is not an error: the snapshots are
/// listed again.
pub(crate) fn all_snapshots(repo: &OpenRepository) -> rustic_core::RusticResult<Vec<SnapshotFile>> {
    let mut tries = 0;
    loop {
        tries += 1;
        match repo.get_all_snapshots() {
            Err(e) if tries < 3 && vanished(&e) => continue,
            other => return other,
        }
    }
}

/// The snapshot `id` (its full id) in `repo`, or `None` when it is not there, or was
/// deleted by another job while it was being read.
pub(crate) fn snapshot_by_id(
    repo: &OpenRepository,
    id: &str,
) -> rustic_core::RusticResult<Option<SnapshotFile>> {
    let listed = || snapshot_ids(repo).map(|ids| ids.iter().any(|i| i == id));
    if !listed()? {
        return Ok(None);
    }
    match repo.get_snapshots(&[id]) {
        Ok(mut snaps) => Ok(snaps.pop()),
        Err(e) if vanished(&e) && !listed()? => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a repository error says a file is not there (any more).
fn vanished(e: &rustic_core::RusticError) -> bool {
    let text = format!("{e:?}");
    [
        "NoSuchKey",
        "os error 2",
        "No such file",
        "NotFound",
        "not found",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// A finished backup: the snapshot `id` names, encrypted with the vault key.
fn finished(id: String, snap: &SnapshotFile, unreadable: Vec<String>) -> Finished {
    Finished {
        native_id: id.clone(),
        native_ids: vec![id],
        size_bytes: snap.summary.as_ref().map(|s| s.total_bytes_processed),
        encrypted: true,
        kms_key: None,
        unreadable,
    }
}

/// A vault's open repository, and the file count its progress bar shows (concurrent
/// backups into one vault add to the same count).
struct Open {
    repo: OpenRepository,
    files: FileCount,
}

/// What opening a vault's repository once leaves for the next time: its master key (deriving
/// it from the password is deliberately slow) and its bar's file count.
#[derive(Clone)]
struct Unlocked {
    key: MasterKey,
    files: FileCount,
}

/// Vault repositories, each unlocked once and then opened with its master key by every job of
/// the engine.
#[derive(Clone)]
struct Opened {
    vaults: Arc<BTreeMap<String, VaultRepository>>,
    unlocked: Arc<Mutex<BTreeMap<String, Unlocked>>>,
    /// Each vault's key once looked up (a KMS-wrapped key is unwrapped once per process).
    keys: Arc<Mutex<BTreeMap<String, String>>>,
    show_progress: bool,
}

impl Opened {
    fn vault(&self, vault: &str) -> Result<&VaultRepository, ProviderError> {
        self.vaults.get(vault).ok_or_else(|| {
            ProviderError::permanent(format!(
                "vault `{vault}` has no storage, so it cannot hold file-level backups: give it `storage = \"file://…\"`"
            ))
        })
    }

    fn location(&self, vault: &str) -> Result<Location, ProviderError> {
        Ok(self.vault(vault)?.location.clone())
    }

    /// The vault's key, looked up (or unwrapped with KMS) once per process.
    fn password(&self, vault: &str) -> Result<String, ProviderError> {
        if let Some(p) = self.keys.lock().ok().and_then(|k| k.get(vault).cloned()) {
            return Ok(p);
        }
        let password = self.vault(vault)?.key().map_err(ProviderError::permanent)?;
        if let Ok(mut k) = self.keys.lock() {
            k.insert(vault.to_string(), password.clone());
        }
        Ok(password)
    }

    fn repository(&self, vault: &str) -> Result<(Location, String), ProviderError> {
        Ok((self.location(vault)?, self.password(vault)?))
    }

    /// Opens the vault's repository (blocking). The key is looked up (and, for a vault keyed
    /// by KMS, unwrapped) only the first time; later opens use the master key it unlocked.
    fn get(&self, vault: &str) -> Result<Open, ProviderError> {
        let cached = self
            .unlocked
            .lock()
            .ok()
            .and_then(|u| u.get(vault).cloned());
        let (location, password) = match &cached {
            Some(_) => (self.location(vault)?, String::new()),
            None => self.repository(vault)?,
        };
        let files = cached.as_ref().map(|u| u.files.clone()).unwrap_or_default();
        let progress = TerminalProgress {
            files: files.clone(),
        };
        let repo = match (cached, self.show_progress) {
            (Some(u), true) => open_with_key(&location, u.key, progress),
            (Some(u), false) => open_with_key(&location, u.key, NoProgressBars),
            (None, true) => {
                open_with_progress(&location, &password, progress).map_err(|e| e.for_vault(vault))
            }
            (None, false) => open(&location, &password).map_err(|e| e.for_vault(vault)),
        }
        .map_err(failed)?;
        if let Ok(mut unlocked) = self.unlocked.lock() {
            let key = repo.key();
            unlocked.entry(vault.to_string()).or_insert(Unlocked {
                key,
                files: files.clone(),
            });
        }
        Ok(Open { repo, files })
    }

    /// The vault's cold repository and key, if it has one.
    fn cold(&self, vault: &str) -> Result<Option<(Location, String)>, ProviderError> {
        let Some(repo) = self.vaults.get(vault) else {
            return Ok(None);
        };
        let Some(cold) = repo.cold.clone() else {
            return Ok(None);
        };
        Ok(Some((cold, self.password(vault)?)))
    }

    /// Runs `work` with the vault's open repository on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        vault: &str,
        work: impl FnOnce(Open) -> Result<T, ProviderError> + Send + 'static,
    ) -> Result<T, ProviderError> {
        let (opened, vault) = (self.clone(), vault.to_string());
        tokio::task::spawn_blocking(move || work(opened.get(&vault)?))
            .await
            .map_err(failed)?
    }
}

/// Backs up files into vault repositories.
pub struct FileBackups {
    opened: Opened,
    /// Backups finished by `start`, for `poll` to report.
    finished: Mutex<BTreeMap<String, Finished>>,
    /// Restore tests' restores, by directory, for their validation.
    restored: Mutex<BTreeMap<String, crate::repository::Restored>>,
}

/// The regular files under `dir`, and their bytes.
fn count_files(dir: &std::path::Path) -> std::io::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            let (f, b) = count_files(&e.path())?;
            files += f;
            bytes += b;
        } else if t.is_file() {
            files += 1;
            bytes += e.metadata()?.len();
        }
    }
    Ok((files, bytes))
}

/// Where a restore test restores a file-level point: a directory of its own under the
/// system's temporary directory, named after the job.
fn restore_dir(job_id: &str) -> PathBuf {
    std::env::temp_dir().join(format!("coffer-restore-test-{job_id}"))
}

impl FileBackups {
    /// An engine for the vaults with repositories; `show_progress` draws a bytes-and-rate bar
    /// while a backup runs (on a terminal).
    pub fn new(vaults: BTreeMap<String, VaultRepository>, show_progress: bool) -> Self {
        FileBackups {
            opened: Opened {
                vaults: Arc::new(vaults),
                unlocked: Arc::default(),
                keys: Arc::default(),
                show_progress,
            },
            finished: Mutex::default(),
            restored: Mutex::default(),
        }
    }

    /// Where a resource's files are.
    fn source(r: &Resource) -> Result<PathBuf, ProviderError> {
        if let Some(p) = &r.mount_path {
            return Ok(PathBuf::from(p));
        }
        match (r.resource_type, r.arn.strip_prefix("dir:")) {
            (ResourceType::Directory, Some(p)) => Ok(PathBuf::from(p)),
            _ => Err(ProviderError::permanent(format!(
                "{} is not mounted here: map it with an `efs_mount` block naming its mount path",
                r.arn
            ))),
        }
    }
}

impl Provider for FileBackups {
    fn supports(&self, t: ResourceType) -> bool {
        matches!(t, ResourceType::Directory | ResourceType::EfsFileSystem)
    }

    fn service(&self, _: &Resource) -> &'static str {
        "files"
    }

    async fn preflight(&self, _: &[&Resource]) -> Preflight {
        Preflight::default()
    }

    async fn find(
        &self,
        _: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, ProviderError> {
        let tag = job_tag(job_id);
        self.opened
            .with(vault, move |open| {
                let snaps = all_snapshots(&open.repo).map_err(failed)?;
                Ok(snaps
                    .into_iter()
                    .find(|s| s.tags.contains(&tag))
                    .map(|s| full_id(&s)))
            })
            .await
    }

    async fn start(
        &self,
        r: &Resource,
        vault: &str,
        _job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let path = Self::source(r)?;
        let (label, tags) = (r.arn.clone(), tags.clone());
        let (id, finished) = self
            .opened
            .with(vault, move |open| backup(open, path, &label, &tags))
            .await?;
        if let Ok(mut f) = self.finished.lock() {
            f.insert(id.clone(), finished);
        }
        Ok(id)
    }

    async fn poll(
        &self,
        _: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, ProviderError> {
        if let Some(f) = self
            .finished
            .lock()
            .ok()
            .and_then(|f| f.get(native_id).cloned())
        {
            return Ok(Progress::Done(f));
        }
        // a backup finished by an earlier process: its snapshot is complete once it exists
        let id = native_id.to_string();
        self.opened
            .with(vault, move |open| {
                let snap = open
                    .repo
                    .get_snapshot_from_str(&id, |_| true)
                    .map_err(failed)?;
                Ok(Progress::Done(finished(id, &snap, Vec::new())))
            })
            .await
    }

    /// Copies the snapshot from the source vault's repository into the destination's (each
    /// with its own key), sending only the blobs the destination lacks, under the copy's
    /// tags; the copy is done when this returns.
    async fn copy(
        &self,
        _: &Resource,
        source: &CopySource<'_>,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let (id, tag) = (source.native_id.to_string(), job_tag(job_id));
        let (dest, dest_vault) = (self.opened.clone(), vault.to_string());
        let tags = tags.clone();
        let (new_id, finished) = self
            .opened
            .with(source.vault, move |open| {
                let to = dest.get(&dest_vault)?;
                let snap = open
                    .repo
                    .get_snapshot_from_str(&id, |_| true)
                    .map_err(|e| failed(format!("snapshot {id} of the source vault: {e}")))?;
                let mut copy = snap.clone();
                copy.tags = rustic_core::StringList::default();
                for (k, v) in &tags {
                    copy.tags.add(format!("{k}={v}"));
                }
                let from = open.repo.to_indexed().map_err(failed)?;
                let into = to.repo.to_indexed_ids().map_err(failed)?;
                from.copy(&into, std::iter::once(&copy)).map_err(|e| {
                    failed(format!(
                        "copying snapshot {id} into vault `{dest_vault}`: {e}"
                    ))
                })?;
                let made = all_snapshots(&dest.get(&dest_vault)?.repo)
                    .map_err(failed)?
                    .into_iter()
                    .find(|s| s.tags.contains(&tag))
                    .ok_or_else(|| {
                        failed(format!("the copy of {id} is not in vault `{dest_vault}`"))
                    })?;
                let new_id = full_id(&made);
                Ok((new_id.clone(), finished(new_id, &made, Vec::new())))
            })
            .await?;
        if let Ok(mut f) = self.finished.lock() {
            f.insert(new_id.clone(), finished);
        }
        Ok(new_id)
    }

    /// A restore test's restore: the whole snapshot into a new temporary directory, every file
    /// read back and verified against the snapshot as it is written (a restore asked for by a
    /// user goes to `--target` through `app::restore` instead).
    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        let source = Self::source(r)?;
        let target = restore_dir(req.job_id);
        let (location, password) = self.opened.repository(req.vault)?;
        let (snapshot, dir) = (req.native_id.to_string(), target.clone());
        let restored = tokio::task::spawn_blocking(move || {
            crate::repository::restore(&location, &password, &snapshot, &source, None, &dir, false)
        })
        .await
        .map_err(failed)?
        .map_err(|e| failed(e.for_vault(req.vault)))?;
        if let Ok(mut f) = self.restored.lock() {
            f.insert(target.display().to_string(), restored);
        }
        Ok(target.display().to_string())
    }

    async fn find_restored(
        &self,
        _: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        // a restore into a temporary directory that a dead coffer left is not trusted: the
        // directory is deleted and the restore made again
        let dir = restore_dir(req.job_id);
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        Ok(None)
    }

    async fn restored(
        &self,
        _: &Resource,
        _: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        Ok(if std::path::Path::new(created).is_dir() {
            Restoring::Ready {
                arn: format!("file://{created}"),
                endpoint: None,
                port: None,
            }
        } else {
            Restoring::Failed(format!("{created} is gone"))
        })
    }

    /// Every file was read back and verified as it was restored; the restored files and
    /// bytes must be the snapshot's too.
    async fn validate_restored(
        &self,
        _: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<String, String> {
        // the restore's own count when this process restored it; after a crash, the files
        // there are counted again (their contents were read back when they were restored)
        let restored = match self
            .restored
            .lock()
            .ok()
            .and_then(|f| f.get(created).cloned())
        {
            Some(r) => r,
            None => {
                let (files, bytes) = count_files(std::path::Path::new(created))
                    .map_err(|e| format!("cannot read {created}: {e}"))?;
                crate::repository::Restored {
                    files,
                    dirs: 0,
                    bytes,
                    verified: files,
                }
            }
        };
        let id = req.native_id.to_string();
        let snap = self
            .opened
            .with(req.vault, move |open| {
                open.repo
                    .get_snapshot_from_str(&id, |_| true)
                    .map_err(failed)
            })
            .await
            .map_err(|e| e.message)?;
        let expected = snap.summary.as_ref().map(|s| s.total_files_processed);
        if let Some(n) = expected.filter(|n| *n != restored.files) {
            return Err(format!(
                "{created} holds {} files, the snapshot {n}",
                restored.files
            ));
        }
        let bytes = snap.summary.as_ref().map(|s| s.total_bytes_processed);
        if let Some(n) = bytes.filter(|n| *n != restored.bytes) {
            return Err(format!(
                "{created} holds {} bytes, the snapshot {n}",
                restored.bytes
            ));
        }
        if restored.verified < restored.files {
            return Err(format!(
                "only {} of {} restored files were read back identical",
                restored.verified, restored.files
            ));
        }
        Ok(format!(
            "{} files ({} bytes) restored and read back identical to the snapshot",
            restored.files, restored.bytes
        ))
    }

    async fn discard_restored(
        &self,
        _: &Resource,
        _: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        match std::fs::remove_dir_all(created) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed(format!("cannot delete {created}: {e}"))),
        }
    }

    async fn discard(
        &self,
        _: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<(), ProviderError> {
        let id = native_id.to_string();
        self.opened
            .with(vault, move |open| {
                let snap = open
                    .repo
                    .get_snapshot_from_str(&id, |_| true)
                    .map_err(failed)?;
                open.repo.delete_snapshots(&[snap.id]).map_err(failed)
            })
            .await
    }

    /// In the vault's repository, or its cold one.
    async fn exists(
        &self,
        _: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError> {
        let id = native_id.to_string();
        let cold = self.opened.cold(vault)?;
        self.opened
            .with(vault, move |open| {
                let cold = cold
                    .map(|(location, password)| open_cold(&location, &password))
                    .transpose()?;
                for repo in std::iter::once(&open.repo).chain(cold.as_ref()) {
                    if snapshot_ids(repo).map_err(failed)?.contains(&id) {
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .await
    }

    async fn delete(
        &self,
        _: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Deletion, ProviderError> {
        let (id, tag) = (native_id.to_string(), job_tag(job_id));
        let job_id = job_id.to_string();
        let cold = self.opened.cold(vault)?;
        self.opened
            .with(vault, move |open| {
                // a cold point's snapshot is in the cold repository
                let cold = cold
                    .map(|(location, password)| open_cold(&location, &password))
                    .transpose()?;
                for repo in std::iter::once(&open.repo).chain(cold.as_ref()) {
                    let Some(snap) = snapshot_by_id(repo, &id).map_err(failed)? else {
                        continue;
                    };
                    if !snap.tags.contains(&tag) {
                        return Ok(Deletion::NotOurs(format!(
                            "repository snapshot {id} does not carry the tag {}={job_id}: coffer did not make it, or its tags were changed, so coffer leaves it alone",
                            crate::jobs::JOB_TAG
                        )));
                    }
                    repo.delete_snapshots(&[snap.id]).map_err(failed)?;
                    return Ok(Deletion::Deleted { notes: Vec::new() });
                }
                Ok(Deletion::Gone { notes: Vec::new() })
            })
            .await
    }

    fn has_cold_storage(&self, r: &Resource, vault: &str) -> bool {
        self.supports(r.resource_type)
            && self
                .opened
                .vaults
                .get(vault)
                .is_some_and(|v| v.cold.is_some())
    }

    /// Copies the snapshot into the vault's cold repository (restic's copy: its blobs and
    /// tags, under a new snapshot id), then forgets it in the warm one. A copy an earlier
    /// attempt made is found by its `coffer:job` tag and not made again.
    async fn archive(
        &self,
        _: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Archiving, ProviderError> {
        let Some((cold_location, password)) = self.opened.cold(vault)? else {
            return Ok(Archiving::Unsupported(format!(
                "vault `{vault}` has no cold_storage repository"
            )));
        };
        let (id, tag) = (native_id.to_string(), job_tag(job_id));
        let job_id = job_id.to_string();
        self.opened
            .with(vault, move |open| {
                let cold = open_cold(&cold_location, &password)?;
                let source = snapshot_by_id(&open.repo, &id).map_err(failed)?;
                let copied = |cold: &OpenRepository| -> Result<Option<String>, ProviderError> {
                    Ok(all_snapshots(cold)
                        .map_err(failed)?
                        .into_iter()
                        .find(|s| s.tags.contains(&tag))
                        .map(|s| full_id(&s)))
                };
                let Some(source) = source else {
                    // forgotten in the warm repository after an earlier copy, or gone
                    return Ok(match copied(&cold)? {
                        Some(n) => Archiving::Done { native_id: Some(n) },
                        None => Archiving::Gone,
                    });
                };
                if !source.tags.contains(&tag) {
                    return Ok(Archiving::NotOurs(format!(
                        "repository snapshot {id} does not carry the tag {}={job_id}: coffer did not make it, so coffer leaves it alone",
                        crate::jobs::JOB_TAG
                    )));
                }
                let warm = open.repo;
                let new_id = match copied(&cold)? {
                    Some(n) => {
                        warm.delete_snapshots(&[source.id]).map_err(failed)?;
                        n
                    }
                    None => {
                        let indexed = warm.to_indexed().map_err(failed)?;
                        let dest = cold.to_indexed_ids().map_err(failed)?;
                        indexed
                            .copy(&dest, std::iter::once(&source))
                            .map_err(|e| failed(format!("copying {id} into {cold_location}: {e}")))?;
                        let n = copied(&open_cold(&cold_location, &password)?)?.ok_or_else(|| {
                            failed(format!("the copy of {id} is not in {cold_location}"))
                        })?;
                        crate::failpoint::abort_at("after-cold-copy");
                        indexed.delete_snapshots(&[source.id]).map_err(failed)?;
                        n
                    }
                };
                Ok(Archiving::Done {
                    native_id: Some(new_id),
                })
            })
            .await
    }

    async fn prune(
        &self,
        vault: &str,
        max_unused_percent: u8,
    ) -> Result<Option<Pruned>, ProviderError> {
        if !self.opened.vaults.contains_key(vault) {
            return Ok(None);
        }
        let location = self.opened.location(vault)?;
        let cold = self.opened.cold(vault)?;
        self.opened
            .with(vault, move |open| {
                // restic's exclusive lock, as restic prune holds it; someone else's fresh lock
                // refuses the prune for now
                let _lock = crate::repository::lock::exclusive(
                    &location,
                    &open.repo.key(),
                    chrono::Utc::now(),
                )
                .map_err(ProviderError::transient)?;
                crate::failpoint::abort_at("prune-locked");
                let mut pruned = prune(&open.repo, max_unused_percent)?;
                // the cold repository loses data too when cold points are deleted
                if let Some((cold_location, password)) = cold {
                    let repo = open_cold(&cold_location, &password)?;
                    let _lock = crate::repository::lock::exclusive(
                        &cold_location,
                        &repo.key(),
                        chrono::Utc::now(),
                    )
                    .map_err(ProviderError::transient)?;
                    let c = prune(&repo, max_unused_percent)?;
                    pruned.removed_bytes += c.removed_bytes;
                    pruned.pruned |= c.pruned;
                }
                Ok(Some(pruned))
            })
            .await
    }

    async fn foreign_snapshots(
        &self,
        _: &[&Resource],
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watched_source_counts_files_and_not_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        for p in ["x", "a/y", "a/b/z"] {
            std::fs::write(dir.path().join(p), "1").unwrap();
        }
        let files = FileCount::default();
        let source = Watched::new(
            &BackupOptions::default(),
            &[dir.path().to_path_buf()],
            Failures::default(),
            files.clone(),
        )
        .unwrap();
        // three files and two folders (the root itself is not an entry)
        assert_eq!(source.entries().filter(Result::is_ok).count(), 5);
        assert_eq!(files.load(Ordering::Relaxed), 3);
    }
}
