//! What a plan says about a rule's copies: the lifecycle a `copy_to` without one of its own
//! inherits from its rule (said explicitly, as AWS Backup's console does not), and copies of
//! encrypted RDS and Aurora snapshots into another region whose vault names no key there,
//! which would fail, and DynamoDB points, which are not copied.

use crate::address::Address;
use crate::coverage::Coverage;
use crate::inventory::{Inventory, ResourceType};
use crate::objects::{attrs, ObjectSpec, RuleAttrs, VaultAttrs};
use std::collections::BTreeMap;

/// "copies into vault.dr keep delete_after = 7y from the rule", per `copy_to` of the rule
/// (with attributes `after`) that has no lifecycle of its own.
pub fn inherited_lifecycle(address: &Address, after: Option<&serde_json::Value>) -> Vec<String> {
    let Some(rule) = after.and_then(|a| attrs::read::<RuleAttrs>(address, a).ok()) else {
        return Vec::new();
    };
    let lifecycle = rule.lifecycle.clone().unwrap_or_default();
    let mut kept = Vec::new();
    if let Some(c) = &lifecycle.cold_storage_after {
        kept.push(format!("cold_storage_after = {c}"));
    }
    kept.push(match &lifecycle.delete_after {
        Some(d) => format!("delete_after = {d}"),
        None => "no delete_after (forever)".to_string(),
    });
    rule.copy_to
        .iter()
        .filter(|c| c.lifecycle.is_none())
        .map(|c| {
            format!(
                "{address}: copies into {} keep {} from the rule",
                c.vault,
                kept.join(" and ")
            )
        })
        .collect()
}

/// A note per rule whose copies of encrypted RDS or Aurora snapshots go to a vault in another
/// region without `kms_key_arn`: such a copy needs a key in the destination region, so those
/// copy jobs would fail.
pub fn missing_destination_keys(
    desired: &BTreeMap<&Address, &ObjectSpec>,
    coverage: &Coverage,
    inventory: &Inventory,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (address, spec) in desired {
        let Address::Rule { plan, .. } = address else {
            continue;
        };
        let Ok(rule) = attrs::read::<RuleAttrs>(*address, &spec.attributes) else {
            continue;
        };
        for copy in &rule.copy_to {
            let vault_address = Address::Vault(copy.vault_name().to_string());
            let Some(vault) = desired
                .get(&vault_address)
                .and_then(|v| attrs::read::<VaultAttrs>(&vault_address, &v.attributes).ok())
            else {
                continue;
            };
            let (Some(region), None) = (&vault.region, &vault.kms_key_arn) else {
                continue;
            };
            let plan = Address::Plan(plan.clone());
            let affected: Vec<&str> = coverage
                .iter()
                .filter(|(_, protections)| protections.iter().any(|p| p.plan == plan))
                .filter_map(|(arn, _)| inventory.get(arn))
                .filter(|r| {
                    matches!(
                        r.resource_type,
                        ResourceType::RdsInstance | ResourceType::AuroraCluster
                    ) && r.encrypted
                        && &r.region != region
                })
                .map(|r| r.arn.as_str())
                .collect();
            if affected.is_empty() {
                continue;
            }
            let shown: Vec<&str> = affected.iter().take(3).copied().collect();
            notes.push(format!(
                "{address}: copies of {} encrypted RDS/Aurora snapshot source{} ({}{}) into {vault_address} in {region} need a KMS key there; set kms_key_arn on {vault_address}, or those copy jobs fail",
                affected.len(),
                if affected.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if affected.len() > shown.len() { ", …" } else { "" }
            ));
        }
    }
    notes
}

/// A note per rule with `copy_to` whose plan covers DynamoDB tables: DynamoDB has no native
/// copy of a backup, so their points are not copied (no copy job is created).
pub fn uncopyable(
    desired: &BTreeMap<&Address, &ObjectSpec>,
    coverage: &Coverage,
    inventory: &Inventory,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (address, spec) in desired {
        let Address::Rule { plan, .. } = address else {
            continue;
        };
        let Ok(rule) = attrs::read::<RuleAttrs>(*address, &spec.attributes) else {
            continue;
        };
        if rule.copy_to.is_empty() {
            continue;
        }
        let plan = Address::Plan(plan.clone());
        let tables: Vec<&str> = coverage
            .iter()
            .filter(|(_, protections)| protections.iter().any(|p| p.plan == plan))
            .filter_map(|(arn, _)| inventory.get(arn))
            .filter(|r| r.resource_type == ResourceType::DynamoDbTable)
            .map(|r| r.arn.as_str())
            .collect();
        if tables.is_empty() {
            continue;
        }
        let shown: Vec<&str> = tables.iter().take(3).copied().collect();
        notes.push(format!(
            "{address}: the points of {} DynamoDB table{} ({}{}) are not copied: DynamoDB has no native copy of a backup",
            tables.len(),
            if tables.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if tables.len() > shown.len() { ", …" } else { "" }
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Resource;
    use serde_json::json;

    fn spec(address: &str, attributes: serde_json::Value) -> ObjectSpec {
        let address: Address = address.parse().unwrap();
        ObjectSpec {
            kind: address.kind(),
            address,
            attributes,
            depends_on: Vec::new(),
        }
    }

    fn rule(copy_lifecycle: serde_json::Value) -> serde_json::Value {
        json!({
            "schedule": "cron(0 3 * * ? *)",
            "timezone": "UTC",
            "start_window": "1h",
            "completion_window": "4h",
            "target_vault": "vault.main",
            "lifecycle": { "cold_storage_after": "90d", "delete_after": "7y" },
            "copy_to": [{ "vault": "vault.dr", "lifecycle": copy_lifecycle }],
        })
    }

    #[test]
    fn a_copy_without_a_lifecycle_says_what_it_keeps_from_its_rule() {
        let a: Address = "plan.p.rule.r".parse().unwrap();
        assert_eq!(
            inherited_lifecycle(&a, Some(&rule(serde_json::Value::Null))),
            ["plan.p.rule.r: copies into vault.dr keep cold_storage_after = 90d and delete_after = 7y from the rule"]
        );
        assert!(inherited_lifecycle(&a, Some(&rule(json!({ "delete_after": "1y" })))).is_empty());
    }

    #[test]
    fn encrypted_database_copies_into_another_region_need_a_key_there() {
        let specs = [
            spec(
                "vault.main",
                json!({ "storage": null, "kms_key_arn": null, "lock": null }),
            ),
            spec(
                "vault.dr",
                json!({ "storage": null, "kms_key_arn": null, "lock": null, "region": "us-west-2" }),
            ),
            spec("plan.p", json!({})),
            spec("plan.p.rule.r", rule(serde_json::Value::Null)),
        ];
        let desired: BTreeMap<&Address, &ObjectSpec> =
            specs.iter().map(|s| (&s.address, s)).collect();
        let arn = "arn:aws:rds:us-east-1:1:db:orders";
        let mut db = Resource::new(arn, ResourceType::RdsInstance, "us-east-1", "1");
        db.encrypted = true;
        let plain = Resource::new(
            "arn:aws:rds:us-east-1:1:db:plain",
            ResourceType::RdsInstance,
            "us-east-1",
            "1",
        );
        let inventory = Inventory::new(vec![db, plain]);
        let protection = crate::coverage::Protection {
            selection: "selection.s".parse().unwrap(),
            plan: "plan.p".parse().unwrap(),
        };
        let coverage: Coverage = [arn, "arn:aws:rds:us-east-1:1:db:plain"]
            .iter()
            .map(|a| (a.to_string(), vec![protection.clone()]))
            .collect();
        let notes = missing_destination_keys(&desired, &coverage, &inventory);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(uncopyable(&desired, &coverage, &inventory).is_empty());
        assert!(notes[0].contains("copies of 1 encrypted RDS/Aurora snapshot source (arn:aws:rds:us-east-1:1:db:orders) into vault.dr in us-west-2 need a KMS key there"), "{notes:?}");
    }
}
