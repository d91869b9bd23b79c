//! Input variables: declared types (`string`, `number`, `bool`, `any`, `list(T)`, `map(T)`),
//! conversion of values given on the command line, in variable files and in
//! `COFFER_VAR_<name>` environment variables, and type checking.

use crate::value::Value;
use hcl_edit::expr::Expression;
use std::fmt;

/// A variable's declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarType {
    Any,
    String,
    Number,
    Bool,
    List(Box<VarType>),
    Map(Box<VarType>),
}

impl fmt::Display for VarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarType::Any => f.write_str("any"),
            VarType::String => f.write_str("string"),
            VarType::Number => f.write_str("number"),
            VarType::Bool => f.write_str("bool"),
            VarType::List(t) => write!(f, "list({t})"),
            VarType::Map(t) => write!(f, "map({t})"),
        }
    }
}

/// Reads a type expression such as `string` or `map(list(string))`.
pub fn parse_type(expr: &Expression) -> Result<VarType, String> {
    const HELP: &str = "expected one of: string, number, bool, any, list(TYPE), map(TYPE)";
    match expr {
        Expression::Variable(v) => match v.value().as_str() {
            "string" => Ok(VarType::String),
            "number" => Ok(VarType::Number),
            "bool" => Ok(VarType::Bool),
            "any" => Ok(VarType::Any),
            "list" | "map" => Err(format!(
                "`{}` needs an element type, e.g. {}(string)",
                v.value().as_str(),
                v.value().as_str()
            )),
            other => Err(format!("unknown type `{other}`; {HELP}")),
        },
        Expression::FuncCall(call) if call.args.len() == 1 && !call.name.is_namespaced() => {
            let inner = call
                .args
                .iter()
                .next()
                .map(parse_type)
                .transpose()?
                .unwrap_or(VarType::Any);
            match call.name.name.value().as_str() {
                "list" | "set" => Ok(VarType::List(Box::new(inner))),
                "map" => Ok(VarType::Map(Box::new(inner))),
                other => Err(format!("unknown type constructor `{other}`; {HELP}")),
            }
        }
        Expression::String(_) => Err(format!("types are written without quotes; {HELP}")),
        _ => Err(HELP.to_string()),
    }
}

/// Converts a value to the declared type, as Terraform does for obvious cases
/// (`"3"` → 3, `"true"` → true, 3 → `"3"`).
pub fn convert(value: Value, ty: &VarType) -> Result<Value, String> {
    match (ty, value) {
        (VarType::Any, v) => Ok(v),
        (_, Value::Null) => Ok(Value::Null),
        (VarType::String, Value::String(s)) => Ok(Value::String(s)),
        (VarType::String, v @ (Value::Number(_) | Value::Bool(_))) => {
            Ok(Value::String(v.to_template_string().unwrap_or_default()))
        }
        (VarType::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (VarType::Number, Value::String(s)) => crate::number::Number::parse(s.trim())
            .map(Value::Number)
            .ok_or_else(|| format!("`{s}` is not a number")),
        (VarType::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (VarType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (VarType::List(t), Value::List(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| convert(v, t).map_err(|e| format!("element {i}: {e}")))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (VarType::Map(t), Value::Map(m)) => m
            .into_iter()
            .map(|(k, v)| {
                convert(v, t)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| format!("key `{k}`: {e}"))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (ty, v) => Err(format!("expected {ty}, got {}", v.type_name())),
    }
}

/// Reads a value given as text on the command line or in the environment. Strings are taken
/// literally; other types are parsed as HCL literals (`-var 'zones=["a","b"]'`).
pub fn from_raw(raw: &str, ty: &VarType) -> Result<Value, String> {
    match ty {
        VarType::String | VarType::Any => Ok(Value::String(raw.to_string())),
        VarType::Number | VarType::Bool => convert(Value::String(raw.to_string()), ty),
        VarType::List(_) | VarType::Map(_) => {
            use crate::config::nesting::{too_deep, MAX_DEPTH};
            if let Some(deep) = too_deep(raw, MAX_DEPTH) {
                return Err(format!(
                    "not a valid {ty} literal: its {}",
                    deep.message(MAX_DEPTH)
                ));
            }
            let expr = hcl_edit::parser::parse_expr(raw)
                .map_err(|e| format!("not a valid {ty} literal: {}", e.message()))?;
            literal(&expr, raw)
                .ok_or_else(|| {
                    format!("not a valid {ty} literal (only literal values are allowed)")
                })
                .and_then(|v| convert(v, ty))
        }
    }
}

/// The value of a literal expression (no references or function calls).
fn literal(expr: &Expression, source: &str) -> Option<Value> {
    let source = Some(source);
    Some(match expr {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::Number(n) => Value::Number(crate::config::eval::number_literal(
            n,
            hcl_edit::Span::span(expr),
            source,
        )?),
        Expression::String(s) => Value::String(s.value().clone()),
        Expression::Array(a) => Value::List(
            a.iter()
                .map(|e| literal(e, source?))
                .collect::<Option<_>>()?,
        ),
        Expression::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
                            s.value().clone()
                        }
                        _ => return None,
                    };
                    Some((key, literal(v.expr(), source?)?))
                })
                .collect::<Option<_>>()?,
        ),
        Expression::Parenthesis(p) => literal(p.inner(), source?)?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> VarType {
        parse_type(&hcl_edit::parser::parse_expr(s).unwrap()).unwrap()
    }

    #[test]
    fn parses_types() {
        assert_eq!(ty("string"), VarType::String);
        assert_eq!(
            ty("map(list(string))"),
            VarType::Map(Box::new(VarType::List(Box::new(VarType::String))))
        );
        assert!(
            parse_type(&hcl_edit::parser::parse_expr("\"string\"").unwrap())
                .unwrap_err()
                .contains("without quotes")
        );
        assert!(parse_type(&hcl_edit::parser::parse_expr("strin").unwrap()).is_err());
    }

    #[test]
    fn converts_raw_values() {
        assert_eq!(
            from_raw("3", &VarType::Number).unwrap(),
            Value::Number(crate::number::Number::from_i64(3))
        );
        assert_eq!(from_raw("true", &VarType::Bool).unwrap(), Value::Bool(true));
        assert!(from_raw("yes", &VarType::Bool).is_err());
        assert_eq!(
            from_raw("[\"a\", \"b\"]", &ty("list(string)")).unwrap(),
            Value::List(vec![Value::String("a".into()), Value::String("b".into())])
        );
        assert_eq!(
            from_raw("{ a = 1 }", &ty("map(number)")).unwrap().to_json(),
            serde_json::json!({"a": 1})
        );
        assert!(from_raw("[1", &ty("list(string)")).is_err());
        assert!(from_raw("[var.x]", &ty("list(string)")).is_err());
    }

    #[test]
    fn type_errors_say_what_was_expected() {
        assert_eq!(
            convert(Value::List(vec![]), &VarType::String).unwrap_err(),
            "expected string, got list"
        );
        assert_eq!(
            convert(Value::List(vec![Value::List(vec![])]), &ty("list(string)")).unwrap_err(),
            "element 0: expected string, got list"
        );
    }
}
