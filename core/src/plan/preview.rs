//! Schedule previews for plans: when a rule's schedule, time zone or windows change, the
//! next three runs before and after the change, so a reviewer sees what the edit does.

use crate::objects::{attrs, RuleAttrs};
use crate::schedule::occurrence::parse_timezone;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many runs a preview shows on each side.
pub const PREVIEW_RUNS: usize = 3;

/// Attributes whose change triggers a preview.
pub const SCHEDULE_ATTRIBUTES: &[&str] =
    &["schedule", "timezone", "start_window", "completion_window"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRun {
    pub start: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
    pub complete_by: DateTime<Utc>,
}

/// The next runs under the recorded and the configured rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePreview {
    pub timezone_before: String,
    pub timezone_after: String,
    pub before: Vec<PreviewRun>,
    pub after: Vec<PreviewRun>,
}

fn runs_of(attributes: &Value, now: DateTime<Utc>) -> Option<(String, Vec<PreviewRun>)> {
    let rule: RuleAttrs = attrs::read(&"rule", attributes).ok()?;
    let tz_name = rule.timezone.as_str();
    let tz = parse_timezone(tz_name)?;
    let schedule = Schedule::parse(&rule.schedule, Some(tz)).ok()?;
    let (start_window, completion_window) = (
        rule.start_window.to_chrono(),
        rule.completion_window.to_chrono(),
    );
    let runs = schedule
        .runs(now, None, PREVIEW_RUNS, start_window, completion_window)
        .into_iter()
        .map(|r| PreviewRun {
            start: r.start,
            start_by: r.start_by,
            complete_by: r.complete_by,
        })
        .collect();
    Some((tz_name.to_string(), runs))
}

/// A preview if the change touches the schedule or its windows.
pub fn preview(
    before: &Value,
    after: &Value,
    changed_paths: &[&str],
    now: DateTime<Utc>,
) -> Option<SchedulePreview> {
    if !changed_paths
        .iter()
        .any(|p| SCHEDULE_ATTRIBUTES.contains(p))
    {
        return None;
    }
    let (timezone_before, before) = runs_of(before, now)?;
    let (timezone_after, after) = runs_of(after, now)?;
    Some(SchedulePreview {
        timezone_before,
        timezone_after,
        before,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn previews_only_schedule_changes() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let before = json!({"schedule": "cron(0 3 * * ? *)", "timezone": "UTC", "start_window": "1h", "completion_window": "4h", "target_vault": "vault.main", "lifecycle": null});
        let after = json!({"schedule": "cron(0 4 * * ? *)", "timezone": "Europe/Paris", "start_window": "2h", "completion_window": "4h", "target_vault": "vault.main", "lifecycle": null});
        let p = preview(&before, &after, &["schedule"], now).unwrap();
        assert_eq!(p.before[0].start.to_rfc3339(), "2026-11-27T03:00:00+00:00");
        assert_eq!(
            p.after[0].start.to_rfc3339(),
            "2026-11-27T03:00:00+00:00",
            "04:00 in Paris is 03:00 UTC"
        );
        assert_eq!(
            p.after[0].start_by.to_rfc3339(),
            "2026-11-27T05:00:00+00:00"
        );
        assert_eq!(p.before.len(), 3);
        assert!(preview(&before, &after, &["recovery_point_tags"], now).is_none());
    }
}
