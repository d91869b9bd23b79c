//! Protection coverage (pure): which resources each selection covers ([`select`]), computed
//! for a whole inventory with indexes so thousands of selections stay fast; resources covered
//! by several plans and which rule wins; selections that match nothing; and the difference
//! between recorded and new coverage, each change attributed to the configuration or to
//! drift in the cloud.

pub mod select;

use crate::address::{Address, Kind};
use crate::inventory::{Inventory, Resource, ResourceType};
use crate::objects::{attrs, PlanAttrs, RuleAttrs};
use select::{glob, in_regions, SelectionSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One selection (and its plan) protecting a resource.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Protection {
    pub selection: Address,
    pub plan: Address,
}

/// For each covered resource ARN, what protects it (sorted).
pub type Coverage = BTreeMap<String, Vec<Protection>>;

/// A rule and how long it keeps what it backs up (`None`: forever).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRetention {
    pub rule: Address,
    pub delete_after: Option<String>,
    #[serde(skip)]
    pub days: Option<u64>,
}

/// Selections, plans and rules, read from object attributes (configured or recorded).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub selections: Vec<SelectionSpec>,
    /// Each plan's regions (empty: any region).
    pub plans: BTreeMap<Address, Vec<String>>,
    pub rules: BTreeMap<Address, Vec<RuleRetention>>,
}

impl Rules {
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = (&'a Address, &'a Value)>) -> Rules {
        let mut out = Rules::default();
        for (addr, recorded) in objects {
            match addr {
                Address::Selection(_) => {
                    if let Some(s) = SelectionSpec::from_attributes(addr, recorded) {
                        out.selections.push(s);
                    }
                }
                Address::Plan(_) => {
                    let regions = attrs::read::<PlanAttrs>(addr, recorded)
                        .map(|p| p.regions)
                        .unwrap_or_default();
                    out.plans.insert(addr.clone(), regions);
                }
                Address::Rule { plan, .. } => {
                    let delete = attrs::read::<RuleAttrs>(addr, recorded)
                        .ok()
                        .and_then(|r| r.lifecycle)
                        .and_then(|l| l.delete_after);
                    let delete_after = delete.as_ref().map(|d| d.as_str().to_string());
                    let days = delete.map(|d| d.days());
                    out.rules
                        .entry(Address::Plan(plan.clone()))
                        .or_default()
                        .push(RuleRetention {
                            rule: addr.clone(),
                            delete_after,
                            days,
                        });
                }
                _ => {}
            }
        }
        out
    }
}

/// Indexes over an inventory for fast selection.
struct Index<'a> {
    inventory: &'a Inventory,
    by_tag: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(inventory: &'a Inventory) -> Index<'a> {
        let mut by_tag: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, r) in inventory.resources.iter().enumerate() {
            for (k, v) in &r.tags {
                by_tag.entry((k.as_str(), v.as_str())).or_default().push(i);
            }
        }
        Index { inventory, by_tag }
    }

    /// Indices of resources whose ARN matches the pattern.
    fn arns(&self, pattern: &str, out: &mut Vec<usize>) {
        let rs = &self.inventory.resources;
        match pattern.find('*') {
            None => {
                if let Ok(i) = rs.binary_search_by(|r| r.arn.as_str().cmp(pattern)) {
                    out.push(i);
                }
            }
            Some(star) if star == pattern.len() - 1 => {
                // a prefix: a contiguous range of the sorted ARNs
                let prefix = &pattern[..star];
                let start = rs.partition_point(|r| r.arn.as_str() < prefix);
                out.extend((start..rs.len()).take_while(|i| rs[*i].arn.starts_with(prefix)));
            }
            Some(_) => out.extend(
                rs.iter()
                    .enumerate()
                    .filter(|(_, r)| glob(pattern, &r.arn))
                    .map(|(i, _)| i),
            ),
        }
    }

    /// Indices of resources the selection's tag and ARN criteria pick, before conditions.
    fn base(&self, s: &SelectionSpec) -> Vec<usize> {
        if s.all_resources || !s.has_base() {
            return (0..self.inventory.resources.len()).collect();
        }
        let mut out = Vec::new();
        for (k, values) in &s.any_tag {
            for v in values {
                if let Some(ix) = self.by_tag.get(&(k.as_str(), v.as_str())) {
                    out.extend_from_slice(ix);
                }
            }
        }
        for p in &s.resources {
            self.arns(p, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What every selection covers in the inventory.
pub fn compute(rules: &Rules, inventory: &Inventory) -> Coverage {
    let index = Index::new(inventory);
    // selections in address order, so each resource's list comes out sorted
    let mut order: Vec<&SelectionSpec> = rules.selections.iter().collect();
    order.sort_by(|a, b| (&a.address, &a.plan).cmp(&(&b.address, &b.plan)));
    let mut hits: Vec<Vec<u32>> = vec![Vec::new(); inventory.resources.len()];
    for (si, s) in order.iter().enumerate() {
        let Some(regions) = rules.plans.get(&s.plan) else {
            continue;
        };
        for i in index.base(s) {
            let r = &inventory.resources[i];
            // what a restore test restored is never protected: it is deleted after validation
            if r.tags
                .contains_key(crate::jobs::restore_test::RESTORE_TEST_TAG)
            {
                continue;
            }
            if in_regions(r, regions) && s.conditions_hold(r) && !s.excluded(r) {
                hits[i].push(si as u32);
            }
        }
    }
    // resources are sorted by ARN, so the map is built from a sorted sequence
    inventory
        .resources
        .iter()
        .zip(hits)
        .filter(|(_, h)| !h.is_empty())
        .map(|(r, h)| {
            let protections = h
                .into_iter()
                .map(|si| {
                    let s = order[si as usize];
                    Protection {
                        selection: s.address.clone(),
                        plan: s.plan.clone(),
                    }
                })
                .collect();
            (r.arn.clone(), protections)
        })
        .collect()
}

/// Selections that cover nothing.
pub fn unmatched(rules: &Rules, coverage: &Coverage) -> Vec<Address> {
    let used: std::collections::HashSet<&Address> =
        coverage.values().flatten().map(|p| &p.selection).collect();
    let mut out: Vec<Address> = rules
        .selections
        .iter()
        .map(|s| s.address.clone())
        .filter(|a| !used.contains(a))
        .collect();
    out.sort();
    out
}

/// A resource covered by more than one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    pub arn: String,
    pub plans: Vec<Address>,
    pub rules: Vec<RuleRetention>,
    /// When runs of these rules coincide, the rule with the longest retention runs (as AWS
    /// Backup does); `None` when the plans have no rules.
    pub winner: Option<Address>,
}

/// Resources protected by several plans, and which rule wins when their runs coincide.
pub fn overlaps(rules: &Rules, coverage: &Coverage) -> Vec<Overlap> {
    let mut out = Vec::new();
    for (arn, protections) in coverage {
        let mut plans: Vec<&Address> = protections.iter().map(|p| &p.plan).collect();
        plans.sort_unstable();
        plans.dedup();
        if plans.len() < 2 {
            continue;
        }
        let all: Vec<RuleRetention> = plans
            .iter()
            .flat_map(|p| rules.rules.get(*p).cloned().unwrap_or_default())
            .collect();
        // longest retention wins; keeping forever beats any number of days; ties by address
        let winner = all
            .iter()
            .max_by(|a, b| {
                a.days
                    .unwrap_or(u64::MAX)
                    .cmp(&b.days.unwrap_or(u64::MAX))
                    .then_with(|| b.rule.cmp(&a.rule))
            })
            .map(|r| r.rule.clone());
        out.push(Overlap {
            arn: arn.clone(),
            plans: plans.into_iter().cloned().collect(),
            rules: all,
            winner,
        });
    }
    out
}

/// Why coverage changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The configuration changed (a selection, plan or rule).
    Configuration,
    /// The cloud changed (a resource was created, deleted, tagged or untagged).
    Drift,
}

/// A resource gaining or losing one protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageChange {
    pub arn: String,
    #[serde(rename = "type")]
    pub resource_type: Option<ResourceType>,
    pub name: Option<String>,
    pub selection: Address,
    pub plan: Address,
    /// The plan's rules that will back the resource up (or did).
    #[serde(default)]
    pub rules: Vec<Address>,
    pub cause: Cause,
    /// For drift: what changed in the cloud.
    pub detail: Option<String>,
}

fn drift_detail(arn: &str, old: Option<&Inventory>, new: &Inventory) -> Option<String> {
    let before = old.and_then(|i| i.get(arn));
    let after = new.get(arn);
    match (before, after) {
        (None, Some(_)) => Some("resource created".into()),
        (Some(_), None) => Some("resource deleted".into()),
        (Some(b), Some(a)) => {
            let mut parts = Vec::new();
            let keys: BTreeSet<&String> = b.tags.keys().chain(a.tags.keys()).collect();
            for k in keys {
                match (b.tags.get(k), a.tags.get(k)) {
                    (None, Some(v)) => parts.push(format!("tag {k}={v} added")),
                    (Some(v), None) => parts.push(format!("tag {k}={v} removed")),
                    (Some(x), Some(y)) if x != y => {
                        parts.push(format!("tag {k} changed from {x} to {y}"))
                    }
                    _ => {}
                }
            }
            if b.region != a.region {
                parts.push(format!("moved from {} to {}", b.region, a.region));
            }
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        (None, None) => None,
    }
}

fn pairs(c: &Coverage) -> BTreeSet<(&String, &Protection)> {
    c.iter()
        .flat_map(|(arn, ps)| ps.iter().map(move |p| (arn, p)))
        .collect()
}

/// Gained and lost protections between the recorded coverage and the new one. `unchanged_rules`
/// is the coverage the recorded configuration would have on the new inventory: a change it
/// also shows came from the cloud, one it does not came from the configuration.
pub fn diff(
    recorded: &Coverage,
    new: &Coverage,
    unchanged_rules: &Coverage,
    old_inventory: Option<&Inventory>,
    new_inventory: &Inventory,
) -> (Vec<CoverageChange>, Vec<CoverageChange>) {
    let (r, n, d) = (pairs(recorded), pairs(new), pairs(unchanged_rules));
    let describe = |arn: &String, p: &Protection, cause: Cause| {
        let res: Option<&Resource> = new_inventory
            .get(arn)
            .or_else(|| old_inventory.and_then(|i| i.get(arn)));
        CoverageChange {
            arn: arn.clone(),
            resource_type: res.map(|r| r.resource_type),
            name: res.and_then(|r| r.name.clone()),
            selection: p.selection.clone(),
            plan: p.plan.clone(),
            rules: Vec::new(),
            cause,
            detail: if cause == Cause::Drift {
                drift_detail(arn, old_inventory, new_inventory)
            } else {
                None
            },
        }
    };
    let gained = n
        .difference(&r)
        .map(|(arn, p)| {
            describe(
                arn,
                p,
                if d.contains(&(*arn, *p)) {
                    Cause::Drift
                } else {
                    Cause::Configuration
                },
            )
        })
        .collect();
    let lost = r
        .difference(&n)
        .map(|(arn, p)| {
            describe(
                arn,
                p,
                if d.contains(&(*arn, *p)) {
                    Cause::Configuration
                } else {
                    Cause::Drift
                },
            )
        })
        .collect();
    (gained, lost)
}

impl Rules {
    /// The rule addresses of a plan.
    pub fn rules_of(&self, plan: &Address) -> Vec<Address> {
        self.rules
            .get(plan)
            .map(|r| r.iter().map(|x| x.rule.clone()).collect())
            .unwrap_or_default()
    }
}

/// Addresses of the objects that define coverage.
pub fn is_coverage_object(a: &Address) -> bool {
    matches!(a.kind(), Kind::Selection | Kind::Plan | Kind::Rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule's recorded attributes with this `delete_after`.
    fn rule_json(delete_after: &str) -> serde_json::Value {
        serde_json::json!({
            "schedule": "cron(0 3 * * ? *)",
            "timezone": "UTC",
            "start_window": "1h",
            "completion_window": "8h",
            "target_vault": "vault.main",
            "lifecycle": {"delete_after": delete_after},
        })
    }
    use serde_json::json;

    fn res(arn: &str, tags: &[(&str, &str)]) -> Resource {
        Resource::new(arn, ResourceType::EbsVolume, "us-east-1", "1").with_tags(tags)
    }

    fn rules(objs: &[(&str, Value)]) -> Rules {
        let parsed: Vec<(Address, Value)> = objs
            .iter()
            .map(|(a, v)| (a.parse().unwrap(), v.clone()))
            .collect();
        Rules::from_objects(parsed.iter().map(|(a, v)| (a, v)))
    }

    fn world() -> Rules {
        rules(&[
            ("plan.daily", json!({"regions": ["us-east-1"]})),
            ("plan.monthly", json!({"regions": []})),
            ("plan.daily.rule.r", rule_json("35d")),
            ("plan.monthly.rule.m", rule_json("7y")),
            (
                "selection.web",
                json!({"plan": "plan.daily", "any_tag": {"App": ["web"]}}),
            ),
            (
                "selection.vols",
                json!({"plan": "plan.monthly", "resources": ["arn:aws:ec2:us-east-1:1:volume/*"]}),
            ),
            (
                "selection.none",
                json!({"plan": "plan.daily", "any_tag": {"App": ["nothing"]}}),
            ),
        ])
    }

    #[test]
    fn coverage_unmatched_and_overlaps() {
        let inv = Inventory::new(vec![
            res("arn:aws:ec2:us-east-1:1:volume/a", &[("App", "web")]),
            res("arn:aws:ec2:us-east-1:1:volume/b", &[]),
            res("arn:aws:rds:us-east-1:1:db:x", &[("App", "web")]),
        ]);
        let w = world();
        let c = compute(&w, &inv);
        assert_eq!(c.len(), 3);
        assert_eq!(c["arn:aws:ec2:us-east-1:1:volume/a"].len(), 2);
        assert_eq!(
            unmatched(&w, &c),
            vec!["selection.none".parse::<Address>().unwrap()]
        );
        let o = overlaps(&w, &c);
        assert_eq!(o.len(), 1);
        assert_eq!(
            o[0].winner,
            Some("plan.monthly.rule.m".parse().unwrap()),
            "7y beats 35d"
        );
    }

    #[test]
    fn changes_are_attributed_to_configuration_or_drift() {
        let old_inv = Inventory::new(vec![res("arn:v1", &[("App", "web")]), res("arn:v2", &[])]);
        let new_inv = Inventory::new(vec![
            res("arn:v2", &[("App", "web")]),
            res("arn:v3", &[("App", "db")]),
        ]);
        let old_rules = rules(&[
            ("plan.p", json!({})),
            (
                "selection.s",
                json!({"plan": "plan.p", "any_tag": {"App": ["web"]}}),
            ),
        ]);
        let new_rules = rules(&[
            ("plan.p", json!({})),
            (
                "selection.s",
                json!({"plan": "plan.p", "any_tag": {"App": ["web", "db"]}}),
            ),
        ]);
        let recorded = compute(&old_rules, &old_inv);
        let new = compute(&new_rules, &new_inv);
        let unchanged = compute(&old_rules, &new_inv);
        let (gained, lost) = diff(&recorded, &new, &unchanged, Some(&old_inv), &new_inv);
        let g: Vec<(&str, Cause, Option<&str>)> = gained
            .iter()
            .map(|c| (c.arn.as_str(), c.cause, c.detail.as_deref()))
            .collect();
        assert_eq!(
            g,
            vec![
                ("arn:v2", Cause::Drift, Some("tag App=web added")),
                ("arn:v3", Cause::Configuration, None)
            ]
        );
        let l: Vec<(&str, Cause, Option<&str>)> = lost
            .iter()
            .map(|c| (c.arn.as_str(), c.cause, c.detail.as_deref()))
            .collect();
        assert_eq!(l, vec![("arn:v1", Cause::Drift, Some("resource deleted"))]);
    }

    #[test]
    fn prefix_patterns_use_the_sorted_arns() {
        let inv = Inventory::new(
            (0..100)
                .map(|i| res(&format!("arn:aws:ec2:us-east-1:1:volume/v{i:03}"), &[]))
                .chain([res("arn:aws:rds:x", &[])])
                .collect(),
        );
        let w = rules(&[
            ("plan.p", json!({})),
            (
                "selection.s",
                json!({"plan": "plan.p", "resources": ["arn:aws:ec2:us-east-1:1:volume/v05*"]}),
            ),
        ]);
        let c = compute(&w, &inv);
        assert_eq!(c.len(), 10);
        let w = rules(&[
            ("plan.p", json!({})),
            ("selection.s", json!({"plan": "plan.p", "resources": ["*"]})),
        ]);
        assert_eq!(compute(&w, &inv).len(), 101);
    }
}
