//! Tests of plan computation: actions, ordering, vault refusals, locks and notes.

use super::*;
use crate::state::StateObject;
use serde_json::json;

fn spec(addr: &str, attrs: serde_json::Value, deps: &[&str]) -> ObjectSpec {
    let address: Address = addr.parse().unwrap();
    ObjectSpec {
        kind: address.kind(),
        address,
        attributes: attrs,
        depends_on: deps.iter().map(|d| d.parse().unwrap()).collect(),
    }
}

fn recorded(specs: &[ObjectSpec]) -> State {
    let mut s = State::new("L");
    s.serial = 1;
    for o in specs {
        s.objects.insert(
            o.address.clone(),
            StateObject {
                address: o.address.clone(),
                kind: o.kind,
                id: "x".into(),
                attributes: o.attributes.clone(),
                depends_on: o.depends_on.clone(),
                created_at: DateTime::UNIX_EPOCH,
                updated_at: DateTime::UNIX_EPOCH,
                lock_applied_at: None,
            },
        );
    }
    s
}

fn plan(desired: &[ObjectSpec], state: Option<&State>, mode: Mode) -> Result<Plan, Vec<PlanError>> {
    compute(&PlanInput {
        mode,
        desired,
        state,
        recovery_points: &BTreeMap::new(),
        points: &Default::default(),
        now: DateTime::UNIX_EPOCH,
        inventory: None,
    })
}

fn steps(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .map(|s| format!("{:?} {}", s.operation, s.address))
        .collect()
}

fn world() -> Vec<ObjectSpec> {
    vec![
        spec("vault.v", json!({"storage": "file://a", "tags": {}}), &[]),
        spec("plan.p", json!({"tags": {}}), &[]),
        spec(
            "plan.p.rule.r",
            json!({"target_vault": "vault.v"}),
            &["vault.v", "plan.p"],
        ),
        spec("selection.s", json!({"plan": "plan.p"}), &["plan.p"]),
    ]
}

#[test]
fn creates_in_dependency_order() {
    let p = plan(&world(), None, Mode::Normal).unwrap();
    assert_eq!(
        steps(&p),
        [
            "Create vault.v",
            "Create plan.p",
            "Create plan.p.rule.r",
            "Create selection.s"
        ]
    );
    assert_eq!(
        p.summary,
        Summary {
            add: 4,
            change: 0,
            destroy: 0,
            ..Summary::default()
        }
    );
    assert_eq!(
        p.state,
        StateRef {
            lineage: None,
            serial: 0
        }
    );
}

#[test]
fn no_changes_against_matching_state() {
    let w = world();
    let s = recorded(&w);
    let p = plan(&w, Some(&s), Mode::Normal).unwrap();
    assert!(!p.has_changes());
    assert!(p.changes.iter().all(|c| c.action == Action::NoOp));
}

#[test]
fn destroys_in_reverse_dependency_order() {
    let w = world();
    let s = recorded(&w);
    let p = plan(&w, Some(&s), Mode::Destroy).unwrap();
    let st = steps(&p);
    let pos = |x: &str| st.iter().position(|s| s == x).unwrap();
    assert!(pos("Delete plan.p.rule.r") < pos("Delete vault.v"));
    assert!(pos("Delete plan.p.rule.r") < pos("Delete plan.p"));
    assert!(pos("Delete selection.s") < pos("Delete plan.p"));
    assert_eq!(p.summary.destroy, 4);
}

#[test]
fn replacement_deletes_before_creating_and_updates_follow() {
    let w = world();
    let s = recorded(&w);
    let mut w2 = w.clone();
    w2[0].attributes = json!({"storage": "file://b", "tags": {}});
    w2[2].attributes = json!({"target_vault": "vault.v", "schedule": "x"});
    let p = plan(&w2, Some(&s), Mode::Normal).unwrap();
    assert_eq!(
        steps(&p),
        ["Delete vault.v", "Create vault.v", "Update plan.p.rule.r"]
    );
    assert_eq!(
        p.summary,
        Summary {
            add: 1,
            change: 1,
            destroy: 1,
            ..Summary::default()
        }
    );
    let c = p
        .changes
        .iter()
        .find(|c| c.address.to_string() == "vault.v")
        .unwrap();
    assert_eq!(c.action, Action::Replace);
}

/// Issue 11, defect 6: a vault's key is changed in place; the vault and its points stay.
#[test]
fn changing_a_vaults_kms_key_is_an_update_not_a_replacement() {
    let mut w = world();
    w[0].attributes = json!({"storage": "file://a", "tags": {}, "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/old"});
    let s = recorded(&w);
    w[0].attributes["kms_key_arn"] = json!("arn:aws:kms:us-east-1:111122223333:key/new");
    let p = plan(&w, Some(&s), Mode::Normal).unwrap();
    assert_eq!(steps(&p), ["Update vault.v"]);
}

#[test]
fn moving_a_rule_away_updates_it_before_the_old_vault_goes() {
    let mut w = world();
    w.push(spec(
        "vault.w",
        json!({"storage": "file://w", "tags": {}}),
        &[],
    ));
    let s = recorded(&w);
    let w2 = vec![
        w[1].clone(),
        spec(
            "plan.p.rule.r",
            json!({"target_vault": "vault.w"}),
            &["vault.w", "plan.p"],
        ),
        w[3].clone(),
        w[4].clone(),
    ];
    let p = plan(&w2, Some(&s), Mode::Normal).unwrap();
    assert_eq!(steps(&p), ["Update plan.p.rule.r", "Delete vault.v"]);
}

#[test]
fn vault_with_points_is_not_destroyed_without_force() {
    let w = world();
    let s = recorded(&w);
    let made = DateTime::UNIX_EPOCH;
    let points: BTreeMap<String, VaultPoints> = [(
        "v".to_string(),
        VaultPoints {
            count: 3,
            newest: Some(made),
        },
    )]
    .into();
    let destroy = |state: &State, now: DateTime<Utc>| {
        compute(&PlanInput {
            mode: Mode::Destroy,
            desired: &w,
            state: Some(state),
            recovery_points: &points,
            points: &Default::default(),
            now,
            inventory: None,
        })
    };
    let errs = destroy(&s, made).unwrap_err();
    assert_eq!(
        errs[0].message,
        "cannot destroy vault `v`: it holds 3 recovery points"
    );

    let mut forced = w.clone();
    forced[0].attributes = json!({"storage": "file://a", "tags": {}, "force_destroy": true});
    let p = destroy(&recorded(&forced), made).unwrap();
    assert_eq!(
        p.notes[0],
        "vault.v: force_destroy deletes the repository at file://a and the 3 recovery points it holds"
    );

    // a lock keeps the newest point, so force_destroy may not delete its data yet
    let mut locked = forced.clone();
    locked[0].attributes["lock"] = json!({"mode": "governance", "min_retention": "30d"});
    let errs = destroy(&recorded(&locked), made + chrono::Duration::days(29)).unwrap_err();
    assert_eq!(
        errs[0].message,
        "cannot destroy vault `v`: its lock keeps its recovery points until 1970-01-31 00:00 UTC"
    );
    assert!(destroy(&recorded(&locked), made + chrono::Duration::days(31)).is_ok());

    // without force_destroy, an empty vault goes and its repository stays
    let none = BTreeMap::new();
    let p = compute(&PlanInput {
        mode: Mode::Destroy,
        desired: &w,
        state: Some(&recorded(
            &locked
                .iter()
                .map(|o| {
                    let mut o = o.clone();
                    if o.address.kind() == Kind::Vault {
                        o.attributes["force_destroy"] = json!(false);
                    }
                    o
                })
                .collect::<Vec<_>>(),
        )),
        recovery_points: &none,
        points: &Default::default(),
        now: made,
        inventory: None,
    })
    .unwrap();
    assert!(p.notes[0].contains("is kept"), "{}", p.notes[0]);
}
