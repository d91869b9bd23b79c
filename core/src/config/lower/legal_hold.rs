//! `legal_hold` blocks: AWS Backup's RecoveryPointSelection (vaults, resource ARN patterns,
//! an inclusive range of creation dates), at least one criterion given.

use super::*;
use chrono::NaiveDate;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_legal_hold(&mut self, d: &Decl<'_>) -> Option<LegalHold> {
        let view = d.view("legal_hold");
        self.check_body(
            &view,
            &[
                "description",
                "vaults",
                "resources",
                "created_from",
                "created_to",
            ],
            &[],
        );
        let description = self.string(&view, "description").map(|(s, _)| s);
        let vaults = self.reference_list(&view, "vaults", crate::address::Kind::Vault);
        let resources = self.string_list(&view, "resources");
        let from = self.date(&view, "created_from");
        let to = self.date(&view, "created_to");
        if let (Some((f, fspan)), Some((t, tspan))) = (&from, &to) {
            if f > t {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_date_range",
                        format!("created_from ({f}) is after created_to ({t}): the hold would match nothing"),
                    )
                    .at(tspan.clone(), "before created_from")
                    .with_related(fspan.clone(), "starts here")
                    .with_help("the range is inclusive; swap the dates"),
                );
            }
        }
        let given = ["vaults", "resources", "created_from", "created_to"]
            .iter()
            .any(|a| view.body.get_attribute(a).is_some());
        if !given {
            self.push(
                Diagnostic::error(
                    "coffer::legal_hold_without_criteria",
                    format!("legal hold `{}` selects nothing", d.name),
                )
                .at(view.header.clone(), "no criterion")
                .with_help("give at least one of `vaults = [vault.NAME]`, `resources = [\"ARN pattern\"]`, `created_from = \"YYYY-MM-DD\"` or `created_to = \"YYYY-MM-DD\"`, as AWS Backup's legal holds require"),
            );
            return None;
        }
        Some(LegalHold {
            name: d.name.clone(),
            description,
            vaults,
            resources,
            created_from: from.map(|(d, _)| d),
            created_to: to.map(|(d, _)| d),
            span: d.name_span.clone(),
        })
    }

    /// A calendar date written `YYYY-MM-DD`.
    fn date(&mut self, view: &View<'_>, name: &str) -> Option<(NaiveDate, Span)> {
        let (text, span) = self.string(view, name)?;
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) if text.len() == 10 => Some((d, span)),
            _ => {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_date",
                        format!("`{text}` for `{name}` is not a date"),
                    )
                    .at(span, "not YYYY-MM-DD")
                    .with_help(format!(
                        "write a calendar date, e.g. `{name} = \"2026-01-31\"`"
                    )),
                );
                None
            }
        }
    }
}
