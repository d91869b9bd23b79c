//! `plan` blocks and their `rule`s: schedules in their time zone, windows, lifecycle and
//! copies.

use super::*;
use crate::jobs::retention::KeepPolicy;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_plan(&mut self, p: &PlanDecl<'_>) -> Option<BackupPlan> {
        let d = &p.decl;
        let view = d.view("plan");
        self.check_body(&view, &["tags", "regions"], &["rule"]);
        let tags = self.string_map(&view, "tags");
        let regions = if view.body.get_attribute("regions").is_some() {
            let list = self.string_list(&view, "regions");
            if let Some(attr) = view.body.get_attribute("regions") {
                let span = span_of(view.file, attr.value.span());
                for r in list.iter().filter(|r| !is_region_name(r)) {
                    self.push(
                        Diagnostic::error(
                            "coffer::invalid_region",
                            format!("`{r}` is not an AWS region name"),
                        )
                        .at(span.clone(), "in this list")
                        .with_help("region names look like `us-east-1` or `eu-central-2`"),
                    );
                }
            }
            Some(list)
        } else {
            None
        };
        if p.rules.is_empty()
            && !d
                .block
                .body
                .blocks()
                .any(|b| b.ident.value().as_str() == "rule")
        {
            self.push(
                Diagnostic::warning("coffer::empty_plan", format!("plan `{}` has no rules, so it never backs anything up", d.name))
                    .at(d.name_span.clone(), "no rule blocks")
                    .with_help("add a `rule \"name\" { schedule = \"cron(…)\" target_vault = vault.NAME }` block"),
            );
        }
        let mut rules = BTreeMap::new();
        for r in &p.rules {
            if let Some(rule) = self.lower_rule(&d.name, r) {
                rules.insert(rule.name.clone(), rule);
            }
        }
        Some(BackupPlan {
            name: d.name.clone(),
            tags,
            regions,
            rules,
            span: d.name_span.clone(),
        })
    }

    pub(super) fn lower_rule(&mut self, plan: &str, d: &Decl<'_>) -> Option<Rule> {
        let view = d.view("rule");
        self.check_body(
            &view,
            &[
                "schedule",
                "timezone",
                "start_window",
                "completion_window",
                "target_vault",
                "recovery_point_tags",
                "allow_more_frequent_than_12h",
            ],
            &["lifecycle", "copy_to"],
        );
        let timezone = self.timezone(&view);
        let allow_frequent = self
            .bool(&view, "allow_more_frequent_than_12h")
            .unwrap_or(false);
        let schedule = self.schedule(
            &view,
            timezone.as_ref().and_then(|(_, tz)| *tz),
            allow_frequent,
        );
        let timezone = timezone.map(|(name, _)| name);
        let start = self.duration(&view, "start_window");
        let completion = self.duration(&view, "completion_window");
        let start_window = start
            .as_ref()
            .map(|(d, _)| d.clone())
            .unwrap_or_else(|| Duration::from_minutes(DEFAULT_START_WINDOW_MINUTES));
        let completion_window = completion
            .as_ref()
            .map(|(d, _)| d.clone())
            .unwrap_or_else(|| Duration::from_minutes(DEFAULT_COMPLETION_WINDOW_MINUTES));
        if let Some((s, span)) = &start {
            if s.minutes() < 60 {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_window",
                        format!("start_window must be at least 1 hour, not {s}"),
                    )
                    .at(span.clone(), "too short")
                    .with_help("a job gets at least an hour to start, as in AWS Backup"),
                );
            }
        }
        if completion_window <= start_window {
            let span = completion
                .as_ref()
                .or(start.as_ref())
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|| view.header.clone());
            self.push(
                Diagnostic::error(
                    "coffer::invalid_window",
                    format!("completion_window ({completion_window}) must be longer than start_window ({start_window})"),
                )
                .at(span, "not longer than the start window")
                .with_help("a job must be able to finish after it starts; make completion_window longer"),
            );
        }
        let target = self.reference(&view, "target_vault", crate::address::Kind::Vault, true);
        let recovery_point_tags = self.string_map(&view, "recovery_point_tags");
        let lifecycle = self
            .single_block(&view, "lifecycle")
            .and_then(|b| self.lower_lifecycle(d.file, b, true));
        let mut copy_to = Vec::new();
        for b in d
            .block
            .body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "copy_to")
        {
            if !b.labels.is_empty() {
                self.check_labels(d.file, b, 0);
                continue;
            }
            let cview = View {
                file: d.file,
                body: &b.body,
                what: "copy_to block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(&cview, &["vault", "window"], &["lifecycle"]);
            let vault = self.reference(&cview, "vault", crate::address::Kind::Vault, true);
            let window = self.duration(&cview, "window");
            if let Some((w, span)) = &window {
                if w.minutes() < 60 {
                    self.push(
                        Diagnostic::error(
                            "coffer::invalid_window",
                            format!("a copy window must be at least 1 hour, not {w}"),
                        )
                        .at(span.clone(), "too short")
                        .with_help("copies of large snapshots take hours; the default is \"24h\""),
                    );
                }
            }
            let lifecycle = self
                .single_block(&cview, "lifecycle")
                .and_then(|lb| self.lower_lifecycle(d.file, lb, false));
            if let Some((vault, span)) = vault {
                if target.as_ref().is_some_and(|(t, _)| *t == vault) {
                    self.push(
                        Diagnostic::warning(
                            "coffer::copy_to_same_vault",
                            format!(
                                "rule `{}` copies into its own target vault `{vault}`",
                                d.name
                            ),
                        )
                        .at(span, "same as target_vault")
                        .with_help(
                            "copies protect against losing a vault; point copy_to at another vault",
                        ),
                    );
                }
                copy_to.push(CopyAction {
                    vault,
                    lifecycle,
                    window: window.map(|(w, _)| w),
                    span: cview.header.clone(),
                });
            }
        }
        Some(Rule {
            plan: plan.to_string(),
            name: d.name.clone(),
            schedule: schedule?.0,
            allow_more_frequent_than_12h: allow_frequent,
            timezone,
            start_window,
            completion_window,
            target_vault: target?.0,
            lifecycle,
            recovery_point_tags,
            copy_to,
            span: d.name_span.clone(),
        })
    }

    /// The `timezone` attribute: its name, and the zone if the name is an IANA zone.
    pub(super) fn timezone(&mut self, view: &View<'_>) -> Option<(String, Option<chrono_tz::Tz>)> {
        let (name, span) = self.string(view, "timezone")?;
        match occurrence::parse_timezone(&name) {
            Some(tz) => Some((name, Some(tz))),
            None => {
                let mut d = Diagnostic::error(
                    "coffer::invalid_timezone",
                    format!("unknown time zone `{name}`"),
                )
                .at(span, "not an IANA time zone");
                d = match did_you_mean(&name, occurrence::timezone_names()) {
                    Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                    None => d.with_help("use an IANA time zone name such as \"UTC\", \"Europe/Paris\" or \"America/New_York\""),
                };
                self.push(d);
                Some((name, None))
            }
        }
    }

    /// The `schedule` attribute: a valid EventBridge cron expression, no more frequent than
    /// every 12 hours unless the rule allows it, that runs at least once more.
    pub(super) fn schedule(
        &mut self,
        view: &View<'_>,
        tz: Option<chrono_tz::Tz>,
        allow_frequent: bool,
    ) -> Option<(String, Span)> {
        if view.body.get_attribute("schedule").is_none() {
            self.missing(view, "schedule", "schedule = \"cron(0 5 ? * * *)\"");
            return None;
        }
        let (value, span, kind) = self.value(view, "schedule")?;
        let Value::String(text) = value else {
            self.wrong_type(view, "schedule", "a string", &value, span);
            return None;
        };
        let cron = match Cron::parse(&text) {
            Ok(c) => c,
            Err(e) => {
                let inner = self.inner_span(&span, &text, kind, e.range.clone());
                self.push(
                    Diagnostic::error("coffer::invalid_schedule", e.message)
                        .at(inner, e.label)
                        .with_help(e.help),
                );
                return None;
            }
        };
        let schedule = Schedule::new(cron, tz.unwrap_or(chrono_tz::UTC));
        let today = self.now.date_naive();
        if !allow_frequent {
            if let Some(t) = frequency::check(&schedule.cron, frequency::MIN_GAP_MINUTES, today) {
                let gap = if t.gap_minutes % 60 == 0 {
                    format!("{} hours", t.gap_minutes / 60)
                } else {
                    format!("{} minutes", t.gap_minutes)
                };
                self.push(
                    Diagnostic::error(
                        "coffer::schedule_too_frequent",
                        format!(
                            "`{text}` runs more often than every 12 hours: {} and {} are {gap} apart",
                            t.first.format("%Y-%m-%d %H:%M"),
                            t.second.format("%Y-%m-%d %H:%M")
                        ),
                    )
                    .at(span.clone(), format!("runs {gap} apart"))
                    .with_help("AWS Backup rules run at most every 12 hours; space the runs out, or set `allow_more_frequent_than_12h = true` on the rule if you really want this"),
                );
            }
        }
        if schedule.next_after(self.now).is_none() {
            self.push(
                Diagnostic::warning("coffer::schedule_never_runs", format!("`{text}` has no run after {}", self.now.format("%Y-%m-%d %H:%M UTC")))
                    .at(span.clone(), "never runs again")
                    .with_help("check the year field and the day: a day the months lack (such as 30 February) never comes"),
            );
        }
        Some((text, span))
    }

    /// A `lifecycle` block; a rule's (`of_rule`) may also hold `keep` and `keep_at_least`,
    /// which a copy's may not (yet).
    pub(super) fn lower_lifecycle(
        &mut self,
        file: FileId,
        b: &Block,
        of_rule: bool,
    ) -> Option<Lifecycle> {
        let view = View {
            file,
            body: &b.body,
            what: "lifecycle block".into(),
            header: header_span(file, b),
        };
        if of_rule {
            self.check_body(
                &view,
                &[
                    "cold_storage_after",
                    "delete_after",
                    "keep_at_least",
                    "opt_in_to_archive",
                ],
                &["keep"],
            );
        } else {
            self.check_body(&view, &["cold_storage_after", "delete_after"], &[]);
        }
        let keep = if of_rule {
            self.single_block(&view, "keep")
                .and_then(|k| self.lower_keep(file, k))
        } else {
            None
        };
        let keep_at_least = if of_rule {
            self.count(&view, "keep_at_least", 10_000).map(|(n, _)| n)
        } else {
            None
        };
        let opt_in_to_archive = of_rule && self.bool(&view, "opt_in_to_archive").unwrap_or(false);
        let cold = self.duration(&view, "cold_storage_after");
        let delete = self.duration(&view, "delete_after");
        if let (Some((c, cspan)), Some((d, dspan))) = (&cold, &delete) {
            let min = c.minutes().saturating_add(90 * 24 * 60);
            if d.minutes() < min {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lifecycle",
                        format!("delete_after ({d}) must be at least 90 days after cold_storage_after ({c})"),
                    )
                    .at(dspan.clone(), format!("deletes after {} days", d.days()))
                    .with_related(cspan.clone(), format!("moves to cold storage after {} days", c.days()))
                    .with_help(format!(
                        "points in cold storage are kept at least 90 days; set delete_after to {} days or more, or remove cold_storage_after",
                        c.days() + 90
                    )),
                );
            }
        }
        if delete.as_ref().is_some_and(|(d, _)| d.minutes() < 24 * 60) {
            if let Some((d, span)) = &delete {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lifecycle",
                        format!("delete_after must be at least 1 day, not {d}"),
                    )
                    .at(span.clone(), "too short")
                    .with_help("lifecycle is counted in whole days"),
                );
            }
        }
        Some(Lifecycle {
            cold_storage_after_span: cold.as_ref().map(|(_, s)| s.clone()),
            cold_storage_after: cold.map(|(d, _)| d),
            delete_after: delete.map(|(d, _)| d),
            keep,
            keep_at_least,
            opt_in_to_archive,
        })
    }

    /// A `keep` block: restic's `forget` clauses. A block that keeps nothing would delete
    /// every point of the rule, so it is refused.
    fn lower_keep(&mut self, file: FileId, b: &Block) -> Option<KeepPolicy> {
        let view = View {
            file,
            body: &b.body,
            what: "keep block".into(),
            header: header_span(file, b),
        };
        const COUNTS: [&str; 6] = ["last", "hourly", "daily", "weekly", "monthly", "yearly"];
        let mut attrs = COUNTS.to_vec();
        attrs.push("within");
        self.check_body(&view, &attrs, &[]);
        let mut n = [0u32; 6];
        for (slot, name) in n.iter_mut().zip(COUNTS) {
            *slot = self.count(&view, name, 1_000_000).map_or(0, |(c, _)| c);
        }
        let within = self.duration(&view, "within").map(|(d, _)| d);
        let policy = KeepPolicy {
            last: n[0],
            hourly: n[1],
            daily: n[2],
            weekly: n[3],
            monthly: n[4],
            yearly: n[5],
            within,
        };
        if policy == KeepPolicy::default() {
            self.push(
                Diagnostic::error(
                    "coffer::keep_nothing",
                    "this keep block keeps no recovery point: every point of the rule would be deleted",
                )
                .at(view.header.clone(), "keeps nothing")
                .with_help("give at least one clause a count above 0, e.g. `daily = 7`, or `within = \"30d\"`; remove the block to keep points until delete_after"),
            );
            return None;
        }
        Some(policy)
    }
}
