//! Desired objects: turns the typed configuration into the flat list of managed objects
//! (address, attributes as JSON, dependencies) that plans compare with recorded state, and
//! says which attribute changes force an object to be replaced. The attributes of each kind
//! are typed in [`attrs`], which writes and reads them.

pub mod attrs;

pub use attrs::{
    ColdStorageAttrs, ControlAttrs, ControlParams, ControlScope, CopyAttrs, DirectoryAttrs,
    FrameworkAttrs, KeepAttrs, LegalHoldAttrs, LifecycleAttrs, LockAttrs, NotificationAttrs,
    PlanAttrs, PruneAttrs, RestoreTestAttrs, RestoreTestSelectionAttrs, RuleAttrs, SelectionAttrs,
    ValidateAttrs, VaultAttrs,
};

use crate::address::{Address, Kind};
use crate::config::model::{Config, Lifecycle, VaultLock};
use attrs::{write, ConditionAttrs};
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

fn lifecycle(l: Option<&Lifecycle>) -> Option<LifecycleAttrs> {
    l.map(|l| LifecycleAttrs {
        cold_storage_after: l.cold_storage_after.clone(),
        delete_after: l.delete_after.clone(),
        keep: l.keep.as_ref().map(KeepAttrs::from),
        keep_at_least: l.keep_at_least,
        opt_in_to_archive: l.opt_in_to_archive,
    })
}

fn lock(l: Option<&VaultLock>) -> Option<LockAttrs> {
    l.map(|l| LockAttrs {
        mode: l.mode.as_str().to_string(),
        min_retention: l.min_retention.clone(),
        max_retention: l.max_retention.clone(),
        changeable_for: l.changeable_for.clone(),
    })
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
        let attrs = VaultAttrs {
            storage: v.storage.clone(),
            kms_key_arn: v.kms_key_arn.clone(),
            lock: lock(v.lock.as_ref()),
            force_destroy: v.force_destroy,
            tags: v.tags.clone(),
            password_env: v.password_env.clone(),
            password_file: v.password_file.clone(),
            cold_storage: v.cold_storage.clone().map(|c| ColdStorageAttrs {
                storage: c.storage,
                storage_class: c.storage_class,
            }),
            prune: v.prune.map(|p| PruneAttrs {
                max_unused: format!("{}%", p.max_unused_percent),
            }),
            region: v.region.clone(),
            provider: v.provider.as_ref().map(|a| format!("aws.{a}")),
        };
        push(Address::Vault(v.name.clone()), write(&attrs));
    }
    for p in config.plans.values() {
        let attrs = PlanAttrs {
            tags: p.tags.clone(),
            regions: config.plan_regions(p),
        };
        push(Address::Plan(p.name.clone()), write(&attrs));
        for r in p.rules.values() {
            let attrs = RuleAttrs {
                schedule: r.schedule.clone(),
                timezone: r.timezone.clone().unwrap_or_else(|| "UTC".into()),
                allow_more_frequent_than_12h: r.allow_more_frequent_than_12h,
                start_window: r.start_window.clone(),
                completion_window: r.completion_window.clone(),
                target_vault: Address::Vault(r.target_vault.clone()).to_string(),
                lifecycle: lifecycle(r.lifecycle.as_ref()),
                recovery_point_tags: r.recovery_point_tags.clone(),
                copy_to: r
                    .copy_to
                    .iter()
                    .map(|c| CopyAttrs {
                        vault: Address::Vault(c.vault.clone()).to_string(),
                        lifecycle: lifecycle(c.lifecycle.as_ref()),
                        window: c.window.clone(),
                    })
                    .collect(),
            };
            let address = Address::Rule {
                plan: p.name.clone(),
                rule: r.name.clone(),
            };
            push(address, write(&attrs));
        }
    }
    for s in config.selections.values() {
        let c = &s.conditions;
        let attrs = SelectionAttrs {
            plan: Address::Plan(s.plan.clone()).to_string(),
            all_resources: s.all_resources,
            any_tag: s.any_tag.clone(),
            resources: s.resources.clone(),
            not_resources: s.not_resources.clone(),
            condition: ConditionAttrs {
                string_equals: c.string_equals.clone(),
                string_not_equals: c.string_not_equals.clone(),
                string_like: c.string_like.clone(),
                string_not_like: c.string_not_like.clone(),
            },
        };
        push(Address::Selection(s.name.clone()), write(&attrs));
    }
    for d in config.directories.values() {
        let attrs = DirectoryAttrs {
            path: d.path.clone(),
            tags: d.tags.clone(),
        };
        push(Address::Directory(d.name.clone()), write(&attrs));
    }
    for h in config.legal_holds.values() {
        let attrs = LegalHoldAttrs {
            description: h.description.clone(),
            vaults: h
                .vaults
                .iter()
                .map(|v| Address::Vault(v.clone()).to_string())
                .collect(),
            resources: h.resources.clone(),
            created_from: h.created_from,
            created_to: h.created_to,
        };
        push(Address::LegalHold(h.name.clone()), write(&attrs));
    }
    for t in config.restore_tests.values() {
        let vaults = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|v| Address::Vault(v.clone()).to_string())
                .collect()
        };
        let attrs = RestoreTestAttrs {
            schedule: t.schedule.clone(),
            timezone: t.timezone.clone().unwrap_or_else(|| "UTC".into()),
            start_window: t.start_window.clone(),
            algorithm: t.algorithm.as_str().to_string(),
            vaults: vaults(&t.vaults),
            exclude_vaults: vaults(&t.exclude_vaults),
            selection_window: t.selection_window.clone(),
            selections: t
                .selections
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        RestoreTestSelectionAttrs {
                            resource_type: s.resource_type,
                            resources: s.resources.clone(),
                            string_equals: s.string_equals.clone(),
                            string_not_equals: s.string_not_equals.clone(),
                            overrides: s.overrides.clone(),
                            validation_window: s.validation_window.clone(),
                            validate: s.validate.as_ref().map(|v| ValidateAttrs {
                                command: v.command.clone(),
                                timeout: v.timeout.clone(),
                            }),
                        },
                    )
                })
                .collect(),
        };
        push(Address::RestoreTest(t.name.clone()), write(&attrs));
    }
    for f in config.frameworks.values() {
        let attrs = FrameworkAttrs {
            description: f.description.clone(),
            controls: f
                .controls
                .iter()
                .map(|(k, c)| {
                    (
                        *k,
                        ControlAttrs {
                            parameters: c.params.clone(),
                            scope: c.scope.clone(),
                        },
                    )
                })
                .collect(),
        };
        push(Address::Framework(f.name.clone()), write(&attrs));
    }
    for n in config.notifications.values() {
        let attrs = NotificationAttrs {
            events: n.events.clone(),
            retries: n.retries,
            webhook: n.webhook.clone(),
            command: n.command.clone(),
        };
        push(Address::Notification(n.name.clone()), write(&attrs));
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
        crate::config::model::Backend::Postgres { conn_str, schema } => json!({
            "type": "postgres",
            "conn_str": conn_str.as_deref().map(crate::config::model::redact_conn_str),
            "schema": schema,
        }),
    };
    let providers: Vec<Value> = config
        .providers
        .iter()
        .map(|p| {
            let assume_role = p.assume_role.as_ref().map(|a| {
                json!({ "role_arn": a.role_arn, "session_name": a.session_name, "external_id": a.external_id })
            });
            json!({ "name": p.name, "alias": p.alias, "region": p.region, "profile": p.profile, "assume_role": assume_role })
        })
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
    let mut legal_holds = Map::new();
    for name in config.legal_holds.keys() {
        legal_holds.insert(name.clone(), attrs(&Address::LegalHold(name.clone())));
    }
    let mut restore_tests = Map::new();
    for name in config.restore_tests.keys() {
        restore_tests.insert(name.clone(), attrs(&Address::RestoreTest(name.clone())));
    }
    let mut frameworks = Map::new();
    for name in config.frameworks.keys() {
        frameworks.insert(name.clone(), attrs(&Address::Framework(name.clone())));
    }
    let mut notifications = Map::new();
    for name in config.notifications.keys() {
        notifications.insert(name.clone(), attrs(&Address::Notification(name.clone())));
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
        "legal_holds": legal_holds,
        "restore_tests": restore_tests,
        "frameworks": frameworks,
        "notifications": notifications,
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

    /// Every kind's attributes read back into their typed struct and write out unchanged, so
    /// each reader sees what desired() recorded.
    #[test]
    fn typed_attributes_round_trip() {
        let c = config(
            r#"
            vault "main" {
              storage = "file://./v"
              password_env = "KEY"
              lock {
                mode          = "governance"
                min_retention = "30d"
              }
            }
            vault "dr" {}
            plan "p" {
              rule "r" {
                schedule = "cron(0 3 * * ? *)"
                timezone = "Europe/Paris"
                target_vault = vault.main
                lifecycle {
                  cold_storage_after = "30d"
                  delete_after = "400d"
                  keep_at_least = 3
                  keep {
                    daily = 7
                    within = "2w"
                  }
                }
                copy_to {
                  vault = vault.dr
                }
              }
            }
            selection "s" {
              plan = plan.p
              any_tag = { Backup = ["yes"] }
              condition {
                string_like = { Name = "db-*" }
              }
            }
            directory "d" {
              path = "./data"
            }
            legal_hold "audit" {
              vaults = [vault.main]
              resources = ["arn:aws:rds:*"]
              created_from = "2026-01-01"
            }
            framework "prod" {
              control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
                max_age = "24h"
                scope {
                  resource_types = ["EBS"]
                  tags = { Env = "prod" }
                }
              }
              control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" {
                regions = ["eu-west-1"]
              }
            }
            notification "oncall" {
              events = ["BACKUP_JOB_FAILED", "RESTORE_TEST_FAILED"]
              webhook {
                url        = "https://hooks.example.com/x"
                header_env = { Authorization = "HOOK_TOKEN" }
              }
            }
            "#,
        );
        fn round<T: serde::de::DeserializeOwned + Serialize>(o: &ObjectSpec) {
            let typed: T = attrs::read(&o.address, &o.attributes).unwrap();
            assert_eq!(write(&typed), o.attributes, "{}", o.address);
        }
        let objects = desired(&c);
        for o in &objects {
            match o.kind {
                Kind::Vault => round::<VaultAttrs>(o),
                Kind::Plan => round::<PlanAttrs>(o),
                Kind::Rule => round::<RuleAttrs>(o),
                Kind::Selection => round::<SelectionAttrs>(o),
                Kind::Directory => round::<DirectoryAttrs>(o),
                Kind::LegalHold => round::<LegalHoldAttrs>(o),
                Kind::RestoreTest => round::<RestoreTestAttrs>(o),
                Kind::Framework => round::<FrameworkAttrs>(o),
                Kind::Notification => round::<NotificationAttrs>(o),
            }
        }
        let r = objects.iter().find(|o| o.kind == Kind::Rule).unwrap();
        let rule: RuleAttrs = attrs::read(&r.address, &r.attributes).unwrap();
        assert_eq!(rule.vault_name(), "main");
        let lifecycle = rule.lifecycle.unwrap();
        assert_eq!(lifecycle.delete_after.as_ref().unwrap().days(), 400);
        assert_eq!(lifecycle.floor(), 3);
        let keep = crate::jobs::retention::KeepPolicy::from(&lifecycle.keep.unwrap());
        assert_eq!((keep.daily, keep.within.unwrap().days()), (7, 14));
        let n = objects
            .iter()
            .find(|o| o.kind == Kind::Notification)
            .unwrap();
        let n: NotificationAttrs = attrs::read(&n.address, &n.attributes).unwrap();
        assert_eq!((n.retries, n.events.len()), (3, 2));
        assert_eq!(n.webhook.unwrap().header_env["Authorization"], "HOOK_TOKEN");
        let h = objects.iter().find(|o| o.kind == Kind::LegalHold).unwrap();
        let hold: LegalHoldAttrs = attrs::read(&h.address, &h.attributes).unwrap();
        assert_eq!(hold.into_hold("audit").vaults, ["main"]);
    }

    #[test]
    fn replacement_attributes() {
        assert!(forces_replacement(Kind::Vault, "storage"));
        assert!(!forces_replacement(Kind::Vault, "tags"));
        assert!(forces_replacement(Kind::Directory, "path"));
    }
}
