//! Lifecycle evaluation (pure): for live recovery points, grouped by the rule that made them,
//! their resource and their vault, what lifecycle does with each now, given the applied rules'
//! `keep` policies and `keep_at_least` floors, the vaults' locks and the legal holds, and why
//! each point that stays is kept. The tick acts on the result, `recovery-points list --why`
//! shows it, and the plan's forecast compares it before and after a change.

use super::expiry::{decide, Action, Protections, Reason};
use super::live::{LivePoint, LivePoints};
use super::record::RecoveryPoint;
use super::retention::{self, KeepPolicy};
use crate::address::Address;
use crate::objects::{attrs, LockAttrs, RuleAttrs, VaultAttrs};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// What a rule's lifecycle keeps of its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePolicy {
    /// The rule's target vault: `keep` thins out the points there, not the copies in other
    /// vaults, which follow their own lifecycle.
    pub vault: String,
    pub keep: Option<KeepPolicy>,
    /// The newest this many COMPLETED points of a group whose resource exists stay.
    pub floor: u32,
    /// The rule's time zone, whose calendar the `keep` buckets follow.
    pub tz: Tz,
    /// EBS snapshots go to the archive tier at their `cold_at`.
    pub opt_in_to_archive: bool,
}

/// A legal hold: AWS's RecoveryPointSelection. Every given criterion must match; at least
/// one is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub name: String,
    /// Vault names (empty: any vault).
    pub vaults: Vec<String>,
    /// Resource ARN patterns with `*` (empty: any resource).
    pub resources: Vec<String>,
    /// Inclusive range of creation dates (UTC).
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
}

impl Hold {
    pub fn matches(&self, p: &RecoveryPoint) -> bool {
        self.matches_at(&p.point.vault, &p.point.resource_arn, p.point.created_at)
    }

    /// Whether the hold matches a point in `vault` of `resource_arn` made at `created_at`.
    pub fn matches_at(&self, vault: &str, resource_arn: &str, created_at: DateTime<Utc>) -> bool {
        let day = created_at.date_naive();
        (self.vaults.is_empty() || self.vaults.iter().any(|v| v == vault))
            && (self.resources.is_empty()
                || self
                    .resources
                    .iter()
                    .any(|r| crate::coverage::select::glob(r, resource_arn)))
            && self.created_from.is_none_or(|f| day >= f)
            && self.created_to.is_none_or(|t| day <= t)
    }
}

/// Everything applied that decides lifecycle: per rule address, per vault, and the holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    pub rules: BTreeMap<String, RulePolicy>,
    pub locks: BTreeMap<String, LockAttrs>,
    pub holds: Vec<Hold>,
    /// Per vault with a repository: the unused data (percent) above which it is pruned.
    pub prune_limits: BTreeMap<String, u8>,
    /// The vaults with a cold repository for file-level points.
    pub cold_vaults: std::collections::BTreeSet<String>,
}

impl Policies {
    /// The policies among recorded (or desired) objects. Fails only on objects no coffer
    /// could have written.
    pub fn from_objects<'a>(
        objects: impl IntoIterator<Item = (&'a Address, &'a serde_json::Value)>,
    ) -> Result<Policies, String> {
        let mut out = Policies::default();
        for (address, value) in objects {
            match address {
                Address::Rule { .. } => {
                    let rule: RuleAttrs = attrs::read(address, value).map_err(|e| e.to_string())?;
                    let tz = match rule.timezone.as_str() {
                        "UTC" => Tz::UTC,
                        name => crate::schedule::occurrence::parse_timezone(name)
                            .ok_or_else(|| format!("{address}: unknown time zone `{name}`"))?,
                    };
                    let vault = rule.vault_name().to_string();
                    let lifecycle = rule.lifecycle.unwrap_or_default();
                    out.rules.insert(
                        address.to_string(),
                        RulePolicy {
                            vault,
                            keep: lifecycle.keep.as_ref().map(KeepPolicy::from),
                            floor: lifecycle.floor(),
                            tz,
                            opt_in_to_archive: lifecycle.opt_in_to_archive,
                        },
                    );
                }
                Address::Vault(name) => {
                    let vault: VaultAttrs =
                        attrs::read(address, value).map_err(|e| e.to_string())?;
                    if vault.storage.is_some() {
                        out.prune_limits
                            .insert(name.clone(), vault.max_unused_percent());
                        if vault.cold_storage.is_some() {
                            out.cold_vaults.insert(name.clone());
                        }
                    }
                    if let Some(lock) = vault.lock {
                        out.locks.insert(name.clone(), lock);
                    }
                }
                Address::LegalHold(name) => {
                    let hold: attrs::LegalHoldAttrs =
                        attrs::read(address, value).map_err(|e| e.to_string())?;
                    out.holds.push(hold.into_hold(name));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The names of the holds that match a point.
    pub fn holds_on(&self, p: &RecoveryPoint) -> Vec<String> {
        self.holds_at(&p.point.vault, &p.point.resource_arn, p.point.created_at)
    }

    /// The names of the holds that match a point in `vault` of `resource_arn` made then.
    pub fn holds_at(&self, vault: &str, resource_arn: &str, made: DateTime<Utc>) -> Vec<String> {
        self.holds
            .iter()
            .filter(|h| h.matches_at(vault, resource_arn, made))
            .map(|h| h.name.clone())
            .collect()
    }

    /// Until when its vault's lock keeps a point.
    pub fn locked_until(&self, p: &RecoveryPoint) -> Option<DateTime<Utc>> {
        self.locked_until_at(&p.point.vault, p.point.created_at)
    }

    /// Until when `vault`'s lock keeps a point made at `made`.
    pub fn locked_until_at(&self, vault: &str, made: DateTime<Utc>) -> Option<DateTime<Utc>> {
        super::vault_lock::locked_until(self.locks.get(vault), made)
    }

    /// Why nothing may delete this point now (a lock, holds), for manual deletion and for
    /// every deletion path to check right before it deletes.
    pub fn deletion_refused(&self, p: &RecoveryPoint, now: DateTime<Utc>) -> Option<String> {
        let holds = self.holds_on(p);
        if !holds.is_empty() {
            return Some(format!("{} is under legal hold {}", p.id, holds.join(", ")));
        }
        let until = self.locked_until(p).filter(|u| *u > now)?;
        Some(format!(
            "{} is in vault {}, whose lock keeps it until {}",
            p.id,
            p.point.vault,
            until.format("%Y-%m-%d %H:%M UTC")
        ))
    }
}

/// What lifecycle does with one point now, and why it is kept when it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The point's position in [`LivePoints::points`].
    pub index: usize,
    pub action: Action,
    /// Why the point stays (clauses, `delete_after`, the floor, a lock, holds), when asked
    /// for; empty when it is deleted.
    pub kept_by: Vec<String>,
}

impl Verdict {
    /// Words for why the action is taken, for jobs and the plan's forecast.
    pub fn reason(&self, p: &LivePoint) -> String {
        match &self.action {
            Action::Delete(Reason::Lifecycle) => format!(
                "delete_after passed on {}",
                p.delete_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            ),
            Action::Delete(Reason::Retention) => "no keep clause keeps it".into(),
            Action::Cold => format!(
                "cold_storage_after passed on {}",
                p.cold_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            ),
            Action::Wait(why) => why.clone(),
            Action::Keep => "kept".into(),
        }
    }
}

/// Decides for every point of `live`. `live` must hold whole groups: every COMPLETED point
/// of each group of which it holds one, or the floor and the `keep` buckets see only part of
/// the group. `exists` tells whether a resource still exists (the floor protects only those).
/// With `explain`, every point gets a verdict that says what keeps it; without, only points
/// with something to do or to wait for get one (a tick over a million points allocates
/// nothing for the points it keeps).
pub fn evaluate(
    live: &LivePoints,
    policies: &Policies,
    exists: &dyn Fn(&str) -> bool,
    now: DateTime<Utc>,
    explain: bool,
) -> Vec<Verdict> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); live.groups.len()];
    for (i, p) in live.points.iter().enumerate() {
        members[p.group as usize].push(i);
    }
    // groups in a fixed order, so that the result does not depend on reading order
    let mut order: Vec<usize> = (0..live.groups.len()).collect();
    order.sort_unstable_by(|a, b| live.groups[*a].cmp(&live.groups[*b]));
    let mut out = Vec::new();
    let mut times = Vec::new();
    for g in order {
        let group = &live.groups[g];
        let members = &mut members[g];
        // newest first; the id breaks ties so that the result does not depend on input order
        members.sort_by(|a, b| {
            let (a, b) = (&live.points[*a], &live.points[*b]);
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let rule = group.rule.as_deref();
        let policy = rule.and_then(|r| policies.rules.get(r));
        // On-demand points (no rule) have no floor; a rule no longer applied keeps the
        // default floor, so that removing a rule does not strip its resources bare.
        let floor = match (rule, policy) {
            (None, _) => 0,
            (Some(_), Some(p)) => p.floor,
            (Some(_), None) => 1,
        } as usize;
        let floor = if exists(&group.resource_arn) {
            floor
        } else {
            0
        };
        let keep = policy
            .filter(|p| p.vault == group.vault)
            .and_then(|p| p.keep.as_ref().map(|k| (p, k)));
        let kept: Option<Vec<retention::KeptBy>> = keep.map(|(p, k)| {
            times.clear();
            times.extend(members.iter().map(|m| live.points[*m].created_at));
            retention::apply_sorted(&times, k, p.tz, now)
        });
        let no_holds = policies.holds.is_empty();
        for (nr, &i) in members.iter().enumerate() {
            let p = &live.points[i];
            let by_policy = kept.as_ref().map(|k| k[nr]);
            let protections = Protections {
                locked_until: policies.locked_until_at(&group.vault, p.created_at),
                holds: if no_holds {
                    Vec::new()
                } else {
                    policies.holds_at(&group.vault, &group.resource_arn, p.created_at)
                },
                floor: nr < floor,
            };
            let action = decide(
                p.cold_at,
                p.delete_at,
                p.cold,
                by_policy.is_none_or(|k| !k.is_empty()),
                &protections,
                now,
            );
            if !explain {
                if action != Action::Keep {
                    out.push(Verdict {
                        index: i,
                        action,
                        kept_by: Vec::new(),
                    });
                }
                continue;
            }
            let mut kept_by = Vec::new();
            if !matches!(action, Action::Delete(_)) {
                if let (Some(clauses), Some((_, k))) = (by_policy, keep) {
                    kept_by.extend(clauses.names(k).into_iter().map(|c| format!("keep {c}")));
                }
                match p.delete_at {
                    Some(at) if at > now => kept_by.push(format!(
                        "delete_after: until {}",
                        at.format("%Y-%m-%d %H:%M UTC")
                    )),
                    None if by_policy.is_none() => kept_by.push("no delete_after".into()),
                    _ => {}
                }
                if protections.floor {
                    kept_by.push(format!("keep_at_least {floor}"));
                }
                if let Some(until) = protections.locked_until.filter(|u| *u > now) {
                    kept_by.push(format!(
                        "vault lock: until {}",
                        until.format("%Y-%m-%d %H:%M UTC")
                    ));
                }
                kept_by.extend(protections.holds.iter().map(|h| format!("legal hold {h}")));
            }
            out.push(Verdict {
                index: i,
                action,
                kept_by,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
