//! `coffer apply` and `coffer destroy`: the plan (computed, or a saved one checked for freshness), confirmation, the steps with their progress, and the state written at the end.

use super::args::{LockArgs, VarArgs};
use super::context::{CmdError, Ctx};
use super::discovery;
use super::plan::*;
use super::Exit;
use crate::apply::{self, Event, LocalEffects};
use crate::jobs::DeletedBy;
use crate::plan::{Mode, Operation, Plan};
use crate::render::{self, Style};
use crate::state::backend::Backend;
use crate::state::State;
use chrono::Utc;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Asks for a literal `yes` on the terminal.
pub(super) fn confirm(question: &str, detail: &str) -> Result<bool, CmdError> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "apply needs confirmation, but there is no terminal to ask on; pass --auto-approve to apply without asking, or save a plan with `coffer plan --out FILE` and run `coffer apply FILE`"
                .into(),
        );
    }
    ask(question, detail)
}

/// Asks `question` on the terminal and reads the answer: only `yes` approves.
pub(super) fn ask(question: &str, detail: &str) -> Result<bool, CmdError> {
    print!(
        "{question}\n  {detail}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim() == "yes")
}

pub(super) fn verb(op: Operation) -> (&'static str, &'static str) {
    match op {
        Operation::Create => ("Creating...", "Creation complete"),
        Operation::Update => ("Modifying...", "Modifications complete"),
        Operation::Delete => ("Destroying...", "Destruction complete"),
    }
}

/// Gives each applied vault whose repository was deleted outside coffer a new, empty one,
/// and marks the points the old one held DELETED: their data is gone.
pub(super) fn recreate_missing_repositories(
    ctx: &Ctx,
    backend: &Backend,
    state: &State,
    out: &mut impl Write,
) -> Result<(), CmdError> {
    let effects = LocalEffects {
        config_dir: ctx.dir.clone(),
        purged: Vec::new(),
    };
    let recreated = effects.recreate_missing_repositories(state)?;
    if recreated.is_empty() {
        return Ok(());
    }
    let mut catalog = ctx.catalog(backend)?;
    for (vault, location) in recreated {
        let lost = catalog
            .forget_vault_points(&vault, Utc::now(), DeletedBy::Outside)
            .map_err(|e| e.to_string())?;
        let _ = writeln!(
            out,
            "vault.{vault}: its repository at {location} was missing; initialised a new, empty one ({lost} recovery point{} recorded in the old one marked DELETED)",
            if lost == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// What the user approved up front.
pub struct Approval {
    /// Apply without asking.
    pub auto_approve: bool,
    /// How many existing recovery points the plan may delete (`--allow-deletions N`).
    pub allow_deletions: Option<usize>,
}

/// Refuses a plan whose forecast deletes more existing points than `--allow-deletions`
/// allows, naming them per vault.
fn check_deletions(plan: &Plan, allowed: Option<usize>) -> Result<(), CmdError> {
    let n = plan.recovery_points.delete.len();
    if n == 0 || allowed.is_some_and(|a| a >= n) {
        return Ok(());
    }
    let mut per_vault: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in &plan.recovery_points.delete {
        *per_vault.entry(e.vault.as_str()).or_default() += 1;
    }
    let vaults: Vec<String> = per_vault
        .iter()
        .map(|(v, n)| format!("{n} in vault.{v}"))
        .collect();
    Err(format!(
        "this plan deletes {n} existing recovery point{} ({}), shown under \"Recovery point changes\"{}\n  If that is intended, apply it with --allow-deletions {n}.",
        if n == 1 { "" } else { "s" },
        vaults.join(", "),
        match allowed {
            Some(a) => format!("; --allow-deletions {a} allows fewer"),
            None => String::new(),
        }
    ))
}

pub fn apply(
    ctx: &Ctx,
    plan_file: Option<PathBuf>,
    approval: Approval,
    destroy: bool,
    refresh: bool,
    vars: &VarArgs,
    lock_args: &LockArgs,
) -> Result<Exit, CmdError> {
    let (config, loaded) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config))?;
    let guard = lock(
        ctx,
        &backend,
        if destroy { "destroy" } else { "apply" },
        lock_args,
    )?;
    let current = backend.read().map_err(|e| e.to_string())?;
    let replayed = current.as_ref().is_some_and(|l| l.replayed_journal);
    let current_state = current.map(|l| l.state);

    let saved = plan_file.is_some();
    let plan = match &plan_file {
        Some(path) => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                ctx.dir.join(path)
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the plan file {}: {e}", path.display()))?;
            let plan = Plan::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            check_fresh(&plan, current_state.as_ref(), &path)?;
            plan
        }
        None => {
            let mode = if destroy { Mode::Destroy } else { Mode::Normal };
            let inventory =
                discovery::for_plan(ctx, &config, current_state.as_ref(), refresh && !destroy)?;
            compute(
                ctx,
                &config,
                &loaded,
                &backend,
                current_state.as_ref(),
                mode,
                inventory.as_ref(),
            )?
        }
    };

    let refused = check_deletions(&plan, approval.allow_deletions);
    let mut out = std::io::stdout().lock();
    if refused.is_err() && !saved {
        let _ = out.write_all(
            render::render_text(
                &plan,
                Style {
                    color: ctx.color_out,
                },
            )
            .as_bytes(),
        );
        let _ = out.flush();
    }
    refused?;
    if !destroy {
        if let Some(state) = &current_state {
            recreate_missing_repositories(ctx, &backend, state, &mut out)?;
        }
    }
    if !plan.has_changes() {
        if replayed {
            if let Some(s) = &current_state {
                backend.write(&guard, s).map_err(|e| e.to_string())?;
            }
        }
        let _ = writeln!(out, "{}", render::summary_line(&plan.summary));
        return Ok(Exit::Success);
    }
    if !saved {
        let _ = out.write_all(
            render::render_text(
                &plan,
                Style {
                    color: ctx.color_out,
                },
            )
            .as_bytes(),
        );
        let _ = writeln!(out);
        let _ = out.flush();
        if !approval.auto_approve {
            drop(out);
            let (q, d) = if destroy {
                (
                    "Do you really want to destroy all objects?",
                    "coffer will destroy all the objects shown above; repository data is kept.",
                )
            } else {
                (
                    "Do you want to perform these actions?",
                    "coffer will perform the actions described above.",
                )
            };
            if !confirm(q, d)? {
                return Err(if destroy {
                    "destroy cancelled".into()
                } else {
                    "apply cancelled".into()
                });
            }
            out = std::io::stdout().lock();
            let _ = writeln!(out);
        }
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        let installed = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                eprintln!("\nTwo interrupts received; exiting now. Every finished step is recorded in the journal.");
                std::process::exit(130);
            }
            eprintln!("\nInterrupt received: stopping after the current step. Press Ctrl-C again to stop at once.");
        });
        if let Err(e) = installed {
            // apply still journals every step, so even a hard stop leaves true state
            ctx.waiting(&format!(
                "Warning: cannot handle Ctrl-C ({e}); an interrupt stops apply at once, and the journal keeps every finished step"
            ));
        }
    }

    let mut state = match current_state {
        Some(s) => s,
        None => State::new(uuid::Uuid::new_v4().to_string()),
    };
    if replayed {
        backend.write(&guard, &state).map_err(|e| e.to_string())?;
    }
    let mut journal = backend
        .begin_journal(&guard, &state, Utc::now())
        .map_err(|e| e.to_string())?;
    let catalog = ctx.catalog_read_only(&backend)?;
    let mut effects = LocalEffects {
        config_dir: ctx.dir.clone(),
        purged: Vec::new(),
    };
    let style = Style {
        color: ctx.color_out,
    };
    let report = {
        let out = &mut out;
        let mut progress = |e: Event| match e {
            Event::Started { address, operation } => {
                let _ = writeln!(out, "{}: {}", style.bold(&address), verb(operation).0);
            }
            Event::Finished {
                address,
                operation,
                id,
            } => {
                let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
                let _ = writeln!(out, "{}: {}{id}", style.bold(&address), verb(operation).1);
            }
            Event::Failed { .. } => {}
        };
        apply::run(
            &plan,
            &mut state,
            &mut journal,
            &mut apply::Environment {
                effects: &mut effects,
                catalog: &*catalog,
                clock: &Utc::now,
                interrupted: &interrupted,
            },
            &mut progress,
        )
    };
    drop(journal);
    // deleted repositories stay deleted whatever happened after: record that first
    if !effects.purged.is_empty() {
        // the points in deleted repositories are gone: say so in the catalog
        let mut catalog = ctx.catalog(&backend)?;
        for vault in &effects.purged {
            catalog
                .forget_vault_points(vault, Utc::now(), DeletedBy::ForceDestroy)
                .map_err(|e| e.to_string())?;
        }
    }
    let report = report.map_err(|e| e.to_string())?;
    match apply::finish::finish(&plan, &mut state, &report) {
        apply::finish::Finish::Write => backend.write(&guard, &state).map_err(|e| e.to_string())?,
        apply::finish::Finish::Unchanged => backend
            .discard_journal(&guard, &state)
            .map_err(|e| e.to_string())?,
    }
    drop(guard);
    let summary = format!(
        "Resources: {} added, {} changed, {} destroyed.",
        report.added, report.changed, report.destroyed
    );
    if let Some(err) = report.error {
        let _ = writeln!(out);
        let _ = out.flush();
        return Err(format!(
            "{err}\n  {summary} {} step(s) not run; the state records everything that was done.",
            report.skipped
        ));
    }
    if report.interrupted {
        let _ = out.flush();
        return Err(format!("apply interrupted: {summary} {} step(s) not run; the state records everything that was done.", report.skipped));
    }
    if !plan.recovery_points.delete.is_empty() {
        // approved deletions do not count against the tick's mass-deletion breaker
        let ids: Vec<String> = plan
            .recovery_points
            .delete
            .iter()
            .map(|e| e.id.clone())
            .collect();
        ctx.catalog(&backend)?
            .approve_deletions(&ids, Utc::now())
            .map_err(|e| e.to_string())?;
    }
    let done = if destroy {
        "Destroy complete!"
    } else {
        "Apply complete!"
    };
    let _ = writeln!(out, "\n{} {summary}", style.green(done));
    if let Some(c) = &plan.coverage {
        if !c.gained.is_empty() || !c.lost.is_empty() {
            let _ = writeln!(
                out,
                "Protection recorded: {} gained, {} lost.",
                c.gained.len(),
                c.lost.len()
            );
        }
    }
    Ok(Exit::Success)
}

/// Refuses a saved plan made against another state than the current one.
pub(super) fn check_fresh(
    plan: &Plan,
    state: Option<&State>,
    path: &std::path::Path,
) -> Result<(), CmdError> {
    let now_lineage = state.map(|s| s.lineage.clone());
    let now_serial = state.map_or(0, |s| s.serial);
    let fresh = match (&plan.state.lineage, &now_lineage) {
        (None, None) => true,
        (None, Some(_)) => now_serial == 0,
        (Some(a), Some(b)) => a == b && plan.state.serial == now_serial,
        (Some(_), None) => false,
    };
    if fresh {
        return Ok(());
    }
    let was = match &plan.state.lineage {
        Some(l) => format!("serial {} of lineage {l}", plan.state.serial),
        None => "no state at all".to_string(),
    };
    let is = match &now_lineage {
        Some(l) => format!("serial {now_serial} of lineage {l}"),
        None => "no state".to_string(),
    };
    Err(format!(
        "the saved plan {} is stale: it was made against {was}, but the state is now at {is}\n  The state changed after the plan was made (another apply ran). Run `coffer plan --out FILE` again and review the new plan.",
        path.display()
    ))
}
