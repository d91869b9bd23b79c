//! The job runner (effectful shell): one scheduler tick turns due rule runs into jobs in the
//! catalog ([`cycle`]), then executes every unfinished job through its resource type's provider with
//! bounded concurrency, retries and windows ([`execute`]). Time comes from a [`Clock`] that
//! `--at` can set, so a tick is reproducible.

pub mod cycle;
pub mod execute;
pub mod lifecycle;
pub mod restore_test;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// What time it is for the runner: `base` when it started, plus the time that has passed
/// since. `coffer run --at T` starts at T. The time that passes is tokio's, so tests run the
/// runner with paused time and skip its waits.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: DateTime<Utc>,
    started: Instant,
}

impl Clock {
    pub fn starting_at(base: DateTime<Utc>) -> Clock {
        Clock {
            base,
            started: Instant::now(),
        }
    }

    pub fn system() -> Clock {
        Clock::starting_at(Utc::now())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.base
            + chrono::Duration::from_std(self.started.elapsed()).unwrap_or(chrono::Duration::zero())
    }
}

/// Limits and pacing for executing jobs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs running at once, in all.
    pub concurrency: usize,
    /// Jobs running at once against one service (EC2, RDS).
    pub per_service: usize,
    /// How often to ask whether a snapshot is done.
    pub poll_interval: std::time::Duration,
    /// The first retry's delay after a transient error; it doubles each time, up to 5 minutes.
    pub retry_base: std::time::Duration,
    /// A backup whose source shrank by more than this fraction since the previous point (or
    /// became empty) is flagged as suspicious.
    pub suspicious_shrink: f64,
    /// How long a deletion retries transient errors within one tick.
    pub delete_retry_for: std::time::Duration,
    /// Lets a tick delete more than the mass-deletion breaker allows.
    pub allow_mass_deletion: bool,
    /// Copies running at once into one destination region per service (AWS's quota: 20).
    pub max_concurrent_copies: usize,
    /// Set when this runner is one of several `coffer worker`s sharing a PostgreSQL catalog:
    /// it runs only the jobs it claims, under this name, and leaves file-level restores another
    /// process may be running alone (the worker ends those a dead coffer left, under the
    /// runner lock, between ticks).
    pub worker: Option<WorkerSettings>,
}

/// How a worker holds the jobs it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    pub name: String,
    /// How long a claim lives unless renewed (30 s); it is renewed every third of that.
    pub lease: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            concurrency: 10,
            per_service: 5,
            poll_interval: std::time::Duration::from_secs(15),
            retry_base: std::time::Duration::from_secs(2),
            suspicious_shrink: 0.5,
            delete_retry_for: std::time::Duration::from_secs(600),
            allow_mass_deletion: false,
            max_concurrent_copies: 20,
            worker: None,
        }
    }
}

/// What the runner tells whoever is watching (a progress bar, log lines, JSON lines).
#[derive(Debug, Clone)]
pub enum Event {
    Warning(String),
    /// Something worth saying that is not a problem (what a prune found).
    Info(String),
    /// This many jobs are about to be executed.
    Queued {
        jobs: usize,
    },
    /// A job asked for its backup or copy (or adopted one an earlier attempt made).
    Started {
        job_id: String,
        kind: crate::jobs::JobKind,
        resource_arn: String,
        adopted: bool,
    },
    Progress {
        job_id: String,
        percent: Option<u8>,
    },
    /// A job reached a terminal state (or was left for resumption when stopping).
    Ended(Box<crate::catalog::JobRecord>),
}
