//! What an AWS restore creates, as restore metadata (AWS Backup's names): per resource type
//! the keys `--set` may override, the defaults taken from the source's configuration recorded
//! with the point, coffer's own defaults (a new name, never publicly accessible, no deletion
//! protection, IMDSv2), and the checks of what a user gave. A restore always creates a new
//! resource, so no key names the source.

use crate::inventory::ResourceType;
use std::collections::BTreeMap;

/// How a metadata value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    /// A whole number (sizes in GiB, IOPS, MiB/s, ports).
    Number,
    /// `true` or `false`.
    Bool,
    /// A JSON array of strings in text (`["sg-1","sg-2"]`), as AWS Backup writes lists.
    List,
}

/// One key a restore of some type takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub kind: ValueKind,
    /// Whether `--set` may change it (else coffer sets it).
    pub overridable: bool,
}

const fn key(name: &'static str, kind: ValueKind) -> Key {
    Key {
        name,
        kind,
        overridable: true,
    }
}

const fn fixed(name: &'static str, kind: ValueKind) -> Key {
    Key {
        name,
        kind,
        overridable: false,
    }
}

use ValueKind::*;

const EBS: &[Key] = &[
    key("availabilityZone", Text),
    key("volumeType", Text),
    key("iops", Number),
    key("throughput", Number),
    key("volumeSize", Number),
    key("encrypted", Bool),
    key("kmsKeyId", Text),
];
const EC2: &[Key] = &[
    key("instanceType", Text),
    key("subnetId", Text),
    key("securityGroupIds", List),
    key("iamInstanceProfileName", Text),
    key("keyName", Text),
    key("requireImdsV2", Bool),
];
const RDS: &[Key] = &[
    key("dbInstanceIdentifier", Text),
    key("dbInstanceClass", Text),
    key("dbSubnetGroupName", Text),
    key("vpcSecurityGroupIds", List),
    key("multiAz", Bool),
    key("port", Number),
    key("availabilityZone", Text),
    fixed("publiclyAccessible", Bool),
    fixed("deletionProtection", Bool),
];
const AURORA: &[Key] = &[
    key("dbClusterIdentifier", Text),
    key("dbInstanceClass", Text),
    key("dbSubnetGroupName", Text),
    key("vpcSecurityGroupIds", List),
    key("engineVersion", Text),
    key("port", Number),
    fixed("engine", Text),
    fixed("deletionProtection", Bool),
];

const DYNAMODB: &[Key] = &[key("targetTableName", Text)];

/// The keys a restore of type `t` takes; empty for types restored by files.
pub fn keys(t: ResourceType) -> &'static [Key] {
    match t {
        ResourceType::EbsVolume => EBS,
        ResourceType::Ec2Instance => EC2,
        ResourceType::RdsInstance => RDS,
        ResourceType::AuroraCluster => AURORA,
        ResourceType::DynamoDbTable => DYNAMODB,
        ResourceType::EfsFileSystem | ResourceType::Directory => &[],
    }
}

/// Why given metadata cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("`{key}` is not restore metadata of {resource_type} points; they take {allowed}")]
    UnknownKey {
        key: String,
        resource_type: ResourceType,
        allowed: String,
    },
    #[error("`{key}` is set by coffer for {resource_type} restores and cannot be overridden")]
    Fixed {
        key: String,
        resource_type: ResourceType,
    },
    #[error("`{key}={value}`: {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("{resource_type} points are restored from their files: use --target (and --path, --overwrite), not --set")]
    FileLevel { resource_type: ResourceType },
}

/// The name a restore gives what it creates: `coffer-restore-<first 8 characters of the job id>`.
pub fn default_name(job_id: &str) -> String {
    let short: String = job_id.trim_start_matches("job-").chars().take(8).collect();
    format!("coffer-restore-{short}")
}

fn normalized(key: &Key, value: &str) -> Result<String, MetadataError> {
    let bad = |expected| MetadataError::BadValue {
        key: key.name.to_string(),
        value: value.to_string(),
        expected,
    };
    match key.kind {
        Text if value.is_empty() => Err(bad("a value is needed")),
        Text => Ok(value.to_string()),
        Number => value
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| bad("a whole number is needed")),
        Bool => match value.to_ascii_lowercase().as_str() {
            "true" => Ok("true".into()),
            "false" => Ok("false".into()),
            _ => Err(bad("true or false is needed")),
        },
        List => {
            let items: Vec<String> = if value.trim_start().starts_with('[') {
                serde_json::from_str(value)
                    .map_err(|_| bad("a JSON array of strings, or values separated by commas"))?
            } else {
                value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            Ok(serde_json::to_string(&items).unwrap_or_default())
        }
    }
}

/// The key naming what a restore of type `t` creates, for types whose restores are named
/// (RDS instances, Aurora clusters, DynamoDB tables).
pub fn name_key(t: ResourceType) -> Option<&'static str> {
    match t {
        ResourceType::RdsInstance => Some("dbInstanceIdentifier"),
        ResourceType::AuroraCluster => Some("dbClusterIdentifier"),
        ResourceType::DynamoDbTable => Some("targetTableName"),
        _ => None,
    }
}

/// The metadata a restore of a type-`t` point uses: the source's recorded configuration for
/// every key the type takes, coffer's defaults (the name `name` when given, else none: the
/// restore job names it after itself; never publicly accessible, no deletion protection,
/// IMDSv2 required), then `overrides` (keys case-insensitive, as AWS Backup reads them).
pub fn resolve(
    t: ResourceType,
    source: &BTreeMap<String, String>,
    overrides: &[(String, String)],
    name: Option<&str>,
) -> Result<BTreeMap<String, String>, MetadataError> {
    let table = keys(t);
    if table.is_empty() {
        return match overrides.first() {
            Some(_) => Err(MetadataError::FileLevel { resource_type: t }),
            None => Ok(BTreeMap::new()),
        };
    }
    let mut out = BTreeMap::new();
    // never the source's own name: a restore makes a new resource beside it
    for k in table.iter().filter(|k| Some(k.name) != name_key(t)) {
        if let Some(v) = source.get(k.name) {
            if let Ok(v) = normalized(k, v) {
                out.insert(k.name.to_string(), v);
            }
        }
    }
    let mut set = |k: &str, v: &str| {
        out.insert(k.to_string(), v.to_string());
    };
    match t {
        ResourceType::Ec2Instance => set("requireImdsV2", "true"),
        ResourceType::RdsInstance => {
            set("publiclyAccessible", "false");
            set("deletionProtection", "false");
        }
        ResourceType::AuroraCluster => set("deletionProtection", "false"),
        _ => {}
    }
    if let (Some(key), Some(name)) = (name_key(t), name) {
        set(key, name);
    }
    for (given, value) in overrides {
        let Some(k) = table.iter().find(|k| k.name.eq_ignore_ascii_case(given)) else {
            return Err(MetadataError::UnknownKey {
                key: given.clone(),
                resource_type: t,
                allowed: table
                    .iter()
                    .filter(|k| k.overridable)
                    .map(|k| k.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if !k.overridable {
            return Err(MetadataError::Fixed {
                key: k.name.to_string(),
                resource_type: t,
            });
        }
        out.insert(k.name.to_string(), normalized(k, value)?);
    }
    // a Multi-AZ database is placed by RDS: a recorded zone would be refused
    if t == ResourceType::RdsInstance
        && out.get("multiAz").map(String::as_str) == Some("true")
        && !overrides
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("availabilityZone"))
    {
        out.remove("availabilityZone");
    }
    Ok(out)
}

/// A list value's items.
pub fn list(value: &str) -> Vec<String> {
    serde_json::from_str(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_volume_restores_as_its_source_was_unless_told_otherwise() {
        let src = source(&[
            ("availabilityZone", "us-east-1a"),
            ("volumeType", "gp3"),
            ("volumeSize", "8"),
            ("encrypted", "true"),
            ("instanceType", "t3.micro"),
        ]);
        let m = resolve(ResourceType::EbsVolume, &src, &[], None).unwrap();
        assert_eq!(m["volumeType"], "gp3");
        assert_eq!(m["volumeSize"], "8");
        assert!(!m.contains_key("instanceType"), "not a volume's key");
        let m = resolve(
            ResourceType::EbsVolume,
            &src,
            &set(&[
                ("VOLUMETYPE", "io2"),
                ("iops", "3000"),
                ("volumeSize", "20"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            (
                m["volumeType"].as_str(),
                m["iops"].as_str(),
                m["volumeSize"].as_str()
            ),
            ("io2", "3000", "20"),
            "keys are case-insensitive"
        );
    }

    #[test]
    fn databases_get_a_new_name_and_are_never_public() {
        let src = source(&[
            ("dbInstanceClass", "db.r6g.large"),
            ("multiAz", "true"),
            ("availabilityZone", "us-east-1b"),
            ("vpcSecurityGroupIds", r#"["sg-1"]"#),
        ]);
        let m = resolve(
            ResourceType::RdsInstance,
            &src,
            &[],
            Some("coffer-restore-abc"),
        )
        .unwrap();
        assert_eq!(m["dbInstanceIdentifier"], "coffer-restore-abc");
        assert_eq!(m["publiclyAccessible"], "false");
        assert_eq!(m["deletionProtection"], "false");
        assert!(
            !m.contains_key("availabilityZone"),
            "Multi-AZ: RDS places it"
        );
        let m = resolve(
            ResourceType::RdsInstance,
            &src,
            &set(&[("multiAz", "false"), ("vpcSecurityGroupIds", "sg-2, sg-3")]),
            None,
        )
        .unwrap();
        assert_eq!(m["availabilityZone"], "us-east-1b");
        assert_eq!(list(&m["vpcSecurityGroupIds"]), ["sg-2", "sg-3"]);
        let e = resolve(
            ResourceType::RdsInstance,
            &src,
            &set(&[("publiclyAccessible", "true")]),
            None,
        )
        .unwrap_err();
        assert!(matches!(e, MetadataError::Fixed { .. }), "{e}");
    }

    #[test]
    fn a_table_is_restored_under_a_new_name_not_its_sources() {
        let src = source(&[("targetTableName", "orders")]);
        let m = resolve(ResourceType::DynamoDbTable, &src, &[], None).unwrap();
        assert!(
            !m.contains_key("targetTableName"),
            "the job names it: {m:?}"
        );
        let m = resolve(
            ResourceType::DynamoDbTable,
            &src,
            &[],
            Some("coffer-restore-abc"),
        );
        assert_eq!(m.unwrap()["targetTableName"], "coffer-restore-abc");
        let given = set(&[("targetTableName", "orders-restored")]);
        let m = resolve(ResourceType::DynamoDbTable, &src, &given, None).unwrap();
        assert_eq!(m["targetTableName"], "orders-restored");
    }

    #[test]
    fn wrong_keys_and_values_say_what_is_expected() {
        let e = resolve(
            ResourceType::Ec2Instance,
            &BTreeMap::new(),
            &set(&[("volumeType", "gp3")]),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`volumeType` is not restore metadata of EC2 points; they take instanceType, subnetId, securityGroupIds, iamInstanceProfileName, keyName, requireImdsV2"
        );
        let e = resolve(
            ResourceType::EbsVolume,
            &BTreeMap::new(),
            &set(&[("iops", "fast")]),
            None,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "`iops=fast`: a whole number is needed");
        let m = resolve(ResourceType::Ec2Instance, &BTreeMap::new(), &[], None).unwrap();
        assert_eq!(m["requireImdsV2"], "true", "IMDSv2 by default");
        assert!(matches!(
            resolve(
                ResourceType::Directory,
                &BTreeMap::new(),
                &set(&[("a", "b")]),
                None
            ),
            Err(MetadataError::FileLevel { .. })
        ));
        assert_eq!(
            default_name("job-0123456789abcdef"),
            "coffer-restore-01234567"
        );
    }
}
