//! coffer: a declarative backup manager. The library holds a pure core (configuration,
//! graph, plan, rendering) and a thin effectful shell (state backend, apply runner, CLI).
//!
//! Pure core — takes everything as arguments and does no I/O, reads no clock or environment:
//! [`config`], [`address`], [`value`], [`diag`], [`graph`], [`objects`], [`plan`], [`render`],
//! [`schedule`], [`coverage`], [`inventory`], [`jobs`],
//! [`state::model`].
//!
//! Effectful shell — depends on the core, never the reverse:
//! [`workspace`], [`state::local`], [`catalog`], [`apply`], [`runner`], [`repository`], [`aws`],
//! [`cli`].

pub mod address;
pub mod apply;
pub mod aws;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod diag;
pub mod graph;
pub mod inventory;
pub mod jobs;
pub mod objects;
pub mod plan;
pub mod render;
pub mod repository;
pub mod runner;
pub mod schedule;
pub mod state;
pub mod value;
pub mod workspace;

/// The version of coffer, recorded in state and plan files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
