//! Routing by resource type: a pair of providers acts as one, each resource going to the
//! provider that handles its type, so the runner sees a single [`Provider`].

use super::{
    Archiving, CopySource, Deletion, ForeignSnapshot, Preflight, Progress, Provider, ProviderError,
    Pruned, RestoreRequest, Restoring, Tiering,
};
use crate::inventory::{Resource, ResourceType};
use std::collections::BTreeMap;

/// Two providers as one: each resource goes to the first that handles its type. Nest them
/// to route among more: `ByResourceType(ebs, ByResourceType(ami, …))`.
pub struct ByResourceType<A, B>(pub A, pub B);

impl<A: Provider, B: Provider> ByResourceType<A, B> {
    fn first(&self, r: &Resource) -> bool {
        self.0.supports(r.resource_type)
    }
}

impl<A: Provider, B: Provider> Provider for ByResourceType<A, B> {
    fn supports(&self, t: ResourceType) -> bool {
        self.0.supports(t) || self.1.supports(t)
    }

    fn service(&self, r: &Resource) -> &'static str {
        if self.first(r) {
            self.0.service(r)
        } else {
            self.1.service(r)
        }
    }

    fn home_region(&self, r: &Resource, vault: &str) -> Option<String> {
        if self.first(r) {
            self.0.home_region(r, vault)
        } else {
            self.1.home_region(r, vault)
        }
    }

    async fn preflight(&self, resources: &[&Resource]) -> Preflight {
        let (a, b): (Vec<&Resource>, Vec<&Resource>) =
            resources.iter().copied().partition(|r| self.first(r));
        let mut out = self.0.preflight(&a).await;
        let more = self.1.preflight(&b).await;
        out.warnings.extend(more.warnings);
        out.refused.extend(more.refused);
        out
    }

    async fn find(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, ProviderError> {
        if self.first(r) {
            self.0.find(r, vault, job_id).await
        } else {
            self.1.find(r, vault, job_id).await
        }
    }

    async fn start(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        if self.first(r) {
            self.0.start(r, vault, job_id, tags).await
        } else {
            self.1.start(r, vault, job_id, tags).await
        }
    }

    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, ProviderError> {
        if self.first(r) {
            self.0.poll(r, vault, native_id).await
        } else {
            self.1.poll(r, vault, native_id).await
        }
    }

    async fn copy(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        if self.first(r) {
            self.0.copy(r, source, vault, job_id, tags).await
        } else {
            self.1.copy(r, source, vault, job_id, tags).await
        }
    }

    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        if self.first(r) {
            self.0.restore(r, req).await
        } else {
            self.1.restore(r, req).await
        }
    }

    async fn find_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        if self.first(r) {
            self.0.find_restored(r, req).await
        } else {
            self.1.find_restored(r, req).await
        }
    }

    async fn restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        if self.first(r) {
            self.0.restored(r, req, created).await
        } else {
            self.1.restored(r, req, created).await
        }
    }

    async fn validate_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<String, String> {
        if self.first(r) {
            self.0.validate_restored(r, req, created).await
        } else {
            self.1.validate_restored(r, req, created).await
        }
    }

    async fn discard_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        if self.first(r) {
            self.0.discard_restored(r, req, created).await
        } else {
            self.1.discard_restored(r, req, created).await
        }
    }

    async fn unshare(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
    ) -> Result<(), ProviderError> {
        if self.first(r) {
            self.0.unshare(r, source, vault).await
        } else {
            self.1.unshare(r, source, vault).await
        }
    }

    async fn exists(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError> {
        if self.first(r) {
            self.0.exists(r, vault, native_id).await
        } else {
            self.1.exists(r, vault, native_id).await
        }
    }

    async fn discard(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<(), ProviderError> {
        if self.first(r) {
            self.0.discard(r, vault, native_id).await
        } else {
            self.1.discard(r, vault, native_id).await
        }
    }

    async fn delete(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Deletion, ProviderError> {
        if self.first(r) {
            self.0.delete(r, vault, native_id, job_id).await
        } else {
            self.1.delete(r, vault, native_id, job_id).await
        }
    }

    fn has_cold_storage(&self, r: &Resource, vault: &str) -> bool {
        if self.first(r) {
            self.0.has_cold_storage(r, vault)
        } else {
            self.1.has_cold_storage(r, vault)
        }
    }

    async fn archive(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Archiving, ProviderError> {
        if self.first(r) {
            self.0.archive(r, vault, native_id, job_id).await
        } else {
            self.1.archive(r, vault, native_id, job_id).await
        }
    }

    async fn tiering(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Tiering, ProviderError> {
        if self.first(r) {
            self.0.tiering(r, vault, native_id).await
        } else {
            self.1.tiering(r, vault, native_id).await
        }
    }

    async fn prune(
        &self,
        vault: &str,
        max_unused_percent: u8,
    ) -> Result<Option<Pruned>, ProviderError> {
        match self.0.prune(vault, max_unused_percent).await? {
            Some(p) => Ok(Some(p)),
            None => self.1.prune(vault, max_unused_percent).await,
        }
    }

    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        let (a, b): (Vec<&Resource>, Vec<&Resource>) =
            resources.iter().copied().partition(|r| self.first(r));
        let mut out = self.0.foreign_snapshots(&a, from, to).await?;
        out.extend(self.1.foreign_snapshots(&b, from, to).await?);
        out.sort();
        Ok(out)
    }
}
