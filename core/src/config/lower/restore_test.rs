//! `restore_test` blocks: AWS Backup's restore testing plans (a schedule, a start window, how
//! points are picked) with their `selection` blocks (one resource type each, resources by ARN
//! pattern or by the tags of their newest point, restore metadata overrides checked against
//! the type's keys, a validation window, and an optional `validate` command).

use super::*;
use crate::inventory::ResourceType;
use crate::jobs::restore_metadata;

/// A duration attribute within inclusive bounds (in minutes), or its default.
fn bounded(
    l: &mut Lowerer<'_>,
    view: &View<'_>,
    name: &str,
    default: u64,
    (min, max): (u64, u64),
    words: &str,
) -> Duration {
    let Some((d, span)) = l.duration(view, name) else {
        return Duration::from_minutes(default);
    };
    if d.minutes() < min || d.minutes() > max {
        l.push(
            Diagnostic::error(
                "coffer::invalid_window",
                format!("{name} must be {words}, not {d}"),
            )
            .at(span, "out of range")
            .with_help(format!("AWS Backup's restore testing allows {words}")),
        );
    }
    d
}

impl<'s> Lowerer<'s> {
    pub(super) fn lower_restore_test(&mut self, d: &Decl<'_>) -> Option<RestoreTest> {
        let view = d.view("restore_test");
        self.check_body(
            &view,
            &["schedule", "timezone", "start_window"],
            &["recovery_points", "selection"],
        );
        let timezone = self.timezone(&view);
        // restore tests may run as often as their schedule says (AWS's have no minimum)
        let schedule = self.schedule(&view, timezone.as_ref().and_then(|(_, tz)| *tz), true);
        let start_window = bounded(
            self,
            &view,
            "start_window",
            24 * 60,
            (60, 168 * 60),
            "1h to 168h",
        );
        let (mut algorithm, mut vaults, mut exclude_vaults) =
            (PointAlgorithm::Latest, Vec::new(), Vec::new());
        let mut selection_window = Duration::from_minutes(30 * 24 * 60);
        if let Some(b) = self.single_block(&view, "recovery_points") {
            let rview = View {
                file: d.file,
                body: &b.body,
                what: "recovery_points block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(
                &rview,
                &["algorithm", "vaults", "exclude_vaults", "selection_window"],
                &[],
            );
            if let Some((a, span)) = self.string(&rview, "algorithm") {
                algorithm = match a.as_str() {
                    "latest" => PointAlgorithm::Latest,
                    "random" => PointAlgorithm::Random,
                    _ => {
                        self.push(
                            Diagnostic::error(
                                "coffer::invalid_value",
                                format!("`{a}` is not a point algorithm"),
                            )
                            .at(span, "not latest or random")
                            .with_help("algorithm = \"latest\" restores each resource's newest eligible point, \"random\" any of them"),
                        );
                        PointAlgorithm::Latest
                    }
                };
            }
            vaults = self.reference_list(&rview, "vaults", crate::address::Kind::Vault);
            exclude_vaults =
                self.reference_list(&rview, "exclude_vaults", crate::address::Kind::Vault);
            selection_window = bounded(
                self,
                &rview,
                "selection_window",
                30 * 24 * 60,
                (24 * 60, 365 * 24 * 60),
                "1d to 365d",
            );
        }
        let mut selections = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for b in d
            .block
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "selection")
        {
            if !self.check_labels(d.file, b, 1) {
                continue;
            }
            let Some(decl) = self.decl(d.file, b, "selection") else {
                continue;
            };
            if let Some(first) = seen.get(&decl.name) {
                let what = format!("selection `{}` in restore_test `{}`", decl.name, d.name);
                self.duplicate(&what, &decl, first.clone());
                continue;
            }
            seen.insert(decl.name.clone(), decl.name_span.clone());
            if let Some(s) = self.lower_restore_selection(&decl) {
                selections.push(s);
            }
        }
        if selections.is_empty() {
            self.push(
                Diagnostic::error(
                    "coffer::missing_block",
                    format!("restore_test `{}` selects nothing", d.name),
                )
                .at(d.header.clone(), "no selection block")
                .with_help(
                    "add `selection \"NAME\" { resource_type = \"EBS\" }` (one resource type each)",
                ),
            );
        }
        Some(RestoreTest {
            name: d.name.clone(),
            schedule: schedule?.0,
            timezone: timezone.map(|(n, _)| n),
            start_window,
            algorithm,
            vaults,
            exclude_vaults,
            selection_window,
            selections,
            span: d.name_span.clone(),
        })
    }

    fn lower_restore_selection(&mut self, d: &Decl<'_>) -> Option<RestoreTestSelection> {
        let view = d.view("selection");
        self.check_body(
            &view,
            &[
                "resource_type",
                "resources",
                "overrides",
                "validation_window",
            ],
            &["condition", "validate"],
        );
        let (t, tspan) = self.required_string(&view, "resource_type", "resource_type = \"EBS\"")?;
        let Some(resource_type) = ResourceType::parse(&t) else {
            let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
            self.push(
                Diagnostic::error(
                    "coffer::invalid_value",
                    format!("`{t}` is not a resource type"),
                )
                .at(tspan, "not a resource type")
                .with_help(format!("one of {}", names.join(", "))),
            );
            return None;
        };
        let resources = self.string_list(&view, "resources");
        let overrides = self.string_map(&view, "overrides");
        let keys = restore_metadata::keys(resource_type);
        for k in overrides.keys() {
            let known = keys.iter().find(|x| x.name.eq_ignore_ascii_case(k));
            if known.is_none_or(|x| !x.overridable) {
                let allowed: Vec<&str> = keys
                    .iter()
                    .filter(|x| x.overridable)
                    .map(|x| x.name)
                    .collect();
                let span = view
                    .body
                    .get_attribute("overrides")
                    .map(|a| span_of(d.file, a.value.span()))
                    .unwrap_or_else(|| view.header.clone());
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!(
                            "`{k}` is not restore metadata that {resource_type} restores can override"
                        ),
                    )
                    .at(span, "unknown key")
                    .with_help(if allowed.is_empty() {
                        format!(
                            "{resource_type} points restore from their files and take no overrides"
                        )
                    } else {
                        format!("{resource_type} restores take {}", allowed.join(", "))
                    }),
                );
            }
        }
        let (mut string_equals, mut string_not_equals) = (Tags::new(), Tags::new());
        if let Some(b) = self.single_block(&view, "condition") {
            let cview = View {
                file: d.file,
                body: &b.body,
                what: "condition block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(&cview, &["string_equals", "string_not_equals"], &[]);
            string_equals = self.string_map(&cview, "string_equals");
            string_not_equals = self.string_map(&cview, "string_not_equals");
        }
        let validation_window = bounded(
            self,
            &view,
            "validation_window",
            0,
            (0, 168 * 60),
            "0h to 168h",
        );
        let validate = self.single_block(&view, "validate").and_then(|b| {
            let vview = View {
                file: d.file,
                body: &b.body,
                what: "validate block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(&vview, &["command", "timeout"], &[]);
            let command = self.string_list(&vview, "command");
            if command.is_empty() {
                self.push(
                    Diagnostic::error(
                        "coffer::missing_attribute",
                        "a validate block needs a command",
                    )
                    .at(vview.header.clone(), "no command")
                    .with_help("command = [\"./checks/orders.sh\"] (exit 0 = SUCCESSFUL); without a validate block coffer's own checks run"),
                );
                return None;
            }
            let timeout = bounded(self, &vview, "timeout", 10, (1, 168 * 60), "1m to 168h");
            Some(Validate { command, timeout })
        });
        Some(RestoreTestSelection {
            name: d.name.clone(),
            resource_type,
            resources,
            string_equals,
            string_not_equals,
            overrides,
            validation_window,
            validate,
            span: d.name_span.clone(),
        })
    }
}
