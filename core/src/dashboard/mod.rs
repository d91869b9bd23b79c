//! The dashboard's data (pure): one status vocabulary ([`status`]), a read model of daily
//! roll-ups built from state, inventory, catalog rows, controls and `now` ([`model`]), and one
//! serializable view per page ([`overview`], [`matrix`], [`jobs`], [`resource`], [`vaults`],
//! [`schedule`], [`audit`]) that the shell renders as HTML and serves as JSON.

pub mod audit;
pub mod fixture;
pub mod jobs;
pub mod matrix;
pub mod model;
pub mod overview;
pub mod resource;
pub mod schedule;
pub mod status;
pub mod vaults;

pub use model::{Inputs, Model};
pub use status::Status;

#[cfg(test)]
mod tests;
