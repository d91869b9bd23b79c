//! Controls benchmark (issue 16): one framework of all ten controls evaluated over 50,000
//! resources and 1,000,000 recovery points (20 per resource, in a plain and a locked vault in
//! another region and account) and a restore test per ten resources, no I/O; target under
//! 2 seconds. Reports the median of three evaluations.
//!
//! Run with `cargo bench --bench controls`.

use chrono::{DateTime, Duration, Utc};
use coffer::address::Address;
use coffer::catalog::{JobRecord, NewJob, NewRecoveryPoint, RecoveryPoint};
use coffer::controls::{evaluate, Evidence, Status};
use coffer::inventory::{Inventory, Resource, ResourceType};
use coffer::jobs::{History, JobKind, JobOptions, JobState, PointStatus, StorageClass, Windows};
use std::collections::BTreeMap;
use std::time::Instant;

const RESOURCES: usize = 50_000;
const POINTS_PER_RESOURCE: usize = 20;

const CONFIG: &str = r#"
vault "main" {}
vault "dr" {
  region = "us-west-2"
  lock {
    mode          = "governance"
    min_retention = "30d"
    max_retention = "400d"
  }
}
plan "daily" {
  regions = ["us-east-1", "eu-west-1"]
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
    lifecycle { delete_after = "35d" }
    copy_to { vault = vault.dr }
  }
  rule "weekly" {
    schedule     = "cron(0 4 ? * SUN *)"
    target_vault = vault.main
    lifecycle { delete_after = "1y" }
  }
}
selection "prod" {
  plan    = plan.daily
  any_tag = { Env = ["prod", "staging"] }
}
framework "all" {
  control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" {}
  control "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" {}
  control "BACKUP_RECOVERY_POINT_ENCRYPTED" {}
  control "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK" {}
  control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK" { min_retention = "7d" }
  control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" { regions = ["us-west-2"] }
  control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" {}
  control "BACKUP_LAST_RECOVERY_POINT_CREATED" { max_age = "36h" }
  control "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" { max_restore_time = "1h" }
  control "RESTORE_TEST_PASSED" { max_age = "7d" }
}
"#;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-10T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn objects() -> BTreeMap<Address, serde_json::Value> {
    let loaded = coffer::config::load(coffer::config::ConfigInput {
        files: vec![coffer::diag::SourceFile::new("main.hcl", CONFIG)],
        now: now(),
        ..Default::default()
    });
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    coffer::objects::desired(&loaded.config.unwrap())
        .into_iter()
        .map(|o| (o.address, o.attributes))
        .collect()
}

fn inventory() -> Inventory {
    let regions = ["us-east-1", "eu-west-1"];
    Inventory::new(
        (0..RESOURCES)
            .map(|i| {
                let region = regions[i % 2];
                let env = ["prod", "staging", "dev"][i % 3];
                Resource::new(
                    format!("arn:aws:ec2:{region}:111122223333:volume/vol-{i:017x}"),
                    ResourceType::EbsVolume,
                    region,
                    "111122223333",
                )
                .with_tags(&[("Env", env), ("Team", "data")])
            })
            .collect(),
    )
}

fn points(inventory: &Inventory) -> Vec<RecoveryPoint> {
    let mut out = Vec::with_capacity(RESOURCES * POINTS_PER_RESOURCE);
    for (i, r) in inventory.resources.iter().enumerate() {
        for d in 0..POINTS_PER_RESOURCE {
            let created = now() - Duration::days(d as i64) - Duration::hours(9);
            let vault = if d % 2 == 0 { "main" } else { "dr" };
            let mut p = NewRecoveryPoint::minimal(vault, "snap-x", &r.arn, "EBS", created);
            p.completed_at = Some(created + Duration::minutes(5));
            p.encrypted = (i + d) % 97 != 0;
            p.delete_at = Some(created + Duration::days(35));
            out.push(RecoveryPoint {
                id: format!("rp-{i}-{d}"),
                status: PointStatus::Completed,
                storage_class: StorageClass::Warm,
                deleted_at: None,
                deleted_by: None,
                status_message: None,
                point: p,
            });
        }
    }
    out
}

fn restores(inventory: &Inventory) -> Vec<JobRecord> {
    inventory
        .resources
        .iter()
        .step_by(10)
        .enumerate()
        .map(|(i, r)| {
            let start = now() - Duration::days(2);
            JobRecord {
                id: format!("job-{i}"),
                job: NewJob {
                    kind: JobKind::Restore,
                    plan: None,
                    rule: Some("restore_test.weekly.selection.volumes".into()),
                    resource_arn: r.arn.clone(),
                    vault: "main".into(),
                    windows: Windows {
                        scheduled_at: start,
                        start_by: start,
                        complete_by: start + Duration::hours(4),
                    },
                    options: JobOptions::default(),
                    recovery_point_id: None,
                    source_recovery_point_id: None,
                },
                history: History {
                    transitions: vec![
                        (JobState::Created, start),
                        (
                            JobState::Completed,
                            start + Duration::minutes(20 + (i % 60) as i64),
                        ),
                    ],
                },
                attempts: 1,
                error: None,
                bytes: None,
                native_ids: vec![],
                warning: None,
                created_resource_arn: None,
                validation_status: Some("SUCCESSFUL".into()),
                validation_message: None,
                deletion_status: None,
            }
        })
        .collect()
}

fn main() {
    let objects = objects();
    let inventory = inventory();
    let points = points(&inventory);
    let restores = restores(&inventory);
    let accounts = BTreeMap::from([("dr".to_string(), "444455556666".to_string())]);
    let mut times = Vec::new();
    let mut summary = String::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let results = evaluate(&Evidence {
            objects: &objects,
            inventory: &inventory,
            points: &points,
            restores: &restores,
            vault_accounts: &accounts,
            now: now(),
        });
        times.push(t0.elapsed().as_secs_f64());
        let evaluated: usize = results.iter().map(|c| c.resources.len()).sum();
        let failing: usize = results.iter().map(|c| c.count(Status::NonCompliant)).sum();
        summary = format!(
            "{} controls, {evaluated} resource evaluations, {failing} non-compliant",
            results.len()
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "controls: {RESOURCES} resources, {} points, {} restore jobs: {summary}; median {:.3} s (target < 2 s)",
        points.len(),
        restores.len(),
        times[1]
    );
}
