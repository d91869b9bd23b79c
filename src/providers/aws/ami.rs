//! EC2 instances: a recovery point is an AMI made with CreateImage and NoReboot, together with
//! the snapshot of each of its volumes (the AMI is tagged with the job at once, its snapshots
//! once they exist). Discarding deregisters the AMI and deletes its snapshots; deleting a
//! recovery point does the same for the snapshots coffer made that no other AMI uses.

use super::preflight::kms_keys;
use super::*;
use crate::aws::error::classify;
use crate::inventory::{Resource, ResourceType};
use crate::providers::{
    CopySource, Deletion, Finished, ForeignSnapshot, Preflight, Progress, Provider, ProviderError,
    RestoreRequest, Restoring,
};

/// Backs up EC2 instances as AMIs.
pub struct Ec2Instances {
    regions: Regions,
}

impl Ec2Instances {
    pub fn new(regions: Regions) -> Ec2Instances {
        Ec2Instances { regions }
    }
}

impl Provider for Ec2Instances {
    fn supports(&self, t: ResourceType) -> bool {
        t == ResourceType::Ec2Instance
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
            .describe_images()
            .owners("self")
            .filters(job_filter(job_id))
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_IMAGES, region, &e)))?;
        Ok(out
            .images()
            .iter()
            .find_map(|i| i.image_id().map(str::to_string)))
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
        // the AMI is tagged now; its snapshots are tagged once they exist (poll)
        let spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Image)
            .set_tags(Some(ec2_tags(tags)))
            .build();
        let out = c
            .once
            .ec2
            .create_image()
            .instance_id(arn_id(&r.arn, "instance/"))
            .name(format!("coffer-{job_id}"))
            .description(description)
            .no_reboot(true)
            .tag_specifications(spec)
            .send()
            .await
            .map_err(|e| fail(classify(CREATE_IMAGE, &r.region, &e)))?;
        out.image_id()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("CreateImage returned no image id"))
    }

    /// CopyImage in the vault's region (and account), the copy and its snapshots tagged, and
    /// encrypted with the vault's key when it has one.
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
        if let Some(account) = &route.share_with {
            if source.encrypted {
                shareable_key(from, source_region, source.native_id, source.kms_key).await?;
            }
            share_image(from, source_region, source.native_id, account, true).await?;
        }
        let spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Image)
            .set_tags(Some(ec2_tags(tags)))
            .build();
        let mut req = c
            .once
            .ec2
            .copy_image()
            .source_image_id(source.native_id)
            .source_region(source_region)
            .name(format!("coffer-{job_id}"))
            .description(format!(
                "coffer job {job_id}: copy of {} from {source_region}",
                source.native_id
            ))
            .client_token(job_id)
            .tag_specifications(spec);
        if let Some(key) = self.regions.vault(vault).kms_key_arn {
            req = req.encrypted(true).kms_key_id(key);
        }
        let out = req
            .send()
            .await
            .map_err(|e| fail(classify(COPY_IMAGE, region, &e)))?;
        out.image_id()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("CopyImage returned no image id"))
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
            .describe_images()
            .image_ids(native_id)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_IMAGES, region, &e)))?;
        let Some(image) = out.images().first() else {
            return Ok(Progress::Failed(format!("image {native_id} disappeared")));
        };
        use aws_sdk_ec2::types::ImageState;
        match image.state() {
            Some(ImageState::Available) => {
                let ebs: Vec<_> = image
                    .block_device_mappings()
                    .iter()
                    .filter_map(|m| m.ebs())
                    .collect();
                let snapshots: Vec<String> = ebs
                    .iter()
                    .filter_map(|e| e.snapshot_id().map(str::to_string))
                    .collect();
                if !snapshots.is_empty() {
                    // the image's tags (coffer:job among them) go on its snapshots too
                    let mut req = c.ec2.create_tags().set_resources(Some(snapshots.clone()));
                    for t in image.tags() {
                        req = req.tags(t.clone());
                    }
                    req.send()
                        .await
                        .map_err(|e| fail(classify(CREATE_TAGS, region, &e)))?;
                }
                let mut ids = vec![native_id.to_string()];
                ids.extend(snapshots);
                Ok(Progress::Done(Finished {
                    native_id: native_id.to_string(),
                    native_ids: ids,
                    size_bytes: Some(
                        ebs.iter()
                            .filter_map(|e| e.volume_size())
                            .map(|g| g.max(0) as u64 * GIB)
                            .sum(),
                    ),
                    encrypted: ebs.iter().any(|e| e.encrypted().unwrap_or(false)),
                    kms_key: ebs.iter().find_map(|e| e.kms_key_id().map(str::to_string)),
                    unreadable: Vec::new(),
                }))
            }
            Some(ImageState::Failed | ImageState::Error | ImageState::Invalid) => {
                Ok(Progress::Failed(format!(
                    "image {native_id} failed: {}",
                    image
                        .state_reason()
                        .and_then(|s| s.message())
                        .unwrap_or("no reason given")
                )))
            }
            _ => Ok(Progress::Pending { percent: None }),
        }
    }

    /// RunInstances from the AMI: one instance as the source was (type, subnet, security
    /// groups, instance profile, key pair) unless the metadata says otherwise, IMDSv2
    /// required unless `requireImdsV2 = false`.
    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        use aws_sdk_ec2::types::{
            HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataOptionsRequest,
            ResourceType as Rt, TagSpecification,
        };
        let (c, region) = self.regions.home(r, req.vault)?;
        let m = req.metadata;
        let tags = |t: Rt| {
            TagSpecification::builder()
                .resource_type(t)
                .set_tags(Some(ec2_tags(req.tags)))
                .build()
        };
        let tokens = if meta_bool(m, "requireImdsV2").unwrap_or(true) {
            HttpTokensState::Required
        } else {
            HttpTokensState::Optional
        };
        let out = c
            .once
            .ec2
            .run_instances()
            .image_id(req.native_id)
            .min_count(1)
            .max_count(1)
            .set_instance_type(m.get("instanceType").map(|t| t.as_str().into()))
            .set_subnet_id(m.get("subnetId").cloned())
            .set_security_group_ids(meta_list(m, "securityGroupIds"))
            .set_iam_instance_profile(
                m.get("iamInstanceProfileName")
                    .map(|n| IamInstanceProfileSpecification::builder().name(n).build()),
            )
            .set_key_name(m.get("keyName").cloned())
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(tokens)
                    .build(),
            )
            .client_token(req.job_id)
            .tag_specifications(tags(Rt::Instance))
            .tag_specifications(tags(Rt::Volume))
            .send()
            .await
            .map_err(|e| fail(classify(RUN_INSTANCES, region, &e)))?;
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("RunInstances returned no instance"))
    }

    async fn find_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        let out = c
            .ec2
            .describe_instances()
            .filters(restore_filter(req.job_id))
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_INSTANCES, region, &e)))?;
        Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find_map(|i| i.instance_id().map(str::to_string)))
    }

    async fn restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        use aws_sdk_ec2::types::InstanceStateName as S;
        let (c, region) = self.regions.home(r, req.vault)?;
        let out = c
            .ec2
            .describe_instances()
            .instance_ids(created)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_INSTANCES, region, &e)))?;
        let Some(i) = out.reservations().iter().flat_map(|r| r.instances()).next() else {
            return Ok(Restoring::Failed(format!("instance {created} disappeared")));
        };
        Ok(match i.state().and_then(|s| s.name()) {
            Some(S::Running) => Restoring::Ready {
                arn: format!(
                    "arn:aws:ec2:{region}:{}:instance/{created}",
                    self.regions.account(r, req.vault).await?
                ),
                endpoint: i.private_ip_address().map(str::to_string),
                port: None,
            },
            Some(s @ (S::ShuttingDown | S::Terminated | S::Stopped | S::Stopping)) => {
                Restoring::Failed(format!(
                    "instance {created} is {}: {}",
                    s.as_str(),
                    i.state_reason()
                        .and_then(|r| r.message())
                        .unwrap_or("no reason given")
                ))
            }
            _ => Restoring::InProgress,
        })
    }

    async fn discard_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        c.ec2
            .terminate_instances()
            .instance_ids(created)
            .send()
            .await
            .map_err(|e| fail(classify(TERMINATE_INSTANCES, region, &e)))?;
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
                share_image(from, source_region, source.native_id, account, false).await
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
        let out = c
            .ec2
            .describe_images()
            .image_ids(native_id)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_IMAGES, region, &e)))?;
        let snapshots: Vec<String> = out
            .images()
            .iter()
            .flat_map(|i| i.block_device_mappings())
            .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
            .collect();
        c.ec2
            .deregister_image()
            .image_id(native_id)
            .send()
            .await
            .map_err(|e| fail(classify(DEREGISTER_IMAGE, region, &e)))?;
        for s in snapshots {
            c.ec2
                .delete_snapshot()
                .snapshot_id(s)
                .send()
                .await
                .map_err(|e| fail(classify(DELETE_SNAPSHOT, region, &e)))?;
        }

        Ok(())
    }

    async fn exists(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        match c.ec2.describe_images().image_ids(native_id).send().await {
            Ok(out) => Ok(!out.images().is_empty()),
            Err(e) => {
                let e = classify(DESCRIBE_IMAGES, region, &e);
                if is_not_found(&e, &["InvalidAMIID"]) {
                    Ok(false)
                } else {
                    Err(fail(e))
                }
            }
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
        let image = match c.ec2.describe_images().image_ids(native_id).send().await {
            Ok(out) => out.images().first().cloned(),
            Err(e) => {
                let e = classify(DESCRIBE_IMAGES, region, &e);
                if is_not_found(&e, &["InvalidAMIID"]) {
                    None
                } else {
                    return Err(fail(e));
                }
            }
        };
        // the AMI's snapshots, and any the job tagged (left by a deletion that stopped after
        // deregistering the AMI)
        let mut snapshots: Vec<String> = image
            .iter()
            .flat_map(|i| i.block_device_mappings())
            .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
            .collect();
        let tagged = c
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(job_filter(job_id))
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_SNAPSHOTS, region, &e)))?;
        snapshots.extend(
            tagged
                .snapshots()
                .iter()
                .filter_map(|s| s.snapshot_id().map(str::to_string)),
        );
        snapshots.sort();
        snapshots.dedup();
        let existed = match &image {
            Some(i) if !ec2_made_by(i.tags(), job_id) => {
                return Ok(not_ours(&format!("image {native_id}"), job_id));
            }
            Some(_) => match c.ec2.deregister_image().image_id(native_id).send().await {
                Ok(_) => true,
                Err(e) => {
                    let e = classify(DEREGISTER_IMAGE, region, &e);
                    if !is_not_found(&e, &["InvalidAMIID"]) {
                        return Err(fail(e));
                    }
                    false
                }
            },
            None => false,
        };
        crate::failpoint::abort_at("after-deregister-image");
        // snapshots still used by another image stay
        let mut used: BTreeMap<String, String> = BTreeMap::new();
        let mut pages = c
            .ec2
            .describe_images()
            .owners("self")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| fail(classify(DESCRIBE_IMAGES, region, &e)))?;
            for i in page.images() {
                if i.image_id() == Some(native_id) {
                    continue;
                }
                for m in i.block_device_mappings() {
                    if let (Some(s), Some(id)) =
                        (m.ebs().and_then(|e| e.snapshot_id()), i.image_id())
                    {
                        used.insert(s.to_string(), id.to_string());
                    }
                }
            }
        }
        let mut notes = Vec::new();
        for s in snapshots {
            if let Some(other) = used.get(&s) {
                notes.push(format!("snapshot {s} is kept: image {other} still uses it"));
                continue;
            }
            match describe_snapshot(c, region, &s).await? {
                None => continue,
                Some(snap) if !ec2_made_by(snap.tags(), job_id) => {
                    notes.push(format!(
                        "snapshot {s} is kept: it does not carry {}={job_id}, so coffer did not make it",
                        crate::jobs::JOB_TAG
                    ));
                    continue;
                }
                Some(_) => {}
            }
            if delete_snapshot(c, region, &s).await? && !existed {
                notes.push(format!(
                    "snapshot {s}, left by an earlier attempt, is deleted"
                ));
            }
        }
        Ok(if existed {
            Deletion::Deleted { notes }
        } else {
            Deletion::Gone { notes }
        })
    }

    /// Images made outside coffer are not looked for: overlaps are reported for EBS volumes
    /// and RDS instances only.
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
        _: &[&Resource],
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        Ok(Vec::new())
    }
}

/// Lets `account` launch (and so copy) an AMI and create volumes from its snapshots
/// (`share`), or no longer.
async fn share_image(
    c: &Clients,
    region: &str,
    image_id: &str,
    account: &str,
    share: bool,
) -> Result<(), ProviderError> {
    use aws_sdk_ec2::types::{LaunchPermission, LaunchPermissionModifications};
    let permission = LaunchPermission::builder().user_id(account).build();
    let change = if share {
        LaunchPermissionModifications::builder().add(permission)
    } else {
        LaunchPermissionModifications::builder().remove(permission)
    };
    c.ec2
        .modify_image_attribute()
        .image_id(image_id)
        .launch_permission(change.build())
        .send()
        .await
        .map_err(|e| fail(classify(MODIFY_IMAGE_ATTRIBUTE, region, &e)))?;
    let out = c
        .ec2
        .describe_images()
        .image_ids(image_id)
        .send()
        .await
        .map_err(|e| fail(classify(DESCRIBE_IMAGES, region, &e)))?;
    for snapshot in out
        .images()
        .iter()
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()))
    {
        share_snapshot(c, region, snapshot, account, share).await?;
    }
    Ok(())
}
