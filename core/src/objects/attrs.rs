//! The recorded attributes of each kind of object, typed: how desired objects are written to
//! state and plans (as JSON), and the one place where they are read back. Every reader (due
//! runs, selection, previews, vault locks, apply's effects, vault repositories) takes these
//! structs instead of looking up `"…"` keys in JSON.

use crate::config::duration::Duration;
use crate::jobs::retention::KeepPolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why recorded attributes could not be read: state that no coffer wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}")]
pub struct AttrsError {
    pub what: String,
    pub message: String,
}

/// Reads the attributes of `what` (an address, for the message).
pub fn read<T: serde::de::DeserializeOwned>(
    what: &impl std::fmt::Display,
    attributes: &serde_json::Value,
) -> Result<T, AttrsError> {
    serde_json::from_value(attributes.clone()).map_err(|e| AttrsError {
        what: what.to_string(),
        message: format!("recorded attributes are not what coffer writes: {e}"),
    })
}

/// Writes attributes as state and plans hold them.
pub fn write<T: Serialize>(attrs: &T) -> serde_json::Value {
    serde_json::to_value(attrs).unwrap_or(serde_json::Value::Null)
}

/// Durations are recorded as the text the user wrote (`"35d"`).
mod duration_text {
    use super::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        Duration::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

mod optional_duration_text {
    use super::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(d.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| Duration::parse(&t).map_err(|e| serde::de::Error::custom(e.message)))
            .transpose()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VaultAttrs {
    pub storage: Option<String>,
    pub kms_key_arn: Option<String>,
    pub lock: Option<LockAttrs>,
    #[serde(default)]
    pub force_destroy: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Where the key is (names only, never the key); absent unless set, so vaults without them
    /// keep their recorded attributes unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    /// The repository's prune settings, as written (`"5%"`); absent unless set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<PruneAttrs>,
    /// The cold repository's location, as written; absent unless set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_storage: Option<ColdStorageAttrs>,
    /// The region of the vault's native points; absent: their resource's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The provider whose account holds them (`aws.ALIAS`); absent: the unaliased provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColdStorageAttrs {
    pub storage: String,
    /// The S3 storage class of data packs (S3 cold repositories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneAttrs {
    pub max_unused: String,
}

impl VaultAttrs {
    /// The alias of the vault's provider (`aws.west` → `west`), `None` for the unaliased one.
    pub fn provider_alias(&self) -> Option<&str> {
        self.provider
            .as_deref()
            .and_then(|p| p.strip_prefix("aws."))
    }

    /// The share of unused data (percent) above which the repository is pruned: the
    /// vault's `prune { max_unused }`, else restic's 5%.
    pub fn max_unused_percent(&self) -> u8 {
        self.prune
            .as_ref()
            .and_then(|p| p.max_unused.strip_suffix('%')?.trim().parse().ok())
            .unwrap_or(5)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockAttrs {
    pub mode: String,
    #[serde(default, with = "optional_duration_text")]
    pub min_retention: Option<Duration>,
    #[serde(default, with = "optional_duration_text")]
    pub max_retention: Option<Duration>,
    #[serde(default, with = "optional_duration_text")]
    pub changeable_for: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAttrs {
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The regions the plan's selections may cover (empty: any).
    #[serde(default)]
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LifecycleAttrs {
    #[serde(default, with = "optional_duration_text")]
    pub cold_storage_after: Option<Duration>,
    #[serde(default, with = "optional_duration_text")]
    pub delete_after: Option<Duration>,
    /// Absent unless set, so rules without them keep their recorded attributes unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<KeepAttrs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_at_least: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in_to_archive: bool,
}

impl LifecycleAttrs {
    /// The floor of newest points never deleted while their resource exists (default 1).
    pub fn floor(&self) -> u32 {
        self.keep_at_least.unwrap_or(1)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A `keep` block as recorded: the clauses that keep something.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeepAttrs {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub last: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hourly: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub daily: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weekly: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub monthly: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub yearly: u32,
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub within: Option<Duration>,
}

impl From<&KeepPolicy> for KeepAttrs {
    fn from(p: &KeepPolicy) -> KeepAttrs {
        KeepAttrs {
            last: p.last,
            hourly: p.hourly,
            daily: p.daily,
            weekly: p.weekly,
            monthly: p.monthly,
            yearly: p.yearly,
            within: p.within.clone(),
        }
    }
}

impl From<&KeepAttrs> for KeepPolicy {
    fn from(k: &KeepAttrs) -> KeepPolicy {
        KeepPolicy {
            last: k.last,
            hourly: k.hourly,
            daily: k.daily,
            weekly: k.weekly,
            monthly: k.monthly,
            yearly: k.yearly,
            within: k.within.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyAttrs {
    /// The destination vault's address (`vault.NAME`).
    pub vault: String,
    pub lifecycle: Option<LifecycleAttrs>,
    /// The copy window as written; absent: 24 hours.
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub window: Option<Duration>,
}

impl CopyAttrs {
    /// The destination vault's name.
    pub fn vault_name(&self) -> &str {
        self.vault.strip_prefix("vault.").unwrap_or(&self.vault)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleAttrs {
    pub schedule: String,
    /// An IANA zone name, or `UTC`.
    pub timezone: String,
    #[serde(default)]
    pub allow_more_frequent_than_12h: bool,
    #[serde(with = "duration_text")]
    pub start_window: Duration,
    #[serde(with = "duration_text")]
    pub completion_window: Duration,
    /// The target vault's address (`vault.NAME`).
    pub target_vault: String,
    pub lifecycle: Option<LifecycleAttrs>,
    #[serde(default)]
    pub recovery_point_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub copy_to: Vec<CopyAttrs>,
}

impl RuleAttrs {
    /// The target vault's name.
    pub fn vault_name(&self) -> &str {
        self.target_vault
            .strip_prefix("vault.")
            .unwrap_or(&self.target_vault)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConditionAttrs {
    #[serde(default)]
    pub string_equals: BTreeMap<String, String>,
    #[serde(default)]
    pub string_not_equals: BTreeMap<String, String>,
    #[serde(default)]
    pub string_like: BTreeMap<String, String>,
    #[serde(default)]
    pub string_not_like: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionAttrs {
    /// The plan's address (`plan.NAME`).
    pub plan: String,
    #[serde(default)]
    pub all_resources: bool,
    #[serde(default)]
    pub any_tag: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub not_resources: Vec<String>,
    #[serde(default)]
    pub condition: ConditionAttrs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHoldAttrs {
    pub description: Option<String>,
    /// Vault addresses (`vault.NAME`).
    #[serde(default)]
    pub vaults: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    pub created_from: Option<chrono::NaiveDate>,
    pub created_to: Option<chrono::NaiveDate>,
}

impl LegalHoldAttrs {
    /// The hold as lifecycle matches it, named `name`.
    pub fn into_hold(self, name: &str) -> crate::jobs::lifecycle::Hold {
        crate::jobs::lifecycle::Hold {
            name: name.to_string(),
            vaults: self
                .vaults
                .iter()
                .map(|v| v.strip_prefix("vault.").unwrap_or(v).to_string())
                .collect(),
            resources: self.resources,
            created_from: self.created_from,
            created_to: self.created_to,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryAttrs {
    pub path: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A `restore_test` block as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTestAttrs {
    pub schedule: String,
    /// An IANA zone name, or `UTC`.
    pub timezone: String,
    #[serde(with = "duration_text")]
    pub start_window: Duration,
    /// `latest` or `random`.
    pub algorithm: String,
    /// Vault addresses (`vault.NAME`); empty: every vault.
    #[serde(default)]
    pub vaults: Vec<String>,
    #[serde(default)]
    pub exclude_vaults: Vec<String>,
    #[serde(with = "duration_text")]
    pub selection_window: Duration,
    /// By name.
    pub selections: BTreeMap<String, RestoreTestSelectionAttrs>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTestSelectionAttrs {
    pub resource_type: crate::inventory::ResourceType,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub string_equals: BTreeMap<String, String>,
    #[serde(default)]
    pub string_not_equals: BTreeMap<String, String>,
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    #[serde(with = "duration_text")]
    pub validation_window: Duration,
    pub validate: Option<ValidateAttrs>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidateAttrs {
    pub command: Vec<String>,
    #[serde(with = "duration_text")]
    pub timeout: Duration,
}

impl RestoreTestAttrs {
    /// Whether a point in `vault` may be restored by this test.
    pub fn includes_vault(&self, vault: &str) -> bool {
        let named = |list: &[String]| {
            list.iter()
                .any(|v| v.strip_prefix("vault.").unwrap_or(v) == vault)
        };
        (self.vaults.is_empty() || named(&self.vaults)) && !named(&self.exclude_vaults)
    }
}

/// A `framework` block as recorded: its controls by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkAttrs {
    pub description: Option<String>,
    pub controls: BTreeMap<crate::controls::ControlKind, ControlAttrs>,
}

/// One `control` block of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ControlAttrs {
    #[serde(default)]
    pub parameters: ControlParams,
    #[serde(default)]
    pub scope: ControlScope,
}

/// A control's parameters; each control takes the ones [`crate::controls::ControlKind::params`]
/// lists, the rest stay empty. Durations are recorded as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ControlParams {
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub required_frequency: Option<Duration>,
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub required_retention: Option<Duration>,
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_retention: Option<Duration>,
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_retention: Option<Duration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_age: Option<Duration>,
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_restore_time: Option<Duration>,
}

impl ControlParams {
    /// The duration parameter `name`, as given.
    pub fn duration(&self, name: &str) -> Option<&Duration> {
        match name {
            "required_frequency" => self.required_frequency.as_ref(),
            "required_retention" => self.required_retention.as_ref(),
            "min_retention" => self.min_retention.as_ref(),
            "max_retention" => self.max_retention.as_ref(),
            "max_age" => self.max_age.as_ref(),
            "max_restore_time" => self.max_restore_time.as_ref(),
            _ => None,
        }
    }

    /// Sets the duration parameter `name` (lowering, after checking the name).
    pub fn set_duration(&mut self, name: &str, d: Duration) {
        let slot = match name {
            "required_frequency" => &mut self.required_frequency,
            "required_retention" => &mut self.required_retention,
            "min_retention" => &mut self.min_retention,
            "max_retention" => &mut self.max_retention,
            "max_age" => &mut self.max_age,
            "max_restore_time" => &mut self.max_restore_time,
            _ => return,
        };
        *slot = Some(d);
    }

    /// `name = value` for each parameter given, in AWS's report form (`controlParameters`).
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for name in [
            "required_frequency",
            "required_retention",
            "min_retention",
            "max_retention",
            "max_age",
            "max_restore_time",
        ] {
            if let Some(d) = self.duration(name) {
                out.push(format!("{name}={d}"));
            }
        }
        if !self.regions.is_empty() {
            out.push(format!("regions={}", self.regions.join(",")));
        }
        if !self.accounts.is_empty() {
            out.push(format!("accounts={}", self.accounts.join(",")));
        }
        out
    }
}

/// Which resources a control evaluates: all of them when empty; else those of the listed
/// types, ARN patterns (`*` matches any text) and tags, every given criterion holding.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ControlScope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<crate::inventory::ResourceType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl ControlScope {
    /// Whether the resource is in scope.
    pub fn includes(&self, r: &crate::inventory::Resource) -> bool {
        (self.resource_types.is_empty() || self.resource_types.contains(&r.resource_type))
            && (self.resources.is_empty()
                || self
                    .resources
                    .iter()
                    .any(|p| crate::coverage::select::glob(p, &r.arn)))
            && self
                .tags
                .iter()
                .all(|(k, v)| r.tags.get(k).is_some_and(|x| x == v))
    }

    /// The scope in words, for reports (`controlScope`): `all resources` when empty.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.resource_types.is_empty() {
            let t: Vec<&str> = self.resource_types.iter().map(|t| t.as_str()).collect();
            parts.push(format!("types {}", t.join(",")));
        }
        if !self.resources.is_empty() {
            parts.push(format!("resources {}", self.resources.join(",")));
        }
        if !self.tags.is_empty() {
            let t: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.push(format!("tags {}", t.join(",")));
        }
        if parts.is_empty() {
            "all resources".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A `notification` block as recorded: secrets are never here, only the names of the
/// environment variables that hold them (`header_env`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationAttrs {
    pub events: Vec<crate::notify::NotificationEvent>,
    pub retries: u32,
    pub webhook: Option<WebhookAttrs>,
    pub command: Option<Vec<String>>,
}

/// A notification's `webhook` block: the payload is POSTed as JSON to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttrs {
    pub url: String,
    /// Literal headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers whose values are read from these environment variables at delivery.
    #[serde(default)]
    pub header_env: BTreeMap<String, String>,
}
