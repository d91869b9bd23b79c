//! Plans: the serializable artifact that says what apply will do (per-object actions with
//! attribute-level changes, and the ordered steps), computed purely from configuration,
//! state and `now`.

pub mod compute;
pub mod copies;
pub mod diff;
pub mod drift;
pub mod forecast;
pub mod preview;

use crate::address::{Address, Kind};
use crate::objects::ObjectSpec;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use compute::{compute, vault_destroy_refusal, PlanError, PlanInput};
pub use diff::{AttributeChange, ChangeAction};

/// The plan format this coffer writes and reads.
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Make the real objects match the configuration.
    Normal,
    /// Remove every object in state.
    Destroy,
    /// Leave objects as recorded; only report coverage changes that come from the cloud.
    DriftOnly,
}

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "create")]
    Create,
    #[serde(rename = "update")]
    Update,
    #[serde(rename = "replace")]
    Replace,
    #[serde(rename = "delete")]
    Delete,
    #[serde(rename = "no-op")]
    NoOp,
}

impl Action {
    /// The Terraform-style marker (`+`, `~`, `-/+`, `-`).
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoOp => " ",
        }
    }
}

/// The state a plan was computed against; apply refuses a plan whose state has moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    /// `None` when there was no state yet.
    pub lineage: Option<String>,
    pub serial: u64,
}

/// The planned change of one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub kind: Kind,
    pub action: Action,
    /// Attributes as recorded in state (`null` for creates, and for no-ops, whose recorded
    /// attributes equal `after`).
    pub before: Option<serde_json::Value>,
    /// Attributes as configured (`null` for deletes).
    pub after: Option<serde_json::Value>,
    /// Attribute-level differences (empty for no-ops).
    pub attribute_changes: Vec<AttributeChange>,
    /// For rules whose schedule, time zone or windows change: the next runs before and after.
    pub schedule_preview: Option<preview::SchedulePreview>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Delete,
    Create,
    Update,
}

/// One unit of work for apply, in execution order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub address: Address,
    pub operation: Operation,
    /// The object to create or update to (absent for deletes).
    pub object: Option<ObjectSpec>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Protections gained (resource, selection) and lost.
    #[serde(default)]
    pub protection_gained: usize,
    #[serde(default)]
    pub protection_lost: usize,
}

impl Summary {
    /// No object and no coverage changes.
    pub fn is_empty(&self) -> bool {
        self.objects_unchanged() && self.protection_gained == 0 && self.protection_lost == 0
    }

    pub fn objects_unchanged(&self) -> bool {
        self.add == 0 && self.change == 0 && self.destroy == 0
    }
}

/// Where the inventory a plan's coverage was computed from came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventorySource {
    /// Discovered just now.
    Refreshed,
    /// Recorded at the last apply (`--refresh=false`).
    Recorded,
}

/// The protection part of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoveragePlan {
    pub inventory_source: InventorySource,
    /// Resources in the inventory.
    pub resources: usize,
    pub gained: Vec<crate::coverage::CoverageChange>,
    pub lost: Vec<crate::coverage::CoverageChange>,
    /// Selections that cover no resource.
    pub unmatched_selections: Vec<Address>,
    /// Resources covered by several plans, and which rule wins.
    pub overlaps: Vec<crate::coverage::Overlap>,
    /// The coverage apply records.
    pub coverage: crate::coverage::Coverage,
    /// The inventory apply records (when it was refreshed).
    pub inventory: Option<crate::inventory::Inventory>,
}

/// A complete, self-contained plan. Apply executes `steps` exactly as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub coffer_version: String,
    pub mode: Mode,
    pub planned_at: DateTime<Utc>,
    pub state: StateRef,
    /// Every object in configuration or state, sorted by address (no-ops included).
    pub changes: Vec<Change>,
    /// What apply does, in dependency order: creates and updates after what they depend on,
    /// deletes before what they depended on.
    pub steps: Vec<Step>,
    pub summary: Summary,
    /// Things a reviewer should know that are not changes (e.g. data that is kept).
    pub notes: Vec<String>,
    /// Protection changes, when an inventory was available.
    pub coverage: Option<CoveragePlan>,
    /// Existing recovery points the first tick after apply would delete or move to cold
    /// storage because of this change (plan files from before it have none).
    #[serde(default)]
    pub recovery_points: forecast::Forecast,
    /// What changed in reality behind coffer's back (plan files from before it have none).
    #[serde(default)]
    pub drift: drift::Drift,
}

impl Plan {
    /// Objects to change, or protections gained or lost.
    pub fn has_changes(&self) -> bool {
        !self.steps.is_empty()
            || self
                .coverage
                .as_ref()
                .is_some_and(|c| !c.gained.is_empty() || !c.lost.is_empty())
            || !self.recovery_points.is_empty()
    }

    /// Whether reality drifted: a point's native object gone, a repository missing or
    /// broken, a resource failing. Counted by `--detailed-exitcode`; apply changes nothing for
    /// it.
    pub fn has_drift(&self) -> bool {
        !self.drift.is_empty()
    }

    /// The plan with the drift found outside the core (by looking at the cloud and disks).
    pub fn with_drift(mut self, drift: drift::Drift) -> Plan {
        self.drift = drift;
        self
    }

    /// Parses a saved plan file.
    pub fn parse(text: &str) -> Result<Plan, String> {
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a plan file: {e}"))?;
        match raw
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(format!(
                "plan format {v} is not supported (this coffer reads format {PLAN_FORMAT_VERSION})"
            ))
            }
            None => return Err("not a plan file: `format_version` is missing".into()),
        }
        serde_json::from_value(raw).map_err(|e| format!("the plan file is damaged: {e}"))
    }

    pub fn to_json_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
