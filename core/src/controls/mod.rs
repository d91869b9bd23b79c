//! Compliance controls (pure): AWS Backup Audit Manager's controls and coffer's own, what
//! each takes ([`kinds`]), and their evaluation over the applied configuration, the
//! inventory, the catalog's points and restore jobs, and `now` ([`evaluate`]).

pub mod evaluate;
pub mod kinds;

pub use evaluate::{
    as_of, evaluate, vault_accounts, ControlResult, Evidence, ResourceResult, Status,
};
pub use kinds::{ControlKind, Param, ParamType};
