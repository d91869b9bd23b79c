//! `coffer serve`, and `--listen ADDR` on `coffer daemon` and `coffer worker`: a small HTTP
//! server on a thread of its own serving the read-only dashboard ([`dashboard`]), `/metrics`
//! (the Prometheus text format, [`metrics`]), `/healthz` (the process is alive) and `/readyz`
//! (the catalog answers and the runner's loop is not stuck). GET only, behind a bearer token
//! when it listens beyond loopback, with a strict Content-Security-Policy; it reads through a
//! backend connection of its own and runs no job.

pub mod dashboard;
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

    /// What the loop discovered last (none before its first discovery, or in `coffer
    /// serve`) and the vaults' accounts.
    pub fn discovered_now(&self) -> (Option<Arc<Inventory>>, Arc<BTreeMap<String, String>>) {
        self.with(|l| (l.inventory.clone(), l.vault_accounts.clone()))
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

/// What to serve, and to whom.
pub struct Options {
    /// HOST:PORT to bind (a port of 0 gets a free one).
    pub addr: String,
    /// The bearer token every request but `/healthz` and `/readyz` must carry; required
    /// beyond loopback.
    pub token: Option<String>,
    /// Where each configured selection is written, for the resource page.
    pub sources: BTreeMap<crate::address::Address, String>,
    /// A fixed `now` for the dashboard (`coffer serve --at`).
    pub at: Option<DateTime<Utc>>,
}

/// The Content-Security-Policy of every response: no script at all, styles and images
/// from coffer only, no framing, forms only back to coffer.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Binds `opts.addr` now (so a bad or busy address, or a public one without a token, fails
/// the command at once) and serves on a thread of its own; returns the address bound.
pub fn start(
    opts: Options,
    backend: BackendSpec,
    live: Arc<Liveness>,
) -> Result<SocketAddr, String> {
    let addr = opts.addr.as_str();
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    if !bound.ip().is_loopback() && opts.token.is_none() {
        return Err(format!(
            "{addr} is not a loopback address, so anyone who can reach it could read the dashboard and metrics; put a secret in an environment variable and pass --auth-token-env NAME (clients send `Authorization: Bearer <secret>`), or listen on 127.0.0.1"
        ));
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let source = Arc::new(dashboard::source::Source::new(
        backend.clone(),
        live.clone(),
        opts.sources,
        opts.at,
    ));
    let shared = Arc::new(Shared {
        backend,
        live,
        metrics: metrics::Cache::default(),
    });
    let token = opts.token.map(Arc::<str>::from);
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
                let guarded = axum::Router::new()
                    .route("/metrics", get(serve_metrics))
                    .with_state(shared.clone())
                    .merge(dashboard::routes(source))
                    .layer(axum::middleware::from_fn(move |req, next| {
                        authorize(token.clone(), req, next)
                    }));
                let app = axum::Router::new()
                    .route("/healthz", get(healthz))
                    .route("/readyz", get(readyz))
                    .with_state(shared)
                    .merge(guarded)
                    .layer(axum::middleware::from_fn(harden));
                let _ = axum::serve(listener, app).await;
            })
        })
        .map_err(|e| format!("cannot start the HTTP server: {e}"))?;
    Ok(bound)
}

/// Compares in time that does not depend on where the two differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Lets a request through only with the bearer token, when there is one.
async fn authorize(
    token: Option<Arc<str>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(token) = token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"coffer\"")],
                "401 Unauthorized: send `Authorization: Bearer <token>` with the token of --auth-token-env\n",
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Security headers on every response.
async fn harden(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, axum::http::HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
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
