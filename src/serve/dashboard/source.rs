//! Where the dashboard's data comes from: the read model built from the backend's state and
//! catalog (and the runner's discovered inventory, when a daemon or worker serves it), kept
//! for [`REFRESH`] and rebuilt in the background while the last one is still served; and the
//! few rows a page reads directly (one job, one resource's points), by index.

use crate::address::Address;
use crate::catalog::{JobFilter, JobRecord, PointFilter, RecoveryPoint};
use crate::dashboard::{Inputs, Model};
use crate::serve::Liveness;
use crate::state::backend::BackendSpec;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one model is served before a request starts building the next.
pub const REFRESH: Duration = Duration::from_secs(15);

pub struct Source {
    backend: BackendSpec,
    live: Arc<Liveness>,
    /// Where each configured block is written (`main.hcl:12`).
    sources: BTreeMap<Address, String>,
    /// A fixed `now` (`coffer serve --at`), else the clock.
    at: Option<DateTime<Utc>>,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    model: Option<(Instant, Arc<Model>)>,
    building: bool,
}

impl Source {
    pub fn new(
        backend: BackendSpec,
        live: Arc<Liveness>,
        sources: BTreeMap<Address, String>,
        at: Option<DateTime<Utc>>,
    ) -> Source {
        Source {
            backend,
            live,
            sources,
            at,
            slot: Mutex::new(Slot::default()),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current model: built now if there is none, else the last one (a stale one starts
    /// a rebuild on a thread of its own and is served meanwhile).
    pub fn model(self: &Arc<Self>) -> Result<Arc<Model>, String> {
        {
            let mut slot = self.slot();
            if let Some((built, model)) = &slot.model {
                if built.elapsed() < REFRESH || slot.building {
                    return Ok(model.clone());
                }
                let model = model.clone();
                slot.building = true;
                let me = self.clone();
                std::thread::spawn(move || {
                    let next = me.build();
                    let mut slot = me.slot();
                    slot.building = false;
                    match next {
                        Ok(m) => slot.model = Some((Instant::now(), Arc::new(m))),
                        Err(e) => {
                            tracing::warn!(error = e.as_str(), "cannot refresh the dashboard")
                        }
                    }
                });
                return Ok(model);
            }
        }
        let model = Arc::new(self.build()?);
        self.slot().model = Some((Instant::now(), model.clone()));
        Ok(model)
    }

    fn now(&self) -> DateTime<Utc> {
        self.at.unwrap_or_else(Utc::now)
    }

    fn build(&self) -> Result<Model, String> {
        let now = self.now();
        let backend = self.backend.open().map_err(|e| e.to_string())?;
        let state = backend
            .read()
            .map_err(|e| e.to_string())?
            .map(|l| l.state)
            .unwrap_or_else(|| crate::state::State::new("none"));
        let catalog = backend.catalog_read_only().map_err(|e| e.to_string())?;
        let jobs = catalog
            .jobs(&JobFilter::default())
            .map_err(|e| e.to_string())?;
        let points = catalog
            .recovery_points(&PointFilter::default())
            .map_err(|e| e.to_string())?;
        let checks = catalog.last_vault_checks().map_err(|e| e.to_string())?;
        let (discovered, vault_accounts) = self.live.discovered_now();
        let recorded = state.inventory.clone().unwrap_or_default();
        let inventory = discovered.as_deref().unwrap_or(&recorded);
        let controls = crate::app::compliance::evaluate(
            &state,
            inventory,
            &points,
            &jobs,
            &vault_accounts,
            now,
        );
        Ok(Model::build(Inputs {
            state: &state,
            inventory,
            inventory_is_live: discovered.is_some(),
            jobs: &jobs,
            points: &points,
            controls: &controls,
            checks: &checks,
            sources: &self.sources,
            now,
        }))
    }

    /// One resource's recovery points, newest first.
    pub fn points_of(&self, arn: &str) -> Result<Vec<RecoveryPoint>, String> {
        let backend = self.backend.open().map_err(|e| e.to_string())?;
        let catalog = backend.catalog_read_only().map_err(|e| e.to_string())?;
        catalog
            .recovery_points(&PointFilter {
                resource_arn: Some(arn.to_string()),
                ..PointFilter::default()
            })
            .map_err(|e| e.to_string())
    }

    pub fn job(&self, id: &str) -> Result<Option<JobRecord>, String> {
        let backend = self.backend.open().map_err(|e| e.to_string())?;
        let catalog = backend.catalog_read_only().map_err(|e| e.to_string())?;
        catalog.job(id).map_err(|e| e.to_string())
    }
}

/// `file:line` of every selection in `config`, for the resource page.
pub fn selection_sources(
    config: &crate::config::model::Config,
    files: &crate::diag::Sources,
) -> BTreeMap<Address, String> {
    config
        .selections
        .iter()
        .filter_map(|(name, s)| {
            let file = files.get(s.span.file)?;
            let line = file.position(s.span.range.start).line;
            Some((
                Address::Selection(name.clone()),
                format!("{}:{line}", file.name),
            ))
        })
        .collect()
}
