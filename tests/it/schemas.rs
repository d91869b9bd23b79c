//! The JSON Schemas in schema/ validate what coffer really writes: saved and printed plans,
//! the state file, and the evaluated configuration from `validate --json`.

use crate::support::{coffer, repo, run};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join("schema").join(format!("{name}.schema.json")))
        .expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn validator(name: &str) -> jsonschema::Validator {
    let resource = |n: &str| jsonschema::Resource::from_contents(schema(n)).expect("resource");
    jsonschema::options()
        .with_resource(
            "https://coffer.dev/schema/config.schema.json",
            resource("config"),
        )
        .with_resource(
            "https://coffer.dev/schema/plan.schema.json",
            resource("plan"),
        )
        .should_validate_formats(true)
        .build(&schema(name))
        .expect("schema compiles")
}

fn assert_valid(name: &str, instance: &Value) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{name} schema violations: {errors:#?}");
}

fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = repo().join("examples/quickstart");
    std::fs::copy(src.join("main.hcl"), dir.path().join("main.hcl")).unwrap();
    dir
}

#[test]
fn plans_match_the_plan_schema() {
    let dir = quickstart();
    let r = run(coffer(dir.path()).args(["plan", "--json", "--out", "saved.json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let printed: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid("plan", &printed);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("saved.json")).unwrap())
            .unwrap();
    assert_valid("plan", &saved);
    assert_eq!(printed["changes"], saved["changes"]);

    // after apply, a plan with updates, a replacement and a delete
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "--auto-approve"])).code,
        0
    );
    let text = std::fs::read_to_string(dir.path().join("main.hcl")).unwrap();
    let text = text
        .replace("file://./vaults/dr", "file://./vaults/dr2")
        .replace("\"1h\"", "\"2h\"");
    let text = &text[..text.find("directory \"photos\"").unwrap()];
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let r = run(coffer(dir.path()).args(["plan", "--json"]));
    let changed: Value = serde_json::from_str(&r.stdout).unwrap();
    let actions: Vec<&str> = changed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"replace") && actions.contains(&"update") && actions.contains(&"delete"),
        "{actions:?}"
    );
    assert_valid("plan", &changed);
}

#[test]
fn state_matches_the_state_schema() {
    let dir = quickstart();
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "--auto-approve"])).code,
        0
    );
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".coffer/state.json")).unwrap(),
    )
    .unwrap();
    assert_valid("state", &state);
    let shown = run(coffer(dir.path()).args(["show", "--json"]));
    assert_valid("state", &serde_json::from_str(&shown.stdout).unwrap());
}

#[test]
fn evaluated_configuration_matches_the_config_schema() {
    let dir = quickstart();
    let r = run(coffer(dir.path()).args(["validate", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["valid"], true);
    assert_valid("config", &out["config"]);
}

#[test]
fn the_schemas_reject_what_coffer_would_not_write() {
    let dir = quickstart();
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "--auto-approve"])).code,
        0
    );
    let mut state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".coffer/state.json")).unwrap(),
    )
    .unwrap();
    state["objects"][0]["attributes"]["storage"] = Value::from("ftp://nope");
    assert!(!validator("state").is_valid(&state));
    let mut plan: Value =
        serde_json::from_str(&run(coffer(dir.path()).args(["plan", "--json", "--destroy"])).stdout)
            .unwrap();
    assert_valid("plan", &plan);
    plan["changes"][0]["action"] = Value::from("explode");
    assert!(!validator("plan").is_valid(&plan));
}
