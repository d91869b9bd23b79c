//! Recorded state: the pure data model and journal replay ([`model`], from the core), and the
//! local directory backend with atomic writes, lock and journal ([`local`]).

pub mod local;

pub use coffer_core::state::model;
pub use model::{JournalEntry, State, StateError, StateObject};
