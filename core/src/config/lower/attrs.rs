//! Reading attributes of a block body: unknown or repeated attributes and blocks reported,
//! and typed accessors (strings, booleans, maps, lists, durations, references, single nested
//! blocks) that report a wrong type at the attribute.

use super::*;

impl<'s> Lowerer<'s> {
    /// Reports unknown or repeated attributes and blocks in a body.
    pub(super) fn check_body(&mut self, view: &View<'_>, attrs: &[&str], blocks: &[&str]) {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for s in view.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.value().as_str();
                    let span = span_of(view.file, a.key.span());
                    if !attrs.contains(&name) {
                        let mut d = Diagnostic::error(
                            "coffer::unknown_attribute",
                            format!("unknown attribute `{name}` in {}", view.what),
                        )
                        .at(span.clone(), "unknown attribute");
                        d = match did_you_mean(name, attrs.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None if blocks.contains(&name) => d.with_help(format!(
                                "`{name}` is a block: write `{name} {{ … }}` without `=`"
                            )),
                            None if attrs.is_empty() => {
                                d.with_help(format!("{} takes no attributes", view.what))
                            }
                            None => d.with_help(format!(
                                "attributes allowed here: {}",
                                attrs.join(", ")
                            )),
                        };
                        self.push(d);
                        continue;
                    }
                    if let Some(first) = seen.get(name) {
                        self.push(
                            Diagnostic::error(
                                "coffer::duplicate_attribute",
                                format!(
                                    "attribute `{name}` is set more than once in {}",
                                    view.what
                                ),
                            )
                            .at(span, "set again here")
                            .with_related(first.clone(), "first set here")
                            .with_help("remove one of them"),
                        );
                    } else {
                        seen.insert(name.to_string(), span);
                    }
                }
                Structure::Block(b) => {
                    let name = b.ident.value().as_str();
                    if !blocks.contains(&name) {
                        if attrs.contains(&name) {
                            self.push(
                                Diagnostic::error(
                                    "coffer::unknown_block",
                                    format!(
                                        "`{name}` is an attribute, not a block, in {}",
                                        view.what
                                    ),
                                )
                                .at(span_of(view.file, b.ident.span()), "written as a block")
                                .with_help(format!("write `{name} = …`")),
                            );
                        } else {
                            let place = view.what.clone();
                            self.unknown_block(view.file, b, &place, blocks.iter().copied());
                        }
                    }
                }
            }
        }
    }

    pub(super) fn missing(&mut self, view: &View<'_>, name: &str, example: &str) {
        self.push(
            Diagnostic::error(
                "coffer::missing_attribute",
                format!("missing required attribute `{name}` in {}", view.what),
            )
            .at(view.header.clone(), format!("needs `{name}`"))
            .with_help(format!("add `{example}`")),
        );
    }

    /// Evaluates an attribute if present.
    pub(super) fn value(
        &mut self,
        view: &View<'_>,
        name: &str,
    ) -> Option<(Value, Span, &'static str)> {
        let attr = view.body.get_attribute(name)?;
        let span = span_of(view.file, attr.value.span());
        let mut diags = Diagnostics::default();
        let r = {
            let mut scope = Scope::new(view.file, &self.declared, &self.vars, &self.locals)
                .with_source(self.source_text(view.file));
            eval::eval(&attr.value, &mut scope, &mut diags)
        };
        self.diags.extend(diags);
        let literal = if matches!(attr.value, Expression::String(_)) {
            "literal"
        } else {
            "expression"
        };
        r.ok().map(|v| (v, span, literal))
    }

    pub(super) fn wrong_type(
        &mut self,
        view: &View<'_>,
        name: &str,
        expected: &str,
        got: &Value,
        span: Span,
    ) {
        let example = if expected.starts_with("a bool") {
            format!("write `{name} = true` or `{name} = false`, without quotes")
        } else if expected.starts_with("a map of string lists") {
            format!("write a map of lists, e.g. `{name} = {{ Backup = [\"daily\", \"weekly\"] }}`")
        } else if expected.starts_with("a map") {
            format!("write a map, e.g. `{name} = {{ Team = \"platform\" }}`")
        } else if expected.starts_with("a list") {
            format!(
                "write a list, e.g. `{name} = [\"arn:aws:ec2:us-east-1:111122223333:volume/*\"]`"
            )
        } else if expected.starts_with("a duration") {
            format!("write a duration such as `{name} = \"90d\"` (units m, h, d, w, mo, y)")
        } else {
            format!("write a quoted string, e.g. `{name} = \"…\"`")
        };
        self.push(
            Diagnostic::error(
                "coffer::wrong_type",
                format!(
                    "`{name}` in {} must be {expected}, not {}",
                    view.what,
                    got.type_name()
                ),
            )
            .at(span, format!("this is a {}", got.type_name()))
            .with_help(example),
        );
    }

    /// A wrong type inside a map or list attribute (`what` names the entry).
    pub(super) fn element_wrong_type(
        &mut self,
        view: &View<'_>,
        what: String,
        expected: &str,
        got: &Value,
        span: &Span,
    ) {
        self.push(
            Diagnostic::error(
                "coffer::wrong_type",
                format!(
                    "{what} in {} must be {expected}, not {}",
                    view.what,
                    got.type_name()
                ),
            )
            .at(span.clone(), format!("{what} is a {}", got.type_name()))
            .with_help(
                "quote text values; numbers and bools become strings only through tostring()",
            ),
        );
    }

    pub(super) fn string(&mut self, view: &View<'_>, name: &str) -> Option<(String, Span)> {
        let (v, span, _) = self.value(view, name)?;
        match v {
            Value::String(s) => Some((s, span)),
            Value::Number(_) | Value::Bool(_) => {
                Some((v.to_template_string().unwrap_or_default(), span))
            }
            other => {
                self.wrong_type(view, name, "a string", &other, span);
                None
            }
        }
    }

    pub(super) fn required_string(
        &mut self,
        view: &View<'_>,
        name: &str,
        example: &str,
    ) -> Option<(String, Span)> {
        if view.body.get_attribute(name).is_none() {
            self.missing(view, name, example);
            return None;
        }
        self.string(view, name)
    }

    pub(super) fn bool(&mut self, view: &View<'_>, name: &str) -> Option<bool> {
        let (v, span, _) = self.value(view, name)?;
        match v {
            Value::Bool(b) => Some(b),
            other => {
                self.wrong_type(view, name, "a bool (true or false)", &other, span);
                None
            }
        }
    }

    /// A whole number from 0 up to `max` (a count such as `daily = 7`).
    pub(super) fn count(&mut self, view: &View<'_>, name: &str, max: u32) -> Option<(u32, Span)> {
        let (v, span, _) = self.value(view, name)?;
        let Value::Number(n) = &v else {
            self.wrong_type(view, name, "a whole number", &v, span);
            return None;
        };
        match n.to_i64().filter(|_| n.is_integer()) {
            Some(i) if (0..=max as i64).contains(&i) => Some((i as u32, span)),
            _ => {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_count",
                        format!(
                            "`{name}` in {} must be a whole number from 0 to {max}, not {}",
                            view.what,
                            n.text()
                        ),
                    )
                    .at(span, "not a count")
                    .with_help(format!("write a count without quotes, e.g. `{name} = 7`")),
                );
                None
            }
        }
    }

    pub(super) fn string_map(&mut self, view: &View<'_>, name: &str) -> Tags {
        let Some((v, span, _)) = self.value(view, name) else {
            return Tags::new();
        };
        match v {
            Value::Map(m) => {
                let mut out = Tags::new();
                for (k, v) in m {
                    match v.to_template_string() {
                        Some(s) if !matches!(v, Value::Null | Value::Ref(_)) => {
                            out.insert(k, s);
                        }
                        _ => self.element_wrong_type(
                            view,
                            format!("`{name}.{k}`"),
                            "a string",
                            &v,
                            &span,
                        ),
                    }
                }
                out
            }
            other => {
                self.wrong_type(view, name, "a map of strings", &other, span);
                Tags::new()
            }
        }
    }

    pub(super) fn string_list(&mut self, view: &View<'_>, name: &str) -> Vec<String> {
        let Some((v, span, _)) = self.value(view, name) else {
            return Vec::new();
        };
        match v {
            Value::List(items) => {
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s),
                        other => self.element_wrong_type(
                            view,
                            format!("element {i} of `{name}`"),
                            "a string",
                            &other,
                            &span,
                        ),
                    }
                }
                out
            }
            other => {
                self.wrong_type(view, name, "a list of strings", &other, span);
                Vec::new()
            }
        }
    }

    /// A list of references (`vaults = [vault.a, vault.b]`); returns the names.
    pub(super) fn reference_list(
        &mut self,
        view: &View<'_>,
        name: &str,
        kind: crate::address::Kind,
    ) -> Vec<String> {
        let Some((v, span, _)) = self.value(view, name) else {
            return Vec::new();
        };
        let expected = format!("a {} reference", kind.keyword());
        match v {
            Value::List(items) => {
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::Ref(a) if a.kind() == kind => out.push(a.name().to_string()),
                        other => self.element_wrong_type(
                            view,
                            format!("element {i} of `{name}`"),
                            &format!("{expected} such as {}.NAME, without quotes", kind.keyword()),
                            &other,
                            &span,
                        ),
                    }
                }
                out
            }
            other => {
                let list = format!("a list of {} references", kind.keyword());
                self.wrong_type(view, name, &list, &other, span);
                Vec::new()
            }
        }
    }

    /// `any_tag = { Key = ["a", "b"] }`; a single string counts as a one-element list.
    pub(super) fn string_list_map(
        &mut self,
        view: &View<'_>,
        name: &str,
    ) -> BTreeMap<String, Vec<String>> {
        let Some((v, span, _)) = self.value(view, name) else {
            return BTreeMap::new();
        };
        let Value::Map(m) = v else {
            self.wrong_type(view, name, "a map of string lists", &v, span);
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, v) in m {
            let values = match v {
                Value::String(s) => vec![s],
                Value::List(items) if items.iter().all(|i| matches!(i, Value::String(_))) => items
                    .into_iter()
                    .filter_map(|i| {
                        if let Value::String(s) = i {
                            Some(s)
                        } else {
                            None
                        }
                    })
                    .collect(),
                other => {
                    self.element_wrong_type(
                        view,
                        format!("`{name}.{k}`"),
                        "a string or a list of strings",
                        &other,
                        &span,
                    );
                    continue;
                }
            };
            out.insert(k, values);
        }
        out
    }

    /// A duration attribute; errors point at the exact characters inside the string.
    pub(super) fn duration(&mut self, view: &View<'_>, name: &str) -> Option<(Duration, Span)> {
        let (v, span, kind) = self.value(view, name)?;
        let Value::String(text) = v else {
            self.wrong_type(view, name, "a duration string such as \"90d\"", &v, span);
            return None;
        };
        match Duration::parse(&text) {
            Ok(d) => Some((d, span)),
            Err(e) => {
                let inner = self.inner_span(&span, &text, kind, e.range.clone());
                self.push(
                    Diagnostic::error("coffer::invalid_duration", format!("invalid duration `{text}` for `{name}`: {}", e.message))
                        .at(inner, e.message)
                        .with_help("durations are numbers with units: m (minutes), h, d, w, mo (30 days), y (365 days), e.g. \"12h\", \"90d\", \"7y\", \"1d12h\""),
                );
                None
            }
        }
    }

    /// Narrows a span to characters inside a plain string literal when the literal has no escapes.
    pub(super) fn inner_span(
        &self,
        span: &Span,
        value: &str,
        kind: &str,
        range: std::ops::Range<usize>,
    ) -> Span {
        if kind != "literal" {
            return span.clone();
        }
        let Some(file) = self.sources.get(span.file) else {
            return span.clone();
        };
        let raw = file
            .text
            .get(span.range.start + 1..span.range.end.saturating_sub(1));
        if raw == Some(value) && range.end <= value.len() {
            Span::new(
                span.file,
                span.range.start + 1 + range.start
                    ..span.range.start + 1 + range.end.max(range.start + 1).min(value.len()),
            )
        } else {
            span.clone()
        }
    }

    /// A reference attribute (`target_vault = vault.x`); returns the referenced name.
    pub(super) fn reference(
        &mut self,
        view: &View<'_>,
        name: &str,
        kind: crate::address::Kind,
        required: bool,
    ) -> Option<(String, Span)> {
        if view.body.get_attribute(name).is_none() {
            if required {
                let example = format!("{name} = {}.NAME", kind.keyword());
                self.missing(view, name, &example);
            }
            return None;
        }
        let (v, span, _) = self.value(view, name)?;
        match v {
            Value::Ref(a) if a.kind() == kind => Some((a.name().to_string(), span)),
            other => {
                let expected = format!("a {} reference", kind.keyword());
                if let Value::String(s) = &other {
                    let mut d = Diagnostic::error(
                        "coffer::wrong_type",
                        format!("`{name}` in {} must be {expected}, not a string", view.what),
                    )
                    .at(span, "a quoted string");
                    let exists = match kind {
                        crate::address::Kind::Vault => self.declared.vaults.contains(s),
                        crate::address::Kind::Plan => self.declared.plans.contains(s),
                        _ => false,
                    };
                    d = if exists {
                        d.with_help(format!(
                            "write `{name} = {}.{s}` without quotes",
                            kind.keyword()
                        ))
                    } else {
                        d.with_help(format!(
                            "write a reference without quotes, e.g. `{name} = {}.NAME`",
                            kind.keyword()
                        ))
                    };
                    self.push(d);
                } else {
                    self.push(
                        Diagnostic::error(
                            "coffer::wrong_type",
                            format!(
                                "`{name}` in {} must be {expected}, not {}",
                                view.what,
                                other.type_name()
                            ),
                        )
                        .at(span, "wrong kind of value")
                        .with_help(format!("write `{name} = {}.NAME`", kind.keyword())),
                    );
                }
                None
            }
        }
    }

    /// The single nested block `name`, reporting repeats.
    pub(super) fn single_block<'b>(&mut self, view: &View<'b>, name: &str) -> Option<&'b Block> {
        let mut found: Option<&'b Block> = None;
        for b in view
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == name)
        {
            if let Some(first) = found {
                self.push(
                    Diagnostic::error(
                        "coffer::duplicate_block",
                        format!("only one `{name}` block is allowed in {}", view.what),
                    )
                    .at(header_span(view.file, b), "repeated here")
                    .with_related(header_span(view.file, first), "first here"),
                );
                continue;
            }
            if !b.labels.is_empty() {
                self.check_labels(view.file, b, 0);
                continue;
            }
            found = Some(b);
        }
        found
    }
}
