//! The `coffer` block: where state and catalog are kept (`backend "local"`).

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
}
