//! `--listen ADDR` on `coffer daemon` and `coffer worker`: a small HTTP server on a thread of
//! its own serving `/metrics` (the Prometheus text format, [`metrics`]), `/healthz` (the
//! process is alive) and `/readyz` (the catalog answers and the runner's loop is not stuck).
//! GET only; it reads through a backend connection of its own and runs no job.

pub mod metrics;

use crate::inventory::Inventory;
use crate::state::backend::BackendSpec;
use axum::extract::State as Extract;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What the runner's loop tells the server: how its ticks go and what it discovered.
#[derive(Debug, Default)]
pub struct Liveness {
    inner: Mutex<Live>,
}

#[derive(Debug, Default, Clone)]
struct Live {
    ticks: u64,
    failed_ticks: u64,
    /// Set while a tick (or the reload before it) runs.
    busy_since: Option<DateTime<Utc>>,
    last_tick_end: Option<DateTime<Utc>>,
    /// When the loop means to wake next, while it sleeps.
    wake_at: Option<DateTime<Utc>>,
    inventory: Option<Arc<Inventory>>,
    vault_accounts: Arc<BTreeMap<String, String>>,
    notifications: Option<Arc<crate::notify_delivery::Counts>>,
}

impl Liveness {
    fn with<T>(&self, f: impl FnOnce(&mut Live) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// The loop starts a tick (or reloads before one).
    pub fn busy(&self, now: DateTime<Utc>) {
        self.with(|l| {
            l.busy_since = Some(now);
            l.wake_at = None;
        });
    }

    /// A tick ended, well or not.
    pub fn ticked(&self, now: DateTime<Utc>, ok: bool) {
        self.with(|l| {
            l.ticks += 1;
            if !ok {
                l.failed_ticks += 1;
            }
            l.last_tick_end = Some(now);
        });
    }

    /// The loop sleeps until `wake_at`.
    pub fn sleeping(&self, wake_at: DateTime<Utc>) {
        self.with(|l| {
            l.busy_since = None;
            l.wake_at = Some(wake_at);
        });
    }

    /// What the loop discovered last, and the accounts of vaults in other accounts (from
    /// the configuration's providers), for the controls `/metrics` reports.
    pub fn discovered(&self, inventory: Inventory, vault_accounts: BTreeMap<String, String>) {
        self.with(|l| {
            l.inventory = Some(Arc::new(inventory));
            l.vault_accounts = Arc::new(vault_accounts);
        });
    }

    /// The notifier's counts, for `/metrics`.
    pub fn notifications(&self, counts: Arc<crate::notify_delivery::Counts>) {
        self.with(|l| l.notifications = Some(counts));
    }

    fn snapshot(&self) -> Live {
        self.with(|l| l.clone())
    }
}

/// How late past its planned wake the loop may be before it counts as stuck.
const GRACE: chrono::Duration = chrono::Duration::seconds(120);

/// Why the loop is not ready, if it is not: it has not started, or it overslept its wake.
fn loop_unready(l: &Live, now: DateTime<Utc>) -> Option<String> {
    if l.busy_since.is_some() {
        return None;
    }
    match l.wake_at {
        None => Some("the runner has not started its first tick yet".into()),
        Some(w) if now > w + GRACE => Some(format!(
            "the runner meant to wake at {} and has not ({}s late)",
            w.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            (now - w).num_seconds()
        )),
        Some(_) => None,
    }
}

struct Shared {
    backend: BackendSpec,
    live: Arc<Liveness>,
    metrics: metrics::Cache,
}

/// Binds `addr` now (so a bad or busy address fails the command at once) and serves on a
/// thread of its own; returns the address bound (a port of 0 gets a free one).
pub fn start(addr: &str, backend: BackendSpec, live: Arc<Liveness>) -> Result<SocketAddr, String> {
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let shared = Arc::new(Shared {
        backend,
        live,
        metrics: metrics::Cache::default(),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the HTTP server: {e}"))?;
    std::thread::Builder::new()
        .name("coffer-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new()
                    .route("/metrics", get(serve_metrics))
                    .route("/healthz", get(healthz))
                    .route("/readyz", get(readyz))
                    .with_state(shared);
                let _ = axum::serve(listener, app).await;
            })
        })
        .map_err(|e| format!("cannot start the HTTP server: {e}"))?;
    Ok(bound)
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn readyz(Extract(shared): Extract<Arc<Shared>>) -> impl IntoResponse {
    let spec = shared.backend.clone();
    let catalog = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let backend = spec.open().map_err(|e| e.to_string())?;
        let catalog = backend.catalog_read_only().map_err(|e| e.to_string())?;
        catalog.vault_points().map_err(|e| e.to_string())?;
        Ok(())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let unready = match catalog {
        Err(e) => Some(format!("the catalog does not answer: {e}")),
        Ok(()) => loop_unready(&shared.live.snapshot(), Utc::now()),
    };
    match unready {
        None => (StatusCode::OK, "ready\n".to_string()),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn serve_metrics(Extract(shared): Extract<Arc<Shared>>) -> impl IntoResponse {
    let s = shared.clone();
    let text = tokio::task::spawn_blocking(move || {
        let live = s.live.snapshot();
        s.metrics.text(&s.backend, &live.into(), Utc::now())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match text {
        Ok(t) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            t,
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read the catalog for metrics: {e}\n"),
        )
            .into_response(),
    }
}

impl From<Live> for metrics::Process {
    fn from(l: Live) -> metrics::Process {
        metrics::Process {
            ticks: l.ticks,
            failed_ticks: l.failed_ticks,
            last_tick_end: l.last_tick_end,
            inventory: l.inventory,
            vault_accounts: l.vault_accounts,
            notifications: l.notifications.map(|c| {
                use std::sync::atomic::Ordering::Relaxed;
                (c.delivered.load(Relaxed), c.failed.load(Relaxed))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_loop_is_ready_while_busy_or_before_its_wake_and_grace() {
        let live = Liveness::default();
        assert!(loop_unready(&live.snapshot(), at("2026-12-01T00:00:00Z")).is_some());
        live.busy(at("2026-12-01T00:00:00Z"));
        assert_eq!(
            loop_unready(&live.snapshot(), at("2026-12-01T05:00:00Z")),
            None
        );
        live.ticked(at("2026-12-01T00:01:00Z"), true);
        live.sleeping(at("2026-12-01T03:00:00Z"));
        assert_eq!(
            loop_unready(&live.snapshot(), at("2026-12-01T03:01:59Z")),
            None
        );
        let late = loop_unready(&live.snapshot(), at("2026-12-01T03:02:01Z")).unwrap();
        assert!(late.contains("121s late"), "{late}");
    }
}
