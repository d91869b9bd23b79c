//! Preparing a tick: from what was applied (recorded state: rules, selections, vaults) and
//! what exists now (the inventory), the rules to schedule, the coverage they apply to, and
//! each vault's repository. Only reviewed changes take effect: the configuration on disk is
//! not read here.

use crate::coverage::{self, Coverage};
use crate::inventory::Inventory;
use crate::jobs::{rules_from_objects, RuleInfo};
use crate::repository::{vault_repository, VaultRepository};
use crate::state::State;
use std::collections::BTreeMap;
use std::path::Path;

/// What a tick works from.
#[derive(Debug)]
pub struct Prepared {
    pub rules: Vec<RuleInfo>,
    pub coverage: Coverage,
    /// Every applied vault's name.
    pub vaults: Vec<String>,
    /// Each applied vault's repository (vaults with `storage`), for file-level backups.
    pub repositories: BTreeMap<String, VaultRepository>,
    /// The applied lifecycle policies, locks and legal holds.
    pub policies: crate::jobs::lifecycle::Policies,
    /// Where each applied vault's native points live.
    pub homes: BTreeMap<String, crate::providers::aws::VaultHome>,
    /// The applied restore tests.
    pub restore_tests: crate::runner::restore_test::RestoreTests,
}

/// Prepares a tick from the applied `state` and the discovered `inventory`; relative paths
/// are relative to `config_dir`, and `env` looks up the vault keys' variables.
pub fn prepare(
    state: &State,
    inventory: &Inventory,
    config_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, String> {
    let objects = state.objects.iter().map(|(a, o)| (a, &o.attributes));
    let rules = rules_from_objects(objects.clone())?;
    let policies = crate::jobs::lifecycle::Policies::from_objects(objects.clone())?;
    let restore_tests = crate::runner::restore_test::RestoreTests {
        tests: crate::jobs::restore_test::tests_from_objects(objects.clone())?,
        config_dir: config_dir.to_path_buf(),
    };
    let selections = coverage::Rules::from_objects(objects);
    let coverage = coverage::compute(&selections, inventory);
    let mut vaults = Vec::new();
    let mut repositories = BTreeMap::new();
    let mut homes = BTreeMap::new();
    for (address, object) in &state.objects {
        if let crate::address::Address::Vault(v) = address {
            vaults.push(v.clone());
            let attrs: crate::objects::VaultAttrs =
                crate::objects::attrs::read(address, &object.attributes)
                    .map_err(|e| e.to_string())?;
            homes.insert(
                v.clone(),
                crate::providers::aws::VaultHome {
                    region: attrs.region.clone(),
                    provider: attrs.provider_alias().map(str::to_string),
                    kms_key_arn: attrs.kms_key_arn.clone(),
                },
            );
            if let Some(repo) = vault_repository(v, &object.attributes, config_dir, env)? {
                repositories.insert(v.clone(), repo);
            }
        }
    }
    Ok(Prepared {
        rules,
        coverage,
        vaults,
        repositories,
        policies,
        homes,
        restore_tests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, ConfigInput};
    use crate::diag::SourceFile;
    use crate::inventory::{Resource, ResourceType};
    use crate::state::StateObject;

    /// A state as apply records this configuration.
    fn applied(text: &str) -> State {
        let loaded = config::load(ConfigInput {
            files: vec![SourceFile::new("main.hcl", text)],
            ..Default::default()
        });
        let config = loaded.config.expect("valid");
        let mut state = State::new("L");
        for o in crate::objects::desired(&config) {
            state.objects.insert(
                o.address.clone(),
                StateObject {
                    address: o.address.clone(),
                    kind: o.kind,
                    id: "x".into(),
                    attributes: o.attributes,
                    depends_on: o.depends_on,
                    created_at: chrono::DateTime::UNIX_EPOCH,
                    updated_at: chrono::DateTime::UNIX_EPOCH,
                    lock_applied_at: None,
                },
            );
        }
        state
    }

    #[test]
    fn a_tick_is_prepared_from_the_applied_state_and_the_inventory() {
        let state = applied(
            r#"
            vault "main" {
              storage = "file://./vaults/main"
            }
            vault "cold" {}
            plan "daily" {
              rule "nightly" {
                schedule     = "cron(0 3 * * ? *)"
                target_vault = vault.main
              }
            }
            selection "dirs" {
              plan      = plan.daily
              resources = ["dir:*"]
            }
            "#,
        );
        let inventory = Inventory::new(vec![
            Resource::new("dir:/data", ResourceType::Directory, "local", "local"),
            Resource::new(
                "arn:aws:ec2:us-east-1:1:volume/vol-1",
                ResourceType::EbsVolume,
                "us-east-1",
                "1",
            ),
        ]);
        let key = |k: &str| (k == "COFFER_VAULT_PASSWORD").then(|| "secret".to_string());
        let p = prepare(&state, &inventory, Path::new("/cfg"), &key).unwrap();
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.rules[0].vault, "main");
        assert!(p.coverage.contains_key("dir:/data"));
        assert!(!p
            .coverage
            .contains_key("arn:aws:ec2:us-east-1:1:volume/vol-1"));
        assert_eq!(p.vaults, ["cold", "main"]);
        let repo = &p.repositories["main"];
        assert_eq!(repo.location.to_string(), "file:///cfg/vaults/main");
        assert_eq!(repo.password.as_deref(), Ok("secret"));
        assert!(
            !p.repositories.contains_key("cold"),
            "no storage, no repository"
        );
    }
}
