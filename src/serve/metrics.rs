//! `/metrics`: the catalog's figures ([`crate::metrics::figures`]) and the runner's own
//! counters in the Prometheus text format (prometheus-client), every name starting with
//! `coffer_`. Built from the catalog at most every [`REFRESH`], so a scraper every few
//! seconds does not read a million points each time.

use crate::catalog::{JobFilter, PointFilter};
use crate::inventory::Inventory;
use crate::metrics::{figures, Figures};
use crate::state::backend::BackendSpec;
use chrono::{DateTime, Utc};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one reading of the catalog is served.
pub const REFRESH: Duration = Duration::from_secs(15);

/// The runner's own figures.
#[derive(Debug, Default, Clone)]
pub struct Process {
    pub ticks: u64,
    pub failed_ticks: u64,
    pub last_tick_end: Option<DateTime<Utc>>,
    /// What the runner discovered last (else the inventory recorded at the last apply).
    pub inventory: Option<Arc<Inventory>>,
    /// Where vaults in other accounts are, for the cross-account control.
    pub vault_accounts: Arc<BTreeMap<String, String>>,
    /// Notifications delivered and given up.
    pub notifications: Option<(u64, u64)>,
}

/// The last text served and when it was made.
#[derive(Default)]
pub struct Cache {
    last: Mutex<Option<(Instant, String)>>,
}

impl Cache {
    pub fn text(
        &self,
        backend: &BackendSpec,
        process: &Process,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, text)) = last.as_ref() {
            if at.elapsed() < REFRESH {
                return Ok(text.clone());
            }
        }
        let text = read(backend, process, now)?;
        *last = Some((Instant::now(), text.clone()));
        Ok(text)
    }
}

/// Reads the catalog and state through a connection of its own and encodes everything.
fn read(spec: &BackendSpec, process: &Process, now: DateTime<Utc>) -> Result<String, String> {
    let backend = spec.open().map_err(|e| e.to_string())?;
    let catalog = backend.catalog_read_only().map_err(|e| e.to_string())?;
    let jobs = catalog
        .jobs(&JobFilter::default())
        .map_err(|e| e.to_string())?;
    let points = catalog
        .recovery_points(&PointFilter::default())
        .map_err(|e| e.to_string())?;
    let state = backend.read().map_err(|e| e.to_string())?.map(|l| l.state);
    let controls = match &state {
        Some(state) => {
            let recorded = state.inventory.clone().unwrap_or_default();
            let inventory = process.inventory.as_deref().unwrap_or(&recorded);
            crate::app::compliance::evaluate(
                state,
                inventory,
                &points,
                &jobs,
                &process.vault_accounts,
                now,
            )
        }
        None => Vec::new(),
    };
    Ok(encode_all(&figures(&jobs, &points, &controls), process))
}

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The job duration histogram's buckets, in seconds: a minute to a day.
const DURATION_BUCKETS: [f64; 10] = [
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0, 86400.0,
];

pub fn encode_all(f: &Figures, p: &Process) -> String {
    let mut r = Registry::default();
    let jobs = Family::<Labels, Gauge>::default();
    for ((kind, state), n) in &f.jobs {
        jobs.get_or_create(&labels(&[
            ("kind", kind.as_str()),
            ("state", state.as_str()),
        ]))
        .set(*n as i64);
    }
    r.register(
        "coffer_jobs",
        "Jobs in the catalog, by kind and state",
        jobs,
    );
    let durations =
        Family::<Labels, Histogram>::new_with_constructor(|| Histogram::new(DURATION_BUCKETS));
    for (kind, list) in &f.durations {
        let h = durations.get_or_create(&labels(&[("kind", kind.as_str())]));
        for s in list {
            h.observe(*s);
        }
    }
    r.register(
        "coffer_job_duration_seconds",
        "Seconds from creation to end of the jobs that ended, by kind",
        durations,
    );
    let bytes = Family::<Labels, Counter>::default();
    for (vault, n) in &f.backup_bytes {
        bytes.get_or_create(&labels(&[("vault", vault)])).inc_by(*n);
    }
    r.register(
        "coffer_backup_bytes",
        "Bytes of completed backup jobs, by vault",
        bytes,
    );
    let newest = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    for (arn, (t, at)) in &f.newest_point {
        newest
            .get_or_create(&labels(&[("resource_arn", arn), ("resource_type", t)]))
            .set(at.timestamp() as f64);
    }
    r.register(
        "coffer_last_recovery_point_timestamp_seconds",
        "When the newest COMPLETED recovery point of each resource completed (Unix time)",
        newest,
    );
    let points = Family::<Labels, Gauge>::default();
    for ((vault, class, status), n) in &f.points {
        points
            .get_or_create(&labels(&[
                ("vault", vault),
                ("storage_class", class.as_str()),
                ("status", status.as_str()),
            ]))
            .set(*n as i64);
    }
    r.register(
        "coffer_recovery_points",
        "Recovery points by vault, storage class and status",
        points,
    );
    let rpo = Family::<Labels, Gauge>::default();
    for (framework, n) in &f.rpo_violations {
        rpo.get_or_create(&labels(&[("framework", framework)]))
            .set(*n as i64);
    }
    r.register(
        "coffer_rpo_violations",
        "Resources past a BACKUP_LAST_RECOVERY_POINT_CREATED control's max_age, by framework",
        rpo,
    );
    let tests = Family::<Labels, Gauge>::default();
    for (status, n) in &f.restore_tests {
        tests
            .get_or_create(&labels(&[("validation_status", status)]))
            .set(*n as i64);
    }
    r.register(
        "coffer_restore_tests",
        "Restore tests' restores by validation status",
        tests,
    );
    let restore = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    for (arn, s) in &f.restore_seconds {
        restore
            .get_or_create(&labels(&[("resource_arn", arn)]))
            .set(*s);
    }
    r.register(
        "coffer_restore_time_seconds",
        "The latest completed restore test's restore time of each resource",
        restore,
    );
    let compliant = Family::<Labels, Gauge>::default();
    let counted = Family::<Labels, Gauge>::default();
    for c in &f.controls {
        let (fw, name) = (c.framework.as_str(), c.control.name());
        compliant
            .get_or_create(&labels(&[("framework", fw), ("control", name)]))
            .set(i64::from(c.compliant));
        for (status, n) in [
            ("COMPLIANT", c.resources_compliant),
            ("NON_COMPLIANT", c.resources_non_compliant),
        ] {
            counted
                .get_or_create(&labels(&[
                    ("framework", fw),
                    ("control", name),
                    ("status", status),
                ]))
                .set(n as i64);
        }
    }
    r.register(
        "coffer_control_compliant",
        "1 when the control is COMPLIANT, 0 when not",
        compliant,
    );
    r.register(
        "coffer_control_resources",
        "Resources evaluated by each control, by status",
        counted,
    );
    let ticks: Counter = Counter::default();
    ticks.inc_by(p.ticks);
    r.register("coffer_ticks", "Ticks this process ran", ticks);
    let failed: Counter = Counter::default();
    failed.inc_by(p.failed_ticks);
    r.register(
        "coffer_tick_failures",
        "Ticks of this process that failed",
        failed,
    );
    if let Some(t) = p.last_tick_end {
        let g: Gauge<f64, AtomicU64> = Gauge::default();
        g.set(t.timestamp() as f64);
        r.register(
            "coffer_last_tick_timestamp_seconds",
            "When this process's last tick ended (Unix time)",
            g,
        );
    }
    if let Some((delivered, failed)) = p.notifications {
        let d: Counter = Counter::default();
        d.inc_by(delivered);
        r.register(
            "coffer_notifications_delivered",
            "Notifications delivered",
            d,
        );
        let f: Counter = Counter::default();
        f.inc_by(failed);
        r.register(
            "coffer_notification_failures",
            "Notifications given up after their retries",
            f,
        );
    }
    let mut out = String::new();
    let _ = encode(&mut out, &r);
    out
}
