//! The inventory: resources coffer can protect (EBS volumes, EC2 instances, RDS instances,
//! Aurora clusters, EFS file systems, DynamoDB tables and local directories), with their ARN, region,
//! account, name, tags, creation time and relationships. Plain data; discovery lives in
//! the shell (`coffer::aws` and `coffer::workspace`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Resource types, named as AWS Backup names them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum ResourceType {
    #[serde(rename = "EBS")]
    EbsVolume,
    #[serde(rename = "EC2")]
    Ec2Instance,
    #[serde(rename = "RDS")]
    RdsInstance,
    #[serde(rename = "Aurora")]
    AuroraCluster,
    #[serde(rename = "EFS")]
    EfsFileSystem,
    #[serde(rename = "DynamoDB")]
    DynamoDbTable,
    #[serde(rename = "directory")]
    Directory,
}

impl ResourceType {
    pub const ALL: [ResourceType; 7] = [
        ResourceType::EbsVolume,
        ResourceType::Ec2Instance,
        ResourceType::RdsInstance,
        ResourceType::AuroraCluster,
        ResourceType::EfsFileSystem,
        ResourceType::DynamoDbTable,
        ResourceType::Directory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::EbsVolume => "EBS",
            ResourceType::Ec2Instance => "EC2",
            ResourceType::RdsInstance => "RDS",
            ResourceType::AuroraCluster => "Aurora",
            ResourceType::EfsFileSystem => "EFS",
            ResourceType::DynamoDbTable => "DynamoDB",
            ResourceType::Directory => "directory",
        }
    }

    /// Parses a type name as given to `--type` (case-insensitive).
    pub fn parse(s: &str) -> Option<ResourceType> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How two resources relate.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// A volume attached to an instance.
    AttachedTo,
    /// An instance's attached volume.
    HasVolume,
    /// A DB instance that is a member of a cluster.
    MemberOf,
    /// A cluster's member instance.
    HasMember,
}

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Relationship {
    pub kind: RelationKind,
    pub arn: String,
}

/// One protectable resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource ARN; `dir:<absolute path>` for local directories.
    pub arn: String,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// The AWS region, or `local` for directories.
    pub region: String,
    /// The AWS account, or `local` for directories.
    pub account: String,
    pub name: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub relationships: Vec<Relationship>,
    /// For EFS file systems mapped in the configuration, and directories: where the files are.
    #[serde(default)]
    pub mount_path: Option<String>,
    /// Whether the resource's data is encrypted at rest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    /// The KMS key that encrypts it, if AWS reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// Its configuration under AWS Backup's restore metadata names (`availabilityZone`,
    /// `volumeType`, `instanceType`, `dbInstanceClass` …), as discovery found it: recorded
    /// with each recovery point, it is what a restore recreates unless told otherwise. List
    /// values are JSON arrays in text (`["sg-1","sg-2"]`), as AWS Backup writes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Resource {
    /// A resource with no name, tags, creation time, relationships or mount path yet.
    pub fn new(
        arn: impl Into<String>,
        resource_type: ResourceType,
        region: impl Into<String>,
        account: impl Into<String>,
    ) -> Resource {
        Resource {
            arn: arn.into(),
            resource_type,
            region: region.into(),
            account: account.into(),
            name: None,
            tags: BTreeMap::new(),
            created_at: None,
            relationships: Vec::new(),
            mount_path: None,
            encrypted: false,
            kms_key: None,
            metadata: BTreeMap::new(),
        }
    }

    /// The same resource with these tags.
    pub fn with_tags(mut self, tags: &[(&str, &str)]) -> Resource {
        self.tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }
}

/// Whether resources exist, as far as an inventory can tell.
pub struct Presence<'a> {
    inventory: &'a Inventory,
    /// The regions discovery found anything in (`local` for directories).
    regions: std::collections::BTreeSet<&'a str>,
}

impl Presence<'_> {
    /// Whether the resource may still exist: it was discovered, or discovery found nothing
    /// where it would be (a region no provider block covers any more, or where nothing was
    /// found at all), so its absence proves nothing. Only a resource missing from a region
    /// that discovery did see counts as gone.
    pub fn exists(&self, arn: &str) -> bool {
        if self.inventory.get(arn).is_some() {
            return true;
        }
        let region = if arn.starts_with("dir:") {
            Some("local")
        } else {
            arn.split(':').nth(3)
        };
        region.is_none_or(|r| !self.regions.contains(r))
    }
}

/// Everything discovered, sorted by ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub resources: Vec<Resource>,
}

impl Inventory {
    pub fn new(mut resources: Vec<Resource>) -> Inventory {
        resources.sort_by(|a, b| a.arn.cmp(&b.arn));
        resources.dedup_by(|a, b| a.arn == b.arn);
        Inventory { resources }
    }

    pub fn get(&self, arn: &str) -> Option<&Resource> {
        self.resources
            .binary_search_by(|r| r.arn.as_str().cmp(arn))
            .ok()
            .map(|i| &self.resources[i])
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// What this inventory says about whether resources still exist, for lifecycle's
    /// `keep_at_least` floor (see [`Presence::exists`]).
    pub fn presence(&self) -> Presence<'_> {
        Presence {
            inventory: self,
            regions: self.resources.iter().map(|r| r.region.as_str()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(arn: &str) -> Resource {
        Resource::new(arn, ResourceType::EbsVolume, "us-east-1", "1")
    }

    #[test]
    fn inventory_is_sorted_deduplicated_and_searchable() {
        let inv = Inventory::new(vec![r("b"), r("a"), r("b")]);
        assert_eq!(inv.len(), 2);
        assert!(inv.get("a").is_some());
        assert!(inv.get("c").is_none());
    }

    #[test]
    fn type_names_follow_aws_backup() {
        assert_eq!(
            serde_json::to_string(&ResourceType::AuroraCluster).unwrap(),
            "\"Aurora\""
        );
        assert_eq!(ResourceType::parse("ebs"), Some(ResourceType::EbsVolume));
        assert_eq!(ResourceType::parse("nope"), None);
    }
}
