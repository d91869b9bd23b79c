//! Recorded state's pure data model and journal replay ([`model`]); the backends that store
//! it live in the shell.

pub mod model;

pub use model::{JournalEntry, State, StateError, StateObject};
