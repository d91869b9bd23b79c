//! Retention policies (pure): which points of one group (one rule, one resource, one vault) a
//! `keep { last, hourly, daily, weekly, monthly, yearly, within }` policy keeps, with restic's
//! `forget` semantics (`internal/data/snapshot_policy.go`, `ApplyPolicy`): a point is kept when
//! any clause keeps it; each calendar bucket (in the rule's time zone; weeks are ISO weeks)
//! keeps its newest point while the clause has count left; a clause with count left when the
//! oldest point is reached keeps that point too; `within` keeps every point created within that
//! long of the group's newest point that is not in the future.

use crate::config::duration::Duration;
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

/// A `keep` policy: counts per clause (0: the clause keeps nothing) and `within`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeepPolicy {
    pub last: u32,
    pub hourly: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
    pub within: Option<Duration>,
}

/// One point of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub created_at: DateTime<Utc>,
}

/// What a policy decided about one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub id: String,
    /// Why it is kept (`daily`, `oldest weekly`, `within 7d` …); empty: it is deleted.
    pub kept_by: Vec<String>,
}

impl Decision {
    pub fn kept(&self) -> bool {
        !self.kept_by.is_empty()
    }
}

#[derive(Clone, Copy)]
enum Bucket {
    Last,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

const BUCKETS: [Bucket; 6] = [
    Bucket::Last,
    Bucket::Hour,
    Bucket::Day,
    Bucket::Week,
    Bucket::Month,
    Bucket::Year,
];

impl Bucket {
    /// The calendar period of `t` in `tz` as one number (restic's `ymdh`, `ymd`, `yw`, `ym`,
    /// `y`); `Last` gives every point its own.
    fn of(self, t: DateTime<Utc>, tz: Tz, nr: usize) -> i64 {
        if let Bucket::Last = self {
            return nr as i64;
        }
        let l = t.with_timezone(&tz);
        let (y, m, d, h) = (
            l.year() as i64,
            l.month() as i64,
            l.day() as i64,
            l.hour() as i64,
        );
        match self {
            Bucket::Last => nr as i64,
            Bucket::Hour => ((y * 100 + m) * 100 + d) * 100 + h,
            Bucket::Day => (y * 100 + m) * 100 + d,
            Bucket::Week => {
                let w = l.iso_week();
                w.year() as i64 * 100 + w.week() as i64
            }
            Bucket::Month => y * 100 + m,
            Bucket::Year => y,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bucket::Last => "last",
            Bucket::Hour => "hourly",
            Bucket::Day => "daily",
            Bucket::Week => "weekly",
            Bucket::Month => "monthly",
            Bucket::Year => "yearly",
        }
    }
}

/// Which clauses keep one point, as bits: one per bucket clause (kept as that bucket's
/// newest), one per bucket clause kept as the oldest point because its count was not used up,
/// and one for `within`. Copy and allocation-free, for groups of any size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeptBy(u16);

impl KeptBy {
    const WITHIN: u16 = 1 << 12;

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The clauses in words (`daily`, `oldest weekly`, `within 7d`).
    pub fn names(self, policy: &KeepPolicy) -> Vec<String> {
        let mut out = Vec::new();
        if self.0 & Self::WITHIN != 0 {
            let w = policy.within.as_ref().map_or("", |w| w.as_str());
            out.push(format!("within {w}"));
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                out.push(b.name().to_string());
            }
            if self.0 & (1 << (i + 6)) != 0 {
                out.push(format!("oldest {}", b.name()));
            }
        }
        out
    }
}

/// Applies `policy` to one group's points given as creation times **newest first** (ties in
/// the order restic's stable sort leaves them); returns what keeps each, in the same order.
/// Bucket periods are those of `tz`; `now` bounds which point counts as the newest for
/// `within`.
pub fn apply_sorted(
    newest_first: &[DateTime<Utc>],
    policy: &KeepPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<KeptBy> {
    debug_assert!(newest_first.windows(2).all(|w| w[0] >= w[1]));
    let latest = newest_first.iter().copied().filter(|t| *t < now).max();
    let counts = [
        policy.last,
        policy.hourly,
        policy.daily,
        policy.weekly,
        policy.monthly,
        policy.yearly,
    ];
    let mut clauses: Vec<(usize, u32, Option<i64>)> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| (i, *n, None))
        .collect();
    let from = match (&policy.within, latest) {
        (Some(within), Some(latest)) => Some(
            latest
                .checked_sub_signed(within.to_chrono())
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        ),
        _ => None,
    };
    let oldest = newest_first.len().saturating_sub(1);
    let mut out = Vec::with_capacity(newest_first.len());
    for (nr, t) in newest_first.iter().enumerate() {
        let mut kept = 0u16;
        if from.is_some_and(|f| *t > f) {
            kept |= KeptBy::WITHIN;
        }
        for (i, left, last) in clauses.iter_mut() {
            if *left == 0 {
                continue;
            }
            let value = BUCKETS[*i].of(*t, tz, nr);
            if Some(value) != *last || nr == oldest {
                kept |= if Some(value) == *last {
                    1 << (*i + 6)
                } else {
                    1 << *i
                };
                *last = Some(value);
                *left -= 1;
            }
        }
        out.push(KeptBy(kept));
    }
    out
}

/// Applies `policy` to one group's points, newest first in the result (see
/// [`apply_sorted`]).
pub fn apply(
    points: &[Candidate],
    policy: &KeepPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let mut sorted: Vec<&Candidate> = points.iter().collect();
    // newest first; equal times keep their order, as restic's stable sort does
    sorted.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let times: Vec<DateTime<Utc>> = sorted.iter().map(|p| p.created_at).collect();
    apply_sorted(&times, policy, tz, now)
        .into_iter()
        .zip(sorted)
        .map(|(k, p)| Decision {
            id: p.id.clone(),
            kept_by: k.names(policy),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn points(times: &[&str]) -> Vec<Candidate> {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| Candidate {
                id: format!("p{i}"),
                created_at: at(t),
            })
            .collect()
    }

    fn kept(decisions: &[Decision]) -> Vec<&str> {
        decisions
            .iter()
            .filter(|d| d.kept())
            .map(|d| d.id.as_str())
            .collect()
    }

    const NOW: &str = "2027-06-01T00:00:00Z";

    #[test]
    fn last_keeps_the_newest_n() {
        let p = points(&[
            "2026-12-01T03:00:00Z",
            "2026-12-02T03:00:00Z",
            "2026-12-03T03:00:00Z",
            "2026-12-04T03:00:00Z",
        ]);
        let policy = KeepPolicy {
            last: 2,
            ..KeepPolicy::default()
        };
        assert_eq!(kept(&apply(&p, &policy, Tz::UTC, at(NOW))), ["p3", "p2"]);
    }

    #[test]
    fn each_day_keeps_its_newest_point_and_an_unused_count_keeps_the_oldest() {
        let p = points(&[
            "2026-12-01T03:00:00Z", // p0: oldest, same day as p1
            "2026-12-01T09:00:00Z", // p1: newest of Dec 1
            "2026-12-02T03:00:00Z", // p2
            "2026-12-02T09:00:00Z", // p3: newest of Dec 2
        ]);
        let daily = |n| KeepPolicy {
            daily: n,
            ..KeepPolicy::default()
        };
        assert_eq!(kept(&apply(&p, &daily(2), Tz::UTC, at(NOW))), ["p3", "p1"]);
        // three daily, two days: the count left keeps the oldest point as well
        let d = apply(&p, &daily(3), Tz::UTC, at(NOW));
        assert_eq!(kept(&d), ["p3", "p1", "p0"]);
        assert_eq!(d[3].kept_by, ["oldest daily"]);
    }

    #[test]
    fn weeks_are_iso_weeks_and_days_are_the_rules_zone() {
        // Thursday 31 Dec 2026 and Friday 1 Jan 2027 are one ISO week (2026-W53)
        let p = points(&[
            "2026-12-31T12:00:00Z",
            "2027-01-01T12:00:00Z",
            "2027-01-04T12:00:00Z",
        ]);
        let weekly = KeepPolicy {
            weekly: 2,
            ..KeepPolicy::default()
        };
        assert_eq!(kept(&apply(&p, &weekly, Tz::UTC, at(NOW))), ["p2", "p1"]);
        // 23:30 UTC on Dec 1 is Dec 2 in Paris: there it shares Dec 2's bucket
        let p = points(&[
            "2026-11-30T12:00:00Z",
            "2026-12-01T23:30:00Z",
            "2026-12-02T08:00:00Z",
        ]);
        let daily = KeepPolicy {
            daily: 2,
            ..KeepPolicy::default()
        };
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(kept(&apply(&p, &daily, Tz::UTC, at(NOW))), ["p2", "p1"]);
        assert_eq!(kept(&apply(&p, &daily, paris, at(NOW))), ["p2", "p0"]);
    }

    #[test]
    fn within_counts_from_the_newest_point_not_from_now_nor_the_future() {
        let p = points(&[
            "2026-12-01T03:00:00Z",
            "2026-12-05T03:00:00Z",
            "2026-12-07T03:00:00Z",
            "2030-01-01T00:00:00Z", // in the future: does not move "newest"
        ]);
        let policy = KeepPolicy {
            within: Some(Duration::parse("3d").unwrap()),
            ..KeepPolicy::default()
        };
        let d = apply(&p, &policy, Tz::UTC, at(NOW));
        // newest past point is Dec 7; Dec 5 is within 3 days of it, Dec 1 is not
        assert_eq!(kept(&d), ["p3", "p2", "p1"]);
        assert_eq!(d[1].kept_by, ["within 3d"]);
    }

    #[test]
    fn clauses_are_ored_and_an_empty_policy_keeps_nothing() {
        // a year of nightly points
        let start = at("2026-01-01T03:00:00Z");
        let p: Vec<Candidate> = (0..365)
            .map(|i| Candidate {
                id: format!("d{i}"),
                created_at: start + chrono::Duration::days(i),
            })
            .collect();
        let policy = KeepPolicy {
            daily: 7,
            weekly: 4,
            monthly: 12,
            ..KeepPolicy::default()
        };
        let d = apply(&p, &policy, Tz::UTC, at(NOW));
        let kept: Vec<&str> = kept(&d);
        // 7 days (Dec 25-31); the newest of 4 ISO weeks, Dec 31 (W53), Dec 27 (W52), Dec 20
        // and Dec 13, the first two already kept daily; the newest of 12 months, Dec 31
        // already kept: 7 + 2 + 11 = 20
        assert_eq!(kept.len(), 20, "{kept:?}");
        assert!(
            kept.contains(&"d364") && kept.contains(&"d30"),
            "Dec 31 and Jan 31"
        );
        assert!(apply(&p, &KeepPolicy::default(), Tz::UTC, at(NOW))
            .iter()
            .all(|d| !d.kept()));
    }
}
