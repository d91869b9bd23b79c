//! The JSON Schemas in schema/ validate what coffer really writes: saved and printed plans,
//! the state file, and the evaluated configuration from `validate --json`.

use crate::support::{coffer, repo, run};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join("schema").join(format!("{name}.schema.json")))
        .expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// A validator for one schema file, offline: references between the files are relative
/// (`config.schema.json#/$defs/…`) and resolve among the files of schema/, as they do for
/// any validator that loads them from one directory.
fn validator(name: &str) -> jsonschema::Validator {
    const BASE: &str = "file:///coffer/schema/";
    let mut options = jsonschema::options()
        .should_validate_formats(true)
        .with_base_uri(format!("{BASE}{name}.schema.json"));
    for entry in std::fs::read_dir(repo().join("schema")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let contents: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let resource = jsonschema::Resource::from_contents(contents).expect("resource");
        options = options.with_resource(format!("{BASE}{file}"), resource);
    }
    options.build(&schema(name)).expect("schema compiles")
}

pub fn assert_valid(name: &str, instance: &Value) {
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

/// Issue 11: every `--json` output is a typed struct whose schema is generated from it; the
/// files in schema/ are those schemas (write them anew with COFFER_WRITE_SCHEMAS=1), and no
/// schema names a host, so a standard validator uses them offline.
#[test]
fn committed_schemas_are_the_ones_the_output_types_generate() {
    let write = std::env::var_os("COFFER_WRITE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, generated) in coffer::cli::json::schemas() {
        let path = repo().join("schema").join(format!("{name}.schema.json"));
        let generated = serde_json::to_value(&generated).unwrap();
        if write {
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
        }
        let committed: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        if committed.as_ref() != Some(&generated) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "schema/ is out of date for {stale:?}: run COFFER_WRITE_SCHEMAS=1 cargo test --test it committed_schemas"
    );
    fn hosts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$id" | "$ref", Value::String(s)) if s.contains("://") => {
                            out.push(s.clone())
                        }
                        _ => hosts(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| hosts(v, out)),
            _ => {}
        }
    }
    for entry in std::fs::read_dir(repo().join("schema")).unwrap() {
        let path = entry.unwrap().path();
        let mut found = Vec::new();
        hosts(
            &serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap(),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "{} refers to hosts: {found:?}",
            path.display()
        );
    }
}

/// What the commands print validates against those schemas.
#[test]
fn every_json_output_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.hcl"),
        r#"
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

selection "dirs" {
  plan      = plan.daily
  resources = ["dir:*"]
}

directory "docs" {
  path = "./data"
}
"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/a.txt"), "a").unwrap();
    let json = |args: &[&str]| -> Value {
        let r = run(coffer(dir.path()).args(args));
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", r.stdout))
    };
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "--auto-approve"])).code,
        0
    );
    let tick = json(&["run", "--at", "2026-12-05T03:10:00Z", "--json"]);
    assert_valid("tick", &tick);
    let job_id = tick["jobs"][0]["id"].as_str().unwrap().to_string();
    let point = tick["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_valid("jobs", &json(&["jobs", "list", "--json"]));
    assert_valid("job", &json(&["jobs", "show", &job_id, "--json"]));
    assert_valid(
        "recovery-points",
        &json(&["recovery-points", "list", "--json"]),
    );
    assert_valid(
        "restore",
        &json(&[
            "restore",
            "start",
            "--recovery-point",
            &point,
            "--target",
            "out",
            "--json",
        ]),
    );
    assert_valid("vault-check", &json(&["vault", "check", "main", "--json"]));
    assert_valid("version", &json(&["version", "--json"]));
    assert_valid("schedule", &json(&["schedule", "--json"]));
    assert_valid("state", &json(&["show", "--json"]));
    assert_valid("inventory", &json(&["inventory", "--json"]));
    assert_valid("validate", &json(&["validate", "--json"]));
}
