//! The schedule (`/schedule`): the next 48 hours of every rule, with its windows and the
//! resources each run covers, and the runs recently missed.

use super::model::{MissedRun, Model};
use crate::schedule::describe::describe;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub const HOURS: i64 = 48;
/// Runs listed per rule, at most.
const RUNS_SHOWN: usize = 48;
/// Resources named per rule, at most.
const RESOURCES_NAMED: usize = 20;
/// Missed runs of the last week listed, at most.
const MISSED_SHOWN: usize = 100;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScheduleView {
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub rules: Vec<RuleAgenda>,
    /// Runs of the last 7 days that the schedule expected and no job exists for.
    pub missed: Vec<MissedRun>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RuleAgenda {
    pub rule: String,
    pub plan: String,
    pub vault: String,
    pub description: String,
    pub timezone: String,
    /// Minutes.
    pub start_window_minutes: i64,
    pub completion_window_minutes: i64,
    pub resources: usize,
    /// The first resources covered, by ARN.
    pub resource_arns: Vec<String>,
    pub runs: Vec<AgendaRun>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgendaRun {
    pub start: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
    pub complete_by: DateTime<Utc>,
}

pub fn build(model: &Model) -> ScheduleView {
    let now = model.now;
    let until = now + Duration::hours(HOURS);
    let rules = model
        .rules
        .iter()
        .map(|rule| {
            let covered = model.by_plan.get(&rule.plan);
            RuleAgenda {
                rule: rule.address.to_string(),
                plan: rule.plan.to_string(),
                vault: rule.vault.clone(),
                description: describe(&rule.schedule),
                timezone: rule.schedule.tz.name().to_string(),
                start_window_minutes: rule.start_window.num_minutes(),
                completion_window_minutes: rule.completion_window.num_minutes(),
                resources: covered.map_or(0, Vec::len),
                resource_arns: covered
                    .map(|c| c.iter().take(RESOURCES_NAMED).cloned().collect())
                    .unwrap_or_default(),
                runs: rule
                    .schedule
                    .runs(
                        now,
                        Some(until),
                        RUNS_SHOWN,
                        rule.start_window,
                        rule.completion_window,
                    )
                    .into_iter()
                    .map(|r| AgendaRun {
                        start: r.start,
                        start_by: r.start_by,
                        complete_by: r.complete_by,
                    })
                    .collect(),
            }
        })
        .collect();
    ScheduleView {
        now,
        until,
        rules,
        missed: model
            .missed
            .iter()
            .take_while(|m| m.scheduled_at > now - Duration::days(7))
            .take(MISSED_SHOWN)
            .cloned()
            .collect(),
    }
}
