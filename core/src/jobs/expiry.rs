//! Expiry decisions (pure): what lifecycle may do to one recovery point at `now`, given what
//! protects it: a vault lock's minimum retention, legal holds, and the floor of the newest
//! `keep_at_least` points of a resource that still exists. And the mass-deletion breaker: a
//! tick that would delete more than 10 points and more than 20% of a vault's points deletes
//! nothing in that vault (a clock that jumped, a policy typo).

use chrono::{DateTime, Utc};

/// Why lifecycle wants a point gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its `delete_after` date passed.
    Lifecycle,
    /// No clause of its rule's `keep` policy keeps it.
    Retention,
}

/// What protects a point from deletion now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protections {
    /// Until when its vault's lock keeps it (created_at + min_retention), if it has one.
    pub locked_until: Option<DateTime<Utc>>,
    /// The legal holds that match it.
    pub holds: Vec<String>,
    /// It is among the newest `keep_at_least` points of a resource that still exists.
    pub floor: bool,
}

/// What lifecycle does with a point now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing is due.
    Keep,
    /// Delete it, for this reason.
    Delete(Reason),
    /// Move it to cold storage.
    Cold,
    /// Something is due but protected: a lock (until a date), holds, or the floor.
    Wait(String),
}

/// The action for a point whose lifecycle dates are `cold_at` and `delete_at`, which its rule's
/// `keep` policy keeps (`kept_by_policy`, true when the rule has no policy), at `now`.
/// Deletion comes before cold storage; holds stop both; a lock and the floor stop deletion.
pub fn decide(
    cold_at: Option<DateTime<Utc>>,
    delete_at: Option<DateTime<Utc>>,
    already_cold: bool,
    kept_by_policy: bool,
    protections: &Protections,
    now: DateTime<Utc>,
) -> Action {
    let reason = match delete_at {
        Some(at) if at <= now => Some(Reason::Lifecycle),
        _ if !kept_by_policy => Some(Reason::Retention),
        _ => None,
    };
    let cold_due = !already_cold && cold_at.is_some_and(|at| at <= now);
    if reason.is_none() && !cold_due {
        return Action::Keep;
    }
    if !protections.holds.is_empty() {
        return Action::Wait(format!(
            "held by legal hold{} {}",
            if protections.holds.len() == 1 {
                ""
            } else {
                "s"
            },
            protections.holds.join(", ")
        ));
    }
    if let Some(reason) = reason {
        if let Some(until) = protections.locked_until.filter(|u| *u > now) {
            return Action::Wait(format!(
                "its vault's lock keeps it until {}",
                until.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        if protections.floor {
            return Action::Wait(
                "it is among the newest points of a resource that still exists (keep_at_least)"
                    .into(),
            );
        }
        return Action::Delete(reason);
    }
    Action::Cold
}

/// Whether deleting `deleting` of a vault's `live` points trips the breaker.
pub fn breaker_trips(live: u64, deleting: u64) -> bool {
    deleting > 10 && deleting.saturating_mul(5) > live
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2027-01-10T00:00:00Z";

    #[test]
    fn due_dates_delete_and_cool_points_in_that_order() {
        let none = Protections::default();
        let now = at(NOW);
        let past = Some(at("2027-01-09T00:00:00Z"));
        let future = Some(at("2027-02-01T00:00:00Z"));
        assert_eq!(
            decide(future, future, false, true, &none, now),
            Action::Keep
        );
        assert_eq!(
            decide(None, past, false, true, &none, now),
            Action::Delete(Reason::Lifecycle)
        );
        assert_eq!(decide(past, future, false, true, &none, now), Action::Cold);
        assert_eq!(decide(past, future, true, true, &none, now), Action::Keep);
        assert_eq!(
            decide(past, past, false, true, &none, now),
            Action::Delete(Reason::Lifecycle),
            "deletion wins over cold storage"
        );
        assert_eq!(
            decide(None, None, false, false, &none, now),
            Action::Delete(Reason::Retention)
        );
    }

    #[test]
    fn locks_holds_and_the_floor_stop_deletion() {
        let now = at(NOW);
        let past = Some(at("2027-01-09T00:00:00Z"));
        let locked = Protections {
            locked_until: Some(at("2027-03-01T00:00:00Z")),
            ..Protections::default()
        };
        assert_eq!(
            decide(None, past, false, true, &locked, now),
            Action::Wait("its vault's lock keeps it until 2027-03-01 00:00 UTC".into())
        );
        let lock_over = Protections {
            locked_until: Some(at("2027-01-01T00:00:00Z")),
            ..Protections::default()
        };
        assert_eq!(
            decide(None, past, false, true, &lock_over, now),
            Action::Delete(Reason::Lifecycle)
        );
        let held = Protections {
            holds: vec!["audit-2026".into()],
            ..Protections::default()
        };
        assert_eq!(
            decide(past, None, false, true, &held, now),
            Action::Wait("held by legal hold audit-2026".into()),
            "a hold stops cold storage too"
        );
        let floor = Protections {
            floor: true,
            ..Protections::default()
        };
        assert!(matches!(
            decide(None, past, false, false, &floor, now),
            Action::Wait(_)
        ));
        // a lock does not stop cold storage
        assert_eq!(decide(past, None, false, true, &locked, now), Action::Cold);
    }

    #[test]
    fn the_breaker_trips_above_ten_points_and_a_fifth_of_the_vault() {
        assert!(!breaker_trips(100, 10), "ten is not more than ten");
        assert!(!breaker_trips(100, 20), "a fifth is not more than a fifth");
        assert!(breaker_trips(100, 21));
        assert!(!breaker_trips(1000, 150), "15% of a large vault");
        assert!(breaker_trips(11, 11));
    }
}
