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
        self.check_body(&view, &["region", "profile", "alias"], &["assume_role"]);
        let region = self.region(&view);
        let profile = self.string(&view, "profile").map(|(s, _)| s);
        let alias = self.string(&view, "alias").map(|(s, _)| s);
        let assume_role = self
            .single_block(&view, "assume_role")
            .and_then(|b| self.lower_assume_role(d.file, b));
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
            assume_role,
            span: d.header.clone(),
        })
    }

    /// `assume_role { role_arn, session_name, external_id }`.
    fn lower_assume_role(&mut self, file: FileId, b: &Block) -> Option<AssumeRole> {
        let view = View {
            file,
            body: &b.body,
            what: "assume_role block".into(),
            header: header_span(file, b),
        };
        self.check_body(&view, &["role_arn", "session_name", "external_id"], &[]);
        let (role_arn, span) = self.required_string(
            &view,
            "role_arn",
            "role_arn = \"arn:aws:iam::123456789012:role/coffer\"",
        )?;
        if !is_role_arn(&role_arn) {
            self.push(
                Diagnostic::error(
                    "coffer::invalid_arn",
                    format!("`{role_arn}` is not an IAM role ARN"),
                )
                .at(span, "not a role ARN")
                .with_help("expected arn:aws:iam::ACCOUNT:role/NAME"),
            );
            return None;
        }
        let session_name = self.string(&view, "session_name").map(|(s, _)| s);
        let external_id = self.string(&view, "external_id").map(|(s, _)| s);
        Some(AssumeRole {
            role_arn,
            session_name,
            external_id,
        })
    }

    /// A `region` attribute, checked to be a region name.
    pub(super) fn region(&mut self, view: &View<'_>) -> Option<(String, Span)> {
        let region = self.string(view, "region");
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
        region
    }

    /// A `provider = aws` or `provider = aws.ALIAS` reference to a declared provider block:
    /// the alias (`None` for the unaliased provider) and where it is written.
    pub(super) fn provider_reference(
        &mut self,
        view: &View<'_>,
        providers: &[Provider],
    ) -> Option<(Option<String>, Span)> {
        use hcl_edit::expr::TraversalOperator;
        let attr = view.body.get_attribute("provider")?;
        let span = span_of(view.file, attr.value.span());
        let alias = match &attr.value {
            Expression::Variable(v) if v.value().as_str() == "aws" => Some(None),
            Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
                (Expression::Variable(root), [op]) if root.value().as_str() == "aws" => {
                    match op.value() {
                        TraversalOperator::GetAttr(a) => Some(Some(a.value().to_string())),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        let Some(alias) = alias else {
            self.push(
                Diagnostic::error(
                    "coffer::invalid_reference",
                    format!("`provider` in {} must name a provider block", view.what),
                )
                .at(span, "not a provider reference")
                .with_help("write `provider = aws.ALIAS` without quotes, naming a `provider \"aws\"` block's alias"),
            );
            return None;
        };
        if !providers.iter().any(|p| p.alias == alias) {
            let aliases: Vec<&str> = providers
                .iter()
                .filter_map(|p| p.alias.as_deref())
                .collect();
            let what = match &alias {
                Some(a) => format!("no provider \"aws\" block has the alias `{a}`"),
                None => "no provider \"aws\" block without an alias is declared".to_string(),
            };
            let help = match alias.as_deref().and_then(|a| did_you_mean(a, aliases.iter().copied())) {
                Some(s) => format!("did you mean `aws.{s}`?"),
                None if aliases.is_empty() => "declare the provider block: `provider \"aws\" { alias = \"dr\" region = \"us-west-2\" }`".to_string(),
                None => format!("declared aliases: {}", aliases.join(", ")),
            };
            self.push(
                Diagnostic::error("coffer::undeclared_reference", what)
                    .at(span, "no such provider")
                    .with_help(help),
            );
            return None;
        }
        Some((alias, span))
    }
}

/// `arn:aws:iam::123456789012:role/NAME` (with a path, possibly).
fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty())
}
