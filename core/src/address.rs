//! Addresses of configuration objects (`vault.x`, `plan.y`, `plan.y.rule.z`, `selection.s`,
//! `directory.d`, `legal_hold.h`, `restore_test.t`, `framework.f`, `notification.n`): parsing, printing and the canonical order used everywhere.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The kind of a managed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Vault,
    Plan,
    Rule,
    Selection,
    Directory,
    LegalHold,
    RestoreTest,
    Framework,
    Notification,
}

impl Kind {
    /// The block keyword that declares objects of this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Vault => "vault",
            Kind::Plan => "plan",
            Kind::Rule => "rule",
            Kind::Selection => "selection",
            Kind::Directory => "directory",
            Kind::LegalHold => "legal_hold",
            Kind::RestoreTest => "restore_test",
            Kind::Framework => "framework",
            Kind::Notification => "notification",
        }
    }
}

/// The address of one managed object. Ordered by kind first (vaults, plans, rules,
/// selections, directories), then by name, which is the canonical output order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    Vault(String),
    Plan(String),
    Rule { plan: String, rule: String },
    Selection(String),
    Directory(String),
    LegalHold(String),
    RestoreTest(String),
    Framework(String),
    Notification(String),
}

impl Address {
    pub fn kind(&self) -> Kind {
        match self {
            Address::Vault(_) => Kind::Vault,
            Address::Plan(_) => Kind::Plan,
            Address::Rule { .. } => Kind::Rule,
            Address::Selection(_) => Kind::Selection,
            Address::Directory(_) => Kind::Directory,
            Address::LegalHold(_) => Kind::LegalHold,
            Address::RestoreTest(_) => Kind::RestoreTest,
            Address::Framework(_) => Kind::Framework,
            Address::Notification(_) => Kind::Notification,
        }
    }

    /// The object's own name (the rule name for rules).
    pub fn name(&self) -> &str {
        match self {
            Address::Vault(n)
            | Address::Plan(n)
            | Address::Selection(n)
            | Address::Directory(n)
            | Address::LegalHold(n)
            | Address::RestoreTest(n)
            | Address::Framework(n)
            | Address::Notification(n) => n,
            Address::Rule { rule, .. } => rule,
        }
    }

    /// The address of the block this one is nested in, if any.
    pub fn parent(&self) -> Option<Address> {
        match self {
            Address::Rule { plan, .. } => Some(Address::Plan(plan.clone())),
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Rule { plan, rule } => write!(f, "plan.{plan}.rule.{rule}"),
            other => write!(f, "{}.{}", other.kind().keyword(), other.name()),
        }
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an object address (expected vault.NAME, plan.NAME, plan.NAME.rule.NAME, selection.NAME, directory.NAME, legal_hold.NAME, restore_test.NAME, framework.NAME or notification.NAME)")]
pub struct AddressParseError {
    pub input: String,
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddressParseError {
            input: s.to_string(),
        };
        let (kind, rest) = s.split_once('.').ok_or_else(err)?;
        if rest.is_empty() {
            return Err(err());
        }
        match kind {
            "vault" => Ok(Address::Vault(rest.to_string())),
            "selection" => Ok(Address::Selection(rest.to_string())),
            "directory" => Ok(Address::Directory(rest.to_string())),
            "legal_hold" => Ok(Address::LegalHold(rest.to_string())),
            "restore_test" => Ok(Address::RestoreTest(rest.to_string())),
            "framework" => Ok(Address::Framework(rest.to_string())),
            "notification" => Ok(Address::Notification(rest.to_string())),
            "plan" => match rest.split_once(".rule.") {
                Some((plan, rule)) if !plan.is_empty() && !rule.is_empty() => Ok(Address::Rule {
                    plan: plan.to_string(),
                    rule: rule.to_string(),
                }),
                Some(_) => Err(err()),
                None => Ok(Address::Plan(rest.to_string())),
            },
            _ => Err(err()),
        }
    }
}

/// An address is written as its text (`vault.main`, `plan.p.rule.r`).
impl schemars::JsonSchema for Address {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Address".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "An object's address: vault.NAME, plan.NAME, plan.NAME.rule.NAME, selection.NAME or directory.NAME"
        })
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        for text in [
            "vault.default",
            "plan.monthly",
            "plan.monthly.rule.first-saturday",
            "plan.m.rule.with.dots",
            "selection.ecommerce",
            "directory.app_data",
        ] {
            let addr: Address = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "vault",
            "vault.",
            "bucket.x",
            "plan..rule.x",
            "plan.x.rule.",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text}");
        }
    }

    #[test]
    fn orders_by_kind_then_name() {
        let mut v: Vec<Address> = [
            "directory.a",
            "selection.a",
            "plan.b.rule.a",
            "plan.b",
            "vault.z",
            "vault.a",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        v.sort();
        let out: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            out,
            [
                "vault.a",
                "vault.z",
                "plan.b",
                "plan.b.rule.a",
                "selection.a",
                "directory.a"
            ]
        );
    }

    #[test]
    fn rule_parent_is_its_plan() {
        let a: Address = "plan.p.rule.r".parse().unwrap();
        assert_eq!(a.parent(), Some(Address::Plan("p".into())));
    }
}
