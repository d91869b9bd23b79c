//! Apply: executes a plan's steps verbatim, in order, through an [`Effects`] implementation,
//! journaling each finished step so an interrupted apply leaves true state for everything
//! that was done. Stops cleanly between steps when interrupted.

pub mod effects;
pub mod finish;

use crate::catalog::Catalog;
use crate::plan::{Operation, Plan, Step};
use crate::state::backend::Journal;
use crate::state::local::BackendError;
use crate::state::{JournalEntry, State, StateObject};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};

pub use effects::{Effects, LocalEffects};

/// What happened to one step, for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started {
        address: String,
        operation: Operation,
    },
    Finished {
        address: String,
        operation: Operation,
        id: Option<String>,
    },
    Failed {
        address: String,
        operation: Operation,
        error: String,
    },
}

/// The outcome of an apply.
#[derive(Debug, Default)]
pub struct Report {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// Steps not run because of an error or an interruption.
    pub skipped: usize,
    pub error: Option<String>,
    pub interrupted: bool,
}

/// What apply acts through: effects outside coffer's records, the catalog (to re-check that
/// vaults being destroyed hold no recovery points), the clock, and the interruption flag.
pub struct Environment<'a> {
    pub effects: &'a mut dyn Effects,
    pub catalog: &'a dyn Catalog,
    pub clock: &'a dyn Fn() -> DateTime<Utc>,
    pub interrupted: &'a AtomicBool,
}

/// Runs the steps of `plan` against `state`, journaling each finished step.
pub fn run(
    plan: &Plan,
    state: &mut State,
    journal: &mut Journal,
    env: &mut Environment<'_>,
    progress: &mut dyn FnMut(Event),
) -> Result<Report, BackendError> {
    let mut report = Report::default();
    // COFFER_FAILPOINT=apply-after-step-N kills the process once step N is journaled
    let kill_after = crate::failpoint::step("apply-after-step");
    for (i, step) in plan.steps.iter().enumerate() {
        if env.interrupted.load(Ordering::SeqCst) {
            report.interrupted = true;
            report.skipped = plan.steps.len() - i;
            break;
        }
        let address = step.address.to_string();
        progress(Event::Started {
            address: address.clone(),
            operation: step.operation,
        });
        match run_step(step, state, env) {
            Ok((entry, id)) => {
                journal.append(&entry)?;
                if kill_after == Some(i + 1) {
                    crate::failpoint::abort_now(&format!("apply-after-step-{}", i + 1));
                }
                state.apply_entry(&entry);
                match step.operation {
                    Operation::Create => report.added += 1,
                    Operation::Update => report.changed += 1,
                    Operation::Delete => report.destroyed += 1,
                }
                progress(Event::Finished {
                    address,
                    operation: step.operation,
                    id,
                });
            }
            Err(error) => {
                progress(Event::Failed {
                    address: address.clone(),
                    operation: step.operation,
                    error: error.clone(),
                });
                report.error = Some(format!("{address}: {error}"));
                report.skipped = plan.steps.len() - i - 1;
                break;
            }
        }
    }
    journal.sync()?;
    Ok(report)
}

fn run_step(
    step: &Step,
    state: &State,
    env: &mut Environment<'_>,
) -> Result<(JournalEntry, Option<String>), String> {
    let existing = state.get(&step.address);
    match step.operation {
        Operation::Create => {
            let spec = step
                .object
                .as_ref()
                .ok_or("the plan has no object for this create step")?;
            if existing.is_some() {
                return Err("already exists in state; the plan is out of date".into());
            }
            let id = env.effects.create(spec)?;
            let now = (env.clock)();
            let object = StateObject {
                address: spec.address.clone(),
                kind: spec.kind,
                id: id.clone(),
                attributes: spec.attributes.clone(),
                depends_on: spec.depends_on.clone(),
                created_at: now,
                updated_at: now,
                lock_applied_at: vault_lock(spec.kind, &spec.address, &spec.attributes)
                    .map(|_| now),
            };
            Ok((JournalEntry::Put { object }, Some(id)))
        }
        Operation::Update => {
            let spec = step
                .object
                .as_ref()
                .ok_or("the plan has no object for this update step")?;
            let old = existing.ok_or("not in state; the plan is out of date")?;
            env.effects.update(spec, old)?;
            let now = (env.clock)();
            // a lock's grace period counts from when the lock, as it is, was applied
            let lock_applied_at = match (
                vault_lock(spec.kind, &spec.address, &spec.attributes),
                vault_lock(old.kind, &old.address, &old.attributes),
            ) {
                (Some(new), Some(was)) if new == was => {
                    old.lock_applied_at.or(Some(old.created_at))
                }
                (Some(_), _) => Some(now),
                (None, _) => None,
            };
            let object = StateObject {
                attributes: spec.attributes.clone(),
                depends_on: spec.depends_on.clone(),
                updated_at: now,
                lock_applied_at,
                ..old.clone()
            };
            Ok((JournalEntry::Put { object }, Some(old.id.clone())))
        }
        Operation::Delete => {
            let old = existing.ok_or("not in state; the plan is out of date")?;
            if step.address.kind() == crate::address::Kind::Vault {
                // Re-checked at apply time: a backup may have landed since the plan was made.
                let points = env.catalog.vault_points().map_err(|e| e.to_string())?;
                let name = step.address.name();
                let points = points.get(name).copied().unwrap_or_default();
                // unreadable attributes refuse as a vault without force_destroy
                let recorded: crate::objects::VaultAttrs =
                    crate::objects::attrs::read(&old.address, &old.attributes).unwrap_or_default();
                if let Some((message, help)) = crate::plan::vault_destroy_refusal(
                    name,
                    &recorded,
                    points,
                    (env.clock)(),
                    "destroy",
                ) {
                    return Err(format!("{message}\n  {help}"));
                }
            }
            env.effects.delete(old)?;
            Ok((
                JournalEntry::Remove {
                    address: step.address.clone(),
                },
                None,
            ))
        }
    }
}

/// The lock of a vault's attributes (declared or recorded), if it is a vault with one.
fn vault_lock(
    kind: crate::address::Kind,
    address: &crate::address::Address,
    attributes: &serde_json::Value,
) -> Option<crate::objects::LockAttrs> {
    if kind != crate::address::Kind::Vault {
        return None;
    }
    crate::objects::attrs::read::<crate::objects::VaultAttrs>(address, attributes)
        .ok()?
        .lock
}
