//! The configuration language: loading `*.hcl` texts, evaluating expressions, lowering to the
//! typed model with diagnostics, and canonical formatting. Pure: texts come in as arguments.

pub mod duration;
pub mod eval;
pub mod fmt;
pub mod functions;
pub mod lower;
pub mod model;
pub mod names;
pub mod nesting;
pub mod suggest;
pub mod variables;

pub use lower::{load, ConfigInput, Loaded};
