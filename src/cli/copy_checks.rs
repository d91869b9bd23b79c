//! Plan-time checks of copies that need AWS to answer: a copy into another account of a
//! resource encrypted with an AWS managed key cannot be made (such a key cannot be shared
//! with another account), so the plan warns at the `copy_to` block instead of the copy job
//! failing later. Only a refreshed inventory is checked, and only rules that copy into a
//! vault of another provider make any call.

use super::context::runtime;
use super::discovery;
use crate::address::Address;
use crate::config::model::Config;
use crate::coverage::{self, Rules};
use crate::diag::Diagnostic;
use crate::inventory::Inventory;
use crate::objects::{attrs, ObjectSpec, RuleAttrs, VaultAttrs};
use crate::providers::aws::{shareable_key, Regions, VaultHome};
use std::collections::BTreeMap;

/// A rule's copy into a vault of another provider.
struct Candidate<'a> {
    plan: Address,
    rule: String,
    source_vault: String,
    vault: String,
    span: Option<&'a crate::diag::Span>,
}

pub(super) fn unshareable_keys(
    config: &Config,
    desired: &[ObjectSpec],
    inventory: &Inventory,
) -> Vec<Diagnostic> {
    let mut homes = BTreeMap::new();
    for spec in desired {
        if let Address::Vault(name) = &spec.address {
            if let Ok(v) = attrs::read::<VaultAttrs>(&spec.address, &spec.attributes) {
                homes.insert(
                    name.clone(),
                    VaultHome {
                        region: v.region.clone(),
                        provider: v.provider_alias().map(str::to_string),
                        kms_key_arn: v.kms_key_arn.clone(),
                    },
                );
            }
        }
    }
    let mut candidates = Vec::new();
    for spec in desired {
        let Address::Rule { plan, rule } = &spec.address else {
            continue;
        };
        let Ok(attrs) = attrs::read::<RuleAttrs>(&spec.address, &spec.attributes) else {
            continue;
        };
        for c in &attrs.copy_to {
            let vault = c.vault_name().to_string();
            if homes.get(&vault).is_some_and(|h| h.provider.is_some()) {
                let span = config
                    .plans
                    .get(plan)
                    .and_then(|p| p.rules.get(rule))
                    .and_then(|r| r.copy_to.iter().find(|x| x.vault == vault))
                    .map(|x| &x.span);
                candidates.push(Candidate {
                    plan: Address::Plan(plan.clone()),
                    rule: rule.clone(),
                    source_vault: attrs.vault_name().to_string(),
                    vault,
                    span,
                });
            }
        }
    }
    if candidates.is_empty() {
        return Vec::new();
    }
    let Ok(targets) = discovery::targets(config) else {
        return Vec::new();
    };
    let Ok(rt) = runtime() else {
        return Vec::new();
    };
    let rules = Rules::from_objects(desired.iter().map(|o| (&o.address, &o.attributes)));
    let covered = coverage::compute(&rules, inventory);
    rt.block_on(async {
        let regions = Regions::new(&targets, homes).await;
        let mut out = Vec::new();
        let mut checked: BTreeMap<String, Option<String>> = BTreeMap::new();
        for c in &candidates {
            let mut refused: Vec<(String, String)> = Vec::new();
            for (arn, protections) in &covered {
                if !protections.iter().any(|p| p.plan == c.plan) {
                    continue;
                }
                let Some(r) = inventory.get(arn) else { continue };
                let Some(key) = r.kms_key.as_deref().filter(|_| r.encrypted) else {
                    continue;
                };
                let (Ok(from), Ok(to)) = (
                    regions.account(r, &c.source_vault).await,
                    regions.account(r, &c.vault).await,
                ) else {
                    continue;
                };
                if from == to {
                    continue;
                }
                if !checked.contains_key(key) {
                    let why = match regions.of(r) {
                        Ok(clients) => match shareable_key(clients, &r.region, arn, Some(key)).await {
                            Err(e) if !e.transient => Some(e.message),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    checked.insert(key.to_string(), why);
                }
                if checked[key].is_some() {
                    refused.push((arn.clone(), key.to_string()));
                }
            }
            if refused.is_empty() {
                continue;
            }
            let shown: Vec<&str> = refused.iter().take(3).map(|(a, _)| a.as_str()).collect();
            let mut d = Diagnostic::warning(
                "coffer::unshareable_key",
                format!(
                    "rule `{}` cannot copy {} resource{} ({}{}) into vault `{}` in another account: {} encrypted with an AWS managed key, which cannot be shared with another account",
                    c.rule,
                    refused.len(),
                    if refused.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if refused.len() > shown.len() { ", …" } else { "" },
                    c.vault,
                    if refused.len() == 1 { "it is" } else { "they are" },
                ),
            )
            .with_help("encrypt them with a customer managed key, or copy into a vault of the same account; those copy jobs fail until then");
            if let Some(span) = c.span {
                d = d.at(span.clone(), "copies into another account");
            }
            out.push(d);
        }
        out
    })
}
