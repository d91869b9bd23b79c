//! The file-level engine: backs up directories, and EFS file systems mapped to a mount path,
//! into their vault's repository (restic's format, through rustic_core). Each backup is
//! incremental against the resource's previous snapshot (same host, label and path), carries
//! the recovery point tags as restic tags (`key=value`), and names every file it could not
//! read, so the job ends PARTIAL instead of COMPLETED with silent gaps.

use super::engine::{Engine, EngineError, Finished, ForeignSnapshot, Preflight, Progress};
use crate::inventory::{Resource, ResourceType};
use crate::repository::{open_or_init, open_or_init_with_progress, Location};
use chrono::{DateTime, Utc};
use rustic_core::{
    BackupOptions, LocalSource, ReadSource, ReadSourceEntry, ReadSourceOpen, RusticResult,
    SnapshotOptions,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A progress bar for the bytes a file backup reads, with its rate, on a terminal.
#[derive(Debug, Clone, Copy)]
struct TerminalProgress;

#[derive(Debug)]
struct Bar(indicatif::ProgressBar);

impl rustic_core::RusticProgress for Bar {
    fn is_hidden(&self) -> bool {
        false
    }
    fn set_length(&self, len: u64) {
        self.0.set_length(len);
    }
    fn set_title(&self, title: &str) {
        self.0.set_prefix(title.to_string());
    }
    fn inc(&self, inc: u64) {
        self.0.inc(inc);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
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
                "{prefix} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix(prefix.to_string());
        rustic_core::Progress::new(Bar(bar))
    }
}

/// Backs up files into vault repositories.
pub struct FileBackups {
    /// Each vault's repository, for vaults that have one.
    vaults: BTreeMap<String, Location>,
    /// The repositories' key, or why there is none.
    password: Result<String, String>,
    /// Backups finished by `start`, for `poll` to report.
    finished: Mutex<BTreeMap<String, Finished>>,
    /// Draw a bytes-and-rate bar while a backup runs (on a terminal).
    show_progress: bool,
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

type Entries<O> = Box<dyn Iterator<Item = RusticResult<ReadSourceEntry<O>>> + Send>;

impl ReadSource for Watched {
    type Open = WatchedOpen<<LocalSource as ReadSource>::Open>;
    type Iter = Entries<Self::Open>;

    fn size(&self) -> RusticResult<Option<u64>> {
        self.inner.size()
    }

    fn entries(&self) -> Self::Iter {
        let failures = self.failures.clone();
        Box::new(self.inner.entries().map(move |entry| match entry {
            Err(e) => {
                record(&failures, e.to_string());
                Err(e)
            }
            Ok(ReadSourceEntry { path, node, open }) => Ok(ReadSourceEntry {
                open: open.map(|inner| WatchedOpen {
                    inner,
                    path: path.clone(),
                    failures: failures.clone(),
                }),
                path,
                node,
            }),
        }))
    }
}

fn failed(e: impl std::fmt::Display) -> EngineError {
    EngineError::permanent(e.to_string())
}

/// The restic tag that names the job a snapshot belongs to.
fn job_tag(job_id: &str) -> String {
    format!("{}={job_id}", crate::aws::snapshot::JOB_TAG)
}

/// One backup, start to end (blocking).
fn backup(
    location: &Location,
    password: &str,
    path: PathBuf,
    label: &str,
    tags: &BTreeMap<String, String>,
    show_progress: bool,
) -> Result<(String, Finished), EngineError> {
    let (repo, _) = if show_progress {
        open_or_init_with_progress(location, password, TerminalProgress)
    } else {
        open_or_init(location, password)
    }
    .map_err(failed)?;
    let repo = repo.to_indexed_ids().map_err(failed)?;
    let mut snap = SnapshotOptions::default()
        .label(label.to_string())
        .to_snapshot()
        .map_err(failed)?;
    for (k, v) in tags {
        snap.tags.add(format!("{k}={v}"));
    }
    let opts = BackupOptions::default();
    let paths = vec![path.clone()];
    let failures: Failures = Arc::default();
    let source = Watched {
        inner: LocalSource::new(
            opts.ignore_save_opts,
            &opts.excludes,
            &opts.ignore_filter_opts,
            &paths,
        )
        .map_err(failed)?,
        failures: failures.clone(),
    };
    let snap = repo
        .archive(&opts, &source, snap, &paths)
        .map_err(|e| failed(format!("backup of {} failed: {e}", path.display())))?;
    let unreadable = failures.lock().map(|f| f.clone()).unwrap_or_default();
    // the full id (Display gives restic's 8-character short form)
    let id = snap.id.to_hex().as_str().to_string();
    Ok((
        id.clone(),
        Finished {
            native_id: id.clone(),
            native_ids: vec![id],
            size_bytes: snap.summary.as_ref().map(|s| s.total_bytes_processed),
            encrypted: true,
            kms_key: None,
            unreadable,
        },
    ))
}

impl FileBackups {
    pub fn new(
        vaults: BTreeMap<String, Location>,
        password: Result<String, String>,
        show_progress: bool,
    ) -> Self {
        FileBackups {
            vaults,
            password,
            finished: Mutex::default(),
            show_progress,
        }
    }

    fn repository(&self, vault: &str) -> Result<(Location, String), EngineError> {
        let location = self.vaults.get(vault).cloned().ok_or_else(|| {
            EngineError::permanent(format!(
                "vault `{vault}` has no storage, so it cannot hold file-level backups: give it `storage = \"file://…\"`"
            ))
        })?;
        let password = self.password.clone().map_err(EngineError::permanent)?;
        Ok((location, password))
    }

    /// Where a resource's files are.
    fn source(r: &Resource) -> Result<PathBuf, EngineError> {
        if let Some(p) = &r.mount_path {
            return Ok(PathBuf::from(p));
        }
        match (r.resource_type, r.arn.strip_prefix("dir:")) {
            (ResourceType::Directory, Some(p)) => Ok(PathBuf::from(p)),
            _ => Err(EngineError::permanent(format!(
                "{} is not mounted here: map it with an `efs_mount` block naming its mount path",
                r.arn
            ))),
        }
    }
}

impl Engine for FileBackups {
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
    ) -> Result<Option<String>, EngineError> {
        let (location, password) = self.repository(vault)?;
        let tag = job_tag(job_id);
        tokio::task::spawn_blocking(move || {
            let (repo, _) = open_or_init(&location, &password).map_err(failed)?;
            let snaps = repo.get_all_snapshots().map_err(failed)?;
            Ok(snaps
                .into_iter()
                .find(|s| s.tags.contains(&tag))
                .map(|s| s.id.to_hex().as_str().to_string()))
        })
        .await
        .map_err(failed)?
    }

    async fn start(
        &self,
        r: &Resource,
        vault: &str,
        _job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, EngineError> {
        let (location, password) = self.repository(vault)?;
        let path = Self::source(r)?;
        let (label, tags, show) = (r.arn.clone(), tags.clone(), self.show_progress);
        let (id, finished) = tokio::task::spawn_blocking(move || {
            backup(&location, &password, path, &label, &tags, show)
        })
        .await
        .map_err(failed)??;
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
    ) -> Result<Progress, EngineError> {
        if let Some(f) = self
            .finished
            .lock()
            .ok()
            .and_then(|f| f.get(native_id).cloned())
        {
            return Ok(Progress::Done(f));
        }
        // a backup finished by an earlier process: its snapshot is complete once it exists
        let (location, password) = self.repository(vault)?;
        let id = native_id.to_string();
        tokio::task::spawn_blocking(move || {
            let (repo, _) = open_or_init(&location, &password).map_err(failed)?;
            let snap = repo.get_snapshot_from_str(&id, |_| true).map_err(failed)?;
            Ok(Progress::Done(Finished {
                native_id: id.clone(),
                native_ids: vec![id],
                size_bytes: snap.summary.as_ref().map(|s| s.total_bytes_processed),
                encrypted: true,
                kms_key: None,
                unreadable: Vec::new(),
            }))
        })
        .await
        .map_err(failed)?
    }

    async fn discard(&self, _: &Resource, vault: &str, native_id: &str) -> Result<(), EngineError> {
        let (location, password) = self.repository(vault)?;
        let id = native_id.to_string();
        tokio::task::spawn_blocking(move || {
            let (repo, _) = open_or_init(&location, &password).map_err(failed)?;
            let snap = repo.get_snapshot_from_str(&id, |_| true).map_err(failed)?;
            repo.delete_snapshots(&[snap.id]).map_err(failed)
        })
        .await
        .map_err(failed)?
    }

    async fn foreign_snapshots(
        &self,
        _: &[&Resource],
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, EngineError> {
        Ok(Vec::new())
    }
}
