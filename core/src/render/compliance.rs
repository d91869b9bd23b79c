//! Compliance reports (`coffer report controls|resources`): the rows of AWS Backup's control
//! and resource compliance report templates, built from evaluated controls, and rendered as
//! a text table for people (with every non-compliant resource and why), CSV and JSON for
//! tools, and markdown for a pull request or wiki. Pure.

use super::{rfc3339, table};
use crate::controls::{ControlResult, Status};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Write as _;

/// One control of a framework (AWS's CONTROL_COMPLIANCE_REPORT); schema in
/// schema/report-controls.schema.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlRow {
    pub framework_name: String,
    pub control_name: String,
    /// COMPLIANT or NON_COMPLIANT.
    pub control_compliance_status: Status,
    /// RFC 3339, seconds.
    pub last_evaluation_time: String,
    pub num_resources_compliant: usize,
    pub num_resources_non_compliant: usize,
    /// The resources evaluated, in words (`all resources`, `types EBS; tags Env=prod`).
    pub control_scope: String,
    /// The parameters in force, defaults included (`max_age=1d`), `;`-separated.
    pub control_parameters: String,
}

/// One resource under one control (AWS's RESOURCE_COMPLIANCE_REPORT); schema in
/// schema/report-resources.schema.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRow {
    pub framework_name: String,
    pub control_name: String,
    /// The resource's ARN (`dir:PATH` for a directory).
    pub resource_id: String,
    /// EBS, EC2, RDS, Aurora, EFS, DynamoDB or directory.
    pub resource_type: String,
    pub resource_name: Option<String>,
    /// COMPLIANT or NON_COMPLIANT.
    pub resource_compliance_status: Status,
    /// The evidence, either way ("newest point is 31h old, the control allows 24h").
    pub reason: String,
    pub last_evaluation_time: String,
}

pub fn control_rows(results: &[ControlResult], now: DateTime<Utc>) -> Vec<ControlRow> {
    results
        .iter()
        .map(|c| ControlRow {
            framework_name: c.framework.clone(),
            control_name: c.control.name().to_string(),
            control_compliance_status: c.status,
            last_evaluation_time: rfc3339(now),
            num_resources_compliant: c.count(Status::Compliant),
            num_resources_non_compliant: c.count(Status::NonCompliant),
            control_scope: c.scope.describe(),
            control_parameters: c.parameters.describe().join(";"),
        })
        .collect()
}

pub fn resource_rows(results: &[ControlResult], now: DateTime<Utc>) -> Vec<ResourceRow> {
    results
        .iter()
        .flat_map(|c| {
            c.resources.iter().map(|r| ResourceRow {
                framework_name: c.framework.clone(),
                control_name: c.control.name().to_string(),
                resource_id: r.arn.clone(),
                resource_type: r.resource_type.as_str().to_string(),
                resource_name: r.name.clone(),
                resource_compliance_status: r.status,
                reason: r.reason.clone(),
                last_evaluation_time: rfc3339(now),
            })
        })
        .collect()
}

pub const CONTROL_COLUMNS: [&str; 8] = [
    "frameworkName",
    "controlName",
    "controlComplianceStatus",
    "lastEvaluationTime",
    "numResourcesCompliant",
    "numResourcesNonCompliant",
    "controlScope",
    "controlParameters",
];

pub const RESOURCE_COLUMNS: [&str; 8] = [
    "frameworkName",
    "controlName",
    "resourceId",
    "resourceType",
    "resourceName",
    "resourceComplianceStatus",
    "reason",
    "lastEvaluationTime",
];

fn control_cells(r: &ControlRow) -> [String; 8] {
    [
        r.framework_name.clone(),
        r.control_name.clone(),
        r.control_compliance_status.as_str().into(),
        r.last_evaluation_time.clone(),
        r.num_resources_compliant.to_string(),
        r.num_resources_non_compliant.to_string(),
        r.control_scope.clone(),
        r.control_parameters.clone(),
    ]
}

fn resource_cells(r: &ResourceRow) -> [String; 8] {
    [
        r.framework_name.clone(),
        r.control_name.clone(),
        r.resource_id.clone(),
        r.resource_type.clone(),
        r.resource_name.clone().unwrap_or_default(),
        r.resource_compliance_status.as_str().into(),
        r.reason.clone(),
        r.last_evaluation_time.clone(),
    ]
}

pub fn controls_csv(rows: &[ControlRow]) -> String {
    let cells: Vec<[String; 8]> = rows.iter().map(control_cells).collect();
    table::csv(&CONTROL_COLUMNS, &cells)
}

pub fn resources_csv(rows: &[ResourceRow]) -> String {
    let cells: Vec<[String; 8]> = rows.iter().map(resource_cells).collect();
    table::csv(&RESOURCE_COLUMNS, &cells)
}

/// `3 COMPLIANT, 1 NON_COMPLIANT`, non-compliant first.
fn tally<'a>(statuses: impl Iterator<Item = &'a Status>, what: &str) -> String {
    let (mut good, mut bad) = (0, 0);
    for s in statuses {
        match s {
            Status::Compliant => good += 1,
            Status::NonCompliant => bad += 1,
        }
    }
    if good + bad == 0 {
        return format!("no {what}");
    }
    match (bad, good) {
        (0, g) => format!("{g} COMPLIANT"),
        (b, 0) => format!("{b} NON_COMPLIANT"),
        (b, g) => format!("{b} NON_COMPLIANT, {g} COMPLIANT"),
    }
}

const CONTROL_HEADER: [&str; 6] = [
    "FRAMEWORK",
    "CONTROL",
    "STATUS",
    "RESOURCES",
    "SCOPE",
    "PARAMETERS",
];

fn control_person(r: &ControlRow) -> [String; 6] {
    let total = r.num_resources_compliant + r.num_resources_non_compliant;
    [
        r.framework_name.clone(),
        r.control_name.clone(),
        r.control_compliance_status.as_str().into(),
        if r.num_resources_non_compliant == 0 {
            format!("{total} ok")
        } else {
            format!("{} of {total} failing", r.num_resources_non_compliant)
        },
        r.control_scope.clone(),
        r.control_parameters.replace(';', ", "),
    ]
}

/// Every non-compliant resource, grouped by control: what a person on call reads.
fn failures(results: &[ControlResult], markdown: bool) -> String {
    let mut out = String::new();
    for c in results.iter().filter(|c| c.status == Status::NonCompliant) {
        if markdown {
            let _ = writeln!(out, "\n**{} / {}**\n", c.framework, c.control.name());
        } else {
            let _ = writeln!(out, "\n{} / {}:", c.framework, c.control.name());
        }
        for r in c
            .resources
            .iter()
            .filter(|r| r.status == Status::NonCompliant)
        {
            let name = r
                .name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            if markdown {
                let _ = writeln!(
                    out,
                    "- `{}`{}: {}",
                    r.arn,
                    table::md_cell(&name),
                    table::md_cell(&r.reason)
                );
            } else {
                let _ = writeln!(out, "  {}{name}: {}", r.arn, r.reason);
            }
        }
    }
    out
}

fn headline(results: &[ControlResult], now: DateTime<Utc>) -> String {
    if results.is_empty() {
        return format!(
            "Controls at {}: no framework is applied (add a `framework` block and run `coffer apply`)",
            rfc3339(now)
        );
    }
    format!(
        "Controls at {}: {}",
        rfc3339(now),
        tally(results.iter().map(|c| &c.status), "controls")
    )
}

pub fn controls_text(results: &[ControlResult], now: DateTime<Utc>) -> String {
    let mut out = headline(results, now);
    out.push('\n');
    if results.is_empty() {
        return out;
    }
    let rows: Vec<[String; 6]> = control_rows(results, now)
        .iter()
        .map(control_person)
        .collect();
    out.push_str(&table::text(&CONTROL_HEADER, &rows));
    out.push_str(&failures(results, false));
    out
}

pub fn controls_markdown(results: &[ControlResult], now: DateTime<Utc>) -> String {
    let mut out = format!("### {}\n", headline(results, now));
    if results.is_empty() {
        return out;
    }
    out.push('\n');
    let rows: Vec<[String; 6]> = control_rows(results, now)
        .iter()
        .map(control_person)
        .collect();
    out.push_str(&table::markdown(&CONTROL_HEADER, &rows));
    out.push_str(&failures(results, true));
    out
}

const RESOURCE_HEADER: [&str; 5] = ["FRAMEWORK", "CONTROL", "STATUS", "RESOURCE", "REASON"];

fn resource_person(r: &ResourceRow) -> [String; 5] {
    [
        r.framework_name.clone(),
        r.control_name.clone(),
        r.resource_compliance_status.as_str().into(),
        r.resource_id.clone(),
        r.reason.clone(),
    ]
}

fn resources_headline(rows: &[ResourceRow], now: DateTime<Utc>) -> String {
    format!(
        "Resources under controls at {}: {}",
        rfc3339(now),
        tally(
            rows.iter().map(|r| &r.resource_compliance_status),
            "resources evaluated"
        )
    )
}

pub fn resources_text(rows: &[ResourceRow], now: DateTime<Utc>) -> String {
    let mut out = resources_headline(rows, now);
    out.push('\n');
    if !rows.is_empty() {
        let cells: Vec<[String; 5]> = rows.iter().map(resource_person).collect();
        out.push_str(&table::text(&RESOURCE_HEADER, &cells));
    }
    out
}

pub fn resources_markdown(rows: &[ResourceRow], now: DateTime<Utc>) -> String {
    let mut out = format!("### {}\n", resources_headline(rows, now));
    if !rows.is_empty() {
        out.push('\n');
        let cells: Vec<[String; 5]> = rows.iter().map(resource_person).collect();
        out.push_str(&table::markdown(&RESOURCE_HEADER, &cells));
    }
    out
}
