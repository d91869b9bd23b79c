//! The `coffer` block: where state and catalog are kept (`backend "local"` or
//! `backend "postgres"`).

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_coffer(&mut self, d: &Decl<'_>) -> Option<Backend> {
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
                "postgres" => {
                    self.check_body(&bview, &["conn_str", "schema"], &[]);
                    let conn_str = self.string(&bview, "conn_str").map(|(s, _)| s);
                    let schema = match self.string(&bview, "schema") {
                        Some((s, span)) if !is_schema_name(&s) => {
                            self.push(
                                Diagnostic::error(
                                    "coffer::invalid_value",
                                    format!("schema `{s}` is not a plain PostgreSQL name"),
                                )
                                .at(span, "here")
                                .with_help("use lower-case letters, digits and `_`, starting with a letter (at most 63)"),
                            );
                            continue;
                        }
                        Some((s, _)) => s,
                        None => "coffer".into(),
                    };
                    backend = Some(Backend::Postgres { conn_str, schema });
                }
                other => {
                    let mut diag = Diagnostic::error(
                        "coffer::unsupported_backend",
                        format!("unsupported backend `{other}`"),
                    )
                    .at(span_of(d.file, b.labels[0].span()), "not available");
                    diag = match did_you_mean(other, ["local", "postgres"]) {
                        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                        None => diag.with_help("this version supports the `local` backend (state and catalog in a directory) and the `postgres` backend (a PostgreSQL database)"),
                    };
                    self.push(diag);
                }
            }
        }
        backend
    }
}

/// A schema name coffer can use unquoted: lower-case letters, digits and `_`, starting with a
/// letter or `_`, at most 63 bytes (PostgreSQL's limit).
fn is_schema_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}
