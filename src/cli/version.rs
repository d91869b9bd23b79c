//! `coffer version`: the version and the state and plan formats it reads.

use super::context::CmdError;
use super::Exit;

pub fn version(json: bool) -> Result<Exit, CmdError> {
    if json {
        super::json::print(&super::json::VersionJson {
            coffer_version: crate::VERSION.to_string(),
            state_format_version: crate::state::model::STATE_FORMAT_VERSION,
            plan_format_version: crate::plan::PLAN_FORMAT_VERSION,
        });
    } else {
        println!(
            "coffer {}\nstate format {}, plan format {}",
            crate::VERSION,
            crate::state::model::STATE_FORMAT_VERSION,
            crate::plan::PLAN_FORMAT_VERSION
        );
    }
    Ok(Exit::Success)
}
