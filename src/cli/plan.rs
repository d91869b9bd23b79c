//! `coffer plan`: configuration and state loaded under the state lock, the plan computed and
//! rendered (text, pull-request markdown or JSON), and saved with `--out`; `apply` computes its
//! plan the same way.

use super::args::{LockArgs, PlanFormat, VarArgs};
use super::context::{CmdError, Ctx};
use super::discovery;
use super::Exit;
use crate::config::model::Config;
use crate::diag::Diagnostic;
use crate::inventory::Inventory;
use crate::objects;
use crate::plan::InventorySource;
use crate::plan::{self, Mode, Plan, PlanError, PlanInput};
use crate::render::{self, Style};
use crate::state::backend::{Backend, Lock};
use crate::state::State;
use chrono::Utc;
use std::io::Write;
use std::path::PathBuf;

pub struct PlanOptions {
    pub detailed_exitcode: bool,
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    pub mode: Mode,
    pub refresh: bool,
    pub vars: VarArgs,
    pub lock: LockArgs,
}

pub(super) fn lock(
    ctx: &Ctx,
    backend: &Backend,
    operation: &str,
    args: &LockArgs,
) -> Result<Lock, CmdError> {
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

pub(super) fn plan_errors(
    ctx: &Ctx,
    config: &Config,
    loaded: &crate::config::Loaded,
    errors: Vec<PlanError>,
) -> CmdError {
    let diags: Vec<Diagnostic> = errors
        .iter()
        .map(|e| {
            let mut d = Diagnostic::error(e.code, e.message.clone()).with_help(e.help.clone());
            match config.vaults.get(e.address.name()) {
                Some(v) if e.at_lock => {
                    let span = v.lock.as_ref().map_or(&v.span, |l| &l.span);
                    d = d.at(span.clone(), "a fixed compliance lock");
                }
                Some(v) => d = d.at(v.span.clone(), "holds recovery points"),
                None => {}
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
pub(super) fn missing_keys(
    ctx: &Ctx,
    config: &Config,
    desired: &[objects::ObjectSpec],
) -> Vec<Diagnostic> {
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
        if repo.wrapped_by.is_some() {
            continue; // apply generates the key and wraps it with the vault's KMS key
        }
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
pub(super) fn compute(
    ctx: &Ctx,
    config: &Config,
    loaded: &crate::config::Loaded,
    backend: &Backend,
    state: Option<&State>,
    mode: Mode,
    inventory: Option<&(Inventory, InventorySource)>,
) -> Result<Plan, CmdError> {
    let desired = objects::desired(config);
    if mode != Mode::Destroy {
        ctx.print_diagnostics(&missing_keys(ctx, config, &desired), &loaded.sources);
        if let Some((inventory, InventorySource::Refreshed)) = inventory {
            let warnings = super::copy_checks::unshareable_keys(config, &desired, inventory);
            ctx.print_diagnostics(&warnings, &loaded.sources);
        }
    }
    let catalog = ctx.catalog_read_only(backend)?;
    let counts = catalog.vault_points().map_err(|e| e.to_string())?;
    // the forecast needs every live point, read only when a lifecycle policy changes
    let mut points = crate::jobs::live::LivePoints::default();
    if plan::forecast::changed_policies(mode, state, &desired).is_some() {
        catalog
            .live_points(&Default::default(), &mut points)
            .map_err(|e| e.to_string())?;
    }
    plan::compute(&PlanInput {
        mode,
        desired: &desired,
        state,
        recovery_points: &counts,
        points: &points,
        now: Utc::now(),
        inventory: inventory.map(|(i, s)| (i, *s)),
    })
    .map_err(|errors| plan_errors(ctx, config, loaded, errors))
}

pub(super) fn write_plan_file(path: &std::path::Path, plan: &Plan) -> Result<(), CmdError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, plan.to_json_text())
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write the plan to {}: {e}", path.display()))
}

pub fn plan(ctx: &Ctx, opts: PlanOptions) -> Result<Exit, CmdError> {
    let (config, loaded) = ctx.load(&opts.vars)?;
    let backend = ctx.backend(Some(&config))?;
    let guard = lock(ctx, &backend, "plan", &opts.lock)?;
    let state = backend.read().map_err(|e| e.to_string())?;
    let state = state.as_ref().map(|s| &s.state);
    let refresh = opts.refresh && opts.mode != Mode::Destroy;
    let inventory = discovery::for_plan(ctx, &config, state, refresh)?;
    let mut plan = compute(
        ctx,
        &config,
        &loaded,
        &backend,
        state,
        opts.mode,
        inventory.as_ref(),
    )?;
    if opts.mode != Mode::Destroy {
        let catalog = ctx.catalog_read_only(&backend)?;
        plan = plan.with_drift(super::drift::find(ctx, &config, state, &*catalog, refresh)?);
    }
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
    Ok(
        if opts.detailed_exitcode && (plan.has_changes() || plan.has_drift()) {
            Exit::Changes
        } else {
            Exit::Success
        },
    )
}
