//! The applied frameworks' controls: what the catalog holds for them (its points and restore
//! jobs, read once) and their evaluation over the recorded state's objects, for `report
//! controls|resources`, the daemon's `CONTROL_NON_COMPLIANT` notifications and `/metrics`.

use crate::catalog::{Catalog, JobFilter, JobRecord, PointFilter, RecoveryPoint};
use crate::controls::{self, ControlResult};
use crate::inventory::Inventory;
use crate::jobs::JobKind;
use crate::state::State;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Every recovery point and every restore job the catalog holds.
pub fn read(catalog: &dyn Catalog) -> Result<(Vec<RecoveryPoint>, Vec<JobRecord>), String> {
    let points = catalog
        .recovery_points(&PointFilter::default())
        .map_err(|e| e.to_string())?;
    let restores = catalog
        .jobs(&JobFilter {
            kind: Some(JobKind::Restore),
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?;
    Ok((points, restores))
}

/// The applied frameworks' controls at `now`; `jobs` may hold jobs of any kind (only
/// restores count).
pub fn evaluate(
    state: &State,
    inventory: &Inventory,
    points: &[RecoveryPoint],
    jobs: &[JobRecord],
    vault_accounts: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Vec<ControlResult> {
    let objects: BTreeMap<_, _> = state
        .objects
        .values()
        .map(|o| (o.address.clone(), o.attributes.clone()))
        .collect();
    controls::evaluate(&controls::Evidence {
        objects: &objects,
        inventory,
        points,
        restores: jobs,
        vault_accounts,
        now,
    })
}
