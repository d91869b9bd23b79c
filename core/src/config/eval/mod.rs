//! Evaluation of HCL expressions into [`Value`]s: literals, templates, operators,
//! conditionals, `for` expressions, function calls and references (`var.*`, `local.*`,
//! `vault.*`, `plan.*`, `selection.*`, `directory.*`). Errors become diagnostics with spans.

use super::functions;
use crate::address::Address;
use crate::diag::{Diagnostic, Diagnostics, FileId, Span};
use crate::value::Value;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;
use std::collections::{BTreeMap, BTreeSet};

mod operators;
mod template;
#[cfg(test)]
mod tests;
mod traversal;

use operators::*;
use template::*;
use traversal::*;
pub use traversal::{references, undeclared};

/// Marker for "evaluation failed; the reason is already in the diagnostics".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

pub type EvalResult = Result<Value, Failed>;

/// Names of everything declared in the configuration, so references can be checked.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    pub variables: BTreeSet<String>,
    pub locals: BTreeSet<String>,
    pub vaults: BTreeSet<String>,
    pub plans: BTreeSet<String>,
    pub selections: BTreeSet<String>,
    pub directories: BTreeSet<String>,
}

impl Declared {
    fn names(&self, root: &str) -> Option<&BTreeSet<String>> {
        match root {
            "var" => Some(&self.variables),
            "local" => Some(&self.locals),
            "vault" => Some(&self.vaults),
            "plan" => Some(&self.plans),
            "selection" => Some(&self.selections),
            "directory" => Some(&self.directories),
            _ => None,
        }
    }
}

/// The roots a traversal may start from.
pub const REFERENCE_ROOTS: &[&str] = &["var", "local", "vault", "plan", "selection", "directory"];

/// What a reference in an expression points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefTarget {
    Variable(String),
    Local(String),
    Object(Address),
}

/// Everything an expression can see while it is evaluated.
pub struct Scope<'a> {
    pub file: FileId,
    pub declared: &'a Declared,
    pub vars: &'a BTreeMap<String, Value>,
    pub locals: &'a BTreeMap<String, Value>,
    /// The text of the file, for number literals, which Terraform reads at full precision.
    pub source: Option<&'a str>,
    /// Variables bound by enclosing `for` expressions, innermost last.
    bindings: Vec<(String, Value)>,
}

impl<'a> Scope<'a> {
    pub fn new(
        file: FileId,
        declared: &'a Declared,
        vars: &'a BTreeMap<String, Value>,
        locals: &'a BTreeMap<String, Value>,
    ) -> Self {
        Scope {
            file,
            declared,
            vars,
            locals,
            source: None,
            bindings: Vec::new(),
        }
    }

    /// The same scope, reading number literals from `text` (the file's text).
    pub fn with_source(mut self, text: &'a str) -> Self {
        self.source = Some(text);
        self
    }

    /// A scope with one extra binding (used for `validation` conditions and tests).
    pub fn bind(&mut self, name: &str, value: Value) {
        self.bindings.push((name.to_string(), value));
    }

    fn span(&self, expr_span: Option<std::ops::Range<usize>>) -> Span {
        Span::new(self.file, expr_span.unwrap_or(0..0))
    }

    fn lookup_binding(&self, name: &str) -> Option<&Value> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// Evaluates one expression.
pub fn eval(expr: &Expression, scope: &mut Scope<'_>, diags: &mut Diagnostics) -> EvalResult {
    let span = scope.span(expr.span());
    match expr {
        Expression::Null(_) => Ok(Value::Null),
        Expression::Bool(b) => Ok(Value::Bool(*b.value())),
        Expression::Number(n) => match number_literal(n, expr.span(), scope.source) {
            Some(f) => Ok(Value::Number(f)),
            None => {
                diags.push(
                    Diagnostic::error("coffer::invalid_number", "number out of range")
                        .at(span, "here"),
                );
                Err(Failed)
            }
        },
        Expression::String(s) => Ok(Value::String(s.value().clone())),
        Expression::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut failed = false;
            for item in items.iter() {
                match eval(item, scope, diags) {
                    Ok(v) => out.push(v),
                    Err(Failed) => failed = true,
                }
            }
            if failed {
                Err(Failed)
            } else {
                Ok(Value::List(out))
            }
        }
        Expression::Object(obj) => {
            let mut out = BTreeMap::new();
            let mut seen: BTreeMap<String, Span> = BTreeMap::new();
            let mut failed = false;
            for (key, value) in obj.iter() {
                let key_span = scope.span(key.span());
                let key_text = match key {
                    ObjectKey::Ident(id) => Some(id.as_str().to_string()),
                    ObjectKey::Expression(e) => match eval(e, scope, diags) {
                        Ok(v) => match v.to_template_string() {
                            Some(s) if !matches!(v, Value::Null) => Some(s),
                            _ => {
                                diags.push(
                                    Diagnostic::error(
                                        "coffer::wrong_type",
                                        format!("map key must be a string, not {}", v.type_name()),
                                    )
                                    .at(key_span.clone(), "this key"),
                                );
                                None
                            }
                        },
                        Err(Failed) => None,
                    },
                };
                let value = eval(value.expr(), scope, diags);
                match (key_text, value) {
                    (Some(k), Ok(v)) => {
                        if let Some(first) = seen.get(&k) {
                            diags.push(
                                Diagnostic::error(
                                    "coffer::duplicate_key",
                                    format!("duplicate map key `{k}`"),
                                )
                                .at(key_span, "repeated here")
                                .with_related(first.clone(), "first set here")
                                .with_help("each key may appear once in a map"),
                            );
                            failed = true;
                        } else {
                            seen.insert(k.clone(), key_span);
                            out.insert(k, v);
                        }
                    }
                    _ => failed = true,
                }
            }
            if failed {
                Err(Failed)
            } else {
                Ok(Value::Map(out))
            }
        }
        Expression::StringTemplate(t) => {
            let mut out = String::new();
            eval_template(t, scope, diags, &mut out)?;
            Ok(Value::String(out))
        }
        Expression::HeredocTemplate(h) => {
            let mut out = String::new();
            eval_template(&h.template, scope, diags, &mut out)?;
            Ok(Value::String(out))
        }
        Expression::Parenthesis(p) => eval(p.inner(), scope, diags),
        Expression::Variable(v) => {
            let name = v.value().as_str();
            if let Some(value) = scope.lookup_binding(name) {
                return Ok(value.clone());
            }
            let help = if REFERENCE_ROOTS.contains(&name) {
                format!("`{name}` must be followed by a name, for example `{name}.example`")
            } else {
                let candidates: Vec<&str> = scope
                    .bindings
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .chain(REFERENCE_ROOTS.iter().copied())
                    .collect();
                match super::suggest::did_you_mean(name, candidates) {
                    Some(s) => format!("did you mean `{s}`? Strings must be quoted: \"{name}\""),
                    None => format!(
                        "strings must be quoted: \"{name}\"; references start with one of: {}",
                        REFERENCE_ROOTS.join(", ")
                    ),
                }
            };
            diags.push(
                Diagnostic::error(
                    "coffer::unknown_reference",
                    format!("unknown name `{name}`"),
                )
                .at(span, "not declared")
                .with_help(help),
            );
            Err(Failed)
        }
        Expression::Conditional(c) => {
            let cond = eval(&c.cond_expr, scope, diags)?;
            match cond {
                Value::Bool(true) => eval(&c.true_expr, scope, diags),
                Value::Bool(false) => eval(&c.false_expr, scope, diags),
                other => {
                    diags.push(
                        Diagnostic::error(
                            "coffer::wrong_type",
                            format!("condition must be a bool, not {}", other.type_name()),
                        )
                        .at(scope.span(c.cond_expr.span()), "this condition"),
                    );
                    Err(Failed)
                }
            }
        }
        Expression::FuncCall(call) => {
            let name = call.name.name.value().as_str().to_string();
            if call.name.is_namespaced() {
                diags.push(
                    Diagnostic::error(
                        "coffer::unknown_function",
                        format!("unknown function `{}`", call.name.name.value().as_str()),
                    )
                    .at(span, "namespaced functions are not supported")
                    .with_help(format!(
                        "available functions: {}",
                        functions::NAMES.join(", ")
                    )),
                );
                return Err(Failed);
            }
            let mut args = Vec::with_capacity(call.args.len());
            let mut failed = false;
            for a in call.args.iter() {
                let s = scope.span(a.span());
                match eval(a, scope, diags) {
                    Ok(v) => args.push((v, s)),
                    Err(Failed) => failed = true,
                }
            }
            if failed {
                return Err(Failed);
            }
            if call.args.expand_final() {
                match args.pop() {
                    Some((Value::List(items), s)) => {
                        args.extend(items.into_iter().map(|v| (v, s.clone())))
                    }
                    Some((other, s)) => {
                        diags.push(
                            Diagnostic::error(
                                "coffer::wrong_type",
                                format!("`...` expands a list, not {}", other.type_name()),
                            )
                            .at(s, "this argument"),
                        );
                        return Err(Failed);
                    }
                    None => {}
                }
            }
            functions::call(&name, args, span).map_err(|d| {
                diags.push(*d);
                Failed
            })
        }
        Expression::Traversal(t) => eval_traversal(t, scope, diags),
        Expression::UnaryOp(op) => {
            let v = eval(&op.expr, scope, diags)?;
            match (op.operator.value(), v) {
                (UnaryOperator::Neg, Value::Number(n)) => Ok(Value::Number(n.neg())),
                (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                (o, v) => {
                    diags.push(
                        Diagnostic::error(
                            "coffer::wrong_type",
                            format!(
                                "operator `{}` does not apply to {}",
                                o.as_str(),
                                v.type_name()
                            ),
                        )
                        .at(span, "here"),
                    );
                    Err(Failed)
                }
            }
        }
        Expression::BinaryOp(op) => {
            let lhs = eval(&op.lhs_expr, scope, diags);
            let rhs = eval(&op.rhs_expr, scope, diags);
            let (lhs, rhs) = (lhs?, rhs?);
            binary(*op.operator.value(), lhs, rhs).map_err(|msg| {
                diags.push(
                    Diagnostic::error("coffer::wrong_type", msg).at(span, "in this expression"),
                );
                Failed
            })
        }
        Expression::ForExpr(f) => eval_for(f, scope, diags),
    }
}

/// A number literal at Terraform's precision: from its text when the file's text is known
/// (hcl-edit keeps only a 64-bit float), else from hcl-edit's value.
pub fn number_literal(
    n: &hcl_edit::Formatted<hcl_edit::Number>,
    span: Option<std::ops::Range<usize>>,
    source: Option<&str>,
) -> Option<crate::number::Number> {
    if let Some(text) = span.and_then(|r| source?.get(r)) {
        if let Some(v) = crate::number::Number::parse(text.trim()) {
            return Some(v);
        }
    }
    let v = n.value();
    if let Some(i) = v.as_i64() {
        return Some(crate::number::Number::from_i64(i));
    }
    if let Some(u) = v.as_u64() {
        return Some(crate::number::Number::from_u64(u));
    }
    crate::number::Number::parse(&v.to_string())
}
