//! The typed configuration model that lowering produces: vaults, plans with rules,
//! selections, directories, the backend and providers. Every item keeps the span of its
//! declaration so later stages can point back into the user's files.

use super::duration::Duration;
use crate::address::Address;
use crate::diag::Span;
use std::collections::BTreeMap;

/// A string map such as `tags` or `recovery_point_tags`.
pub type Tags = BTreeMap<String, String>;

/// The whole, validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub backend: Backend,
    pub providers: Vec<Provider>,
    pub vaults: BTreeMap<String, Vault>,
    pub plans: BTreeMap<String, BackupPlan>,
    pub selections: BTreeMap<String, Selection>,
    pub directories: BTreeMap<String, Directory>,
    pub efs_mounts: BTreeMap<String, EfsMount>,
    pub legal_holds: BTreeMap<String, LegalHold>,
    pub restore_tests: BTreeMap<String, RestoreTest>,
    pub frameworks: BTreeMap<String, Framework>,
    pub notifications: BTreeMap<String, Notification>,
    /// Object dependencies found in expressions (including through locals), by address.
    pub dependencies: BTreeMap<Address, Vec<Address>>,
}

/// Where state and catalog are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A directory on this machine (default `.coffer`, relative to the configuration).
    Local { path: String },
    /// A PostgreSQL database shared by a team: `conn_str` (else `COFFER_PG_CONN_STR`, else
    /// libpq's `PG*` variables) and the schema its tables live in (default `coffer`).
    Postgres {
        conn_str: Option<String>,
        schema: String,
    },
}

/// A PostgreSQL connection string with its password replaced by `****`, in either form
/// (`postgres://user:password@host/db` or `host=… password=…`), for anything shown or stored.
pub fn redact_conn_str(conn: &str) -> String {
    if let Some(rest) = conn
        .strip_prefix("postgres://")
        .or_else(|| conn.strip_prefix("postgresql://"))
    {
        let scheme = &conn[..conn.len() - rest.len()];
        let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}{user}:****@{host}{tail}");
            }
        }
        return conn.to_string();
    }
    let mut out = Vec::new();
    let mut words = conn.split_whitespace();
    while let Some(w) = words.next() {
        match w.split_once('=') {
            Some(("password", v)) => {
                // a quoted value may hold spaces: skip to its closing quote
                if v.starts_with('\'') && !(v.len() > 1 && v.ends_with('\'')) {
                    for more in words.by_ref() {
                        if more.ends_with('\'') {
                            break;
                        }
                    }
                }
                out.push("password=****".to_string());
            }
            _ => out.push(w.to_string()),
        }
    }
    out.join(" ")
}

impl Default for Backend {
    fn default() -> Self {
        Backend::Local {
            path: ".coffer".into(),
        }
    }
}

/// A `provider "aws"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub alias: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Credentials of another account (or role), as Terraform's provider takes them.
    pub assume_role: Option<AssumeRole>,
    pub span: Span,
}

/// A provider's `assume_role` block: coffer acts with the role's credentials, got from STS
/// with the provider's own (AssumeRole).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Governance,
    Compliance,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Governance => "governance",
            LockMode::Compliance => "compliance",
        }
    }
}

/// A vault lock: retention limits that recovery points in the vault must respect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultLock {
    pub mode: LockMode,
    pub min_retention: Option<Duration>,
    pub max_retention: Option<Duration>,
    pub changeable_for: Option<Duration>,
    /// The `lock` block's header.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    pub name: String,
    /// Where the vault's native points (snapshots, AMIs) live; `None`: in their resource's
    /// region.
    pub region: Option<String>,
    pub region_span: Option<Span>,
    /// The alias of the `provider "aws"` block whose account holds the vault's native points
    /// (`provider = aws.ALIAS`); `None`: the unaliased provider.
    pub provider: Option<String>,
    /// Location of the vault's repository for file-level points, e.g. `file://./vaults/x`.
    pub storage: Option<String>,
    pub kms_key_arn: Option<String>,
    pub lock: Option<VaultLock>,
    pub force_destroy: bool,
    /// The environment variable holding this vault's repository key (instead of
    /// `COFFER_VAULT_PASSWORD`); a name, never the key.
    pub password_env: Option<String>,
    /// The file whose first line is this vault's repository key (relative to the
    /// configuration); a path, never the key.
    pub password_file: Option<String>,
    /// When coffer prunes the vault's repository (vaults with `storage`).
    pub prune: Option<Prune>,
    /// Where file-level points go at their `cold_at` (vaults with `storage`).
    pub cold_storage: Option<ColdStorage>,
    pub tags: Tags,
    pub span: Span,
}

/// A vault's `cold_storage` block: a second repository for file-level points in cold storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColdStorage {
    /// `file://PATH` or `s3://BUCKET/PREFIX`.
    pub storage: String,
    /// For S3: the storage class of data packs (`STANDARD_IA`, `ONEZONE_IA`, `GLACIER_IR`).
    pub storage_class: Option<String>,
}

/// A vault's `prune` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prune {
    /// Unused data, as a share of the repository, above which it is pruned.
    pub max_unused_percent: u8,
}

impl Default for Prune {
    /// restic's default: 5%.
    fn default() -> Prune {
        Prune {
            max_unused_percent: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lifecycle {
    pub cold_storage_after: Option<Duration>,
    /// Where `cold_storage_after` is written, for diagnostics.
    pub cold_storage_after_span: Option<Span>,
    pub delete_after: Option<Duration>,
    /// A retention policy (restic's `forget` clauses) over each group of points the rule
    /// made of one resource in one vault.
    pub keep: Option<crate::jobs::retention::KeepPolicy>,
    /// The newest this many completed points of a group whose resource still exists are
    /// never deleted by lifecycle or retention (`None`: the default, 1).
    pub keep_at_least: Option<u32>,
    /// AWS's OptInToArchiveForSupportedResources: EBS snapshots move to the archive tier at
    /// `cold_storage_after`.
    pub opt_in_to_archive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyAction {
    pub vault: String,
    pub lifecycle: Option<Lifecycle>,
    /// How long after the source completes the copy must be finished (default 24 hours).
    pub window: Option<Duration>,
    /// The `copy_to` block's header.
    pub span: Span,
}

/// A copy's window when its `copy_to` block sets none: 24 hours from the source's completion.
pub const DEFAULT_COPY_WINDOW_MINUTES: u64 = 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub plan: String,
    pub name: String,
    /// A valid EventBridge cron expression, `cron(…)`.
    pub schedule: String,
    /// An IANA time zone name; `None` means UTC.
    pub timezone: Option<String>,
    /// Opts out of the 12-hour minimum between runs.
    pub allow_more_frequent_than_12h: bool,
    pub start_window: Duration,
    pub completion_window: Duration,
    pub target_vault: String,
    pub lifecycle: Option<Lifecycle>,
    pub recovery_point_tags: Tags,
    pub copy_to: Vec<CopyAction>,
    pub span: Span,
}

impl Rule {
    /// The rule's schedule in its time zone. Lowering has already checked both, so this
    /// only fails for a hand-built rule.
    pub fn parsed_schedule(&self) -> Result<crate::schedule::Schedule, crate::schedule::CronError> {
        let tz = self
            .timezone
            .as_deref()
            .and_then(crate::schedule::occurrence::parse_timezone);
        crate::schedule::Schedule::parse(&self.schedule, tz)
    }

    pub fn address(&self) -> crate::address::Address {
        crate::address::Address::Rule {
            plan: self.plan.clone(),
            rule: self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPlan {
    pub name: String,
    pub tags: Tags,
    /// The regions whose resources the plan's selections may cover; `None` when not set
    /// (then the default provider's region, or any region when there is no provider).
    pub regions: Option<Vec<String>>,
    pub rules: BTreeMap<String, Rule>,
    pub span: Span,
}

/// `condition` block of a selection: every entry must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    pub string_equals: Tags,
    pub string_not_equals: Tags,
    pub string_like: Tags,
    pub string_not_like: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub name: String,
    pub plan: String,
    /// Says explicitly that the selection covers everything in its plan's regions.
    pub all_resources: bool,
    pub any_tag: BTreeMap<String, Vec<String>>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    pub conditions: Conditions,
    pub span: Span,
}

/// A `legal_hold` block: AWS Backup's RecoveryPointSelection. While it matches a point,
/// nothing deletes the point or moves it to cold storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    pub name: String,
    pub description: Option<String>,
    /// Vault names.
    pub vaults: Vec<String>,
    /// Resource ARN patterns (`*` matches any text).
    pub resources: Vec<String>,
    /// Inclusive range of the points' creation dates (UTC).
    pub created_from: Option<chrono::NaiveDate>,
    pub created_to: Option<chrono::NaiveDate>,
    pub span: Span,
}

/// How a restore test picks the point of each resource it restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointAlgorithm {
    /// The newest eligible point.
    Latest,
    /// Any eligible point, at random.
    Random,
}

impl PointAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            PointAlgorithm::Latest => "latest",
            PointAlgorithm::Random => "random",
        }
    }
}

/// A `restore_test` block: AWS Backup's restore testing plan, with its selections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreTest {
    pub name: String,
    pub schedule: String,
    pub timezone: Option<String>,
    pub start_window: Duration,
    pub algorithm: PointAlgorithm,
    /// Vault names the points may be in (empty: every vault).
    pub vaults: Vec<String>,
    pub exclude_vaults: Vec<String>,
    pub selection_window: Duration,
    pub selections: Vec<RestoreTestSelection>,
    pub span: Span,
}

/// A restore test's `selection "NAME"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreTestSelection {
    pub name: String,
    pub resource_type: crate::inventory::ResourceType,
    /// Resource ARN patterns (`*` matches any text); empty: every resource of the type.
    pub resources: Vec<String>,
    /// Conditions on the tags of the resource's newest point.
    pub string_equals: Tags,
    pub string_not_equals: Tags,
    /// Restore metadata overrides (checked against the type's keys).
    pub overrides: Tags,
    pub validation_window: Duration,
    pub validate: Option<Validate>,
    pub span: Span,
}

/// A selection's `validate` block: a command whose exit 0 is a successful validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validate {
    pub command: Vec<String>,
    pub timeout: Duration,
}

/// A `notification` block: which events to deliver, where, and how many times to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub name: String,
    pub events: Vec<crate::notify::NotificationEvent>,
    pub webhook: Option<crate::objects::attrs::WebhookAttrs>,
    /// A program and its arguments, given the payload on standard input.
    pub command: Option<Vec<String>>,
    /// Deliveries tried again after a failure (with backoff), default 3.
    pub retries: u32,
    pub span: Span,
}

/// A `framework` block: AWS Backup Audit Manager's framework, a named set of controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framework {
    pub name: String,
    pub description: Option<String>,
    /// At most one of each control.
    pub controls: BTreeMap<crate::controls::ControlKind, Control>,
    pub span: Span,
}

/// A framework's `control "NAME"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub params: crate::objects::attrs::ControlParams,
    pub scope: crate::objects::attrs::ControlScope,
    /// The block's label.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub name: String,
    /// The path as written (relative paths are relative to the configuration directory).
    pub path: String,
    pub tags: Tags,
    pub span: Span,
}

impl Config {
    /// The regions a plan covers: its own `regions`, else the unaliased AWS provider's
    /// region, else every provider's region; empty (any region) without providers.
    pub fn plan_regions(&self, plan: &BackupPlan) -> Vec<String> {
        if let Some(r) = &plan.regions {
            return r.clone();
        }
        if let Some(r) = self
            .providers
            .iter()
            .find(|p| p.alias.is_none())
            .and_then(|p| p.region.clone())
        {
            return vec![r];
        }
        let mut all: Vec<String> = self
            .providers
            .iter()
            .filter_map(|p| p.region.clone())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Where an EFS file system is mounted on this machine, for file-level backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfsMount {
    pub name: String,
    pub file_system_id: String,
    pub mount_path: String,
    pub span: Span,
}

/// Default start window when a rule sets none: 8 hours, as AWS Backup's API and console.
pub const DEFAULT_START_WINDOW_MINUTES: u64 = 8 * 60;
/// Default completion window when a rule sets none: 7 days, as AWS Backup's API and console.
pub const DEFAULT_COMPLETION_WINDOW_MINUTES: u64 = 7 * 24 * 60;
