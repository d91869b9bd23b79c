//! `format()` as Terraform implements it (cty's `FormatFunc`): `%` then flags (`0 # - +`
//! and space), a width, a `.precision`, an argument index `[n]`, and a verb: `%v` (`%#v` as
//! JSON), `%t`, `%b %d %o %x %X` (whole numbers), `%e %E %f %g %G`, `%s`, `%q`, and `%%`.
//! Numbers are formatted from Terraform's 512-bit values as Go's `fmt` formats them.

use super::text::{json_quote, length, truncate};
use super::{Call, Outcome};
use crate::diag::Span;
use crate::number::{format_float_verb, format_integer, FormatSpec, Number};
use crate::value::Value;

/// The largest width or precision a verb may ask for.
const MAX_WIDTH: usize = 10_000;

/// One verb as written.
struct Verb {
    spec: FormatSpec,
    /// 1-based argument number.
    arg: usize,
    mode: char,
    raw: String,
}

pub(super) fn format(
    f: &Call<'_>,
    text: &str,
    text_span: &Span,
    args: &[(Value, Span)],
) -> Outcome {
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    let mut next_arg = 1;
    let mut highest = 0;
    while let Some((at, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek().map(|&(_, c)| c) == Some('%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut verb = Verb {
            spec: FormatSpec::default(),
            arg: next_arg,
            mode: ' ',
            raw: String::from("%"),
        };
        while let Some(&(_, c)) = chars.peek() {
            match c {
                '0' => verb.spec.zero = true,
                '#' => verb.spec.sharp = true,
                '-' => verb.spec.minus = true,
                '+' => verb.spec.plus = true,
                ' ' => verb.spec.space = true,
                _ => break,
            }
            verb.raw.push(c);
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                      raw: &mut String|
         -> Option<usize> {
            let mut n: Option<usize> = None;
            while let Some(&(_, c)) = chars.peek() {
                let Some(d) = c.to_digit(10) else { break };
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
                raw.push(c);
                chars.next();
            }
            n
        };
        if chars
            .peek()
            .is_some_and(|&(_, c)| c != '0' && c.is_ascii_digit())
        {
            verb.spec.width = number(&mut chars, &mut verb.raw);
        }
        if chars.peek().map(|&(_, c)| c) == Some('.') {
            verb.raw.push('.');
            chars.next();
            verb.spec.precision = Some(number(&mut chars, &mut verb.raw).unwrap_or(0));
        }
        if chars.peek().map(|&(_, c)| c) == Some('[') {
            chars.next();
            let n = number(&mut chars, &mut String::new());
            match (n, chars.next()) {
                (Some(n), Some((_, ']'))) if n > 0 => verb.arg = n,
                _ => {
                    return Err(f.fail(
                        text_span,
                        format!("invalid format string starting at offset {at}"),
                    ))
                }
            }
        }
        // a width or precision no configuration needs would allocate that much text (found
        // by the `config` fuzz target: `%66000000000v` aborted the process)
        for (what, n) in [
            ("width", verb.spec.width),
            ("precision", verb.spec.precision),
        ] {
            if n.is_some_and(|n| n > MAX_WIDTH) {
                return Err(f.fail(
                    text_span,
                    format!("the {what} at offset {at} is more than {MAX_WIDTH}"),
                ));
            }
        }
        match chars.next() {
            Some((_, m)) if m.is_ascii_alphabetic() => {
                verb.mode = m;
                verb.raw.push(m);
            }
            Some((off, c)) => {
                return Err(f.fail(
                    text_span,
                    format!("unrecognized format character {c:?} at offset {off}"),
                ))
            }
            None => {
                return Err(f.fail(
                    text_span,
                    format!("invalid format string starting at offset {at}"),
                ))
            }
        }
        let Some((value, span)) = args.get(verb.arg - 1) else {
            return Err(f.fail(
                text_span,
                format!(
                    "the format string needs more than {} argument(s)",
                    args.len()
                ),
            ));
        };
        highest = highest.max(verb.arg);
        next_arg = verb.arg + 1;
        out.push_str(&one(f, &verb, value, span)?);
    }
    if highest < args.len() {
        return Err(f.fail(
            text_span,
            format!(
                "{} argument(s) given but the format string uses {highest}",
                args.len()
            ),
        ));
    }
    Ok(Value::String(out))
}

/// Pads `text` to the verb's width in grapheme clusters: with `0` or spaces, on the left, or
/// on the right with `-`.
fn pad(spec: &FormatSpec, text: String) -> String {
    let Some(width) = spec.width else {
        return text;
    };
    let have = length(&text);
    if have >= width {
        return text;
    }
    let fill = if spec.zero { "0" } else { " " }.repeat(width - have);
    if spec.minus {
        text + &fill
    } else {
        fill + &text
    }
}

/// Terraform's JSON of a value (`%#v`, and `%v` of collections and booleans).
fn json(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.text(),
        Value::String(s) => json_quote(s),
        Value::Ref(a) => json_quote(&a.to_string()),
        Value::List(items) => {
            let parts: Option<Vec<String>> = items.iter().map(json).collect();
            format!("[{}]", parts?.join(","))
        }
        Value::Map(m) => {
            let parts: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| Some(format!("{}:{}", json_quote(k), json(v)?)))
                .collect();
            format!("{{{}}}", parts?.join(","))
        }
    })
}

fn as_number(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => Number::parse(s),
        _ => None,
    }
}

fn one(
    f: &Call<'_>,
    verb: &Verb,
    value: &Value,
    span: &Span,
) -> Result<String, Box<crate::diag::Diagnostic>> {
    let unsupported =
        |why: &str| f.fail(span, format!("unsupported value for {:?}: {why}", verb.raw));
    if verb.mode != 'v' && matches!(value, Value::Null) {
        return Err(unsupported("null value cannot be formatted"));
    }
    let spec = &verb.spec;
    Ok(match verb.mode {
        'v' => match value {
            Value::String(s) if !spec.sharp => pad(spec, s.clone()),
            Value::Number(n) if !spec.sharp => pad(spec, n.format_float('g', None)),
            v => pad(
                spec,
                json(v).ok_or_else(|| unsupported("it cannot be written as JSON"))?,
            ),
        },
        't' => match value {
            Value::Bool(b) => b.to_string(),
            Value::String(s) if s == "true" || s == "false" => s.clone(),
            _ => return Err(unsupported("a bool is required")),
        },
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let n = as_number(value).ok_or_else(|| unsupported("a number is required"))?;
            let (neg, magnitude) = n
                .to_integer()
                .ok_or_else(|| unsupported("an integer is required"))?;
            format_integer(neg, &magnitude, verb.mode, spec)
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = as_number(value).ok_or_else(|| unsupported("a number is required"))?;
            format_float_verb(&n, verb.mode, spec)
        }
        's' | 'q' => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) | Value::Ref(_) => {
                    value.to_template_string().unwrap_or_default()
                }
                _ => return Err(unsupported("a string is required")),
            };
            let text = match spec.precision {
                Some(p) if p > 0 => truncate(&text, p),
                _ => text,
            };
            if verb.mode == 's' {
                pad(spec, text)
            } else {
                pad(spec, json_quote(&text))
            }
        }
        m => {
            return Err(f.fail(
                span,
                format!("unsupported format verb '{m}' in {:?}", verb.raw),
            ))
        }
    })
}
