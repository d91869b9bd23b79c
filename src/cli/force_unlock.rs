//! `coffer force-unlock ID`: removes a state lock left by a coffer that is gone.

use super::context::{CmdError, Ctx};
use super::Exit;

pub fn force_unlock(ctx: &Ctx, id: &str) -> Result<Exit, CmdError> {
    let backend = ctx.backend_best_effort()?;
    let info = backend.force_unlock(id).map_err(|e| e.to_string())?;
    println!(
        "The state lock {} has been removed (it was held for `{}` by process {} on {}).",
        info.id, info.operation, info.pid, info.host
    );
    Ok(Exit::Success)
}
