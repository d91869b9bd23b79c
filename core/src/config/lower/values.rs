//! Variables and locals: each variable's value from its sources in precedence order, its type
//! and validations checked; locals evaluated in dependency order.

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn empty_scope<'a>(
        &'a self,
        file: FileId,
        no_locals: &'a BTreeMap<String, Value>,
        declared: &'a Declared,
    ) -> Scope<'a> {
        Scope::new(file, declared, no_locals, no_locals).with_source(self.source_text(file))
    }

    pub(super) fn lower_variables(
        &mut self,
        c: &Collected<'_>,
        var_files: &[(FileId, Option<Body>)],
        cli_vars: &[(String, String)],
        env_vars: &[(String, String)],
    ) {
        struct VarInfo {
            ty: VarType,
            default: Option<Value>,
            span: Span,
        }
        let mut infos: BTreeMap<String, VarInfo> = BTreeMap::new();
        let empty = BTreeMap::new();
        let nothing = Declared::default();
        for v in &c.variables {
            let view = v.view("variable");
            self.check_body(&view, &["type", "default", "description"], &["validation"]);
            let ty = match v.block.body.get_attribute("type") {
                Some(a) => match variables::parse_type(&a.value) {
                    Ok(t) => t,
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                "coffer::invalid_type",
                                format!("invalid type for variable `{}`", v.name),
                            )
                            .at(span_of(v.file, a.value.span()), "not a type")
                            .with_help(e),
                        );
                        VarType::Any
                    }
                },
                None => VarType::Any,
            };
            let default = match v.block.body.get_attribute("default") {
                Some(a) => {
                    if let Some((_, r)) = eval::references(&a.value).into_iter().next() {
                        self.push(
                            Diagnostic::error("coffer::invalid_default", format!("the default of variable `{}` refers to another value", v.name))
                                .at(Span::new(v.file, r), "not allowed in a default")
                                .with_help("defaults must be literal values; compute derived values in `locals`"),
                        );
                        None
                    } else {
                        let mut scope = self.empty_scope(v.file, &empty, &nothing);
                        let mut diags = Diagnostics::default();
                        let r = eval::eval(&a.value, &mut scope, &mut diags);
                        self.diags.extend(diags);
                        match r.ok().map(|val| variables::convert(val, &ty)) {
                            Some(Ok(val)) => Some(val),
                            Some(Err(e)) => {
                                self.push(
                                    Diagnostic::error("coffer::wrong_type", format!("the default of variable `{}` does not match its type {ty}", v.name))
                                        .at(span_of(v.file, a.value.span()), e)
                                        .with_help(format!("make the default a {ty} value, or change the variable's type")),
                                );
                                None
                            }
                            None => None,
                        }
                    }
                }
                None => None,
            };
            infos.insert(
                v.name.clone(),
                VarInfo {
                    ty,
                    default,
                    span: v.name_span.clone(),
                },
            );
        }

        // Sources of values, lowest precedence first: environment, variable files, -var flags.
        let mut given: BTreeMap<String, Value> = BTreeMap::new();
        for (name, raw) in env_vars {
            let Some(info) = infos.get(name) else {
                continue;
            };
            match variables::from_raw(raw, &info.ty) {
                Ok(v) => {
                    given.insert(name.clone(), v);
                }
                Err(e) => self.push(
                    Diagnostic::error(
                        "coffer::invalid_variable_value",
                        format!("invalid value for variable `{name}` from COFFER_VAR_{name}: {e}"),
                    )
                    .at(info.span.clone(), format!("declared as {}", info.ty)),
                ),
            }
        }
        for (file, body) in var_files {
            let Some(body) = body else { continue };
            for s in body.iter() {
                let Structure::Attribute(attr) = s else {
                    self.push(
                        Diagnostic::error(
                            "coffer::unexpected_block",
                            "variable files hold only `name = value` attributes",
                        )
                        .at(span_of(*file, s.span()), "not an attribute"),
                    );
                    continue;
                };
                let name = attr.key.value().as_str();
                let Some(info) = infos.get(name) else {
                    let mut d = Diagnostic::warning(
                        "coffer::undeclared_variable",
                        format!("value for undeclared variable `{name}`"),
                    )
                    .at(span_of(*file, attr.key.span()), "no such variable")
                    .with_help("declare it with a `variable` block, or remove this line");
                    if let Some(s) = did_you_mean(name, infos.keys().map(String::as_str)) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.push(d);
                    continue;
                };
                let mut scope = self.empty_scope(*file, &empty, &nothing);
                let mut diags = Diagnostics::default();
                let r = eval::eval(&attr.value, &mut scope, &mut diags);
                self.diags.extend(diags);
                if let Ok(v) = r {
                    match variables::convert(v, &info.ty) {
                        Ok(v) => {
                            given.insert(name.to_string(), v);
                        }
                        Err(e) => self.push(
                            Diagnostic::error(
                                "coffer::invalid_variable_value",
                                format!("invalid value for variable `{name}`: {e}"),
                            )
                            .at(
                                span_of(*file, attr.value.span()),
                                format!("expected {}", info.ty),
                            ),
                        ),
                    }
                }
            }
        }
        for (name, raw) in cli_vars {
            let Some(info) = infos.get(name) else {
                let mut d = Diagnostic::error(
                    "coffer::undeclared_variable",
                    format!("-var given for undeclared variable `{name}`"),
                );
                d = match did_you_mean(name, infos.keys().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help("declare it with a `variable` block in the configuration"),
                };
                self.push(d);
                continue;
            };
            match variables::from_raw(raw, &info.ty) {
                Ok(v) => {
                    given.insert(name.clone(), v);
                }
                Err(e) => self.push(
                    Diagnostic::error(
                        "coffer::invalid_variable_value",
                        format!("invalid value for variable `{name}` from -var: {e}"),
                    )
                    .at(info.span.clone(), format!("declared as {}", info.ty)),
                ),
            }
        }

        for v in &c.variables {
            let Some(info) = infos.get(&v.name) else {
                continue;
            };
            let value = match given.remove(&v.name).or_else(|| info.default.clone()) {
                Some(value) => value,
                None => {
                    if v.block.body.get_attribute("default").is_none() {
                        self.push(
                            Diagnostic::error("coffer::missing_variable", format!("no value for required variable `{}`", v.name))
                                .at(info.span.clone(), "has no default")
                                .with_help(format!(
                                    "set it with `-var {}=…`, in a file passed with `-var-file`, or in the environment as COFFER_VAR_{}",
                                    v.name, v.name
                                )),
                        );
                    }
                    continue;
                }
            };
            if self.validate_variable(v, &value) {
                self.vars.insert(v.name.clone(), value);
            }
        }
    }

    /// Runs a variable's `validation` blocks; false when one fails.
    pub(super) fn validate_variable(&mut self, v: &Decl<'_>, value: &Value) -> bool {
        let mut ok = true;
        for b in v
            .block
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "validation")
        {
            let view = View {
                file: v.file,
                body: &b.body,
                what: "validation block".into(),
                header: header_span(v.file, b),
            };
            self.check_body(&view, &["condition", "error_message"], &[]);
            let Some(cond) = b.body.get_attribute("condition") else {
                self.missing(&view, "condition", "condition = length(var.name) > 0");
                continue;
            };
            let message = b
                .body
                .get_attribute("error_message")
                .and_then(|a| a.value.as_str().map(str::to_string))
                .unwrap_or_else(|| "the value is not valid".into());
            let mut declared = Declared::default();
            declared.variables.insert(v.name.clone());
            let single: BTreeMap<String, Value> = [(v.name.clone(), value.clone())].into();
            let empty = BTreeMap::new();
            let mut scope = Scope::new(v.file, &declared, &single, &empty)
                .with_source(self.source_text(v.file));
            let mut diags = Diagnostics::default();
            let r = eval::eval(&cond.value, &mut scope, &mut diags);
            self.diags.extend(diags);
            match r {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            "coffer::variable_validation",
                            format!("invalid value for variable `{}`: {message}", v.name),
                        )
                        .at(
                            span_of(v.file, cond.value.span()),
                            format!("this condition is false for {value}"),
                        ),
                    );
                }
                Ok(other) => {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            "coffer::wrong_type",
                            format!(
                                "validation condition must be a bool, not {}",
                                other.type_name()
                            ),
                        )
                        .at(span_of(v.file, cond.value.span()), "here"),
                    );
                }
                Err(_) => ok = false,
            }
        }
        ok
    }

    pub(super) fn lower_locals(
        &mut self,
        c: &Collected<'_>,
        graph: &DependencyGraph<Node>,
        poisoned: &BTreeSet<Node>,
    ) {
        let by_name: BTreeMap<String, &LocalDecl<'_>> = c
            .locals
            .iter()
            .map(|l| (l.attr.key.value().as_str().to_string(), l))
            .collect();
        // order locals among themselves, leaving cycle members out
        let mut g: DependencyGraph<String> = DependencyGraph::new();
        for name in by_name.keys() {
            if poisoned.contains(&Node::Local(name.clone())) {
                continue;
            }
            g.add_node(name.clone());
            for dep in graph.dependencies_of(&Node::Local(name.clone())) {
                if let Node::Local(d) = dep {
                    if !poisoned.contains(&Node::Local(d.clone())) {
                        g.add_dependency(name.clone(), d);
                    }
                }
            }
        }
        let order = g.order().unwrap_or_default();
        for name in order {
            let Some(l) = by_name.get(&name) else {
                continue;
            };
            let mut diags = Diagnostics::default();
            let r = {
                let mut scope = Scope::new(l.file, &self.declared, &self.vars, &self.locals)
                    .with_source(self.source_text(l.file));
                eval::eval(&l.attr.value, &mut scope, &mut diags)
            };
            self.diags.extend(diags);
            if let Ok(v) = r {
                self.locals.insert(name, v);
            }
        }
    }
}
