//! coffer: a declarative backup manager. This crate is the effectful shell over the pure core
//! in `coffer-core` (re-exported here under the same module names, so `coffer::config` and
//! `coffer_core::config` are one module): the state backend, the catalog, apply, the job
//! runner, vault repositories, the AWS adapters and the CLI. The shell depends on the core,
//! never the reverse; the core's manifest is what enforces it.
//!
//! Pure core (from `coffer-core`): [`config`], [`address`], [`value`], [`diag`], [`graph`],
//! [`objects`], [`plan`], [`render`], [`schedule`], [`coverage`], [`inventory`], [`jobs`],
//! [`state::model`].
//!
//! Effectful shell: [`workspace`], [`state::local`], [`catalog`], [`apply`], [`runner`],
//! [`repository`], [`aws`], [`providers`] (one per resource type), [`cli`]; and the use cases the CLI calls, in [`app`].

pub use coffer_core::{
    address, config, controls, coverage, dashboard, diag, graph, inventory, jobs, metrics, notify,
    objects, plan, render, schedule, value, VERSION,
};

pub mod app;
pub mod apply;
pub mod aws;
pub mod catalog;
pub mod cli;
pub mod disk;
mod failpoint;
pub mod notify_delivery;
pub mod pg;
#[cfg(test)]
mod pg_test;
pub mod providers;
pub mod repository;
pub mod runner;
pub mod serve;
pub mod state;
pub mod workspace;
