//! Golden tests for what plan reviewers read: the text, markdown and JSON renderings of
//! plans that create, update, replace and destroy objects, all built from one serialized plan.

use crate::support::load;
use chrono::{DateTime, TimeZone, Utc};
use coffer::objects::{desired, ObjectSpec};
use coffer::plan::{compute, Mode, Plan, PlanInput};
use coffer::render::{render_markdown, render_text, Style};
use coffer::state::{State, StateObject};
use std::collections::BTreeMap;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

fn objects(text: &str) -> Vec<ObjectSpec> {
    let loaded = load(text);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    desired(&loaded.config.unwrap())
}

/// The state an apply of `text` would record, with fixed ids and times.
fn state_of(text: &str) -> State {
    let mut s = State::new("11111111-2222-3333-4444-555555555555");
    s.serial = 7;
    for (i, o) in objects(text).into_iter().enumerate() {
        s.objects.insert(
            o.address.clone(),
            StateObject {
                address: o.address,
                kind: o.kind,
                id: format!("id-{i}"),
                attributes: o.attributes,
                depends_on: o.depends_on,
                created_at: now(),
                updated_at: now(),
                lock_applied_at: None,
            },
        );
    }
    s
}

fn plan(text: &str, state: Option<&State>, mode: Mode) -> Plan {
    let desired = objects(text);
    let plan = compute(&PlanInput {
        mode,
        desired: &desired,
        state,
        recovery_points: &BTreeMap::new(),
        points: &Default::default(),
        now: now(),
        inventory: None,
    })
    .expect("plan");
    // every rendering is built from the serialized plan, so round-trip it first
    Plan::parse(&plan.to_json_text()).expect("plan parses back")
}

const BEFORE: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
  tags    = { Team = "platform", Old = "yes" }
}

vault "dr" {
  storage = "file://./vaults/dr"
}

plan "standard" {
  tags = {
    Notes = <<-EOT
      first line
      second line
    EOT
  }

  rule "monthly" {
    schedule          = "cron(0 6 ? * 7#1 *)"
    start_window      = "2h"
    completion_window = "8h"
    target_vault      = vault.main
    lifecycle {
      cold_storage_after = "90d"
      delete_after       = "7y"
    }
    copy_to {
      vault = vault.dr
      lifecycle { delete_after = "1y" }
    }
  }
}

selection "tagged" {
  plan      = plan.standard
  any_tag   = { Backup = ["standard"] }
  resources = ["arn:aws:ec2:us-east-1:111122223333:volume/vol-a", "arn:aws:ec2:us-east-1:111122223333:volume/vol-c"]
}

directory "photos" {
  path = "./photos"
}
"#;

const AFTER: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
  tags    = { Team = "storage", New = "yes" }
  lock {
    mode          = "governance"
    min_retention = "7d"
  }
}

vault "dr" {
  storage = "file://./vaults/dr-2"
}

plan "standard" {
  tags = {
    Notes = <<-EOT
      first line
      changed line
      third line
    EOT
  }

  rule "monthly" {
    schedule          = "cron(0 6 ? * 7#1 *)"
    start_window      = "3h"
    completion_window = "8h"
    target_vault      = vault.main
    lifecycle {
      cold_storage_after = "90d"
      delete_after       = "7y"
    }
    copy_to {
      vault = vault.dr
      lifecycle { delete_after = "2y" }
    }
  }

  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
  }
}

selection "tagged" {
  plan      = plan.standard
  any_tag   = { Backup = ["standard", "gold"] }
  resources = ["arn:aws:ec2:us-east-1:111122223333:volume/vol-a", "arn:aws:ec2:us-east-1:111122223333:volume/vol-b", "arn:aws:ec2:us-east-1:111122223333:volume/vol-c"]
}
"#;

#[test]
fn create_from_empty_state() {
    let p = plan(BEFORE, None, Mode::Normal);
    insta::assert_snapshot!("create_text", render_text(&p, Style::PLAIN));
    insta::assert_snapshot!("create_markdown", render_markdown(&p));
}

#[test]
fn update_replace_and_delete() {
    let state = state_of(BEFORE);
    let p = plan(AFTER, Some(&state), Mode::Normal);
    insta::assert_snapshot!("update_text", render_text(&p, Style::PLAIN));
    insta::assert_snapshot!("update_markdown", render_markdown(&p));
    insta::assert_json_snapshot!("update_json", p);
}

#[test]
fn no_changes() {
    let state = state_of(AFTER);
    let p = plan(AFTER, Some(&state), Mode::Normal);
    insta::assert_snapshot!("no_changes_text", render_text(&p, Style::PLAIN));
    insta::assert_snapshot!("no_changes_markdown", render_markdown(&p));
}

#[test]
fn destroy_everything() {
    let state = state_of(BEFORE);
    let p = plan(BEFORE, Some(&state), Mode::Destroy);
    insta::assert_snapshot!("destroy_text", render_text(&p, Style::PLAIN));
}

#[test]
fn colour_is_only_added_when_asked() {
    let p = plan(BEFORE, None, Mode::Normal);
    assert!(!render_text(&p, Style::PLAIN).contains('\x1b'));
    assert!(render_text(&p, Style { color: true }).contains("\x1b[32m+\x1b[0m"));
}

#[test]
fn output_is_deterministic() {
    let state = state_of(BEFORE);
    let a = render_text(&plan(AFTER, Some(&state), Mode::Normal), Style::PLAIN);
    let b = render_text(&plan(AFTER, Some(&state), Mode::Normal), Style::PLAIN);
    assert_eq!(a, b);
}

/// A plan far larger than a GitHub comment is summarised, never overflowing the limit.
#[test]
fn markdown_stays_under_the_github_limit() {
    let mut text = String::from("vault \"main\" {}\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "plan \"p{i}\" {{\n  rule \"r\" {{\n    schedule = \"cron(0 3 * * ? *)\"\n    target_vault = vault.main\n    recovery_point_tags = {{ Owner = \"team-{i}\" }}\n  }}\n}}\n"
        ));
    }
    let p = plan(&text, None, Mode::Normal);
    let md = render_markdown(&p);
    assert!(
        md.chars().count() <= 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(md.starts_with("### coffer plan: 6001 to add, 0 to change, 0 to destroy"));
    assert!(md.contains("more (list cut to fit a GitHub comment)"));
    assert!(md.contains("output cut to fit GitHub's 65536-character comment limit"));
    assert!(md.trim_end().ends_with("</details>"));
    // the first addresses come first, in order
    assert!(md.find("`vault.main`").unwrap() < md.find("`plan.p0`").unwrap());
}

/// A rule moved to another time and zone shows its next runs before and after.
#[test]
fn schedule_change_shows_next_runs() {
    let before = r#"
vault "main" {}
plan "p" {
  rule "nightly" {
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
  }
}
"#;
    let after = before
        .replace("cron(0 3 * * ? *)", "cron(30 2 ? * MON-FRI *)")
        .replace(
            "start_window      = \"1h\"",
            "start_window      = \"2h\"\n    timezone          = \"America/New_York\"",
        );
    let state = state_of(before);
    let p = plan(&after, Some(&state), Mode::Normal);
    insta::assert_snapshot!("schedule_change_text", render_text(&p, Style::PLAIN));
}

fn resource(
    arn: &str,
    t: coffer::inventory::ResourceType,
    name: &str,
    tags: &[(&str, &str)],
) -> coffer::inventory::Resource {
    let mut r =
        coffer::inventory::Resource::new(arn, t, "us-east-1", "111122223333").with_tags(tags);
    r.name = Some(name.into());
    r
}

const COVERAGE_BEFORE: &str = r#"
vault "main" {}
plan "daily" {
  regions = ["us-east-1"]
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
    lifecycle { delete_after = "35d" }
  }
}
plan "monthly" {
  regions = ["us-east-1"]
  rule "first-saturday" {
    schedule     = "cron(0 6 ? * 7#1 *)"
    target_vault = vault.main
    lifecycle { delete_after = "7y" }
  }
}
selection "web" {
  plan    = plan.daily
  any_tag = { App = ["web"] }
}
selection "databases" {
  plan      = plan.monthly
  resources = ["arn:aws:rds:us-east-1:111122223333:db:*"]
}
"#;

/// The protection section: a gain from the configuration, a gain and a loss from drift, a
/// loss from the configuration, a selection matching nothing, and a resource two plans cover.
#[test]
fn coverage_section_in_text_markdown_and_json() {
    use coffer::inventory::{Inventory, ResourceType as T};
    use coffer::plan::InventorySource;
    let old_inventory = Inventory::new(vec![
        resource(
            "arn:aws:ec2:us-east-1:111122223333:volume/vol-web",
            T::EbsVolume,
            "web-data",
            &[("App", "web")],
        ),
        resource(
            "arn:aws:ec2:us-east-1:111122223333:volume/vol-gone",
            T::EbsVolume,
            "old-web",
            &[("App", "web")],
        ),
        resource(
            "arn:aws:ec2:us-east-1:111122223333:volume/vol-new-tag",
            T::EbsVolume,
            "cache",
            &[],
        ),
        resource(
            "arn:aws:rds:us-east-1:111122223333:db:orders",
            T::RdsInstance,
            "orders",
            &[("App", "web")],
        ),
    ]);
    // the cloud changed: vol-gone was deleted and vol-new-tag was tagged App=web
    let new_inventory = Inventory::new(vec![
        resource(
            "arn:aws:ec2:us-east-1:111122223333:volume/vol-web",
            T::EbsVolume,
            "web-data",
            &[("App", "web")],
        ),
        resource(
            "arn:aws:ec2:us-east-1:111122223333:volume/vol-new-tag",
            T::EbsVolume,
            "cache",
            &[("App", "web")],
        ),
        resource(
            "arn:aws:rds:us-east-1:111122223333:db:orders",
            T::RdsInstance,
            "orders",
            &[("App", "web")],
        ),
        resource(
            "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-1",
            T::EfsFileSystem,
            "shared",
            &[("Team", "data")],
        ),
    ]);
    let mut state = state_of(COVERAGE_BEFORE);
    let before_objects = objects(COVERAGE_BEFORE);
    let rules = coffer::coverage::Rules::from_objects(
        before_objects.iter().map(|o| (&o.address, &o.attributes)),
    );
    state.coverage = coffer::coverage::compute(&rules, &old_inventory);
    state.inventory = Some(old_inventory);
    // the configuration changed: file systems tagged Team=data are now protected, web no longer
    // covers databases, and a new selection matches nothing
    let after = format!(
        "{}\n{}",
        COVERAGE_BEFORE.replace("resources = [\"arn:aws:rds:us-east-1:111122223333:db:*\"]", "resources = [\"arn:aws:rds:us-east-1:111122223333:db:*\"]\n  not_resources = [\"arn:aws:rds:us-east-1:111122223333:db:orders\"]"),
        r#"
selection "shared-files" {
  plan    = plan.daily
  any_tag = { Team = ["data"] }
}
selection "nothing" {
  plan    = plan.daily
  any_tag = { App = ["none"] }
}
selection "everything-web" {
  plan    = plan.monthly
  any_tag = { App = ["web"] }
}
"#
    );
    let desired = objects(&after);
    let p = compute(&PlanInput {
        mode: Mode::Normal,
        desired: &desired,
        state: Some(&state),
        recovery_points: &BTreeMap::new(),
        points: &Default::default(),
        now: now(),
        inventory: Some((&new_inventory, InventorySource::Refreshed)),
    })
    .expect("plan");
    let p = Plan::parse(&p.to_json_text()).expect("plan parses back");
    insta::assert_snapshot!("coverage_text", render_text(&p, Style::PLAIN));
    insta::assert_snapshot!("coverage_markdown", render_markdown(&p));
    let mut json = serde_json::to_value(&p.coverage).unwrap();
    json["inventory"] = serde_json::Value::from("(omitted)");
    insta::assert_json_snapshot!("coverage_json", json);
    assert!(p.has_changes());
    assert_eq!(p.summary.protection_gained, 5);
    assert_eq!(p.summary.protection_lost, 2);
}

/// Issue 16: the Drift section as reviewers read it, in text and markdown, when nothing else
/// changes: a point whose snapshot is gone, a missing repository, and a failing resource.
#[test]
fn drift_in_text_and_markdown() {
    use coffer::plan::drift::{BrokenRepository, Drift, FailingResource, MissingPoint};
    let state = state_of(BEFORE);
    let drift = Drift {
        missing_points: vec![MissingPoint {
            vault: "main".into(),
            recovery_point_id: "rp-1".into(),
            resource_arn: "arn:aws:ec2:eu-west-1:111122223333:volume/vol-1".into(),
            native_id: "snap-0123".into(),
        }],
        repositories: vec![BrokenRepository {
            vault: "dr".into(),
            storage: "file:///srv/vaults/dr".into(),
            problem: "no repository is there any more".into(),
        }],
        failing_resources: vec![FailingResource {
            resource_arn: "dir:/srv/data".into(),
            jobs: vec!["job-3".into(), "job-2".into(), "job-1".into()],
            since: now() - chrono::Duration::days(3),
            last_error: Some("permission denied | reading /srv/data/x\nmore".into()),
        }],
        unchecked: vec![
            "some recovery points of vault.x could not be looked for: throttled".into(),
        ],
    };
    let p = Plan::parse(
        &plan(BEFORE, Some(&state), Mode::DriftOnly)
            .with_drift(drift)
            .to_json_text(),
    )
    .unwrap();
    assert!(p.has_drift() && !p.has_changes());
    insta::assert_snapshot!("drift_text", render_text(&p, Style::PLAIN));
    insta::assert_snapshot!("drift_markdown", render_markdown(&p));
}
