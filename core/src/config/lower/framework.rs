//! `framework` blocks: AWS Backup Audit Manager's frameworks, each a set of `control "NAME"`
//! blocks (AWS's control names plus coffer's `RESTORE_TEST_PASSED`) with the parameters the
//! control takes, checked against its range, and an optional `scope` of resource types, ARN
//! patterns and tags.

use super::*;
use crate::controls::{ControlKind, ParamType};
use crate::inventory::ResourceType;
use crate::objects::attrs::{ControlParams, ControlScope};

impl<'s> Lowerer<'s> {
    pub(super) fn lower_framework(&mut self, d: &Decl<'_>) -> Option<Framework> {
        let view = d.view("framework");
        self.check_body(&view, &["description"], &["control"]);
        let description = self.string(&view, "description").map(|(s, _)| s);
        let mut controls: BTreeMap<ControlKind, Control> = BTreeMap::new();
        let mut seen: BTreeMap<ControlKind, Span> = BTreeMap::new();
        let mut blocks = 0;
        for b in d
            .block
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "control")
        {
            blocks += 1;
            if !self.check_labels(d.file, b, 1) {
                continue;
            }
            let Some(decl) = self.decl(d.file, b, "control") else {
                continue;
            };
            let Some(kind) = ControlKind::parse(&decl.name) else {
                let names: Vec<&str> = ControlKind::ALL.iter().map(|k| k.name()).collect();
                let mut diag = Diagnostic::error(
                    "coffer::unknown_control",
                    format!("`{}` is not a control coffer evaluates", decl.name),
                )
                .at(decl.name_span.clone(), "unknown control");
                diag = match did_you_mean(&decl.name, names.iter().copied()) {
                    Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                    None => diag.with_help(format!("controls: {}", names.join(", "))),
                };
                self.push(diag);
                continue;
            };
            if let Some(first) = seen.get(&kind) {
                self.push(
                    Diagnostic::error(
                        "coffer::duplicate_name",
                        format!(
                            "control `{kind}` appears more than once in framework `{}`",
                            d.name
                        ),
                    )
                    .at(decl.name_span.clone(), "again here")
                    .with_related(first.clone(), "first here")
                    .with_help("a framework holds each control once; put a control with another scope or other parameters in a second framework"),
                );
                continue;
            }
            seen.insert(kind, decl.name_span.clone());
            if let Some(c) = self.lower_control(kind, &decl) {
                controls.insert(kind, c);
            }
        }
        if blocks == 0 {
            self.push(
                Diagnostic::error(
                    "coffer::missing_block",
                    format!("framework `{}` has no control", d.name),
                )
                .at(d.header.clone(), "no control block")
                .with_help("add e.g. `control \"BACKUP_LAST_RECOVERY_POINT_CREATED\" { max_age = \"24h\" }`"),
            );
        }
        Some(Framework {
            name: d.name.clone(),
            description,
            controls,
            span: d.name_span.clone(),
        })
    }

    fn lower_control(&mut self, kind: ControlKind, d: &Decl<'_>) -> Option<Control> {
        let view = d.view("control");
        let names: Vec<&str> = kind.params().iter().map(|p| p.name).collect();
        self.check_body(&view, &names, &["scope"]);
        let mut params = ControlParams::default();
        for p in kind.params() {
            match p.kind {
                ParamType::Duration { min, max } => {
                    let Some((v, span)) = self.duration(&view, p.name) else {
                        continue;
                    };
                    if v.minutes() < min || v.minutes() > max {
                        let words = format!(
                            "{} to {}",
                            Duration::from_minutes(min),
                            Duration::from_minutes(max)
                        );
                        self.push(
                            Diagnostic::error(
                                "coffer::invalid_value",
                                format!("{} must be {words}, not {v}", p.name),
                            )
                            .at(span, "out of range")
                            .with_help(format!(
                                "{} takes {words} (AWS's {})",
                                kind.name(),
                                p.aws
                            )),
                        );
                    }
                    params.set_duration(p.name, v);
                }
                ParamType::Regions => {
                    let list = self.string_list(&view, p.name);
                    for r in &list {
                        if !is_region_name(r) {
                            let span = self.attr_value_span(&view, p.name);
                            self.push(
                                Diagnostic::error(
                                    "coffer::invalid_region",
                                    format!("`{r}` is not an AWS region name"),
                                )
                                .at(span, "not a region")
                                .with_help("write region names such as \"eu-west-1\""),
                            );
                        }
                    }
                    params.regions = list;
                }
                ParamType::Accounts => {
                    let list = self.string_list(&view, p.name);
                    for a in &list {
                        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                            let span = self.attr_value_span(&view, p.name);
                            self.push(
                                Diagnostic::error(
                                    "coffer::invalid_value",
                                    format!("`{a}` is not an AWS account id"),
                                )
                                .at(span, "not 12 digits")
                                .with_help("account ids are 12 digits, e.g. \"123456789012\""),
                            );
                        }
                    }
                    params.accounts = list;
                }
            }
        }
        if let (Some(min), Some(max)) = (&params.min_retention, &params.max_retention) {
            if min > max {
                let span = self.attr_value_span(&view, "max_retention");
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("max_retention ({max}) is less than min_retention ({min})"),
                    )
                    .at(span, "below min_retention")
                    .with_help(
                        "a lock passes when its limits lie within [min_retention, max_retention]",
                    ),
                );
            }
        }
        let scope = match self.single_block(&view, "scope") {
            Some(b) => {
                let sview = View {
                    file: d.file,
                    body: &b.body,
                    what: "scope block".into(),
                    header: header_span(d.file, b),
                };
                self.check_body(&sview, &["resource_types", "resources", "tags"], &[]);
                let mut resource_types = Vec::new();
                for t in self.string_list(&sview, "resource_types") {
                    match ResourceType::parse(&t) {
                        Some(rt) => resource_types.push(rt),
                        None => {
                            let names: Vec<&str> =
                                ResourceType::ALL.iter().map(|t| t.as_str()).collect();
                            let span = self.attr_value_span(&sview, "resource_types");
                            self.push(
                                Diagnostic::error(
                                    "coffer::invalid_value",
                                    format!("`{t}` is not a resource type"),
                                )
                                .at(span, "not a resource type")
                                .with_help(format!("one of {}", names.join(", "))),
                            );
                        }
                    }
                }
                ControlScope {
                    resource_types,
                    resources: self.string_list(&sview, "resources"),
                    tags: self.string_map(&sview, "tags"),
                }
            }
            None => ControlScope::default(),
        };
        Some(Control {
            params,
            scope,
            span: d.name_span.clone(),
        })
    }

    /// The span of an attribute's value, or the block's header when it is absent.
    fn attr_value_span(&self, view: &View<'_>, name: &str) -> Span {
        view.body
            .get_attribute(name)
            .map(|a| span_of(view.file, a.value.span()))
            .unwrap_or_else(|| view.header.clone())
    }
}
