//! Executing a prune job: the vault's repository is pruned through the provider that keeps
//! it, when its unused data exceeds the vault's `prune { max_unused }` (restic's 5% unless
//! set). The job records the bytes removed (0: nothing needed pruning).

use super::{Executor, Outcome};
use crate::catalog::{JobRecord, JobUpdate};
use crate::jobs::JobState;
use crate::providers::Provider;

impl<'a, E: Provider> Executor<'a, E> {
    pub(super) async fn run_prune(&self, job: JobRecord) -> Result<Outcome, String> {
        let id = job.id.clone();
        let vault = job.job.vault.clone();
        if self.stopping() {
            return Ok(Outcome::Left);
        }
        for next in [JobState::Pending, JobState::Running] {
            let state = self
                .catalog
                .borrow()
                .job(&id)
                .map_err(Self::catalog_err)?
                .map(|j| j.state());
            if state.is_some_and(|s| s.can_become(next)) {
                self.transition(&id, next, None)?;
            }
        }
        let limit = self.policies.prune_limits.get(&vault).copied().unwrap_or(5);
        match self.provider.prune(&vault, limit).await {
            Ok(Some(p)) => {
                self.update(
                    &id,
                    JobUpdate {
                        attempts: Some(job.attempts + 1),
                        bytes: Some(p.removed_bytes),
                        ..JobUpdate::default()
                    },
                )?;
                (self.report)(super::Event::Info(format!(
                    "vault {vault}: {:.1}% of its repository's data is unused (limit {limit}%){}",
                    p.unused_percent,
                    if p.pruned {
                        ", pruned"
                    } else {
                        ", nothing to prune"
                    }
                )));
                self.transition(&id, JobState::Completed, None)?;
            }
            Ok(None) => {
                let msg = format!("vault {vault} has no repository here to prune");
                self.transition(&id, JobState::Failed, Some(&msg))?;
            }
            Err(e) => {
                let msg = format!("pruning vault {vault} failed: {}", e.message);
                self.transition(&id, JobState::Failed, Some(&msg))?;
            }
        }
        Ok(Outcome::Done)
    }
}
