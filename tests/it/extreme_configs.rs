//! Issue 11, defect 3: no configuration makes coffer panic. Generated configurations with
//! extreme durations, cron expressions, time zones and dates go through everything that
//! `validate`, `plan`, `schedule`, `run` and `inventory` compute: loading, desired objects, the
//! change plan with its schedule previews and renderings, selection, due runs and schedule
//! occurrences with their windows.

use chrono::{DateTime, Utc};
use coffer::config::{self, ConfigInput};
use coffer::coverage;
use coffer::diag::SourceFile;
use coffer::inventory::{Inventory, Resource, ResourceType};
use coffer::jobs::{due, rules_from_objects};
use coffer::objects::desired;
use coffer::plan::{compute, InventorySource, Mode, PlanInput};
use coffer::render::{render_markdown, render_text, Style};
use coffer::state::{State, StateObject};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Mostly ordinary values (so that most configurations load and reach the plan and the
/// schedule), sometimes extreme ones.
fn mostly<S: Strategy<Value = String> + 'static>(
    ordinary: &'static str,
    extreme: S,
) -> BoxedStrategy<String> {
    prop_oneof![2 => Just(ordinary.to_string()), 1 => extreme].boxed()
}

fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0m",
            "1m",
            "59m",
            "1h",
            "8h",
            "90d",
            "7y",
            "100y",
            "36500d",
            "36501d",
            "1000000y",
            "99999999999999999999y",
            "1y6mo",
            "0d",
        ])
        .prop_map(str::to_string),
        (
            "[0-9]{1,21}",
            prop::sample::select(vec!["m", "h", "d", "w", "mo", "y"])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
    ]
}

fn cron_field(values: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(str::to_string)
}

fn schedule() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "cron(0 3 * * ? *)",
            "cron(0 0 1 1 ? 2199)",
            "cron(0 0 1 1 ? 1970)",
            "cron(59 23 L * ? *)",
            "cron(0 0 ? * 7#5 *)",
            "cron(0 0 LW * ? *)",
            "cron(0 0 29 2 ? *)",
            "cron(0 0 31 2 ? *)",
            "cron(0/1 * * * ? *)",
            "cron(0 0 L-30 * ? *)",
            "cron(0 20-2 * * ? *)",
            "cron(* * * * * *)",
            "rate(1 minute)",
            "",
        ])
        .prop_map(str::to_string),
        (
            cron_field(vec!["0", "59", "*/7", "0/1", "60", "*"]),
            cron_field(vec!["0", "23", "20-2", "*", "24"]),
            cron_field(vec!["?", "1", "31", "L", "LW", "15W", "L-3", "*"]),
            cron_field(vec!["*", "2", "FEB", "12", "11-2", "13"]),
            cron_field(vec!["?", "*", "1", "7#1", "6L", "MON-FRI", "8"]),
            cron_field(vec![
                "*",
                "2026",
                "2199",
                "1970",
                "2100-2199",
                "9999",
                "1969"
            ]),
        )
            .prop_map(|(a, b, c, d, e, f)| format!("cron({a} {b} {c} {d} {e} {f})")),
    ]
}

fn timezone() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "UTC",
        "Europe/Paris",
        "Pacific/Kiritimati",
        "America/St_Johns",
        "Australia/Lord_Howe",
        "Nowhere/Bogus",
    ])
    .prop_map(str::to_string)
}

/// Any instant from year 1 to year 9999 (what `--at` can be given), and the calendar's ends.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (-62_135_596_800i64..253_402_300_799i64)
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
    ]
}

#[derive(Debug, Clone)]
struct Extreme {
    schedule: String,
    timezone: String,
    start_window: String,
    completion_window: String,
    cold_storage_after: Option<String>,
    delete_after: Option<String>,
    min_retention: String,
    max_retention: String,
    copy_delete_after: String,
}

fn extreme() -> impl Strategy<Value = Extreme> {
    (
        mostly("cron(0 3 * * ? *)", schedule()),
        mostly("UTC", timezone()),
        mostly("1h", duration()),
        mostly("8h", duration()),
        prop::option::of(mostly("30d", duration())),
        prop::option::of(mostly("400d", duration())),
        mostly("1d", duration()),
        mostly("100y", duration()),
        mostly("1y", duration()),
    )
        .prop_map(|(s, tz, sw, cw, cold, del, min, max, copy)| Extreme {
            schedule: s,
            timezone: tz,
            start_window: sw,
            completion_window: cw,
            cold_storage_after: cold,
            delete_after: del,
            min_retention: min,
            max_retention: max,
            copy_delete_after: copy,
        })
}

fn render(e: &Extreme) -> String {
    let lifecycle = |cold: &Option<String>, del: &Option<String>| {
        let mut out = String::new();
        if let Some(c) = cold {
            out.push_str(&format!("      cold_storage_after = \"{c}\"\n"));
        }
        if let Some(d) = del {
            out.push_str(&format!("      delete_after = \"{d}\"\n"));
        }
        out
    };
    format!(
        r#"
vault "main" {{
  storage = "file://./vaults/main"
}}

vault "dr" {{
  storage = "file://./vaults/dr"
  lock {{
    mode          = "governance"
    min_retention = "{min}"
    max_retention = "{max}"
  }}
}}

plan "p" {{
  rule "r" {{
    schedule          = "{schedule}"
    timezone          = "{tz}"
    start_window      = "{sw}"
    completion_window = "{cw}"
    target_vault      = vault.main
    lifecycle {{
{lifecycle}    }}
    copy_to {{
      vault = vault.dr
      lifecycle {{
        delete_after = "{copy}"
      }}
    }}
  }}
}}

selection "all" {{
  plan      = plan.p
  resources = ["dir:*"]
}}

directory "d" {{
  path = "./data"
}}
"#,
        min = e.min_retention,
        max = e.max_retention,
        schedule = e.schedule,
        tz = e.timezone,
        sw = e.start_window,
        cw = e.completion_window,
        lifecycle = lifecycle(&e.cold_storage_after, &e.delete_after),
        copy = e.copy_delete_after,
    )
}

fn load(text: &str, now: DateTime<Utc>) -> config::Loaded {
    config::load(ConfigInput {
        files: vec![SourceFile::new("main.hcl", text)],
        now,
        ..Default::default()
    })
}

/// The state after applying the ordinary configuration, so that the extreme one is a change
/// to it (with schedule previews) rather than only creations.
fn applied_base(now: DateTime<Utc>) -> State {
    let ordinary = Extreme {
        schedule: "cron(0 3 * * ? *)".into(),
        timezone: "UTC".into(),
        start_window: "1h".into(),
        completion_window: "8h".into(),
        cold_storage_after: None,
        delete_after: Some("35d".into()),
        min_retention: "1d".into(),
        max_retention: "10y".into(),
        copy_delete_after: "1y".into(),
    };
    let loaded = load(&render(&ordinary), crate::support::now());
    let config = loaded.config.expect("the ordinary configuration loads");
    let mut state = State::new("extreme");
    for spec in desired(&config) {
        state.objects.insert(
            spec.address.clone(),
            StateObject {
                address: spec.address.clone(),
                kind: spec.kind,
                id: format!("id-{}", spec.address),
                attributes: spec.attributes.clone(),
                depends_on: spec.depends_on.clone(),
                created_at: now,
                updated_at: now,
                lock_applied_at: None,
            },
        );
    }
    state
}

fn directory() -> Inventory {
    Inventory::new(vec![Resource {
        arn: "dir:/data".into(),
        resource_type: ResourceType::Directory,
        region: "local".into(),
        account: "local".into(),
        name: Some("d".into()),
        tags: BTreeMap::new(),
        created_at: None,
        relationships: Vec::new(),
        mount_path: Some("/data".into()),
        encrypted: false,
        kms_key: None,
        metadata: BTreeMap::new(),
    }])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn extreme_configurations_and_dates_never_panic(e in extreme(), now in instant()) {
        let text = render(&e);
        let loaded = load(&text, now);
        let Some(config) = loaded.config else {
            prop_assert!(loaded.has_errors());
            return Ok(());
        };
        let objects = desired(&config);
        let state = applied_base(crate::support::now());
        let inventory = directory();
        let plan = compute(&PlanInput {
            mode: Mode::Normal,
            desired: &objects,
            state: Some(&state),
            recovery_points: &BTreeMap::new(), points: &Default::default(),
            now,
            inventory: Some((&inventory, InventorySource::Refreshed)),
        });
        if let Ok(plan) = &plan {
            let _ = render_text(plan, Style::PLAIN);
            let _ = render_markdown(plan);
        }
        let attrs: Vec<_> = objects.iter().map(|o| (&o.address, &o.attributes)).collect();
        let rules = rules_from_objects(attrs.iter().copied());
        prop_assert!(rules.is_ok(), "{:?}", rules.err());
        let rules = rules.unwrap();
        let selections = coverage::Rules::from_objects(attrs.iter().copied());
        let covered = coverage::compute(&selections, &inventory);
        let since = now.checked_sub_signed(chrono::TimeDelta::days(2)).unwrap_or(now);
        let _ = due(&rules, &covered, since, now);
        for plan in config.plans.values() {
            for rule in plan.rules.values() {
                if let Ok(schedule) = rule.parsed_schedule() {
                    let _ = schedule.runs(
                        now,
                        None,
                        5,
                        rule.start_window.to_chrono(),
                        rule.completion_window.to_chrono(),
                    );
                    let _ = schedule.prev_before(now);
                    let _ = schedule.next_after(now);
                }
            }
        }
    }
}
