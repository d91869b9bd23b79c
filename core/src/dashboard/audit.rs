//! Compliance and restore tests (`/audit`): each applied control with its status, counts and
//! the evidence per resource; each restore test's restore with its result, restore time
//! against the RTO and message.

use super::model::Model;
use crate::controls::Status as Compliance;
use crate::jobs::restore_test;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Resources listed per control, non-compliant first.
const RESOURCES_SHOWN: usize = 50;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Audit {
    pub now: DateTime<Utc>,
    pub controls: Vec<ControlView>,
    /// The tightest restore time a control allows (seconds), and where it comes from.
    pub rto_seconds: Option<i64>,
    pub rto_source: Option<String>,
    pub restore_tests: Vec<TestView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ControlView {
    pub framework: String,
    pub control: String,
    pub description: String,
    pub status: Compliance,
    pub compliant: usize,
    pub non_compliant: usize,
    pub resources: Vec<EvidenceView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EvidenceView {
    pub resource_arn: String,
    pub status: Compliance,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TestView {
    pub job_id: String,
    pub test: String,
    pub selection: String,
    pub resource_arn: String,
    pub recovery_point_id: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    pub state: String,
    /// SUCCESSFUL, FAILED or TIMED_OUT once validated.
    pub validation_status: Option<String>,
    pub restore_seconds: Option<i64>,
    /// Whether the restore took no longer than the RTO (none: no RTO, or not finished).
    pub within_rto: Option<bool>,
    pub message: Option<String>,
}

pub fn build(model: &Model) -> Audit {
    let rto = model.rto.as_ref();
    Audit {
        now: model.now,
        controls: model
            .controls
            .iter()
            .map(|c| {
                let mut resources: Vec<EvidenceView> = c
                    .resources
                    .iter()
                    .map(|r| EvidenceView {
                        resource_arn: r.arn.clone(),
                        status: r.status,
                        reason: r.reason.clone(),
                    })
                    .collect();
                resources
                    .sort_by(|a, b| (b.status, &a.resource_arn).cmp(&(a.status, &b.resource_arn)));
                resources.truncate(RESOURCES_SHOWN);
                ControlView {
                    framework: c.framework.clone(),
                    control: c.control.name().to_string(),
                    description: c.control.describe().to_string(),
                    status: c.status,
                    compliant: c.count(Compliance::Compliant),
                    non_compliant: c.count(Compliance::NonCompliant),
                    resources,
                }
            })
            .collect(),
        rto_seconds: rto.map(|r| r.0.num_seconds()),
        rto_source: rto.map(|r| r.1.clone()),
        restore_tests: model
            .restore_tests
            .iter()
            .map(|t| {
                let (test, selection) = t
                    .rule
                    .as_deref()
                    .and_then(restore_test::parse_label)
                    .unwrap_or(("", ""));
                TestView {
                    job_id: t.id.clone(),
                    test: test.to_string(),
                    selection: selection.to_string(),
                    resource_arn: t.resource_arn.clone(),
                    recovery_point_id: t.recovery_point_id.clone(),
                    scheduled_at: t.scheduled_at,
                    state: t.state.clone(),
                    validation_status: t.validation_status.clone(),
                    restore_seconds: t.duration_seconds,
                    within_rto: rto
                        .zip(t.duration_seconds)
                        .map(|(r, s)| s <= r.0.num_seconds()),
                    message: t.message.clone(),
                }
            })
            .collect(),
    }
}
