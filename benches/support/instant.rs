//! What the benchmarks share: an engine that answers every call at once (snapshots complete as
//! soon as they are asked for, copies and deletions succeed), so that what is measured is coffer's own
//! work beyond the API calls, and the process's CPU time.

use chrono::{DateTime, Utc};
use coffer::coverage::{Coverage, Protection};
use coffer::inventory::{Inventory, Resource, ResourceType};
use coffer::providers::{
    CopySource, Deletion, Finished, ForeignSnapshot, Preflight, Progress, Provider, ProviderError,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An engine whose snapshots are complete as soon as they are asked for; it counts the
/// backups asked for per job, so that a benchmark can prove none was asked for twice.
#[derive(Default)]
pub struct InstantEngine {
    starts: Mutex<BTreeMap<String, u32>>,
}

impl InstantEngine {
    /// How many backups each job asked for.
    #[allow(dead_code)]
    pub fn starts(&self) -> BTreeMap<String, u32> {
        self.starts.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Provider for InstantEngine {
    fn supports(&self, t: ResourceType) -> bool {
        t == ResourceType::EbsVolume
    }
    fn service(&self, _: &Resource) -> &'static str {
        "EC2"
    }
    async fn preflight(&self, _: &[&Resource]) -> Preflight {
        Preflight::default()
    }
    async fn find(&self, _: &Resource, _: &str, _: &str) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
    async fn start(
        &self,
        r: &Resource,
        _: &str,
        job_id: &str,
        _: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        if let Ok(mut s) = self.starts.lock() {
            *s.entry(job_id.to_string()).or_default() += 1;
        }
        Ok(format!("snap-{}", &r.arn[r.arn.len() - 8..]))
    }
    async fn poll(&self, _: &Resource, _: &str, id: &str) -> Result<Progress, ProviderError> {
        Ok(Progress::Done(Finished {
            native_id: id.into(),
            native_ids: vec![id.into()],
            size_bytes: Some(8 << 30),
            encrypted: false,
            kms_key: None,
            unreadable: Vec::new(),
        }))
    }
    async fn copy(
        &self,
        _: &Resource,
        source: &CopySource<'_>,
        vault: &str,
        _: &str,
        _: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        Ok(format!("{}-in-{vault}", source.native_id))
    }
    async fn exists(&self, _: &Resource, _: &str, _: &str) -> Result<bool, ProviderError> {
        Ok(true)
    }
    async fn discard(&self, _: &Resource, _: &str, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn delete(
        &self,
        _: &Resource,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Deletion, ProviderError> {
        Ok(Deletion::Deleted { notes: Vec::new() })
    }
    async fn prune(
        &self,
        _: &str,
        _: u8,
    ) -> Result<Option<coffer::providers::Pruned>, ProviderError> {
        Ok(None)
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

/// CPU seconds (user and system) this process has used.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// `n` EBS volumes in us-east-1 tagged `Backup = daily`, each covered by `selection.all` of
/// `plan.daily`.
#[allow(dead_code)]
pub fn ebs_volumes(n: usize) -> (Inventory, Coverage) {
    let mut coverage = Coverage::new();
    let resources: Vec<Resource> = (0..n)
        .map(|i| {
            let arn = format!("arn:aws:ec2:us-east-1:111122223333:volume/vol-{i:017x}");
            coverage.entry(arn.clone()).or_default().push(Protection {
                selection: "selection.all".parse().unwrap(),
                plan: "plan.daily".parse().unwrap(),
            });
            Resource::new(arn, ResourceType::EbsVolume, "us-east-1", "111122223333")
                .with_tags(&[("Backup", "daily")])
        })
        .collect();
    (Inventory::new(resources), coverage)
}
