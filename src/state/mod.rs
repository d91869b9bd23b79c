//! Recorded state: the pure data model and journal replay ([`model`], from the core), and the
//! local directory backend with atomic writes, lock and journal ([`local`]), and the
//! PostgreSQL backend with leased locks, fenced writes and every version kept ([`postgres`]).

pub mod backend;
pub mod local;
pub mod postgres;

pub use coffer_core::state::model;
pub use model::{JournalEntry, State, StateError, StateObject};
