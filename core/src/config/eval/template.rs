//! Templates (`"${…}"`, `%{if}`, `%{for}`) and `for` expressions.

use super::*;

pub(super) fn eval_template(
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
pub(super) fn iterate(
    collection: Value,
    span: Span,
    diags: &mut Diagnostics,
) -> Result<Vec<(Value, Value)>, Failed> {
    match collection {
        Value::List(items) => Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(crate::number::Number::from_u64(i as u64)), v))
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

pub(super) fn eval_for(
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
