//! Vault locks (pure): until when a vault's recorded `lock` keeps its recovery points from
//! being deleted. A point is locked for the lock's `min_retention` after it was made, in
//! governance and compliance mode alike; a lock without `min_retention` locks nothing.

use crate::objects::LockAttrs;
use chrono::{DateTime, Utc};

/// When a vault's recorded `lock` stops protecting a point made at `made`; `None` when the
/// vault has no lock with a minimum retention.
pub fn locked_until(lock: Option<&LockAttrs>, made: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lock?.min_retention.as_ref()?.after(made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{attrs, VaultAttrs};
    use serde_json::json;

    fn locked_until(vault: &serde_json::Value, made: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let vault: VaultAttrs = attrs::read(&"vault.v", vault).unwrap();
        super::locked_until(vault.lock.as_ref(), made)
    }

    #[test]
    fn a_point_is_locked_for_the_minimum_retention_after_it_was_made() {
        let made = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let locked = json!({"lock": {"mode": "governance", "min_retention": "30d"}});
        assert_eq!(
            locked_until(&locked, made).map(|t| t.to_rfc3339()),
            Some("2026-12-01T00:00:00+00:00".to_string())
        );
        let no_minimum = json!({"lock": {"mode": "compliance", "min_retention": null}});
        assert_eq!(locked_until(&no_minimum, made), None);
        assert_eq!(locked_until(&json!({"lock": null}), made), None);
        assert_eq!(locked_until(&json!({}), made), None);
    }
}
