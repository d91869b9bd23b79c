//! RDS instances (CreateDBSnapshot) and Aurora clusters (CreateDBClusterSnapshot): one
//! provider over the two flavours of RDS snapshot, which differ only in the calls they make
//! and the names of their fields. Snapshot identifiers come from the job id, so a repeated
//! request cannot make a second snapshot, and an interrupted job finds its own by name.

use super::preflight::{kms_keys, rds_quota};
use super::*;
use crate::aws::error::classify;
use crate::inventory::{Resource, ResourceType};
use crate::providers::{
    CopySource, Deletion, Finished, ForeignSnapshot, Preflight, Progress, Provider, ProviderError,
    RestoreRequest, Restoring,
};
use std::marker::PhantomData;

/// What DescribeDBSnapshots and DescribeDBClusterSnapshots say about one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotStatus {
    pub arn: Option<String>,
    pub status: String,
    pub allocated_gib: Option<i32>,
    pub encrypted: bool,
    pub kms_key: Option<String>,
    pub percent: Option<i32>,
    /// The job that made it (its `coffer:job` tag), if it has one.
    pub job: Option<String>,
}

fn job_of(tags: &[aws_sdk_rds::types::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some(JOB_TAG))
        .and_then(|t| t.value().map(str::to_string))
}

/// Where an RDS or Aurora snapshot is, from its status.
fn progress(native_id: &str, s: SnapshotStatus) -> Progress {
    match s.status.as_str() {
        "available" => Progress::Done(Finished {
            native_id: native_id.to_string(),
            native_ids: vec![native_id.to_string()],
            size_bytes: s.allocated_gib.map(|g| g.max(0) as u64 * GIB),
            encrypted: s.encrypted,
            kms_key: s.kms_key,
            unreadable: Vec::new(),
        }),
        "failed" | "error" | "incompatible-restore" => {
            Progress::Failed(format!("snapshot {native_id} failed"))
        }
        _ => Progress::Pending {
            percent: s.percent.map(|p| p.clamp(0, 100) as u8),
        },
    }
}

/// The name a restore gives its database (the metadata's identifier).
fn restored_name<F: Flavor>(req: &RestoreRequest<'_>) -> Result<String, ProviderError> {
    req.metadata
        .get(F::NAME_KEY)
        .cloned()
        .ok_or_else(|| ProviderError::permanent(format!("the restore names no `{}`", F::NAME_KEY)))
}

/// A database's status as a restore sees it.
fn db_status(what: &str, status: &str) -> Option<Restoring> {
    match status {
        "available" => None,
        "failed"
        | "incompatible-restore"
        | "incompatible-parameters"
        | "incompatible-network"
        | "inaccessible-encryption-credentials"
        | "storage-full" => Some(Restoring::Failed(format!("{what} is {status}"))),
        _ => Some(Restoring::InProgress),
    }
}

/// What differs between instance and cluster snapshots.
#[allow(async_fn_in_trait)]
pub trait Flavor {
    const TYPE: ResourceType;
    /// The account quota that counts these manual snapshots.
    const QUOTA: &'static str;
    /// What precedes the source's identifier in its ARN.
    const SOURCE_MARKER: &'static str;
    /// What precedes the snapshot's identifier in its ARN.
    const SNAPSHOT_MARKER: &'static str;
    /// The error code (prefix) of a snapshot that does not exist.
    const NOT_FOUND: &'static str;
    /// Whether a copy takes a KMS key only when its source is encrypted
    /// (CopyDBClusterSnapshot refuses one for an unencrypted snapshot; CopyDBSnapshot
    /// encrypts the copy with it).
    const KEY_ONLY_IF_ENCRYPTED: bool;
    /// Creates snapshot `snapshot` of `source`; returns its ARN.
    async fn create(
        c: &Clients,
        region: &str,
        source: &str,
        snapshot: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>, AwsError>;
    /// The snapshot named `snapshot`, if there is one.
    async fn describe(
        c: &Clients,
        region: &str,
        snapshot: &str,
    ) -> Result<Option<SnapshotStatus>, AwsError>;
    async fn delete(c: &Clients, region: &str, snapshot: &str) -> Result<(), AwsError>;
    /// Copies the snapshot `source` (an ARN) into `region` as `snapshot`, encrypted with
    /// `kms_key` when given; returns the copy's ARN.
    async fn copy(
        c: &Clients,
        region: &str,
        source: &str,
        snapshot: &str,
        kms_key: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>, AwsError>;
    /// Lets `account` copy and restore snapshot `snapshot` (`share`), or no longer: its
    /// `restore` attribute.
    async fn share(
        c: &Clients,
        region: &str,
        snapshot: &str,
        account: &str,
        share: bool,
    ) -> Result<(), AwsError>;
    /// The restore metadata key naming what a restore creates.
    const NAME_KEY: &'static str;
    /// Restores snapshot `snapshot` (its identifier) as `m` says, named `m[NAME_KEY]`.
    async fn restore(
        c: &Clients,
        region: &str,
        snapshot: &str,
        m: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError>;
    /// Whether a database named `name` exists.
    async fn exists(c: &Clients, region: &str, name: &str) -> Result<bool, AwsError>;
    /// Where the restore of `name` stands; a step it still needs is taken.
    async fn restored(
        c: &Clients,
        region: &str,
        name: &str,
        m: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Restoring, AwsError>;
    /// Deletes a restored database, without a final snapshot.
    async fn discard_restored(c: &Clients, region: &str, name: &str) -> Result<(), AwsError>;
    /// Manual snapshots of these sources (identifier → ARN) made outside coffer in `[from, to]`.
    async fn foreign(
        c: &Clients,
        region: &str,
        sources: &BTreeMap<&str, &str>,
        in_window: &dyn Fn(Option<DateTime<Utc>>) -> bool,
    ) -> Result<Vec<ForeignSnapshot>, AwsError>;
}

/// RDS DB instances.
pub struct Instance;
/// Aurora DB clusters.
pub struct Cluster;

/// Backs up one flavour of RDS resource as manual snapshots.
pub struct RdsSnapshots<F> {
    regions: Regions,
    flavor: PhantomData<F>,
}

pub type RdsInstances = RdsSnapshots<Instance>;
pub type AuroraClusters = RdsSnapshots<Cluster>;

impl<F> RdsSnapshots<F> {
    pub fn new(regions: Regions) -> RdsSnapshots<F> {
        RdsSnapshots {
            regions,
            flavor: PhantomData,
        }
    }
}

impl<F: Flavor> Provider for RdsSnapshots<F> {
    fn supports(&self, t: ResourceType) -> bool {
        t == F::TYPE
    }

    fn service(&self, _: &Resource) -> &'static str {
        "RDS"
    }

    fn home_region(&self, r: &Resource, vault: &str) -> Option<String> {
        self.regions.home_region(r, vault)
    }

    async fn preflight(&self, resources: &[&Resource]) -> Preflight {
        let mut out = Preflight::default();
        let mut by_region: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in resources {
            by_region.entry(r.region.as_str()).or_default().push(r);
        }
        for (region, wanted) in by_region {
            rds_quota(&self.regions, F::QUOTA, region, &wanted, &mut out).await;
        }
        kms_keys(&self.regions, resources, &mut out).await;
        out
    }

    async fn find(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        match F::describe(c, region, &rds_snapshot_id(job_id)).await {
            Ok(s) => Ok(s.and_then(|s| s.arn)),
            Err(e) if e.code().is_some_and(|c| c.starts_with(F::NOT_FOUND)) => Ok(None),
            Err(e) => Err(fail(e)),
        }
    }

    async fn start(
        &self,
        r: &Resource,
        _vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let c = self.regions.of(r)?;
        let source = arn_id(&r.arn, F::SOURCE_MARKER);
        F::create(c, &r.region, source, &rds_snapshot_id(job_id), tags)
            .await
            .map_err(fail)?
            .ok_or_else(|| ProviderError::permanent("the snapshot request returned no ARN"))
    }

    /// A copy named after the copy job, in the vault's region and account. An encrypted
    /// snapshot copied to another region needs a key there: the vault's `kms_key_arn`.
    async fn copy(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let route = self.regions.copy_route(r, source.vault, vault).await?;
        let ((from, source_region), (c, region)) = (route.from, route.to);
        let key = self
            .regions
            .vault(vault)
            .kms_key_arn
            .filter(|_| source.encrypted || !F::KEY_ONLY_IF_ENCRYPTED);
        if let Some(account) = &route.share_with {
            if source.encrypted {
                shareable_key(from, source_region, source.native_id, source.kms_key).await?;
            }
            let snapshot = arn_id(source.native_id, F::SNAPSHOT_MARKER);
            F::share(from, source_region, snapshot, account, true)
                .await
                .map_err(fail)?;
        }
        if source.encrypted && source_region != region && key.is_none() {
            return Err(ProviderError::permanent(format!(
                "snapshot {} is encrypted, and a copy into another region ({region}) needs a KMS key there: set `kms_key_arn` on vault `{vault}` to a key in {region}",
                source.native_id
            )));
        }
        F::copy(
            c,
            region,
            source.native_id,
            &rds_snapshot_id(job_id),
            key.as_deref(),
            tags,
        )
        .await
        .map_err(fail)?
        .ok_or_else(|| ProviderError::permanent("the copy request returned no ARN"))
    }

    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        let name = restored_name::<F>(req)?;
        // the point lives in its vault's region and account, where it is restored: its name
        let snapshot = arn_id(req.native_id, F::SNAPSHOT_MARKER);
        F::restore(c, region, snapshot, req.metadata, req.tags)
            .await
            .map_err(fail)?;
        Ok(name)
    }

    async fn find_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        let name = restored_name::<F>(req)?;
        Ok(F::exists(c, region, &name)
            .await
            .map_err(fail)?
            .then_some(name))
    }

    async fn restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        F::restored(c, region, created, req.metadata, req.tags)
            .await
            .map_err(fail)
    }

    async fn discard_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        F::discard_restored(c, region, created).await.map_err(fail)
    }

    async fn unshare(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
    ) -> Result<(), ProviderError> {
        let route = self.regions.copy_route(r, source.vault, vault).await?;
        let (from, source_region) = route.from;
        let Some(account) = &route.share_with else {
            return Ok(());
        };
        let snapshot = arn_id(source.native_id, F::SNAPSHOT_MARKER);
        F::share(from, source_region, snapshot, account, false)
            .await
            .map_err(fail)
    }

    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let snapshot = arn_id(native_id, F::SNAPSHOT_MARKER);
        match F::describe(c, region, snapshot).await.map_err(fail)? {
            Some(s) => Ok(progress(native_id, s)),
            None => Ok(Progress::Failed(format!(
                "snapshot {native_id} disappeared"
            ))),
        }
    }

    async fn discard(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        F::delete(c, region, arn_id(native_id, F::SNAPSHOT_MARKER))
            .await
            .map_err(fail)
    }

    async fn exists(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let snapshot = arn_id(native_id, F::SNAPSHOT_MARKER);
        match F::describe(c, region, snapshot).await {
            Ok(s) => Ok(s.is_some()),
            Err(e) if is_not_found(&e, &[F::NOT_FOUND]) => Ok(false),
            Err(e) => Err(fail(e)),
        }
    }

    async fn delete(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Deletion, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let snapshot = arn_id(native_id, F::SNAPSHOT_MARKER);
        let status = match F::describe(c, region, snapshot).await {
            Ok(s) => s,
            Err(e) if is_not_found(&e, &[F::NOT_FOUND]) => None,
            Err(e) => return Err(fail(e)),
        };
        let Some(status) = status else {
            return Ok(Deletion::Gone { notes: Vec::new() });
        };
        if status.job.as_deref() != Some(job_id) {
            return Ok(not_ours(&format!("snapshot {native_id}"), job_id));
        }
        match F::delete(c, region, snapshot).await {
            Ok(()) => Ok(Deletion::Deleted { notes: Vec::new() }),
            Err(e) if is_not_found(&e, &[F::NOT_FOUND]) => Ok(Deletion::Gone { notes: Vec::new() }),
            Err(e) => Err(fail(e)),
        }
    }

    /// AWS snapshots live in no repository.
    async fn prune(
        &self,
        _: &str,
        _: u8,
    ) -> Result<Option<crate::providers::Pruned>, ProviderError> {
        Ok(None)
    }

    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        let in_window = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= from && t <= to);
        let mut by_region: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for r in resources {
            by_region
                .entry(r.region.as_str())
                .or_default()
                .insert(arn_id(&r.arn, F::SOURCE_MARKER), r.arn.as_str());
        }
        let mut out = Vec::new();
        for (region, sources) in by_region {
            let Some(c) = self.regions.get(region) else {
                continue;
            };
            out.extend(
                F::foreign(c, region, &sources, &in_window)
                    .await
                    .map_err(fail)?,
            );
        }
        out.sort();
        Ok(out)
    }
}

impl Flavor for Instance {
    const TYPE: ResourceType = ResourceType::RdsInstance;
    const QUOTA: &'static str = "ManualSnapshots";
    const SOURCE_MARKER: &'static str = ":db:";
    const SNAPSHOT_MARKER: &'static str = ":snapshot:";
    const NOT_FOUND: &'static str = "DBSnapshotNotFound";
    const KEY_ONLY_IF_ENCRYPTED: bool = false;

    async fn create(
        c: &Clients,
        region: &str,
        source: &str,
        snapshot: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>, AwsError> {
        let out = c
            .once
            .rds
            .create_db_snapshot()
            .db_instance_identifier(source)
            .db_snapshot_identifier(snapshot)
            .set_tags(Some(rds_tags(tags)))
            .send()
            .await
            .map_err(|e| classify(CREATE_DB_SNAPSHOT, region, &e))?;
        Ok(out
            .db_snapshot()
            .and_then(|s| s.db_snapshot_arn())
            .map(str::to_string))
    }

    async fn describe(
        c: &Clients,
        region: &str,
        snapshot: &str,
    ) -> Result<Option<SnapshotStatus>, AwsError> {
        let out = c
            .rds
            .describe_db_snapshots()
            .db_snapshot_identifier(snapshot)
            .send()
            .await
            .map_err(|e| classify(DESCRIBE_DB_SNAPSHOTS, region, &e))?;
        Ok(out.db_snapshots().first().map(|s| SnapshotStatus {
            arn: s.db_snapshot_arn().map(str::to_string),
            status: s.status().unwrap_or_default().to_string(),
            allocated_gib: s.allocated_storage(),
            encrypted: s.encrypted().unwrap_or(false),
            kms_key: s.kms_key_id().map(str::to_string),
            percent: s.percent_progress(),
            job: job_of(s.tag_list()),
        }))
    }

    async fn delete(c: &Clients, region: &str, snapshot: &str) -> Result<(), AwsError> {
        c.rds
            .delete_db_snapshot()
            .db_snapshot_identifier(snapshot)
            .send()
            .await
            .map_err(|e| classify(DELETE_DB_SNAPSHOT, region, &e))?;
        Ok(())
    }

    async fn copy(
        c: &Clients,
        region: &str,
        source: &str,
        snapshot: &str,
        kms_key: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>, AwsError> {
        let out = c
            .once
            .rds
            .copy_db_snapshot()
            .source_db_snapshot_identifier(source)
            .target_db_snapshot_identifier(snapshot)
            .set_kms_key_id(kms_key.map(str::to_string))
            .set_tags(Some(rds_tags(tags)))
            .send()
            .await
            .map_err(|e| classify(COPY_DB_SNAPSHOT, region, &e))?;
        Ok(out
            .db_snapshot()
            .and_then(|s| s.db_snapshot_arn())
            .map(str::to_string))
    }

    async fn share(
        c: &Clients,
        region: &str,
        snapshot: &str,
        account: &str,
        share: bool,
    ) -> Result<(), AwsError> {
        let req = c
            .rds
            .modify_db_snapshot_attribute()
            .db_snapshot_identifier(snapshot)
            .attribute_name("restore");
        let req = if share {
            req.values_to_add(account)
        } else {
            req.values_to_remove(account)
        };
        req.send()
            .await
            .map_err(|e| classify(MODIFY_DB_SNAPSHOT_ATTRIBUTE, region, &e))?;
        Ok(())
    }

    const NAME_KEY: &'static str = "dbInstanceIdentifier";

    /// RestoreDBInstanceFromDBSnapshot: never publicly accessible, no deletion protection.
    async fn restore(
        c: &Clients,
        region: &str,
        snapshot: &str,
        m: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        c.once
            .rds
            .restore_db_instance_from_db_snapshot()
            .db_instance_identifier(m.get(Self::NAME_KEY).cloned().unwrap_or_default())
            .db_snapshot_identifier(snapshot)
            .set_db_instance_class(m.get("dbInstanceClass").cloned())
            .set_db_subnet_group_name(m.get("dbSubnetGroupName").cloned())
            .set_vpc_security_group_ids(meta_list(m, "vpcSecurityGroupIds"))
            .set_multi_az(meta_bool(m, "multiAz"))
            .set_port(meta_i32(m, "port"))
            .set_availability_zone(m.get("availabilityZone").cloned())
            .publicly_accessible(false)
            .deletion_protection(false)
            .set_tags(Some(rds_tags(tags)))
            .send()
            .await
            .map_err(|e| classify(RESTORE_DB_INSTANCE, region, &e))?;
        Ok(())
    }

    async fn exists(c: &Clients, region: &str, name: &str) -> Result<bool, AwsError> {
        match c
            .rds
            .describe_db_instances()
            .db_instance_identifier(name)
            .send()
            .await
        {
            Ok(out) => Ok(!out.db_instances().is_empty()),
            Err(e) => {
                let e = classify(DESCRIBE_DB_INSTANCES, region, &e);
                if is_not_found(&e, &["DBInstanceNotFound"]) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn restored(
        c: &Clients,
        region: &str,
        name: &str,
        _: &BTreeMap<String, String>,
        _: &BTreeMap<String, String>,
    ) -> Result<Restoring, AwsError> {
        let out = c
            .rds
            .describe_db_instances()
            .db_instance_identifier(name)
            .send()
            .await
            .map_err(|e| classify(DESCRIBE_DB_INSTANCES, region, &e))?;
        let Some(d) = out.db_instances().first() else {
            return Ok(Restoring::Failed(format!("DB instance {name} disappeared")));
        };
        let what = format!("DB instance {name}");
        if let Some(s) = db_status(&what, d.db_instance_status().unwrap_or_default()) {
            return Ok(s);
        }
        Ok(Restoring::Ready {
            arn: d.db_instance_arn().unwrap_or_default().to_string(),
            endpoint: d.endpoint().and_then(|e| e.address()).map(str::to_string),
            port: d
                .endpoint()
                .and_then(|e| e.port())
                .and_then(|p| u16::try_from(p).ok()),
        })
    }

    async fn discard_restored(c: &Clients, region: &str, name: &str) -> Result<(), AwsError> {
        c.rds
            .delete_db_instance()
            .db_instance_identifier(name)
            .skip_final_snapshot(true)
            .send()
            .await
            .map_err(|e| classify(DELETE_DB_INSTANCE, region, &e))?;
        Ok(())
    }

    async fn foreign(
        c: &Clients,
        region: &str,
        dbs: &BTreeMap<&str, &str>,
        in_window: &dyn Fn(Option<DateTime<Utc>>) -> bool,
    ) -> Result<Vec<ForeignSnapshot>, AwsError> {
        let mut out = Vec::new();
        let mut pages = c
            .rds
            .describe_db_snapshots()
            .snapshot_type("manual")
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(DESCRIBE_DB_SNAPSHOTS, region, &e))?;
            for s in page.db_snapshots() {
                let ours = s
                    .db_snapshot_identifier()
                    .is_some_and(|i| i.starts_with("coffer-job-"));
                let at = time(s.snapshot_create_time());
                if ours || !in_window(at) {
                    continue;
                }
                if let (Some(db), Some(arn), Some(at)) = (
                    s.db_instance_identifier().and_then(|d| dbs.get(d)),
                    s.db_snapshot_arn(),
                    at,
                ) {
                    out.push(ForeignSnapshot {
                        resource_arn: db.to_string(),
                        native_id: arn.to_string(),
                        created_at: at,
                        origin: None,
                    });
                }
            }
        }
        Ok(out)
    }
}

impl Flavor for Cluster {
    const TYPE: ResourceType = ResourceType::AuroraCluster;
    const QUOTA: &'static str = "ManualClusterSnapshots";
    const SOURCE_MARKER: &'static str = ":cluster:";
    const SNAPSHOT_MARKER: &'static str = ":cluster-snapshot:";
    const NOT_FOUND: &'static str = "DBClusterSnapshotNotFound";
    const KEY_ONLY_IF_ENCRYPTED: bool = true;

    async fn create(
        c: &Clients,
        region: &str,
        source: &str,
        snapshot: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>, AwsError> {
        let out = c
            .once
            .rds
            .create_db_cluster_snapshot()
            .db_cluster_identifier(source)
            .db_cluster_snapshot_identifier(snapshot)
            .set_tags(Some(rds_tags(tags)))
            .send()
            .await
            .map_err(|e| classify(CREATE_CLUSTER_SNAPSHOT, region, &e))?;
        Ok(out
            .db_cluster_snapshot()
            .and_then(|s| s.db_cluster_snapshot_arn())
            .map(str::to_string))
    }

    async fn describe(
        c: &Clients,
        region: &str,
        snapshot: &str,
    ) -> Result<Option<SnapshotStatus>, AwsError> {
        let out = c
            .rds
            .describe_db_cluster_snapshots()
            .db_cluster_snapshot_identifier(snapshot)
            .send()
            .await
            .map_err(|e| classify(DESCRIBE_CLUSTER_SNAPSHOTS, region, &e))?;
        Ok(out.db_cluster_snapshots().first().map(|s| SnapshotStatus {
            arn: s.db_cluster_snapshot_arn().map(str::to_string),
            status: s.status().unwrap_or_default().to_string(),
            allocated_gib: s.allocated_storage(),
            encrypted: s.storage_encrypted().unwrap_or(false),
            kms_key: s.kms_key_id().map(str::to_string),
            percent: s.percent_progress(),
            job: job_of(s.tag_list()),
        }))
    }

    async fn delete(c: &Clients, region: &str, snapshot: &str) -> Result<(), AwsError> {
        c.rds
            .delete_db_cluster_snapshot()
            .db_cluster_snapshot_identifier(snapshot)
            .send()
            .await
            .map_err(|e| classify(DELETE_CLUSTER_SNAPSHOT, region, &e))?;
        Ok(())
    }

    async fn copy(
        c: &Clients,
        region: &str,
        source: &str,
        snapshot: &str,
        kms_key: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>, AwsError> {
        let out = c
            .once
            .rds
            .copy_db_cluster_snapshot()
            .source_db_cluster_snapshot_identifier(source)
            .target_db_cluster_snapshot_identifier(snapshot)
            .set_kms_key_id(kms_key.map(str::to_string))
            .set_tags(Some(rds_tags(tags)))
            .send()
            .await
            .map_err(|e| classify(COPY_CLUSTER_SNAPSHOT, region, &e))?;
        Ok(out
            .db_cluster_snapshot()
            .and_then(|s| s.db_cluster_snapshot_arn())
            .map(str::to_string))
    }

    async fn share(
        c: &Clients,
        region: &str,
        snapshot: &str,
        account: &str,
        share: bool,
    ) -> Result<(), AwsError> {
        let req = c
            .rds
            .modify_db_cluster_snapshot_attribute()
            .db_cluster_snapshot_identifier(snapshot)
            .attribute_name("restore");
        let req = if share {
            req.values_to_add(account)
        } else {
            req.values_to_remove(account)
        };
        req.send()
            .await
            .map_err(|e| classify(MODIFY_CLUSTER_SNAPSHOT_ATTRIBUTE, region, &e))?;
        Ok(())
    }

    const NAME_KEY: &'static str = "dbClusterIdentifier";

    /// RestoreDBClusterFromSnapshot, without deletion protection; its one instance is
    /// created once the cluster is available ([`Flavor::restored`]).
    async fn restore(
        c: &Clients,
        region: &str,
        snapshot: &str,
        m: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        c.once
            .rds
            .restore_db_cluster_from_snapshot()
            .db_cluster_identifier(m.get(Self::NAME_KEY).cloned().unwrap_or_default())
            .snapshot_identifier(snapshot)
            .engine(
                m.get("engine")
                    .cloned()
                    .unwrap_or_else(|| "aurora-postgresql".into()),
            )
            .set_engine_version(m.get("engineVersion").cloned())
            .set_port(meta_i32(m, "port"))
            .set_db_subnet_group_name(m.get("dbSubnetGroupName").cloned())
            .set_vpc_security_group_ids(meta_list(m, "vpcSecurityGroupIds"))
            .deletion_protection(false)
            .set_tags(Some(rds_tags(tags)))
            .send()
            .await
            .map_err(|e| classify(RESTORE_DB_CLUSTER, region, &e))?;
        Ok(())
    }

    async fn exists(c: &Clients, region: &str, name: &str) -> Result<bool, AwsError> {
        match c
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(name)
            .send()
            .await
        {
            Ok(out) => Ok(!out.db_clusters().is_empty()),
            Err(e) => {
                let e = classify(DESCRIBE_DB_CLUSTERS, region, &e);
                if is_not_found(&e, &["DBClusterNotFound"]) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn restored(
        c: &Clients,
        region: &str,
        name: &str,
        m: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Restoring, AwsError> {
        let out = c
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(name)
            .send()
            .await
            .map_err(|e| classify(DESCRIBE_DB_CLUSTERS, region, &e))?;
        let Some(cluster) = out.db_clusters().first() else {
            return Ok(Restoring::Failed(format!("DB cluster {name} disappeared")));
        };
        if let Some(s) = db_status(
            &format!("DB cluster {name}"),
            cluster.status().unwrap_or_default(),
        ) {
            return Ok(s);
        }
        // the cluster's one instance, created once the cluster is there
        let instance = format!("{name}-1");
        if !Instance::exists(c, region, &instance).await? {
            let Some(class) = m.get("dbInstanceClass") else {
                return Ok(Restoring::Failed(format!(
                    "DB cluster {name} is restored, but its instance needs a class: set --set dbInstanceClass=db.r6g.large (or another), then delete the cluster and restore again"
                )));
            };
            c.once
                .rds
                .create_db_instance()
                .db_instance_identifier(&instance)
                .db_cluster_identifier(name)
                .engine(cluster.engine().unwrap_or("aurora-postgresql"))
                .db_instance_class(class)
                .publicly_accessible(false)
                .set_tags(Some(rds_tags(tags)))
                .send()
                .await
                .map_err(|e| classify(CREATE_DB_INSTANCE, region, &e))?;
            return Ok(Restoring::InProgress);
        }
        match Instance::restored(c, region, &instance, m, tags).await? {
            Restoring::Ready { .. } => Ok(Restoring::Ready {
                arn: cluster.db_cluster_arn().unwrap_or_default().to_string(),
                endpoint: cluster.endpoint().map(str::to_string),
                port: cluster.port().and_then(|p| u16::try_from(p).ok()),
            }),
            other => Ok(other),
        }
    }

    async fn discard_restored(c: &Clients, region: &str, name: &str) -> Result<(), AwsError> {
        let instance = format!("{name}-1");
        if Instance::exists(c, region, &instance).await? {
            Instance::discard_restored(c, region, &instance).await?;
        }
        c.rds
            .delete_db_cluster()
            .db_cluster_identifier(name)
            .skip_final_snapshot(true)
            .send()
            .await
            .map_err(|e| classify(DELETE_DB_CLUSTER, region, &e))?;
        Ok(())
    }

    /// Cluster snapshots made outside coffer are not looked for (overlaps are reported for
    /// EBS volumes and RDS instances).
    async fn foreign(
        _: &Clients,
        _: &str,
        _: &BTreeMap<&str, &str>,
        _: &dyn Fn(Option<DateTime<Utc>>) -> bool,
    ) -> Result<Vec<ForeignSnapshot>, AwsError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_arns() {
        assert_eq!(
            arn_id("arn:aws:ec2:us-east-1:1:volume/vol-1", "volume/"),
            "vol-1"
        );
        assert_eq!(
            arn_id("arn:aws:rds:us-east-1:1:db:orders", Instance::SOURCE_MARKER),
            "orders"
        );
        assert_eq!(
            arn_id(
                "arn:aws:rds:us-east-1:1:snapshot:coffer-job-1",
                Instance::SNAPSHOT_MARKER
            ),
            "coffer-job-1"
        );
        assert_eq!(rds_snapshot_id("job-abc"), "coffer-job-abc");
    }
}
