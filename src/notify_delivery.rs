//! Delivering notifications: the applied `notification` blocks as subscriptions, and a
//! thread of its own that POSTs each payload as JSON to a webhook or gives it to a command on
//! standard input, retrying with backoff. Nothing here blocks or fails a job: events are
//! queued, a delivery that finally fails is logged and counted (`/metrics`), and secrets in
//! headers are read from the environment at delivery (`header_env`), never from state.

use crate::address::Address;
use crate::notify::{NotificationEvent, Payload};
use crate::objects::attrs::{self, NotificationAttrs};
use crate::runner::Event;
use crate::state::State;
use chrono::Utc;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One applied `notification` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub name: String,
    pub attrs: NotificationAttrs,
}

/// The applied notifications.
pub fn subscriptions(state: &State) -> Vec<Subscription> {
    state
        .objects
        .iter()
        .filter_map(|(a, o)| match a {
            Address::Notification(name) => attrs::read::<NotificationAttrs>(a, &o.attributes)
                .ok()
                .map(|attrs| Subscription {
                    name: name.clone(),
                    attrs,
                }),
            _ => None,
        })
        .collect()
}

/// Deliveries made and given up, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counts {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
}

/// How long one delivery may take (a webhook request, a command's run).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait before a retry; each later one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The delivery thread and what it delivers to.
pub struct Notifier {
    tx: Option<Sender<Payload>>,
    subscriptions: Arc<Mutex<Vec<Subscription>>>,
    handle: Option<std::thread::JoinHandle<()>>,
    pub counts: Arc<Counts>,
}

impl Notifier {
    /// Starts the delivery thread; commands run in `config_dir`.
    pub fn start(subscriptions: Vec<Subscription>, config_dir: PathBuf) -> Notifier {
        let (tx, rx) = channel::<Payload>();
        let subs = Arc::new(Mutex::new(subscriptions));
        let counts = Arc::new(Counts::default());
        let (s, c) = (subs.clone(), counts.clone());
        let handle = std::thread::Builder::new()
            .name("coffer-notify".into())
            .spawn(move || deliver_all(rx, &s, &c, &config_dir))
            .ok();
        Notifier {
            tx: Some(tx),
            subscriptions: subs,
            handle,
            counts,
        }
    }

    /// The applied notifications changed (a reload).
    pub fn set(&self, subscriptions: Vec<Subscription>) {
        *self.subscriptions.lock().unwrap_or_else(|p| p.into_inner()) = subscriptions;
    }

    /// Whether any notification wants `event` (to skip work no one would hear of).
    pub fn wants(&self, event: NotificationEvent) -> bool {
        self.subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|s| s.attrs.events.contains(&event))
    }

    /// Queues a payload; returns at once.
    pub fn send(&self, payload: Payload) {
        if self.wants(payload.event) {
            if let Some(tx) = &self.tx {
                let _ = tx.send(payload);
            }
        }
    }

    /// What a runner event raises.
    pub fn on_event(&self, e: &Event) {
        let now = Utc::now();
        match e {
            Event::Started {
                job_id,
                kind,
                resource_arn,
                ..
            } => {
                if let Some(p) = crate::notify::job_started(job_id, *kind, resource_arn, now) {
                    self.send(p);
                }
            }
            Event::Ended(j) => {
                for p in crate::notify::job_ended(j, now) {
                    self.send(p);
                }
            }
            _ => {}
        }
    }

    /// Stops taking payloads and waits up to `within` for those queued to be delivered.
    pub fn finish(mut self, within: Duration) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let deadline = std::time::Instant::now() + within;
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if h.is_finished() {
                let _ = h.join();
            } else {
                tracing::warn!(
                    event = "notifications_abandoned",
                    "notifications still being delivered after {}s were abandoned",
                    within.as_secs()
                );
            }
        }
    }
}

fn deliver_all(
    rx: Receiver<Payload>,
    subs: &Mutex<Vec<Subscription>>,
    counts: &Counts,
    dir: &PathBuf,
) {
    while let Ok(payload) = rx.recv() {
        let targets: Vec<Subscription> = subs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|s| s.attrs.events.contains(&payload.event))
            .cloned()
            .collect();
        for s in targets {
            let mut p = payload.clone();
            p.notification = s.name.clone();
            let mut wait = FIRST_BACKOFF;
            let mut last = String::new();
            let mut done = false;
            for attempt in 0..=s.attrs.retries {
                if attempt > 0 {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(MAX_BACKOFF);
                }
                match deliver(&s, &p, dir) {
                    Ok(()) => {
                        done = true;
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            if done {
                counts.delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                counts.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    event = "notification_failed",
                    notification = s.name.as_str(),
                    notified = p.event.name(),
                    error = last.as_str(),
                    "notification {} of {} could not be delivered after {} tries: {last}",
                    s.name,
                    p.event.name(),
                    s.attrs.retries + 1
                );
            }
        }
    }
}

/// One try.
fn deliver(s: &Subscription, p: &Payload, dir: &PathBuf) -> Result<(), String> {
    let body = serde_json::to_string(p).map_err(|e| e.to_string())?;
    if let Some(w) = &s.attrs.webhook {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(DELIVERY_TIMEOUT))
            .build()
            .into();
        let mut req = agent
            .post(&w.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("coffer/", env!("CARGO_PKG_VERSION")));
        for (k, v) in &w.headers {
            req = req.header(k, v);
        }
        for (k, var) in &w.header_env {
            let v = std::env::var(var).map_err(|_| {
                format!("header {k} needs the environment variable {var}, which is not set")
            })?;
            req = req.header(k, &v);
        }
        req.send(&body)
            .map(|_| ())
            .map_err(|e| format!("POST {}: {e}", w.url))
    } else if let Some(cmd) = &s.attrs.command {
        let (program, args) = cmd.split_first().ok_or("an empty command")?;
        let mut child = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("COFFER_EVENT", p.event.name())
            .env("COFFER_NOTIFICATION", &s.name)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(body.as_bytes());
        }
        let deadline = std::time::Instant::now() + DELIVERY_TIMEOUT;
        loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) if status.success() => return Ok(()),
                Some(status) => {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    return Err(format!("{program} exited with {status}: {}", err.trim()));
                }
                None if std::time::Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "{program} did not finish within {}s",
                        DELIVERY_TIMEOUT.as_secs()
                    ));
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    } else {
        Err("the notification has neither a webhook nor a command".into())
    }
}
