//! Recorded state: the pure data model and journal replay ([`model`]), and the local
//! directory backend with atomic writes, lock and journal ([`local`]).

pub mod local;
pub mod model;

pub use model::{JournalEntry, State, StateError, StateObject};
