//! Shared helpers: running the built `coffer` binary in temporary configuration
//! directories, and loading configurations through the library.

use coffer::config::{self, ConfigInput, Loaded};
use coffer::diag::SourceFile;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (for fixtures, schemas and examples).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The vault key the tests' coffer processes use.
pub const VAULT_PASSWORD: &str = "coffer-test-password";

/// A `coffer` command with colour off, the tests' vault key, and no inherited COFFER_VAR_*
/// variables.
pub fn coffer(dir: &Path) -> Command {
    test_env(Command::new(env!("CARGO_BIN_EXE_coffer")), dir)
}

/// [`coffer`] as a process that file permissions bind even when the tests run as root (as in
/// CI): setpriv drops root's capabilities to read and write past permissions.
pub fn coffer_bound_by_permissions(dir: &Path) -> Command {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return coffer(dir);
    }
    let mut c = Command::new("setpriv");
    c.args(["--bounding-set=-dac_override,-dac_read_search"])
        .arg(env!("CARGO_BIN_EXE_coffer"));
    test_env(c, dir)
}

fn test_env(mut c: Command, dir: &Path) -> Command {
    c.arg("-C")
        .arg(dir)
        .env("NO_COLOR", "1")
        .env("COFFER_VAULT_PASSWORD", VAULT_PASSWORD)
        .env_remove("COFFER_VAULT_PASSWORD_FILE")
        .env_remove("RUST_BACKTRACE");
    for (k, _) in std::env::vars() {
        if k.starts_with("COFFER_VAR_") {
            c.env_remove(k);
        }
    }
    c
}

/// Output of a finished command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("coffer runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts that a command exited 0, showing `what` and its output otherwise.
pub fn ok_run(r: &Run, what: &str) {
    assert_eq!(r.code, 0, "{what}:\n{}\n{}", r.stdout, r.stderr);
}

/// A command's standard output as JSON, or a panic that shows it.
pub fn json_of(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}\n{}", r.stdout, r.stderr))
}

/// A temporary configuration directory holding `main.hcl`.
pub fn workspace(main_hcl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), main_hcl).expect("write main.hcl");
    dir
}

/// The fixed "now" of library-level tests.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Loads one configuration text through the library.
pub fn load(text: &str) -> Loaded {
    config::load(ConfigInput {
        files: vec![SourceFile::new("main.hcl", text)],
        now: now(),
        ..Default::default()
    })
}

/// A small valid configuration used by many CLI tests.
pub const BASIC: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
}

plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
    lifecycle {
      delete_after = "35d"
    }
  }
}

selection "tagged" {
  plan    = plan.daily
  any_tag = { Backup = ["daily"] }
}

directory "data" {
  path = "./data"
}
"#;

/// Every file under `dir` (recursively).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
