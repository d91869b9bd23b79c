//! Use cases that the commands call: each one owns a whole operation's life (its job in the
//! catalog, its states, what it records at the end), so that the CLI only parses arguments and
//! prints. [`session`]: what a tick works from; [`restore`]: the life of a restore job;
//! [`compliance`]: the applied controls over the catalog.

pub mod compliance;
pub mod restore;
pub mod session;
