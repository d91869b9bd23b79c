//! Terraform-style text rendering of a plan: `+` create, `~` update, `-` destroy, `-/+`
//! replace, attribute-level changes with unchanged attributes hidden, multi-line strings
//! as line diffs, and the closing `Plan: N to add, N to change, N to destroy.` line.

use super::Style;
use crate::address::{Address, Kind};
use crate::plan::diff::{element_ops, ElementOp};
use crate::plan::{Action, Change, Plan, Summary};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The closing summary line.
pub fn summary_line(s: &Summary) -> String {
    if s.is_empty() {
        return "No changes. The configuration matches the recorded state.".to_string();
    }
    let mut line = format!(
        "Plan: {} to add, {} to change, {} to destroy.",
        s.add, s.change, s.destroy
    );
    if s.protection_gained > 0 || s.protection_lost > 0 {
        line.push_str(&format!(
            " Protection: {} gained, {} lost.",
            s.protection_gained, s.protection_lost
        ));
    }
    line
}

/// The whole plan as text.
pub fn render_text(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    let changed: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "coffer will perform the following actions:\n");
        for c in changed {
            render_change(&mut out, c, style);
            out.push('\n');
        }
    }
    if let Some(c) = &plan.coverage {
        render_coverage(&mut out, c, style);
    }
    super::forecast::text(&mut out, &plan.recovery_points, style);
    super::drift::text(&mut out, &plan.drift, style);
    for n in &plan.notes {
        let _ = writeln!(out, "{} {n}", style.bold("Note:"));
    }
    if !plan.notes.is_empty() {
        out.push('\n');
    }
    let line = summary_line(&plan.summary);
    let _ = writeln!(
        out,
        "{}",
        if plan.summary.is_empty() {
            style.green(&line)
        } else {
            style.bold(&line)
        }
    );
    out
}

fn resource_label(
    arn: &str,
    t: Option<crate::inventory::ResourceType>,
    name: Option<&str>,
) -> String {
    match (t, name) {
        (Some(t), Some(n)) => format!("{arn} ({t} \"{n}\")"),
        (Some(t), None) => format!("{arn} ({t})"),
        _ => arn.to_string(),
    }
}

fn rules_text(c: &crate::coverage::CoverageChange) -> String {
    if c.rules.is_empty() {
        return " (no rules)".to_string();
    }
    let names: Vec<&str> = c.rules.iter().map(|r| r.name()).collect();
    format!(
        " (rule{} {})",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

fn cause_text(c: &crate::coverage::CoverageChange) -> String {
    match (c.cause, &c.detail) {
        (crate::coverage::Cause::Configuration, _) => "[configuration]".to_string(),
        (crate::coverage::Cause::Drift, Some(d)) => format!("[drift: {d}]"),
        (crate::coverage::Cause::Drift, None) => "[drift]".to_string(),
    }
}

/// The "Protection changes" section: resources gaining and losing protection, selections
/// that match nothing, and resources several plans cover.
fn render_coverage(out: &mut String, c: &crate::plan::CoveragePlan, style: Style) {
    let source = match c.inventory_source {
        crate::plan::InventorySource::Refreshed => "inventory refreshed",
        crate::plan::InventorySource::Recorded => "inventory as recorded at the last apply",
    };
    if c.gained.is_empty() && c.lost.is_empty() {
        let _ = writeln!(
            out,
            "No protection changes ({source}, {} resources).\n",
            c.resources
        );
    } else {
        let _ = writeln!(
            out,
            "{} ({source}, {} resources):\n",
            style.bold("Protection changes"),
            c.resources
        );
        for g in &c.gained {
            let _ = writeln!(
                out,
                "  {} {} gains protection",
                style.green("+"),
                resource_label(&g.arn, g.resource_type, g.name.as_deref())
            );
            let _ = writeln!(
                out,
                "      by {} in {}{} {}",
                g.selection,
                g.plan,
                rules_text(g),
                cause_text(g)
            );
        }
        for l in &c.lost {
            let _ = writeln!(
                out,
                "  {} {} loses protection",
                style.red("-"),
                resource_label(&l.arn, l.resource_type, l.name.as_deref())
            );
            let _ = writeln!(
                out,
                "      from {} in {}{} {}",
                l.selection,
                l.plan,
                rules_text(l),
                cause_text(l)
            );
        }
        out.push('\n');
    }
    for s in &c.unmatched_selections {
        let _ = writeln!(
            out,
            "{} {s} matches no resources.",
            style.yellow("Warning:")
        );
    }
    if !c.unmatched_selections.is_empty() {
        out.push('\n');
    }
    if !c.overlaps.is_empty() {
        let _ = writeln!(out, "Resources covered by several plans:\n");
        for o in &c.overlaps {
            let plans: Vec<String> = o.plans.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "  {} is covered by {}", o.arn, plans.join(" and "));
            if let Some(w) = &o.winner {
                let keep = o
                    .rules
                    .iter()
                    .find(|r| &r.rule == w)
                    .map(|r| r.delete_after.clone().unwrap_or_else(|| "forever".into()))
                    .unwrap_or_default();
                let _ = writeln!(out, "      when their runs coincide, {w} wins (keeps {keep}, the longest retention)");
            }
        }
        out.push('\n');
    }
}

fn block_header(address: &Address) -> String {
    match address.kind() {
        Kind::Rule => format!("rule \"{}\"", address.name()),
        k => format!("{} \"{}\"", k.keyword(), address.name()),
    }
}

fn sign(style: Style, action: Action) -> String {
    match action {
        Action::Create => style.green("+"),
        Action::Delete => style.red("-"),
        Action::Update => style.yellow("~"),
        Action::Replace => format!("{}/{}", style.red("-"), style.green("+")),
        Action::NoOp => " ".into(),
    }
}

fn render_change(out: &mut String, c: &Change, style: Style) {
    let what = match c.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be destroyed",
        Action::NoOp => "is unchanged",
    };
    let _ = writeln!(out, "  {}", style.bold(&format!("# {} {what}", c.address)));
    let pad = if c.action == Action::Replace {
        ""
    } else {
        "  "
    };
    let _ = writeln!(
        out,
        "{pad}{} {} {{",
        sign(style, c.action),
        block_header(&c.address)
    );
    let replacing: BTreeSet<String> = c
        .attribute_changes
        .iter()
        .filter(|a| a.forces_replacement)
        .map(|a| top_key(&a.path))
        .collect();
    let empty = serde_json::Map::new();
    let before = c.before.as_ref().and_then(Value::as_object);
    let after = c.after.as_ref().and_then(Value::as_object);
    let mut r = Renderer {
        out,
        style,
        replacing: &replacing,
    };
    match c.action {
        Action::Create => r.object_entries(None, after, 6, true, false),
        Action::Delete => r.object_entries(before, None, 6, true, false),
        _ => r.object_entries(
            Some(before.unwrap_or(&empty)),
            Some(after.unwrap_or(&empty)),
            6,
            true,
            false,
        ),
    }
    if let Some(p) = &c.schedule_preview {
        render_preview(r.out, p);
    }
    let _ = writeln!(r.out, "    }}");
}

/// The next runs before and after a schedule change, side by side, in each rule's time zone.
fn render_preview(out: &mut String, p: &crate::plan::preview::SchedulePreview) {
    use chrono::{DateTime, Utc};
    let show = |t: DateTime<Utc>, tz: &str| -> String {
        match crate::schedule::occurrence::parse_timezone(tz) {
            Some(z) => t.with_timezone(&z).format("%Y-%m-%d %H:%M %Z").to_string(),
            None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    };
    let short = |t: DateTime<Utc>, start: DateTime<Utc>, tz: &str| -> String {
        let full = show(t, tz);
        let day = show(start, tz);
        if full.get(..10) == day.get(..10) {
            full.get(11..16).unwrap_or(&full).to_string()
        } else {
            full.get(..16).unwrap_or(&full).to_string()
        }
    };
    let describe = |r: Option<&crate::plan::preview::PreviewRun>, tz: &str| -> String {
        match r {
            Some(r) => format!(
                "{} (start by {}, complete by {})",
                show(r.start, tz),
                short(r.start_by, r.start, tz),
                short(r.complete_by, r.start, tz)
            ),
            None => "no run".to_string(),
        }
    };
    let _ = writeln!(out, "        # next runs before -> after this change:");
    let n = p.before.len().max(p.after.len());
    if n == 0 {
        let _ = writeln!(out, "        #   none before, none after");
    }
    for i in 0..n {
        let _ = writeln!(
            out,
            "        #   {} -> {}",
            describe(p.before.get(i), &p.timezone_before),
            describe(p.after.get(i), &p.timezone_after)
        );
    }
}

/// Attributes whose values are user maps (their keys print quoted).
const MAP_ATTRIBUTES: &[&str] = &[
    "tags",
    "recovery_point_tags",
    "any_tag",
    "string_equals",
    "string_not_equals",
    "string_like",
    "string_not_like",
];

fn top_key(path: &str) -> String {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    path[..end].to_string()
}

struct Renderer<'a> {
    out: &'a mut String,
    style: Style,
    replacing: &'a BTreeSet<String>,
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn is_multiline(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.contains('\n'))
}

impl Renderer<'_> {
    fn line(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.out, "{:indent$}{text}", "");
    }

    fn mark(&self, action: Action) -> String {
        sign(self.style, action)
    }

    /// Renders the entries of two maps (either may be absent). `map` says whether these are
    /// the keys of a user map (printed quoted, as Terraform does) or attribute names.
    /// Null attributes of created or destroyed objects are not shown.
    fn object_entries(
        &mut self,
        before: Option<&serde_json::Map<String, Value>>,
        after: Option<&serde_json::Map<String, Value>>,
        indent: usize,
        top: bool,
        map: bool,
    ) {
        let mut keys: Vec<&String> = before
            .iter()
            .flat_map(|m| m.keys())
            .chain(after.iter().flat_map(|m| m.keys()))
            .collect();
        keys.sort();
        keys.dedup();
        let whole = before.is_none() || after.is_none();
        let shown: Vec<(&String, Option<&Value>, Option<&Value>)> = keys
            .into_iter()
            .map(|k| {
                (
                    k,
                    before.and_then(|m| m.get(k)),
                    after.and_then(|m| m.get(k)),
                )
            })
            .filter(|(_, b, a)| {
                if whole {
                    !matches!(
                        (b, a),
                        (Some(Value::Null), None) | (None, Some(Value::Null))
                    )
                } else {
                    b != a
                }
            })
            .collect();
        let hidden = match (before, after) {
            (Some(b), Some(a)) => {
                let all: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
                all.len() - shown.len()
            }
            _ => 0,
        };
        let label = |k: &str| if map { format!("{k:?}") } else { k.to_string() };
        let width = shown
            .iter()
            .map(|(k, _, _)| label(k).chars().count())
            .max()
            .unwrap_or(0);
        for (k, b, a) in shown {
            let key = format!("{:width$}", label(k));
            let note = if top && self.replacing.contains(k.as_str()) {
                format!(" {}", self.style.red("# forces replacement"))
            } else {
                String::new()
            };
            self.entry(
                &key,
                MAP_ATTRIBUTES.contains(&k.as_str()) && !map,
                b,
                a,
                indent,
                &note,
            );
        }
        if hidden > 0 {
            let what = if map { "element" } else { "attribute" };
            self.line(
                indent + 2,
                &format!(
                    "# ({hidden} unchanged {what}{} hidden)",
                    if hidden == 1 { "" } else { "s" }
                ),
            );
        }
    }

    /// One `key = value` entry, in whichever form the change needs.
    fn entry(
        &mut self,
        key: &str,
        map: bool,
        before: Option<&Value>,
        after: Option<&Value>,
        indent: usize,
        note: &str,
    ) {
        match (before, after) {
            (None, Some(a)) => self.whole(Action::Create, key, map, a, indent, note),
            (Some(b), None) => self.whole(Action::Delete, key, map, b, indent, note),
            (Some(Value::Null), Some(a)) if !a.is_null() && (a.is_object() || a.is_array()) => {
                self.whole(Action::Create, key, map, a, indent, note)
            }
            (Some(b), Some(Value::Null)) if b.is_object() || b.is_array() => {
                self.whole(Action::Delete, key, map, b, indent, note)
            }
            (Some(Value::Object(b)), Some(Value::Object(a))) => {
                self.line(
                    indent,
                    &format!("{} {key} = {{{note}", self.mark(Action::Update)),
                );
                self.object_entries(Some(b), Some(a), indent + 4, false, map);
                self.line(indent + 2, "}");
            }
            (Some(Value::Array(b)), Some(Value::Array(a))) => {
                self.line(
                    indent,
                    &format!("{} {key} = [{note}", self.mark(Action::Update)),
                );
                self.array_diff(b, a, indent + 4);
                self.line(indent + 2, "]");
            }
            (Some(b), Some(a)) if is_multiline(b) || is_multiline(a) => {
                self.line(
                    indent,
                    &format!("{} {key} = <<-EOT{note}", self.mark(Action::Update)),
                );
                let bs = b.as_str().map(str::to_string).unwrap_or_else(|| scalar(b));
                let as_ = a.as_str().map(str::to_string).unwrap_or_else(|| scalar(a));
                let diff = TextDiff::from_lines(&bs, &as_);
                for change in diff.iter_all_changes() {
                    let text = change.value().trim_end_matches('\n');
                    let m = match change.tag() {
                        ChangeTag::Delete => self.style.red("-"),
                        ChangeTag::Insert => self.style.green("+"),
                        ChangeTag::Equal => " ".into(),
                    };
                    self.line(indent + 4, &format!("{m} {text}"));
                }
                self.line(indent + 2, "EOT");
            }
            (Some(b), Some(a)) => {
                self.line(
                    indent,
                    &format!(
                        "{} {key} = {} -> {}{note}",
                        self.mark(Action::Update),
                        scalar(b),
                        scalar(a)
                    ),
                );
            }
            (None, None) => {}
        }
    }

    /// A value shown whole, added or removed.
    fn whole(
        &mut self,
        action: Action,
        key: &str,
        map: bool,
        v: &Value,
        indent: usize,
        note: &str,
    ) {
        let m = self.mark(action);
        let tail = if action == Action::Delete && !(v.is_object() || v.is_array()) {
            " -> null"
        } else {
            ""
        };
        match v {
            Value::Object(o) if !o.is_empty() => {
                self.line(indent, &format!("{m} {key} = {{{note}"));
                let (b, a) = if action == Action::Delete {
                    (Some(o), None)
                } else {
                    (None, Some(o))
                };
                self.object_entries(b, a, indent + 4, false, map);
                self.line(indent + 2, "}");
            }
            Value::Array(items) if !items.is_empty() => {
                self.line(indent, &format!("{m} {key} = [{note}"));
                for item in items {
                    self.element(action, item, indent + 4);
                }
                self.line(indent + 2, "]");
            }
            Value::String(s) if s.contains('\n') => {
                self.line(indent, &format!("{m} {key} = <<-EOT{note}"));
                for l in s.lines() {
                    self.line(indent + 4, l);
                }
                self.line(indent + 2, "EOT");
            }
            other => self.line(
                indent,
                &format!(
                    "{m} {key} = {}{tail}{note}",
                    if other.is_object() {
                        "{}".into()
                    } else if other.is_array() {
                        "[]".into()
                    } else {
                        scalar(other)
                    }
                ),
            ),
        }
    }

    /// A list element shown whole.
    fn element(&mut self, action: Action, v: &Value, indent: usize) {
        let m = self.mark(action);
        match v {
            Value::Object(o) if !o.is_empty() => {
                self.line(indent, &format!("{m} {{"));
                let (b, a) = if action == Action::Delete {
                    (Some(o), None)
                } else {
                    (None, Some(o))
                };
                self.object_entries(b, a, indent + 4, false, false);
                self.line(indent + 2, "},");
            }
            Value::Array(items) if !items.is_empty() => {
                self.line(indent, &format!("{m} ["));
                for item in items {
                    self.element(action, item, indent + 4);
                }
                self.line(indent + 2, "],");
            }
            other => self.line(indent, &format!("{m} {},", scalar(other))),
        }
    }

    fn array_diff(&mut self, b: &[Value], a: &[Value], indent: usize) {
        let mut unchanged = 0;
        for op in element_ops(b, a) {
            match op {
                ElementOp::Unchanged(n) => unchanged += n,
                ElementOp::Removed(i) => self.element(Action::Delete, &b[i], indent),
                ElementOp::Added(j) => self.element(Action::Create, &a[j], indent),
                ElementOp::Changed(i, j) => match (&b[i], &a[j]) {
                    (Value::Object(bo), Value::Object(ao)) => {
                        self.line(indent, &format!("{} {{", self.mark(Action::Update)));
                        self.object_entries(Some(bo), Some(ao), indent + 4, false, false);
                        self.line(indent + 2, "},");
                    }
                    (bv, av) => {
                        self.element(Action::Delete, bv, indent);
                        self.element(Action::Create, av, indent);
                    }
                },
            }
        }
        if unchanged > 0 {
            self.line(
                indent + 2,
                &format!(
                    "# ({unchanged} unchanged element{} hidden)",
                    if unchanged == 1 { "" } else { "s" }
                ),
            );
        }
    }
}

/// One recorded object, HCL-like, for `coffer show` and `coffer state show`.
pub fn render_object(address: &Address, id: &str, attributes: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {address}:");
    let _ = writeln!(out, "{} {{", block_header(address));
    let mut entries: Vec<(&str, &Value)> = Vec::new();
    let id_value = Value::String(id.to_string());
    entries.push(("id", &id_value));
    if let Value::Object(m) = attributes {
        entries.extend(m.iter().map(|(k, v)| (k.as_str(), v)));
    }
    let width = entries.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in entries {
        write_plain(
            &mut out,
            &format!("{k:width$}"),
            MAP_ATTRIBUTES.contains(&k),
            v,
            4,
        );
    }
    out.push_str("}\n");
    out
}

fn write_plain(out: &mut String, key: &str, map: bool, v: &Value, indent: usize) {
    let prefix = if key.is_empty() {
        String::new()
    } else {
        format!("{key} = ")
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let _ = writeln!(out, "{:indent$}{prefix}{{", "");
            let label = |k: &String| if map { format!("{k:?}") } else { k.clone() };
            let width = m
                .keys()
                .map(|k| label(k).chars().count())
                .max()
                .unwrap_or(0);
            for (k, v) in m {
                let nested_map = !map && MAP_ATTRIBUTES.contains(&k.as_str());
                write_plain(
                    out,
                    &format!("{:width$}", label(k)),
                    nested_map,
                    v,
                    indent + 4,
                );
            }
            let _ = writeln!(out, "{:indent$}}}", "");
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{:indent$}{prefix}[", "");
            for item in items {
                write_plain(out, "", false, item, indent + 4);
            }
            let _ = writeln!(out, "{:indent$}]", "");
        }
        Value::Object(_) => {
            let _ = writeln!(out, "{:indent$}{prefix}{{}}", "");
        }
        Value::Array(_) => {
            let _ = writeln!(out, "{:indent$}{prefix}[]", "");
        }
        other => {
            let _ = writeln!(out, "{:indent$}{prefix}{}", "", scalar(other));
        }
    }
}
