//! Unit tests of lowering: every block kind, locals and references, windows, names.

use super::checks::*;
use super::*;
fn lower(text: &str) -> Loaded {
    load(ConfigInput {
        files: vec![SourceFile::new("main.hcl", text)],
        ..Default::default()
    })
}

fn config(text: &str) -> Config {
    let l = lower(text);
    assert!(!l.has_errors(), "{:#?}", l.diagnostics);
    l.config.expect("config")
}

fn messages(text: &str) -> Vec<String> {
    lower(text)
        .diagnostics
        .into_iter()
        .map(|d| d.message)
        .collect()
}

#[test]
fn lowers_every_block() {
    let c = config(
        r#"
        coffer {
          backend "local" { path = "state-dir" }
        }
        provider "aws" {
          region  = "eu-west-1"
          profile = "backup"
        }
        vault "main" {
          storage     = "file://./v"
          kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/abc"
          lock {
            mode           = "compliance"
            min_retention  = "7d"
            changeable_for = "3d"
          }
        }
        plan "p" {
          rule "r" {
            schedule     = "cron(0 6 ? * 7#1 *)"
            timezone     = "Europe/Paris"
            target_vault = vault.main
            lifecycle {
              cold_storage_after = "90d"
              delete_after       = "180d"
            }
          }
        }
        selection "s" {
          plan          = plan.p
          any_tag       = { App = "web", Tier = ["a", "b"] }
          not_resources = ["arn:x"]
          condition {
            string_like = { Name = "prod-*" }
          }
        }
        directory "d" { path = "/srv" }
        "#,
    );
    assert_eq!(
        c.backend,
        Backend::Local {
            path: "state-dir".into()
        }
    );
    assert_eq!(c.providers[0].region.as_deref(), Some("eu-west-1"));
    let lock = c.vaults["main"].lock.as_ref().unwrap();
    assert_eq!(lock.mode, LockMode::Compliance);
    assert_eq!(lock.changeable_for.as_ref().unwrap().days(), 3);
    let rule = &c.plans["p"].rules["r"];
    assert_eq!(rule.timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(
        rule.lifecycle
            .as_ref()
            .unwrap()
            .delete_after
            .as_ref()
            .unwrap()
            .days(),
        180
    );
    let sel = &c.selections["s"];
    assert_eq!(sel.any_tag["App"], vec!["web"]);
    assert_eq!(sel.any_tag["Tier"], vec!["a", "b"]);
    assert_eq!(sel.conditions.string_like["Name"], "prod-*");
    assert_eq!(c.directories["d"].path, "/srv");
}

#[test]
fn locals_are_evaluated_in_dependency_order_whatever_the_file_order() {
    let c = config(
        r#"
        locals {
          full = "${local.prefix}-${var.env}"
        }
        variable "env" { default = "prod" }
        locals {
          prefix = upper("x")
        }
        vault "main" { tags = { Name = local.full } }
        "#,
    );
    assert_eq!(c.vaults["main"].tags["Name"], "X-prod");
}

#[test]
fn dependencies_follow_references_through_locals() {
    let c = config(
        r#"
        vault "aa" {}
        locals { target = vault.aa }
        plan "p" {
          rule "r" {
            schedule     = "cron(0 5 ? * * *)"
            target_vault = local.target
          }
        }
        "#,
    );
    let rule = Address::Rule {
        plan: "p".into(),
        rule: "r".into(),
    };
    assert_eq!(
        c.dependencies[&rule],
        vec![Address::Vault("aa".into()), Address::Plan("p".into())]
    );
}

#[test]
fn rule_names_are_unique_per_plan_only() {
    let ok = r#"
        vault "v1" {}
        plan "a" {
          rule "r" {
            schedule = "cron(0 5 ? * * *)"
            target_vault = vault.v1
          }
        }
        plan "b" {
          rule "r" {
            schedule = "cron(0 5 ? * * *)"
            target_vault = vault.v1
          }
        }
    "#;
    config(ok);
    let dup = ok.replace("plan \"b\" {", "");
    let dup = dup.replacen("}\n        }\n", "}\n", 1);
    let m = messages(&dup);
    assert!(
        m.iter()
            .any(|m| m == "rule `r` in plan `a` is declared more than once"),
        "{m:?}"
    );
}

#[test]
fn windows_are_checked() {
    let m = messages(
        r#"
        vault "v1" {}
        plan "a" {
          rule "r" {
            schedule          = "cron(0 5 ? * * *)"
            target_vault      = vault.v1
            start_window      = "30m"
            completion_window = "20m"
          }
        }
        "#,
    );
    assert!(
        m.contains(&"start_window must be at least 1 hour, not 30m".to_string()),
        "{m:?}"
    );
    assert!(
        m.contains(&"completion_window (20m) must be longer than start_window (30m)".to_string()),
        "{m:?}"
    );
}

/// Found by the no-panic property test: hcl-edit reported an error offset inside `𑌈`.
#[test]
fn syntax_error_inside_a_multibyte_character_does_not_panic() {
    let l = lower("Í{𑌈");
    assert!(l.has_errors());
    let d = &l.diagnostics[0];
    let span = d.span.as_ref().unwrap();
    assert!("Í{𑌈".is_char_boundary(span.range.start) && "Í{𑌈".is_char_boundary(span.range.end));
}

#[test]
fn warnings_do_not_block_a_configuration() {
    let l = lower("plan \"empty\" {}\n");
    assert!(!l.has_errors());
    assert!(l.config.is_some());
    assert_eq!(
        l.diagnostics[0].message,
        "plan `empty` has no rules, so it never backs anything up"
    );
}

#[test]
fn unsupported_backend_and_provider_are_errors() {
    let m = messages("coffer {\n  backend \"s3\" {}\n}\nprovider \"gcp\" {}\n");
    assert!(m.contains(&"unsupported backend `s3`".to_string()), "{m:?}");
    assert!(m.contains(&"unknown provider `gcp`".to_string()), "{m:?}");
}

#[test]
fn region_names() {
    assert!(is_region_name("us-east-1"));
    assert!(is_region_name("us-gov-west-1"));
    assert!(!is_region_name("useast1"));
    assert!(!is_region_name("US-EAST-1"));
    assert!(!is_region_name("us-east-"));
}

#[test]
fn kms_arns() {
    assert!(is_kms_arn(
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab"
    ));
    assert!(is_kms_arn(
        "arn:aws:kms:us-east-1:111122223333:alias/backup"
    ));
    assert!(!is_kms_arn("arn:aws:kms:us-east-1:1111:key/x"));
    assert!(!is_kms_arn("arn:aws:s3:::bucket"));
    assert!(!is_kms_arn("arn:aws:kms:us-east-1:111122223333:key/"));
}

/// Issue 13: where a vault lives, another account's provider, and a copy's window.
#[test]
fn vaults_name_their_region_and_provider_and_copies_their_window() {
    let c = config(
        r#"
        provider "aws" { region = "us-east-1" }
        provider "aws" {
          alias  = "dr"
          region = "us-west-2"
          assume_role {
            role_arn    = "arn:aws:iam::222233334444:role/coffer-dr"
            external_id = "x-1"
          }
        }
        vault "main" {}
        vault "west" {
          region   = "us-west-2"
          provider = aws.dr
        }
        plan "p" {
          rule "r" {
            schedule     = "cron(0 3 * * ? *)"
            target_vault = vault.main
            lifecycle { delete_after = "35d" }
            copy_to {
              vault  = vault.west
              window = "6h"
            }
          }
        }
        "#,
    );
    let west = &c.vaults["west"];
    assert_eq!(west.region.as_deref(), Some("us-west-2"));
    assert_eq!(west.provider.as_deref(), Some("dr"));
    let role = c.providers[1].assume_role.as_ref().unwrap();
    assert_eq!(role.role_arn, "arn:aws:iam::222233334444:role/coffer-dr");
    assert_eq!(role.external_id.as_deref(), Some("x-1"));
    assert_eq!(role.session_name, None);
    let copy = &c.plans["p"].rules["r"].copy_to[0];
    assert_eq!(copy.window.as_ref().map(|w| w.minutes()), Some(360));
}

#[test]
fn a_vault_names_a_declared_provider_by_reference() {
    let base = |provider: &str| {
        format!(
            "provider \"aws\" {{\n  region = \"us-east-1\"\n}}\nprovider \"aws\" {{\n  alias  = \"west\"\n  region = \"us-west-2\"\n}}\nvault \"vw\" {{\n  region   = \"us-west-2\"\n  provider = {provider}\n}}\n"
        )
    };
    assert!(messages(&base("aws.west")).is_empty());
    assert!(messages(&base("aws")).is_empty());
    let m = messages(&base("aws.wset"));
    assert!(
        m.iter()
            .any(|m| m == "no provider \"aws\" block has the alias `wset`"),
        "{m:?}"
    );
    let m = messages(&base("\"aws.west\""));
    assert!(
        m.iter()
            .any(|m| m == "`provider` in vault \"vw\" must name a provider block"),
        "{m:?}"
    );
    let m = messages("vault \"vw\" {\n  region = \"west\"\n}\n");
    assert!(
        m.iter().any(|m| m.contains("not an AWS region name")),
        "{m:?}"
    );
}

#[test]
fn a_rule_backs_up_only_into_a_vault_in_its_resources_region() {
    let text = |vault_region: &str| {
        format!(
            r#"
            provider "aws" {{ region = "us-east-1" }}
            vault "main" {{ region = "{vault_region}" }}
            vault "dr" {{ region = "us-west-2" }}
            plan "p" {{
              rule "r" {{
                schedule     = "cron(0 3 * * ? *)"
                target_vault = vault.main
                copy_to {{ vault = vault.dr }}
              }}
            }}
            "#
        )
    };
    assert!(messages(&text("us-east-1")).is_empty());
    let l = lower(&text("eu-west-1"));
    let d = l
        .diagnostics
        .iter()
        .find(|d| d.code == "coffer::vault_in_another_region")
        .expect("an error");
    assert_eq!(
        d.message,
        "rule `r` backs up resources in us-east-1 into vault `main`, whose points live in eu-west-1"
    );
    assert!(d.help.as_deref().unwrap().contains("copy_to"), "{d:?}");
}

#[test]
fn a_copy_without_a_lifecycle_of_its_own_is_bound_by_the_destination_lock_with_the_rules() {
    let m = messages(
        r#"
        vault "main" {}
        vault "dr" {
          lock {
            mode          = "governance"
            min_retention = "30d"
          }
        }
        plan "p" {
          rule "r" {
            schedule     = "cron(0 3 * * ? *)"
            target_vault = vault.main
            lifecycle { delete_after = "7d" }
            copy_to { vault = vault.dr }
          }
        }
        "#,
    );
    assert!(
        m.iter().any(|m| m
            == "rule `r` deletes copies of points in vault `dr` after 7d, before the vault lock's min_retention of 30d"),
        "{m:?}"
    );
}

/// Issue 14: restore tests, their selections and what is checked in them.
#[test]
fn restore_tests_lower_with_their_selections_and_checks() {
    let base = |selection: &str| {
        format!(
            r#"
            vault "main" {{}}
            restore_test "weekly" {{
              schedule     = "cron(0 4 ? * SUN *)"
              start_window = "24h"
              recovery_points {{
                algorithm        = "random"
                vaults           = [vault.main]
                selection_window = "30d"
              }}
              {selection}
            }}
            "#
        )
    };
    let c = config(&base(
        r#"selection "databases" {
                resource_type     = "RDS"
                resources         = ["arn:aws:rds:*"]
                condition { string_equals = { Environment = "Production" } }
                overrides         = { dbInstanceClass = "db.t3.micro" }
                validation_window = "4h"
                validate {
                  command = ["./checks/orders.sh"]
                  timeout = "10m"
                }
              }"#,
    ));
    let t = &c.restore_tests["weekly"];
    assert_eq!(t.algorithm, PointAlgorithm::Random);
    assert_eq!(t.vaults, ["main"]);
    let s = &t.selections[0];
    assert_eq!(s.resource_type, crate::inventory::ResourceType::RdsInstance);
    assert_eq!(s.string_equals["Environment"], "Production");
    assert_eq!(s.validate.as_ref().unwrap().command, ["./checks/orders.sh"]);
    assert_eq!(s.validation_window.minutes(), 240);

    let m = messages(&base(
        r#"selection "x" {
                resource_type = "EBS"
                overrides     = { dbInstanceClass = "db.t3.micro" }
                validation_window = "200h"
              }"#,
    ));
    assert!(
        m.iter().any(
            |m| m == "`dbInstanceClass` is not restore metadata that EBS restores can override"
        ),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|m| m == "validation_window must be 0h to 168h, not 200h"),
        "{m:?}"
    );
    let m = messages(&base(""));
    assert!(
        m.iter()
            .any(|m| m == "restore_test `weekly` selects nothing"),
        "{m:?}"
    );
    let m = messages(&base(r#"selection "x" { resource_type = "Tape" }"#));
    assert!(
        m.iter().any(|m| m == "`Tape` is not a resource type"),
        "{m:?}"
    );
}

/// Issue 15: a team's backend in PostgreSQL; its password is never shown.
#[test]
fn a_postgres_backend_names_its_database_and_schema() {
    let c = config("coffer {\n  backend \"postgres\" {\n    conn_str = \"postgres://coffer:s3cret@db.internal/backups\"\n    schema = \"team_a\"\n  }\n}\n");
    assert_eq!(
        c.backend,
        Backend::Postgres {
            conn_str: Some("postgres://coffer:s3cret@db.internal/backups".into()),
            schema: "team_a".into(),
        }
    );
    let c = config("coffer {\n  backend \"postgres\" {}\n}\n");
    assert_eq!(
        c.backend,
        Backend::Postgres {
            conn_str: None,
            schema: "coffer".into()
        }
    );
    let m = messages("coffer {\n  backend \"postgres\" { schema = \"Team-A\" }\n}\n");
    assert!(
        m.contains(&"schema `Team-A` is not a plain PostgreSQL name".to_string()),
        "{m:?}"
    );
    let m = messages("coffer {\n  backend \"postgre\" {}\n}\n");
    assert!(
        m.contains(&"unsupported backend `postgre`".to_string()),
        "{m:?}"
    );
}

#[test]
fn connection_strings_lose_their_password_when_shown() {
    use crate::config::model::redact_conn_str as r;
    assert_eq!(
        r("postgres://coffer:s3cret@db:5432/b?sslmode=require"),
        "postgres://coffer:****@db:5432/b?sslmode=require"
    );
    assert_eq!(r("postgresql://coffer@db/b"), "postgresql://coffer@db/b");
    assert_eq!(
        r("host=db user=coffer password=s3cret dbname=b"),
        "host=db user=coffer password=**** dbname=b"
    );
    assert_eq!(
        r("host=db password='a b c' dbname=b"),
        "host=db password=**** dbname=b"
    );
}

#[test]
fn frameworks_lower_their_controls_with_parameters_and_scope() {
    let c = config(
        r#"
        framework "prod" {
          description = "what production must meet"
          control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
            max_age = "36h"
            scope {
              resource_types = ["EBS", "RDS"]
              resources      = ["arn:aws:ec2:*"]
              tags           = { Env = "prod" }
            }
          }
          control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" {
            accounts = ["444455556666"]
          }
          control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" {}
        }
        "#,
    );
    let f = &c.frameworks["prod"];
    assert_eq!(f.description.as_deref(), Some("what production must meet"));
    assert_eq!(f.controls.len(), 3);
    let rpo = &f.controls[&crate::controls::ControlKind::LastRecoveryPointCreated];
    assert_eq!(rpo.params.max_age.as_ref().unwrap().minutes(), 36 * 60);
    assert_eq!(rpo.scope.resource_types.len(), 2);
    assert_eq!(rpo.scope.tags["Env"], "prod");
    let xa = &f.controls[&crate::controls::ControlKind::ProtectedByCrossAccount];
    assert_eq!(xa.params.accounts, ["444455556666"]);
}

#[test]
fn framework_mistakes_point_at_the_control() {
    let m = messages(
        r#"
        framework "f" {
          control "BACKUP_LAST_RECOVERY_POINT_CREATD" {}
          control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
            max_age   = "90d"
            max_agee  = "1d"
          }
          control "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK" {
            min_retention = "90d"
            max_retention = "30d"
            scope { resource_types = ["S3"] }
          }
          control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" { regions = ["mars-1"] }
          control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" { accounts = ["12"] }
          control "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" {}
        }
        framework "empty" {}
        "#,
    );
    let expect = [
        "`BACKUP_LAST_RECOVERY_POINT_CREATD` is not a control coffer evaluates",
        "max_age must be 1h to 31d, not 90d",
        "max_retention (30d) is less than min_retention (90d)",
        "`S3` is not a resource type",
        "`mars-1` is not an AWS region name",
        "`12` is not an AWS account id",
        "control `BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT` appears more than once in framework `f`",
        "framework `empty` has no control",
    ];
    for e in expect {
        assert!(m.iter().any(|x| x == e), "missing {e:?} in {m:#?}");
    }
    assert!(m.iter().any(|x| x.contains("max_agee")), "{m:#?}");
    let l = lower(
        r#"
        framework "f" {
          control "BACKUP_LAST_RECOVERY_POINT_CREATD" {}
        }
        "#,
    );
    assert_eq!(
        l.diagnostics[0].help.as_deref(),
        Some("did you mean `BACKUP_LAST_RECOVERY_POINT_CREATED`?")
    );
}
