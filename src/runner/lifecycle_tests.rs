//! Tests of the tick's lifecycle decisions over a real SQLite catalog: the breaker, and
//! deletions already under way.

use super::*;
use crate::catalog::{NewRecoveryPoint, SqliteCatalog};
use crate::jobs::lifecycle::RulePolicy;

const RULE: &str = "plan.p.rule.r";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A catalog with `n` daily points of one volume, each past its one-day retention at `now`.
fn catalog(n: u32) -> (SqliteCatalog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
    for d in 1..=n {
        let made = at(&format!("2027-01-{d:02}T03:00:00Z"));
        let mut p = NewRecoveryPoint::minimal(
            "main",
            &format!("snap-{d}"),
            "arn:aws:ec2:us-east-1:1:volume/vol-1",
            "EBS",
            made,
        );
        p.rule = Some(RULE.into());
        p.job_id = Some(format!("job-{d}"));
        p.delete_at = Some(made + chrono::Duration::days(1));
        c.add_recovery_point(&p).unwrap();
    }
    (c, dir)
}

fn policies(floor: u32) -> Policies {
    let mut p = Policies::default();
    p.rules.insert(
        RULE.into(),
        RulePolicy {
            vault: "main".into(),
            keep: None,
            floor,
            tz: crate::schedule::occurrence::parse_timezone("Etc/UTC").unwrap(),
            opt_in_to_archive: false,
        },
    );
    p
}

#[test]
fn the_breaker_holds_back_a_mass_deletion_and_lets_a_small_one_through() {
    let now = at("2027-02-01T00:00:00Z");
    let exists = |_: &str| true;
    let (mut c, _d) = catalog(12);
    let r = create_jobs(&mut c, &policies(1), &exists, false, now).unwrap();
    assert_eq!(r.created, 0);
    assert_eq!(
        r.tripped,
        [Tripped {
            vault: "main".into(),
            deleting: 11,
            live: 12
        }]
    );
    let (mut c, _d) = catalog(10);
    let r = create_jobs(&mut c, &policies(0), &exists, false, now).unwrap();
    assert_eq!(
        (r.created, r.tripped.len()),
        (10, 0),
        "ten is not more than ten"
    );
}

#[test]
fn deletions_under_way_are_not_counted_again_nor_made_twice() {
    let now = at("2027-02-01T00:00:00Z");
    let exists = |_: &str| true;
    let (mut c, _d) = catalog(12);
    let r = create_jobs(&mut c, &policies(1), &exists, true, now).unwrap();
    assert_eq!(r.created, 11, "allowed through the breaker");
    // the jobs did not run (say they are failing and tried again at each tick): the next
    // tick neither trips the breaker over them nor creates them again
    let later = now + chrono::Duration::hours(1);
    let r = create_jobs(&mut c, &policies(1), &exists, false, later).unwrap();
    assert_eq!((r.created, r.tripped.len()), (0, 0), "{r:?}");
}
