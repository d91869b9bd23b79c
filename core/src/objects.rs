//! Desired objects: turns the typed configuration into the flat list of managed objects
//! (address, attributes as JSON, dependencies) that plans compare with recorded state, and
//! says which attribute changes force an object to be replaced.

use crate::address::{Address, Kind};
use crate::config::model::{Config, Lifecycle, VaultLock};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// One object as the configuration wants it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectSpec {
    pub address: Address,
    pub kind: Kind,
    /// The object's attributes; always a JSON object.
    pub attributes: Value,
    /// Objects that must exist before this one (sorted).
    pub depends_on: Vec<Address>,
}

/// Attributes whose change cannot be made in place: the object is destroyed and created again.
pub fn forces_replacement(kind: Kind, attribute: &str) -> bool {
    matches!(
        (kind, attribute),
        (Kind::Vault, "storage") | (Kind::Selection, "plan") | (Kind::Directory, "path")
    )
}

fn lifecycle_json(l: Option<&Lifecycle>) -> Value {
    match l {
        None => Value::Null,
        Some(l) => json!({
            "cold_storage_after": l.cold_storage_after.as_ref().map(|d| d.as_str()),
            "delete_after": l.delete_after.as_ref().map(|d| d.as_str()),
        }),
    }
}

fn lock_json(l: Option<&VaultLock>) -> Value {
    match l {
        None => Value::Null,
        Some(l) => json!({
            "mode": l.mode.as_str(),
            "min_retention": l.min_retention.as_ref().map(|d| d.as_str()),
            "max_retention": l.max_retention.as_ref().map(|d| d.as_str()),
            "changeable_for": l.changeable_for.as_ref().map(|d| d.as_str()),
        }),
    }
}

fn map_json<V: Serialize>(m: &std::collections::BTreeMap<String, V>) -> Value {
    serde_json::to_value(m).unwrap_or_else(|_| Value::Object(Map::new()))
}

/// Every object the configuration declares, sorted by address.
pub fn desired(config: &Config) -> Vec<ObjectSpec> {
    let mut out = Vec::new();
    let deps = |a: &Address| -> Vec<Address> {
        let mut d = config.dependencies.get(a).cloned().unwrap_or_default();
        if let Some(p) = a.parent() {
            if !d.contains(&p) {
                d.push(p);
            }
        }
        d.sort();
        d
    };
    let mut push = |address: Address, attributes: Value| {
        let depends_on = deps(&address);
        out.push(ObjectSpec {
            kind: address.kind(),
            address,
            attributes,
            depends_on,
        });
    };
    for v in config.vaults.values() {
        let mut attributes = json!({
            "storage": v.storage,
            "kms_key_arn": v.kms_key_arn,
            "lock": lock_json(v.lock.as_ref()),
            "force_destroy": v.force_destroy,
            "tags": map_json(&v.tags),
        });
        // the names of where the key is, only when set, so vaults without them keep their
        // recorded attributes unchanged
        for (name, value) in [
            ("password_env", &v.password_env),
            ("password_file", &v.password_file),
        ] {
            if let (Some(value), Some(map)) = (value, attributes.as_object_mut()) {
                map.insert(name.into(), json!(value));
            }
        }
        push(Address::Vault(v.name.clone()), attributes);
    }
    for p in config.plans.values() {
        push(
            Address::Plan(p.name.clone()),
            json!({ "tags": map_json(&p.tags), "regions": config.plan_regions(p) }),
        );
        for r in p.rules.values() {
            let copies: Vec<Value> = r
                .copy_to
                .iter()
                .map(|c| json!({ "vault": Address::Vault(c.vault.clone()).to_string(), "lifecycle": lifecycle_json(c.lifecycle.as_ref()) }))
                .collect();
            push(
                Address::Rule {
                    plan: p.name.clone(),
                    rule: r.name.clone(),
                },
                json!({
                    "schedule": r.schedule,
                    "timezone": r.timezone.clone().unwrap_or_else(|| "UTC".into()),
                    "allow_more_frequent_than_12h": r.allow_more_frequent_than_12h,
                    "start_window": r.start_window.as_str(),
                    "completion_window": r.completion_window.as_str(),
                    "target_vault": Address::Vault(r.target_vault.clone()).to_string(),
                    "lifecycle": lifecycle_json(r.lifecycle.as_ref()),
                    "recovery_point_tags": map_json(&r.recovery_point_tags),
                    "copy_to": copies,
                }),
            );
        }
    }
    for s in config.selections.values() {
        let c = &s.conditions;
        push(
            Address::Selection(s.name.clone()),
            json!({
                "plan": Address::Plan(s.plan.clone()).to_string(),
                "all_resources": s.all_resources,
                "any_tag": map_json(&s.any_tag),
                "resources": s.resources,
                "not_resources": s.not_resources,
                "condition": {
                    "string_equals": map_json(&c.string_equals),
                    "string_not_equals": map_json(&c.string_not_equals),
                    "string_like": map_json(&c.string_like),
                    "string_not_like": map_json(&c.string_not_like),
                },
            }),
        );
    }
    for d in config.directories.values() {
        push(
            Address::Directory(d.name.clone()),
            json!({ "path": d.path, "tags": map_json(&d.tags) }),
        );
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// The evaluated configuration as JSON (schema/config.schema.json): what `coffer validate
/// --json` reports under `config`, with variables and locals resolved and references written
/// as addresses.
pub fn config_json(config: &Config) -> Value {
    let objects: std::collections::BTreeMap<Address, Value> = desired(config)
        .into_iter()
        .map(|o| (o.address, o.attributes))
        .collect();
    let attrs = |a: &Address| objects.get(a).cloned().unwrap_or(Value::Null);
    let backend = match &config.backend {
        crate::config::model::Backend::Local { path } => json!({ "type": "local", "path": path }),
    };
    let providers: Vec<Value> = config
        .providers
        .iter()
        .map(|p| json!({ "name": p.name, "alias": p.alias, "region": p.region, "profile": p.profile }))
        .collect();
    let mut vaults = Map::new();
    for name in config.vaults.keys() {
        vaults.insert(name.clone(), attrs(&Address::Vault(name.clone())));
    }
    let mut plans = Map::new();
    for (name, plan) in &config.plans {
        let mut p = attrs(&Address::Plan(name.clone()));
        let mut rules = Map::new();
        for rule in plan.rules.keys() {
            rules.insert(
                rule.clone(),
                attrs(&Address::Rule {
                    plan: name.clone(),
                    rule: rule.clone(),
                }),
            );
        }
        if let Value::Object(m) = &mut p {
            m.insert("rules".into(), Value::Object(rules));
        }
        plans.insert(name.clone(), p);
    }
    let mut selections = Map::new();
    for name in config.selections.keys() {
        selections.insert(name.clone(), attrs(&Address::Selection(name.clone())));
    }
    let mut directories = Map::new();
    for name in config.directories.keys() {
        directories.insert(name.clone(), attrs(&Address::Directory(name.clone())));
    }
    let efs_mounts: Map<String, Value> = config
        .efs_mounts
        .values()
        .map(|m| {
            (
                m.name.clone(),
                json!({ "file_system_id": m.file_system_id, "mount_path": m.mount_path }),
            )
        })
        .collect();
    json!({
        "backend": backend,
        "efs_mounts": efs_mounts,
        "providers": providers,
        "vaults": vaults,
        "plans": plans,
        "selections": selections,
        "directories": directories,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load, ConfigInput};
    use crate::diag::SourceFile;

    fn config(text: &str) -> Config {
        let loaded = load(ConfigInput {
            files: vec![SourceFile::new("main.hcl", text)],
            ..Default::default()
        });
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.config.expect("config")
    }

    #[test]
    fn rules_depend_on_their_plan_and_vaults() {
        let c = config(
            r#"
            vault "main" {}
            vault "dr" {}
            locals { v = vault.dr }
            plan "p" {
              rule "r" {
                schedule = "cron(0 5 ? * * *)"
                target_vault = vault.main
                copy_to { vault = local.v }
              }
            }
            selection "s" {
              plan          = plan.p
              all_resources = true
            }
            "#,
        );
        let objects = desired(&c);
        let addrs: Vec<String> = objects.iter().map(|o| o.address.to_string()).collect();
        assert_eq!(
            addrs,
            [
                "vault.dr",
                "vault.main",
                "plan.p",
                "plan.p.rule.r",
                "selection.s"
            ]
        );
        let rule = &objects[3];
        let deps: Vec<String> = rule.depends_on.iter().map(ToString::to_string).collect();
        assert_eq!(deps, ["vault.dr", "vault.main", "plan.p"]);
        assert_eq!(rule.attributes["start_window"], "8h");
        assert_eq!(rule.attributes["completion_window"], "7d");
        assert_eq!(rule.attributes["timezone"], "UTC");
        assert_eq!(rule.attributes["copy_to"][0]["vault"], "vault.dr");
        assert_eq!(objects[4].depends_on, vec![Address::Plan("p".into())]);
    }

    #[test]
    fn replacement_attributes() {
        assert!(forces_replacement(Kind::Vault, "storage"));
        assert!(!forces_replacement(Kind::Vault, "tags"));
        assert!(forces_replacement(Kind::Directory, "path"));
    }
}
