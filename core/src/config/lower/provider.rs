//! `provider "aws"` blocks: regions, profiles and aliases.

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_provider(
        &mut self,
        d: &Decl<'_>,
        existing: &[Provider],
    ) -> Option<Provider> {
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
}
