//! `coffer recovery-points list`: recovery points with their source metadata, as a table or JSON.

use super::context::{CmdError, Ctx};
use super::Exit;
use crate::catalog::{Catalog, PointFilter};
use crate::render::jobs::{point_json, points_table};

pub fn points_list(
    ctx: &Ctx,
    vault: Option<String>,
    resource: Option<String>,
    status: Option<crate::jobs::PointStatus>,
    json_out: bool,
) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort();
    let catalog = ctx.catalog_read_only(&backend)?;
    let points = catalog
        .recovery_points(&PointFilter {
            status,
            vault,
            resource_arn: resource,
            ..PointFilter::default()
        })
        .map_err(|e| e.to_string())?;
    if json_out {
        super::json::print_in_order(&serde_json::Value::Array(
            points.iter().map(point_json).collect(),
        ));
    } else {
        print!("{}", points_table(&points));
    }
    Ok(Exit::Success)
}
