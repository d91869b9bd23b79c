//! Coverage benchmark (issue 4): selection and coverage of 50,000 inventory resources against
//! 1,000 selections, no network; target under 1 second. Selections mix tag lists, ARN
//! prefixes and wildcards, conditions and exclusions, as a large estate's would.
//!
//! Run with `cargo bench --bench coverage`.

use coffer::address::Address;
use coffer::coverage::{self, Rules};
use coffer::inventory::{Inventory, Resource, ResourceType};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

fn inventory(n: usize) -> Inventory {
    let types = [
        ResourceType::EbsVolume,
        ResourceType::Ec2Instance,
        ResourceType::RdsInstance,
        ResourceType::EfsFileSystem,
    ];
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    Inventory::new(
        (0..n)
            .map(|i| {
                let t = types[i % types.len()];
                let region = regions[i % regions.len()];
                let arn = match t {
                    ResourceType::EbsVolume => {
                        format!("arn:aws:ec2:{region}:111122223333:volume/vol-{i:017x}")
                    }
                    ResourceType::Ec2Instance => {
                        format!("arn:aws:ec2:{region}:111122223333:instance/i-{i:017x}")
                    }
                    ResourceType::RdsInstance => {
                        format!("arn:aws:rds:{region}:111122223333:db:db-{i}")
                    }
                    _ => format!(
                        "arn:aws:elasticfilesystem:{region}:111122223333:file-system/fs-{i:08x}"
                    ),
                };
                let mut tags = BTreeMap::new();
                tags.insert("App".to_string(), format!("app-{}", i % 400));
                tags.insert(
                    "Env".to_string(),
                    ["prod", "staging", "dev"][i % 3].to_string(),
                );
                tags.insert("Team".to_string(), format!("team-{}", i % 50));
                tags.insert(
                    "Name".to_string(),
                    format!("{}-{i}", if i % 10 == 0 { "tmp" } else { "res" }),
                );
                Resource {
                    arn,
                    resource_type: t,
                    region: region.into(),
                    account: "111122223333".into(),
                    name: tags.get("Name").cloned(),
                    tags,
                    created_at: None,
                    relationships: vec![],
                    mount_path: None,
                    encrypted: false,
                    kms_key: None,
                    metadata: Default::default(),
                }
            })
            .collect(),
    )
}

fn rules(selections: usize) -> Vec<(Address, serde_json::Value)> {
    let mut out = Vec::new();
    for p in 0..100 {
        let regions = match p % 3 {
            0 => json!(["us-east-1"]),
            1 => json!(["eu-west-1", "ap-southeast-2"]),
            _ => json!([]),
        };
        out.push((
            format!("plan.plan-{p}").parse().unwrap(),
            json!({ "tags": {}, "regions": regions }),
        ));
    }
    for s in 0..selections {
        let plan = format!("plan.plan-{}", s % 100);
        let attrs = match s % 5 {
            0 => {
                json!({"plan": plan, "any_tag": {"App": [format!("app-{}", s % 400), format!("app-{}", (s + 7) % 400)]}})
            }
            1 => {
                json!({"plan": plan, "any_tag": {"Team": [format!("team-{}", s % 50)]}, "condition": {"string_equals": {"Env": "prod"}, "string_not_like": {"Name": "tmp-*"}}})
            }
            2 => {
                json!({"plan": plan, "resources": [format!("arn:aws:rds:us-east-1:111122223333:db:db-{}*", s % 10)]})
            }
            3 => {
                json!({"plan": plan, "any_tag": {"App": [format!("app-{}", s % 400)]}, "not_resources": ["arn:aws:ec2:*:*:instance/*"]})
            }
            _ => {
                json!({"plan": plan, "resources": ["arn:aws:elasticfilesystem:*"], "condition": {"string_like": {"Team": format!("team-{}*", s % 5)}}})
            }
        };
        out.push((format!("selection.sel-{s}").parse().unwrap(), attrs));
    }
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, selections, rounds) = if full {
        (50_000, 1_000, 5)
    } else {
        (500, 20, 1)
    };
    let inv = inventory(n);
    let objects = rules(selections);
    let mut times = Vec::new();
    let mut covered = 0;
    let mut protections = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let r = Rules::from_objects(objects.iter().map(|(a, v)| (a, v)));
        let c = coverage::compute(&r, &inv);
        let unmatched = coverage::unmatched(&r, &c);
        let overlaps = coverage::overlaps(&r, &c);
        times.push(started.elapsed());
        covered = c.len();
        protections = c.values().map(Vec::len).sum::<usize>();
        std::hint::black_box((unmatched, overlaps));
    }
    times.sort();
    let median = times[times.len() / 2].as_secs_f64() * 1000.0;
    println!(
        "{n} resources x {selections} selections: {covered} resources covered by {protections} protections in {median:.1} ms (median of {rounds}); target < 1000 ms: {}",
        if median < 1000.0 { "OK" } else { "MISSED" }
    );
}
