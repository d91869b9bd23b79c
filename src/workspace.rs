//! The configuration directory on disk: reads every `*.hcl` file, variable files and
//! `COFFER_VAR_*` environment variables into a [`ConfigInput`] for the pure loader, and
//! resolves paths relative to the configuration.

use crate::config::ConfigInput;
use crate::diag::SourceFile;
use std::path::{Path, PathBuf};

/// Prefix of environment variables that set input variables.
pub const ENV_VAR_PREFIX: &str = "COFFER_VAR_";

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("cannot read the configuration directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no configuration files (*.hcl) in {0}\n  Run `coffer init` to write a starter configuration, or use -C DIR to point at one.")]
    Empty(PathBuf),
}

/// The `*.hcl` files of `dir`, sorted by name (not recursive).
pub fn config_files(dir: &Path) -> Result<Vec<PathBuf>, WorkspaceError> {
    let entries = std::fs::read_dir(dir).map_err(|source| WorkspaceError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "hcl") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn read(path: &Path, name: String) -> Result<SourceFile, WorkspaceError> {
    let bytes = std::fs::read(path).map_err(|source| WorkspaceError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    // Invalid UTF-8 is shown with replacement characters and then fails to parse with a
    // diagnostic pointing at it, instead of aborting the whole run.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(SourceFile::new(name, text))
}

/// Reads everything the loader needs, including the current time.
pub fn read_input(
    dir: &Path,
    var_files: &[PathBuf],
    cli_vars: &[(String, String)],
) -> Result<ConfigInput, WorkspaceError> {
    let paths = config_files(dir)?;
    if paths.is_empty() {
        return Err(WorkspaceError::Empty(dir.to_path_buf()));
    }
    let mut files = Vec::with_capacity(paths.len());
    for p in &paths {
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        files.push(read(p, name)?);
    }
    let mut vfiles = Vec::new();
    for p in var_files {
        vfiles.push(read(p, p.display().to_string())?);
    }
    let mut env_vars: Vec<(String, String)> = std::env::vars()
        .filter_map(|(k, v)| k.strip_prefix(ENV_VAR_PREFIX).map(|n| (n.to_string(), v)))
        .collect();
    env_vars.sort();
    Ok(ConfigInput {
        files,
        var_files: vfiles,
        cli_vars: cli_vars.to_vec(),
        env_vars,
        now: chrono::Utc::now(),
    })
}

/// Resolves a path written in the configuration against the configuration directory.
pub fn resolve(config_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        config_dir.join(p)
    }
}

/// Normalises `a/./b/../c` to `a/c` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The configuration's local directories as inventory resources (`dir:<absolute path>`).
pub fn local_resources(
    config: &crate::config::model::Config,
    config_dir: &Path,
) -> Vec<crate::inventory::Resource> {
    config
        .directories
        .values()
        .map(|d| {
            let abs = normalize(&resolve(config_dir, &d.path));
            let mut r = crate::inventory::Resource::new(
                format!("dir:{}", abs.display()),
                crate::inventory::ResourceType::Directory,
                "local",
                "local",
            );
            r.name = Some(d.name.clone());
            r.tags = d.tags.clone();
            r.mount_path = Some(abs.display().to_string());
            r
        })
        .collect()
}
