//! The overview (`/`): one line saying whether everything is protected and fresh, or how many
//! resources need attention and the worst of them; tiles; jobs of the last 24 hours and 7
//! days by kind and status; the next runs; storage per vault; the last apply and drift.

use super::model::Model;
use super::status::Status;
use crate::jobs::JobKind;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many resources needing attention the overview names.
const ATTENTION_SHOWN: usize = 10;
/// How many next runs it lists.
const NEXT_RUNS: usize = 5;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Overview {
    pub now: DateTime<Utc>,
    /// Everything protected, fresh and its newest run good.
    pub all_good: bool,
    pub headline: String,
    pub resources: u64,
    pub protected: u64,
    pub unprotected: u64,
    /// Past their RPO.
    pub stale: u64,
    /// Two or more scheduled runs in a row ended without a point.
    pub failing: u64,
    pub attention: Vec<Attention>,
    pub jobs_24h: Vec<KindCounts>,
    pub jobs_7d: Vec<KindCounts>,
    pub next_runs: Vec<NextRun>,
    pub vaults: Vec<VaultStorage>,
    pub last_apply: Option<DateTime<Utc>>,
    pub state_serial: u64,
    pub drift: Drift,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attention {
    pub resource_arn: String,
    pub name: Option<String>,
    pub resource_type: String,
    pub status: Status,
    pub failures_in_row: u32,
    pub stale: bool,
    pub last_good: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct KindCounts {
    pub kind: JobKind,
    pub counts: BTreeMap<Status, u64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NextRun {
    pub rule: String,
    pub start: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
    /// Resources the run covers.
    pub resources: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VaultStorage {
    pub vault: String,
    pub points: u64,
    pub bytes: u64,
    /// What its newest `coffer vault check` found (none: never checked).
    pub last_check_status: Option<Status>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Drift {
    /// Whether an inventory discovered since the last apply was compared with it.
    pub checked: bool,
    /// Resources that would gain and lose protection.
    pub gaining: usize,
    pub losing: usize,
    pub message: String,
}

/// Jobs scheduled in `(since, now]`, by kind and status.
pub fn kind_counts(model: &Model, since: DateTime<Utc>) -> Vec<KindCounts> {
    let mut by: BTreeMap<JobKind, BTreeMap<Status, u64>> = BTreeMap::new();
    for j in model.jobs.iter().take_while(|j| j.scheduled_at > since) {
        if j.scheduled_at <= model.now {
            *by.entry(j.kind).or_default().entry(j.status).or_default() += 1;
        }
    }
    by.into_iter()
        .map(|(kind, counts)| KindCounts { kind, counts })
        .collect()
}

pub fn build(model: &Model) -> Overview {
    let now = model.now;
    let total = model.resources.len() as u64;
    let protected = model.resources.iter().filter(|r| r.is_protected()).count() as u64;
    let stale = model.resources.iter().filter(|r| r.stale).count() as u64;
    let failing = model
        .resources
        .iter()
        .filter(|r| r.failures_in_row >= 2)
        .count() as u64;
    let attention = model.attention();
    let unprotected = total - protected;
    let label = |arn: &str, name: &Option<String>| match name {
        Some(n) => format!("{n} ({arn})"),
        None => arn.to_string(),
    };
    let headline = match (attention.first(), unprotected) {
        (None, 0) if total == 0 => "No resources are known yet: apply a configuration".to_string(),
        (None, 0) => format!(
            "All {total} resource{} protected and fresh",
            if total == 1 { " is" } else { "s are" }
        ),
        (Some((worst, status)), _) => {
            let n = attention.len() as u64 + unprotected;
            format!(
                "{n} resource{} need{} attention; the worst: {} ({}{})",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                label(&worst.arn, &worst.name),
                status.word(),
                if worst.failures_in_row >= 2 {
                    format!(", {} failures in a row", worst.failures_in_row)
                } else {
                    String::new()
                }
            )
        }
        (None, n) => {
            let first = model.resources.iter().find(|r| !r.is_protected());
            format!(
                "{n} resource{} not protected by any plan{}",
                if n == 1 { " is" } else { "s are" },
                first
                    .map(|r| format!(", e.g. {}", label(&r.arn, &r.name)))
                    .unwrap_or_default()
            )
        }
    };
    let mut next_runs: Vec<NextRun> = model
        .rules
        .iter()
        .filter_map(|rule| {
            let start = rule.schedule.next_after(now)?;
            Some(NextRun {
                rule: rule.address.to_string(),
                start,
                start_by: start + rule.start_window,
                resources: model.by_plan.get(&rule.plan).map_or(0, Vec::len),
            })
        })
        .collect();
    next_runs.sort_by(|a, b| (a.start, &a.rule).cmp(&(b.start, &b.rule)));
    next_runs.truncate(NEXT_RUNS);
    let drift = match model.drift {
        None => Drift {
            checked: false,
            gaining: 0,
            losing: 0,
            message: "not checked here: this inventory is the one recorded at the last apply (`coffer plan --detailed-exitcode` checks)".into(),
        },
        Some((0, 0)) => Drift {
            checked: true,
            gaining: 0,
            losing: 0,
            message: "none: the discovered inventory gives the coverage of the last apply".into(),
        },
        Some((g, l)) => Drift {
            checked: true,
            gaining: g,
            losing: l,
            message: format!(
                "{g} resource{} would gain and {l} would lose protection since the last apply",
                if g == 1 { "" } else { "s" }
            ),
        },
    };
    Overview {
        now,
        all_good: attention.is_empty() && unprotected == 0 && total > 0,
        headline,
        resources: total,
        protected,
        unprotected,
        stale,
        failing,
        attention: attention
            .iter()
            .take(ATTENTION_SHOWN)
            .map(|(r, s)| Attention {
                resource_arn: r.arn.clone(),
                name: r.name.clone(),
                resource_type: r.resource_type.clone(),
                status: *s,
                failures_in_row: r.failures_in_row,
                stale: r.stale,
                last_good: r.last_good,
                last_error: r.last_error.as_ref().map(|e| e.1.clone()),
            })
            .collect(),
        jobs_24h: kind_counts(model, now - Duration::hours(24)),
        jobs_7d: kind_counts(model, now - Duration::days(7)),
        next_runs,
        vaults: model
            .vaults
            .values()
            .map(|v| VaultStorage {
                vault: v.name.clone(),
                points: v.live_points(),
                bytes: v.live_bytes(),
                last_check_status: v.last_check.as_ref().map(super::vaults::check_status),
            })
            .collect(),
        last_apply: model.last_apply,
        state_serial: model.serial,
        drift,
    }
}
