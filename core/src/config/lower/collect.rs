//! Collecting the blocks of every file: each top-level block checked for its labels and
//! names, duplicates reported once, and what is declared recorded for references.

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn collect<'a>(&mut self, parsed: &'a [(FileId, Body)]) -> Collected<'a> {
        let mut c = Collected::default();
        let mut seen: BTreeMap<(String, String), Span> = BTreeMap::new();
        for (file, body) in parsed {
            let file = *file;
            for structure in body.iter() {
                match structure {
                    Structure::Attribute(attr) => {
                        let name = attr.key.value().as_str();
                        self.push(
                            Diagnostic::error("coffer::unexpected_attribute", format!("attribute `{name}` is not allowed at the top level"))
                                .at(span_of(file, attr.key.span()), "not inside a block")
                                .with_help("top-level attributes belong in a `locals { … }` block, or inside a vault, plan, selection or directory block"),
                        );
                    }
                    Structure::Block(block) => {
                        let keyword = block.ident.value().as_str();
                        let Some(&(_, nlabels)) = TOP_LEVEL.iter().find(|(k, _)| *k == keyword)
                        else {
                            self.unknown_block(
                                file,
                                block,
                                "the top level",
                                TOP_LEVEL.iter().map(|(k, _)| *k),
                            );
                            continue;
                        };
                        if keyword == "locals" {
                            if self.check_labels(file, block, 0) {
                                for s in block.body.iter() {
                                    match s {
                                        Structure::Attribute(attr) => c.locals.push(LocalDecl { file, attr, span: span_of(file, attr.key.span()) }),
                                        Structure::Block(b) => self.push(
                                            Diagnostic::error("coffer::unexpected_block", format!("blocks are not allowed in `locals`, found `{}`", b.ident.value().as_str()))
                                                .at(header_span(file, b), "not allowed here")
                                                .with_help("locals holds attributes only: `name = expression`"),
                                        ),
                                    }
                                }
                            }
                            continue;
                        }
                        if !self.check_labels(file, block, nlabels) {
                            continue;
                        }
                        let Some(decl) = self.decl(file, block, keyword) else {
                            continue;
                        };
                        let key = match keyword {
                            "provider" => None,
                            "coffer" => Some(("coffer".to_string(), String::new())),
                            _ => Some((keyword.to_string(), decl.name.clone())),
                        };
                        if let Some(key) = key {
                            if let Some(first) = seen.get(&key) {
                                let what = if keyword == "coffer" {
                                    "the `coffer` block".to_string()
                                } else {
                                    format!("{keyword} `{}`", decl.name)
                                };
                                self.duplicate(&what, &decl, first.clone());
                                continue;
                            }
                            seen.insert(key, decl.name_span.clone());
                        }
                        match keyword {
                            "coffer" => c.coffer.push(decl),
                            "provider" => c.providers.push(decl),
                            "variable" => c.variables.push(decl),
                            "vault" => c.vaults.push(decl),
                            "selection" => c.selections.push(decl),
                            "directory" => c.directories.push(decl),
                            "efs_mount" => c.efs_mounts.push(decl),
                            "legal_hold" => c.legal_holds.push(decl),
                            "restore_test" => c.restore_tests.push(decl),
                            "framework" => c.frameworks.push(decl),
                            "notification" => c.notifications.push(decl),
                            _ => {
                                let rules = self.collect_rules(file, block, &decl.name);
                                c.plans.push(PlanDecl { decl, rules });
                            }
                        }
                    }
                }
            }
        }
        // locals: duplicates across blocks and files
        let mut first_local: BTreeMap<String, Span> = BTreeMap::new();
        let mut locals = Vec::new();
        for l in c.locals {
            let name = l.attr.key.value().as_str().to_string();
            if let Some(first) = first_local.get(&name) {
                self.push(
                    Diagnostic::error(
                        "coffer::duplicate_name",
                        format!("local value `{name}` is declared more than once"),
                    )
                    .at(l.span.clone(), "declared again here")
                    .with_related(first.clone(), "first declared here")
                    .with_help("each local value needs a unique name across all files"),
                );
            } else {
                first_local.insert(name, l.span.clone());
                locals.push(l);
            }
        }
        c.locals = locals;
        c
    }

    pub(super) fn collect_rules<'a>(
        &mut self,
        file: FileId,
        plan: &'a Block,
        plan_name: &str,
    ) -> Vec<Decl<'a>> {
        let mut rules = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for b in plan.body.blocks() {
            if b.ident.value().as_str() != "rule" || !self.check_labels(file, b, 1) {
                continue;
            }
            let Some(decl) = self.decl(file, b, "rule") else {
                continue;
            };
            if let Some(first) = seen.get(&decl.name) {
                let what = format!("rule `{}` in plan `{plan_name}`", decl.name);
                self.duplicate(&what, &decl, first.clone());
                continue;
            }
            seen.insert(decl.name.clone(), decl.name_span.clone());
            rules.push(decl);
        }
        rules
    }

    /// Reports `what` (e.g. "vault `main`") as declared twice.
    pub(super) fn duplicate(&mut self, what: &str, decl: &Decl<'_>, first: Span) {
        self.push(
            Diagnostic::error(
                "coffer::duplicate_name",
                format!("{what} is declared more than once"),
            )
            .at(decl.name_span.clone(), "declared again here")
            .with_related(first, "first declared here")
            .with_help("names must be unique; rename or remove one of the two"),
        );
    }

    /// Builds a declaration and checks its name against the naming rules.
    pub(super) fn decl<'a>(
        &mut self,
        file: FileId,
        block: &'a Block,
        keyword: &str,
    ) -> Option<Decl<'a>> {
        let header = header_span(file, block);
        let Some(label) = block.labels.first() else {
            return Some(Decl {
                file,
                block,
                name: String::new(),
                name_span: header.clone(),
                header,
            });
        };
        let name = label.as_str().to_string();
        let name_span = span_of(file, label.span());
        let checked = matches!(
            keyword,
            "vault"
                | "plan"
                | "rule"
                | "selection"
                | "directory"
                | "restore_test"
                | "framework"
                | "notification"
        );
        if checked && !names::is_valid(keyword, &name) {
            self.push(
                Diagnostic::error(
                    "coffer::invalid_name",
                    format!("invalid {keyword} name `{name}`"),
                )
                .at(name_span.clone(), "invalid name")
                .with_help(format!("{keyword} names are {}", names::rule_text(keyword))),
            );
        }
        if keyword == "variable" && !is_identifier(&name) {
            self.push(
                Diagnostic::error("coffer::invalid_name", format!("invalid variable name `{name}`"))
                    .at(name_span.clone(), "invalid name")
                    .with_help("variable names start with a letter or `_` and contain letters, digits, `_` and `-`"),
            );
        }
        Some(Decl {
            file,
            block,
            name,
            name_span,
            header,
        })
    }

    pub(super) fn check_labels(&mut self, file: FileId, block: &Block, expected: usize) -> bool {
        let keyword = block.ident.value().as_str();
        if block.labels.len() == expected {
            return true;
        }
        let (message, help) = if expected == 0 {
            (
                format!("`{keyword}` blocks take no label"),
                format!("write `{keyword} {{ … }}`"),
            )
        } else if block.labels.is_empty() {
            (
                format!("`{keyword}` block needs a name"),
                format!("write `{keyword} \"name\" {{ … }}`"),
            )
        } else {
            (
                format!(
                    "`{keyword}` block takes exactly one name, found {}",
                    block.labels.len()
                ),
                format!("write `{keyword} \"name\" {{ … }}`"),
            )
        };
        self.push(
            Diagnostic::error("coffer::wrong_labels", message)
                .at(header_span(file, block), "here")
                .with_help(help),
        );
        false
    }

    pub(super) fn unknown_block<'a>(
        &mut self,
        file: FileId,
        block: &Block,
        place: &str,
        allowed: impl Iterator<Item = &'a str> + Clone,
    ) {
        let keyword = block.ident.value().as_str();
        let mut d = Diagnostic::error(
            "coffer::unknown_block",
            format!("unknown block `{keyword}` in {place}"),
        )
        .at(span_of(file, block.ident.span()), "unknown block type");
        d = match did_you_mean(keyword, allowed.clone()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => {
                let list: Vec<&str> = allowed.collect();
                if list.is_empty() {
                    d.with_help(format!("{place} takes no blocks"))
                } else {
                    d.with_help(format!("blocks allowed here: {}", list.join(", ")))
                }
            }
        };
        self.push(d);
    }

    pub(super) fn declare(&mut self, c: &Collected<'_>) {
        let names = |v: &[Decl<'_>]| v.iter().map(|d| d.name.clone()).collect::<BTreeSet<_>>();
        self.declared = Declared {
            variables: names(&c.variables),
            locals: c
                .locals
                .iter()
                .map(|l| l.attr.key.value().as_str().to_string())
                .collect(),
            vaults: names(&c.vaults),
            plans: c.plans.iter().map(|p| p.decl.name.clone()).collect(),
            selections: names(&c.selections),
            directories: names(&c.directories),
        };
    }
}
