//! Discovery of protectable resources: EBS volumes, EC2 instances (with their attached
//! volumes), RDS DB instances, Aurora clusters (with their members), EFS file systems and
//! DynamoDB tables,
//! for every provider block. Services and regions are listed concurrently, each with the
//! largest page size its API allows and server-side filters where the API has them. Every
//! API call is counted, so a benchmark can compare with the minimum the page sizes allow.

use super::error::{classify, AwsError, Call, KNOWN_REGIONS};
use crate::inventory::{RelationKind, Relationship, Resource, ResourceType};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One provider block to discover from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub region: String,
    pub profile: Option<String>,
    /// The provider block's alias (`None`: the unaliased provider).
    pub alias: Option<String>,
    /// The role whose credentials the provider uses.
    pub assume_role: Option<crate::config::model::AssumeRole>,
}

/// What discovery found, and how many calls of each API it made.
#[derive(Debug, Default)]
pub struct Discovery {
    pub resources: Vec<Resource>,
    pub calls: BTreeMap<&'static str, u64>,
}

const VOLUMES: Call = Call {
    api: "ec2:DescribeVolumes",
    action: "ec2:DescribeVolumes",
    service: "EC2",
};
const INSTANCES: Call = Call {
    api: "ec2:DescribeInstances",
    action: "ec2:DescribeInstances",
    service: "EC2",
};
const DB_INSTANCES: Call = Call {
    api: "rds:DescribeDBInstances",
    action: "rds:DescribeDBInstances",
    service: "RDS",
};
const DB_CLUSTERS: Call = Call {
    api: "rds:DescribeDBClusters",
    action: "rds:DescribeDBClusters",
    service: "RDS",
};
const FILE_SYSTEMS: Call = Call {
    api: "elasticfilesystem:DescribeFileSystems",
    action: "elasticfilesystem:DescribeFileSystems",
    service: "EFS",
};
const TABLES: Call = Call {
    api: "dynamodb:ListTables",
    action: "dynamodb:ListTables",
    service: "DynamoDB",
};
const TABLE: Call = Call {
    api: "dynamodb:DescribeTable",
    action: "dynamodb:DescribeTable",
    service: "DynamoDB",
};
const TABLE_TAGS: Call = Call {
    api: "dynamodb:ListTagsOfResource",
    action: "dynamodb:ListTagsOfResource",
    service: "DynamoDB",
};
const CALLER: Call = Call {
    api: "sts:GetCallerIdentity",
    action: "sts:GetCallerIdentity",
    service: "STS",
};

/// Largest page sizes the APIs accept.
pub const VOLUME_PAGE: i32 = 500;
pub const INSTANCE_PAGE: i32 = 1000;
pub const RDS_PAGE: i32 = 100;
pub const EFS_PAGE: i32 = 100;
pub const TABLE_PAGE: i32 = 100;

type Counter = Arc<Mutex<BTreeMap<&'static str, u64>>>;

fn count(counter: &Counter, call: Call) {
    if let Ok(mut c) = counter.lock() {
        *c.entry(call.api).or_default() += 1;
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

fn rds_tags(tags: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

struct Ctx {
    region: String,
    account: String,
    partition: &'static str,
    calls: Counter,
}

impl Ctx {
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    fn resource(
        &self,
        arn: String,
        t: ResourceType,
        tags: BTreeMap<String, String>,
        created_at: Option<DateTime<Utc>>,
    ) -> Resource {
        let mut r = Resource::new(arn, t, self.region.clone(), self.account.clone());
        r.name = tags.get("Name").cloned();
        r.tags = tags;
        r.created_at = created_at;
        r
    }
}

/// Records a restore metadata value, when AWS reported one.
fn put(m: &mut BTreeMap<String, String>, key: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        m.insert(key.to_string(), v.to_string());
    }
}

/// Records a list value as AWS Backup writes one: a JSON array in text.
fn put_list(m: &mut BTreeMap<String, String>, key: &str, values: &[&str]) {
    if !values.is_empty() {
        m.insert(
            key.to_string(),
            serde_json::to_string(values).unwrap_or_default(),
        );
    }
}

async fn volumes(client: &aws_sdk_ec2::Client, ctx: &Ctx) -> Result<Vec<Resource>, AwsError> {
    use aws_sdk_ec2::types::Filter;
    let mut out = Vec::new();
    // server-side filter: volumes being deleted are not worth protecting
    let filter = Filter::builder()
        .name("status")
        .values("creating")
        .values("available")
        .values("in-use")
        .build();
    let mut pages = client
        .describe_volumes()
        .filters(filter)
        .max_results(VOLUME_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count(&ctx.calls, VOLUMES);
        let page = page.map_err(|e| classify(VOLUMES, &ctx.region, &e))?;
        for v in page.volumes() {
            let Some(id) = v.volume_id() else { continue };
            let mut r = ctx.resource(
                ctx.arn("ec2", &format!("volume/{id}")),
                ResourceType::EbsVolume,
                ec2_tags(v.tags()),
                time(v.create_time()),
            );
            r.encrypted = v.encrypted().unwrap_or(false);
            r.kms_key = v.kms_key_id().map(str::to_string);
            let m = &mut r.metadata;
            put(m, "availabilityZone", v.availability_zone());
            put(m, "volumeType", v.volume_type().map(|t| t.as_str()));
            put(m, "volumeSize", v.size().map(|s| s.to_string()).as_deref());
            put(m, "iops", v.iops().map(|s| s.to_string()).as_deref());
            put(
                m,
                "throughput",
                v.throughput().map(|s| s.to_string()).as_deref(),
            );
            put(
                m,
                "encrypted",
                Some(if r.encrypted { "true" } else { "false" }),
            );
            put(m, "kmsKeyId", v.kms_key_id());
            for a in v.attachments() {
                if let Some(i) = a.instance_id() {
                    r.relationships.push(Relationship {
                        kind: RelationKind::AttachedTo,
                        arn: ctx.arn("ec2", &format!("instance/{i}")),
                    });
                }
            }
            out.push(r);
        }
    }
    Ok(out)
}

async fn instances(client: &aws_sdk_ec2::Client, ctx: &Ctx) -> Result<Vec<Resource>, AwsError> {
    use aws_sdk_ec2::types::Filter;
    let mut out = Vec::new();
    // server-side filter: terminated instances cannot be backed up
    let filter = Filter::builder()
        .name("instance-state-name")
        .values("pending")
        .values("running")
        .values("stopping")
        .values("stopped")
        .values("shutting-down")
        .build();
    let mut pages = client
        .describe_instances()
        .filters(filter)
        .max_results(INSTANCE_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count(&ctx.calls, INSTANCES);
        let page = page.map_err(|e| classify(INSTANCES, &ctx.region, &e))?;
        for reservation in page.reservations() {
            for i in reservation.instances() {
                let Some(id) = i.instance_id() else { continue };
                let mut r = ctx.resource(
                    ctx.arn("ec2", &format!("instance/{id}")),
                    ResourceType::Ec2Instance,
                    ec2_tags(i.tags()),
                    time(i.launch_time()),
                );
                if let Some(owner) = reservation.owner_id() {
                    r.account = owner.to_string();
                }
                let m = &mut r.metadata;
                put(m, "instanceType", i.instance_type().map(|t| t.as_str()));
                put(m, "subnetId", i.subnet_id());
                let groups: Vec<&str> = i
                    .security_groups()
                    .iter()
                    .filter_map(|g| g.group_id())
                    .collect();
                put_list(m, "securityGroupIds", &groups);
                put(
                    m,
                    "iamInstanceProfileName",
                    i.iam_instance_profile()
                        .and_then(|p| p.arn())
                        .and_then(|a| a.rsplit('/').next()),
                );
                put(m, "keyName", i.key_name());
                put(
                    m,
                    "availabilityZone",
                    i.placement().and_then(|p| p.availability_zone()),
                );
                for m in i.block_device_mappings() {
                    if let Some(v) = m.ebs().and_then(|e| e.volume_id()) {
                        r.relationships.push(Relationship {
                            kind: RelationKind::HasVolume,
                            arn: ctx.arn("ec2", &format!("volume/{v}")),
                        });
                    }
                }
                out.push(r);
            }
        }
    }
    Ok(out)
}

async fn db_instances(client: &aws_sdk_rds::Client, ctx: &Ctx) -> Result<Vec<Resource>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_db_instances()
        .max_records(RDS_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count(&ctx.calls, DB_INSTANCES);
        let page = page.map_err(|e| classify(DB_INSTANCES, &ctx.region, &e))?;
        for d in page.db_instances() {
            let Some(id) = d.db_instance_identifier() else {
                continue;
            };
            let arn = d
                .db_instance_arn()
                .map(str::to_string)
                .unwrap_or_else(|| ctx.arn("rds", &format!("db:{id}")));
            let mut r = ctx.resource(
                arn,
                ResourceType::RdsInstance,
                rds_tags(d.tag_list()),
                time(d.instance_create_time()),
            );
            r.name = Some(id.to_string());
            r.encrypted = d.storage_encrypted().unwrap_or(false);
            r.kms_key = d.kms_key_id().map(str::to_string);
            let m = &mut r.metadata;
            put(m, "dbInstanceClass", d.db_instance_class());
            put(
                m,
                "dbSubnetGroupName",
                d.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
            );
            let groups: Vec<&str> = d
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .collect();
            put_list(m, "vpcSecurityGroupIds", &groups);
            put(m, "multiAz", d.multi_az().map(|b| b.to_string()).as_deref());
            put(
                m,
                "port",
                d.endpoint()
                    .and_then(|e| e.port())
                    .or(d.db_instance_port())
                    .filter(|p| *p > 0)
                    .map(|p| p.to_string())
                    .as_deref(),
            );
            put(m, "availabilityZone", d.availability_zone());
            put(m, "engine", d.engine());
            if let Some(c) = d.db_cluster_identifier() {
                r.relationships.push(Relationship {
                    kind: RelationKind::MemberOf,
                    arn: ctx.arn("rds", &format!("cluster:{c}")),
                });
            }
            out.push(r);
        }
    }
    Ok(out)
}

async fn db_clusters(client: &aws_sdk_rds::Client, ctx: &Ctx) -> Result<Vec<Resource>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_db_clusters()
        .max_records(RDS_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count(&ctx.calls, DB_CLUSTERS);
        let page = page.map_err(|e| classify(DB_CLUSTERS, &ctx.region, &e))?;
        for c in page.db_clusters() {
            let Some(id) = c.db_cluster_identifier() else {
                continue;
            };
            let arn = c
                .db_cluster_arn()
                .map(str::to_string)
                .unwrap_or_else(|| ctx.arn("rds", &format!("cluster:{id}")));
            let t = if c.engine().is_some_and(|e| e.starts_with("aurora")) {
                ResourceType::AuroraCluster
            } else {
                ResourceType::RdsInstance
            };
            let mut r = ctx.resource(
                arn,
                t,
                rds_tags(c.tag_list()),
                time(c.cluster_create_time()),
            );
            r.name = Some(id.to_string());
            r.encrypted = c.storage_encrypted().unwrap_or(false);
            r.kms_key = c.kms_key_id().map(str::to_string);
            let m = &mut r.metadata;
            put(m, "dbSubnetGroupName", c.db_subnet_group());
            let groups: Vec<&str> = c
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .collect();
            put_list(m, "vpcSecurityGroupIds", &groups);
            put(m, "engine", c.engine());
            put(m, "engineVersion", c.engine_version());
            put(m, "port", c.port().map(|p| p.to_string()).as_deref());
            put(m, "dbInstanceClass", c.db_cluster_instance_class());
            for m in c.db_cluster_members() {
                if let Some(i) = m.db_instance_identifier() {
                    r.relationships.push(Relationship {
                        kind: RelationKind::HasMember,
                        arn: ctx.arn("rds", &format!("db:{i}")),
                    });
                }
            }
            out.push(r);
        }
    }
    Ok(out)
}

async fn file_systems(
    client: &aws_sdk_efs::Client,
    ctx: &Ctx,
    mounts: &BTreeMap<String, String>,
) -> Result<Vec<Resource>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_file_systems()
        .max_items(EFS_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count(&ctx.calls, FILE_SYSTEMS);
        let page = page.map_err(|e| classify(FILE_SYSTEMS, &ctx.region, &e))?;
        for f in page.file_systems() {
            let id = f.file_system_id();
            let arn = f
                .file_system_arn()
                .map(str::to_string)
                .unwrap_or_else(|| ctx.arn("elasticfilesystem", &format!("file-system/{id}")));
            let tags: BTreeMap<String, String> = f
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            let mut r = ctx.resource(
                arn,
                ResourceType::EfsFileSystem,
                tags,
                time(Some(f.creation_time())),
            );
            if let Some(n) = f.name() {
                r.name = Some(n.to_string());
            }
            r.mount_path = mounts.get(id).cloned();
            out.push(r);
        }
    }
    Ok(out)
}

/// DynamoDB tables: ListTables, then DescribeTable (ARN, creation, encryption) and
/// ListTagsOfResource for each (DynamoDB has no call that lists tables with their tags).
async fn tables(client: &aws_sdk_dynamodb::Client, ctx: &Ctx) -> Result<Vec<Resource>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_tables()
        .limit(TABLE_PAGE)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        count(&ctx.calls, TABLES);
        let page = page.map_err(|e| classify(TABLES, &ctx.region, &e))?;
        names.extend(page.table_names().iter().cloned());
    }
    for name in names {
        count(&ctx.calls, TABLE);
        let described = client
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .map_err(|e| classify(TABLE, &ctx.region, &e))?;
        let Some(t) = described.table() else { continue };
        let arn = t
            .table_arn()
            .map(str::to_string)
            .unwrap_or_else(|| ctx.arn("dynamodb", &format!("table/{name}")));
        count(&ctx.calls, TABLE_TAGS);
        let tags = client
            .list_tags_of_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| classify(TABLE_TAGS, &ctx.region, &e))?;
        let tags: BTreeMap<String, String> = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        let mut r = ctx.resource(
            arn,
            ResourceType::DynamoDbTable,
            tags,
            time(t.creation_date_time()),
        );
        r.name = Some(name.clone());
        r.encrypted = true; // DynamoDB encrypts every table at rest
        r.kms_key = t
            .sse_description()
            .and_then(|s| s.kms_master_key_arn())
            .map(str::to_string);
        r.metadata.insert("targetTableName".into(), name);
        out.push(r);
    }
    Ok(out)
}

async fn discover_one(
    target: Target,
    mounts: Arc<BTreeMap<String, String>>,
    calls: Counter,
) -> Result<Vec<Resource>, AwsError> {
    if !super::custom_endpoint() && !KNOWN_REGIONS.contains(&target.region.as_str()) {
        return Err(AwsError::UnknownRegion {
            region: target.region.clone(),
        });
    }
    let config = super::sdk_config(&target).await;
    let sts = aws_sdk_sts::Client::new(&config);
    count(&calls, CALLER);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| classify(CALLER, &target.region, &e))?;
    let ctx = Ctx {
        region: target.region.clone(),
        account: identity.account().unwrap_or("unknown").to_string(),
        partition: partition(&target.region),
        calls,
    };
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let rds = aws_sdk_rds::Client::new(&config);
    let efs = aws_sdk_efs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let (v, i, d, c, f, t) = tokio::try_join!(
        volumes(&ec2, &ctx),
        instances(&ec2, &ctx),
        db_instances(&rds, &ctx),
        db_clusters(&rds, &ctx),
        file_systems(&efs, &ctx, &mounts),
        tables(&dynamodb, &ctx),
    )?;
    Ok(v.into_iter()
        .chain(i)
        .chain(d)
        .chain(c)
        .chain(f)
        .chain(t)
        .collect())
}

/// How many times one target's discovery is tried when it fails for now (throttling past the
/// SDK's own retries, or its retry quota spent by a busy tick), and the first pause between.
const DISCOVERY_TRIES: u32 = 6;
const DISCOVERY_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// [`discover_one`], listed again from the start after a transient error (listing only
/// reads), with doubling pauses.
async fn discover_persistently(
    target: Target,
    mounts: Arc<BTreeMap<String, String>>,
    calls: Counter,
) -> Result<Vec<Resource>, AwsError> {
    let mut pause = DISCOVERY_PAUSE;
    let mut tries = 0;
    loop {
        tries += 1;
        match discover_one(target.clone(), mounts.clone(), calls.clone()).await {
            Err(e) if e.is_transient() && tries < DISCOVERY_TRIES => {
                tracing::warn!(
                    "discovery in {} failed for now ({e}); listing again in {pause:?}",
                    target.region
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
}

/// Discovers every target concurrently. `mounts` maps EFS file system IDs to mount paths.
pub async fn discover(
    targets: Vec<Target>,
    mounts: BTreeMap<String, String>,
) -> Result<Discovery, AwsError> {
    let calls: Counter = Arc::new(Mutex::new(BTreeMap::new()));
    let mounts = Arc::new(mounts);
    let mut set = tokio::task::JoinSet::new();
    let mut targets = targets;
    targets.sort();
    targets.dedup();
    for t in targets {
        set.spawn(discover_persistently(t, mounts.clone(), calls.clone()));
    }
    let mut resources = Vec::new();
    let mut first_error = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(rs)) => resources.extend(rs),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(AwsError::Service {
                    api: "discovery",
                    region: String::new(),
                    code: "TaskFailed".into(),
                    message: e.to_string(),
                });
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let calls = calls.lock().map(|c| c.clone()).unwrap_or_default();
    Ok(Discovery { resources, calls })
}
