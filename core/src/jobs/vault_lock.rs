//! Vault locks (pure): until when a vault's recorded `lock` keeps its recovery points from
//! being deleted (a point is locked for the lock's `min_retention` after it was made, in
//! governance and compliance mode alike; a lock without `min_retention` locks nothing), and
//! which changes a compliance lock refuses once its `changeable_for` grace period is over.

use crate::objects::LockAttrs;
use chrono::{DateTime, Utc};

/// When a compliance lock applied at `applied_at` became fixed (its `changeable_for` grace
/// period ended); `None` for governance locks, which stay changeable.
pub fn fixed_since(lock: &LockAttrs, applied_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if lock.mode != "compliance" {
        return None;
    }
    lock.changeable_for.as_ref()?.after(applied_at)
}

/// Why changing a vault's recorded `before` lock (applied at `applied_at`) to `after` is
/// refused at `now`: a compliance lock past its grace period cannot be removed, moved to
/// governance mode or shortened (its retentions may only grow).
pub fn fixed_lock_refusal(
    before: &LockAttrs,
    after: Option<&LockAttrs>,
    applied_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<String> {
    let fixed = fixed_since(before, applied_at).filter(|f| *f <= now)?;
    let when = fixed.format("%Y-%m-%d %H:%M UTC");
    let minutes = |d: &Option<crate::config::duration::Duration>| d.as_ref().map(|d| d.minutes());
    let change = match after {
        None => "removes it".to_string(),
        Some(a) if a.mode != "compliance" => format!("changes its mode to {}", a.mode),
        Some(a) if minutes(&a.min_retention) < minutes(&before.min_retention) => {
            "shortens its min_retention".to_string()
        }
        Some(a)
            if before.max_retention.is_some()
                && (a.max_retention.is_none()
                    || minutes(&a.max_retention) < minutes(&before.max_retention)) =>
        {
            "shortens or removes its max_retention".to_string()
        }
        Some(_) => return None,
    };
    Some(format!(
        "this change {change}, but the compliance lock became fixed on {when}, when its changeable_for grace period ended; nobody can remove or shorten it now"
    ))
}

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
    fn a_compliance_lock_past_its_grace_period_cannot_be_removed_or_shortened() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let lock = |mode: &str, min: &str| -> LockAttrs {
            let v: VaultAttrs = attrs::read(
                &"vault.v",
                &json!({"lock": {"mode": mode, "min_retention": min, "changeable_for": "3d"}}),
            )
            .unwrap();
            v.lock.unwrap()
        };
        let applied = at("2026-11-01T00:00:00Z");
        let before = lock("compliance", "30d");
        let grace = at("2026-11-03T00:00:00Z");
        let later = at("2026-12-01T00:00:00Z");
        assert_eq!(
            fixed_lock_refusal(&before, None, applied, grace),
            None,
            "still in grace"
        );
        let removed = fixed_lock_refusal(&before, None, applied, later).unwrap();
        assert!(removed.contains("removes it"), "{removed}");
        assert!(removed.contains("2026-11-04 00:00 UTC"), "{removed}");
        let shorter = lock("compliance", "10d");
        assert!(fixed_lock_refusal(&before, Some(&shorter), applied, later)
            .unwrap()
            .contains("shortens its min_retention"));
        let governance = lock("governance", "30d");
        assert!(fixed_lock_refusal(&before, Some(&governance), applied, later).is_some());
        let longer = lock("compliance", "60d");
        assert_eq!(
            fixed_lock_refusal(&before, Some(&longer), applied, later),
            None
        );
        // a governance lock stays changeable
        assert_eq!(fixed_lock_refusal(&governance, None, applied, later), None);
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
