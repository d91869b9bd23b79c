//! References and traversals: `var.x`, `local.y`, `vault.z`, attribute and index access,
//! "did you mean" for undeclared names, and the references an expression makes.

use super::*;

pub(super) fn eval_traversal(
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
            TraversalOperator::LegacyIndex(i) => index_value(
                current,
                Value::Number(crate::number::Number::from_u64(*i.value())),
                op_span,
                diags,
            )?,
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => match current {
                Value::List(items) => Value::List(items),
                other => Value::List(vec![other]),
            },
        };
    }
    Ok(current)
}

/// Resolves `var.x`, `local.x`, `vault.x` …; `None` when the traversal does not start with a root.
pub(super) fn resolve_root(
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
    d = match crate::config::suggest::did_you_mean(name, declared.iter().map(String::as_str)) {
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

pub(super) fn root_keyword(root: &str) -> &str {
    if root == "var" {
        "variable"
    } else {
        root
    }
}

pub(super) fn get_attr(
    value: Value,
    name: &str,
    span: Span,
    diags: &mut Diagnostics,
) -> EvalResult {
    match value {
        Value::Map(mut m) => match m.remove(name) {
            Some(v) => Ok(v),
            None => {
                let keys: Vec<String> = m.keys().cloned().collect();
                let mut d =
                    Diagnostic::error("coffer::missing_key", format!("map has no key `{name}`"))
                        .at(span, "not in the map");
                if let Some(s) =
                    crate::config::suggest::did_you_mean(name, keys.iter().map(String::as_str))
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

pub(super) fn index_value(
    value: Value,
    index: Value,
    span: Span,
    diags: &mut Diagnostics,
) -> EvalResult {
    match (value, index) {
        (Value::List(items), Value::Number(n)) => {
            let at = n.to_i64().and_then(|i| usize::try_from(i).ok());
            if let Some(item) = at.and_then(|i| items.get(i)) {
                Ok(item.clone())
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
