//! Issue 11: the pure core is its own crate, and nothing it depends on, directly or through
//! other crates, is an async runtime, the AWS SDK, a database, the repository format or a CLI
//! crate. Read from Cargo.lock, so the check covers what the build really links.

use std::collections::{BTreeMap, BTreeSet};

const FORBIDDEN: &[&str] = &["tokio", "aws-", "rusqlite", "rustic_", "clap", "indicatif"];

/// Each package in Cargo.lock with the names of the packages it depends on.
fn lock_graph() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(crate::support::repo().join("Cargo.lock")).unwrap();
    let mut graph = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let mut name = None;
        let mut deps = Vec::new();
        let mut in_deps = false;
        for line in block.lines().map(str::trim) {
            if let Some(n) = line.strip_prefix("name = ") {
                name = Some(n.trim_matches('"').to_string());
            } else if line.starts_with("dependencies = [") {
                in_deps = true;
            } else if in_deps && line == "]" {
                in_deps = false;
            } else if in_deps {
                // `"name"` or `"name version"` or `"name version (source)"`
                let dep = line.trim_matches(|c| c == '"' || c == ',');
                deps.push(dep.split(' ').next().unwrap_or(dep).to_string());
            }
        }
        if let Some(n) = name {
            graph.entry(n).or_insert_with(Vec::new).extend(deps);
        }
    }
    graph
}

#[test]
fn the_core_crate_depends_on_no_runtime_sdk_database_or_cli_crate() {
    let graph = lock_graph();
    assert!(graph.contains_key("coffer-core"), "the core is a crate");
    assert!(
        graph["coffer"].iter().any(|d| d == "coffer-core"),
        "the shell depends on the core"
    );
    let mut seen = BTreeSet::new();
    let mut todo = vec!["coffer-core".to_string()];
    while let Some(p) = todo.pop() {
        if seen.insert(p.clone()) {
            todo.extend(graph.get(&p).cloned().unwrap_or_default());
        }
    }
    assert!(
        !seen.contains("coffer"),
        "the core never depends on the shell"
    );
    let bad: Vec<&String> = seen
        .iter()
        .filter(|p| FORBIDDEN.iter().any(|f| p.starts_with(f)))
        .collect();
    assert!(bad.is_empty(), "the core pulls in {bad:?}");
    // the check would see them: the shell does depend on them
    assert!(graph["coffer"].iter().any(|d| d == "tokio"));
}
