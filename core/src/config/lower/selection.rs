//! `selection` blocks: which resources a plan protects, by tag, condition or ARN.

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_selection(&mut self, d: &Decl<'_>) -> Option<Selection> {
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
}
