//! Plan computation: compares desired objects with recorded state and decides, per object,
//! create / update / replace / delete / no-op, then orders the steps by dependencies.
//! Pure: everything, including `now` and the catalog's recovery point counts, is an argument.

use super::diff::{diff, AttributeChange};
use super::{
    Action, Change, CoveragePlan, InventorySource, Mode, Operation, Plan, StateRef, Step, Summary,
    PLAN_FORMAT_VERSION,
};
use crate::address::{Address, Kind};
use crate::coverage::{self, Cause, Coverage, Rules};
use crate::graph::DependencyGraph;
use crate::inventory::Inventory;
use crate::jobs::record::VaultPoints;
use crate::objects::{attrs, VaultAttrs};
use crate::objects::{forces_replacement, ObjectSpec};
use crate::state::State;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Everything a plan is computed from.
pub struct PlanInput<'a> {
    pub mode: Mode,
    /// Desired objects (ignored in destroy mode).
    pub desired: &'a [ObjectSpec],
    /// Recorded state, if any exists.
    pub state: Option<&'a State>,
    /// Live recovery points per vault name, from the catalog.
    pub recovery_points: &'a BTreeMap<String, VaultPoints>,
    /// The live (COMPLETED) points, for the retention forecast: whole groups, or none when
    /// the policies did not change.
    pub points: &'a crate::jobs::live::LivePoints,
    pub now: DateTime<Utc>,
    /// The inventory to compute coverage from, if any.
    pub inventory: Option<(&'a Inventory, InventorySource)>,
}

/// A change the plan refuses to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub address: Address,
    /// The diagnostic code (`coffer::…`).
    pub code: &'static str,
    /// Whether the problem is the vault's `lock` block (else the object itself).
    pub at_lock: bool,
    pub message: String,
    pub help: String,
}

/// Computes the plan, or the reasons it cannot be made.
pub fn compute(input: &PlanInput<'_>) -> Result<Plan, Vec<PlanError>> {
    let empty_state = BTreeMap::new();
    let recorded = input.state.map_or(&empty_state, |s| &s.objects);
    // drift-only plans leave objects as recorded
    let recorded_specs: Vec<ObjectSpec> = match input.mode {
        Mode::DriftOnly => recorded
            .values()
            .map(|o| ObjectSpec {
                address: o.address.clone(),
                kind: o.kind,
                attributes: o.attributes.clone(),
                depends_on: o.depends_on.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let desired: BTreeMap<&Address, &ObjectSpec> = match input.mode {
        Mode::Normal => input.desired.iter().map(|o| (&o.address, o)).collect(),
        Mode::Destroy => BTreeMap::new(),
        Mode::DriftOnly => recorded_specs.iter().map(|o| (&o.address, o)).collect(),
    };
    let mut addresses: BTreeSet<&Address> = desired.keys().copied().collect();
    addresses.extend(recorded.keys());

    let mut changes = Vec::with_capacity(addresses.len());
    let mut summary = Summary::default();
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    for addr in addresses {
        let before = recorded.get(addr);
        let after = desired.get(addr);
        let change = match (before, after) {
            (None, Some(a)) => {
                summary.add += 1;
                Change {
                    address: addr.clone(),
                    kind: addr.kind(),
                    action: Action::Create,
                    before: None,
                    after: Some(a.attributes.clone()),
                    attribute_changes: Vec::new(),
                    schedule_preview: None,
                }
            }
            (Some(b), None) => {
                summary.destroy += 1;
                Change {
                    address: addr.clone(),
                    kind: addr.kind(),
                    action: Action::Delete,
                    before: Some(b.attributes.clone()),
                    after: None,
                    attribute_changes: Vec::new(),
                    schedule_preview: None,
                }
            }
            (Some(b), Some(a)) => {
                let kind = addr.kind();
                let attribute_changes: Vec<AttributeChange> =
                    diff(&b.attributes, &a.attributes, &|top| {
                        forces_replacement(kind, top)
                    });
                let action = if attribute_changes.is_empty() {
                    Action::NoOp
                } else if attribute_changes.iter().any(|c| c.forces_replacement) {
                    summary.add += 1;
                    summary.destroy += 1;
                    Action::Replace
                } else {
                    summary.change += 1;
                    Action::Update
                };
                let schedule_preview = if kind == Kind::Rule && action != Action::NoOp {
                    let tops: Vec<&str> = attribute_changes
                        .iter()
                        .map(|c| c.path.split(['.', '[']).next().unwrap_or(""))
                        .collect();
                    super::preview::preview(&b.attributes, &a.attributes, &tops, input.now)
                } else {
                    None
                };
                Change {
                    address: addr.clone(),
                    kind,
                    action,
                    // an unchanged object's attributes are carried once, in `after`
                    before: (action != Action::NoOp).then(|| b.attributes.clone()),
                    after: Some(a.attributes.clone()),
                    attribute_changes,
                    schedule_preview,
                }
            }
            (None, None) => continue,
        };
        if matches!(change.action, Action::Delete | Action::Replace) && change.kind == Kind::Vault {
            let points = input
                .recovery_points
                .get(change.address.name())
                .copied()
                .unwrap_or_default();
            check_vault_destroy(&change, points, input.now, &mut errors, &mut notes);
            check_held_vault_destroy(&change, points, input.desired, &mut errors);
        }
        if change.kind == Kind::Vault && change.action != Action::NoOp {
            if let Some(recorded) = before {
                let points = input
                    .recovery_points
                    .get(change.address.name())
                    .copied()
                    .unwrap_or_default();
                check_fixed_lock(&change, recorded, points, input.now, &mut errors);
            }
        }
        changes.push(change);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    for c in &changes {
        if let (Address::Rule { .. }, Action::Create | Action::Update | Action::Replace) =
            (&c.address, c.action)
        {
            if let Some(note) = cold_storage_note(&c.address, c.after.as_ref()) {
                notes.push(note);
            }
            notes.extend(super::copies::inherited_lifecycle(
                &c.address,
                c.after.as_ref(),
            ));
        }
    }
    let steps = order_steps(&changes, &desired, recorded);
    let coverage = input.inventory.map(|(inventory, source)| {
        let new_rules = Rules::from_objects(desired.iter().map(|(a, o)| (*a, &o.attributes)));
        let old_rules = Rules::from_objects(recorded.iter().map(|(a, o)| (a, &o.attributes)));
        let new_coverage = coverage::compute(&new_rules, inventory);
        let unchanged_rules = coverage::compute(&old_rules, inventory);
        let empty = Coverage::new();
        let before = input.state.map_or(&empty, |s| &s.coverage);
        let (mut gained, mut lost) = coverage::diff(
            before,
            &new_coverage,
            &unchanged_rules,
            input.state.and_then(|s| s.inventory.as_ref()),
            inventory,
        );
        for g in &mut gained {
            g.rules = new_rules.rules_of(&g.plan);
        }
        for l in &mut lost {
            l.rules = old_rules.rules_of(&l.plan);
        }
        if input.mode == Mode::DriftOnly {
            gained.retain(|c| c.cause == Cause::Drift);
            lost.retain(|c| c.cause == Cause::Drift);
        }
        CoveragePlan {
            inventory_source: source,
            resources: inventory.len(),
            unmatched_selections: coverage::unmatched(&new_rules, &new_coverage),
            overlaps: coverage::overlaps(&new_rules, &new_coverage),
            gained,
            lost,
            coverage: new_coverage,
            inventory: (source == InventorySource::Refreshed).then(|| inventory.clone()),
        }
    });
    if let Some(c) = &coverage {
        summary.protection_gained = c.gained.len();
        summary.protection_lost = c.lost.len();
        if let Some((inventory, _)) = input.inventory {
            notes.extend(super::copies::missing_destination_keys(
                &desired,
                &c.coverage,
                inventory,
            ));
            notes.extend(super::copies::uncopyable(&desired, &c.coverage, inventory));
        }
    }
    Ok(Plan {
        drift: Default::default(),
        format_version: PLAN_FORMAT_VERSION,
        coffer_version: crate::VERSION.to_string(),
        mode: input.mode,
        planned_at: input.now,
        state: StateRef {
            lineage: input.state.map(|s| s.lineage.clone()),
            serial: input.state.map_or(0, |s| s.serial),
        },
        changes,
        steps,
        summary,
        notes,
        coverage,
        recovery_points: forecast(input),
    })
}

/// What the first tick after apply would delete because of this plan.
fn forecast(input: &PlanInput<'_>) -> super::forecast::Forecast {
    let Some((before, after)) =
        super::forecast::changed_policies(input.mode, input.state, input.desired)
    else {
        return super::forecast::Forecast::default();
    };
    let presence = input.inventory.map(|(i, _)| i.presence());
    let exists = |arn: &str| presence.as_ref().is_none_or(|p| p.exists(arn));
    super::forecast::forecast(&before, &after, input.points, &exists, input.now)
}

/// Why a vault cannot be destroyed (or replaced) now, if it cannot: it holds recovery points
/// and its *recorded* configuration does not say `force_destroy = true`; or it does, but the
/// vault's lock still protects its newest point, whose data force_destroy would delete.
/// Unreadable recorded attributes (no coffer writes them) should be passed as the default,
/// which refuses like a vault without force_destroy.
pub fn vault_destroy_refusal(
    name: &str,
    recorded: &VaultAttrs,
    points: VaultPoints,
    now: DateTime<Utc>,
    verb: &str,
) -> Option<(String, String)> {
    let force = recorded.force_destroy;
    let count = points.count;
    let plural = if count == 1 { "" } else { "s" };
    if count > 0 && !force {
        return Some((
            format!("cannot {verb} vault `{name}`: it holds {count} recovery point{plural}"),
            format!("to {verb} it anyway, first set `force_destroy = true` on vault \"{name}\" and apply that change, then {verb} it; or keep the vault"),
        ));
    }
    let until = points
        .newest
        .and_then(|made| crate::jobs::vault_lock::locked_until(recorded.lock.as_ref(), made))
        .filter(|until| *until > now)?;
    Some((
        format!(
            "cannot {verb} vault `{name}`: its lock keeps its recovery points until {}",
            until.format("%Y-%m-%d %H:%M UTC")
        ),
        "force_destroy deletes the vault's repository data, which a vault lock forbids while any point is within min_retention; keep the vault until then".into(),
    ))
}

/// Refuses a change that removes or shortens a compliance lock past its grace period (the
/// vault itself may go once it holds no points).
fn check_fixed_lock(
    change: &Change,
    recorded: &crate::state::StateObject,
    points: VaultPoints,
    now: DateTime<Utc>,
    errors: &mut Vec<PlanError>,
) {
    let Ok(before) = attrs::read::<VaultAttrs>(&change.address, &recorded.attributes) else {
        return;
    };
    let Some(lock) = before.lock else {
        return;
    };
    let after = match (&change.after, change.action) {
        (_, Action::Delete) if points.count == 0 => return,
        (Some(a), Action::Update | Action::Replace) => {
            attrs::read::<VaultAttrs>(&change.address, a)
                .ok()
                .and_then(|v| v.lock)
        }
        _ => None,
    };
    let applied = recorded.lock_applied_at.unwrap_or(recorded.created_at);
    if let Some(why) =
        crate::jobs::vault_lock::fixed_lock_refusal(&lock, after.as_ref(), applied, now)
    {
        errors.push(PlanError {
            address: change.address.clone(),
            code: "coffer::compliance_lock_fixed",
            at_lock: true,
            message: format!("vault `{}`: {why}", change.address.name()),
            help: "keep the lock block as it was applied: a fixed compliance lock's retentions may only grow, and the vault can be destroyed only once it holds no recovery points".into(),
        });
    }
}

/// Refuses destroying (or replacing) with `force_destroy` a vault holding points that a legal
/// hold which stays applied may hold: nothing deletes a held point. A hold that names other
/// vaults only does not stop it; one that names no vault might hold points anywhere.
fn check_held_vault_destroy(
    change: &Change,
    points: VaultPoints,
    desired: &[ObjectSpec],
    errors: &mut Vec<PlanError>,
) {
    let name = change.address.name();
    let force = change
        .before
        .as_ref()
        .and_then(|b| attrs::read::<VaultAttrs>(&change.address, b).ok())
        .is_some_and(|v| v.force_destroy);
    if !force || points.count == 0 {
        return;
    }
    for spec in desired {
        let Address::LegalHold(hold) = &spec.address else {
            continue;
        };
        let Ok(h) = attrs::read::<crate::objects::LegalHoldAttrs>(&spec.address, &spec.attributes)
        else {
            continue;
        };
        let h = h.into_hold(hold);
        if h.vaults.is_empty() || h.vaults.iter().any(|v| v == name) {
            errors.push(PlanError {
                address: change.address.clone(),
                code: "coffer::vault_held",
                at_lock: false,
                message: format!(
                    "cannot destroy vault `{name}` with force_destroy: legal hold `{hold}` may hold its recovery points, and nothing deletes a held point"
                ),
                help: format!("release the hold first (remove legal_hold \"{hold}\" and apply), or narrow its `vaults` to other vaults"),
            });
        }
    }
}

/// Checks a vault's destroy or replace ([`vault_destroy_refusal`]) and says what happens to
/// its repository: kept, or (with `force_destroy`) deleted with its points.
fn check_vault_destroy(
    change: &Change,
    points: VaultPoints,
    now: DateTime<Utc>,
    errors: &mut Vec<PlanError>,
    notes: &mut Vec<String>,
) {
    let name = change.address.name();
    let Some(before) = change.before.as_ref() else {
        return;
    };
    let verb = if change.action == Action::Replace {
        "replace"
    } else {
        "destroy"
    };
    let recorded = attrs::read::<VaultAttrs>(&change.address, before);
    let refusal_basis = recorded.clone().unwrap_or_default();
    if let Some((message, help)) = vault_destroy_refusal(name, &refusal_basis, points, now, verb) {
        errors.push(PlanError {
            address: change.address.clone(),
            code: "coffer::vault_not_empty",
            at_lock: false,
            message,
            help,
        });
    }
    let Ok(vault) = recorded else {
        return;
    };
    let Some(storage) = vault.storage.as_deref() else {
        return;
    };
    if vault.force_destroy {
        let count = points.count;
        notes.push(format!(
            "{}: force_destroy deletes the repository at {storage} and the {count} recovery point{} it holds",
            change.address,
            if count == 1 { "" } else { "s" }
        ));
    } else {
        notes.push(format!("{}: the repository at {storage} is kept; coffer deletes repository data only for a vault with force_destroy = true", change.address));
    }
}

/// What `cold_storage_after` does for a rule being created or changed: only EBS snapshots of
/// a rule that opts in go to the archive tier; other types ignore it, as in AWS Backup.
fn cold_storage_note(address: &Address, after: Option<&serde_json::Value>) -> Option<String> {
    let rule: crate::objects::RuleAttrs = attrs::read(address, after?).ok()?;
    let lifecycle = rule.lifecycle?;
    lifecycle.cold_storage_after.as_ref()?;
    let others = "directories and EFS go cold only into a vault's cold_storage repository, and RDS, Aurora and EC2 points ignore it, as AWS Backup does";
    Some(if lifecycle.opt_in_to_archive {
        format!("{address}: cold_storage_after moves EBS snapshots to the archive tier; {others}")
    } else {
        format!("{address}: cold_storage_after moves EBS snapshots only with opt_in_to_archive = true; {others}")
    })
}

/// Orders steps so that every create/update runs after the objects it depends on, every
/// delete runs after the objects that depended on it are gone or no longer depend on it,
/// and a replacement's delete runs before its create.
fn order_steps(
    changes: &[Change],
    desired: &BTreeMap<&Address, &ObjectSpec>,
    recorded: &BTreeMap<Address, crate::state::StateObject>,
) -> Vec<Step> {
    type Key = (Address, Operation);
    let mut ops: BTreeMap<&Address, Action> = BTreeMap::new();
    for c in changes {
        if c.action != Action::NoOp {
            ops.insert(&c.address, c.action);
        }
    }
    let has = |a: &Address, op: Operation| -> bool {
        matches!(
            (ops.get(a), op),
            (Some(Action::Create | Action::Replace), Operation::Create)
                | (Some(Action::Update), Operation::Update)
                | (Some(Action::Delete | Action::Replace), Operation::Delete)
        )
    };
    let mut g: DependencyGraph<Key> = DependencyGraph::new();
    for (addr, action) in &ops {
        let addr = (*addr).clone();
        match action {
            Action::Create => {
                g.add_node((addr, Operation::Create));
            }
            Action::Update => {
                g.add_node((addr, Operation::Update));
            }
            Action::Delete => {
                g.add_node((addr, Operation::Delete));
            }
            Action::Replace => {
                g.add_dependency((addr.clone(), Operation::Create), (addr, Operation::Delete));
            }
            Action::NoOp => {}
        }
    }
    // creates and updates after what they depend on
    for (addr, action) in &ops {
        let op = match action {
            Action::Create | Action::Replace => Operation::Create,
            Action::Update => Operation::Update,
            _ => continue,
        };
        let Some(spec) = desired.get(addr) else {
            continue;
        };
        for dep in &spec.depends_on {
            for dep_op in [Operation::Create, Operation::Update] {
                if has(dep, dep_op) {
                    g.add_dependency(((*addr).clone(), op), (dep.clone(), dep_op));
                }
            }
        }
    }
    // deletes after their former dependents are deleted or stop depending on them
    let mut dependents: BTreeMap<&Address, Vec<&Address>> = BTreeMap::new();
    for o in recorded.values() {
        for d in &o.depends_on {
            dependents.entry(d).or_default().push(&o.address);
        }
    }
    for (addr, _) in ops.iter().filter(|(a, _)| has(a, Operation::Delete)) {
        for dependent in dependents.get(addr).into_iter().flatten() {
            if has(dependent, Operation::Delete) {
                g.add_dependency(
                    ((*addr).clone(), Operation::Delete),
                    ((*dependent).clone(), Operation::Delete),
                );
            }
            let still_depends = desired
                .get(dependent)
                .is_some_and(|s| s.depends_on.contains(addr));
            if has(dependent, Operation::Update) && !still_depends {
                g.add_dependency(
                    ((*addr).clone(), Operation::Delete),
                    ((*dependent).clone(), Operation::Update),
                );
            }
        }
    }
    let order = g.order().unwrap_or_else(|_| {
        // Unreachable for acyclic configurations and states; fall back to phases.
        let mut keys: Vec<Key> = Vec::new();
        let mut deletes: Vec<Key> = ops
            .keys()
            .filter(|a| has(a, Operation::Delete))
            .map(|a| ((*a).clone(), Operation::Delete))
            .collect();
        deletes.reverse();
        keys.extend(deletes);
        keys.extend(
            ops.keys()
                .filter(|a| has(a, Operation::Create))
                .map(|a| ((*a).clone(), Operation::Create)),
        );
        keys.extend(
            ops.keys()
                .filter(|a| has(a, Operation::Update))
                .map(|a| ((*a).clone(), Operation::Update)),
        );
        keys
    });
    order
        .into_iter()
        .map(|(address, operation)| {
            let object = match operation {
                Operation::Delete => None,
                _ => desired.get(&address).map(|s| (*s).clone()),
            };
            Step {
                address,
                operation,
                object,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
