//! `coffer copy start`: an on-demand copy of one recovery point into another vault, waited
//! for, with the copy's lifecycle from `--delete-after` or else the source's deletion date.

use super::args::{RunnerArgs, VarArgs};
use super::context::{CmdError, Ctx};
use super::runner::*;
use super::Exit;
use crate::catalog::NewJob;
use crate::config::duration::Duration;
use crate::jobs::{JobKind, JobOptions, PointStatus, StorageClass, Windows};
use chrono::Utc;

pub fn copy_start(
    ctx: &Ctx,
    point_id: &str,
    vault: &str,
    delete_after: Option<String>,
    json_out: bool,
    args: &RunnerArgs,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    if let Some(d) = &delete_after {
        Duration::parse(d).map_err(|e| format!("--delete-after `{d}`: {}", e.message))?;
    }
    let s = session(ctx, vars)?;
    s.applied_vault(vault)?;
    let point = s.recovery_point(ctx, point_id)?;
    if point.status != PointStatus::Completed || point.storage_class != StorageClass::Warm {
        return Err(format!(
            "{point_id} is {} ({}): only warm, completed recovery points are copied",
            point.status,
            point.storage_class.as_str()
        ));
    }
    if point.point.vault == vault {
        return Err(format!(
            "{point_id} is already in vault `{vault}`: copy it into another vault"
        ));
    }
    // without --delete-after, the copy is deleted when its source is
    let delete_after = delete_after.or_else(|| {
        let left = point.point.delete_at? - point.point.created_at;
        Some(
            Duration::from_minutes(u64::try_from(left.num_minutes()).unwrap_or(0))
                .as_str()
                .to_string(),
        )
    });
    let now = Utc::now();
    let window = Duration::from_minutes(crate::config::model::DEFAULT_COPY_WINDOW_MINUTES);
    let job = NewJob {
        kind: JobKind::Copy,
        plan: None,
        rule: None,
        resource_arn: point.point.resource_arn.clone(),
        vault: vault.to_string(),
        windows: Windows {
            scheduled_at: now,
            start_by: now + window.to_chrono(),
            complete_by: now + window.to_chrono(),
        },
        options: JobOptions {
            delete_after,
            ..JobOptions::default()
        },
        recovery_point_id: None,
        source_recovery_point_id: Some(point.id.clone()),
    };
    let resource_type = point.point.resource_type.clone();
    let how = OnDemand {
        op: "copy start",
        lock_timeout: args.lock_timeout,
        settings: settings(args),
        json_out,
        already: "a copy of this recovery point was already created at this instant",
    };
    let job =
        run_on_demand(
            ctx,
            &s,
            how,
            job,
            |supports| match crate::inventory::ResourceType::parse(&resource_type) {
                Some(t) if supports(t) => Ok(()),
                _ => Err(format!(
                    "coffer cannot copy {resource_type} recovery points"
                )),
            },
        )?;
    Ok(if job.state() == crate::jobs::JobState::Completed {
        Exit::Success
    } else {
        Exit::Error
    })
}
