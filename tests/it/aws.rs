//! The AWS provider against a real moto server: discovery of every resource type in two
//! regions with tags and relationships, the selection semantics table (expected sets written
//! out here, not computed by coffer), protection changes and drift, and clear errors.

use crate::moto::{aws_env, moto, runtime, sdk, volume, world, BULK_EAST, BULK_WEST};
use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const PROVIDERS: &str = r#"
provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}

vault "main" {}

plan "east" {
  regions = ["us-east-1"]
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
  }
}

plan "west" {
  regions = ["eu-west-1"]
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
  }
}
"#;

fn inventory(config: &str, extra: &[&str]) -> Vec<Value> {
    world();
    let dir = workspace(config);
    let r = run(aws_env(&mut coffer(dir.path()))
        .args(["inventory", "--json"])
        .args(extra));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    serde_json::from_str::<Value>(&r.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn count(rows: &[Value], region: &str, t: &str) -> usize {
    rows.iter()
        .filter(|r| r["region"] == region && r["type"] == t)
        .count()
}

#[test]
fn discovers_every_type_in_both_regions_with_tags_and_relationships() {
    let rows = inventory(PROVIDERS, &[]);
    let (ev, ei, ed, ec, ef) = BULK_EAST;
    let (wv, wi, wd, wc, wf) = BULK_WEST;
    // every instance brings its root volume
    assert_eq!(count(&rows, "us-east-1", "EC2"), ei as usize + 1);
    assert_eq!(count(&rows, "us-east-1", "EBS"), 5 + ev + (ei as usize + 1));
    assert_eq!(count(&rows, "us-east-1", "RDS"), ed + 1);
    assert_eq!(count(&rows, "us-east-1", "Aurora"), ec + 1);
    assert_eq!(count(&rows, "us-east-1", "EFS"), ef + 1);
    assert_eq!(count(&rows, "eu-west-1", "EC2"), wi as usize);
    assert_eq!(count(&rows, "eu-west-1", "EBS"), 1 + wv + wi as usize);
    assert_eq!(count(&rows, "eu-west-1", "RDS"), wd);
    assert_eq!(count(&rows, "eu-west-1", "Aurora"), wc);
    assert_eq!(count(&rows, "eu-west-1", "EFS"), wf);

    let by_name: BTreeMap<&str, &Value> = rows
        .iter()
        .filter_map(|r| Some((r["name"].as_str()?, r)))
        .collect();
    let web1 = by_name["web-1"];
    assert_eq!(web1["tags"]["App"], "web");
    assert_eq!(web1["account"], "123456789012");
    assert!(web1["arn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:ec2:us-east-1:123456789012:volume/vol-"));
    assert!(web1["created_at"].as_str().is_some());
    assert_eq!(
        by_name["orders"]["arn"],
        "arn:aws:rds:us-east-1:123456789012:db:orders"
    );
    assert_eq!(by_name["analytics"]["type"], "Aurora");
    assert!(by_name["shared"]["arn"]
        .as_str()
        .unwrap()
        .contains(":elasticfilesystem:us-east-1:123456789012:file-system/fs-"));

    // the instance and its root volume point at each other
    let server = by_name["app-server"];
    let rels = server["relationships"].as_array().unwrap();
    let root = rels
        .iter()
        .find(|r| r["kind"] == "has_volume")
        .expect("a volume")["arn"]
        .as_str()
        .unwrap();
    let volume = rows
        .iter()
        .find(|r| r["arn"] == root)
        .expect("the root volume is in the inventory");
    assert_eq!(volume["relationships"][0]["kind"], "attached_to");
    assert_eq!(volume["relationships"][0]["arn"], server["arn"]);
}

/// Each case: a selection and the exact names it must cover.
#[test]
fn selection_semantics_table() {
    let bulk_dbs: Vec<String> = (0..BULK_EAST.2).map(|i| format!("bulk-db-{i}")).collect();
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "or_of_tags",
            r#"plan = plan.east
  any_tag = { App = ["web", "db"] }"#,
            vec![
                "web-1",
                "web-2",
                "db-data",
                "tmp-scratch",
                "app-server",
                "orders",
                "shared",
            ],
        ),
        (
            "and_of_conditions",
            r#"plan = plan.east
  any_tag = { App = ["web"] }
  condition {
    string_equals   = { Env = "prod" }
    string_not_like = { Name = "tmp-*" }
  }"#,
            vec!["web-1", "app-server", "shared"],
        ),
        (
            "not_resources",
            r#"plan = plan.east
  any_tag       = { App = ["web"] }
  not_resources = ["arn:aws:ec2:*:*:instance/*", "arn:aws:elasticfilesystem:*"]"#,
            vec!["web-1", "web-2", "tmp-scratch"],
        ),
        (
            "case_sensitive",
            r#"plan = plan.east
  any_tag = { App = ["Web"] }"#,
            vec!["Case"],
        ),
        (
            "like_only",
            r#"plan = plan.east
  condition {
    string_like = { Name = "web-*" }
  }"#,
            vec!["web-1", "web-2"],
        ),
        (
            "other_region",
            r#"plan = plan.west
  any_tag = { App = ["web"] }"#,
            vec!["eu-web"],
        ),
        (
            "tags_or_arns",
            r#"plan = plan.east
  any_tag   = { App = ["analytics"] }
  resources = ["arn:aws:rds:us-east-1:123456789012:db:orders"]"#,
            vec!["analytics", "orders"],
        ),
    ];
    let mut config = String::from(PROVIDERS);
    for (name, body, _) in &cases {
        config.push_str(&format!("\nselection \"{name}\" {{\n  {body}\n}}\n"));
    }
    config.push_str("\nselection \"rds_wildcard\" {\n  plan      = plan.east\n  resources = [\"arn:aws:rds:us-east-1:123456789012:db:*\"]\n}\n");
    config.push_str("\nselection \"everything_west\" {\n  plan          = plan.west\n  all_resources = true\n}\n");
    let rows = inventory(&config, &[]);
    let mut covered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &rows {
        for p in r["protected_by"].as_array().unwrap() {
            let sel = p["selection"]
                .as_str()
                .unwrap()
                .trim_start_matches("selection.")
                .to_string();
            covered.entry(sel).or_default().insert(
                r["name"]
                    .as_str()
                    .unwrap_or(r["arn"].as_str().unwrap())
                    .to_string(),
            );
        }
    }
    for (name, _, expected) in &cases {
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            covered.get(*name).cloned().unwrap_or_default(),
            expected,
            "selection {name}"
        );
    }
    let mut dbs: BTreeSet<String> = bulk_dbs.into_iter().collect();
    dbs.insert("orders".into());
    assert_eq!(covered["rds_wildcard"], dbs);
    let west_total = rows.iter().filter(|r| r["region"] == "eu-west-1").count();
    let (wv, wi, wd, wc, wf) = BULK_WEST;
    assert_eq!(west_total, 1 + wv + 2 * wi as usize + wd + wc + wf);
    assert_eq!(
        rows.iter()
            .filter(|r| r["region"] == "eu-west-1"
                && r["protected_by"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["selection"] == "selection.everything_west"))
            .count(),
        west_total
    );

    // filters of the inventory command
    let unprotected = inventory(
        &config,
        &["--unprotected", "--type", "EFS", "--tag", "Bulk=yes"],
    );
    assert!(unprotected.iter().all(|r| r["type"] == "EFS"
        && r["tags"]["Bulk"] == "yes"
        && r["protected_by"].as_array().unwrap().is_empty()));
    assert_eq!(
        unprotected
            .iter()
            .filter(|r| r["region"] == "us-east-1")
            .count(),
        BULK_EAST.4
    );
}

#[test]
fn protection_changes_from_configuration_and_drift() {
    let rt = runtime();
    let (tagged, untagged) = rt.block_on(async {
        let conf = sdk("us-west-2").await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let a = volume(
            &ec2,
            "us-west-2",
            &[("Name", "drift-a"), ("Backup", "daily")],
        )
        .await;
        let b = volume(&ec2, "us-west-2", &[("Name", "drift-b")]).await;
        (a, b)
    });
    let dir = workspace(
        r#"
provider "aws" {
  region = "us-west-2"
}
vault "main" {}
plan "p" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
  }
}
selection "daily" {
  plan    = plan.p
  any_tag = { Backup = ["daily"] }
}
"#,
    );
    let plan = |args: &[&str]| {
        let r = run(aws_env(&mut coffer(dir.path())).arg("plan").args(args));
        (r.code, r)
    };
    let (code, r) = plan(&["--json", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let gained = v["coverage"]["gained"].as_array().unwrap();
    assert_eq!(gained.len(), 1, "{gained:?}");
    assert_eq!(gained[0]["name"], "drift-a");
    assert_eq!(gained[0]["cause"], "configuration");
    assert_eq!(v["coverage"]["inventory_source"], "refreshed");

    let a = run(aws_env(&mut coffer(dir.path())).args(["apply", "--auto-approve"]));
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        a.stdout.contains("Protection recorded: 1 gained, 0 lost."),
        "{}",
        a.stdout
    );
    assert_eq!(plan(&["--detailed-exitcode"]).0, 0);

    // the cloud changes: drift-b is tagged, drift-a loses its tag
    rt.block_on(async {
        let conf = sdk("us-west-2").await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let tag = aws_sdk_ec2::types::Tag::builder()
            .key("Backup")
            .value("daily")
            .build();
        ec2.create_tags()
            .resources(&untagged)
            .tags(tag.clone())
            .send()
            .await
            .expect("CreateTags");
        ec2.delete_tags()
            .resources(&tagged)
            .tags(tag)
            .send()
            .await
            .expect("DeleteTags");
    });
    let (code, r) = plan(&["--json", "--detailed-exitcode"]);
    assert_eq!(
        code, 2,
        "drift is a change for --detailed-exitcode: {}",
        r.stderr
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let gained = &v["coverage"]["gained"][0];
    assert_eq!(
        (
            gained["name"].as_str(),
            gained["cause"].as_str(),
            gained["detail"].as_str()
        ),
        (
            Some("drift-b"),
            Some("drift"),
            Some("tag Backup=daily added")
        )
    );
    let lost = &v["coverage"]["lost"][0];
    assert_eq!(
        (
            lost["name"].as_str(),
            lost["cause"].as_str(),
            lost["detail"].as_str()
        ),
        (
            Some("drift-a"),
            Some("drift"),
            Some("tag Backup=daily removed")
        )
    );

    let text = plan(&[]).1.stdout;
    assert!(
        text.contains("Protection changes (inventory refreshed"),
        "{text}"
    );
    assert!(text.contains("gains protection"), "{text}");
    assert!(text.contains("[drift: tag Backup=daily added]"), "{text}");

    // a configuration change as well: --drift-only keeps only the cloud's changes
    std::fs::write(dir.path().join("extra.hcl"), "selection \"names\" {\n  plan    = plan.p\n  condition {\n    string_like = { Name = \"drift-*\" }\n  }\n}\n").unwrap();
    let (_, r) = plan(&["--json"]);
    let all: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(all["coverage"]["gained"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["cause"] == "configuration"));
    let (_, r) = plan(&["--json", "--drift-only"]);
    let drift: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        drift["steps"].as_array().unwrap().len(),
        0,
        "drift-only plans change no objects"
    );
    assert!(drift["coverage"]["gained"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["cause"] == "drift"));
    assert_eq!(drift["coverage"]["gained"].as_array().unwrap().len(), 1);

    // --refresh=false plans from the recorded inventory without calling AWS
    std::fs::remove_file(dir.path().join("extra.hcl")).unwrap();
    let r = run(coffer(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["plan", "--refresh=false", "--detailed-exitcode"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("inventory as recorded at the last apply")
            || r.stdout.contains("No changes"),
        "{}",
        r.stdout
    );

    // an apply with only protection changes records them, and the next plan is clean
    let a = run(aws_env(&mut coffer(dir.path())).args(["apply", "--auto-approve"]));
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        a.stdout.contains("Protection recorded: 1 gained, 1 lost."),
        "{}",
        a.stdout
    );
    assert_eq!(plan(&["--detailed-exitcode"]).0, 0);
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".coffer/state.json")).unwrap(),
    )
    .unwrap();
    let covered: Vec<&String> = state["coverage"].as_object().unwrap().keys().collect();
    assert_eq!(covered.len(), 1);
    assert!(covered[0].ends_with(&untagged), "{covered:?}");
}

#[test]
fn clear_errors_for_region_endpoint_and_credentials() {
    let _ = moto();
    let config = |region: &str| format!("provider \"aws\" {{\n  region = \"{region}\"\n}}\n");
    let dir = workspace(&config("us-nowhere-1"));
    let r = run(coffer(dir.path())
        .env_remove("AWS_ENDPOINT_URL")
        .args(["inventory"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown AWS region `us-nowhere-1`"),
        "{}",
        r.stderr
    );

    let dir = workspace(&config("us-east-1"));
    let r = run(aws_env(&mut coffer(dir.path()))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["inventory"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("cannot reach the AWS endpoint"),
        "{}",
        r.stderr
    );

    let r = run(aws_env(&mut coffer(dir.path()))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .args(["inventory"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no AWS credentials found"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_efs_file_system_can_be_mapped_to_a_mount_path() {
    let rows = inventory(PROVIDERS, &["--type", "EFS"]);
    let shared = rows
        .iter()
        .find(|r| r["name"] == "shared")
        .expect("the shared file system");
    assert!(shared["mount_path"].is_null());
    let id = shared["arn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let config = format!("{PROVIDERS}\nefs_mount \"shared\" {{\n  file_system_id = \"{id}\"\n  mount_path     = \"/mnt/shared\"\n}}\n");
    let rows = inventory(&config, &["--type", "EFS"]);
    let shared = rows.iter().find(|r| r["name"] == "shared").unwrap();
    assert_eq!(shared["mount_path"], "/mnt/shared");
}
