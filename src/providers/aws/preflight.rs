//! Checks before a tick starts backups: RDS snapshot quotas (warn at 80%, refuse what does not
//! fit) and the KMS keys that encrypt the resources (a disabled or deleted key fails every
//! snapshot of what it encrypts, so such resources are refused with the reason).

use super::{Regions, ACCOUNT_ATTRIBUTES, DESCRIBE_KEY};
use crate::aws::error::classify;
use crate::inventory::Resource;
use crate::providers::Preflight;
use std::collections::BTreeMap;

/// The quota check for one region's RDS snapshots: warn at 80%, refuse what does not fit.
pub fn check_quota(
    quota: &str,
    region: &str,
    used: u64,
    max: u64,
    wanted: &[&Resource],
    out: &mut Preflight,
) {
    if wanted.is_empty() || max == 0 {
        return;
    }
    let free = max.saturating_sub(used) as usize;
    for r in wanted.iter().skip(free) {
        out.refused.insert(
            r.arn.clone(),
            format!(
                "the RDS quota {quota} in {region} is full ({used} of {max} used, {} more wanted): \
                 delete old manual snapshots or ask AWS for a higher quota",
                wanted.len()
            ),
        );
    }
    let after = used + wanted.len().min(free) as u64;
    if free > 0 && after * 5 >= max * 4 {
        out.warnings.push(format!(
            "the RDS quota {quota} in {region} will be {after} of {max} ({}%) after this tick",
            after * 100 / max
        ));
    }
}

/// Checks one RDS quota (`ManualSnapshots` or `ManualClusterSnapshots`) in `region` for the
/// resources about to be snapshotted there.
pub async fn rds_quota(
    regions: &Regions,
    quota: &str,
    region: &str,
    wanted: &[&Resource],
    out: &mut Preflight,
) {
    let Some(c) = regions.get(region) else {
        return;
    };
    let attrs = match c.rds.describe_account_attributes().send().await {
        Ok(a) => a,
        Err(e) => {
            out.warnings.push(format!(
                "could not read the RDS snapshot quotas: {}",
                classify(ACCOUNT_ATTRIBUTES, region, &e)
            ));
            return;
        }
    };
    if let Some(q) = attrs
        .account_quotas()
        .iter()
        .find(|q| q.account_quota_name() == Some(quota))
    {
        let used = q.used().unwrap_or(0).max(0) as u64;
        let max = q.max().unwrap_or(0).max(0) as u64;
        check_quota(quota, region, used, max, wanted, out);
    }
}

/// Refuses the resources whose KMS key is disabled, pending deletion or gone: their snapshots
/// would fail. A key that cannot be checked is a warning.
pub async fn kms_keys(regions: &Regions, wanted: &[&Resource], out: &mut Preflight) {
    let mut keys: BTreeMap<(&str, &str), Vec<&Resource>> = BTreeMap::new();
    for r in wanted {
        if let (true, Some(k)) = (r.encrypted, r.kms_key.as_deref()) {
            keys.entry((r.region.as_str(), k)).or_default().push(r);
        }
    }
    for ((region, key), users) in keys {
        let Some(c) = regions.get(region) else {
            continue;
        };
        match c.kms.describe_key().key_id(key).send().await {
            Ok(d) => {
                let state = d.key_metadata().and_then(|m| m.key_state());
                if let Some(s) = state.filter(|s| s.as_str() != "Enabled") {
                    for r in users {
                        out.refused.insert(
                            r.arn.clone(),
                            format!(
                                "the KMS key {key} that encrypts this resource is {}: snapshots of encrypted resources need the key enabled (enable it, or cancel its pending deletion, then run again)",
                                s.as_str()
                            ),
                        );
                    }
                }
            }
            Err(e) => {
                let e = classify(DESCRIBE_KEY, region, &e);
                if e.code().is_some_and(|c| c == "NotFoundException") {
                    for r in users {
                        out.refused.insert(
                            r.arn.clone(),
                            format!(
                                "the KMS key {key} that encrypts this resource does not exist: {e}"
                            ),
                        );
                    }
                } else {
                    out.warnings
                        .push(format!("could not check the KMS key {key}: {e}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ResourceType;

    fn db(n: usize) -> Vec<Resource> {
        (0..n)
            .map(|i| {
                Resource::new(
                    format!("arn:aws:rds:eu-west-1:1:db:db{i}"),
                    ResourceType::RdsInstance,
                    "eu-west-1",
                    "1",
                )
            })
            .collect()
    }

    #[test]
    fn quota_warns_at_80_percent_and_refuses_what_does_not_fit() {
        let rs = db(3);
        let wanted: Vec<&Resource> = rs.iter().collect();
        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 10, 100, &wanted, &mut p);
        assert_eq!(p, Preflight::default(), "13 of 100 is nothing to mention");

        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 78, 100, &wanted, &mut p);
        assert!(p.refused.is_empty());
        assert_eq!(
            p.warnings,
            ["the RDS quota ManualSnapshots in eu-west-1 will be 81 of 100 (81%) after this tick"]
        );

        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 99, 100, &wanted, &mut p);
        assert_eq!(p.refused.len(), 2, "one fits, two do not");
        assert!(p.refused.contains_key("arn:aws:rds:eu-west-1:1:db:db2"));
        assert!(p
            .refused
            .values()
            .all(|m| m.contains("ManualSnapshots in eu-west-1 is full (99 of 100 used")));

        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 100, 100, &wanted, &mut p);
        assert_eq!(p.refused.len(), 3);
    }
}
