//! Lowering: parses configuration texts with hcl-edit (keeping spans), checks blocks and
//! attributes against the language's schema, evaluates variables, locals and attributes in
//! dependency order, and builds the typed [`Config`]. Every problem becomes a diagnostic and
//! lowering carries on, so one run reports all of them.
//!
//! One file per concern, as Terraform's `internal/configs` has one per block kind: this module
//! holds the entry point and the lowering's shared state; `collect` gathers the blocks,
//! `references` builds the dependency graph, `values` evaluates variables and locals,
//! `attrs` reads typed attributes, one file per block kind (`backend`, `provider`,
//! `vault`, `plan_rule`, `selection`, `directory`, `legal_hold`, `restore_test`, `framework`, `notification`) lowers it, and `checks` checks
//! across objects.

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

use checks::{is_identifier, is_kms_arn, is_region_name, is_storage_url};
use references::object_dependencies;

mod attrs;
mod backend;
mod checks;
mod collect;
mod directory;
mod framework;
mod legal_hold;
mod notification;
mod plan_rule;
mod provider;
mod references;
mod restore_test;
mod selection;
mod values;
mod vault;

#[cfg(test)]
mod tests;

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
    legal_holds: Vec<Decl<'a>>,
    restore_tests: Vec<Decl<'a>>,
    frameworks: Vec<Decl<'a>>,
    notifications: Vec<Decl<'a>>,
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
    ("legal_hold", 1),
    ("restore_test", 1),
    ("framework", 1),
    ("notification", 1),
];

/// Loads and lowers a configuration. Pure: all texts and values come from `input`.
pub fn load(input: ConfigInput) -> Loaded {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut parsed: Vec<(FileId, Body)> = Vec::new();
    for file in input.files {
        let text = file.text.clone();
        let id = sources.add(file);
        match parse(id, &text) {
            Ok(body) => parsed.push((id, body)),
            Err(d) => diags.push(*d),
        }
    }
    let mut var_files: Vec<(FileId, Option<Body>)> = Vec::new();
    for file in input.var_files {
        let text = file.text.clone();
        let id = sources.add(file);
        match parse(id, &text) {
            Ok(body) => var_files.push((id, Some(body))),
            Err(d) => {
                diags.push(*d);
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

/// Parses one file, after refusing nesting deeper than [`nesting::MAX_DEPTH`], or templates
/// deeper than [`nesting::MAX_TEMPLATE_DEPTH`] (which the parser would take exponential time
/// over).
fn parse(file: FileId, text: &str) -> Result<Body, Box<Diagnostic>> {
    let limit = super::nesting::MAX_DEPTH;
    if let Some(deep) = super::nesting::too_deep(text, limit) {
        return Err(Box::new(
            Diagnostic::error(
                "coffer::nesting_too_deep",
                format!("{} here", deep.message(limit)),
            )
            .at(Span::new(file, deep.at..deep.at + 1), "too deep")
            .with_help("close the blocks, expressions and strings opened before this point; no configuration needs to nest this deeply"),
        ));
    }
    hcl_edit::parser::parse_body(text).map_err(|e| Box::new(syntax_error(file, text, &e)))
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
    /// The text of a file, for number literals read at full precision.
    fn source_text(&self, file: FileId) -> &'s str {
        self.sources.get(file).map_or("", |f| &f.text)
    }

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
            if let Some(vault) = self.lower_vault(v, &config.providers) {
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
        for d in &collected.restore_tests {
            if let Some(t) = self.lower_restore_test(d) {
                config.restore_tests.insert(t.name.clone(), t);
            }
        }
        for d in &collected.legal_holds {
            if let Some(h) = self.lower_legal_hold(d) {
                config.legal_holds.insert(h.name.clone(), h);
            }
        }
        for d in &collected.frameworks {
            if let Some(f) = self.lower_framework(d) {
                config.frameworks.insert(f.name.clone(), f);
            }
        }
        for d in &collected.notifications {
            if let Some(n) = self.lower_notification(d) {
                config.notifications.insert(n.name.clone(), n);
            }
        }
        self.check_vault_locks(&config);
        self.check_cold_storage(&config);
        self.check_vault_regions(&config);
        config.dependencies = object_dependencies(&graph);
        config
    }
}
