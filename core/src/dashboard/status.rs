//! The dashboard's one status vocabulary (ok, ok with issues, failed, running, missed,
//! expired, not yet protected), how a job's state maps onto it, and which of two is worse.

use crate::jobs::record::JobRecord;
use crate::jobs::JobState;
use serde::Serialize;

/// A day's, a run's or a resource's status, ordered from best to worst: the worst of a day's
/// runs is the day's.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Before the resource was covered by a plan (or before coffer could run for it).
    NotYetProtected,
    Ok,
    /// Created, pending, running or aborting.
    Running,
    /// PARTIAL, or COMPLETED with a warning.
    OkWithIssues,
    /// The start window closed before the job could start.
    Expired,
    /// The schedule expected a run and no job exists for it.
    Missed,
    /// FAILED or ABORTED.
    Failed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Ok,
        Status::OkWithIssues,
        Status::Failed,
        Status::Running,
        Status::Missed,
        Status::Expired,
        Status::NotYetProtected,
    ];

    /// The word shown beside the icon.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::OkWithIssues => "ok with issues",
            Status::Failed => "failed",
            Status::Running => "running",
            Status::Missed => "missed",
            Status::Expired => "expired",
            Status::NotYetProtected => "not yet protected",
        }
    }

    /// The JSON name, also the CSS class suffix.
    pub fn key(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::OkWithIssues => "ok_with_issues",
            Status::Failed => "failed",
            Status::Running => "running",
            Status::Missed => "missed",
            Status::Expired => "expired",
            Status::NotYetProtected => "not_yet_protected",
        }
    }

    /// A glyph that tells the statuses apart without colour.
    pub fn icon(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::OkWithIssues => "⚠",
            Status::Failed => "✕",
            Status::Running => "↻",
            Status::Missed => "◌",
            Status::Expired => "⊘",
            Status::NotYetProtected => "–",
        }
    }

    /// One letter for a heat-map cell.
    pub fn letter(self) -> &'static str {
        match self {
            Status::Ok => "",
            Status::OkWithIssues => "!",
            Status::Failed => "F",
            Status::Running => "R",
            Status::Missed => "M",
            Status::Expired => "E",
            Status::NotYetProtected => "",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == text)
    }

    /// A run that left a usable point.
    pub fn is_good(self) -> bool {
        matches!(self, Status::Ok | Status::OkWithIssues)
    }

    /// A run that ended without a point.
    pub fn is_bad(self) -> bool {
        matches!(self, Status::Failed | Status::Expired | Status::Missed)
    }
}

/// A job's status.
pub fn of_job(job: &JobRecord) -> Status {
    match job.state() {
        JobState::Created | JobState::Pending | JobState::Running | JobState::Aborting => {
            Status::Running
        }
        JobState::Completed if job.warning.is_some() => Status::OkWithIssues,
        JobState::Completed => Status::Ok,
        JobState::Partial => Status::OkWithIssues,
        JobState::Failed | JobState::Aborted => Status::Failed,
        JobState::Expired => Status::Expired,
    }
}
