//! `coffer serve`: the read-only dashboard, its JSON and /metrics from the recorded state,
//! inventory and catalog, until SIGINT or SIGTERM; it runs no job and calls no cloud API.

use super::args::{bind_address, AuthArgs, VarArgs};
use super::context::{CmdError, Ctx};
use super::Exit;
use crate::serve::dashboard::source::selection_sources;
use std::sync::Arc;

/// What `--listen` serves, with the token and the selections' source lines (none when the
/// configuration does not load).
pub(super) fn options(
    addr: String,
    auth: &AuthArgs,
    loaded: &crate::config::Loaded,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<crate::serve::Options, CmdError> {
    Ok(crate::serve::Options {
        addr,
        token: auth.token()?,
        sources: loaded
            .config
            .as_ref()
            .map(|c| selection_sources(c, &loaded.sources))
            .unwrap_or_default(),
        at,
    })
}

pub fn serve(
    ctx: &Ctx,
    listen: &str,
    auth: &AuthArgs,
    at: Option<&str>,
    vars: &VarArgs,
) -> Result<Exit, CmdError> {
    let at = at.map(|t| super::schedule::instant("at", t)).transpose()?;
    let (config, loaded) = ctx.load(vars)?;
    let backend = ctx.backend(Some(&config))?;
    let opts = options(bind_address(listen), auth, &loaded, at)?;
    let live = Arc::new(crate::serve::Liveness::default());
    let bound = crate::serve::start(opts, backend.spec(), live)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot wait for signals: {e}"))?;
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        println!("coffer serve: the dashboard is on http://{bound}/ (read-only; Ctrl-C stops)");
        tracing::info!(
            event = "listening",
            address = bound.to_string().as_str(),
            "serving the dashboard"
        );
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
    });
    Ok(Exit::Success)
}
