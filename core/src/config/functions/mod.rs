//! Built-in functions available in configuration expressions, each with the meaning
//! Terraform's function documentation gives it (the string functions in [`text`], `format` in
//! [`format`], numbers as in [`crate::number`]). They are pure: no function reads files, the
//! clock or the environment (environment values reach a configuration through
//! `COFFER_VAR_<name>` variables instead).

mod format;
mod text;

use crate::diag::{Diagnostic, Span};
use crate::number::Number;
use crate::value::Value;
use std::collections::BTreeMap;

/// Every function name, for documentation and "did you mean" help.
/// How each function is called, for help text.
fn usage(name: &str) -> &'static str {
    match name {
        "coalesce" => "coalesce(a, b, …): the first argument that is not null or \"\"",
        "concat" => "concat(list, list, …)",
        "contains" => "contains(list, value)",
        "distinct" => "distinct(list)",
        "flatten" => "flatten(list_of_lists)",
        "format" => {
            "format(\"%s-%05.2f\", string, number): flags 0 # - + and space, width, .precision, [n] argument index; verbs %v %#v %t %b %d %o %x %X %e %E %f %g %G %s %q %%"
        }
        "join" => "join(separator, list_of_strings)",
        "keys" => "keys(map)",
        "length" => "length(list | map | string)",
        "lookup" => "lookup(map, key, default)",
        "lower" => "lower(string)",
        "max" => "max(number, number, …)",
        "merge" => "merge(map, map, …): later maps win",
        "min" => "min(number, number, …)",
        "replace" => "replace(string, search, replacement): a /search/ is a regular expression",
        "split" => "split(separator, string)",
        "title" => "title(string)",
        "tolist" => "tolist(list)",
        "tonumber" => "tonumber(string | number)",
        "tostring" => "tostring(string | number | bool)",
        "trimspace" => "trimspace(string)",
        "upper" => "upper(string)",
        "values" => "values(map)",
        _ => "see README.md for the list of functions",
    }
}

pub const NAMES: &[&str] = &[
    "coalesce",
    "concat",
    "contains",
    "distinct",
    "flatten",
    "format",
    "join",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "replace",
    "split",
    "title",
    "tolist",
    "tonumber",
    "tostring",
    "trimspace",
    "upper",
    "values",
];

type Args = Vec<(Value, Span)>;
pub(super) type Outcome = Result<Value, Box<Diagnostic>>;

/// Calls function `name` with evaluated arguments; `span` is the whole call.
pub fn call(name: &str, args: Args, span: Span) -> Outcome {
    let f = Call {
        name,
        span: span.clone(),
    };
    match name {
        "lower" => f.string1(&args).map(|s| Value::String(text::lower(&s))),
        "upper" => f.string1(&args).map(|s| Value::String(text::upper(&s))),
        "title" => f.string1(&args).map(|s| Value::String(text::title(&s))),
        "trimspace" => f
            .string1(&args)
            .map(|s| Value::String(s.trim().to_string())),
        "tostring" => {
            f.arity(&args, 1, 1)?;
            match &args[0].0 {
                v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                    Ok(Value::String(v.to_template_string().unwrap_or_default()))
                }
                v => Err(f.wrong(&args[0].1, "a string, number or bool", v)),
            }
        }
        "tonumber" => {
            f.arity(&args, 1, 1)?;
            match &args[0].0 {
                Value::Number(n) => Ok(Value::Number(n.clone())),
                Value::String(s) => Number::parse(s)
                    .map(Value::Number)
                    .ok_or_else(|| f.fail(&args[0].1, format!("`{s}` is not a number"))),
                v => Err(f.wrong(&args[0].1, "a string or number", v)),
            }
        }
        "tolist" => {
            f.arity(&args, 1, 1)?;
            match &args[0].0 {
                Value::List(l) => Ok(Value::List(l.clone())),
                v => Err(f.wrong(&args[0].1, "a list", v)),
            }
        }
        "length" => {
            f.arity(&args, 1, 1)?;
            match &args[0].0 {
                Value::List(l) => Ok(Value::Number(Number::from_u64(l.len() as u64))),
                Value::Map(m) => Ok(Value::Number(Number::from_u64(m.len() as u64))),
                Value::String(s) => Ok(Value::Number(Number::from_u64(text::length(s) as u64))),
                v => Err(f.wrong(&args[0].1, "a list, map or string", v)),
            }
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for (v, s) in &args {
                match v {
                    Value::Map(m) => out.extend(m.clone()),
                    Value::Null => {}
                    v => return Err(f.wrong(s, "a map", v)),
                }
            }
            Ok(Value::Map(out))
        }
        "concat" => {
            let mut out = Vec::new();
            for (v, s) in &args {
                match v {
                    Value::List(l) => out.extend(l.clone()),
                    v => return Err(f.wrong(s, "a list", v)),
                }
            }
            Ok(Value::List(out))
        }
        "flatten" => {
            f.arity(&args, 1, 1)?;
            fn flat(v: &Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(l) => l.iter().for_each(|x| flat(x, out)),
                    other => out.push(other.clone()),
                }
            }
            match &args[0].0 {
                Value::List(_) => {
                    let mut out = Vec::new();
                    flat(&args[0].0, &mut out);
                    Ok(Value::List(out))
                }
                v => Err(f.wrong(&args[0].1, "a list", v)),
            }
        }
        "distinct" => {
            f.arity(&args, 1, 1)?;
            match &args[0].0 {
                Value::List(l) => {
                    let mut out: Vec<Value> = Vec::new();
                    for v in l {
                        if !out.contains(v) {
                            out.push(v.clone());
                        }
                    }
                    Ok(Value::List(out))
                }
                v => Err(f.wrong(&args[0].1, "a list", v)),
            }
        }
        "contains" => {
            f.arity(&args, 2, 2)?;
            match &args[0].0 {
                Value::List(l) => Ok(Value::Bool(l.contains(&args[1].0))),
                v => Err(f.wrong(&args[0].1, "a list", v)),
            }
        }
        "keys" | "values" => {
            f.arity(&args, 1, 1)?;
            match &args[0].0 {
                Value::Map(m) if name == "keys" => {
                    Ok(Value::List(m.keys().cloned().map(Value::String).collect()))
                }
                Value::Map(m) => Ok(Value::List(m.values().cloned().collect())),
                v => Err(f.wrong(&args[0].1, "a map", v)),
            }
        }
        "lookup" => {
            f.arity(&args, 2, 3)?;
            let Value::Map(m) = &args[0].0 else {
                return Err(f.wrong(&args[0].1, "a map", &args[0].0));
            };
            let key = f.string_at(&args, 1)?;
            match (m.get(&key), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some((default, _))) => Ok(default.clone()),
                (None, None) => Err(f.fail(
                    &args[1].1,
                    format!("the map has no key `{key}` and no default was given"),
                )),
            }
        }
        "coalesce" => {
            if args.is_empty() {
                return Err(f.fail(&span, "coalesce needs at least one argument".into()));
            }
            args.iter()
                .map(|(v, _)| v)
                .find(|v| !matches!(v, Value::Null) && *v != &Value::String(String::new()))
                .cloned()
                .ok_or_else(|| f.fail(&span, "every argument is null or an empty string".into()))
        }
        "join" => {
            f.arity(&args, 2, 2)?;
            let sep = f.string_at(&args, 0)?;
            let Value::List(items) = &args[1].0 else {
                return Err(f.wrong(&args[1].1, "a list", &args[1].0));
            };
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item.to_template_string() {
                    Some(s) if !matches!(item, Value::Ref(_)) => parts.push(s),
                    _ => {
                        return Err(f.fail(
                            &args[1].1,
                            format!(
                                "join takes a list of strings; it holds a {}",
                                item.type_name()
                            ),
                        ))
                    }
                }
            }
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            f.arity(&args, 2, 2)?;
            let sep = f.string_at(&args, 0)?;
            let text = f.string_at(&args, 1)?;
            Ok(Value::List(
                text::split(&sep, &text)
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ))
        }
        "replace" => {
            f.arity(&args, 3, 3)?;
            let subject = f.string_at(&args, 0)?;
            let from = f.string_at(&args, 1)?;
            let to = f.string_at(&args, 2)?;
            text::replace(&subject, &from, &to)
                .map(Value::String)
                .map_err(|e| f.fail(&args[1].1, e))
        }
        "min" | "max" => {
            if args.is_empty() {
                return Err(f.fail(&span, format!("{name} needs at least one number")));
            }
            let mut best: Option<Number> = None;
            for (v, s) in &args {
                let Value::Number(n) = v else {
                    return Err(f.wrong(s, "a number", v));
                };
                best = Some(match best {
                    None => n.clone(),
                    Some(b) if name == "min" => b.min(n.clone()),
                    Some(b) => b.max(n.clone()),
                });
            }
            Ok(Value::Number(best.unwrap_or_else(Number::zero)))
        }
        "format" => {
            if args.is_empty() {
                return Err(f.fail(&span, "format needs a format string".into()));
            }
            let spec = f.string_at(&args, 0)?;
            format::format(&f, &spec, &args[0].1, &args[1..])
        }
        _ => {
            let mut d = Diagnostic::error(
                "coffer::unknown_function",
                format!("unknown function `{name}`"),
            )
            .at(span, "not a built-in function");
            d = match super::suggest::did_you_mean(name, NAMES.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("available functions: {}", NAMES.join(", "))),
            };
            Err(Box::new(d))
        }
    }
}

pub(super) struct Call<'a> {
    name: &'a str,
    span: Span,
}

impl Call<'_> {
    pub(super) fn fail(&self, span: &Span, message: String) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(
                "coffer::function_error",
                format!("{}(): {message}", self.name),
            )
            .at(span.clone(), "this argument")
            .with_help(format!("usage: {}", usage(self.name))),
        )
    }

    fn wrong(&self, span: &Span, expected: &str, got: &Value) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(
                "coffer::wrong_type",
                format!(
                    "{}() expects {expected}, not {}",
                    self.name,
                    got.type_name()
                ),
            )
            .at(span.clone(), "this argument")
            .with_help(format!("usage: {}", usage(self.name))),
        )
    }

    fn arity(&self, args: &Args, min: usize, max: usize) -> Result<(), Box<Diagnostic>> {
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(Box::new(
                Diagnostic::error(
                    "coffer::function_error",
                    format!(
                        "{}() takes {want} argument{}, got {}",
                        self.name,
                        if max == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .at(self.span.clone(), "in this call")
                .with_help(format!("usage: {}", usage(self.name))),
            ));
        }
        Ok(())
    }

    fn string_at(&self, args: &Args, i: usize) -> Result<String, Box<Diagnostic>> {
        match &args[i].0 {
            Value::String(s) => Ok(s.clone()),
            Value::Number(_) | Value::Bool(_) => {
                Ok(args[i].0.to_template_string().unwrap_or_default())
            }
            v => Err(self.wrong(&args[i].1, "a string", v)),
        }
    }

    fn string1(&self, args: &Args) -> Result<String, Box<Diagnostic>> {
        self.arity(args, 1, 1)?;
        self.string_at(args, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn s(v: &str) -> (Value, Span) {
        (Value::String(v.into()), Span::new(FileId(0), 0..0))
    }
    fn l(v: Vec<Value>) -> (Value, Span) {
        (Value::List(v), Span::new(FileId(0), 0..0))
    }
    fn run(name: &str, args: Args) -> Outcome {
        call(name, args, Span::new(FileId(0), 0..0))
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            run("lower", vec![s("AbC")]).unwrap(),
            Value::String("abc".into())
        );
        assert_eq!(
            run("upper", vec![s("AbC")]).unwrap(),
            Value::String("ABC".into())
        );
        assert_eq!(
            run("title", vec![s("hello world")]).unwrap(),
            Value::String("Hello World".into())
        );
        assert_eq!(
            run(
                "format",
                vec![
                    s("%s-%d%%"),
                    s("a"),
                    (
                        Value::Number(Number::from_i64(3)),
                        Span::new(FileId(0), 0..0)
                    )
                ]
            )
            .unwrap(),
            Value::String("a-3%".into())
        );
        assert_eq!(
            run(
                "join",
                vec![
                    s(","),
                    l(vec![Value::String("a".into()), Value::String("b".into())])
                ]
            )
            .unwrap(),
            Value::String("a,b".into())
        );
        assert_eq!(
            run("split", vec![s(","), s("a,b")]).unwrap(),
            Value::List(vec![Value::String("a".into()), Value::String("b".into())])
        );
        assert_eq!(
            run(
                "coalesce",
                vec![(Value::Null, Span::new(FileId(0), 0..0)), s(""), s("x")]
            )
            .unwrap(),
            Value::String("x".into())
        );
    }

    #[test]
    fn collection_functions() {
        let m = |k: &str, v: &str| {
            (
                Value::Map([(k.to_string(), Value::String(v.into()))].into()),
                Span::new(FileId(0), 0..0),
            )
        };
        let merged = run("merge", vec![m("a", "1"), m("a", "2"), m("b", "3")]).unwrap();
        assert_eq!(merged.to_json(), serde_json::json!({"a": "2", "b": "3"}));
        let c = run(
            "concat",
            vec![l(vec![Value::Bool(true)]), l(vec![Value::Null])],
        )
        .unwrap();
        assert_eq!(c, Value::List(vec![Value::Bool(true), Value::Null]));
        assert_eq!(
            run("length", vec![s("héllo")]).unwrap(),
            Value::Number(Number::from_i64(5))
        );
    }

    #[test]
    fn errors() {
        let e = run("lowr", vec![s("a")]).unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `lower`?"));
        let e = run("lower", vec![]).unwrap_err();
        assert_eq!(e.message, "lower() takes 1 argument, got 0");
        let e = run("format", vec![s("%s %s"), s("a")]).unwrap_err();
        assert!(e.message.contains("needs more"));
        let e = run("merge", vec![s("a")]).unwrap_err();
        assert_eq!(e.message, "merge() expects a map, not string");
    }
}
