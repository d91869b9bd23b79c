//! The AWS snapshot engine: EBS volumes by CreateSnapshot, EC2 instances by CreateImage
//! with NoReboot (the AMI and its snapshots are one recovery point), RDS instances by
//! CreateDBSnapshot and Aurora clusters by CreateDBClusterSnapshot. Everything is tagged
//! (`coffer:job` among the tags) so an interrupted job can find what it started; RDS and
//! AMI names are derived from the job id, so a repeated request cannot make a second copy.
//! Before a tick it reads the RDS snapshot quotas and checks KMS keys.

use super::error::{classify, AwsError, Call};
use super::Target;
use crate::inventory::{Resource, ResourceType};
use crate::runner::engine::{Engine, EngineError, Finished, ForeignSnapshot, Preflight, Progress};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use crate::jobs::JOB_TAG;

const GIB: u64 = 1 << 30;

macro_rules! call {
    ($name:ident, $api:literal, $service:literal) => {
        const $name: Call = Call {
            api: $api,
            action: $api,
            service: $service,
        };
    };
}
call!(CREATE_SNAPSHOT, "ec2:CreateSnapshot", "EC2");
call!(DESCRIBE_SNAPSHOTS, "ec2:DescribeSnapshots", "EC2");
call!(DELETE_SNAPSHOT, "ec2:DeleteSnapshot", "EC2");
call!(CREATE_IMAGE, "ec2:CreateImage", "EC2");
call!(DESCRIBE_IMAGES, "ec2:DescribeImages", "EC2");
call!(DEREGISTER_IMAGE, "ec2:DeregisterImage", "EC2");
call!(CREATE_TAGS, "ec2:CreateTags", "EC2");
call!(CREATE_DB_SNAPSHOT, "rds:CreateDBSnapshot", "RDS");
call!(DESCRIBE_DB_SNAPSHOTS, "rds:DescribeDBSnapshots", "RDS");
call!(DELETE_DB_SNAPSHOT, "rds:DeleteDBSnapshot", "RDS");
call!(
    CREATE_CLUSTER_SNAPSHOT,
    "rds:CreateDBClusterSnapshot",
    "RDS"
);
call!(
    DESCRIBE_CLUSTER_SNAPSHOTS,
    "rds:DescribeDBClusterSnapshots",
    "RDS"
);
call!(
    DELETE_CLUSTER_SNAPSHOT,
    "rds:DeleteDBClusterSnapshot",
    "RDS"
);
call!(ACCOUNT_ATTRIBUTES, "rds:DescribeAccountAttributes", "RDS");
call!(DESCRIBE_KEY, "kms:DescribeKey", "KMS");

struct Clients {
    ec2: aws_sdk_ec2::Client,
    rds: aws_sdk_rds::Client,
    kms: aws_sdk_kms::Client,
}

/// SDK clients per region, from the provider blocks.
pub struct AwsSnapshots {
    clients: BTreeMap<String, Clients>,
}

impl AwsSnapshots {
    /// Clients for every provider block (the first block for a region wins).
    pub async fn new(targets: &[Target]) -> AwsSnapshots {
        let mut clients = BTreeMap::new();
        for t in targets {
            if clients.contains_key(&t.region) {
                continue;
            }
            let conf = super::sdk_config(t).await;
            clients.insert(
                t.region.clone(),
                Clients {
                    ec2: aws_sdk_ec2::Client::new(&conf),
                    rds: aws_sdk_rds::Client::new(&conf),
                    kms: aws_sdk_kms::Client::new(&conf),
                },
            );
        }
        AwsSnapshots { clients }
    }

    fn clients(&self, r: &Resource) -> Result<&Clients, EngineError> {
        self.clients.get(&r.region).ok_or_else(|| {
            EngineError::permanent(format!(
                "no provider \"aws\" block covers region {} (resource {})",
                r.region, r.arn
            ))
        })
    }
}

fn fail(e: AwsError) -> EngineError {
    EngineError {
        transient: e.is_transient(),
        message: e.with_hint(),
    }
}

/// The last part of an ARN after `marker`, e.g. the volume id after `volume/`.
fn arn_id<'a>(arn: &'a str, marker: &str) -> &'a str {
    arn.rsplit_once(marker).map_or(arn, |(_, id)| id)
}

/// RDS snapshot identifiers: letters, digits and single hyphens, starting with a letter.
fn rds_snapshot_id(job_id: &str) -> String {
    format!("coffer-{job_id}")
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ec2::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect()
}

fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_rds::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
        .collect()
}

fn job_filter(job_id: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(format!("tag:{JOB_TAG}"))
        .values(job_id)
        .build()
}

fn origin_of_ec2(tags: &[aws_sdk_ec2::types::Tag], description: Option<&str>) -> Option<String> {
    let has = |k: &str| {
        tags.iter()
            .any(|t| t.key().is_some_and(|tk| tk.starts_with(k)))
    };
    if has("aws:dlm:") {
        Some("Data Lifecycle Manager".into())
    } else if has("aws:backup:") {
        Some("AWS Backup".into())
    } else {
        description.filter(|d| !d.is_empty()).map(str::to_string)
    }
}

/// What DescribeDBSnapshots and DescribeDBClusterSnapshots say about one snapshot.
struct RdsSnapshotStatus<'a> {
    status: &'a str,
    allocated_gib: Option<i32>,
    encrypted: bool,
    kms_key: Option<&'a str>,
    percent: Option<i32>,
}

/// Where an RDS or Aurora snapshot is, from its status.
fn rds_progress(native_id: &str, s: RdsSnapshotStatus<'_>) -> Progress {
    match s.status {
        "available" => Progress::Done(Finished {
            native_id: native_id.to_string(),
            native_ids: vec![native_id.to_string()],
            size_bytes: s.allocated_gib.map(|g| g.max(0) as u64 * GIB),
            encrypted: s.encrypted,
            kms_key: s.kms_key.map(str::to_string),
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

/// The quota check for one region's RDS snapshots: warn at 80%, refuse what does not fit.
pub fn check_quota(
    quota: &str,
    region: &str,
    used: u64,
    max: u64,
    wanted: &[&Resource],
    out: &mut Preflight,
) {
    if wanted.is_empty() || max == 0 {
        return;
    }
    let free = max.saturating_sub(used) as usize;
    for r in wanted.iter().skip(free) {
        out.refused.insert(
            r.arn.clone(),
            format!(
                "the RDS quota {quota} in {region} is full ({used} of {max} used, {} more wanted): \
                 delete old manual snapshots or ask AWS for a higher quota",
                wanted.len()
            ),
        );
    }
    let after = used + wanted.len().min(free) as u64;
    if free > 0 && after * 5 >= max * 4 {
        out.warnings.push(format!(
            "the RDS quota {quota} in {region} will be {after} of {max} ({}%) after this tick",
            after * 100 / max
        ));
    }
}

impl AwsSnapshots {
    async fn rds_quotas(&self, region: &str, wanted: &[&Resource], out: &mut Preflight) {
        let Some(c) = self.clients.get(region) else {
            return;
        };
        let attrs = match c.rds.describe_account_attributes().send().await {
            Ok(a) => a,
            Err(e) => {
                out.warnings.push(format!(
                    "could not read the RDS snapshot quotas: {}",
                    classify(ACCOUNT_ATTRIBUTES, region, &e)
                ));
                return;
            }
        };
        for (quota, t) in [
            ("ManualSnapshots", ResourceType::RdsInstance),
            ("ManualClusterSnapshots", ResourceType::AuroraCluster),
        ] {
            let of_type: Vec<&Resource> = wanted
                .iter()
                .copied()
                .filter(|r| r.resource_type == t)
                .collect();
            if let Some(q) = attrs
                .account_quotas()
                .iter()
                .find(|q| q.account_quota_name() == Some(quota))
            {
                let used = q.used().unwrap_or(0).max(0) as u64;
                let max = q.max().unwrap_or(0).max(0) as u64;
                check_quota(quota, region, used, max, &of_type, out);
            }
        }
    }

    async fn kms_keys(&self, wanted: &[&Resource], out: &mut Preflight) {
        let mut keys: BTreeMap<(&str, &str), Vec<&Resource>> = BTreeMap::new();
        for r in wanted {
            if let (true, Some(k)) = (r.encrypted, r.kms_key.as_deref()) {
                keys.entry((r.region.as_str(), k)).or_default().push(r);
            }
        }
        for ((region, key), users) in keys {
            let Some(c) = self.clients.get(region) else {
                continue;
            };
            match c.kms.describe_key().key_id(key).send().await {
                Ok(d) => {
                    let state = d.key_metadata().and_then(|m| m.key_state());
                    if let Some(s) = state.filter(|s| s.as_str() != "Enabled") {
                        for r in users {
                            out.refused.insert(
                                r.arn.clone(),
                                format!(
                                    "the KMS key {key} that encrypts this resource is {}: snapshots of encrypted resources need the key enabled (enable it, or cancel its pending deletion, then run again)",
                                    s.as_str()
                                ),
                            );
                        }
                    }
                }
                Err(e) => {
                    let e = classify(DESCRIBE_KEY, region, &e);
                    if e.code().is_some_and(|c| c == "NotFoundException") {
                        for r in users {
                            out.refused.insert(
                                r.arn.clone(),
                                format!("the KMS key {key} that encrypts this resource does not exist: {e}"),
                            );
                        }
                    } else {
                        out.warnings
                            .push(format!("could not check the KMS key {key}: {e}"));
                    }
                }
            }
        }
    }
}

impl Engine for AwsSnapshots {
    fn supports(&self, t: ResourceType) -> bool {
        matches!(
            t,
            ResourceType::EbsVolume
                | ResourceType::Ec2Instance
                | ResourceType::RdsInstance
                | ResourceType::AuroraCluster
        )
    }

    fn service(&self, r: &Resource) -> &'static str {
        match r.resource_type {
            ResourceType::RdsInstance | ResourceType::AuroraCluster => "RDS",
            _ => "EC2",
        }
    }

    async fn preflight(&self, resources: &[&Resource]) -> Preflight {
        let mut out = Preflight::default();
        let mut rds_regions: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in resources {
            if matches!(
                r.resource_type,
                ResourceType::RdsInstance | ResourceType::AuroraCluster
            ) {
                rds_regions.entry(r.region.as_str()).or_default().push(r);
            }
        }
        for (region, wanted) in rds_regions {
            self.rds_quotas(region, &wanted, &mut out).await;
        }
        self.kms_keys(resources, &mut out).await;
        out
    }

    async fn find(
        &self,
        r: &Resource,
        _vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, EngineError> {
        let c = self.clients(r)?;
        match r.resource_type {
            ResourceType::EbsVolume => {
                let out = c
                    .ec2
                    .describe_snapshots()
                    .owner_ids("self")
                    .filters(job_filter(job_id))
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_SNAPSHOTS, &r.region, &e)))?;
                Ok(out
                    .snapshots()
                    .iter()
                    .find_map(|s| s.snapshot_id().map(str::to_string)))
            }
            ResourceType::Ec2Instance => {
                let out = c
                    .ec2
                    .describe_images()
                    .owners("self")
                    .filters(job_filter(job_id))
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_IMAGES, &r.region, &e)))?;
                Ok(out
                    .images()
                    .iter()
                    .find_map(|i| i.image_id().map(str::to_string)))
            }
            ResourceType::RdsInstance => {
                match c
                    .rds
                    .describe_db_snapshots()
                    .db_snapshot_identifier(rds_snapshot_id(job_id))
                    .send()
                    .await
                {
                    Ok(out) => Ok(out
                        .db_snapshots()
                        .iter()
                        .find_map(|s| s.db_snapshot_arn().map(str::to_string))),
                    Err(e) => {
                        let e = classify(DESCRIBE_DB_SNAPSHOTS, &r.region, &e);
                        if e.code()
                            .is_some_and(|c| c.starts_with("DBSnapshotNotFound"))
                        {
                            Ok(None)
                        } else {
                            Err(fail(e))
                        }
                    }
                }
            }
            ResourceType::AuroraCluster => {
                match c
                    .rds
                    .describe_db_cluster_snapshots()
                    .db_cluster_snapshot_identifier(rds_snapshot_id(job_id))
                    .send()
                    .await
                {
                    Ok(out) => Ok(out
                        .db_cluster_snapshots()
                        .iter()
                        .find_map(|s| s.db_cluster_snapshot_arn().map(str::to_string))),
                    Err(e) => {
                        let e = classify(DESCRIBE_CLUSTER_SNAPSHOTS, &r.region, &e);
                        if e.code()
                            .is_some_and(|c| c.starts_with("DBClusterSnapshotNotFound"))
                        {
                            Ok(None)
                        } else {
                            Err(fail(e))
                        }
                    }
                }
            }
            t => Err(EngineError::permanent(format!(
                "{t} resources are not backed up by snapshots"
            ))),
        }
    }

    async fn start(
        &self,
        r: &Resource,
        _vault: &str,
        job_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, EngineError> {
        let c = self.clients(r)?;
        let description = format!("coffer job {job_id}");
        match r.resource_type {
            ResourceType::EbsVolume => {
                let spec = aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
                    .set_tags(Some(ec2_tags(tags)))
                    .build();
                let out = c
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
                    .ok_or_else(|| EngineError::permanent("CreateSnapshot returned no snapshot id"))
            }
            ResourceType::Ec2Instance => {
                // the AMI is tagged now; its snapshots are tagged once they exist (poll)
                let spec = aws_sdk_ec2::types::TagSpecification::builder()
                    .resource_type(aws_sdk_ec2::types::ResourceType::Image)
                    .set_tags(Some(ec2_tags(tags)))
                    .build();
                let out = c
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
                    .ok_or_else(|| EngineError::permanent("CreateImage returned no image id"))
            }
            ResourceType::RdsInstance => {
                let out = c
                    .rds
                    .create_db_snapshot()
                    .db_instance_identifier(arn_id(&r.arn, ":db:"))
                    .db_snapshot_identifier(rds_snapshot_id(job_id))
                    .set_tags(Some(rds_tags(tags)))
                    .send()
                    .await
                    .map_err(|e| fail(classify(CREATE_DB_SNAPSHOT, &r.region, &e)))?;
                out.db_snapshot()
                    .and_then(|s| s.db_snapshot_arn())
                    .map(str::to_string)
                    .ok_or_else(|| EngineError::permanent("CreateDBSnapshot returned no ARN"))
            }
            ResourceType::AuroraCluster => {
                let out = c
                    .rds
                    .create_db_cluster_snapshot()
                    .db_cluster_identifier(arn_id(&r.arn, ":cluster:"))
                    .db_cluster_snapshot_identifier(rds_snapshot_id(job_id))
                    .set_tags(Some(rds_tags(tags)))
                    .send()
                    .await
                    .map_err(|e| fail(classify(CREATE_CLUSTER_SNAPSHOT, &r.region, &e)))?;
                out.db_cluster_snapshot()
                    .and_then(|s| s.db_cluster_snapshot_arn())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        EngineError::permanent("CreateDBClusterSnapshot returned no ARN")
                    })
            }
            t => Err(EngineError::permanent(format!(
                "{t} resources are not backed up by snapshots"
            ))),
        }
    }

    async fn poll(
        &self,
        r: &Resource,
        _vault: &str,
        native_id: &str,
    ) -> Result<Progress, EngineError> {
        let c = self.clients(r)?;
        match r.resource_type {
            ResourceType::EbsVolume => {
                let out = c
                    .ec2
                    .describe_snapshots()
                    .snapshot_ids(native_id)
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_SNAPSHOTS, &r.region, &e)))?;
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
            ResourceType::Ec2Instance => {
                let out = c
                    .ec2
                    .describe_images()
                    .image_ids(native_id)
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_IMAGES, &r.region, &e)))?;
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
                            let mut req =
                                c.ec2.create_tags().set_resources(Some(snapshots.clone()));
                            for t in image.tags() {
                                req = req.tags(t.clone());
                            }
                            req.send()
                                .await
                                .map_err(|e| fail(classify(CREATE_TAGS, &r.region, &e)))?;
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
            ResourceType::RdsInstance => {
                let out = c
                    .rds
                    .describe_db_snapshots()
                    .db_snapshot_identifier(arn_id(native_id, ":snapshot:"))
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_DB_SNAPSHOTS, &r.region, &e)))?;
                let Some(s) = out.db_snapshots().first() else {
                    return Ok(Progress::Failed(format!(
                        "snapshot {native_id} disappeared"
                    )));
                };
                Ok(rds_progress(
                    native_id,
                    RdsSnapshotStatus {
                        status: s.status().unwrap_or_default(),
                        allocated_gib: s.allocated_storage(),
                        encrypted: s.encrypted().unwrap_or(false),
                        kms_key: s.kms_key_id(),
                        percent: s.percent_progress(),
                    },
                ))
            }
            ResourceType::AuroraCluster => {
                let out = c
                    .rds
                    .describe_db_cluster_snapshots()
                    .db_cluster_snapshot_identifier(arn_id(native_id, ":cluster-snapshot:"))
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_CLUSTER_SNAPSHOTS, &r.region, &e)))?;
                let Some(s) = out.db_cluster_snapshots().first() else {
                    return Ok(Progress::Failed(format!(
                        "snapshot {native_id} disappeared"
                    )));
                };
                Ok(rds_progress(
                    native_id,
                    RdsSnapshotStatus {
                        status: s.status().unwrap_or_default(),
                        allocated_gib: s.allocated_storage(),
                        encrypted: s.storage_encrypted().unwrap_or(false),
                        kms_key: s.kms_key_id(),
                        percent: s.percent_progress(),
                    },
                ))
            }
            t => Err(EngineError::permanent(format!(
                "{t} resources are not backed up by snapshots"
            ))),
        }
    }

    async fn discard(
        &self,
        r: &Resource,
        _vault: &str,
        native_id: &str,
    ) -> Result<(), EngineError> {
        let c = self.clients(r)?;
        match r.resource_type {
            ResourceType::EbsVolume => {
                c.ec2
                    .delete_snapshot()
                    .snapshot_id(native_id)
                    .send()
                    .await
                    .map_err(|e| fail(classify(DELETE_SNAPSHOT, &r.region, &e)))?;
            }
            ResourceType::Ec2Instance => {
                let out = c
                    .ec2
                    .describe_images()
                    .image_ids(native_id)
                    .send()
                    .await
                    .map_err(|e| fail(classify(DESCRIBE_IMAGES, &r.region, &e)))?;
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
                    .map_err(|e| fail(classify(DEREGISTER_IMAGE, &r.region, &e)))?;
                for s in snapshots {
                    c.ec2
                        .delete_snapshot()
                        .snapshot_id(s)
                        .send()
                        .await
                        .map_err(|e| fail(classify(DELETE_SNAPSHOT, &r.region, &e)))?;
                }
            }
            ResourceType::RdsInstance => {
                c.rds
                    .delete_db_snapshot()
                    .db_snapshot_identifier(arn_id(native_id, ":snapshot:"))
                    .send()
                    .await
                    .map_err(|e| fail(classify(DELETE_DB_SNAPSHOT, &r.region, &e)))?;
            }
            ResourceType::AuroraCluster => {
                c.rds
                    .delete_db_cluster_snapshot()
                    .db_cluster_snapshot_identifier(arn_id(native_id, ":cluster-snapshot:"))
                    .send()
                    .await
                    .map_err(|e| fail(classify(DELETE_CLUSTER_SNAPSHOT, &r.region, &e)))?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn foreign_snapshots(
        &self,
        resources: &[&Resource],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, EngineError> {
        let mut out = Vec::new();
        let in_window = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= from && t <= to);
        let mut by_region: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in resources {
            by_region.entry(r.region.as_str()).or_default().push(r);
        }
        for (region, rs) in by_region {
            let Some(c) = self.clients.get(region) else {
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
            let dbs: BTreeMap<&str, &str> = rs
                .iter()
                .filter(|r| r.resource_type == ResourceType::RdsInstance)
                .map(|r| (arn_id(&r.arn, ":db:"), r.arn.as_str()))
                .collect();
            if !dbs.is_empty() {
                let mut pages = c
                    .rds
                    .describe_db_snapshots()
                    .snapshot_type("manual")
                    .max_records(100)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page =
                        page.map_err(|e| fail(classify(DESCRIBE_DB_SNAPSHOTS, region, &e)))?;
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
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(n: usize) -> Vec<Resource> {
        (0..n)
            .map(|i| {
                Resource::new(
                    format!("arn:aws:rds:eu-west-1:1:db:db{i}"),
                    ResourceType::RdsInstance,
                    "eu-west-1",
                    "1",
                )
            })
            .collect()
    }

    #[test]
    fn quota_warns_at_80_percent_and_refuses_what_does_not_fit() {
        let rs = db(3);
        let wanted: Vec<&Resource> = rs.iter().collect();
        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 10, 100, &wanted, &mut p);
        assert_eq!(p, Preflight::default(), "13 of 100 is nothing to mention");

        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 78, 100, &wanted, &mut p);
        assert!(p.refused.is_empty());
        assert_eq!(
            p.warnings,
            ["the RDS quota ManualSnapshots in eu-west-1 will be 81 of 100 (81%) after this tick"]
        );

        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 99, 100, &wanted, &mut p);
        assert_eq!(p.refused.len(), 2, "one fits, two do not");
        assert!(p.refused.contains_key("arn:aws:rds:eu-west-1:1:db:db2"));
        assert!(p
            .refused
            .values()
            .all(|m| m.contains("ManualSnapshots in eu-west-1 is full (99 of 100 used")));

        let mut p = Preflight::default();
        check_quota("ManualSnapshots", "eu-west-1", 100, 100, &wanted, &mut p);
        assert_eq!(p.refused.len(), 3);
    }

    #[test]
    fn ids_come_from_arns() {
        assert_eq!(
            arn_id("arn:aws:ec2:us-east-1:1:volume/vol-1", "volume/"),
            "vol-1"
        );
        assert_eq!(
            arn_id("arn:aws:rds:us-east-1:1:db:orders", ":db:"),
            "orders"
        );
        assert_eq!(
            arn_id(
                "arn:aws:rds:us-east-1:1:snapshot:coffer-job-1",
                ":snapshot:"
            ),
            "coffer-job-1"
        );
        assert_eq!(rds_snapshot_id("job-abc"), "coffer-job-abc");
    }
}
