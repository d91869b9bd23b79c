//! coffer-core: the pure core of coffer. It takes configuration, state, inventory, catalog
//! rows and `now` as arguments and does no I/O: it reads no clock, no environment and no
//! file, and its dependencies hold no async runtime, AWS SDK, database or CLI crate, so the
//! compiler keeps it that way.
//!
//! The pipeline: [`config`] (HCL → typed model) → [`objects`] (desired objects) →
//! [`plan`] (change plans and diffs, with [`graph`] and [`coverage`]) → [`render`]; and on the
//! scheduling side [`schedule`] (cron and occurrences) → [`jobs`] (job states, due runs,
//! lifecycle arithmetic and the records a catalog keeps). [`state::model`] is recorded state;
//! [`inventory`] what discovery found; [`address`], [`value`] and [`diag`] are shared
//! vocabulary.

pub mod address;
pub mod config;
pub mod controls;
pub mod coverage;
pub mod dashboard;
pub mod diag;
pub mod graph;
pub mod inventory;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod number;
pub mod objects;
pub mod plan;
pub mod render;
pub mod schedule;
pub mod state;
pub mod value;

/// The version of coffer, recorded in state and plan files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
