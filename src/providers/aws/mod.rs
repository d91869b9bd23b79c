//! The AWS providers: SDK clients per region, shared by one provider per resource type
//! ([`ebs`], [`ami`], [`rds`] for RDS instances and Aurora clusters, [`dynamodb`]), the KMS and quota checks
//! before a tick ([`preflight`]), and what they all need: the calls they make (named as IAM
//! names them, for error messages), tags, and ids taken from ARNs.

pub mod ami;
pub mod dynamodb;
pub mod ebs;
pub mod preflight;
pub mod rds;

use super::{ByResourceType, ProviderError};
use crate::aws::error::{AwsError, Call};
use crate::aws::Target;
use crate::inventory::Resource;
use crate::jobs::JOB_TAG;
use aws_config::retry::RetryConfig;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const GIB: u64 = 1 << 30;

macro_rules! call {
    ($name:ident, $api:literal, $service:literal) => {
        pub(crate) const $name: Call = Call {
            api: $api,
            action: $api,
            service: $service,
        };
    };
}
call!(CREATE_SNAPSHOT, "ec2:CreateSnapshot", "EC2");
call!(DESCRIBE_SNAPSHOTS, "ec2:DescribeSnapshots", "EC2");
call!(DELETE_SNAPSHOT, "ec2:DeleteSnapshot", "EC2");
call!(COPY_SNAPSHOT, "ec2:CopySnapshot", "EC2");
call!(CREATE_VOLUME, "ec2:CreateVolume", "EC2");
call!(RESTORE_SNAPSHOT_TIER, "ec2:RestoreSnapshotTier", "EC2");
call!(DESCRIBE_VOLUMES, "ec2:DescribeVolumes", "EC2");
call!(DELETE_VOLUME, "ec2:DeleteVolume", "EC2");
call!(RUN_INSTANCES, "ec2:RunInstances", "EC2");
call!(DESCRIBE_INSTANCES, "ec2:DescribeInstances", "EC2");
call!(TERMINATE_INSTANCES, "ec2:TerminateInstances", "EC2");
call!(
    RESTORE_DB_INSTANCE,
    "rds:RestoreDBInstanceFromDBSnapshot",
    "RDS"
);
call!(DESCRIBE_DB_INSTANCES, "rds:DescribeDBInstances", "RDS");
call!(DELETE_DB_INSTANCE, "rds:DeleteDBInstance", "RDS");
call!(CREATE_DB_INSTANCE, "rds:CreateDBInstance", "RDS");
call!(
    RESTORE_DB_CLUSTER,
    "rds:RestoreDBClusterFromSnapshot",
    "RDS"
);
call!(DESCRIBE_DB_CLUSTERS, "rds:DescribeDBClusters", "RDS");
call!(CREATE_BACKUP, "dynamodb:CreateBackup", "DynamoDB");
call!(DESCRIBE_BACKUP, "dynamodb:DescribeBackup", "DynamoDB");
call!(LIST_BACKUPS, "dynamodb:ListBackups", "DynamoDB");
call!(DELETE_BACKUP, "dynamodb:DeleteBackup", "DynamoDB");
call!(RESTORE_TABLE, "dynamodb:RestoreTableFromBackup", "DynamoDB");
call!(DESCRIBE_TABLE, "dynamodb:DescribeTable", "DynamoDB");
call!(DELETE_TABLE, "dynamodb:DeleteTable", "DynamoDB");
call!(DELETE_DB_CLUSTER, "rds:DeleteDBCluster", "RDS");
call!(COPY_IMAGE, "ec2:CopyImage", "EC2");
call!(COPY_DB_SNAPSHOT, "rds:CopyDBSnapshot", "RDS");
call!(COPY_CLUSTER_SNAPSHOT, "rds:CopyDBClusterSnapshot", "RDS");
call!(MODIFY_SNAPSHOT_TIER, "ec2:ModifySnapshotTier", "EC2");
call!(
    DESCRIBE_SNAPSHOT_TIER_STATUS,
    "ec2:DescribeSnapshotTierStatus",
    "EC2"
);
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
call!(GET_CALLER_IDENTITY, "sts:GetCallerIdentity", "STS");
call!(
    MODIFY_SNAPSHOT_ATTRIBUTE,
    "ec2:ModifySnapshotAttribute",
    "EC2"
);
call!(MODIFY_IMAGE_ATTRIBUTE, "ec2:ModifyImageAttribute", "EC2");
call!(
    MODIFY_DB_SNAPSHOT_ATTRIBUTE,
    "rds:ModifyDBSnapshotAttribute",
    "RDS"
);
call!(
    MODIFY_CLUSTER_SNAPSHOT_ATTRIBUTE,
    "rds:ModifyDBClusterSnapshotAttribute",
    "RDS"
);

/// One region's SDK clients.
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub kms: aws_sdk_kms::Client,
    pub sts: aws_sdk_sts::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The same services with the SDK's retries off, for the calls that make something.
    pub once: Once,
}

/// Clients whose calls the SDK does not retry, for the calls that make something and take no
/// idempotency token (CreateSnapshot, CopySnapshot, CreateImage, CreateDBSnapshot,
/// RestoreDBInstanceFromDBSnapshot, CreateBackup …), and those whose token not every
/// endpoint honours (CreateVolume, RunInstances and CopyImage take a ClientToken, which moto
/// ignores). A try whose answer was lost (a dropped
/// connection, a truncated response, a timeout) may still have made the object: a blind
/// retry makes it twice, or fails on the name the first try took. Their errors go to the
/// job's own loop, which retries only after looking for what an earlier try made, by the
/// job's tag or name.
pub struct Once {
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

/// Where a vault's native points live: its `region` (else their resource's) in the account
/// of its `provider` (else the unaliased provider's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultHome {
    pub region: Option<String>,
    /// The provider block's alias.
    pub provider: Option<String>,
    /// The key native copies into the vault are encrypted with.
    pub kms_key_arn: Option<String>,
}

/// SDK clients per provider block and region, from the provider blocks and the regions the
/// vaults live in; every AWS provider shares one set.
#[derive(Clone)]
pub struct Regions {
    /// By (provider alias, region).
    clients: Arc<BTreeMap<(Option<String>, String), Clients>>,
    vaults: Arc<BTreeMap<String, VaultHome>>,
    /// Each provider's account, once asked (sts:GetCallerIdentity).
    accounts: Arc<std::sync::Mutex<BTreeMap<Option<String>, String>>>,
}

fn clients(conf: &aws_config::SdkConfig) -> Clients {
    Clients {
        ec2: aws_sdk_ec2::Client::new(conf),
        rds: aws_sdk_rds::Client::new(conf),
        kms: aws_sdk_kms::Client::new(conf),
        sts: aws_sdk_sts::Client::new(conf),
        dynamodb: aws_sdk_dynamodb::Client::new(conf),
        once: Once {
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(conf)
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
            rds: aws_sdk_rds::Client::from_conf(
                aws_sdk_rds::config::Builder::from(conf)
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(conf)
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
        },
    }
}

impl Regions {
    /// Clients for every provider block, and for every vault's region under its provider.
    pub async fn new(targets: &[Target], vaults: BTreeMap<String, VaultHome>) -> Regions {
        let mut out = BTreeMap::new();
        for t in targets {
            let key = (t.alias.clone(), t.region.clone());
            if out.contains_key(&key) {
                continue;
            }
            out.insert(key, clients(&crate::aws::sdk_config(t).await));
        }
        for home in vaults.values() {
            let Some(region) = &home.region else { continue };
            let key = (home.provider.clone(), region.clone());
            if out.contains_key(&key) {
                continue;
            }
            // the vault's provider block, in the vault's region
            let Some(t) = targets.iter().find(|t| t.alias == home.provider) else {
                continue;
            };
            let t = Target {
                region: region.clone(),
                ..t.clone()
            };
            out.insert(key, clients(&crate::aws::sdk_config(&t).await));
        }
        Regions {
            clients: Arc::new(out),
            vaults: Arc::new(vaults),
            accounts: Arc::default(),
        }
    }

    /// The clients of a region: the unaliased provider's, else the first block's for it.
    pub fn get(&self, region: &str) -> Option<&Clients> {
        self.clients.get(&(None, region.to_string())).or_else(|| {
            self.clients
                .iter()
                .find(|((_, r), _)| r == region)
                .map(|(_, c)| c)
        })
    }

    /// The clients of a resource's region, or why there are none.
    pub fn of(&self, r: &Resource) -> Result<&Clients, ProviderError> {
        self.get(&r.region).ok_or_else(|| {
            ProviderError::permanent(format!(
                "no provider \"aws\" block covers region {} (resource {})",
                r.region, r.arn
            ))
        })
    }

    /// Where `vault`'s native points of `r` live: the vault's region (else the resource's),
    /// and the clients of the vault's provider there.
    pub fn home<'a>(
        &'a self,
        r: &'a Resource,
        vault: &str,
    ) -> Result<(&'a Clients, &'a str), ProviderError> {
        let Some(home) = self.vaults.get(vault) else {
            return Ok((self.of(r)?, &r.region));
        };
        let region = home.region.as_deref().unwrap_or(&r.region);
        let found = match &home.provider {
            None => self.get(region),
            Some(_) => self
                .clients
                .get(&(home.provider.clone(), region.to_string())),
        };
        let c = found.ok_or_else(|| {
            let which = home
                .provider
                .as_deref()
                .map(|a| format!("provider aws.{a}"))
                .unwrap_or_else(|| "the unaliased provider".into());
            ProviderError::permanent(format!(
                "vault `{vault}` lives in {region} under {which}, and no provider \"aws\" block covers it"
            ))
        })?;
        Ok((c, region))
    }

    /// The region where `vault`'s native points of `r` live, if a provider covers it: what
    /// every AWS provider answers to [`crate::providers::Provider::home_region`].
    pub fn home_region(&self, r: &Resource, vault: &str) -> Option<String> {
        self.home(r, vault)
            .ok()
            .map(|(_, region)| region.to_string())
    }

    /// The vault's home, as configured.
    pub fn vault(&self, vault: &str) -> VaultHome {
        self.vaults.get(vault).cloned().unwrap_or_default()
    }

    /// The account `vault`'s native points of `r` live in: its provider's (asked once), else
    /// the resource's own.
    pub async fn account(&self, r: &Resource, vault: &str) -> Result<String, ProviderError> {
        let Some(alias) = self.vault(vault).provider else {
            return Ok(r.account.clone());
        };
        let known = self
            .accounts
            .lock()
            .ok()
            .and_then(|a| a.get(&Some(alias.clone())).cloned());
        if let Some(a) = known {
            return Ok(a);
        }
        let (c, region) = self.home(r, vault)?;
        let out = c
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| fail(crate::aws::error::classify(GET_CALLER_IDENTITY, region, &e)))?;
        let account = out
            .account()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::permanent("sts:GetCallerIdentity named no account"))?;
        if let Ok(mut a) = self.accounts.lock() {
            a.insert(Some(alias), account.clone());
        }
        Ok(account)
    }
}

/// Where a copy's source and destination are, and whether the source must be shared with the
/// destination's account for the copy.
pub(crate) struct CopyRoute<'a> {
    /// The source's clients and region.
    pub from: (&'a Clients, &'a str),
    /// The destination's clients and region.
    pub to: (&'a Clients, &'a str),
    /// The destination's account, when it is not the source's.
    pub share_with: Option<String>,
}

impl Regions {
    /// The route of a copy of `r`'s point from `source_vault` into `vault`.
    pub(crate) async fn copy_route<'a>(
        &'a self,
        r: &'a Resource,
        source_vault: &str,
        vault: &str,
    ) -> Result<CopyRoute<'a>, ProviderError> {
        let from = self.home(r, source_vault)?;
        let to = self.home(r, vault)?;
        let (a, b) = (
            self.account(r, source_vault).await?,
            self.account(r, vault).await?,
        );
        Ok(CopyRoute {
            from,
            to,
            share_with: (a != b).then_some(b),
        })
    }
}

/// Refuses to share a point encrypted with an AWS managed key, which no other account can
/// use: AWS Backup's rule too.
pub(crate) async fn shareable_key(
    c: &Clients,
    region: &str,
    native_id: &str,
    key: Option<&str>,
) -> Result<(), ProviderError> {
    let Some(key) = key else { return Ok(()) };
    let out = c
        .kms
        .describe_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| fail(crate::aws::error::classify(DESCRIBE_KEY, region, &e)))?;
    let managed = out
        .key_metadata()
        .and_then(|m| m.key_manager())
        .is_some_and(|m| *m == aws_sdk_kms::types::KeyManagerType::Aws);
    if managed {
        return Err(ProviderError::permanent(format!(
            "{native_id} is encrypted with the AWS managed key {key}, which cannot be shared with another account: copy it within its account first, encrypted with a customer managed key (a vault with kms_key_arn), or back it up under a customer managed key"
        )));
    }
    Ok(())
}

/// Every AWS resource type's provider, routed by type.
pub type AwsProviders = ByResourceType<
    ebs::EbsVolumes,
    ByResourceType<
        ami::Ec2Instances,
        ByResourceType<
            rds::RdsInstances,
            ByResourceType<rds::AuroraClusters, dynamodb::DynamoDbTables>,
        >,
    >,
>;

/// The AWS providers over the provider blocks' regions and the vaults' homes.
pub async fn providers(targets: &[Target], vaults: BTreeMap<String, VaultHome>) -> AwsProviders {
    let regions = Regions::new(targets, vaults).await;
    ByResourceType(
        ebs::EbsVolumes::new(regions.clone()),
        ByResourceType(
            ami::Ec2Instances::new(regions.clone()),
            ByResourceType(
                rds::RdsInstances::new(regions.clone()),
                ByResourceType(
                    rds::AuroraClusters::new(regions.clone()),
                    dynamodb::DynamoDbTables::new(regions),
                ),
            ),
        ),
    )
}

pub(crate) fn fail(e: AwsError) -> ProviderError {
    match e {
        AwsError::BadCredentials { .. } | AwsError::NoCredentials { .. } => {
            ProviderError::credentials(e.with_hint())
        }
        _ if e.is_transient() => ProviderError::transient(e.with_hint()),
        _ => ProviderError::permanent(e.with_hint()),
    }
}

/// The last part of an ARN after `marker`, e.g. the volume id after `volume/`.
pub(crate) fn arn_id<'a>(arn: &'a str, marker: &str) -> &'a str {
    arn.rsplit_once(marker).map_or(arn, |(_, id)| id)
}

/// RDS snapshot identifiers: letters, digits and single hyphens, starting with a letter.
pub(crate) fn rds_snapshot_id(job_id: &str) -> String {
    format!("coffer-{job_id}")
}

pub(crate) fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

pub(crate) fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ec2::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect()
}

pub(crate) fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_rds::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tag a restored resource carries: the restore job that made it.
pub const RESTORE_JOB_TAG: &str = "coffer:restore-job";

/// A restore metadata value as a number.
pub(crate) fn meta_i32(m: &BTreeMap<String, String>, key: &str) -> Option<i32> {
    m.get(key).and_then(|v| v.parse().ok())
}

/// A restore metadata value as a boolean.
pub(crate) fn meta_bool(m: &BTreeMap<String, String>, key: &str) -> Option<bool> {
    m.get(key).map(|v| v == "true")
}

/// A restore metadata list (a JSON array in text).
pub(crate) fn meta_list(m: &BTreeMap<String, String>, key: &str) -> Option<Vec<String>> {
    m.get(key)
        .map(|v| crate::jobs::restore_metadata::list(v))
        .filter(|l| !l.is_empty())
}

pub(crate) fn restore_filter(job_id: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(format!("tag:{RESTORE_JOB_TAG}"))
        .values(job_id)
        .build()
}

/// Whether EC2 tags say that job `job_id` made the object.
pub(crate) fn ec2_made_by(tags: &[aws_sdk_ec2::types::Tag], job_id: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(JOB_TAG) && t.value() == Some(job_id))
}

/// Why coffer leaves an object alone that does not carry the point's job tag.
pub(crate) fn not_ours(what: &str, job_id: &str) -> super::Deletion {
    super::Deletion::NotOurs(format!(
        "{what} does not carry the tag {JOB_TAG}={job_id}: coffer did not make it, or its tags were changed, so coffer leaves it alone"
    ))
}

/// Whether an error says the object does not exist (any of these error code prefixes).
pub(crate) fn is_not_found(e: &AwsError, codes: &[&str]) -> bool {
    e.code()
        .is_some_and(|c| codes.iter().any(|n| c.starts_with(n)))
}

const SNAPSHOT_NOT_FOUND: &[&str] = &["InvalidSnapshot.NotFound", "InvalidSnapshotID.Malformed"];

/// An EBS snapshot as DescribeSnapshots reports it, or `None` when it does not exist.
pub(crate) async fn describe_snapshot(
    c: &Clients,
    region: &str,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::Snapshot>, ProviderError> {
    match c.ec2.describe_snapshots().snapshot_ids(id).send().await {
        Ok(out) => Ok(out.snapshots().first().cloned()),
        Err(e) => {
            let e = crate::aws::error::classify(DESCRIBE_SNAPSHOTS, region, &e);
            if is_not_found(&e, SNAPSHOT_NOT_FOUND) {
                Ok(None)
            } else {
                Err(fail(e))
            }
        }
    }
}

/// Lets `account` create volumes from an EBS snapshot (`share`), or no longer.
pub(crate) async fn share_snapshot(
    c: &Clients,
    region: &str,
    id: &str,
    account: &str,
    share: bool,
) -> Result<(), ProviderError> {
    use aws_sdk_ec2::types::{OperationType, SnapshotAttributeName};
    // the API's flat form (Attribute, OperationType, UserId.N), which every EC2 takes
    c.ec2
        .modify_snapshot_attribute()
        .snapshot_id(id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(if share {
            OperationType::Add
        } else {
            OperationType::Remove
        })
        .user_ids(account)
        .send()
        .await
        .map_err(|e| {
            fail(crate::aws::error::classify(
                MODIFY_SNAPSHOT_ATTRIBUTE,
                region,
                &e,
            ))
        })?;
    Ok(())
}

/// Deletes an EBS snapshot; returns whether it still existed.
pub(crate) async fn delete_snapshot(
    c: &Clients,
    region: &str,
    id: &str,
) -> Result<bool, ProviderError> {
    match c.ec2.delete_snapshot().snapshot_id(id).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = crate::aws::error::classify(DELETE_SNAPSHOT, region, &e);
            if is_not_found(&e, SNAPSHOT_NOT_FOUND) {
                Ok(false)
            } else {
                Err(fail(e))
            }
        }
    }
}

pub(crate) fn job_filter(job_id: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(format!("tag:{JOB_TAG}"))
        .values(job_id)
        .build()
}

pub(crate) fn origin_of_ec2(
    tags: &[aws_sdk_ec2::types::Tag],
    description: Option<&str>,
) -> Option<String> {
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
