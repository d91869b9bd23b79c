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
            bindings: Vec::new(),
        }
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
        Expression::Number(n) => match n.value().as_f64() {
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
                (UnaryOperator::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
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

fn binary(op: BinaryOperator, lhs: Value, rhs: Value) -> Result<Value, String> {
    use BinaryOperator as B;
    Ok(match (op, lhs, rhs) {
        (B::Eq, a, b) => Value::Bool(a == b),
        (B::NotEq, a, b) => Value::Bool(a != b),
        (B::And, Value::Bool(a), Value::Bool(b)) => Value::Bool(a && b),
        (B::Or, Value::Bool(a), Value::Bool(b)) => Value::Bool(a || b),
        (B::Less, Value::Number(a), Value::Number(b)) => Value::Bool(a < b),
        (B::LessEq, Value::Number(a), Value::Number(b)) => Value::Bool(a <= b),
        (B::Greater, Value::Number(a), Value::Number(b)) => Value::Bool(a > b),
        (B::GreaterEq, Value::Number(a), Value::Number(b)) => Value::Bool(a >= b),
        (B::Plus, Value::Number(a), Value::Number(b)) => Value::Number(a + b),
        (B::Minus, Value::Number(a), Value::Number(b)) => Value::Number(a - b),
        (B::Mul, Value::Number(a), Value::Number(b)) => Value::Number(a * b),
        (B::Div | B::Mod, Value::Number(a), Value::Number(b)) => {
            if b == 0.0 {
                return Err("division by zero".into());
            }
            Value::Number(if op == B::Div { a / b } else { a % b })
        }
        (op, a, b) => {
            return Err(format!(
                "operator `{}` does not apply to {} and {}",
                op.as_str(),
                a.type_name(),
                b.type_name()
            ))
        }
    })
}

fn eval_template(
    t: &Template,
    scope: &mut Scope<'_>,
    diags: &mut Diagnostics,
    out: &mut String,
) -> Result<(), Failed> {
    let mut failed = false;
    for element in t.iter() {
        match element {
            Element::Literal(s) => out.push_str(s.value()),
            Element::Interpolation(i) => match eval(&i.expr, scope, diags) {
                Ok(v) => match v.to_template_string() {
                    Some(s) => out.push_str(&s),
                    None => {
                        diags.push(
                            Diagnostic::error(
                                "coffer::wrong_type",
                                format!("cannot insert a {} into a string", v.type_name()),
                            )
                            .at(scope.span(i.expr.span()), "this value")
                            .with_help("use join(\", \", list) to turn a list into a string"),
                        );
                        failed = true;
                    }
                },
                Err(Failed) => failed = true,
            },
            Element::Directive(d) => match d.as_ref() {
                Directive::If(dir) => {
                    let cond = eval(&dir.if_expr.cond_expr, scope, diags);
                    match cond {
                        Ok(Value::Bool(true)) => {
                            eval_template(&dir.if_expr.template, scope, diags, out)?
                        }
                        Ok(Value::Bool(false)) => {
                            if let Some(e) = &dir.else_expr {
                                eval_template(&e.template, scope, diags, out)?;
                            }
                        }
                        Ok(other) => {
                            diags.push(
                                Diagnostic::error(
                                    "coffer::wrong_type",
                                    format!("condition must be a bool, not {}", other.type_name()),
                                )
                                .at(scope.span(dir.if_expr.cond_expr.span()), "this condition"),
                            );
                            failed = true;
                        }
                        Err(Failed) => failed = true,
                    }
                }
                Directive::For(dir) => {
                    let f = &dir.for_expr;
                    let collection = eval(&f.collection_expr, scope, diags)?;
                    let key_var = f.key_var.as_ref().map(|k| k.value().as_str().to_string());
                    let value_var = f.value_var.value().as_str().to_string();
                    let items = iterate(collection, scope.span(f.collection_expr.span()), diags)?;
                    for (k, v) in items {
                        let depth = scope.bindings.len();
                        if let Some(kv) = &key_var {
                            scope.bindings.push((kv.clone(), k));
                        }
                        scope.bindings.push((value_var.clone(), v));
                        let r = eval_template(&f.template, scope, diags, out);
                        scope.bindings.truncate(depth);
                        r?;
                    }
                }
            },
        }
    }
    if failed {
        Err(Failed)
    } else {
        Ok(())
    }
}

/// Key/value pairs of a collection: list indices or map keys.
fn iterate(
    collection: Value,
    span: Span,
    diags: &mut Diagnostics,
) -> Result<Vec<(Value, Value)>, Failed> {
    match collection {
        Value::List(items) => Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect()),
        Value::Map(m) => Ok(m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()),
        other => {
            diags.push(
                Diagnostic::error(
                    "coffer::wrong_type",
                    format!("cannot iterate over {}", other.type_name()),
                )
                .at(span, "expected a list or a map"),
            );
            Err(Failed)
        }
    }
}

fn eval_for(
    f: &hcl_edit::expr::ForExpr,
    scope: &mut Scope<'_>,
    diags: &mut Diagnostics,
) -> EvalResult {
    let intro = &f.intro;
    let collection = eval(&intro.collection_expr, scope, diags)?;
    let items = iterate(collection, scope.span(intro.collection_expr.span()), diags)?;
    let key_var = intro
        .key_var
        .as_ref()
        .map(|k| k.value().as_str().to_string());
    let value_var = intro.value_var.value().as_str().to_string();
    let mut list = Vec::new();
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in items {
        let depth = scope.bindings.len();
        if let Some(kv) = &key_var {
            scope.bindings.push((kv.clone(), k));
        }
        scope.bindings.push((value_var.clone(), v));
        let result = (|| {
            if let Some(cond) = &f.cond {
                match eval(&cond.expr, scope, diags)? {
                    Value::Bool(true) => {}
                    Value::Bool(false) => return Ok(()),
                    other => {
                        diags.push(
                            Diagnostic::error(
                                "coffer::wrong_type",
                                format!("`if` condition must be a bool, not {}", other.type_name()),
                            )
                            .at(scope.span(cond.expr.span()), "this condition"),
                        );
                        return Err(Failed);
                    }
                }
            }
            let value = eval(&f.value_expr, scope, diags)?;
            match &f.key_expr {
                None => list.push(value),
                Some(key_expr) => {
                    let key = eval(key_expr, scope, diags)?;
                    let Some(key) = key
                        .to_template_string()
                        .filter(|_| !matches!(key, Value::Null))
                    else {
                        diags.push(
                            Diagnostic::error(
                                "coffer::wrong_type",
                                format!("map key must be a string, not {}", key.type_name()),
                            )
                            .at(scope.span(key_expr.span()), "this key"),
                        );
                        return Err(Failed);
                    };
                    if f.grouping {
                        grouped.entry(key).or_default().push(value);
                    } else {
                        match map.entry(key) {
                            std::collections::btree_map::Entry::Vacant(e) => {
                                e.insert(value);
                            }
                            std::collections::btree_map::Entry::Occupied(e) => {
                                diags.push(
                                    Diagnostic::error(
                                        "coffer::duplicate_key",
                                        format!("duplicate map key `{}` in for expression", e.key()),
                                    )
                                    .at(scope.span(key_expr.span()), "produces the same key twice")
                                    .with_help("use the grouping form `key => value...` to collect duplicates into lists"),
                                );
                                return Err(Failed);
                            }
                        }
                    }
                }
            }
            Ok(())
        })();
        scope.bindings.truncate(depth);
        result?;
    }
    Ok(match &f.key_expr {
        None => Value::List(list),
        Some(_) if f.grouping => Value::Map(
            grouped
                .into_iter()
                .map(|(k, v)| (k, Value::List(v)))
                .collect(),
        ),
        Some(_) => Value::Map(map),
    })
}

fn eval_traversal(
    t: &hcl_edit::expr::Traversal,
    scope: &mut Scope<'_>,
    diags: &mut Diagnostics,
) -> EvalResult {
    let mut ops = t.operators.iter();
    let mut current = match resolve_root(t, scope, diags)? {
        Some(value) => {
            // the first operator was consumed as the name
            ops.next();
            value
        }
        None => eval(&t.expr, scope, diags)?,
    };
    for op in ops {
        let op_span = scope.span(op.span());
        current = match op.value() {
            TraversalOperator::GetAttr(name) => {
                get_attr(current, name.value().as_str(), op_span, diags)?
            }
            TraversalOperator::Index(e) => {
                let index = eval(e, scope, diags)?;
                index_value(current, index, op_span, diags)?
            }
            TraversalOperator::LegacyIndex(i) => {
                index_value(current, Value::Number(*i.value() as f64), op_span, diags)?
            }
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => match current {
                Value::List(items) => Value::List(items),
                other => Value::List(vec![other]),
            },
        };
    }
    Ok(current)
}

/// Resolves `var.x`, `local.x`, `vault.x` …; `None` when the traversal does not start with a root.
fn resolve_root(
    t: &hcl_edit::expr::Traversal,
    scope: &mut Scope<'_>,
    diags: &mut Diagnostics,
) -> Result<Option<Value>, Failed> {
    let Expression::Variable(root) = &t.expr else {
        return Ok(None);
    };
    let root_name = root.value().as_str();
    if scope.lookup_binding(root_name).is_some() {
        return Ok(None);
    }
    let Some(declared) = scope.declared.names(root_name) else {
        return Ok(None);
    };
    let first = t.operators.first();
    let Some(TraversalOperator::GetAttr(name)) = first.map(|o| o.value()) else {
        diags.push(
            Diagnostic::error(
                "coffer::invalid_reference",
                format!("`{root_name}` must be followed by `.NAME`"),
            )
            .at(scope.span(t.span()), "incomplete reference"),
        );
        return Err(Failed);
    };
    let name = name.value().as_str();
    let ref_span = Span::new(
        scope.file,
        t.expr.span().unwrap_or(0..0).start..first.and_then(|o| o.span()).map_or(0, |s| s.end),
    );
    if !declared.contains(name) {
        diags.push(undeclared(root_name, name, declared, ref_span));
        return Err(Failed);
    }
    let value = match root_name {
        "var" => scope.vars.get(name).cloned().ok_or(Failed)?,
        "local" => scope.locals.get(name).cloned().ok_or(Failed)?,
        "vault" => Value::Ref(Address::Vault(name.into())),
        "plan" => Value::Ref(Address::Plan(name.into())),
        "selection" => Value::Ref(Address::Selection(name.into())),
        _ => Value::Ref(Address::Directory(name.into())),
    };
    Ok(Some(value))
}

/// The diagnostic for a reference to something that is not declared.
pub fn undeclared(root: &str, name: &str, declared: &BTreeSet<String>, span: Span) -> Diagnostic {
    let what = match root {
        "var" => "variable",
        "local" => "local value",
        other => other,
    };
    let mut d = Diagnostic::error(
        "coffer::undeclared_reference",
        format!("reference to undeclared {what} `{name}`"),
    )
    .at(span, format!("no {what} named `{name}`"));
    d = match super::suggest::did_you_mean(name, declared.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!("did you mean `{root}.{s}`?")),
        None if declared.is_empty() => d.with_help(format!(
            "declare it with a `{}` block",
            if root == "local" {
                "locals"
            } else {
                root_keyword(root)
            }
        )),
        None => d.with_help(format!(
            "declared {what}s: {}",
            declared
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    d
}

fn root_keyword(root: &str) -> &str {
    if root == "var" {
        "variable"
    } else {
        root
    }
}

fn get_attr(value: Value, name: &str, span: Span, diags: &mut Diagnostics) -> EvalResult {
    match value {
        Value::Map(mut m) => match m.remove(name) {
            Some(v) => Ok(v),
            None => {
                let keys: Vec<String> = m.keys().cloned().collect();
                let mut d =
                    Diagnostic::error("coffer::missing_key", format!("map has no key `{name}`"))
                        .at(span, "not in the map");
                if let Some(s) = super::suggest::did_you_mean(name, keys.iter().map(String::as_str))
                {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                Err(Failed)
            }
        },
        Value::Ref(addr) if name == "name" => Ok(Value::String(addr.name().to_string())),
        Value::Ref(addr) if name == "address" => Ok(Value::String(addr.to_string())),
        Value::Ref(addr) => {
            diags.push(
                Diagnostic::error(
                    "coffer::invalid_reference",
                    format!("`{addr}` has no attribute `{name}` that can be read"),
                )
                .at(span, "not readable")
                .with_help("a block reference can be used whole, or as `.name` and `.address`"),
            );
            Err(Failed)
        }
        other => {
            diags.push(
                Diagnostic::error(
                    "coffer::wrong_type",
                    format!("cannot read attribute `{name}` of a {}", other.type_name()),
                )
                .at(span, "here"),
            );
            Err(Failed)
        }
    }
}

fn index_value(value: Value, index: Value, span: Span, diags: &mut Diagnostics) -> EvalResult {
    match (value, index) {
        (Value::List(items), Value::Number(n)) => {
            if n.fract() == 0.0 && n >= 0.0 && (n as usize) < items.len() {
                Ok(items[n as usize].clone())
            } else {
                diags.push(
                    Diagnostic::error(
                        "coffer::index_out_of_range",
                        format!(
                            "index {n} is out of range for a list of {} elements",
                            items.len()
                        ),
                    )
                    .at(span, "here"),
                );
                Err(Failed)
            }
        }
        (Value::Map(m), Value::String(k)) => get_attr(Value::Map(m), &k, span, diags),
        (v, i) => {
            diags.push(
                Diagnostic::error(
                    "coffer::wrong_type",
                    format!("cannot index a {} with a {}", v.type_name(), i.type_name()),
                )
                .at(span, "here"),
            );
            Err(Failed)
        }
    }
}

/// Every reference an expression makes, with the span of the reference text.
pub fn references(expr: &Expression) -> Vec<(RefTarget, std::ops::Range<usize>)> {
    use hcl_edit::visit::{visit_traversal, Visit};
    struct Collector(Vec<(RefTarget, std::ops::Range<usize>)>);
    impl Visit for Collector {
        fn visit_traversal(&mut self, t: &hcl_edit::expr::Traversal) {
            if let (Expression::Variable(root), Some(first)) = (&t.expr, t.operators.first()) {
                if let TraversalOperator::GetAttr(name) = first.value() {
                    let name = name.value().as_str().to_string();
                    let span =
                        t.expr.span().unwrap_or(0..0).start..first.span().map_or(0, |s| s.end);
                    let target = match root.value().as_str() {
                        "var" => Some(RefTarget::Variable(name)),
                        "local" => Some(RefTarget::Local(name)),
                        "vault" => Some(RefTarget::Object(Address::Vault(name))),
                        "plan" => Some(RefTarget::Object(Address::Plan(name))),
                        "selection" => Some(RefTarget::Object(Address::Selection(name))),
                        "directory" => Some(RefTarget::Object(Address::Directory(name))),
                        _ => None,
                    };
                    if let Some(target) = target {
                        self.0.push((target, span));
                    }
                }
            }
            visit_traversal(self, t);
        }
    }
    let mut c = Collector(Vec::new());
    c.visit_expr(expr);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> (Result<Value, Failed>, Diagnostics) {
        let expr = hcl_edit::parser::parse_expr(src).expect("parses");
        let mut declared = Declared::default();
        declared.variables.insert("env".into());
        declared.locals.insert("tags".into());
        declared.vaults.insert("default".into());
        let mut vars = BTreeMap::new();
        vars.insert("env".to_string(), Value::String("prod".into()));
        let mut locals = BTreeMap::new();
        locals.insert(
            "tags".to_string(),
            Value::Map([("Team".to_string(), Value::String("platform".into()))].into()),
        );
        let mut scope = Scope::new(FileId(0), &declared, &vars, &locals);
        let mut diags = Diagnostics::default();
        let r = eval(&expr, &mut scope, &mut diags);
        (r, diags)
    }

    fn ok(src: &str) -> Value {
        let (r, d) = run(src);
        assert!(d.is_empty(), "{src}: {d:?}");
        r.expect("evaluates")
    }

    fn err(src: &str) -> String {
        let (r, d) = run(src);
        assert!(r.is_err(), "{src} should fail");
        let message = d.iter().next().expect("a diagnostic").message.clone();
        message
    }

    #[test]
    fn literals_and_templates() {
        assert_eq!(
            ok("\"backup-${var.env}\""),
            Value::String("backup-prod".into())
        );
        assert_eq!(ok("1 + 2 * 3"), Value::Number(7.0));
        assert_eq!(
            ok("var.env == \"prod\" ? \"yes\" : \"no\""),
            Value::String("yes".into())
        );
        assert_eq!(ok("!true || false"), Value::Bool(false));
        assert_eq!(
            ok("\"%{ if var.env == \"prod\" }P%{ else }D%{ endif }\""),
            Value::String("P".into())
        );
        assert_eq!(
            ok("\"%{ for x in [1, 2] }${x};%{ endfor }\""),
            Value::String("1;2;".into())
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            ok("vault.default"),
            Value::Ref(Address::Vault("default".into()))
        );
        assert_eq!(ok("vault.default.name"), Value::String("default".into()));
        assert_eq!(ok("local.tags.Team"), Value::String("platform".into()));
        assert_eq!(ok("local.tags[\"Team\"]"), Value::String("platform".into()));
    }

    #[test]
    fn for_expressions() {
        assert_eq!(
            ok("[for s in [\"a\", \"b\"] : upper(s) if s != \"b\"]"),
            Value::List(vec![Value::String("A".into())])
        );
        assert_eq!(
            ok("{for k, v in local.tags : lower(k) => v}"),
            Value::Map([("team".to_string(), Value::String("platform".into()))].into())
        );
    }

    #[test]
    fn errors_are_explained() {
        assert_eq!(err("var.nope"), "reference to undeclared variable `nope`");
        assert_eq!(
            err("vault.defualt"),
            "reference to undeclared vault `defualt`"
        );
        assert_eq!(err("prod"), "unknown name `prod`");
        assert_eq!(
            err("1 + \"a\""),
            "operator `+` does not apply to number and string"
        );
        assert_eq!(
            err("[1][3]"),
            "index 3 is out of range for a list of 1 elements"
        );
        assert_eq!(err("{(var.env) = 1, prod = 2}"), "duplicate map key `prod`");
        assert_eq!(err("\"${[1]}\""), "cannot insert a list into a string");
        assert_eq!(err("1 / 0"), "division by zero");
    }

    #[test]
    fn did_you_mean_for_vaults() {
        let (_, d) = run("vault.defualt");
        let help = d.iter().next().unwrap().help.clone().unwrap();
        assert_eq!(help, "did you mean `vault.default`?");
    }

    #[test]
    fn collects_references() {
        let e = hcl_edit::parser::parse_expr("merge(local.tags, { a = var.env }, vault.x.name)")
            .unwrap();
        let refs: Vec<RefTarget> = super::references(&e).into_iter().map(|(r, _)| r).collect();
        assert_eq!(
            refs,
            vec![
                RefTarget::Local("tags".into()),
                RefTarget::Variable("env".into()),
                RefTarget::Object(Address::Vault("x".into())),
            ]
        );
    }
}
