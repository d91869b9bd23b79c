//! The `coffer` command line: parses arguments, dispatches to commands, and maps outcomes to
//! exit codes (0 success, 1 error, 2 changes present with `--detailed-exitcode`, 3 files
//! need formatting with `fmt --check`).

pub mod args;
mod context;
mod discovery;
mod drift;
pub mod json;
mod logging;
mod runner;
pub mod starter;

// one module per command
mod apply;
mod backup;
mod completions;
mod copy;
mod copy_checks;
mod daemon;
mod fmt;
mod force_unlock;
mod init;
mod inventory;
mod jobs;
mod plan;
mod recovery_points;
mod report;
mod restore;
mod restore_aws;
mod restore_test;
mod run;
mod schedule;
mod serve;
mod show;
mod state;
mod validate;
mod vault;
mod version;
mod workers;

use args::{
    BackupCommand, Cli, Command, CopyCommand, JobsCommand, RecoveryPointsCommand, RestoreCommand,
    RestoreTestCommand, StateCommand, VaultCommand, WorkersCommand,
};
use clap::Parser;
use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Error = 1,
    Changes = 2,
    NeedsFormatting = 3,
    /// `report controls|resources`: a control is not met.
    NonCompliant = 4,
    /// Stopped by Ctrl-C or SIGTERM before the work finished (128 + SIGINT, as shells report).
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Runs coffer with the process arguments.
pub fn main() -> ExitCode {
    let args = args::normalize_args(std::env::args_os());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    Exit::Error.into()
                }
                _ => Exit::Error.into(),
            };
        }
    };
    run(cli).into()
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Exit {
    let default_level = if matches!(cli.command, Command::Daemon { .. } | Command::Worker { .. }) {
        args::LogLevel::Info
    } else {
        args::LogLevel::Warn
    };
    if let Err(e) = logging::init(cli.log_level, cli.log_format, default_level) {
        eprintln!("Error: {e}");
        return Exit::Error;
    }
    let ctx = match context::Ctx::new(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return Exit::Error;
        }
    };
    let result = match cli.command {
        Command::Validate { json, vars } => validate::validate(&ctx, json, &vars),
        Command::Plan {
            detailed_exitcode,
            out,
            json,
            format,
            destroy,
            drift_only,
            refresh,
            vars,
            lock,
        } => {
            let format = if json {
                args::PlanFormat::Json
            } else {
                format.unwrap_or(args::PlanFormat::Text)
            };
            let mode = if destroy {
                crate::plan::Mode::Destroy
            } else if drift_only {
                crate::plan::Mode::DriftOnly
            } else {
                crate::plan::Mode::Normal
            };
            plan::plan(
                &ctx,
                plan::PlanOptions {
                    detailed_exitcode,
                    out,
                    format,
                    mode,
                    refresh: refresh.refresh,
                    vars,
                    lock,
                },
            )
        }
        Command::Apply {
            plan_file,
            auto_approve,
            allow_deletions,
            refresh,
            vars,
            lock,
        } => apply::apply(
            &ctx,
            plan_file,
            apply::Approval {
                auto_approve,
                allow_deletions,
            },
            false,
            refresh.refresh,
            &vars,
            &lock,
        ),
        Command::Destroy {
            auto_approve,
            allow_deletions,
            vars,
            lock,
        } => apply::apply(
            &ctx,
            None,
            apply::Approval {
                auto_approve,
                allow_deletions,
            },
            true,
            false,
            &vars,
            &lock,
        ),
        Command::Inventory {
            unprotected,
            resource_type,
            tags,
            json,
            vars,
        } => inventory::inventory(
            &ctx,
            inventory::Options {
                unprotected,
                resource_type,
                tags,
                json,
                vars,
            },
        ),
        Command::Schedule {
            from,
            until,
            limit,
            rule,
            json,
            vars,
        } => schedule::schedule(
            &ctx,
            schedule::Options {
                from,
                until,
                limit,
                rules: rule,
                json,
                vars,
            },
        ),
        Command::Run {
            at,
            json,
            runner: r,
            vars,
        } => run::run(&ctx, at, json, &r, &vars),
        Command::Daemon {
            serve,
            runner: r,
            vars,
        } => daemon::daemon(&ctx, &r, &vars, &serve, None),
        Command::Worker {
            name,
            shutdown_timeout,
            lease,
            serve,
            runner: r,
            vars,
        } => daemon::worker(&ctx, &r, &vars, &serve, name, shutdown_timeout, lease),
        Command::Serve {
            listen,
            auth,
            at,
            vars,
        } => serve::serve(&ctx, &listen, &auth, at.as_deref(), &vars),
        Command::Workers(WorkersCommand::List { json }) => workers::list(&ctx, json),
        Command::Report(r) => report::report(&ctx, r),
        Command::Backup(BackupCommand::Start {
            resource,
            vault,
            delete_after,
            json,
            runner: r,
            vars,
        }) => backup::backup_start(&ctx, &resource, &vault, delete_after, json, &r, &vars),
        Command::Copy(CopyCommand::Start {
            recovery_point,
            vault,
            delete_after,
            json,
            runner: r,
            vars,
        }) => copy::copy_start(&ctx, &recovery_point, &vault, delete_after, json, &r, &vars),
        Command::Vault(VaultCommand::Check {
            name,
            read_data_subset,
            json,
            vars,
        }) => vault::vault_check(&ctx, &name, read_data_subset.as_deref(), json, &vars),
        Command::Vault(VaultCommand::Prune {
            name,
            json,
            lock_timeout,
            vars,
        }) => vault::vault_prune(&ctx, &name, json, lock_timeout, &vars),
        Command::Restore(RestoreCommand::Start {
            recovery_point,
            target,
            set,
            dry_run,
            no_wait,
            copy_source_tags,
            path,
            overwrite,
            json,
            lock,
            vars,
        }) => restore::start(
            &ctx,
            restore::Options {
                recovery_point,
                target,
                set,
                dry_run,
                no_wait,
                copy_source_tags,
                path,
                overwrite,
                json,
            },
            lock.lock_timeout,
            &vars,
        ),
        Command::RestoreTest(RestoreTestCommand::Start {
            name,
            json,
            lock,
            vars,
        }) => restore_test::start(&ctx, &name, json, lock.lock_timeout, &vars),
        Command::RestoreTest(RestoreTestCommand::List { json, runs }) => {
            restore_test::list(&ctx, json, runs)
        }
        Command::Jobs(JobsCommand::List {
            state,
            since,
            kind,
            json,
        }) => jobs::jobs_list(&ctx, state, since, kind, json),
        Command::Jobs(JobsCommand::Show { id, json }) => jobs::jobs_show(&ctx, &id, json),
        Command::RecoveryPoints(RecoveryPointsCommand::List {
            vault,
            resource,
            status,
            hold,
            why,
            json,
        }) => recovery_points::points_list(
            &ctx,
            recovery_points::ListArgs {
                vault,
                resource,
                status,
                hold,
                why,
                json,
            },
        ),
        Command::RecoveryPoints(RecoveryPointsCommand::Delete {
            id,
            yes,
            json,
            lock_timeout,
            vars,
        }) => recovery_points::points_delete(&ctx, &id, yes, json, lock_timeout, &vars),
        Command::Show { file, json } => show::show(&ctx, file, json),
        Command::State(StateCommand::List) => state::state_list(&ctx),
        Command::State(StateCommand::Show { address }) => state::state_show(&ctx, &address),
        Command::State(StateCommand::History { json }) => state::state_history(&ctx, json),
        Command::ForceUnlock { id } => force_unlock::force_unlock(&ctx, &id),
        Command::Fmt { check, diff, paths } => fmt::fmt(&ctx, check, diff, paths),
        Command::Init {
            migrate_state: false,
        } => init::init(&ctx),
        Command::Init {
            migrate_state: true,
        } => init::migrate_state(&ctx),
        Command::Version { json } => version::version(json),
        Command::Completions { shell } => completions::completions(shell),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            ctx.error(&e);
            Exit::Error
        }
    }
}
