//! Example data for the dashboard: a small estate ten days after its first apply, with a
//! resource that is fine, one failing two nights in a row, one that missed a night, one that
//! is not protected, copies, a legal hold, a restore test and two controls; and the same
//! estate scaled to thousands of resources and a million points. The golden pages and the
//! dashboard benchmark are built from it.

use super::model::{Inputs, Model};
use crate::address::Address;
use crate::config::{load, ConfigInput};
use crate::controls::{self, ControlResult};
use crate::diag::SourceFile;
use crate::inventory::{Inventory, Resource, ResourceType};
use crate::jobs::record::{JobRecord, NewJob, NewRecoveryPoint, RecoveryPoint, VaultCheck};
use crate::jobs::{
    restore_test, History, JobKind, JobOptions, JobState, PointStatus, StorageClass, Windows,
};
use crate::state::model::{State, StateObject};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// The fixture's `now`.
pub const NOW: &str = "2026-12-10T12:00:00Z";
/// When its configuration was applied.
pub const APPLIED: &str = "2026-11-30T12:00:00Z";

pub const WEB: &str = "arn:aws:ec2:eu-west-1:111122223333:volume/vol-web";
pub const DATA: &str = "arn:aws:ec2:eu-west-1:111122223333:volume/vol-data";
pub const ORDERS: &str = "arn:aws:rds:eu-west-1:111122223333:db:orders";
pub const SCRATCH: &str = "arn:aws:ec2:eu-west-1:111122223333:volume/vol-scratch";

pub const CONFIG: &str = r#"vault "main" {}

vault "dr" {
  region = "us-east-1"
  lock {
    mode          = "governance"
    min_retention = "7d"
    max_retention = "400d"
  }
}

plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle { delete_after = "35d" }
    copy_to {
      vault = vault.dr
    }
  }
}

selection "prod" {
  plan    = plan.daily
  any_tag = { Env = ["prod"] }
}

legal_hold "audit-2026" {
  vaults = [vault.dr]
}

framework "ops" {
  control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
    max_age = "1d"
  }
  control "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" {
    max_restore_time = "1h"
  }
}

vault "files" {
  storage = "file:///srv/coffer/files"
}
"#;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

/// Everything a [`Model`] is built from, owned.
#[derive(Debug, Clone)]
pub struct Estate {
    pub state: State,
    pub inventory: Inventory,
    pub jobs: Vec<JobRecord>,
    pub points: Vec<RecoveryPoint>,
    pub controls: Vec<ControlResult>,
    pub sources: BTreeMap<Address, String>,
    pub checks: BTreeMap<String, VaultCheck>,
    pub now: DateTime<Utc>,
}

impl Estate {
    /// The estate with its controls evaluated over it, no source lines and no vault checks.
    fn evaluated(
        state: State,
        objects: &BTreeMap<Address, serde_json::Value>,
        inventory: Inventory,
        jobs: Vec<JobRecord>,
        points: Vec<RecoveryPoint>,
        now: DateTime<Utc>,
    ) -> Estate {
        let controls = controls::evaluate(&controls::Evidence {
            objects,
            inventory: &inventory,
            points: &points,
            restores: &jobs,
            vault_accounts: &BTreeMap::new(),
            now,
        });
        Estate {
            state,
            inventory,
            jobs,
            points,
            controls,
            sources: BTreeMap::new(),
            checks: BTreeMap::new(),
            now,
        }
    }

    pub fn model(&self) -> Model {
        Model::build(Inputs {
            state: &self.state,
            inventory: &self.inventory,
            inventory_is_live: false,
            jobs: &self.jobs,
            points: &self.points,
            controls: &self.controls,
            checks: &self.checks,
            sources: &self.sources,
            now: self.now,
        })
    }

    /// The points of one resource, newest first, as the catalog returns them.
    pub fn points_of(&self, arn: &str) -> Vec<RecoveryPoint> {
        let mut p: Vec<RecoveryPoint> = self
            .points
            .iter()
            .filter(|p| p.point.resource_arn == arn)
            .cloned()
            .collect();
        p.sort_by_key(|p| std::cmp::Reverse(p.point.created_at));
        p
    }
}

fn state(applied: DateTime<Utc>) -> (State, BTreeMap<Address, serde_json::Value>) {
    let loaded = load(ConfigInput {
        files: vec![SourceFile::new("main.hcl", CONFIG)],
        now: applied,
        ..Default::default()
    });
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let desired = crate::objects::desired(&loaded.config.expect("a configuration"));
    let mut state = State::new("fixture");
    state.serial = 3;
    let mut objects = BTreeMap::new();
    for (n, o) in desired.into_iter().enumerate() {
        objects.insert(o.address.clone(), o.attributes.clone());
        state.objects.insert(
            o.address.clone(),
            StateObject {
                kind: o.address.kind(),
                address: o.address,
                id: format!("obj-{n}"),
                attributes: o.attributes,
                depends_on: Vec::new(),
                created_at: applied,
                updated_at: applied,
                lock_applied_at: None,
            },
        );
    }
    (state, objects)
}

/// The nightly rule's run (03:00 UTC) `d` days after the apply.
fn nightly_run(applied: DateTime<Utc>, d: i64) -> DateTime<Utc> {
    applied
        .date_naive()
        .and_hms_opt(3, 0, 0)
        .expect("a time")
        .and_utc()
        + Duration::days(d)
}

fn volume(arn: &str, env: &str, name: &str) -> Resource {
    let mut r = Resource::new(arn, ResourceType::EbsVolume, "eu-west-1", "111122223333")
        .with_tags(&[("Env", env)]);
    r.name = Some(name.to_string());
    r
}

fn job(
    id: String,
    kind: JobKind,
    arn: &str,
    vault: &str,
    scheduled: DateTime<Utc>,
    end: Option<(JobState, DateTime<Utc>)>,
) -> JobRecord {
    let mut transitions = vec![(JobState::Created, scheduled)];
    if let Some((state, t)) = end {
        if state != JobState::Expired {
            transitions.push((JobState::Running, scheduled + Duration::minutes(1)));
        }
        transitions.push((state, t));
    } else {
        transitions.push((JobState::Running, scheduled + Duration::minutes(1)));
    }
    JobRecord {
        id,
        job: NewJob {
            kind,
            plan: Some("plan.daily".into()),
            rule: Some("plan.daily.rule.nightly".into()),
            resource_arn: arn.into(),
            vault: vault.into(),
            windows: Windows {
                scheduled_at: scheduled,
                start_by: scheduled + Duration::hours(1),
                complete_by: scheduled + Duration::days(7),
            },
            options: JobOptions::default(),
            recovery_point_id: None,
            source_recovery_point_id: None,
        },
        history: History { transitions },
        attempts: 1,
        error: None,
        bytes: None,
        native_ids: Vec::new(),
        warning: None,
        created_resource_arn: None,
        validation_status: None,
        validation_message: None,
        deletion_status: None,
    }
}

fn point(
    id: String,
    vault: &str,
    arn: &str,
    kind: &str,
    made: DateTime<Utc>,
    bytes: u64,
) -> RecoveryPoint {
    let mut p = NewRecoveryPoint::minimal(vault, &format!("snap-{id}"), arn, kind, made);
    p.completed_at = Some(made + Duration::minutes(20));
    p.size_bytes = Some(bytes);
    p.encrypted = true;
    p.delete_at = Some(made + Duration::days(35));
    p.plan = Some("plan.daily".into());
    p.rule = Some("plan.daily.rule.nightly".into());
    RecoveryPoint {
        id,
        status: PointStatus::Completed,
        storage_class: StorageClass::Warm,
        deleted_at: None,
        deleted_by: None,
        status_message: None,
        point: p,
    }
}

/// The small estate of the golden pages.
pub fn small() -> Estate {
    let now = at(NOW);
    let applied = at(APPLIED);
    let (state, objects) = state(applied);
    let mut orders = Resource::new(
        ORDERS,
        ResourceType::RdsInstance,
        "eu-west-1",
        "111122223333",
    )
    .with_tags(&[("Env", "prod")]);
    orders.name = Some("orders".into());
    let inventory = Inventory::new(vec![
        volume(WEB, "prod", "web"),
        volume(DATA, "prod", "data"),
        orders,
        volume(SCRATCH, "dev", "scratch"),
    ]);
    let mut jobs = Vec::new();
    let mut points = Vec::new();
    const GIB: u64 = 1 << 30;
    for d in 1..=10 {
        let run = nightly_run(applied, d);
        let done = run + Duration::minutes(20);
        for (arn, kind, size) in [
            (WEB, "EBS", 8 * GIB),
            (DATA, "EBS", 50 * GIB),
            (ORDERS, "RDS", 20 * GIB),
        ] {
            let name = arn.rsplit(['/', ':']).next().unwrap_or(arn);
            let id = format!("job-{name}-{d:02}");
            let (end, error, warning) = match (arn, d) {
                // the night before last and last night, vol-data's snapshots failed
                (DATA, 9 | 10) => (
                    Some((JobState::Failed, done)),
                    Some("CreateSnapshot: SnapshotCreationPerVolumeRateExceeded: the maximum per volume CreateSnapshot request rate has been exceeded".to_string()),
                    None,
                ),
                // orders missed the run of the 7th: no job at all
                (ORDERS, 7) => continue,
                (WEB, 8) => (
                    Some((JobState::Completed, done)),
                    None,
                    Some("the source shrank by 62% since the previous point".to_string()),
                ),
                // tonight's web backup is still running
                (WEB, 10) => (None, None, None),
                _ => (Some((JobState::Completed, done)), None, None),
            };
            let mut j = job(id.clone(), JobKind::Backup, arn, "main", run, end);
            j.error = error;
            j.warning = warning;
            if j.state() == JobState::Completed {
                let pid = format!("rp-{name}-{d:02}");
                j.bytes = Some(size);
                j.job.recovery_point_id = Some(pid.clone());
                points.push(point(pid.clone(), "main", arn, kind, run, size));
                if arn == WEB {
                    let copy = format!("rp-{name}-{d:02}-dr");
                    let mut c = job(
                        format!("copy-{name}-{d:02}"),
                        JobKind::Copy,
                        arn,
                        "dr",
                        done,
                        Some((JobState::Completed, done + Duration::minutes(30))),
                    );
                    c.job.source_recovery_point_id = Some(pid.clone());
                    c.job.recovery_point_id = Some(copy.clone());
                    jobs.push(c);
                    let mut p = point(copy, "dr", arn, kind, done, size);
                    p.point.source_recovery_point_id = Some(pid);
                    points.push(p);
                }
            }
            jobs.push(j);
        }
    }
    // the first web point was deleted by hand on the 5th
    if let Some(p) = points.iter_mut().find(|p| p.id == "rp-vol-web-01") {
        p.status = PointStatus::Deleted;
        p.deleted_at = Some(at("2026-12-05T09:00:00Z"));
    }
    // a restore test restored web's point of the 6th in 20 minutes
    let mut t = job(
        "restore-test-web-06".into(),
        JobKind::Restore,
        WEB,
        "main",
        at("2026-12-06T05:00:00Z"),
        Some((JobState::Completed, at("2026-12-06T05:20:00Z"))),
    );
    t.job.plan = None;
    t.job.rule = Some(restore_test::selection_label("weekly", "volumes"));
    t.job.recovery_point_id = Some("rp-vol-web-06".into());
    t.validation_status = Some("SUCCESSFUL".into());
    t.validation_message = Some("the volume attached and its file system checked clean".into());
    jobs.push(t);
    Estate {
        sources: BTreeMap::from([(Address::Selection("prod".into()), "main.hcl:25".into())]),
        checks: BTreeMap::from([(
            "files".to_string(),
            checked("files", now - Duration::hours(20)),
        )]),
        ..Estate::evaluated(state, &objects, inventory, jobs, points, now)
    }
}

/// A check of `vault` at `at` that found it intact.
pub fn checked(vault: &str, at: DateTime<Utc>) -> VaultCheck {
    VaultCheck {
        vault: vault.into(),
        checked_at: at,
        location: format!("file:///srv/coffer/{vault}"),
        snapshots: 12,
        read_data_subset: Some("10%".into()),
        missing: false,
        errors: 0,
        warnings: 0,
        first_error: None,
    }
}

/// The estate scaled: `resources` volumes backed up nightly for `days` days, each run a job
/// and a point (every 97th failed), so `resources × days` points in all.
pub fn scaled(resources: usize, days: i64) -> Estate {
    let now = at(NOW);
    let applied = now - Duration::days(days + 1);
    let (state, objects) = state(applied);
    let arns: Vec<String> = (0..resources)
        .map(|n| format!("arn:aws:ec2:eu-west-1:111122223333:volume/vol-{n:05}"))
        .collect();
    let inventory = Inventory::new(
        arns.iter()
            .enumerate()
            .map(|(n, a)| {
                volume(
                    a,
                    if n % 10 == 9 { "dev" } else { "prod" },
                    &format!("v{n}"),
                )
            })
            .collect(),
    );
    let mut jobs = Vec::with_capacity(resources * days as usize);
    let mut points = Vec::with_capacity(resources * days as usize);
    let mut k = 0usize;
    for d in 1..=days {
        let run = nightly_run(applied, d);
        for arn in &arns {
            k += 1;
            let failed = k.is_multiple_of(97);
            let state = if failed {
                JobState::Failed
            } else {
                JobState::Completed
            };
            let mut j = job(
                format!("job-{k}"),
                JobKind::Backup,
                arn,
                "main",
                run,
                Some((state, run + Duration::minutes(20))),
            );
            if failed {
                j.error = Some("CreateSnapshot: RequestLimitExceeded".into());
            } else {
                points.push(point(format!("rp-{k}"), "main", arn, "EBS", run, 1 << 30));
            }
            jobs.push(j);
        }
    }
    Estate::evaluated(state, &objects, inventory, jobs, points, now)
}
