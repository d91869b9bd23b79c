//! The typed shapes of the shell's `--json` outputs (`run`, `restore start`, `vault check`,
//! `validate`, `version`; `inventory` and `schedule` keep theirs beside their commands), each with a JSON Schema in `schema/` generated from the type; the core's
//! `render::jobs` has those of jobs and recovery points.

use crate::render::jobs::JobJson;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// `coffer run --json`: one scheduler tick; schema/tick.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TickJson {
    /// When the tick ran (RFC 3339).
    pub at: String,
    /// From when it looked for due runs.
    pub since: Option<String>,
    /// Jobs this tick created.
    pub created: usize,
    /// Unfinished jobs from earlier ticks taken up again.
    pub resumed: usize,
    /// Every job the tick executed, as it ended (or was left when stopping).
    pub jobs: Vec<JobJson>,
    /// Covered resources of types coffer does not back up, per type.
    pub skipped: BTreeMap<String, usize>,
    /// Restore jobs that a coffer which died left unfinished, now ended.
    pub interrupted_restores: Vec<JobJson>,
    /// Snapshots of covered resources made outside coffer during the runs' windows.
    pub overlaps: Vec<OverlapJson>,
    /// What lifecycle did (its delete jobs are among `jobs`).
    pub lifecycle: LifecycleJson,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LifecycleJson {
    /// Delete jobs this tick created (first attempts and daily retries).
    pub deletions_started: usize,
    /// Cold jobs this tick created (EBS snapshots moving to the archive tier).
    pub cold_started: usize,
    /// Points past their date that a lock, a legal hold or keep_at_least keeps.
    pub waiting: usize,
    /// Vaults where the mass-deletion breaker held back every deletion (the tick exits 1).
    pub breaker: Vec<BreakerJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BreakerJson {
    pub vault: String,
    /// Deletions held back (those an apply approved are not counted).
    pub deleting: u64,
    /// The vault's live points.
    pub live: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OverlapJson {
    pub resource_arn: String,
    pub native_id: String,
    pub created_at: String,
    /// Who made it, when its tags or description say.
    pub origin: Option<String>,
}

/// `coffer restore start --json`; schema/restore.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RestoreJson {
    pub job_id: String,
    pub recovery_point_id: String,
    pub target: String,
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Files read back after writing and found identical to the recovery point.
    pub verified_files: u64,
}

/// `coffer vault check --json`; schema/vault-check.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VaultCheckJson {
    pub vault: String,
    pub location: String,
    pub snapshots: usize,
    pub read_data_subset: Option<String>,
    /// No error was found (and the repository is there).
    pub ok: bool,
    /// The vault's repository is not there at all.
    pub missing: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// When the check ended.
    pub checked_at: chrono::DateTime<chrono::Utc>,
    /// Whether the check was recorded in the catalog (the dashboard's last check of the
    /// vault); a warning on stderr says why not.
    pub recorded: bool,
}

/// `coffer validate --json`; schema/validate.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ValidateJson {
    pub valid: bool,
    pub error_count: usize,
    pub warning_count: usize,
    pub diagnostics: Vec<crate::diag::JsonDiagnostic>,
    /// The evaluated configuration (schema/config.schema.json), when it loads.
    #[schemars(schema_with = "evaluated_config")]
    pub config: Option<serde_json::Value>,
}

fn evaluated_config(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [{ "$ref": "config.schema.json" }, { "type": "null" }]
    })
}

/// `coffer version --json`; schema/version.schema.json.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VersionJson {
    pub coffer_version: String,
    pub state_format_version: u32,
    pub plan_format_version: u32,
}

/// Prints a typed output as pretty JSON, keys sorted as every `--json` output has them.
pub fn print<T: Serialize>(v: &T) {
    print_in_order(&crate::render::jobs::to_json(v));
}

/// Prints a typed output as pretty JSON with its fields in declaration order (`inventory`
/// and `schedule` have always written them so).
pub fn print_in_order<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(text) => println!("{text}"),
        // these types always serialize; say so rather than print nothing and succeed
        Err(e) => eprintln!("coffer: cannot write JSON: {e}"),
    }
}

/// One restore of a restore test run (`restore-test start --json` elements, and the restores of
/// each run in `restore-test list --json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TestRestoreJson {
    pub job_id: String,
    pub selection: String,
    pub resource_arn: String,
    pub recovery_point_id: Option<String>,
    pub state: String,
    pub created_resource_arn: Option<String>,
    /// SUCCESSFUL, FAILED or TIMED_OUT, recorded once.
    pub validation_status: Option<String>,
    pub validation_message: Option<String>,
    /// From the restore job's creation to the restored resource being usable.
    pub restore_time_seconds: Option<i64>,
    /// Whether what was restored was deleted: SUCCESSFUL, or FAILED and why.
    pub deletion_status: Option<String>,
}

/// One run of a restore test.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TestRunJson {
    /// RFC 3339.
    pub scheduled_at: String,
    pub restores: Vec<TestRestoreJson>,
}

/// A restore test's last runs, newest first (`restore-test list --json` elements).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RestoreTestJson {
    pub test: String,
    pub runs: Vec<TestRunJson>,
}

/// What `restore start --dry-run --json` prints: the metadata a restore would use.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RestoreDryRunJson {
    pub recovery_point_id: String,
    pub resource_type: crate::inventory::ResourceType,
    pub native_id: String,
    pub vault: String,
    /// Restore metadata, by AWS Backup's names.
    pub metadata: BTreeMap<String, String>,
}

/// Every `--json` output's schema, by the file name it has in `schema/` (without
/// `.schema.json`). The plan, state and evaluated-configuration schemas are written by hand.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    use crate::render::jobs::PointJson;
    vec![
        ("job", schemars::schema_for!(JobJson)),
        ("jobs", schemars::schema_for!(Vec<JobJson>)),
        (
            "report-jobs",
            schemars::schema_for!(Vec<crate::render::report::JobReportRow>),
        ),
        (
            "report-controls",
            schemars::schema_for!(Vec<crate::render::compliance::ControlRow>),
        ),
        (
            "report-resources",
            schemars::schema_for!(Vec<crate::render::compliance::ResourceRow>),
        ),
        (
            "notification",
            schemars::schema_for!(crate::notify::Payload),
        ),
        ("recovery-points", schemars::schema_for!(Vec<PointJson>)),
        ("tick", schemars::schema_for!(TickJson)),
        ("restore", schemars::schema_for!(RestoreJson)),
        ("restore-dry-run", schemars::schema_for!(RestoreDryRunJson)),
        (
            "restore-test-run",
            schemars::schema_for!(Vec<TestRestoreJson>),
        ),
        ("restore-tests", schemars::schema_for!(Vec<RestoreTestJson>)),
        ("vault-check", schemars::schema_for!(VaultCheckJson)),
        ("version", schemars::schema_for!(VersionJson)),
        ("validate", schemars::schema_for!(ValidateJson)),
        (
            "inventory",
            schemars::schema_for!(Vec<super::inventory::Row<'static>>),
        ),
        (
            "schedule",
            schemars::schema_for!(Vec<super::schedule::RuleJson>),
        ),
        (
            "dashboard-overview",
            schemars::schema_for!(crate::dashboard::overview::Overview),
        ),
        (
            "dashboard-matrix",
            schemars::schema_for!(crate::dashboard::matrix::Matrix),
        ),
        (
            "dashboard-jobs",
            schemars::schema_for!(crate::dashboard::jobs::Jobs),
        ),
        (
            "dashboard-job",
            schemars::schema_for!(crate::dashboard::jobs::JobDetail),
        ),
        (
            "dashboard-resource",
            schemars::schema_for!(crate::dashboard::resource::ResourceView),
        ),
        (
            "dashboard-vaults",
            schemars::schema_for!(crate::dashboard::vaults::Vaults),
        ),
        (
            "dashboard-schedule",
            schemars::schema_for!(crate::dashboard::schedule::ScheduleView),
        ),
        (
            "dashboard-audit",
            schemars::schema_for!(crate::dashboard::audit::Audit),
        ),
        (
            "workers",
            schemars::schema_for!(Vec<crate::catalog::WorkerRecord>),
        ),
        (
            "state-history",
            schemars::schema_for!(Vec<crate::state::postgres::StateVersion>),
        ),
    ]
}
