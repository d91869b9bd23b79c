//! What every command shares: the configuration directory, colour choices, loading the
//! configuration (printing its diagnostics), and opening the state backend and catalog.

use super::args::{Cli, VarArgs};
use crate::catalog::Catalog;
use crate::config::{self, model::Backend as ConfigBackend, model::Config, Loaded};
use crate::diag::{self, Diagnostic};
use crate::pg::PgTarget;
use crate::state::backend::Backend;
use crate::state::local::LocalBackend;
use crate::workspace;
use std::io::IsTerminal;
use std::path::PathBuf;

/// A command failure, already explained in words.
pub type CmdError = String;

pub struct Ctx {
    /// The configuration directory (absolute).
    pub dir: PathBuf,
    pub color_out: bool,
    pub color_err: bool,
    /// `--log-format json`: stderr carries JSON log lines, so progress is logged too.
    pub log_json: bool,
}

impl Ctx {
    pub fn new(cli: &Cli) -> Result<Ctx, String> {
        let dir = std::path::absolute(&cli.chdir)
            .map_err(|e| format!("cannot use directory {}: {e}", cli.chdir.display()))?;
        if !dir.is_dir() {
            return Err(format!("{} is not a directory", cli.chdir.display()));
        }
        let no_color = cli.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(Ctx {
            dir: workspace::normalize(&dir),
            color_out: !no_color && std::io::stdout().is_terminal(),
            color_err: !no_color && std::io::stderr().is_terminal(),
            log_json: cli.log_format == super::args::LogFormat::Json,
        })
    }

    pub fn error(&self, message: &str) {
        let head = if self.color_err {
            "\x1b[1;31mError:\x1b[0m"
        } else {
            "Error:"
        };
        eprintln!("{head} {message}");
    }

    /// Says on stderr (dimmed on a terminal) that this command waits for a lock.
    pub fn waiting(&self, message: &str) {
        if self.color_err {
            eprintln!("\x1b[2m{message}\x1b[0m");
        } else {
            eprintln!("{message}");
        }
    }

    pub fn print_diagnostics(&self, diags: &[Diagnostic], sources: &diag::Sources) {
        if !diags.is_empty() {
            eprint!("{}", diag::render(diags, sources, self.color_err));
        }
    }

    /// Loads the configuration; prints diagnostics; `Err` if there are errors.
    pub fn load(&self, vars: &VarArgs) -> Result<(Config, Loaded), CmdError> {
        let loaded = self.load_raw(vars)?;
        self.print_diagnostics(&loaded.diagnostics, &loaded.sources);
        match loaded.config.clone() {
            Some(c) => Ok((c, loaded)),
            None => {
                let n = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
                Err(format!(
                    "the configuration has {n} error{}; nothing was planned or changed",
                    if n == 1 { "" } else { "s" }
                ))
            }
        }
    }

    /// Loads the configuration without printing anything.
    pub fn load_raw(&self, vars: &VarArgs) -> Result<Loaded, CmdError> {
        let mut cli_vars = Vec::new();
        for v in &vars.vars {
            let Some((k, val)) = v.split_once('=') else {
                return Err(format!("-var expects NAME=VALUE, got `{v}`"));
            };
            cli_vars.push((k.trim().to_string(), val.to_string()));
        }
        let var_files: Vec<PathBuf> = vars
            .var_files
            .iter()
            .map(|f| {
                if f.is_absolute() {
                    f.clone()
                } else {
                    self.dir.join(f)
                }
            })
            .collect();
        let input =
            workspace::read_input(&self.dir, &var_files, &cli_vars).map_err(|e| e.to_string())?;
        Ok(config::load(input))
    }

    pub fn backend(&self, config: Option<&Config>) -> Result<Backend, CmdError> {
        match config.map(|c| &c.backend) {
            Some(ConfigBackend::Postgres { conn_str, schema }) => {
                let conn_str = match conn_str {
                    Some(c) => c.clone(),
                    None => conn_str_from_env(&|k| std::env::var(k).ok())?,
                };
                Backend::postgres(PgTarget {
                    conn_str,
                    schema: schema.clone(),
                })
                .map_err(|e| e.to_string())
            }
            Some(ConfigBackend::Local { path }) => Ok(self.local_backend(path)),
            None => Ok(self.local_backend(".coffer")),
        }
    }

    fn local_backend(&self, path: &str) -> Backend {
        Backend::Local(LocalBackend::new(workspace::normalize(
            &workspace::resolve(&self.dir, path),
        )))
    }

    /// The backend when no configuration is needed (show, state): from the configuration if
    /// it loads, else the default `.coffer`.
    pub fn backend_best_effort(&self) -> Result<Backend, CmdError> {
        let config = self
            .load_raw(&VarArgs::default())
            .ok()
            .and_then(|l| l.config);
        self.backend(config.as_ref())
    }

    pub fn catalog_read_only(&self, backend: &Backend) -> Result<Box<dyn Catalog>, CmdError> {
        backend.catalog_read_only().map_err(|e| e.to_string())
    }

    /// The backend's catalog for writing (created and migrated if needed).
    pub fn catalog(&self, backend: &Backend) -> Result<Box<dyn Catalog>, CmdError> {
        backend.catalog().map_err(|e| e.to_string())
    }

    /// [`Ctx::catalog`] in a `RefCell`, as the job executor shares it.
    pub fn catalog_cell(
        &self,
        backend: &Backend,
    ) -> Result<Box<std::cell::RefCell<dyn Catalog>>, CmdError> {
        backend.catalog_cell().map_err(|e| e.to_string())
    }
}

/// A connection string for a `backend "postgres"` block without `conn_str`:
/// `COFFER_PG_CONN_STR`, else libpq's `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` and
/// `PGDATABASE`.
pub fn conn_str_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<String, CmdError> {
    if let Some(c) = env("COFFER_PG_CONN_STR").filter(|c| !c.is_empty()) {
        return Ok(c);
    }
    let parts: Vec<String> = [
        ("PGHOST", "host"),
        ("PGPORT", "port"),
        ("PGUSER", "user"),
        ("PGPASSWORD", "password"),
        ("PGDATABASE", "dbname"),
    ]
    .iter()
    .filter_map(|(var, key)| {
        env(var)
            .filter(|v| !v.is_empty())
            .map(|v| format!("{key}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
    })
    .collect();
    if parts.is_empty() {
        return Err(
            "the `postgres` backend names no database: set `conn_str` in its block, COFFER_PG_CONN_STR, or libpq's PGHOST/PGDATABASE (and PGUSER, PGPASSWORD)"
                .into(),
        );
    }
    Ok(parts.join(" "))
}

/// The async runtime for the commands that call AWS or run jobs: two workers, as the machines
/// coffer runs on are small and the work waits on the network.
pub fn runtime() -> Result<tokio::runtime::Runtime, CmdError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// A flag that Ctrl-C (SIGINT) and SIGTERM set, for commands that stop cleanly: they finish
/// or leave the current step and record where they stopped. A handler that cannot be
/// installed is an error, not a silent kill mid-step.
pub fn interruptible() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>, CmdError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_backend_without_conn_str_reads_coffers_variable_then_libpqs() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            conn_str_from_env(&env(&[
                ("COFFER_PG_CONN_STR", "host=db"),
                ("PGHOST", "other")
            ])),
            Ok("host=db".to_string())
        );
        assert_eq!(
            conn_str_from_env(&env(&[
                ("PGHOST", "/run/postgresql"),
                ("PGUSER", "coffer"),
                ("PGPASSWORD", "it's \\ secret"),
                ("PGDATABASE", "backups"),
            ])),
            Ok(
                "host='/run/postgresql' user='coffer' password='it\\'s \\\\ secret' dbname='backups'"
                    .to_string()
            )
        );
        let parsed: postgres::Config = conn_str_from_env(&env(&[("PGPASSWORD", "it's \\ secret")]))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(parsed.get_password(), Some("it's \\ secret".as_bytes()));
        assert!(conn_str_from_env(&env(&[]))
            .unwrap_err()
            .contains("names no database"));
    }
}
