//! EBS volumes: a recovery point is a snapshot (CreateSnapshot), tagged with the job, so an
//! interrupted job finds it again; cold storage is the snapshot archive tier
//! (ModifySnapshotTier, followed with DescribeSnapshotTierStatus); snapshots of covered volumes
//! that coffer did not make are reported as overlaps. Copies into a vault in another region
//! are CopySnapshot calls there (another account's, after sharing the snapshot with it).

use super::preflight::kms_keys;
use super::*;
use crate::aws::error::classify;
use crate::inventory::{Resource, ResourceType};
use crate::providers::{
    Archiving, CopySource, Deletion, Finished, ForeignSnapshot, Preflight, Progress, Provider,
    ProviderError, RestoreRequest, Restoring, Tiering,
};

/// Backs up EBS volumes as snapshots.
pub struct EbsVolumes {
    regions: Regions,
}

impl EbsVolumes {
    pub fn new(regions: Regions) -> EbsVolumes {
        EbsVolumes { regions }
    }
}

impl Provider for EbsVolumes {
    fn supports(&self, t: ResourceType) -> bool {
        t == ResourceType::EbsVolume
    }

    fn service(&self, _: &Resource) -> &'static str {
        "EC2"
    }

    fn home_region(&self, r: &Resource, vault: &str) -> Option<String> {
        self.regions.home_region(r, vault)
    }

    async fn preflight(&self, resources: &[&Resource]) -> Preflight {
        let mut out = Preflight::default();
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
        let out = c
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(job_filter(job_id))
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_SNAPSHOTS, region, &e)))?;
        Ok(out
            .snapshots()
            .iter()
            .find_map(|s| s.snapshot_id().map(str::to_string)))
    }

    async fn start(
        &self,
        r: &Resource,
        _vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let c = self.regions.of(r)?;
        let description = format!("coffer job {job_id}");
        let spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
            .set_tags(Some(ec2_tags(tags)))
            .build();
        let out = c
            .once
            .ec2
            .create_snapshot()
            .volume_id(arn_id(&r.arn, "volume/"))
            .description(description)
            .tag_specifications(spec)
            .send()
            .await
            .map_err(|e| fail(classify(CREATE_SNAPSHOT, &r.region, &e)))?;
        out.snapshot_id()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("CreateSnapshot returned no snapshot id"))
    }

    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let out = c
            .ec2
            .describe_snapshots()
            .snapshot_ids(native_id)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_SNAPSHOTS, region, &e)))?;
        let Some(s) = out.snapshots().first() else {
            return Ok(Progress::Failed(format!(
                "snapshot {native_id} disappeared"
            )));
        };
        use aws_sdk_ec2::types::SnapshotState;
        Ok(match s.state() {
            Some(SnapshotState::Completed) => Progress::Done(Finished {
                native_id: native_id.to_string(),
                native_ids: vec![native_id.to_string()],
                size_bytes: s.volume_size().map(|g| g.max(0) as u64 * GIB),
                encrypted: s.encrypted().unwrap_or(false),
                kms_key: s.kms_key_id().map(str::to_string),
                unreadable: Vec::new(),
            }),
            Some(SnapshotState::Error) => Progress::Failed(format!(
                "snapshot {native_id} failed: {}",
                s.state_message().unwrap_or("no reason given")
            )),
            _ => Progress::Pending {
                percent: s
                    .progress()
                    .and_then(|p| p.trim_end_matches('%').parse().ok()),
            },
        })
    }

    /// A copy in the vault's region (and account), made with CopySnapshot there: encrypted
    /// with the vault's key when it has one, else as the source is.
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
        // another account copies a snapshot shared with it, for the copy only
        if let Some(account) = &route.share_with {
            if source.encrypted {
                shareable_key(from, source_region, source.native_id, source.kms_key).await?;
            }
            share_snapshot(from, source_region, source.native_id, account, true).await?;
        }
        let spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
            .set_tags(Some(ec2_tags(tags)))
            .build();
        let mut req = c
            .once
            .ec2
            .copy_snapshot()
            .source_region(source_region)
            .source_snapshot_id(source.native_id)
            .description(format!(
                "coffer job {job_id}: copy of {} from {source_region}",
                source.native_id
            ))
            .tag_specifications(spec);
        if let Some(key) = self.regions.vault(vault).kms_key_arn {
            req = req.encrypted(true).kms_key_id(key);
        }
        let out = req
            .send()
            .await
            .map_err(|e| fail(classify(COPY_SNAPSHOT, region, &e)))?;
        out.snapshot_id()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("CopySnapshot returned no snapshot id"))
    }

    /// CreateVolume from the snapshot, as the source volume was unless the metadata says
    /// otherwise (an availability zone is needed; without one, the region's first).
    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        unarchived(c, region, req.native_id).await?;
        let m = req.metadata;
        let zone = m
            .get("availabilityZone")
            .cloned()
            .unwrap_or_else(|| format!("{region}a"));
        let spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Volume)
            .set_tags(Some(ec2_tags(req.tags)))
            .build();
        let out = c
            .once
            .ec2
            .create_volume()
            .snapshot_id(req.native_id)
            .availability_zone(zone)
            .set_volume_type(m.get("volumeType").map(|t| t.as_str().into()))
            .set_iops(meta_i32(m, "iops"))
            .set_throughput(meta_i32(m, "throughput"))
            .set_size(meta_i32(m, "volumeSize"))
            .set_encrypted(meta_bool(m, "encrypted").filter(|e| *e))
            .set_kms_key_id(m.get("kmsKeyId").cloned())
            .client_token(req.job_id)
            .tag_specifications(spec)
            .send()
            .await
            .map_err(|e| fail(classify(CREATE_VOLUME, region, &e)))?;
        out.volume_id()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("CreateVolume returned no volume id"))
    }

    async fn find_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        let out = c
            .ec2
            .describe_volumes()
            .filters(restore_filter(req.job_id))
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_VOLUMES, region, &e)))?;
        Ok(out
            .volumes()
            .iter()
            .find_map(|v| v.volume_id().map(str::to_string)))
    }

    async fn restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        use aws_sdk_ec2::types::VolumeState;
        let (c, region) = self.regions.home(r, req.vault)?;
        let out = c
            .ec2
            .describe_volumes()
            .volume_ids(created)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_VOLUMES, region, &e)))?;
        let Some(v) = out.volumes().first() else {
            return Ok(Restoring::Failed(format!("volume {created} disappeared")));
        };
        Ok(match v.state() {
            Some(VolumeState::Available | VolumeState::InUse) => Restoring::Ready {
                arn: format!(
                    "arn:aws:ec2:{region}:{}:volume/{created}",
                    self.regions.account(r, req.vault).await?
                ),
                endpoint: None,
                port: None,
            },
            Some(VolumeState::Error | VolumeState::Deleted | VolumeState::Deleting) => {
                Restoring::Failed(format!(
                    "volume {created} is {}",
                    v.state().map_or("", |s| s.as_str())
                ))
            }
            _ => Restoring::InProgress,
        })
    }

    /// The volume is `available` with the size asked for (the snapshot's, unless changed).
    async fn validate_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<String, String> {
        let (c, region) = self.regions.home(r, req.vault).map_err(|e| e.message)?;
        let volume = c
            .ec2
            .describe_volumes()
            .volume_ids(created)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_VOLUMES, region, &e)).message)?;
        let v = volume
            .volumes()
            .first()
            .ok_or(format!("volume {created} is gone"))?;
        let snapshot = describe_snapshot(c, region, req.native_id)
            .await
            .map_err(|e| e.message)?;
        let want = meta_i32(req.metadata, "volumeSize")
            .or_else(|| snapshot.as_ref().and_then(|s| s.volume_size()));
        let state = v.state().map_or("unknown", |s| s.as_str());
        if !matches!(state, "available" | "in-use") {
            return Err(format!("volume {created} is {state}"));
        }
        match (v.size(), want) {
            (Some(got), Some(want)) if got != want => Err(format!(
                "volume {created} has {got} GiB, the snapshot {want} GiB"
            )),
            _ => Ok(format!(
                "volume {created} is {state} with {} GiB",
                v.size().unwrap_or_default()
            )),
        }
    }

    async fn discard_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        c.ec2
            .delete_volume()
            .volume_id(created)
            .send()
            .await
            .map_err(|e| fail(classify(DELETE_VOLUME, region, &e)))?;
        Ok(())
    }

    async fn unshare(
        &self,
        r: &Resource,
        source: &CopySource<'_>,
        vault: &str,
    ) -> Result<(), ProviderError> {
        let route = self.regions.copy_route(r, source.vault, vault).await?;
        let (from, source_region) = route.from;
        match &route.share_with {
            Some(account) => {
                share_snapshot(from, source_region, source.native_id, account, false).await
            }
            None => Ok(()),
        }
    }

    async fn discard(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        delete_snapshot(c, region, native_id).await?;
        Ok(())
    }

    async fn exists(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        Ok(describe_snapshot(c, region, native_id).await?.is_some())
    }

    async fn delete(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Deletion, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let Some(s) = describe_snapshot(c, region, native_id).await? else {
            return Ok(Deletion::Gone { notes: Vec::new() });
        };
        if !ec2_made_by(s.tags(), job_id) {
            return Ok(not_ours(&format!("snapshot {native_id}"), job_id));
        }
        Ok(if delete_snapshot(c, region, native_id).await? {
            Deletion::Deleted { notes: Vec::new() }
        } else {
            Deletion::Gone { notes: Vec::new() }
        })
    }

    /// AWS snapshots live in no repository.
    async fn prune(
        &self,
        _: &str,
        _: u8,
    ) -> Result<Option<crate::providers::Pruned>, ProviderError> {
        Ok(None)
    }

    async fn archive(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Archiving, ProviderError> {
        use aws_sdk_ec2::types::{StorageTier, TargetStorageTier, TieringOperationStatus};
        let (c, region) = self.regions.home(r, vault)?;
        let Some(s) = describe_snapshot(c, region, native_id).await? else {
            return Ok(Archiving::Gone);
        };
        if !ec2_made_by(s.tags(), job_id) {
            return Ok(match not_ours(&format!("snapshot {native_id}"), job_id) {
                Deletion::NotOurs(m) => Archiving::NotOurs(m),
                _ => Archiving::NotOurs(String::new()),
            });
        }
        if s.storage_tier() == Some(&StorageTier::Archive) {
            return Ok(Archiving::Done { native_id: None });
        }
        // an earlier attempt's request that is still under way is followed, not repeated
        if tier_status(c, region, native_id).await?
            == Some(TieringOperationStatus::ArchivalInProgress)
        {
            return Ok(Archiving::Started);
        }
        c.ec2
            .modify_snapshot_tier()
            .snapshot_id(native_id)
            .storage_tier(TargetStorageTier::Archive)
            .send()
            .await
            .map_err(|e| fail(classify(MODIFY_SNAPSHOT_TIER, region, &e)))?;
        Ok(Archiving::Started)
    }

    async fn tiering(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Tiering, ProviderError> {
        use aws_sdk_ec2::types::TieringOperationStatus as S;
        let (c, region) = self.regions.home(r, vault)?;
        Ok(match tier_status(c, region, native_id).await? {
            Some(S::ArchivalCompleted) => Tiering::Completed,
            Some(S::ArchivalFailed) => Tiering::Failed(format!(
                "archiving snapshot {native_id} failed (DescribeSnapshotTierStatus says archival-failed)"
            )),
            Some(S::ArchivalInProgress) => Tiering::InProgress,
            other => Tiering::Failed(format!(
                "snapshot {native_id} is not being archived (tiering status {})",
                other.map_or("none".to_string(), |s| s.as_str().to_string())
            )),
        })
    }

    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        let mut out = Vec::new();
        let in_window = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= from && t <= to);
        let mut by_region: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in resources {
            by_region.entry(r.region.as_str()).or_default().push(r);
        }
        for (region, rs) in by_region {
            let Some(c) = self.regions.get(region) else {
                continue;
            };
            let volumes: BTreeMap<&str, &str> = rs
                .iter()
                .filter(|r| r.resource_type == ResourceType::EbsVolume)
                .map(|r| (arn_id(&r.arn, "volume/"), r.arn.as_str()))
                .collect();
            let ids: Vec<&str> = volumes.keys().copied().collect();
            for chunk in ids.chunks(200) {
                let filter = aws_sdk_ec2::types::Filter::builder()
                    .name("volume-id")
                    .set_values(Some(chunk.iter().map(|s| s.to_string()).collect()))
                    .build();
                let mut pages = c
                    .ec2
                    .describe_snapshots()
                    .owner_ids("self")
                    .filters(filter)
                    .max_results(1000)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| fail(classify(DESCRIBE_SNAPSHOTS, region, &e)))?;
                    for s in page.snapshots() {
                        let ours = s.tags().iter().any(|t| t.key() == Some(JOB_TAG));
                        let started = time(s.start_time());
                        if ours || !in_window(started) {
                            continue;
                        }
                        if let (Some(v), Some(id), Some(at)) = (
                            s.volume_id().and_then(|v| volumes.get(v)),
                            s.snapshot_id(),
                            started,
                        ) {
                            out.push(ForeignSnapshot {
                                resource_arn: v.to_string(),
                                native_id: id.to_string(),
                                created_at: at,
                                origin: origin_of_ec2(s.tags(), s.description()),
                            });
                        }
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Makes sure a snapshot is in the standard tier before a volume is made of it: an archived
/// one is restored temporarily (RestoreSnapshotTier, one day), and until that completes (hours
/// in AWS) this says so as a transient error, so that the restore job waits within its window.
async fn unarchived(c: &Clients, region: &str, id: &str) -> Result<(), ProviderError> {
    use aws_sdk_ec2::types::{StorageTier, TieringOperationStatus as S};
    let Some(s) = describe_snapshot(c, region, id).await? else {
        return Err(ProviderError::permanent(format!(
            "snapshot {id} does not exist"
        )));
    };
    if s.storage_tier() != Some(&StorageTier::Archive) {
        return Ok(());
    }
    match tier_status(c, region, id).await? {
        Some(S::TemporaryRestoreInProgress | S::PermanentRestoreInProgress) => {}
        Some(S::TemporaryRestoreFailed | S::PermanentRestoreFailed) => {
            return Err(ProviderError::permanent(format!(
                "restoring snapshot {id} from the archive tier failed (DescribeSnapshotTierStatus)"
            )))
        }
        _ => {
            c.ec2
                .restore_snapshot_tier()
                .snapshot_id(id)
                .temporary_restore_days(1)
                .send()
                .await
                .map_err(|e| fail(classify(RESTORE_SNAPSHOT_TIER, region, &e)))?;
        }
    }
    Err(ProviderError::transient(format!(
        "snapshot {id} is in the archive tier and is being restored to the standard tier for a day (RestoreSnapshotTier); the restore waits for it"
    )))
}

/// The last tiering operation's status of a snapshot, if it had one.
async fn tier_status(
    c: &Clients,
    region: &str,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::TieringOperationStatus>, ProviderError> {
    let out = c
        .ec2
        .describe_snapshot_tier_status()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("snapshot-id")
                .values(id)
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail(classify(DESCRIBE_SNAPSHOT_TIER_STATUS, region, &e)))?;
    Ok(out
        .snapshot_tier_statuses()
        .iter()
        .find(|s| s.snapshot_id() == Some(id))
        .and_then(|s| s.last_tiering_operation_status().cloned()))
}
