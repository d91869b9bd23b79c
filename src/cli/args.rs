//! Command-line syntax (clap derive): every command, flag and its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

const ABOUT: &str = "Declarative backup manager: describe vaults, backup plans and resource selections in HCL, review the plan, apply it.";

const AFTER_HELP: &str = "\
Typical workflow:
  coffer init                      write a starter configuration
  coffer validate                  check the configuration
  coffer plan --out plan.json      see what would change, and save it
  coffer apply plan.json           apply exactly that plan
  coffer run                       run the backup jobs that are due (or `coffer daemon`)
  coffer jobs list                 see what ran

Exit codes: 0 success, 1 error, 2 changes present (plan --detailed-exitcode), 3 files need formatting (fmt --check).
Variables: -var NAME=VALUE, -var-file FILE, or COFFER_VAR_NAME in the environment.";

#[derive(Debug, Parser)]
#[command(name = "coffer", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Run as if started in DIR (the configuration directory)
    #[arg(
        short = 'C',
        long = "chdir",
        value_name = "DIR",
        global = true,
        default_value = "."
    )]
    pub chdir: PathBuf,

    /// Never colour output (colour is used only on a terminal, and never when NO_COLOR is set)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// The least severe log messages to write to stderr (default: RUST_LOG if set, else warn, or info for the daemon); debug includes rustic_core's and the AWS SDK's
    #[arg(long, value_enum, value_name = "LEVEL", global = true)]
    pub log_level: Option<LogLevel>,

    /// How to write log messages to stderr
    #[arg(long, value_enum, value_name = "FORMAT", global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct VarArgs {
    /// Set an input variable (repeatable; later wins)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read input variables from an HCL file of `name = value` lines (repeatable)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct LockArgs {
    /// How long to wait for the state lock held by another coffer (e.g. 30s, 5m)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_wait)]
    pub lock_timeout: Duration,
}

#[derive(Debug, Args, Clone)]
pub struct RefreshArgs {
    /// Discover resources now (default); --refresh=false plans from the inventory recorded at the last apply without calling AWS
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub refresh: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-style text
    Text,
    /// A pull-request comment (GitHub-flavoured markdown, under 65,536 characters)
    Markdown,
    /// JSON following schema/plan.schema.json
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration and report every problem with its location
    Validate {
        /// Print diagnostics as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Show what apply would change
    Plan {
        /// Exit 0 when there are no changes, 2 when there are, 1 on error
        #[arg(long)]
        detailed_exitcode: bool,
        /// Save the plan to FILE for `coffer apply FILE`
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the plan as JSON (same as --format json)
        #[arg(long)]
        json: bool,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<PlanFormat>,
        /// Plan to destroy every object in state
        #[arg(long)]
        destroy: bool,
        /// Only report protection changes caused by changes in the cloud, not by the configuration
        #[arg(long, conflicts_with = "destroy")]
        drift_only: bool,
        #[command(flatten)]
        refresh: RefreshArgs,
        #[command(flatten)]
        vars: VarArgs,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Apply the changes a plan (computed now, or saved in FILE) describes
    Apply {
        /// A plan saved with `coffer plan --out FILE`; applied exactly, without asking
        #[arg(value_name = "FILE")]
        plan_file: Option<PathBuf>,
        /// Apply without asking for confirmation
        #[arg(long)]
        auto_approve: bool,
        /// Allow the plan to delete up to N existing recovery points (its "Recovery point
        /// changes"); without it, apply refuses a plan that deletes any
        #[arg(long, value_name = "N")]
        allow_deletions: Option<usize>,
        #[command(flatten)]
        refresh: RefreshArgs,
        #[command(flatten)]
        vars: VarArgs,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List discovered resources and what protects each
    Inventory {
        /// Only resources no selection covers
        #[arg(long)]
        unprotected: bool,
        /// Only resources of this type: EBS, EC2, RDS, Aurora, EFS, DynamoDB or directory
        #[arg(long = "type", value_name = "TYPE")]
        resource_type: Option<String>,
        /// Only resources with this tag (repeatable; all must match)
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Destroy every object coffer manages (repository data is kept)
    Destroy {
        /// Destroy without asking for confirmation
        #[arg(long)]
        auto_approve: bool,
        /// Allow destroying to delete up to N existing recovery points (removing legal
        /// holds releases what they held)
        #[arg(long, value_name = "N")]
        allow_deletions: Option<usize>,
        #[command(flatten)]
        vars: VarArgs,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List upcoming runs of backup rules, with their windows and a plain-English description
    Schedule {
        /// List runs from this time on (RFC 3339, e.g. 2026-12-01T00:00:00Z; default now)
        #[arg(long, value_name = "RFC3339")]
        from: Option<String>,
        /// List runs up to this time (RFC 3339)
        #[arg(long, value_name = "RFC3339")]
        until: Option<String>,
        /// At most this many runs per rule
        #[arg(long, value_name = "N", default_value_t = 5)]
        limit: usize,
        /// Only this rule, e.g. plan.monthly.rule.first-saturday (repeatable)
        #[arg(long, value_name = "ADDR")]
        rule: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Run one scheduler tick: create the jobs that came due since the last tick, run them, record recovery points
    Run {
        /// Pretend it is this time (RFC 3339, e.g. 2026-12-05T03:10:00Z; default now)
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Print a JSON report instead of text
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        runner: RunnerArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Run ticks forever: sleep until the next rule run, tick, repeat (SIGHUP reloads, SIGINT/SIGTERM stop)
    Daemon {
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        runner: RunnerArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Run jobs as one of any number of workers sharing a PostgreSQL backend: tick, claim
    /// runnable jobs of every kind, hold a lease on each while running it, and hand back what
    /// is unfinished at the end of each tick; SIGINT and SIGTERM stop
    Worker {
        /// This worker's name (default: HOST-PID)
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// On SIGTERM or SIGINT, how long to let held jobs finish before handing back the
        /// rest for other workers and leaving (e.g. 30s, 2m)
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_wait)]
        shutdown_timeout: Duration,
        /// How long this worker's claim on a job lives unless renewed (it renews every
        /// third of it): when a worker is lost, its jobs go to others this long after its
        /// last renewal (at least 3s)
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_wait)]
        lease: Duration,
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        runner: RunnerArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Serve the read-only web dashboard (overview, protection matrix, jobs, resources,
    /// vaults, schedule, compliance and restore tests) and its JSON from the recorded state,
    /// inventory and catalog; runs no job and calls no cloud API
    Serve {
        /// HOST:PORT, or :PORT or PORT for loopback (127.0.0.1)
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
        listen: String,
        #[command(flatten)]
        auth: AuthArgs,
        /// Show the dashboard as of this time (RFC 3339, e.g. 2026-12-05T03:10:00Z; default now)
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// The workers that run jobs from the shared backend
    #[command(subcommand)]
    Workers(WorkersCommand),
    /// Reports of backup, copy and restore jobs (AWS Backup's job report fields) over a
    /// window, and of compliance with the applied frameworks' controls
    #[command(subcommand)]
    Report(ReportCommand),
    /// Back up one resource now, outside any schedule
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Copy one recovery point into another vault now
    #[command(subcommand)]
    Copy(CopyCommand),
    /// Vault repositories
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Restore a file-level recovery point into a directory
    #[command(subcommand)]
    Restore(RestoreCommand),
    /// Inspect backup jobs
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Inspect recovery points
    #[command(subcommand, name = "recovery-points")]
    RecoveryPoints(RecoveryPointsCommand),
    /// Run and inspect restore tests
    #[command(subcommand, name = "restore-test")]
    RestoreTest(RestoreTestCommand),
    /// Show the recorded state, or a saved plan
    Show {
        /// A plan saved with `coffer plan --out FILE`
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Inspect the recorded state
    #[command(subcommand)]
    State(StateCommand),
    /// Remove the state lock with the given ID, left behind by a coffer that is gone
    ForceUnlock {
        /// The lock ID, as printed by the command that found the state locked
        id: String,
    },
    /// Rewrite configuration files in canonical style (keeps every comment)
    Fmt {
        /// Do not write; exit 3 if any file needs formatting
        #[arg(long)]
        check: bool,
        /// Show the changes as a diff
        #[arg(long)]
        diff: bool,
        /// Files or directories (default: the configuration directory)
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Write a commented starter configuration into an empty directory; with
    /// `-migrate-state`, copy the local state and catalog into the configured backend
    Init {
        /// Copy `.coffer`'s state and catalog into the backend the configuration names
        /// (Terraform's spelling, `-migrate-state`, works too); refused when that backend
        /// already holds state
        #[arg(long = "migrate-state")]
        migrate_state: bool,
    },
    /// Print coffer's version and the file formats it reads and writes
    Version {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How log messages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line per message: time, level, where, message and fields
    Text,
    /// One JSON object per line: time, level, target, message and every field
    Json,
}

/// How much to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The filter directive for this level (every target).
    pub fn directive(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// What `--listen` serves: the dashboard, `/metrics`, `/healthz` and `/readyz`.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Serve the read-only dashboard, its JSON (/api/v1), /metrics (Prometheus), /healthz and
    /// /readyz on ADDR: HOST:PORT, or :PORT or PORT for loopback (127.0.0.1); the usual port
    /// is 9464. Nothing is served without it
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Who may read what `--listen` serves.
#[derive(Debug, Args, Clone, Default)]
pub struct AuthArgs {
    /// Require `Authorization: Bearer <token>` on every request but /healthz and /readyz,
    /// the token read from the environment variable NAME; required to listen beyond loopback
    #[arg(long, value_name = "NAME")]
    pub auth_token_env: Option<String>,
}

impl ServeArgs {
    /// The address to bind: a bare port, or `:PORT`, is on loopback.
    pub fn address(&self) -> Option<String> {
        Some(bind_address(self.listen.as_deref()?))
    }
}

/// `PORT` and `:PORT` are on loopback; anything else is HOST:PORT as given.
pub fn bind_address(listen: &str) -> String {
    let a = listen.trim();
    let port = a.strip_prefix(':').unwrap_or(a);
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        format!("127.0.0.1:{port}")
    } else {
        a.to_string()
    }
}

impl AuthArgs {
    /// The token, read from the environment variable named; an unset or empty one is an
    /// error, never an open server.
    pub fn token(&self) -> Result<Option<String>, String> {
        let Some(name) = &self.auth_token_env else {
            return Ok(None);
        };
        match std::env::var(name) {
            Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_string())),
            Ok(_) => Err(format!("--auth-token-env {name}: the environment variable {name} is empty; put the token in it")),
            Err(_) => Err(format!("--auth-token-env {name}: the environment variable {name} is not set; put the token in it")),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct RunnerArgs {
    /// Jobs running at once, in all
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_concurrent_jobs: usize,
    /// Jobs running at once against one service (EC2, RDS)
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_jobs_per_service: usize,
    /// How often to check whether a snapshot is complete (e.g. 15s)
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_wait)]
    pub poll_interval: Duration,
    /// Flag a backup whose source shrank by more than this fraction since the previous point (0.5: to less than half), or became empty
    #[arg(long, value_name = "FRACTION", default_value_t = 0.5)]
    pub suspicious_shrink: f64,
    /// How long to wait for another coffer that is running jobs (e.g. 30s, 5m)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_wait)]
    pub lock_timeout: Duration,
    /// Delete even when a tick would delete more than 10 points and more than 20% of a
    /// vault's points (the mass-deletion breaker: a clock that jumped, a policy typo)
    #[arg(long)]
    pub allow_mass_deletion: bool,
    /// Copies running at once into one destination region per service (at most AWS's 20)
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=20))]
    pub max_concurrent_copies: u16,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Start an on-demand backup of one resource and wait for it
    Start {
        /// The resource's ARN (as `coffer inventory` lists it)
        #[arg(long, value_name = "ARN")]
        resource: String,
        /// The vault to record the recovery point in
        #[arg(long, value_name = "NAME")]
        vault: String,
        /// Delete the recovery point after this long (e.g. 7d, 6mo); default: keep it
        #[arg(long, value_name = "DURATION")]
        delete_after: Option<String>,
        /// Print the job as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        runner: RunnerArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CopyCommand {
    /// Copy a recovery point into a vault (another region, account or repository) and wait
    Start {
        /// The recovery point's id (as `coffer recovery-points list` shows it)
        #[arg(long, value_name = "ID")]
        recovery_point: String,
        /// The vault to copy it into
        #[arg(long, value_name = "NAME")]
        vault: String,
        /// Delete the copy this long after the source was created (e.g. 30d, 1y); default:
        /// when the source is deleted by its lifecycle
        #[arg(long, value_name = "DURATION")]
        delete_after: Option<String>,
        /// Print the job as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        runner: RunnerArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Check the integrity of a vault's repository; exit 1 if it is damaged
    Check {
        /// The vault's name
        name: String,
        /// Also read back and verify this much stored data: all, a percentage (10%), n/m (1/5) or a size (1G)
        #[arg(long, value_name = "P")]
        read_data_subset: Option<String>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Prune a vault's repository now if its unused data exceeds the vault's
    /// `prune { max_unused }` (5% unless set), as a `prune` job
    Prune {
        /// The vault's name
        name: String,
        /// Print the job as JSON
        #[arg(long)]
        json: bool,
        /// How long to wait for another coffer that is running jobs (e.g. 30s, 5m)
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_wait)]
        lock_timeout: Duration,
        #[command(flatten)]
        vars: VarArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RestoreCommand {
    /// Restore a recovery point into a new resource, or a file-level one (or one path inside
    /// it) into a directory, verifying what was written
    Start {
        /// The recovery point's ID (as `coffer recovery-points list` shows it)
        #[arg(long, value_name = "ID")]
        recovery_point: String,
        /// File-level points: the directory to restore into (created if missing)
        #[arg(long, value_name = "DIR")]
        target: Option<PathBuf>,
        /// AWS points: restore metadata to change, by AWS Backup's names (repeatable), e.g.
        /// --set volumeType=gp3 --set availabilityZone=us-east-1b
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// AWS points: print the restore metadata that would be used, and create nothing
        #[arg(long)]
        dry_run: bool,
        /// AWS points: record the restore job and return; the next `coffer run` carries it out
        #[arg(long)]
        no_wait: bool,
        /// AWS points: tag the restored resource with the source's tags too
        #[arg(long)]
        copy_source_tags: bool,
        /// Only this file or directory, relative to the backed-up directory
        #[arg(long, value_name = "SUBPATH")]
        path: Option<String>,
        /// Restore into a directory that already holds files, replacing what differs
        #[arg(long)]
        overwrite: bool,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest run first
    List {
        /// Only jobs in this state (CREATED, PENDING, RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, PARTIAL)
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only jobs whose run was scheduled at or after this time (RFC 3339)
        #[arg(long, value_name = "RFC3339")]
        since: Option<String>,
        /// Only jobs of this kind (backup, restore, delete, cold, prune, copy)
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one job with every state it went through
    Show {
        /// The job ID
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RestoreTestCommand {
    /// Run a restore test now: restore, validate and clean up, and wait; exit 1 unless every
    /// validation is SUCCESSFUL
    Start {
        /// The restore_test block's name
        name: String,
        /// Print the restore jobs as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Each restore test's last runs, with validation results and restore times
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// Runs shown per test
        #[arg(long, value_name = "N", default_value_t = 5)]
        runs: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecoveryPointsCommand {
    /// List recovery points, newest first
    List {
        /// Only points in this vault
        #[arg(long, value_name = "NAME")]
        vault: Option<String>,
        /// Only points of this resource
        #[arg(long, value_name = "ARN")]
        resource: Option<String>,
        /// Only points with this status: COMPLETED, DELETED or EXPIRED
        #[arg(long, value_name = "STATUS", value_parser = parse_point_status)]
        status: Option<crate::jobs::PointStatus>,
        /// Only the points this applied legal hold holds
        #[arg(long, value_name = "NAME")]
        hold: Option<String>,
        /// Say what keeps each point (keep clauses, delete_after, keep_at_least, a vault lock,
        /// legal holds): `kept_by` in JSON
        #[arg(long)]
        why: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Delete one recovery point through its type's deletion (a `delete` job)
    Delete {
        /// The recovery point's ID (rp-…)
        id: String,
        /// Delete without asking (needed when there is no terminal)
        #[arg(long)]
        yes: bool,
        /// Print the job as JSON
        #[arg(long)]
        json: bool,
        /// How long to wait for another coffer that is running jobs (e.g. 30s, 5m)
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_wait)]
        lock_timeout: Duration,
        #[command(flatten)]
        vars: VarArgs,
    },
}

fn parse_point_status(s: &str) -> Result<crate::jobs::PointStatus, String> {
    crate::jobs::PointStatus::parse(s).ok_or_else(|| {
        format!("`{s}` is not a recovery point status: use COMPLETED, DELETED or EXPIRED")
    })
}

#[derive(Debug, Subcommand)]
pub enum WorkersCommand {
    /// Every worker seen: name, host, version, when it started, its last heartbeat, and how
    /// many jobs it holds
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// The window and format every report takes.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// The window's start, RFC 3339 (default: 24 hours before --until)
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// The window's end, RFC 3339 (default: now)
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// text (a table for people), json, csv or markdown
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: ReportFormat,
    /// Write the report to FILE (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Backup jobs (schema/report-jobs.schema.json)
    Jobs(ReportArgs),
    /// Copy jobs (schema/report-jobs.schema.json)
    Copies(ReportArgs),
    /// Restore jobs, with what they created and a restore test's validation
    /// (schema/report-jobs.schema.json)
    Restores(ReportArgs),
    /// Every resource under every applied framework's controls, compliant or not and why
    /// (schema/report-resources.schema.json); exits 4 when any is non-compliant
    Resources(ComplianceArgs),
    /// Every applied framework's controls, compliant or not, with counts of resources
    /// (schema/report-controls.schema.json); exits 4 when any control is non-compliant
    Controls(ComplianceArgs),
}

/// What compliance reports take: controls are evaluated at one instant, `--until` (default
/// now), over the resources discovered now (or, with `--refresh=false`, those recorded at the
/// last apply).
#[derive(Debug, Args, Clone)]
pub struct ComplianceArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub refresh: RefreshArgs,
    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the address of every object in state
    List,
    /// Show one object in state
    Show {
        /// e.g. vault.default or plan.monthly.rule.first-saturday
        address: String,
    },
    /// List the stored versions of the state, newest first (the postgres backend keeps every
    /// version; the local one its current state and one backup)
    History {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// Parses `10s`, `5m`, `1h`, `250ms` or a plain number of seconds.
pub fn parse_wait(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (examples: 30s, 5m, 1h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{s}` (use ms, s, m or h)"
            ))
        }
    };
    if !secs.is_finite() || !(0.0..=86_400.0 * 7.0).contains(&secs) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Terraform users type `-var`, `-var-file`, `-auto-approve` …: accept the single-dash
/// spelling of coffer's long options by rewriting it before parsing.
pub fn normalize_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    const LONG: &[&str] = &[
        "var",
        "var-file",
        "auto-approve",
        "detailed-exitcode",
        "out",
        "json",
        "no-color",
        "lock-timeout",
        "destroy",
        "check",
        "diff",
        "chdir",
        "format",
        "migrate-state",
    ];
    let mut out = Vec::new();
    let mut after_separator = false;
    for a in args {
        if after_separator {
            out.push(a);
            continue;
        }
        if a == "--" {
            after_separator = true;
            out.push(a);
            continue;
        }
        let rewritten = a.to_str().and_then(|s| {
            let rest = s.strip_prefix('-')?;
            if rest.starts_with('-') {
                return None;
            }
            let name = rest.split('=').next()?;
            LONG.contains(&name).then(|| format!("--{rest}"))
        });
        out.push(rewritten.map_or(a, Into::into));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits() {
        assert_eq!(parse_wait("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_wait("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_wait("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_wait("3").unwrap(), Duration::from_secs(3));
        assert!(parse_wait("5 parsecs").is_err());
        assert!(parse_wait("-1s").is_err());
    }

    #[test]
    fn single_dash_long_options() {
        let v = normalize_args(
            [
                "coffer",
                "plan",
                "-var",
                "a=b",
                "-var-file=x",
                "-C",
                "d",
                "-detailed-exitcode",
                "--",
                "-var",
            ]
            .map(Into::into),
        );
        let v: Vec<String> = v.into_iter().map(|s| s.into_string().unwrap()).collect();
        assert_eq!(
            v,
            [
                "coffer",
                "plan",
                "--var",
                "a=b",
                "--var-file=x",
                "-C",
                "d",
                "--detailed-exitcode",
                "--",
                "-var"
            ]
        );
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
