//! Issue 11, defects 7 and 10: the benchmark scripts find the binary `cargo build --release`
//! made, wherever the target directory is; and the release profile, which users install,
//! carries no debug information while a profiling profile keeps line tables.

use crate::support::repo;
use std::process::Command;

fn release_binary(target_dir: Option<&str>) -> String {
    let mut cmd = Command::new("python3");
    cmd.current_dir(std::env::temp_dir()).args([
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import coffer_binary; print(coffer_binary.release_binary())",
    ]);
    cmd.arg(repo().join("benches"));
    match target_dir {
        Some(d) => cmd.env("CARGO_TARGET_DIR", d),
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn benchmark_scripts_find_the_release_binary_in_the_target_directory() {
    assert_eq!(
        release_binary(Some("/elsewhere/target")),
        "/elsewhere/target/release/coffer"
    );
    assert_eq!(
        release_binary(None),
        repo().join("target/release/coffer").display().to_string()
    );
}

/// The `[profile.NAME]` table of Cargo.toml as `key = value` lines.
fn profile(name: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let header = format!("[profile.{name}]");
    manifest
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn the_release_binary_carries_no_debug_information_and_profiling_keeps_line_tables() {
    let release = profile("release");
    assert!(
        release.contains(&"debug = false".to_string()),
        "{release:?}"
    );
    assert!(
        release.contains(&"strip = \"symbols\"".to_string()),
        "{release:?}"
    );
    let profiling = profile("profiling");
    assert!(
        profiling.contains(&"inherits = \"release\"".to_string())
            && profiling.contains(&"debug = \"line-tables-only\"".to_string()),
        "{profiling:?}"
    );
}

/// Issue 11, defect 9: every dependency a manifest declares is used by its crate's code (a
/// crate named in `[dependencies]` and never used only lengthens the build and misleads).
#[test]
fn every_declared_dependency_is_used() {
    let mut unused = Vec::new();
    for (manifest, dir) in [("Cargo.toml", "src"), ("core/Cargo.toml", "core/src")] {
        let text = std::fs::read_to_string(repo().join(manifest)).unwrap();
        let deps = text
            .split("[dependencies]")
            .nth(1)
            .and_then(|s| s.split("\n[").next())
            .unwrap_or_default();
        let mut code = String::new();
        let mut stack = vec![repo().join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    code.push_str(&std::fs::read_to_string(path).unwrap());
                }
            }
        }
        for line in deps.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = line.split(['=', '.']).next().unwrap_or_default().trim();
            let ident = name.replace('-', "_");
            let used = code.match_indices(&ident).any(|(i, _)| {
                let before = code[..i].chars().next_back();
                let after = code[i + ident.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if !used {
                unused.push(format!("{manifest}: {name}"));
            }
        }
    }
    assert!(unused.is_empty(), "declared but never used: {unused:?}");
}
