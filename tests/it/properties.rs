//! Property: for generated configurations and states, applying the plan and planning again
//! yields no changes, and the state then records exactly the configured objects.

use chrono::Utc;
use coffer::apply::{self, Effects};
use coffer::catalog::SqliteCatalog;
use coffer::objects::{desired, ObjectSpec};
use coffer::plan::{compute, Mode, PlanInput};
use coffer::state::local::LocalBackend;
use coffer::state::{State, StateObject};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A vault: name index, storage variant, tags.
type GenVault = (usize, u8, Vec<(String, String)>);
/// A rule: name index, target vault index, window variant.
type GenRule = (usize, usize, u8);

#[derive(Debug, Clone)]
struct World {
    vaults: Vec<GenVault>,
    plans: Vec<(usize, Vec<GenRule>)>,
    selections: Vec<(usize, usize, Vec<String>)>,
    directories: Vec<(usize, u8)>,
}

const NAMES: &[&str] = &["alpha", "beta", "gamma", "delta", "epsilon"];

fn world() -> impl Strategy<Value = World> {
    let tags = prop::collection::btree_map("[A-C]", "[xyz]{1,2}", 0..3)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (
        prop::collection::btree_map(0..NAMES.len(), (0u8..3, tags), 1..4),
        prop::collection::btree_map(
            0..NAMES.len(),
            prop::collection::btree_map(0..NAMES.len(), (0usize..8, 0u8..3), 0..3),
            0..3,
        ),
        prop::collection::btree_map(
            0..NAMES.len(),
            (
                0usize..8,
                prop::collection::vec("arn:aws:ec2:us-east-1:1:volume/v[0-3]", 0..3),
            ),
            0..3,
        ),
        prop::collection::btree_map(0..NAMES.len(), 0u8..3, 0..3),
    )
        .prop_map(|(v, p, s, d)| World {
            vaults: v.into_iter().map(|(i, (st, t))| (i, st, t)).collect(),
            plans: p
                .into_iter()
                .map(|(i, rules)| {
                    (
                        i,
                        rules
                            .into_iter()
                            .map(|(r, (vault, w))| (r, vault, w))
                            .collect(),
                    )
                })
                .collect(),
            selections: s
                .into_iter()
                .map(|(i, (plan, res))| (i, plan, res))
                .collect(),
            directories: d.into_iter().collect(),
        })
}

fn render(w: &World) -> String {
    let mut out = String::new();
    let vault_names: Vec<&str> = w.vaults.iter().map(|(i, _, _)| NAMES[*i]).collect();
    for (i, storage, tags) in &w.vaults {
        let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect();
        out.push_str(&format!(
            "vault \"{}\" {{\n  storage = \"file://./vaults/{}-{storage}\"\n  tags = {{ {} }}\n}}\n",
            NAMES[*i],
            NAMES[*i],
            tags.join(", ")
        ));
    }
    let mut plan_names = Vec::new();
    for (i, rules) in &w.plans {
        plan_names.push(format!("p-{}", NAMES[*i]));
        out.push_str(&format!("plan \"p-{}\" {{\n", NAMES[*i]));
        for (r, vault, window) in rules {
            let vault = vault_names[vault % vault_names.len()];
            out.push_str(&format!(
                "  rule \"{}\" {{\n    schedule = \"cron(0 {} * * ? *)\"\n    start_window = \"{}h\"\n    target_vault = vault.{vault}\n  }}\n",
                NAMES[*r],
                window,
                window + 1
            ));
        }
        out.push_str("}\n");
    }
    if !plan_names.is_empty() {
        for (i, plan, resources) in &w.selections {
            let res: Vec<String> = resources.iter().map(|r| format!("\"{r}\"")).collect();
            out.push_str(&format!(
                "selection \"s.{}\" {{\n  plan = plan.{}\n  resources = [{}]\n}}\n",
                NAMES[*i],
                plan_names[plan % plan_names.len()],
                res.join(", ")
            ));
        }
    }
    for (i, p) in &w.directories {
        out.push_str(&format!(
            "directory \"{}\" {{\n  path = \"./data/{p}\"\n}}\n",
            NAMES[*i]
        ));
    }
    out
}

/// Plans `text` against the backend's state and applies it for real; returns the new state.
fn plan_and_apply(backend: &LocalBackend, text: &str) -> (usize, State) {
    let loaded = crate::support::load(text);
    assert!(!loaded.has_errors(), "{text}\n{:#?}", loaded.diagnostics);
    let objects = desired(&loaded.config.unwrap());
    let lock = backend.lock("test", Duration::ZERO, |_| {}).unwrap();
    let state = backend.read().unwrap().map(|l| l.state);
    let plan = compute(&PlanInput {
        mode: Mode::Normal,
        desired: &objects,
        state: state.as_ref(),
        recovery_points: &BTreeMap::new(),
        points: &Default::default(),
        now: Utc::now(),
        inventory: None,
    })
    .unwrap();
    let mut state = state.unwrap_or_else(|| State::new("prop"));
    let mut journal = coffer::state::backend::Journal::Local(
        backend.begin_journal(&lock, &state, Utc::now()).unwrap(),
    );
    let catalog = SqliteCatalog::open_read_only(&backend.dir().join("catalog.db")).unwrap();
    let mut effects = RecordsOnly;
    let interrupted = AtomicBool::new(false);
    let mut env = apply::Environment {
        effects: &mut effects,
        catalog: &catalog,
        clock: &Utc::now,
        interrupted: &interrupted,
    };
    let report = apply::run(&plan, &mut state, &mut journal, &mut env, &mut |_| {}).unwrap();
    assert!(report.error.is_none(), "{:?}", report.error);
    state.serial += 1;
    backend.write(&lock, &state).unwrap();
    (plan.steps.len(), state)
}

/// Effects that only hand out identifiers: this property is about plans and state, and
/// initialising real vault repositories (with their key derivation) would only make it slow.
struct RecordsOnly;

impl Effects for RecordsOnly {
    fn create(&mut self, spec: &ObjectSpec) -> Result<String, String> {
        Ok(format!("{}-{}", spec.kind.keyword(), spec.address))
    }
    fn update(&mut self, _: &ObjectSpec, _: &StateObject) -> Result<(), String> {
        Ok(())
    }
    fn delete(&mut self, _: &StateObject) -> Result<(), String> {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_plan_then_planning_again_shows_no_changes(a in world(), b in world()) {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(dir.path().join(".coffer"));
        let (_, first) = plan_and_apply(&backend, &render(&a));
        let (_, second) = plan_and_apply(&backend, &render(&b));
        prop_assert_eq!(second.serial, first.serial + 1);

        let loaded = crate::support::load(&render(&b));
        let objects = desired(&loaded.config.unwrap());
        let reread = backend.read().unwrap().unwrap().state;
        prop_assert_eq!(&reread, &second);
        let again = compute(&PlanInput { mode: Mode::Normal, desired: &objects, state: Some(&reread), recovery_points: &BTreeMap::new(), points: &Default::default(), now: Utc::now(), inventory: None }).unwrap();
        prop_assert!(!again.has_changes(), "second plan has steps: {:?}", again.steps);
        let recorded: Vec<_> = reread.objects.values().map(|o| (o.address.clone(), o.attributes.clone())).collect();
        let wanted: Vec<_> = objects.iter().map(|o| (o.address.clone(), o.attributes.clone())).collect();
        prop_assert_eq!(recorded, wanted);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No input, however malformed, makes loading panic.
    #[test]
    fn loading_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = crate::support::load(&text);
    }

    /// Valid configurations with random damage: errors, never panics.
    #[test]
    fn loading_damaged_configurations_never_panics(
        cut in 0usize..2000,
        insert in "[{}\\[\\]\"=#$%\\n a-z0-9.(),:?<>!*/+-]{0,12}",
    ) {
        let base = crate::support::BASIC;
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let text = format!("{}{insert}{}", &base[..at], &base[at..]);
        let loaded = crate::support::load(&text);
        if loaded.config.is_none() {
            prop_assert!(loaded.has_errors());
        }
    }
}
