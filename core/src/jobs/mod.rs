//! Backup jobs (pure part): the job states AWS Backup defines, the transitions allowed
//! between them with the time of each, and the window rules that expire a job that did not
//! start in time and abort one that did not finish in time ([`state`]); and which rule runs are
//! due ([`due`](mod@due)); and the tags and lifecycle a job gives its recovery point
//! ([`options`]); and whether a successful backup looks wrong ([`suspicious`]); and until when
//! a vault lock protects a point ([`vault_lock`]); and which points a `keep` policy keeps
//! ([`retention`]); and what lifecycle may do to a point under locks, holds and the floor,
//! with the mass-deletion breaker ([`expiry`]).

pub mod due;
pub mod expiry;
pub mod kind;
pub mod lifecycle;
pub mod live;
pub mod options;
pub mod record;
pub mod restore_metadata;
pub mod restore_test;
pub mod retention;
pub mod state;
pub mod suspicious;
pub mod vault_lock;

pub use due::{due, rules_from_objects, Due, RuleInfo};
pub use kind::{DeletedBy, JobKind, PointStatus, StorageClass};
pub use options::{CopyOptions, JobOptions};
pub use state::{forced_transition, History, JobState, TransitionError, Windows};

/// The tag every recovery point (snapshot, AMI, repository snapshot) carries with the id of
/// the job that made it; a job that crashed finds its earlier attempt's work by it.
pub const JOB_TAG: &str = "coffer:job";
