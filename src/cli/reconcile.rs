//! `coffer plan`, `coffer apply` and `coffer destroy`: load configuration and state under
//! the state lock, compute (or read) the plan, render it, and apply it step by step.

use super::args::{LockArgs, PlanFormat, VarArgs};
use super::context::{CmdError, Ctx};
use super::discovery;
use super::Exit;
use crate::apply::{self, Event, LocalEffects};
use crate::catalog::{Catalog, SqliteCatalog};
use crate::config::model::Config;
use crate::diag::Diagnostic;
use crate::inventory::Inventory;
use crate::objects;
use crate::plan::InventorySource;
use crate::plan::{self, Mode, Operation, Plan, PlanError, PlanInput};
use crate::render::{self, Style};
use crate::state::local::{LocalBackend, StateLock};
use crate::state::State;
use chrono::Utc;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct PlanOptions {
    pub detailed_exitcode: bool,
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    pub mode: Mode,
    pub refresh: bool,
    pub vars: VarArgs,
    pub lock: LockArgs,
}

fn lock(
    ctx: &Ctx,
    backend: &LocalBackend,
    operation: &str,
    args: &LockArgs,
) -> Result<StateLock, CmdError> {
    backend
        .lock(operation, args.lock_timeout, |holder| {
            if !args.lock_timeout.is_zero() {
                ctx.waiting(&format!(
                    "Waiting up to {:?} for the state lock held by {holder}...",
                    args.lock_timeout
                ));
            }
        })
        .map_err(|e| e.to_string())
}

fn plan_errors(
    ctx: &Ctx,
    config: &Config,
    loaded: &crate::config::Loaded,
    errors: Vec<PlanError>,
) -> CmdError {
    let diags: Vec<Diagnostic> = errors
        .iter()
        .map(|e| {
            let mut d = Diagnostic::error("coffer::vault_not_empty", e.message.clone())
                .with_help(e.help.clone());
            if let Some(v) = config.vaults.get(e.address.name()) {
                d = d.at(v.span.clone(), "holds recovery points");
            }
            d
        })
        .collect();
    ctx.print_diagnostics(&diags, &loaded.sources);
    format!(
        "the plan cannot be made ({} problem{})",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )
}

/// A warning at each vault whose repository key cannot be found: apply needs it to initialise
/// the repository, and backups and restores to open it, so the plan says so before any step
/// runs.
fn missing_keys(ctx: &Ctx, config: &Config, desired: &[objects::ObjectSpec]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for spec in desired {
        let crate::address::Address::Vault(name) = &spec.address else {
            continue;
        };
        let Ok(Some(repo)) =
            crate::repository::vault_repository_from_env(name, &spec.attributes, &ctx.dir)
        else {
            continue;
        };
        let Err(why) = repo.password else { continue };
        let mut d = Diagnostic::warning(
            "coffer::vault_key_missing",
            format!("the key of vault `{name}`'s repository cannot be found: {why}"),
        )
        .with_help("set COFFER_VAULT_PASSWORD (or COFFER_VAULT_PASSWORD_FILE), or give the vault password_env or password_file; apply needs the key to initialise the repository, and backups and restores to open it");
        if let Some(v) = config.vaults.get(name) {
            d = d.at(v.span.clone(), "its repository needs a key");
        }
        out.push(d);
    }
    out
}

/// Computes a plan from configuration and (already loaded) state.
fn compute(
    ctx: &Ctx,
    config: &Config,
    loaded: &crate::config::Loaded,
    backend: &LocalBackend,
    state: Option<&State>,
    mode: Mode,
    inventory: Option<&(Inventory, InventorySource)>,
) -> Result<Plan, CmdError> {
    let desired = objects::desired(config);
    if mode != Mode::Destroy {
        ctx.print_diagnostics(&missing_keys(ctx, config, &desired), &loaded.sources);
    }
    let catalog = ctx.catalog_read_only(backend)?;
    let counts = catalog.vault_points().map_err(|e| e.to_string())?;
    plan::compute(&PlanInput {
        mode,
        desired: &desired,
        state,
        recovery_points: &counts,
        now: Utc::now(),
        inventory: inventory.map(|(i, s)| (i, *s)),
    })
    .map_err(|errors| plan_errors(ctx, config, loaded, errors))
}

fn write_plan_file(path: &std::path::Path, plan: &Plan) -> Result<(), CmdError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, plan.to_json_text())
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write the plan to {}: {e}", path.display()))
}

pub fn plan(ctx: &Ctx, opts: PlanOptions) -> Result<Exit, CmdError> {
    let (config, loaded) = ctx.load(&opts.vars)?;
    let backend = ctx.backend(Some(&config));
    let guard = lock(ctx, &backend, "plan", &opts.lock)?;
    let state = backend.read().map_err(|e| e.to_string())?;
    let state = state.as_ref().map(|s| &s.state);
    let refresh = opts.refresh && opts.mode != Mode::Destroy;
    let inventory = discovery::for_plan(ctx, &config, state, refresh)?;
    let plan = compute(
        ctx,
        &config,
        &loaded,
        &backend,
        state,
        opts.mode,
        inventory.as_ref(),
    )?;
    drop(guard);

    let mut stdout = std::io::stdout().lock();
    let text = match opts.format {
        PlanFormat::Json => plan.to_json_text(),
        PlanFormat::Markdown => render::render_markdown(&plan),
        PlanFormat::Text => render::render_text(
            &plan,
            Style {
                color: ctx.color_out,
            },
        ),
    };
    let _ = stdout.write_all(text.as_bytes());
    if let Some(out) = &opts.out {
        let out = if out.is_absolute() {
            out.clone()
        } else {
            ctx.dir.join(out)
        };
        write_plan_file(&out, &plan)?;
        let msg = format!(
            "\nSaved the plan to {}. To apply exactly this plan, run: coffer apply {}\n",
            out.display(),
            out.display()
        );
        if opts.format == PlanFormat::Text {
            let _ = stdout.write_all(msg.as_bytes());
        } else {
            eprint!("{msg}");
        }
    }
    let _ = stdout.flush();
    Ok(if opts.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Asks for a literal `yes` on the terminal.
fn confirm(question: &str, detail: &str) -> Result<bool, CmdError> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "apply needs confirmation, but there is no terminal to ask on; pass --auto-approve to apply without asking, or save a plan with `coffer plan --out FILE` and run `coffer apply FILE`"
                .into(),
        );
    }
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

fn verb(op: Operation) -> (&'static str, &'static str) {
    match op {
        Operation::Create => ("Creating...", "Creation complete"),
        Operation::Update => ("Modifying...", "Modifications complete"),
        Operation::Delete => ("Destroying...", "Destruction complete"),
    }
}

/// Gives each applied vault whose repository was deleted outside coffer a new, empty one,
/// and marks the points the old one held DELETED: their data is gone.
fn recreate_missing_repositories(
    ctx: &Ctx,
    backend: &LocalBackend,
    state: &State,
    out: &mut impl Write,
) -> Result<(), CmdError> {
    let effects = LocalEffects {
        config_dir: ctx.dir.clone(),
        purged: Vec::new(),
    };
    for (vault, location) in effects.recreate_missing_repositories(state)? {
        let mut catalog =
            SqliteCatalog::open(&backend.dir().join("catalog.db")).map_err(|e| e.to_string())?;
        let lost = catalog
            .forget_vault_points(&vault)
            .map_err(|e| e.to_string())?;
        let _ = writeln!(
            out,
            "vault.{vault}: its repository at {location} was missing; initialised a new, empty one ({lost} recovery point{} recorded in the old one marked DELETED)",
            if lost == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

pub fn apply(
    ctx: &Ctx,
    plan_file: Option<PathBuf>,
    auto_approve: bool,
    destroy: bool,
    refresh: bool,
    vars: &VarArgs,
    lock_args: &LockArgs,
) -> Result<Exit, CmdError> {
    let (config, loaded) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config));
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

    let mut out = std::io::stdout().lock();
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
        if !auto_approve {
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
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                eprintln!("\nTwo interrupts received; exiting now. Every finished step is recorded in the journal.");
                std::process::exit(130);
            }
            eprintln!("\nInterrupt received: stopping after the current step. Press Ctrl-C again to stop at once.");
        });
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
                catalog: &catalog,
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
        let mut catalog =
            SqliteCatalog::open(&backend.dir().join("catalog.db")).map_err(|e| e.to_string())?;
        for vault in &effects.purged {
            catalog
                .forget_vault_points(vault)
                .map_err(|e| e.to_string())?;
        }
    }
    let report = report.map_err(|e| e.to_string())?;
    match apply::finish::finish(&plan, &mut state, &report) {
        apply::finish::Finish::Write => backend.write(&guard, &state).map_err(|e| e.to_string())?,
        apply::finish::Finish::Unchanged => {
            let _ = std::fs::remove_file(backend.journal_path());
        }
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
fn check_fresh(plan: &Plan, state: Option<&State>, path: &std::path::Path) -> Result<(), CmdError> {
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
