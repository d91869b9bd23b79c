//! The live points lifecycle reads, compactly: each point's id and dates, and the group it
//! belongs to (the vault, resource and rule it shares with the rest of its group) interned
//! once, so that a tick over a million points stores three strings per group, not per point.

use super::record::RecoveryPoint;
use super::{PointStatus, StorageClass};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: group keys are short and trusted (the catalog's own), and hashing one per point
/// read is a tick's hottest loop, where SipHash costs more than the rest of the row.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The points one rule made of one resource in one vault.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LiveGroup {
    pub vault: String,
    pub resource_arn: String,
    /// The rule's address (`plan.P.rule.R`); `None` for on-demand points.
    pub rule: Option<String>,
}

/// One live (COMPLETED) point as lifecycle reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePoint {
    pub id: String,
    /// Its group's position in [`LivePoints::groups`].
    pub group: u32,
    pub created_at: DateTime<Utc>,
    pub cold_at: Option<DateTime<Utc>>,
    pub delete_at: Option<DateTime<Utc>>,
    /// Already in cold storage.
    pub cold: bool,
}

/// Live points with their groups.
#[derive(Debug, Clone, Default)]
pub struct LivePoints {
    pub groups: Vec<LiveGroup>,
    pub points: Vec<LivePoint>,
    /// Group positions by `vault \0 resource \0 rule`.
    index: HashMap<String, u32, BuildHasherDefault<Fnv>>,
    key: String,
}

impl LivePoints {
    /// The position of the group of (`vault`, `resource_arn`, `rule`), added if new.
    pub fn group(&mut self, vault: &str, resource_arn: &str, rule: Option<&str>) -> u32 {
        self.key.clear();
        self.key.push_str(vault);
        self.key.push('\0');
        self.key.push_str(resource_arn);
        self.key.push('\0');
        if let Some(r) = rule {
            self.key.push('\u{1}');
            self.key.push_str(r);
        }
        if let Some(g) = self.index.get(self.key.as_str()) {
            return *g;
        }
        let g = self.groups.len() as u32;
        self.groups.push(LiveGroup {
            vault: vault.to_string(),
            resource_arn: resource_arn.to_string(),
            rule: rule.map(str::to_string),
        });
        self.index.insert(self.key.clone(), g);
        g
    }

    /// The COMPLETED points among `points`, in their order.
    pub fn from_points(points: &[RecoveryPoint]) -> LivePoints {
        let mut out = LivePoints::default();
        for p in points.iter().filter(|p| p.status == PointStatus::Completed) {
            let group = out.group(
                &p.point.vault,
                &p.point.resource_arn,
                p.point.rule.as_deref(),
            );
            out.points.push(LivePoint {
                id: p.id.clone(),
                group,
                created_at: p.point.created_at,
                cold_at: p.point.cold_at,
                delete_at: p.point.delete_at,
                cold: p.storage_class == StorageClass::Cold,
            });
        }
        out
    }

    /// A point's group.
    pub fn group_of(&self, p: &LivePoint) -> &LiveGroup {
        &self.groups[p.group as usize]
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_interned_once_and_a_missing_rule_is_its_own_group() {
        let mut l = LivePoints::default();
        let a = l.group("main", "arn:1", Some("plan.p.rule.r"));
        assert_eq!(l.group("main", "arn:1", Some("plan.p.rule.r")), a);
        let on_demand = l.group("main", "arn:1", None);
        assert_ne!(on_demand, a);
        // no separator trick makes two groups one
        assert_ne!(l.group("main", "arn:1\0", None), on_demand);
        assert_eq!(l.groups.len(), 3);
    }
}
