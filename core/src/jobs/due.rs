//! What a scheduler tick has to do (pure): every rule run that came due since the last tick,
//! for every resource the rule's plan covers, becomes a job; runs whose start window already
//! closed are reported so they can be recorded as EXPIRED rather than silently dropped; and
//! when several rules would back up one resource in overlapping windows, the rule with the
//! longer retention wins, as in AWS Backup.

use super::options::{CopyOptions, JobOptions};
use super::state::Windows;
use crate::address::Address;
use crate::coverage::Coverage;
use crate::objects::{attrs, RuleAttrs};
use crate::schedule::Schedule;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// A rule as the tick needs it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub address: Address,
    pub plan: Address,
    pub schedule: Schedule,
    pub start_window: Duration,
    pub completion_window: Duration,
    pub vault: String,
    /// Tags and lifecycle of the points the rule creates.
    pub options: JobOptions,
}

/// The rules among recorded (or configured) objects, as the tick needs them. Fails only on
/// objects no coffer could have written: lowering checks all of this before apply.
pub fn rules_from_objects<'a>(
    objects: impl IntoIterator<Item = (&'a Address, &'a Value)>,
) -> Result<Vec<RuleInfo>, String> {
    let mut out = Vec::new();
    for (address, attrs) in objects {
        let Address::Rule { plan, .. } = address else {
            continue;
        };
        let rule: RuleAttrs = attrs::read(address, attrs).map_err(|e| e.to_string())?;
        let tz = match rule.timezone.as_str() {
            "UTC" => None,
            name => Some(
                crate::schedule::occurrence::parse_timezone(name)
                    .ok_or_else(|| format!("{address}: unknown time zone `{name}`"))?,
            ),
        };
        let schedule =
            Schedule::parse(&rule.schedule, tz).map_err(|e| format!("{address}: {}", e.message))?;
        let lifecycle = rule.lifecycle.clone().unwrap_or_default();
        let text = |d: Option<crate::config::duration::Duration>| d.map(|d| d.as_str().to_string());
        out.push(RuleInfo {
            address: address.clone(),
            plan: Address::Plan(plan.clone()),
            schedule,
            start_window: rule.start_window.to_chrono(),
            completion_window: rule.completion_window.to_chrono(),
            vault: rule.vault_name().to_string(),
            options: JobOptions {
                tags: rule.recovery_point_tags.clone(),
                cold_storage_after: text(lifecycle.cold_storage_after.clone()),
                delete_after: text(lifecycle.delete_after.clone()),
                deleted_by: None,
                opt_in_to_archive: lifecycle.opt_in_to_archive,
                copies: rule
                    .copy_to
                    .iter()
                    .map(|c| {
                        // a copy without a lifecycle of its own keeps the rule's
                        let l = c.lifecycle.clone().unwrap_or_else(|| lifecycle.clone());
                        CopyOptions {
                            vault: c.vault_name().to_string(),
                            window: c.window.as_ref().map_or_else(
                                || {
                                    crate::config::duration::Duration::from_minutes(
                                        crate::config::model::DEFAULT_COPY_WINDOW_MINUTES,
                                    )
                                    .as_str()
                                    .to_string()
                                },
                                |w| w.as_str().to_string(),
                            ),
                            cold_storage_after: text(l.cold_storage_after),
                            delete_after: text(l.delete_after),
                            opt_in_to_archive: l.opt_in_to_archive,
                        }
                    })
                    .collect(),
                ..JobOptions::default()
            },
        });
    }
    Ok(out)
}

/// One job the tick creates (or records as expired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub rule: Address,
    pub plan: Address,
    pub resource_arn: String,
    pub vault: String,
    pub windows: Windows,
    pub options: JobOptions,
    /// The start window closed before this tick: record the job as EXPIRED.
    pub expired: bool,
}

fn longer(a: Option<u64>, b: Option<u64>) -> bool {
    a.unwrap_or(u64::MAX) > b.unwrap_or(u64::MAX)
}

/// Runs scheduled in `(since, now]`, per covered resource, after overlaps are resolved.
pub fn due(
    rules: &[RuleInfo],
    coverage: &Coverage,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Due> {
    // which plans cover each resource
    let mut by_plan: BTreeMap<&Address, Vec<&str>> = BTreeMap::new();
    for (arn, protections) in coverage {
        let mut plans: Vec<&Address> = protections.iter().map(|p| &p.plan).collect();
        plans.sort_unstable();
        plans.dedup();
        for p in plans {
            by_plan.entry(p).or_default().push(arn.as_str());
        }
    }
    // every (run, resource) pair, with the retention that decides overlaps
    let mut per_resource: BTreeMap<&str, Vec<(Due, Option<u64>)>> = BTreeMap::new();
    for rule in rules {
        let Some(resources) = by_plan.get(&rule.plan) else {
            continue;
        };
        let mut cursor = since;
        while let Some(start) = rule.schedule.next_after(cursor) {
            if start > now {
                break;
            }
            cursor = start;
            let windows = Windows {
                scheduled_at: start,
                start_by: start + rule.start_window,
                complete_by: start + rule.completion_window,
            };
            for arn in resources {
                per_resource.entry(arn).or_default().push((
                    Due {
                        rule: rule.address.clone(),
                        plan: rule.plan.clone(),
                        resource_arn: arn.to_string(),
                        vault: rule.vault.clone(),
                        windows,
                        options: rule.options.clone(),
                        expired: now > windows.start_by,
                    },
                    rule.options.retention_days(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (_, mut candidates) in per_resource {
        candidates.sort_by(|a, b| {
            (a.0.windows.scheduled_at, &a.0.rule).cmp(&(b.0.windows.scheduled_at, &b.0.rule))
        });
        let mut kept: Vec<(Due, Option<u64>)> = Vec::new();
        for (due, retention) in candidates {
            // a run whose start window overlaps a kept run of another rule competes with it
            let rival = kept.iter().position(|(k, _)| {
                k.rule != due.rule
                    && due.windows.scheduled_at <= k.windows.start_by
                    && k.windows.scheduled_at <= due.windows.start_by
            });
            match rival {
                Some(i) if longer(retention, kept[i].1) => kept[i] = (due, retention),
                Some(_) => {}
                None => kept.push((due, retention)),
            }
        }
        out.extend(kept.into_iter().map(|(d, _)| d));
    }
    out.sort_by(|a, b| {
        (a.windows.scheduled_at, &a.resource_arn, &a.rule).cmp(&(
            b.windows.scheduled_at,
            &b.resource_arn,
            &b.rule,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::Protection;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn rule(plan: &str, name: &str, expr: &str, days: Option<u64>) -> RuleInfo {
        RuleInfo {
            address: format!("plan.{plan}.rule.{name}").parse().unwrap(),
            plan: format!("plan.{plan}").parse().unwrap(),
            schedule: Schedule::parse(expr, None).unwrap(),
            start_window: Duration::hours(1),
            completion_window: Duration::hours(4),
            vault: "main".into(),
            options: JobOptions {
                delete_after: days.map(|d| format!("{d}d")),
                ..JobOptions::default()
            },
        }
    }

    fn covered(pairs: &[(&str, &str)]) -> Coverage {
        let mut c: Coverage = Coverage::new();
        for (arn, plan) in pairs {
            c.entry(arn.to_string()).or_default().push(Protection {
                selection: "selection.s".parse().unwrap(),
                plan: format!("plan.{plan}").parse().unwrap(),
            });
        }
        c
    }

    #[test]
    fn one_job_per_run_and_covered_resource() {
        let rules = [rule("daily", "nightly", "cron(0 3 * * ? *)", Some(35))];
        let cov = covered(&[("arn:a", "daily"), ("arn:b", "daily"), ("arn:c", "other")]);
        let d = due(
            &rules,
            &cov,
            utc("2026-12-05T02:00:00Z"),
            utc("2026-12-05T03:10:00Z"),
        );
        let got: Vec<(&str, bool)> = d
            .iter()
            .map(|d| (d.resource_arn.as_str(), d.expired))
            .collect();
        assert_eq!(got, [("arn:a", false), ("arn:b", false)]);
        assert_eq!(d[0].windows.start_by, utc("2026-12-05T04:00:00Z"));
        assert_eq!(d[0].windows.complete_by, utc("2026-12-05T07:00:00Z"));
        // nothing new at the same instant again
        assert!(due(
            &rules,
            &cov,
            utc("2026-12-05T03:10:00Z"),
            utc("2026-12-05T03:10:00Z")
        )
        .is_empty());
    }

    #[test]
    fn runs_missed_beyond_their_start_window_are_reported_expired() {
        let rules = [rule("daily", "nightly", "cron(0 3 * * ? *)", Some(35))];
        let cov = covered(&[("arn:a", "daily")]);
        // the machine was off for two days
        let d = due(
            &rules,
            &cov,
            utc("2026-12-03T12:00:00Z"),
            utc("2026-12-05T03:30:00Z"),
        );
        let got: Vec<(String, bool)> = d
            .iter()
            .map(|d| (d.windows.scheduled_at.to_rfc3339(), d.expired))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-12-04T03:00:00+00:00".to_string(), true),
                ("2026-12-05T03:00:00+00:00".to_string(), false)
            ]
        );
    }

    #[test]
    fn overlapping_rules_pick_the_longer_retention() {
        // the monthly 03:30 run overlaps the nightly 03:00 run's window on the first Saturday
        let rules = [
            rule("daily", "nightly", "cron(0 3 * * ? *)", Some(35)),
            rule(
                "monthly",
                "first-saturday",
                "cron(30 3 ? * 7#1 *)",
                Some(2555),
            ),
            rule("forever", "keep", "cron(0 23 * * ? *)", None),
        ];
        let cov = covered(&[
            ("arn:a", "daily"),
            ("arn:a", "monthly"),
            ("arn:a", "forever"),
        ]);
        let d = due(
            &rules,
            &cov,
            utc("2026-12-05T00:00:00Z"),
            utc("2026-12-05T23:30:00Z"),
        );
        let got: Vec<String> = d.iter().map(|d| d.rule.to_string()).collect();
        assert_eq!(
            got,
            ["plan.monthly.rule.first-saturday", "plan.forever.rule.keep"]
        );
        // on a day without the monthly run, the nightly one runs
        let d = due(
            &rules,
            &cov,
            utc("2026-12-06T00:00:00Z"),
            utc("2026-12-06T04:00:00Z"),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule.to_string(), "plan.daily.rule.nightly");
    }
}
