//! The end of an apply, as a value: what the state records once the steps ran. Protection
//! (coverage and the inventory it came from) is recorded only when every step ran, the
//! serial moves on only when something changed, and the caller writes the state (or drops
//! the journal) as told.

use super::Report;
use crate::plan::Plan;
use crate::state::State;

/// What to do with the state after the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Something changed: write the state (its serial is already the next one).
    Write,
    /// Nothing changed: keep the state as it was and drop the journal.
    Unchanged,
}

/// Records the plan's protection in `state` if every step ran, and moves the serial on when
/// anything changed.
pub fn finish(plan: &Plan, state: &mut State, report: &Report) -> Finish {
    let completed = report.error.is_none() && !report.interrupted;
    let coverage_recorded = match (&plan.coverage, completed) {
        (Some(c), true) => {
            state.coverage = c.coverage.clone();
            if let Some(inventory) = &c.inventory {
                state.inventory = Some(inventory.clone());
            }
            true
        }
        _ => false,
    };
    if report.added + report.changed + report.destroyed > 0 || coverage_recorded {
        state.serial += 1;
        state.coffer_version = crate::VERSION.to_string();
        Finish::Write
    } else {
        Finish::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{compute, CoveragePlan, Mode, PlanInput};
    use std::collections::BTreeMap;

    fn plan_with_coverage() -> Plan {
        let mut plan = compute(&PlanInput {
            mode: Mode::Normal,
            desired: &[],
            state: None,
            recovery_points: &BTreeMap::new(),
            points: &Default::default(),
            now: chrono::DateTime::UNIX_EPOCH,
            inventory: None,
        })
        .unwrap();
        let mut coverage = crate::coverage::Coverage::default();
        coverage.insert("dir:/data".into(), Vec::new());
        plan.coverage = Some(CoveragePlan {
            inventory_source: crate::plan::InventorySource::Refreshed,
            resources: 1,
            gained: Vec::new(),
            lost: Vec::new(),
            unmatched_selections: Vec::new(),
            overlaps: Vec::new(),
            coverage,
            inventory: None,
        });
        plan
    }

    #[test]
    fn a_completed_apply_records_protection_and_moves_the_serial() {
        let plan = plan_with_coverage();
        let mut state = State::new("L");
        let report = Report::default();
        assert_eq!(finish(&plan, &mut state, &report), Finish::Write);
        assert_eq!(state.serial, 1);
        assert!(state.coverage.contains_key("dir:/data"));
    }

    #[test]
    fn an_interrupted_apply_records_its_steps_but_not_protection() {
        let plan = plan_with_coverage();
        let mut state = State::new("L");
        let report = Report {
            added: 2,
            interrupted: true,
            ..Report::default()
        };
        assert_eq!(finish(&plan, &mut state, &report), Finish::Write);
        assert_eq!(state.serial, 1);
        assert!(
            state.coverage.is_empty(),
            "protection is recorded only when all ran"
        );
    }

    #[test]
    fn an_apply_that_changed_nothing_leaves_the_state_alone() {
        let mut plan = plan_with_coverage();
        plan.coverage = None;
        let mut state = State::new("L");
        assert_eq!(
            finish(&plan, &mut state, &Report::default()),
            Finish::Unchanged
        );
        assert_eq!(state.serial, 0);
    }
}
