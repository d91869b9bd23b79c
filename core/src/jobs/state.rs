//! Job states and windows. A job is CREATED when a rule's run comes due, PENDING while it
//! waits for a slot, RUNNING while the snapshot or file backup is made, and ends COMPLETED,
//! PARTIAL (some files unreadable), FAILED, EXPIRED (not started by its start-by time) or
//! ABORTED (not finished by its complete-by time, after ABORTING cleans up). Everything here is
//! a function of its arguments, the clock included.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// AWS Backup's backup job states.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Created,
    Pending,
    Running,
    Aborting,
    Aborted,
    Completed,
    Failed,
    Expired,
    Partial,
}

impl JobState {
    pub const ALL: [JobState; 9] = [
        JobState::Created,
        JobState::Pending,
        JobState::Running,
        JobState::Aborting,
        JobState::Aborted,
        JobState::Completed,
        JobState::Failed,
        JobState::Expired,
        JobState::Partial,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Created => "CREATED",
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Aborting => "ABORTING",
            JobState::Aborted => "ABORTED",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Expired => "EXPIRED",
            JobState::Partial => "PARTIAL",
        }
    }

    /// Reads a state name as given to `--state` (case-insensitive).
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// No transition leaves a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Aborted
                | JobState::Completed
                | JobState::Failed
                | JobState::Expired
                | JobState::Partial
        )
    }

    /// Whether a job may go from `self` to `next`.
    pub fn can_become(self, next: JobState) -> bool {
        use JobState::*;
        matches!(
            (self, next),
            (Created, Pending | Running | Expired | Failed | Aborted)
                | (Pending, Running | Expired | Failed | Aborted)
                | (Running, Completed | Partial | Failed | Aborting)
                | (Aborting, Aborted | Failed)
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a job's run was scheduled, and by when it must start and complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Windows {
    pub scheduled_at: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
    pub complete_by: DateTime<Utc>,
}

impl Windows {
    /// AWS Backup's on-demand defaults: a job started by hand (`backup start`, `restore
    /// start`) must start within 8 hours and complete within 7 days.
    pub fn on_demand(now: DateTime<Utc>) -> Windows {
        Windows {
            scheduled_at: now,
            start_by: now + chrono::Duration::hours(8),
            complete_by: now + chrono::Duration::days(7),
        }
    }
}

/// The transition the windows force at `now`, if any: a job that has not started by its
/// start-by time expires; one still running at its complete-by time is aborted. Both limits
/// are inclusive: a job may still start at exactly its start-by time.
pub fn forced_transition(
    state: JobState,
    windows: &Windows,
    now: DateTime<Utc>,
) -> Option<JobState> {
    match state {
        JobState::Created | JobState::Pending if now > windows.start_by => Some(JobState::Expired),
        JobState::Running if now > windows.complete_by => Some(JobState::Aborting),
        _ => None,
    }
}

/// A refused transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} job cannot become {to}")]
pub struct TransitionError {
    pub from: JobState,
    pub to: JobState,
}

/// A job's states with the time of every transition, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub transitions: Vec<(JobState, DateTime<Utc>)>,
}

impl History {
    /// A new job, CREATED at `at`.
    pub fn created(at: DateTime<Utc>) -> History {
        History {
            transitions: vec![(JobState::Created, at)],
        }
    }

    pub fn state(&self) -> JobState {
        self.transitions
            .last()
            .map_or(JobState::Created, |(s, _)| *s)
    }

    /// Moves to `next` at `at`, if the state machine allows it; times never go backwards.
    pub fn advance(&mut self, next: JobState, at: DateTime<Utc>) -> Result<(), TransitionError> {
        let from = self.state();
        if !from.can_become(next) {
            return Err(TransitionError { from, to: next });
        }
        let last = self.transitions.last().map(|(_, t)| *t);
        self.transitions
            .push((next, last.map_or(at, |l| l.max(at))));
        Ok(())
    }

    /// When the job entered `state`, if it did.
    pub fn entered(&self, state: JobState) -> Option<DateTime<Utc>> {
        self.transitions
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, t)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, h, m, 0).unwrap()
    }

    fn windows() -> Windows {
        // a 06:00 run with a 2-hour start window and an 8-hour completion window
        Windows {
            scheduled_at: t(6, 0),
            start_by: t(8, 0),
            complete_by: t(14, 0),
        }
    }

    #[test]
    fn names_round_trip_and_parse_case_insensitively() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(JobState::parse("completed"), Some(JobState::Completed));
        assert_eq!(JobState::parse("DONE"), None);
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for from in JobState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in JobState::ALL {
                assert!(!from.can_become(to), "{from} -> {to}");
            }
        }
        assert!(!JobState::Running.is_terminal());
    }

    #[test]
    fn every_non_terminal_state_can_still_end() {
        for from in JobState::ALL.into_iter().filter(|s| !s.is_terminal()) {
            assert!(
                JobState::ALL
                    .into_iter()
                    .any(|to| to.is_terminal() && from.can_become(to)),
                "{from} can never end"
            );
        }
    }

    #[test]
    fn happy_path_and_refusals() {
        let mut h = History::created(t(6, 0));
        h.advance(JobState::Pending, t(6, 0)).unwrap();
        h.advance(JobState::Running, t(6, 5)).unwrap();
        h.advance(JobState::Completed, t(6, 40)).unwrap();
        assert_eq!(h.state(), JobState::Completed);
        assert_eq!(h.entered(JobState::Running), Some(t(6, 5)));
        let e = h.advance(JobState::Running, t(7, 0)).unwrap_err();
        assert_eq!(e.to_string(), "a COMPLETED job cannot become RUNNING");
        // a completed job was never expired, and running cannot go back to pending
        let mut r = History::created(t(6, 0));
        r.advance(JobState::Running, t(6, 1)).unwrap();
        assert!(r.advance(JobState::Pending, t(6, 2)).is_err());
        assert!(
            r.advance(JobState::Expired, t(9, 0)).is_err(),
            "a running job aborts, it does not expire"
        );
    }

    #[test]
    fn transition_times_never_go_backwards() {
        let mut h = History::created(t(6, 30));
        h.advance(JobState::Running, t(6, 0)).unwrap();
        assert_eq!(h.entered(JobState::Running), Some(t(6, 30)));
    }

    #[test]
    fn windows_expire_late_starts_and_abort_late_finishes() {
        let w = windows();
        // start window: inclusive at 08:00, expired a moment later
        assert_eq!(forced_transition(JobState::Created, &w, t(8, 0)), None);
        assert_eq!(
            forced_transition(JobState::Pending, &w, t(8, 0) + Duration::seconds(1)),
            Some(JobState::Expired)
        );
        assert_eq!(
            forced_transition(JobState::Created, &w, t(13, 0)),
            Some(JobState::Expired)
        );
        // a job that started in time may run until complete-by
        assert_eq!(forced_transition(JobState::Running, &w, t(9, 0)), None);
        assert_eq!(forced_transition(JobState::Running, &w, t(14, 0)), None);
        assert_eq!(
            forced_transition(JobState::Running, &w, t(14, 1)),
            Some(JobState::Aborting)
        );
        // finished or already aborting jobs are left alone
        for s in [
            JobState::Completed,
            JobState::Failed,
            JobState::Aborting,
            JobState::Expired,
            JobState::Partial,
        ] {
            assert_eq!(forced_transition(s, &w, t(23, 0)), None, "{s}");
        }
    }
}
