//! `coffer recovery-points list` (with the holds on each point, and with `--why` what keeps
//! it) and `coffer recovery-points delete ID`: one point deleted through its type's deletion,
//! asked for on a terminal, refused under a lock or a hold.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::runner::*;
use super::Exit;
use crate::catalog::{NewJob, PointFilter, RecoveryPoint};
use crate::jobs::lifecycle::{self, Policies};
use crate::jobs::{DeletedBy, JobKind, JobOptions, PointStatus, Windows};
use crate::render::jobs::{point_json, points_table, PointView};
use chrono::Utc;
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// Which points to list, and how.
pub struct ListArgs {
    pub vault: Option<String>,
    pub resource: Option<String>,
    pub status: Option<PointStatus>,
    /// Only the points this legal hold holds.
    pub hold: Option<String>,
    /// Say what keeps each point.
    pub why: bool,
    pub json: bool,
}

/// The applied policies (locks, holds, rules), and the inventory recorded at the last apply.
fn applied(ctx: &Ctx) -> Result<(Policies, Option<crate::inventory::Inventory>), CmdError> {
    let backend = ctx.backend_best_effort()?;
    let Some(state) = backend.read().map_err(|e| e.to_string())?.map(|l| l.state) else {
        return Ok((Policies::default(), None));
    };
    let objects = state.objects.iter().map(|(a, o)| (a, &o.attributes));
    Ok((Policies::from_objects(objects)?, state.inventory))
}

pub fn points_list(ctx: &Ctx, args: ListArgs) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort()?;
    let catalog = ctx.catalog_read_only(&backend)?;
    let (policies, inventory) = applied(ctx)?;
    if let Some(h) = &args.hold {
        if !policies.holds.iter().any(|x| &x.name == h) {
            let known: Vec<&str> = policies.holds.iter().map(|x| x.name.as_str()).collect();
            return Err(format!(
                "no legal hold `{h}` has been applied (applied holds: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    let points = catalog
        .recovery_points(&PointFilter {
            status: args.status,
            vault: args.vault,
            resource_arn: args.resource,
            ..PointFilter::default()
        })
        .map_err(|e| e.to_string())?;
    let holds: Vec<Vec<String>> = points.iter().map(|p| policies.holds_on(p)).collect();
    let keep: Vec<bool> = holds
        .iter()
        .map(|h| args.hold.as_ref().is_none_or(|name| h.contains(name)))
        .collect();
    let kept_by: BTreeMap<String, Vec<String>> = if args.why {
        // whole groups: every live point, as the tick sees them
        let mut live = crate::jobs::live::LivePoints::default();
        catalog
            .live_points(&PointFilter::default(), &mut live)
            .map_err(|e| e.to_string())?;
        // without a recorded inventory every resource counts as existing: the floor holds
        let presence = inventory.as_ref().map(|i| i.presence());
        let exists = |arn: &str| presence.as_ref().is_none_or(|p| p.exists(arn));
        lifecycle::evaluate(&live, &policies, &exists, Utc::now(), true)
            .into_iter()
            .map(|v| (live.points[v.index].id.clone(), v.kept_by))
            .collect()
    } else {
        BTreeMap::new()
    };
    let views: Vec<PointView<'_>> = points
        .iter()
        .zip(&holds)
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((p, h), _)| PointView {
            point: p,
            holds: h,
            kept_by: if args.why {
                Some(kept_by.get(&p.id).map_or(&[][..], Vec::as_slice))
            } else {
                None
            },
        })
        .collect();
    if args.json {
        super::json::print_in_order(&serde_json::Value::Array(
            views.iter().copied().map(point_json).collect(),
        ));
    } else {
        print!("{}", points_table(&views));
    }
    Ok(Exit::Success)
}

/// A line that names a point for the question and the refusal.
fn describe(p: &RecoveryPoint) -> String {
    format!(
        "{} ({} of {}, made {}, in vault {})",
        p.id,
        p.point.native_id,
        p.point.resource_arn,
        p.point.created_at.format("%Y-%m-%d %H:%M UTC"),
        p.point.vault
    )
}

/// Asks for a literal `yes` on the terminal; refuses without one.
fn confirm(p: &RecoveryPoint) -> Result<bool, CmdError> {
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "deleting {} needs confirmation, but there is no terminal to ask on; pass --yes to delete without asking",
            p.id
        ));
    }
    super::apply::ask(
        &format!("Delete recovery point {}?", describe(p)),
        "Its native object is deleted and cannot be restored afterwards.",
    )
}

pub fn points_delete(
    ctx: &Ctx,
    id: &str,
    yes: bool,
    json_out: bool,
    lock_timeout: std::time::Duration,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let s = session(ctx, vars)?;
    let point = s.recovery_point(ctx, id)?;
    if point.status == PointStatus::Deleted {
        return Err(format!(
            "{id} was already deleted{}{}",
            point
                .deleted_at
                .map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default(),
            point
                .deleted_by
                .map(|b| format!(" ({})", b.as_str()))
                .unwrap_or_default()
        ));
    }
    let now = Utc::now();
    if let Some(refused) = s.policies.deletion_refused(&point, now) {
        return Err(format!("refusing to delete: {refused}"));
    }
    if !yes && !confirm(&point)? {
        eprintln!("Delete cancelled.");
        return Ok(Exit::Error);
    }
    let job = NewJob {
        kind: JobKind::Delete,
        plan: point.point.plan.clone(),
        rule: point.point.rule.clone(),
        resource_arn: point.point.resource_arn.clone(),
        vault: point.point.vault.clone(),
        windows: Windows::on_demand(Utc::now()),
        options: JobOptions {
            deleted_by: Some(DeletedBy::Manual),
            ..JobOptions::default()
        },
        recovery_point_id: Some(point.id.clone()),
        source_recovery_point_id: None,
    };
    let how = OnDemand {
        op: "recovery-points delete",
        lock_timeout,
        settings: crate::runner::Settings::default(),
        json_out,
        already: "a deletion of this recovery point is already under way",
    };
    let job = run_on_demand(ctx, &s, how, job, |_| Ok(()))?;
    Ok(if job.state() == crate::jobs::JobState::Completed {
        Exit::Success
    } else {
        Exit::Error
    })
}
