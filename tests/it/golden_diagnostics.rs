//! Golden tests for diagnostics: every file in tests/fixtures/diagnostics is loaded and its
//! diagnostics rendered as people see them (and one as JSON), compared with snapshots.

use crate::support::{load, repo};

fn render(name: &str) -> String {
    let path = repo()
        .join("tests/fixtures/diagnostics")
        .join(format!("{name}.hcl"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let loaded = load(&text);
    assert!(loaded.has_errors(), "{name} should have errors");
    coffer::diag::render(&loaded.diagnostics, &loaded.sources, false)
}

macro_rules! golden {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(stringify!($name), render(stringify!($name)));
            }
        )*
    };
}

golden!(
    syntax_error,
    unknown_block,
    unknown_attribute,
    wrong_type,
    missing_attribute,
    duplicate_name,
    undeclared_reference,
    dependency_cycle,
    invalid_names,
    bad_duration,
    lifecycle_too_short,
    schedule_not_cron,
    reference_as_string,
    lock_rules,
    variables,
    functions,
    many_errors,
    schedule_fields,
    duration_too_long,
);

#[test]
fn json_form_carries_file_and_ranges() {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/diagnostics/unknown_attribute.hcl"))
            .unwrap();
    let loaded = load(&text);
    let json: Vec<_> = loaded
        .diagnostics
        .iter()
        .map(|d| d.to_json(&loaded.sources))
        .collect();
    insta::assert_json_snapshot!("unknown_attribute_json", json);
}

#[test]
fn every_fixture_has_a_golden_test() {
    let listed = [
        "syntax_error",
        "unknown_block",
        "unknown_attribute",
        "wrong_type",
        "missing_attribute",
        "duplicate_name",
        "undeclared_reference",
        "dependency_cycle",
        "invalid_names",
        "bad_duration",
        "lifecycle_too_short",
        "schedule_not_cron",
        "reference_as_string",
        "lock_rules",
        "variables",
        "functions",
        "many_errors",
        "schedule_fields",
        "duration_too_long",
    ];
    for entry in std::fs::read_dir(repo().join("tests/fixtures/diagnostics")).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            listed.contains(&name.as_str()),
            "fixture {name} has no golden test"
        );
    }
}

#[test]
fn a_duplicate_across_files_points_at_both_files() {
    let loaded = coffer::config::load(coffer::config::ConfigInput {
        files: vec![
            coffer::diag::SourceFile::new("a.hcl", "vault \"main\" {}\n"),
            coffer::diag::SourceFile::new("b.hcl", "\n\nvault \"main\" {}\n"),
        ],
        ..Default::default()
    });
    insta::assert_snapshot!(
        "duplicate_across_files",
        coffer::diag::render(&loaded.diagnostics, &loaded.sources, false)
    );
}

/// Every diagnostic points at a place in a file and says how to fix it.
#[test]
fn every_fixture_diagnostic_has_a_span_and_help() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(repo().join("tests/fixtures/diagnostics")).unwrap() {
        let path = entry.unwrap().path();
        let loaded = load(&std::fs::read_to_string(&path).unwrap());
        for d in &loaded.diagnostics {
            if d.span.is_none() || d.help.is_none() {
                missing.push(format!(
                    "{}: {}",
                    path.file_name().unwrap().to_string_lossy(),
                    d.message
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "diagnostics without span or help: {missing:#?}"
    );
}
