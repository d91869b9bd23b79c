//! User-facing diagnostics: what went wrong, where (file and byte span), and how to fix it;
//! rendered through miette for people and as JSON for machines.

use serde::Serialize;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

/// A byte range inside one source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span { file, range }
    }
}

/// One loaded text: a configuration file or a variable file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        Position {
            line: line + 1,
            column: column + 1,
            byte: offset,
        }
    }
}

/// Every text a run loaded, so spans can be resolved to names, lines and columns.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }
}

/// A one-based line/column position with its byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary location that explains a diagnostic ("first declared here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem found in the user's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine-readable class, e.g. `coffer::unknown_attribute`.
    pub code: &'static str,
    pub message: String,
    /// Where the problem is; `None` for problems with no place in a file (a `-var` flag).
    pub span: Option<Span>,
    /// Text under the underlined span.
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<Label>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.span = Some(span);
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics collected during one stage; a stage keeps going after an error so that a run
/// reports every problem, not just the first.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorted by file, position and message, so output order never depends on discovery order.
    /// Diagnostics that were raised without help get the general help for their class.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        for d in &mut self.items {
            if d.help.is_none() {
                d.help = Some(default_help(d.code).to_string());
            }
        }
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                d.span
                    .as_ref()
                    .map(|s| (s.file, s.range.start, s.range.end))
            };
            key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
        });
        self.items.dedup();
        self.items
    }
}

/// General advice for a class of diagnostic, used when the place that raised it had nothing
/// more specific to say.
pub fn default_help(code: &str) -> &'static str {
    match code {
        "coffer::wrong_type" => "check the value's type: strings are quoted, numbers and bools are not, maps are `{ key = value }` and lists are `[a, b]`",
        "coffer::invalid_number" => "numbers must fit in a 64-bit float",
        "coffer::invalid_reference" => "references look like var.NAME, local.NAME, vault.NAME or plan.NAME",
        "coffer::missing_key" => "use lookup(map, key, default) to read a key that may be absent",
        "coffer::index_out_of_range" => "list indices start at 0; use length(list) to check the size first",
        "coffer::function_error" => "see the function list in README.md for each function's arguments",
        "coffer::invalid_variable_value" => "give a value of the variable's declared type",
        "coffer::variable_validation" => "change the value so that the validation condition holds",
        "coffer::duplicate_block" => "merge the two blocks into one",
        "coffer::unexpected_block" => "variable files hold only `name = value` lines",
        "coffer::invalid_value" => "see the configuration reference in README.md for accepted values",
        "coffer::invalid_lock" => "see the vault lock rules in README.md",
        _ => "see the configuration reference in README.md",
    }
}

// ---------------------------------------------------------------------------------------------
// JSON form

/// A position range for JSON output.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JsonRange {
    pub start: Position,
    pub end: Position,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JsonLabel {
    pub file: String,
    pub range: JsonRange,
    pub message: String,
}

/// The JSON shape of a diagnostic (`coffer validate --json`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JsonDiagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub file: Option<String>,
    pub range: Option<JsonRange>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<JsonLabel>,
}

fn json_range(sources: &Sources, span: &Span) -> Option<(String, JsonRange)> {
    let file = sources.get(span.file)?;
    Some((
        file.name.clone(),
        JsonRange {
            start: file.position(span.range.start),
            end: file.position(span.range.end),
        },
    ))
}

impl Diagnostic {
    pub fn to_json(&self, sources: &Sources) -> JsonDiagnostic {
        let located = self.span.as_ref().and_then(|s| json_range(sources, s));
        JsonDiagnostic {
            severity: self.severity,
            code: self.code.to_string(),
            message: self.message.clone(),
            file: located.as_ref().map(|(f, _)| f.clone()),
            range: located.map(|(_, r)| r),
            label: (!self.label.is_empty()).then(|| self.label.clone()),
            help: self.help.clone(),
            related: self
                .related
                .iter()
                .filter_map(|l| {
                    json_range(sources, &l.span).map(|(file, range)| JsonLabel {
                        file,
                        range,
                        message: l.message.clone(),
                    })
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// miette rendering

/// A diagnostic bound to its source text so miette can draw it.
#[derive(Debug)]
struct Report {
    /// `None` for a related location, drawn as advice without a code.
    severity: Option<Severity>,
    code: Option<&'static str>,
    message: String,
    source: Option<miette::NamedSource<Arc<str>>>,
    labels: Vec<miette::LabeledSpan>,
    help: Option<String>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Some(Severity::Error) => miette::Severity::Error,
            Some(Severity::Warning) => miette::Severity::Warning,
            None => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn labeled(text: &str, range: &Range<usize>, label: &str, primary: bool) -> miette::LabeledSpan {
    let start = range.start.min(text.len());
    let len = range.end.min(text.len()).saturating_sub(start);
    let label = (!label.is_empty()).then(|| label.to_string());
    if primary {
        miette::LabeledSpan::new_primary_with_span(label, (start, len))
    } else {
        miette::LabeledSpan::new_with_span(label, (start, len))
    }
}

fn report(d: &Diagnostic, sources: &Sources) -> Report {
    let file = d
        .span
        .as_ref()
        .and_then(|s| sources.get(s.file).map(|f| (s, f)));
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let source = file.map(|(span, f)| {
        labels.push(labeled(&f.text, &span.range, &d.label, true));
        miette::NamedSource::new(f.name.clone(), f.text.clone())
    });
    for l in &d.related {
        let same_file = d.span.as_ref().is_some_and(|s| s.file == l.span.file);
        match sources.get(l.span.file) {
            Some(f) if same_file => labels.push(labeled(&f.text, &l.span.range, &l.message, false)),
            Some(f) => related.push(Report {
                severity: None,
                code: None,
                message: l.message.clone(),
                source: Some(miette::NamedSource::new(f.name.clone(), f.text.clone())),
                labels: vec![labeled(&f.text, &l.span.range, "", true)],
                help: None,
                related: Vec::new(),
            }),
            None => {}
        }
    }
    Report {
        severity: Some(d.severity),
        code: Some(d.code),
        message: d.message.clone(),
        source,
        labels,
        help: d.help.clone(),
        related,
    }
}

/// Renders diagnostics for a person: file, line, column, the span underlined, and help.
pub fn render(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let r = report(d, sources);
        if handler.render_report(&mut out, &r).is_err() {
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let f = SourceFile::new("a.hcl", "ab\ncdé f\n");
        assert_eq!(
            f.position(0),
            Position {
                line: 1,
                column: 1,
                byte: 0
            }
        );
        assert_eq!(
            f.position(3),
            Position {
                line: 2,
                column: 1,
                byte: 3
            }
        );
        // é is two bytes; 'f' is the 5th character of line 2
        assert_eq!(f.position(8).column, 5);
        assert_eq!(f.position(999).line, 3);
    }

    #[test]
    fn sorted_diagnostics_are_deduplicated_and_ordered_by_position() {
        let mut ds = Diagnostics::default();
        let s = |a, b| Span::new(FileId(0), a..b);
        ds.push(Diagnostic::error("x", "second").at(s(10, 12), ""));
        ds.push(Diagnostic::error("x", "first").at(s(1, 2), ""));
        ds.push(Diagnostic::error("x", "first").at(s(1, 2), ""));
        let v = ds.into_sorted();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].message, "first");
    }
}
