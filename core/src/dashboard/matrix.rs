//! The protection matrix (`/matrix?days=30`): resources grouped by plan and type, by day, each
//! cell the day's worst status including missed runs; per row freshness against the RPO, the
//! success ratio (good points ÷ expected runs), failures in a row and the last error; filters
//! by type, vault and tag; paginated.

use super::model::{Model, ResourceRoll, HISTORY_DAYS};
use super::status::Status;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

pub const ROWS_PER_PAGE: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub days: i64,
    pub resource_type: Option<String>,
    pub vault: Option<String>,
    /// `KEY=VALUE`, or `KEY` for any value.
    pub tag: Option<String>,
    /// From 1.
    pub page: usize,
}

impl Query {
    /// Days clamped to 1..=90, page to at least 1.
    pub fn normalised(mut self) -> Query {
        self.days = self.days.clamp(1, HISTORY_DAYS);
        self.page = self.page.max(1);
        self
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Matrix {
    pub now: DateTime<Utc>,
    pub days: Vec<NaiveDate>,
    pub resource_type: Option<String>,
    pub vault: Option<String>,
    pub tag: Option<String>,
    pub page: usize,
    pub pages: usize,
    /// Rows that pass the filters, on all pages.
    pub rows: usize,
    pub groups: Vec<Group>,
    /// What the filters can choose from.
    pub resource_types: Vec<String>,
    pub vaults: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Group {
    /// The plan (empty: not protected by any plan).
    pub plan: String,
    pub resource_type: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Row {
    pub resource_arn: String,
    pub name: Option<String>,
    pub cells: Vec<DayCell>,
    pub last_good: Option<DateTime<Utc>>,
    /// Seconds since the newest good point.
    pub age_seconds: Option<i64>,
    pub rpo_seconds: Option<i64>,
    pub stale: bool,
    pub expected: u32,
    pub good: u32,
    /// good ÷ expected over the days shown (none: no run was expected).
    pub success_ratio: Option<f64>,
    pub failures_in_row: u32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DayCell {
    pub date: NaiveDate,
    pub status: Option<Status>,
    pub expected: u32,
    pub good: u32,
    /// Runs of the day, as `3 ok, 1 failed`.
    pub summary: String,
}

fn tag_matches(r: &ResourceRoll, tag: &str) -> bool {
    match tag.split_once('=') {
        Some((k, v)) => r.tags.get(k).is_some_and(|x| x == v),
        None => r.tags.contains_key(tag),
    }
}

pub fn build(model: &Model, q: Query) -> Matrix {
    let q = q.normalised();
    let today = model.today();
    let days: Vec<NaiveDate> = (0..q.days)
        .rev()
        .map(|back| today - Duration::days(back))
        .collect();
    let passing: Vec<&ResourceRoll> = model
        .resources
        .iter()
        .filter(|r| {
            q.resource_type
                .as_ref()
                .is_none_or(|t| &r.resource_type == t)
        })
        .filter(|r| q.vault.as_ref().is_none_or(|v| r.vaults.contains(v)))
        .filter(|r| q.tag.as_ref().is_none_or(|t| tag_matches(r, t)))
        .collect();
    let pages = passing.len().div_ceil(ROWS_PER_PAGE).max(1);
    let page = q.page.min(pages);
    let mut groups: Vec<Group> = Vec::new();
    for r in passing
        .iter()
        .skip((page - 1) * ROWS_PER_PAGE)
        .take(ROWS_PER_PAGE)
    {
        let cells: Vec<DayCell> = days
            .iter()
            .map(|d| {
                let c = r.days.get(d);
                let summary = c
                    .map(|c| {
                        c.counts
                            .iter()
                            .map(|(s, n)| format!("{n} {}", s.word()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| match c.and_then(|c| c.worst) {
                        Some(s) => s.word().to_string(),
                        None => "no run due".to_string(),
                    });
                DayCell {
                    date: *d,
                    status: c.and_then(|c| c.worst),
                    expected: c.map_or(0, |c| c.expected),
                    good: c.map_or(0, |c| c.good),
                    summary,
                }
            })
            .collect();
        let expected: u32 = cells.iter().map(|c| c.expected).sum();
        let good: u32 = cells.iter().map(|c| c.good).sum();
        let row = Row {
            resource_arn: r.arn.clone(),
            name: r.name.clone(),
            cells,
            last_good: r.last_good,
            age_seconds: r.last_good.map(|t| (model.now - t).num_seconds()),
            rpo_seconds: r.rpo.as_ref().map(|x| x.0.num_seconds()),
            stale: r.stale,
            expected,
            good,
            success_ratio: (expected > 0).then(|| good as f64 / expected as f64),
            failures_in_row: r.failures_in_row,
            last_error: r.last_error.as_ref().map(|e| e.1.clone()),
        };
        match groups.last_mut() {
            Some(g) if g.plan == r.group() && g.resource_type == r.resource_type => {
                g.rows.push(row)
            }
            _ => groups.push(Group {
                plan: r.group().to_string(),
                resource_type: r.resource_type.clone(),
                rows: vec![row],
            }),
        }
    }
    let types: BTreeSet<&String> = model.resources.iter().map(|r| &r.resource_type).collect();
    Matrix {
        now: model.now,
        days,
        resource_type: q.resource_type,
        vault: q.vault,
        tag: q.tag,
        page,
        pages,
        rows: passing.len(),
        groups,
        resource_types: types.into_iter().cloned().collect(),
        vaults: model.vaults.keys().cloned().collect(),
    }
}
