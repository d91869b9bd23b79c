//! Values produced by evaluating configuration expressions, and their conversion to the JSON
//! attribute values stored in state and plans.

use crate::address::Address;
use crate::number::Number;
use std::collections::BTreeMap;
use std::fmt;

/// An evaluated configuration value. `Ref` is a reference to another block (`vault.default`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number as Terraform keeps it (512-bit binary, see [`crate::number`]).
    Number(Number),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Ref(Address),
}

impl Value {
    /// The type name users see in "wrong type" diagnostics.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Ref(a) => match a.kind() {
                crate::address::Kind::Vault => "vault reference",
                crate::address::Kind::Plan => "plan reference",
                crate::address::Kind::Rule => "rule reference",
                crate::address::Kind::Selection => "selection reference",
                crate::address::Kind::Directory => "directory reference",
                crate::address::Kind::LegalHold => "legal_hold reference",
                crate::address::Kind::RestoreTest => "restore_test reference",
                crate::address::Kind::Framework => "framework reference",
                crate::address::Kind::Notification => "notification reference",
            },
        }
    }

    /// The string form used in interpolation and by `tostring`; `None` for collections.
    pub fn to_template_string(&self) -> Option<String> {
        match self {
            Value::Null => Some(String::new()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.text()),
            Value::String(s) => Some(s.clone()),
            Value::Ref(a) => Some(a.to_string()),
            Value::List(_) | Value::Map(_) => None,
        }
    }

    /// Converts to the JSON attribute form stored in state (references become their address).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Ref(a) => serde_json::Value::String(a.to_string()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Reads a JSON value (from a variable file given as JSON, or `-var` text) as a config value.
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                Value::Number(Number::parse(&n.to_string()).unwrap_or_else(Number::zero))
            }
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// A number in JSON: whole numbers that fit 64 bits exactly, others as the nearest 64-bit
/// float (JSON output only; configuration values keep their full precision).
fn number_to_json(n: &Number) -> serde_json::Value {
    match n.to_i64() {
        Some(i) => serde_json::Value::from(i),
        None => serde_json::Number::from_f64(n.to_f64())
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_print_without_fraction() {
        let text = |s: &str| Value::Number(Number::parse(s).unwrap()).to_template_string();
        assert_eq!(text("3.0").as_deref(), Some("3"));
        assert_eq!(text("-2.5").as_deref(), Some("-2.5"));
        assert_eq!(
            Value::Number(Number::from_i64(7)).to_json(),
            serde_json::json!(7)
        );
    }

    #[test]
    fn references_store_as_addresses() {
        let v = Value::Ref(Address::Vault("dr".into()));
        assert_eq!(v.to_json(), serde_json::json!("vault.dr"));
        assert_eq!(v.type_name(), "vault reference");
    }

    #[test]
    fn json_round_trip() {
        let j = serde_json::json!({"a": [1, "x", true, null], "b": {"c": 2.5}});
        assert_eq!(Value::from_json(&j).to_json(), j);
    }
}
