//! Lowering: parses configuration texts with hcl-edit (keeping spans), checks blocks and
//! attributes against the language's schema, evaluates variables, locals and attributes in
//! dependency order, and builds the typed [`Config`]. Every problem becomes a diagnostic and
//! lowering carries on, so one run reports all of them.

use super::duration::Duration;
use super::eval::{self, Declared, RefTarget, Scope};
use super::model::*;
use super::names;
use super::suggest::did_you_mean;
use super::variables::{self, VarType};
use crate::address::Address;
use crate::diag::{Diagnostic, Diagnostics, FileId, SourceFile, Sources, Span};
use crate::graph::DependencyGraph;
use crate::schedule::{frequency, occurrence, Cron, Schedule};
use crate::value::Value;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span as _;
use std::collections::{BTreeMap, BTreeSet};

/// Everything configuration loading needs, read by the caller.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    /// The configuration files (`*.hcl`), in name order.
    pub files: Vec<SourceFile>,
    /// Variable files (`-var-file`), in command-line order; HCL attributes `name = value`.
    pub var_files: Vec<SourceFile>,
    /// `-var name=value` flags, in command-line order.
    pub cli_vars: Vec<(String, String)>,
    /// `COFFER_VAR_<name>` environment variables as (name, value).
    pub env_vars: Vec<(String, String)>,
    /// The current time, for schedule checks that speak of upcoming runs.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The result of loading: the sources (for rendering diagnostics), the configuration if it
/// has no errors, and every diagnostic, sorted.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub sources: Sources,
    pub config: Option<Config>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A node of the configuration's reference graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Node {
    Object(Address),
    Local(String),
    Variable(String),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Object(a) => write!(f, "{a}"),
            Node::Local(n) => write!(f, "local.{n}"),
            Node::Variable(n) => write!(f, "var.{n}"),
        }
    }
}

/// A labelled top-level (or nested) block with its validated name.
struct Decl<'a> {
    file: FileId,
    block: &'a Block,
    name: String,
    name_span: Span,
    header: Span,
}

impl<'a> Decl<'a> {
    /// The block's body, called `keyword "name"` in messages.
    fn view(&self, keyword: &str) -> View<'a> {
        View {
            file: self.file,
            body: &self.block.body,
            what: format!("{keyword} \"{}\"", self.name),
            header: self.header.clone(),
        }
    }
}

struct LocalDecl<'a> {
    file: FileId,
    attr: &'a Attribute,
    span: Span,
}

struct PlanDecl<'a> {
    decl: Decl<'a>,
    rules: Vec<Decl<'a>>,
}

#[derive(Default)]
struct Collected<'a> {
    coffer: Vec<Decl<'a>>,
    providers: Vec<Decl<'a>>,
    variables: Vec<Decl<'a>>,
    locals: Vec<LocalDecl<'a>>,
    vaults: Vec<Decl<'a>>,
    plans: Vec<PlanDecl<'a>>,
    selections: Vec<Decl<'a>>,
    directories: Vec<Decl<'a>>,
    efs_mounts: Vec<Decl<'a>>,
}

const TOP_LEVEL: &[(&str, usize)] = &[
    ("coffer", 0),
    ("provider", 1),
    ("variable", 1),
    ("locals", 0),
    ("vault", 1),
    ("plan", 1),
    ("selection", 1),
    ("directory", 1),
    ("efs_mount", 1),
];

/// Loads and lowers a configuration. Pure: all texts and values come from `input`.
pub fn load(input: ConfigInput) -> Loaded {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut parsed: Vec<(FileId, Body)> = Vec::new();
    for file in input.files {
        let text = file.text.clone();
        let id = sources.add(file);
        match hcl_edit::parser::parse_body(&text) {
            Ok(body) => parsed.push((id, body)),
            Err(e) => diags.push(syntax_error(id, &text, &e)),
        }
    }
    let mut var_files: Vec<(FileId, Option<Body>)> = Vec::new();
    for file in input.var_files {
        let text = file.text.clone();
        let id = sources.add(file);
        match hcl_edit::parser::parse_body(&text) {
            Ok(body) => var_files.push((id, Some(body))),
            Err(e) => {
                diags.push(syntax_error(id, &text, &e));
                var_files.push((id, None));
            }
        }
    }
    let now = input.now;
    let mut lowerer = Lowerer {
        now,
        sources: &sources,
        diags,
        vars: BTreeMap::new(),
        locals: BTreeMap::new(),
        declared: Declared::default(),
    };
    let config = lowerer.run(&parsed, &var_files, &input.cli_vars, &input.env_vars);
    let diagnostics = lowerer.diags.into_sorted();
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Loaded {
        sources,
        config: if has_errors { None } else { Some(config) },
        diagnostics,
    }
}

fn syntax_error(file: FileId, text: &str, e: &hcl_edit::parser::Error) -> Diagnostic {
    // hcl-edit may report an offset inside a multi-byte character; start at its first byte
    let mut offset = e.location().offset().min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let end = text[offset..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8());
    let message = e.message().to_string();
    let help = if message.contains("expected") {
        "check for a missing or extra brace, bracket, quote, comma or `=` at or just before this point"
    } else {
        "HCL blocks look like `vault \"name\" { … }` and attributes like `key = value`"
    };
    Diagnostic::error("coffer::syntax_error", format!("syntax error: {message}"))
        .at(Span::new(file, offset..end), "here")
        .with_help(help)
}

fn span_of(file: FileId, s: Option<std::ops::Range<usize>>) -> Span {
    Span::new(file, s.unwrap_or(0..0))
}

/// The span of a block's keyword and labels (`vault "default"`).
fn header_span(file: FileId, block: &Block) -> Span {
    let start = block.ident.span().map_or(0, |s| s.start);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .or_else(|| block.ident.span())
        .map_or(start, |s| s.end);
    Span::new(file, start..end)
}

struct Lowerer<'s> {
    now: chrono::DateTime<chrono::Utc>,
    sources: &'s Sources,
    diags: Diagnostics,
    declared: Declared,
    vars: BTreeMap<String, Value>,
    locals: BTreeMap<String, Value>,
}

/// One block body being lowered, with what to call it in messages.
struct View<'b> {
    file: FileId,
    body: &'b Body,
    /// e.g. `vault "default"` or `lifecycle block`
    what: String,
    header: Span,
}

impl<'s> Lowerer<'s> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn run(
        &mut self,
        parsed: &[(FileId, Body)],
        var_files: &[(FileId, Option<Body>)],
        cli_vars: &[(String, String)],
        env_vars: &[(String, String)],
    ) -> Config {
        let collected = self.collect(parsed);
        self.declare(&collected);
        let graph = self.build_graph(&collected);
        let poisoned = self.report_cycles(&graph, &collected);
        self.lower_variables(&collected, var_files, cli_vars, env_vars);
        self.lower_locals(&collected, &graph, &poisoned);

        let mut config = Config::default();
        if let Some(c) = collected.coffer.first() {
            if let Some(b) = self.lower_coffer(c) {
                config.backend = b;
            }
        }
        for p in &collected.providers {
            if let Some(p) = self.lower_provider(p, &config.providers) {
                config.providers.push(p);
            }
        }
        for v in &collected.vaults {
            if let Some(vault) = self.lower_vault(v) {
                config.vaults.insert(vault.name.clone(), vault);
            }
        }
        for p in &collected.plans {
            if let Some(plan) = self.lower_plan(p) {
                config.plans.insert(plan.name.clone(), plan);
            }
        }
        for s in &collected.selections {
            if let Some(sel) = self.lower_selection(s) {
                config.selections.insert(sel.name.clone(), sel);
            }
        }
        for d in &collected.directories {
            if let Some(dir) = self.lower_directory(d) {
                config.directories.insert(dir.name.clone(), dir);
            }
        }
        for d in &collected.efs_mounts {
            if let Some(m) = self.lower_efs_mount(d) {
                config.efs_mounts.insert(m.name.clone(), m);
            }
        }
        self.check_vault_locks(&config);
        config.dependencies = object_dependencies(&graph);
        config
    }

    // -----------------------------------------------------------------------------------------
    // collection of declarations

    fn collect<'a>(&mut self, parsed: &'a [(FileId, Body)]) -> Collected<'a> {
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

    fn collect_rules<'a>(
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
    fn duplicate(&mut self, what: &str, decl: &Decl<'_>, first: Span) {
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
    fn decl<'a>(&mut self, file: FileId, block: &'a Block, keyword: &str) -> Option<Decl<'a>> {
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
            "vault" | "plan" | "rule" | "selection" | "directory"
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

    fn check_labels(&mut self, file: FileId, block: &Block, expected: usize) -> bool {
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

    fn unknown_block<'a>(
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

    fn declare(&mut self, c: &Collected<'_>) {
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

    // -----------------------------------------------------------------------------------------
    // graph and cycles

    fn build_graph(&self, c: &Collected<'_>) -> DependencyGraph<Node> {
        let mut g = DependencyGraph::new();
        let declared = &self.declared;
        let exists = |t: &RefTarget| match t {
            RefTarget::Variable(n) => declared.variables.contains(n),
            RefTarget::Local(n) => declared.locals.contains(n),
            RefTarget::Object(Address::Vault(n)) => declared.vaults.contains(n),
            RefTarget::Object(Address::Plan(n)) => declared.plans.contains(n),
            RefTarget::Object(Address::Selection(n)) => declared.selections.contains(n),
            RefTarget::Object(Address::Directory(n)) => declared.directories.contains(n),
            RefTarget::Object(Address::Rule { .. }) => false,
        };
        let to_node = |t: RefTarget| match t {
            RefTarget::Variable(n) => Node::Variable(n),
            RefTarget::Local(n) => Node::Local(n),
            RefTarget::Object(a) => Node::Object(a),
        };
        let add_body = |g: &mut DependencyGraph<Node>, node: Node, body: &Body| {
            g.add_node(node.clone());
            for expr in body_expressions(body) {
                for (target, _) in eval::references(expr) {
                    if exists(&target) {
                        g.add_dependency(node.clone(), to_node(target));
                    }
                }
            }
        };
        for v in &c.variables {
            g.add_node(Node::Variable(v.name.clone()));
        }
        for l in &c.locals {
            let node = Node::Local(l.attr.key.value().as_str().to_string());
            g.add_node(node.clone());
            for (target, _) in eval::references(&l.attr.value) {
                if exists(&target) {
                    g.add_dependency(node.clone(), to_node(target));
                }
            }
        }
        for v in &c.vaults {
            add_body(
                &mut g,
                Node::Object(Address::Vault(v.name.clone())),
                &v.block.body,
            );
        }
        for p in &c.plans {
            let plan = Address::Plan(p.decl.name.clone());
            // the plan's own attributes (rules are separate objects)
            g.add_node(Node::Object(plan.clone()));
            for attr in p.decl.block.body.attributes() {
                for (target, _) in eval::references(&attr.value) {
                    if exists(&target) {
                        g.add_dependency(Node::Object(plan.clone()), to_node(target));
                    }
                }
            }
            for r in &p.rules {
                let rule = Node::Object(Address::Rule {
                    plan: p.decl.name.clone(),
                    rule: r.name.clone(),
                });
                add_body(&mut g, rule.clone(), &r.block.body);
                g.add_dependency(rule, Node::Object(plan.clone()));
            }
        }
        for s in &c.selections {
            add_body(
                &mut g,
                Node::Object(Address::Selection(s.name.clone())),
                &s.block.body,
            );
        }
        for d in &c.directories {
            add_body(
                &mut g,
                Node::Object(Address::Directory(d.name.clone())),
                &d.block.body,
            );
        }
        g
    }

    /// Reports every dependency cycle; returns the members, which are not evaluated.
    fn report_cycles(&mut self, g: &DependencyGraph<Node>, c: &Collected<'_>) -> BTreeSet<Node> {
        let mut spans: BTreeMap<Node, Span> = BTreeMap::new();
        for l in &c.locals {
            spans.insert(
                Node::Local(l.attr.key.value().as_str().to_string()),
                l.span.clone(),
            );
        }
        let objects = c
            .vaults
            .iter()
            .map(|d| (Address::Vault(d.name.clone()), d))
            .chain(
                c.plans
                    .iter()
                    .map(|p| (Address::Plan(p.decl.name.clone()), &p.decl)),
            )
            .chain(c.plans.iter().flat_map(|p| {
                p.rules.iter().map(|r| {
                    (
                        Address::Rule {
                            plan: p.decl.name.clone(),
                            rule: r.name.clone(),
                        },
                        r,
                    )
                })
            }))
            .chain(
                c.selections
                    .iter()
                    .map(|d| (Address::Selection(d.name.clone()), d)),
            )
            .chain(
                c.directories
                    .iter()
                    .map(|d| (Address::Directory(d.name.clone()), d)),
            );
        for (addr, d) in objects {
            spans.insert(Node::Object(addr), d.name_span.clone());
        }
        let mut poisoned = BTreeSet::new();
        for cycle in g.cycles() {
            let mut path: Vec<String> = cycle.iter().map(ToString::to_string).collect();
            path.push(cycle[0].to_string());
            let first = &cycle[0];
            let mut d = Diagnostic::error(
                "coffer::dependency_cycle",
                format!("dependency cycle: {}", path.join(" → ")),
            );
            if let Some(s) = spans.get(first) {
                d = d.at(s.clone(), format!("{first} is part of the cycle"));
            }
            for member in cycle.iter().skip(1) {
                if let Some(s) = spans.get(member) {
                    d = d.with_related(s.clone(), format!("{member} is part of the cycle"));
                }
            }
            d = d.with_help("break the cycle by removing one of these references");
            self.push(d);
            poisoned.extend(cycle);
        }
        poisoned
    }

    // -----------------------------------------------------------------------------------------
    // variables and locals

    fn empty_scope<'a>(
        &'a self,
        file: FileId,
        no_locals: &'a BTreeMap<String, Value>,
        declared: &'a Declared,
    ) -> Scope<'a> {
        Scope::new(file, declared, no_locals, no_locals)
    }

    fn lower_variables(
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
    fn validate_variable(&mut self, v: &Decl<'_>, value: &Value) -> bool {
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
            let mut scope = Scope::new(v.file, &declared, &single, &empty);
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

    fn lower_locals(
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
                let mut scope = Scope::new(l.file, &self.declared, &self.vars, &self.locals);
                eval::eval(&l.attr.value, &mut scope, &mut diags)
            };
            self.diags.extend(diags);
            if let Ok(v) = r {
                self.locals.insert(name, v);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // attribute access

    /// Reports unknown or repeated attributes and blocks in a body.
    fn check_body(&mut self, view: &View<'_>, attrs: &[&str], blocks: &[&str]) {
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

    fn missing(&mut self, view: &View<'_>, name: &str, example: &str) {
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
    fn value(&mut self, view: &View<'_>, name: &str) -> Option<(Value, Span, &'static str)> {
        let attr = view.body.get_attribute(name)?;
        let span = span_of(view.file, attr.value.span());
        let mut diags = Diagnostics::default();
        let r = {
            let mut scope = Scope::new(view.file, &self.declared, &self.vars, &self.locals);
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

    fn wrong_type(&mut self, view: &View<'_>, name: &str, expected: &str, got: &Value, span: Span) {
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
    fn element_wrong_type(
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

    fn string(&mut self, view: &View<'_>, name: &str) -> Option<(String, Span)> {
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

    fn required_string(
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

    fn bool(&mut self, view: &View<'_>, name: &str) -> Option<bool> {
        let (v, span, _) = self.value(view, name)?;
        match v {
            Value::Bool(b) => Some(b),
            other => {
                self.wrong_type(view, name, "a bool (true or false)", &other, span);
                None
            }
        }
    }

    fn string_map(&mut self, view: &View<'_>, name: &str) -> Tags {
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

    fn string_list(&mut self, view: &View<'_>, name: &str) -> Vec<String> {
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

    /// `any_tag = { Key = ["a", "b"] }`; a single string counts as a one-element list.
    fn string_list_map(&mut self, view: &View<'_>, name: &str) -> BTreeMap<String, Vec<String>> {
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
    fn duration(&mut self, view: &View<'_>, name: &str) -> Option<(Duration, Span)> {
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
    fn inner_span(
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
    fn reference(
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
    fn single_block<'b>(&mut self, view: &View<'b>, name: &str) -> Option<&'b Block> {
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

    // -----------------------------------------------------------------------------------------
    // blocks

    fn lower_coffer(&mut self, d: &Decl<'_>) -> Option<Backend> {
        let view = View {
            file: d.file,
            body: &d.block.body,
            what: "the `coffer` block".into(),
            header: d.header.clone(),
        };
        self.check_body(&view, &[], &["backend"]);
        let mut backend = None;
        for b in d
            .block
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "backend")
        {
            if backend.is_some() {
                self.push(
                    Diagnostic::error(
                        "coffer::duplicate_block",
                        "only one `backend` block is allowed",
                    )
                    .at(header_span(d.file, b), "repeated here"),
                );
                continue;
            }
            if !self.check_labels(d.file, b, 1) {
                continue;
            }
            let kind = b.labels[0].as_str();
            let bview = View {
                file: d.file,
                body: &b.body,
                what: format!("backend \"{kind}\""),
                header: header_span(d.file, b),
            };
            match kind {
                "local" => {
                    self.check_body(&bview, &["path"], &[]);
                    let path = self
                        .string(&bview, "path")
                        .map(|(s, _)| s)
                        .unwrap_or_else(|| ".coffer".into());
                    backend = Some(Backend::Local { path });
                }
                other => {
                    let mut diag = Diagnostic::error(
                        "coffer::unsupported_backend",
                        format!("unsupported backend `{other}`"),
                    )
                    .at(span_of(d.file, b.labels[0].span()), "not available");
                    diag = match did_you_mean(other, ["local"]) {
                        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                        None => diag.with_help("this version supports the `local` backend (state and catalog in a directory)"),
                    };
                    self.push(diag);
                }
            }
        }
        backend
    }

    fn lower_provider(&mut self, d: &Decl<'_>, existing: &[Provider]) -> Option<Provider> {
        let view = d.view("provider");
        if d.name != "aws" {
            let mut diag = Diagnostic::error(
                "coffer::unknown_provider",
                format!("unknown provider `{}`", d.name),
            )
            .at(d.name_span.clone(), "not a provider");
            diag = diag.with_help(match did_you_mean(&d.name, ["aws"]) {
                Some(_) => "did you mean `aws`?".to_string(),
                None => "the only provider is \"aws\"".to_string(),
            });
            self.push(diag);
            return None;
        }
        self.check_body(&view, &["region", "profile", "alias"], &[]);
        let region = self.string(&view, "region");
        if let Some((r, span)) = &region {
            if !is_region_name(r) {
                let s = span.clone();
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_region",
                        format!("`{r}` is not an AWS region name"),
                    )
                    .at(s, "not a region")
                    .with_help("region names look like `us-east-1` or `eu-central-2`"),
                );
            }
        }
        let profile = self.string(&view, "profile").map(|(s, _)| s);
        let alias = self.string(&view, "alias").map(|(s, _)| s);
        if let Some(first) = existing
            .iter()
            .find(|p| p.name == d.name && p.alias == alias)
        {
            let what = match &alias {
                Some(a) => format!("provider \"aws\" with alias `{a}` is declared more than once"),
                None => "provider \"aws\" without an alias is declared more than once".to_string(),
            };
            self.push(
                Diagnostic::error("coffer::duplicate_name", what)
                    .at(d.header.clone(), "declared again here")
                    .with_related(first.span.clone(), "first declared here")
                    .with_help("give additional providers an `alias`"),
            );
            return None;
        }
        Some(Provider {
            name: d.name.clone(),
            alias,
            region: region.map(|(s, _)| s),
            profile,
            span: d.header.clone(),
        })
    }

    fn lower_vault(&mut self, d: &Decl<'_>) -> Option<Vault> {
        let view = d.view("vault");
        self.check_body(
            &view,
            &[
                "storage",
                "kms_key_arn",
                "force_destroy",
                "password_env",
                "password_file",
                "tags",
            ],
            &["lock"],
        );
        let storage = self.string(&view, "storage");
        if let Some((s, span)) = &storage {
            if !is_storage_url(s) {
                let span = span.clone();
                self.push(
                    Diagnostic::error("coffer::invalid_storage", format!("unsupported storage location `{s}`"))
                        .at(span, "not a storage URL")
                        .with_help("use `file://PATH` (relative paths are relative to the configuration) or `s3://BUCKET/PREFIX`"),
                );
            }
        }
        let kms = self.string(&view, "kms_key_arn");
        if let Some((k, span)) = &kms {
            if !is_kms_arn(k) {
                let span = span.clone();
                self.push(
                    Diagnostic::error("coffer::invalid_arn", format!("`{k}` is not a KMS key ARN"))
                        .at(span, "not a KMS key ARN")
                        .with_help(
                            "expected arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (or alias/NAME)",
                        ),
                );
            }
        }
        let force_destroy = self.bool(&view, "force_destroy").unwrap_or(false);
        let password_env = self.string(&view, "password_env");
        let password_file = self.string(&view, "password_file");
        if let (Some(_), Some((_, span))) = (&password_env, &password_file) {
            let span = span.clone();
            self.push(
                Diagnostic::error(
                    "coffer::conflicting_key_settings",
                    "a vault takes its key from `password_env` or from `password_file`, not both",
                )
                .at(span, "second key setting")
                .with_help("keep one of them"),
            );
        }
        if storage.is_none() {
            if let Some((_, span)) = password_env.as_ref().or(password_file.as_ref()) {
                let span = span.clone();
                self.push(
                    Diagnostic::error(
                        "coffer::key_without_storage",
                        "only a vault with `storage` has a repository key",
                    )
                    .at(span, "no repository to open with it")
                    .with_help("add `storage = \"file://…\"` or remove this setting"),
                );
            }
        }
        let tags = self.string_map(&view, "tags");
        let lock = self
            .single_block(&view, "lock")
            .and_then(|b| self.lower_lock(d.file, b));
        Some(Vault {
            name: d.name.clone(),
            storage: storage.map(|(s, _)| s),
            kms_key_arn: kms.map(|(s, _)| s),
            lock,
            force_destroy,
            password_env: password_env.map(|(s, _)| s),
            password_file: password_file.map(|(s, _)| s),
            tags,
            span: d.name_span.clone(),
        })
    }

    fn lower_lock(&mut self, file: FileId, b: &Block) -> Option<VaultLock> {
        let view = View {
            file,
            body: &b.body,
            what: "lock block".into(),
            header: header_span(file, b),
        };
        self.check_body(
            &view,
            &["mode", "min_retention", "max_retention", "changeable_for"],
            &[],
        );
        let mode = match self.required_string(&view, "mode", "mode = \"governance\"") {
            Some((m, _)) if m == "governance" => Some(LockMode::Governance),
            Some((m, _)) if m == "compliance" => Some(LockMode::Compliance),
            Some((m, span)) => {
                let mut d = Diagnostic::error(
                    "coffer::invalid_value",
                    format!("lock mode must be \"governance\" or \"compliance\", not `{m}`"),
                )
                .at(span, "unknown mode");
                d = d.with_help(match did_you_mean(&m, ["governance", "compliance"]) {
                    Some(s) => format!("did you mean \"{s}\"?"),
                    None => "governance: users with special permissions can change the lock; compliance: nobody can, once changeable_for has passed".into(),
                });
                self.push(d);
                None
            }
            None => None,
        };
        let min = self.duration(&view, "min_retention");
        let max = self.duration(&view, "max_retention");
        let changeable = self.duration(&view, "changeable_for");
        if let (Some((min_d, _)), Some((max_d, max_span))) = (&min, &max) {
            if max_d < min_d {
                let related = min.as_ref().map(|(_, s)| s.clone());
                let mut d = Diagnostic::error(
                    "coffer::invalid_lock",
                    format!("max_retention ({max_d}) is shorter than min_retention ({min_d})"),
                )
                .at(max_span.clone(), "shorter than the minimum")
                .with_help("max_retention must be at least min_retention");
                if let Some(r) = related {
                    d = d.with_related(r, "minimum set here");
                }
                self.push(d);
            }
        }
        if let Some((min_d, span)) = &min {
            if min_d.minutes() < 24 * 60 {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lock",
                        format!("min_retention must be at least 1 day, not {min_d}"),
                    )
                    .at(span.clone(), "too short")
                    .with_help("AWS Backup Vault Lock counts retention in whole days, from 1 day"),
                );
            }
        }
        if let Some((max_d, span)) = &max {
            if max_d.days() > 36500 {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lock",
                        format!(
                            "max_retention must be at most 100 years (36500 days), not {max_d}"
                        ),
                    )
                    .at(span.clone(), "too long"),
                );
            }
        }
        match (mode, &changeable) {
            (Some(LockMode::Governance), Some((_, span))) => self.push(
                Diagnostic::error("coffer::invalid_lock", "changeable_for applies only to compliance mode")
                    .at(span.clone(), "not used in governance mode")
                    .with_help("remove changeable_for, or set mode = \"compliance\""),
            ),
            (Some(LockMode::Compliance), Some((c, span))) if c.minutes() < 3 * 24 * 60 => self.push(
                Diagnostic::error("coffer::invalid_lock", format!("changeable_for must be at least 3 days, not {c}"))
                    .at(span.clone(), "too short")
                    .with_help("a compliance lock's grace period lasts 3 days or more, after which nobody can change or delete it"),
            ),
            (Some(LockMode::Compliance), None) => self.push(
                Diagnostic::error("coffer::missing_attribute", "a compliance lock needs `changeable_for`")
                    .at(view.header.clone(), "needs changeable_for")
                    .with_help("add `changeable_for = \"3d\"`: the grace period during which the lock can still be changed or removed"),
            ),
            _ => {}
        }
        Some(VaultLock {
            mode: mode?,
            min_retention: min.map(|(d, _)| d),
            max_retention: max.map(|(d, _)| d),
            changeable_for: changeable.map(|(d, _)| d),
        })
    }

    fn lower_plan(&mut self, p: &PlanDecl<'_>) -> Option<BackupPlan> {
        let d = &p.decl;
        let view = d.view("plan");
        self.check_body(&view, &["tags", "regions"], &["rule"]);
        let tags = self.string_map(&view, "tags");
        let regions = if view.body.get_attribute("regions").is_some() {
            let list = self.string_list(&view, "regions");
            if let Some(attr) = view.body.get_attribute("regions") {
                let span = span_of(view.file, attr.value.span());
                for r in list.iter().filter(|r| !is_region_name(r)) {
                    self.push(
                        Diagnostic::error(
                            "coffer::invalid_region",
                            format!("`{r}` is not an AWS region name"),
                        )
                        .at(span.clone(), "in this list")
                        .with_help("region names look like `us-east-1` or `eu-central-2`"),
                    );
                }
            }
            Some(list)
        } else {
            None
        };
        if p.rules.is_empty()
            && !d
                .block
                .body
                .blocks()
                .any(|b| b.ident.value().as_str() == "rule")
        {
            self.push(
                Diagnostic::warning("coffer::empty_plan", format!("plan `{}` has no rules, so it never backs anything up", d.name))
                    .at(d.name_span.clone(), "no rule blocks")
                    .with_help("add a `rule \"name\" { schedule = \"cron(…)\" target_vault = vault.NAME }` block"),
            );
        }
        let mut rules = BTreeMap::new();
        for r in &p.rules {
            if let Some(rule) = self.lower_rule(&d.name, r) {
                rules.insert(rule.name.clone(), rule);
            }
        }
        Some(BackupPlan {
            name: d.name.clone(),
            tags,
            regions,
            rules,
            span: d.name_span.clone(),
        })
    }

    fn lower_rule(&mut self, plan: &str, d: &Decl<'_>) -> Option<Rule> {
        let view = d.view("rule");
        self.check_body(
            &view,
            &[
                "schedule",
                "timezone",
                "start_window",
                "completion_window",
                "target_vault",
                "recovery_point_tags",
                "allow_more_frequent_than_12h",
            ],
            &["lifecycle", "copy_to"],
        );
        let timezone = self.timezone(&view);
        let allow_frequent = self
            .bool(&view, "allow_more_frequent_than_12h")
            .unwrap_or(false);
        let schedule = self.schedule(
            &view,
            timezone.as_ref().and_then(|(_, tz)| *tz),
            allow_frequent,
        );
        let timezone = timezone.map(|(name, _)| name);
        let start = self.duration(&view, "start_window");
        let completion = self.duration(&view, "completion_window");
        let start_window = start
            .as_ref()
            .map(|(d, _)| d.clone())
            .unwrap_or_else(|| Duration::from_minutes(DEFAULT_START_WINDOW_MINUTES));
        let completion_window = completion
            .as_ref()
            .map(|(d, _)| d.clone())
            .unwrap_or_else(|| Duration::from_minutes(DEFAULT_COMPLETION_WINDOW_MINUTES));
        if let Some((s, span)) = &start {
            if s.minutes() < 60 {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_window",
                        format!("start_window must be at least 1 hour, not {s}"),
                    )
                    .at(span.clone(), "too short")
                    .with_help("a job gets at least an hour to start, as in AWS Backup"),
                );
            }
        }
        if completion_window <= start_window {
            let span = completion
                .as_ref()
                .or(start.as_ref())
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|| view.header.clone());
            self.push(
                Diagnostic::error(
                    "coffer::invalid_window",
                    format!("completion_window ({completion_window}) must be longer than start_window ({start_window})"),
                )
                .at(span, "not longer than the start window")
                .with_help("a job must be able to finish after it starts; make completion_window longer"),
            );
        }
        let target = self.reference(&view, "target_vault", crate::address::Kind::Vault, true);
        let recovery_point_tags = self.string_map(&view, "recovery_point_tags");
        let lifecycle = self
            .single_block(&view, "lifecycle")
            .and_then(|b| self.lower_lifecycle(d.file, b));
        let mut copy_to = Vec::new();
        for b in d
            .block
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "copy_to")
        {
            if !b.labels.is_empty() {
                self.check_labels(d.file, b, 0);
                continue;
            }
            let cview = View {
                file: d.file,
                body: &b.body,
                what: "copy_to block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(&cview, &["vault"], &["lifecycle"]);
            let vault = self.reference(&cview, "vault", crate::address::Kind::Vault, true);
            let lifecycle = self
                .single_block(&cview, "lifecycle")
                .and_then(|lb| self.lower_lifecycle(d.file, lb));
            if let Some((vault, span)) = vault {
                if target.as_ref().is_some_and(|(t, _)| *t == vault) {
                    self.push(
                        Diagnostic::warning(
                            "coffer::copy_to_same_vault",
                            format!(
                                "rule `{}` copies into its own target vault `{vault}`",
                                d.name
                            ),
                        )
                        .at(span, "same as target_vault")
                        .with_help(
                            "copies protect against losing a vault; point copy_to at another vault",
                        ),
                    );
                }
                copy_to.push(CopyAction { vault, lifecycle });
            }
        }
        Some(Rule {
            plan: plan.to_string(),
            name: d.name.clone(),
            schedule: schedule?.0,
            allow_more_frequent_than_12h: allow_frequent,
            timezone,
            start_window,
            completion_window,
            target_vault: target?.0,
            lifecycle,
            recovery_point_tags,
            copy_to,
            span: d.name_span.clone(),
        })
    }

    /// The `timezone` attribute: its name, and the zone if the name is an IANA zone.
    fn timezone(&mut self, view: &View<'_>) -> Option<(String, Option<chrono_tz::Tz>)> {
        let (name, span) = self.string(view, "timezone")?;
        match occurrence::parse_timezone(&name) {
            Some(tz) => Some((name, Some(tz))),
            None => {
                let mut d = Diagnostic::error(
                    "coffer::invalid_timezone",
                    format!("unknown time zone `{name}`"),
                )
                .at(span, "not an IANA time zone");
                d = match did_you_mean(&name, occurrence::timezone_names()) {
                    Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                    None => d.with_help("use an IANA time zone name such as \"UTC\", \"Europe/Paris\" or \"America/New_York\""),
                };
                self.push(d);
                Some((name, None))
            }
        }
    }

    /// The `schedule` attribute: a valid EventBridge cron expression, no more frequent than
    /// every 12 hours unless the rule allows it, that runs at least once more.
    fn schedule(
        &mut self,
        view: &View<'_>,
        tz: Option<chrono_tz::Tz>,
        allow_frequent: bool,
    ) -> Option<(String, Span)> {
        if view.body.get_attribute("schedule").is_none() {
            self.missing(view, "schedule", "schedule = \"cron(0 5 ? * * *)\"");
            return None;
        }
        let (value, span, kind) = self.value(view, "schedule")?;
        let Value::String(text) = value else {
            self.wrong_type(view, "schedule", "a string", &value, span);
            return None;
        };
        let cron = match Cron::parse(&text) {
            Ok(c) => c,
            Err(e) => {
                let inner = self.inner_span(&span, &text, kind, e.range.clone());
                self.push(
                    Diagnostic::error("coffer::invalid_schedule", e.message)
                        .at(inner, e.label)
                        .with_help(e.help),
                );
                return None;
            }
        };
        let schedule = Schedule::new(cron, tz.unwrap_or(chrono_tz::UTC));
        let today = self.now.date_naive();
        if !allow_frequent {
            if let Some(t) = frequency::check(&schedule.cron, frequency::MIN_GAP_MINUTES, today) {
                let gap = if t.gap_minutes % 60 == 0 {
                    format!("{} hours", t.gap_minutes / 60)
                } else {
                    format!("{} minutes", t.gap_minutes)
                };
                self.push(
                    Diagnostic::error(
                        "coffer::schedule_too_frequent",
                        format!(
                            "`{text}` runs more often than every 12 hours: {} and {} are {gap} apart",
                            t.first.format("%Y-%m-%d %H:%M"),
                            t.second.format("%Y-%m-%d %H:%M")
                        ),
                    )
                    .at(span.clone(), format!("runs {gap} apart"))
                    .with_help("AWS Backup rules run at most every 12 hours; space the runs out, or set `allow_more_frequent_than_12h = true` on the rule if you really want this"),
                );
            }
        }
        if schedule.next_after(self.now).is_none() {
            self.push(
                Diagnostic::warning("coffer::schedule_never_runs", format!("`{text}` has no run after {}", self.now.format("%Y-%m-%d %H:%M UTC")))
                    .at(span.clone(), "never runs again")
                    .with_help("check the year field and the day: a day the months lack (such as 30 February) never comes"),
            );
        }
        Some((text, span))
    }

    fn lower_lifecycle(&mut self, file: FileId, b: &Block) -> Option<Lifecycle> {
        let view = View {
            file,
            body: &b.body,
            what: "lifecycle block".into(),
            header: header_span(file, b),
        };
        self.check_body(&view, &["cold_storage_after", "delete_after"], &[]);
        let cold = self.duration(&view, "cold_storage_after");
        let delete = self.duration(&view, "delete_after");
        if let (Some((c, cspan)), Some((d, dspan))) = (&cold, &delete) {
            let min = c.minutes().saturating_add(90 * 24 * 60);
            if d.minutes() < min {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lifecycle",
                        format!("delete_after ({d}) must be at least 90 days after cold_storage_after ({c})"),
                    )
                    .at(dspan.clone(), format!("deletes after {} days", d.days()))
                    .with_related(cspan.clone(), format!("moves to cold storage after {} days", c.days()))
                    .with_help(format!(
                        "points in cold storage are kept at least 90 days; set delete_after to {} days or more, or remove cold_storage_after",
                        c.days() + 90
                    )),
                );
            }
        }
        if delete.as_ref().is_some_and(|(d, _)| d.minutes() < 24 * 60) {
            if let Some((d, span)) = &delete {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lifecycle",
                        format!("delete_after must be at least 1 day, not {d}"),
                    )
                    .at(span.clone(), "too short")
                    .with_help("lifecycle is counted in whole days"),
                );
            }
        }
        Some(Lifecycle {
            cold_storage_after: cold.map(|(d, _)| d),
            delete_after: delete.map(|(d, _)| d),
        })
    }

    fn lower_selection(&mut self, d: &Decl<'_>) -> Option<Selection> {
        let view = d.view("selection");
        self.check_body(
            &view,
            &[
                "plan",
                "any_tag",
                "resources",
                "not_resources",
                "all_resources",
            ],
            &["condition"],
        );
        let plan = self.reference(&view, "plan", crate::address::Kind::Plan, true);
        let all_resources = self.bool(&view, "all_resources").unwrap_or(false);
        let any_tag = self.string_list_map(&view, "any_tag");
        let resources = self.string_list(&view, "resources");
        let not_resources = self.string_list(&view, "not_resources");
        let mut conditions = Conditions::default();
        if let Some(b) = self.single_block(&view, "condition") {
            let cview = View {
                file: d.file,
                body: &b.body,
                what: "condition block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(
                &cview,
                &[
                    "string_equals",
                    "string_not_equals",
                    "string_like",
                    "string_not_like",
                ],
                &[],
            );
            conditions.string_equals = self.string_map(&cview, "string_equals");
            conditions.string_not_equals = self.string_map(&cview, "string_not_equals");
            conditions.string_like = self.string_map(&cview, "string_like");
            conditions.string_not_like = self.string_map(&cview, "string_not_like");
        }
        let has_conditions = !(conditions.string_equals.is_empty()
            && conditions.string_not_equals.is_empty()
            && conditions.string_like.is_empty()
            && conditions.string_not_like.is_empty());
        let criteria = ["any_tag", "resources", "condition"].iter().any(|a| {
            view.body.get_attribute(a).is_some()
                || view.body.blocks().any(|b| b.ident.value().as_str() == *a)
        });
        if !all_resources
            && !criteria
            && any_tag.is_empty()
            && resources.is_empty()
            && !has_conditions
        {
            self.push(
                Diagnostic::error("coffer::selection_without_criteria", format!("selection `{}` says nothing about what it selects", d.name))
                    .at(d.name_span.clone(), "no any_tag, resources or condition")
                    .with_help("add `any_tag = { Key = [\"value\"] }`, `resources = [\"arn:…\"]` or a `condition` block; to protect every resource in the plan's regions, say `all_resources = true`"),
            );
        }
        Some(Selection {
            name: d.name.clone(),
            plan: plan?.0,
            all_resources,
            any_tag,
            resources,
            not_resources,
            conditions,
            span: d.name_span.clone(),
        })
    }

    /// `efs_mount "name" { file_system_id = "fs-…", mount_path = "/mnt/efs" }`: where an EFS
    /// file system is mounted on this machine, for file-level backup.
    fn lower_efs_mount(&mut self, d: &Decl<'_>) -> Option<EfsMount> {
        let view = d.view("efs_mount");
        self.check_body(&view, &["file_system_id", "mount_path"], &[]);
        let id = self.required_string(
            &view,
            "file_system_id",
            "file_system_id = \"fs-0123456789abcdef0\"",
        );
        if let Some((id, span)) = &id {
            let ok = id
                .strip_prefix("fs-")
                .is_some_and(|h| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()));
            if !ok {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("`{id}` is not an EFS file system ID"),
                    )
                    .at(span.clone(), "not fs-…")
                    .with_help("EFS file system IDs look like fs-0123456789abcdef0"),
                );
            }
        }
        let path = self.required_string(&view, "mount_path", "mount_path = \"/mnt/efs\"");
        Some(EfsMount {
            name: d.name.clone(),
            file_system_id: id?.0,
            mount_path: path?.0,
            span: d.name_span.clone(),
        })
    }

    fn lower_directory(&mut self, d: &Decl<'_>) -> Option<Directory> {
        let view = d.view("directory");
        self.check_body(&view, &["path", "tags"], &[]);
        let path = self.required_string(&view, "path", "path = \"./data\"");
        if let Some((p, span)) = &path {
            if p.trim().is_empty() {
                self.push(
                    Diagnostic::error("coffer::invalid_value", "directory path must not be empty")
                        .at(span.clone(), "empty"),
                );
            }
        }
        let tags = self.string_map(&view, "tags");
        Some(Directory {
            name: d.name.clone(),
            path: path?.0,
            tags,
            span: d.name_span.clone(),
        })
    }

    /// A lock's minimum retention wins over everything: rules that would delete points
    /// earlier than the lock allows (or keep them longer than its maximum) are errors.
    fn check_vault_locks(&mut self, config: &Config) {
        for plan in config.plans.values() {
            for rule in plan.rules.values() {
                let mut targets = vec![(rule.target_vault.as_str(), rule.lifecycle.as_ref())];
                targets.extend(
                    rule.copy_to
                        .iter()
                        .map(|c| (c.vault.as_str(), c.lifecycle.as_ref())),
                );
                for (vault, lifecycle) in targets {
                    let Some(lock) = config.vaults.get(vault).and_then(|v| v.lock.as_ref()) else {
                        continue;
                    };
                    let delete_after = lifecycle.and_then(|l| l.delete_after.as_ref());
                    let vspan = config.vaults[vault].span.clone();
                    match (delete_after, &lock.min_retention) {
                        (Some(d), Some(min)) if d < min => self.push(
                            Diagnostic::error(
                                "coffer::lock_violation",
                                format!("rule `{}` deletes points in vault `{vault}` after {d}, before the vault lock's min_retention of {min}", rule.name),
                            )
                            .at(rule.span.clone(), "retention shorter than the lock allows")
                            .with_related(vspan.clone(), "vault with the lock")
                            .with_help("the lock's minimum retention wins: backup jobs with a shorter retention would fail; raise delete_after"),
                        ),
                        _ => {}
                    }
                    if let Some(max) = &lock.max_retention {
                        let too_long = match delete_after {
                            Some(d) => d > max,
                            None => true,
                        };
                        if too_long {
                            let what = delete_after
                                .map_or("keeps points forever".to_string(), |d| {
                                    format!("keeps points for {d}")
                                });
                            self.push(
                                Diagnostic::error(
                                    "coffer::lock_violation",
                                    format!("rule `{}` {what} in vault `{vault}`, beyond the vault lock's max_retention of {max}", rule.name),
                                )
                                .at(rule.span.clone(), "retention longer than the lock allows")
                                .with_related(vspan, "vault with the lock")
                                .with_help("set a lifecycle delete_after no longer than the lock's max_retention"),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Every expression in a body, nested blocks included.
fn body_expressions(body: &Body) -> Vec<&Expression> {
    let mut out = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.push(&a.value),
            Structure::Block(b) => out.extend(body_expressions(&b.body)),
        }
    }
    out
}

/// For each object, the objects it depends on, following references through locals.
fn object_dependencies(graph: &DependencyGraph<Node>) -> BTreeMap<Address, Vec<Address>> {
    fn resolve(
        graph: &DependencyGraph<Node>,
        node: &Node,
        out: &mut BTreeSet<Address>,
        seen: &mut BTreeSet<Node>,
    ) {
        for dep in graph.dependencies_of(node) {
            if !seen.insert(dep.clone()) {
                continue;
            }
            match &dep {
                Node::Object(a) => {
                    out.insert(a.clone());
                }
                Node::Local(_) => resolve(graph, &dep, out, seen),
                Node::Variable(_) => {}
            }
        }
    }
    let mut result = BTreeMap::new();
    let objects: Vec<Address> = graph
        .order()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            if let Node::Object(a) = n {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    for a in objects {
        let mut deps = BTreeSet::new();
        let mut seen = BTreeSet::new();
        resolve(graph, &Node::Object(a.clone()), &mut deps, &mut seen);
        deps.remove(&a);
        result.insert(a, deps.into_iter().collect());
    }
    result
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-3` …
fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `file://PATH` or `s3://BUCKET[/PREFIX]`, each with something after the scheme.
fn is_storage_url(s: &str) -> bool {
    ["file://", "s3://"]
        .iter()
        .any(|scheme| s.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()))
}

fn is_kms_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"))
        && parts[5]
            .split_once('/')
            .is_some_and(|(_, id)| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(text: &str) -> Loaded {
        load(ConfigInput {
            files: vec![SourceFile::new("main.hcl", text)],
            ..Default::default()
        })
    }

    fn config(text: &str) -> Config {
        let l = lower(text);
        assert!(!l.has_errors(), "{:#?}", l.diagnostics);
        l.config.expect("config")
    }

    fn messages(text: &str) -> Vec<String> {
        lower(text)
            .diagnostics
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn lowers_every_block() {
        let c = config(
            r#"
            coffer {
              backend "local" { path = "state-dir" }
            }
            provider "aws" {
              region  = "eu-west-1"
              profile = "backup"
            }
            vault "main" {
              storage     = "file://./v"
              kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/abc"
              lock {
                mode           = "compliance"
                min_retention  = "7d"
                changeable_for = "3d"
              }
            }
            plan "p" {
              rule "r" {
                schedule     = "cron(0 6 ? * 7#1 *)"
                timezone     = "Europe/Paris"
                target_vault = vault.main
                lifecycle {
                  cold_storage_after = "90d"
                  delete_after       = "180d"
                }
              }
            }
            selection "s" {
              plan          = plan.p
              any_tag       = { App = "web", Tier = ["a", "b"] }
              not_resources = ["arn:x"]
              condition {
                string_like = { Name = "prod-*" }
              }
            }
            directory "d" { path = "/srv" }
            "#,
        );
        assert_eq!(
            c.backend,
            Backend::Local {
                path: "state-dir".into()
            }
        );
        assert_eq!(c.providers[0].region.as_deref(), Some("eu-west-1"));
        let lock = c.vaults["main"].lock.as_ref().unwrap();
        assert_eq!(lock.mode, LockMode::Compliance);
        assert_eq!(lock.changeable_for.as_ref().unwrap().days(), 3);
        let rule = &c.plans["p"].rules["r"];
        assert_eq!(rule.timezone.as_deref(), Some("Europe/Paris"));
        assert_eq!(
            rule.lifecycle
                .as_ref()
                .unwrap()
                .delete_after
                .as_ref()
                .unwrap()
                .days(),
            180
        );
        let sel = &c.selections["s"];
        assert_eq!(sel.any_tag["App"], vec!["web"]);
        assert_eq!(sel.any_tag["Tier"], vec!["a", "b"]);
        assert_eq!(sel.conditions.string_like["Name"], "prod-*");
        assert_eq!(c.directories["d"].path, "/srv");
    }

    #[test]
    fn locals_are_evaluated_in_dependency_order_whatever_the_file_order() {
        let c = config(
            r#"
            locals {
              full = "${local.prefix}-${var.env}"
            }
            variable "env" { default = "prod" }
            locals {
              prefix = upper("x")
            }
            vault "main" { tags = { Name = local.full } }
            "#,
        );
        assert_eq!(c.vaults["main"].tags["Name"], "X-prod");
    }

    #[test]
    fn dependencies_follow_references_through_locals() {
        let c = config(
            r#"
            vault "aa" {}
            locals { target = vault.aa }
            plan "p" {
              rule "r" {
                schedule     = "cron(0 5 ? * * *)"
                target_vault = local.target
              }
            }
            "#,
        );
        let rule = Address::Rule {
            plan: "p".into(),
            rule: "r".into(),
        };
        assert_eq!(
            c.dependencies[&rule],
            vec![Address::Vault("aa".into()), Address::Plan("p".into())]
        );
    }

    #[test]
    fn rule_names_are_unique_per_plan_only() {
        let ok = r#"
            vault "v1" {}
            plan "a" {
              rule "r" {
                schedule = "cron(0 5 ? * * *)"
                target_vault = vault.v1
              }
            }
            plan "b" {
              rule "r" {
                schedule = "cron(0 5 ? * * *)"
                target_vault = vault.v1
              }
            }
        "#;
        config(ok);
        let dup = ok.replace("plan \"b\" {", "");
        let dup = dup.replacen("}\n            }\n", "}\n", 1);
        let m = messages(&dup);
        assert!(
            m.iter()
                .any(|m| m == "rule `r` in plan `a` is declared more than once"),
            "{m:?}"
        );
    }

    #[test]
    fn windows_are_checked() {
        let m = messages(
            r#"
            vault "v1" {}
            plan "a" {
              rule "r" {
                schedule          = "cron(0 5 ? * * *)"
                target_vault      = vault.v1
                start_window      = "30m"
                completion_window = "20m"
              }
            }
            "#,
        );
        assert!(
            m.contains(&"start_window must be at least 1 hour, not 30m".to_string()),
            "{m:?}"
        );
        assert!(
            m.contains(
                &"completion_window (20m) must be longer than start_window (30m)".to_string()
            ),
            "{m:?}"
        );
    }

    /// Found by the no-panic property test: hcl-edit reported an error offset inside `𑌈`.
    #[test]
    fn syntax_error_inside_a_multibyte_character_does_not_panic() {
        let l = lower("Í{𑌈");
        assert!(l.has_errors());
        let d = &l.diagnostics[0];
        let span = d.span.as_ref().unwrap();
        assert!("Í{𑌈".is_char_boundary(span.range.start) && "Í{𑌈".is_char_boundary(span.range.end));
    }

    #[test]
    fn warnings_do_not_block_a_configuration() {
        let l = lower("plan \"empty\" {}\n");
        assert!(!l.has_errors());
        assert!(l.config.is_some());
        assert_eq!(
            l.diagnostics[0].message,
            "plan `empty` has no rules, so it never backs anything up"
        );
    }

    #[test]
    fn unsupported_backend_and_provider_are_errors() {
        let m = messages("coffer {\n  backend \"s3\" {}\n}\nprovider \"gcp\" {}\n");
        assert!(m.contains(&"unsupported backend `s3`".to_string()), "{m:?}");
        assert!(m.contains(&"unknown provider `gcp`".to_string()), "{m:?}");
    }

    #[test]
    fn region_names() {
        assert!(is_region_name("us-east-1"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("useast1"));
        assert!(!is_region_name("US-EAST-1"));
        assert!(!is_region_name("us-east-"));
    }

    #[test]
    fn kms_arns() {
        assert!(is_kms_arn(
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab"
        ));
        assert!(is_kms_arn(
            "arn:aws:kms:us-east-1:111122223333:alias/backup"
        ));
        assert!(!is_kms_arn("arn:aws:kms:us-east-1:1111:key/x"));
        assert!(!is_kms_arn("arn:aws:s3:::bucket"));
        assert!(!is_kms_arn("arn:aws:kms:us-east-1:111122223333:key/"));
    }
}
