//! The catalog's schema: migrations in order, recorded in `PRAGMA user_version`, and the
//! refusal of a catalog that a newer coffer wrote.

use super::*;

/// Migrations, applied in order; `PRAGMA user_version` records how many ran.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: recovery points
    "CREATE TABLE recovery_points (
        id            TEXT PRIMARY KEY,
        vault         TEXT NOT NULL,
        native_id     TEXT NOT NULL,
        resource_arn  TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'COMPLETED'
    );
    CREATE INDEX recovery_points_by_vault ON recovery_points (vault);",
    // 2: jobs with the time of every state, one job per (kind, rule, run, resource)
    "CREATE TABLE jobs (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        plan          TEXT,
        rule          TEXT,
        resource_arn  TEXT NOT NULL,
        vault         TEXT NOT NULL,
        scheduled_at  TEXT NOT NULL,
        start_by      TEXT NOT NULL,
        complete_by   TEXT NOT NULL,
        state         TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        error         TEXT,
        bytes         INTEGER,
        native_ids    TEXT NOT NULL DEFAULT '[]',
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        UNIQUE (kind, rule, scheduled_at, resource_arn)
    );
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_resource ON jobs (resource_arn);
    CREATE TABLE job_transitions (
        job_id  TEXT NOT NULL REFERENCES jobs (id),
        seq     INTEGER NOT NULL,
        state   TEXT NOT NULL,
        at      TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
    );",
    // 3: full recovery point records (source metadata, lifecycle, tags), job options and
    // results, and the scheduler's cursor
    "ALTER TABLE recovery_points ADD COLUMN resource TEXT NOT NULL DEFAULT 'null';
    ALTER TABLE recovery_points ADD COLUMN plan TEXT;
    ALTER TABLE recovery_points ADD COLUMN rule TEXT;
    ALTER TABLE recovery_points ADD COLUMN job_id TEXT;
    ALTER TABLE recovery_points ADD COLUMN completed_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN size_bytes INTEGER;
    ALTER TABLE recovery_points ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE recovery_points ADD COLUMN kms_key TEXT;
    ALTER TABLE recovery_points ADD COLUMN cold_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN delete_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
    CREATE UNIQUE INDEX recovery_points_by_job ON recovery_points (job_id) WHERE job_id IS NOT NULL;
    CREATE INDEX recovery_points_by_resource ON recovery_points (resource_arn);
    ALTER TABLE jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE jobs ADD COLUMN recovery_point_id TEXT;
    CREATE TABLE scheduler (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );",
    // 4: a warning on a job that did not fail but looks wrong (a source that shrank)
    "ALTER TABLE jobs ADD COLUMN warning TEXT;",
    // 5: lifecycle dates count from a point's creation (they counted from its completion;
    // `lifecycle_from_creation` moves the recorded ones), and points due to go cold or be
    // deleted are found by index
    "CREATE INDEX recovery_points_due_delete ON recovery_points (status, delete_at) WHERE delete_at IS NOT NULL;
    CREATE INDEX recovery_points_due_cold ON recovery_points (status, cold_at) WHERE cold_at IS NOT NULL;",
    // 6: where a point's data is, and when and by what it was deleted
    "ALTER TABLE recovery_points ADD COLUMN storage_class TEXT NOT NULL DEFAULT 'WARM';
    ALTER TABLE recovery_points ADD COLUMN deleted_at TEXT;
    ALTER TABLE recovery_points ADD COLUMN deleted_by TEXT;",
    // 7: lifecycle jobs. The jobs table is rebuilt without its one-job-per-run constraint,
    // which now holds for backups and restores only (an index); a delete or cold job is
    // unique per point while unfinished, a prune per vault and day. Points record why they
    // are EXPIRED and when a failed deletion is tried again; deletions an apply approved
    // (`--allow-deletions`) are remembered for the mass-deletion breaker.
    "CREATE TABLE jobs_v7 (
        id                TEXT PRIMARY KEY,
        kind              TEXT NOT NULL,
        plan              TEXT,
        rule              TEXT,
        resource_arn      TEXT NOT NULL,
        vault             TEXT NOT NULL,
        scheduled_at      TEXT NOT NULL,
        start_by          TEXT NOT NULL,
        complete_by       TEXT NOT NULL,
        state             TEXT NOT NULL,
        attempts          INTEGER NOT NULL DEFAULT 0,
        error             TEXT,
        bytes             INTEGER,
        native_ids        TEXT NOT NULL DEFAULT '[]',
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        options           TEXT NOT NULL DEFAULT '{}',
        recovery_point_id TEXT,
        warning           TEXT
    );
    INSERT INTO jobs_v7 (id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, state, attempts, error, bytes, native_ids, created_at, updated_at, options, recovery_point_id, warning)
        SELECT id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, state, attempts, error, bytes, native_ids, created_at, updated_at, options, recovery_point_id, warning FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_v7 RENAME TO jobs;
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_resource ON jobs (resource_arn);
    CREATE INDEX jobs_by_point ON jobs (recovery_point_id) WHERE recovery_point_id IS NOT NULL;
    CREATE UNIQUE INDEX jobs_once_per_run ON jobs (kind, rule, scheduled_at, resource_arn)
        WHERE kind IN ('backup', 'restore');
    CREATE UNIQUE INDEX jobs_lifecycle_once ON jobs (kind, recovery_point_id)
        WHERE kind IN ('delete', 'cold')
          AND state NOT IN ('ABORTED', 'COMPLETED', 'FAILED', 'EXPIRED', 'PARTIAL');
    CREATE UNIQUE INDEX jobs_prune_once ON jobs (vault, scheduled_at) WHERE kind = 'prune';
    ALTER TABLE recovery_points ADD COLUMN status_message TEXT;
    ALTER TABLE recovery_points ADD COLUMN retry_at TEXT;
    CREATE INDEX recovery_points_retry ON recovery_points (status, retry_at) WHERE retry_at IS NOT NULL;
    CREATE INDEX recovery_points_by_vault_status ON recovery_points (vault, status);
    -- Only EBS snapshots of rules with opt_in_to_archive go cold, and no earlier coffer could
    -- opt in: the cold dates recorded so far were never going to be acted on.
    UPDATE recovery_points SET cold_at = NULL;
    CREATE TABLE approved_deletions (
        point_id     TEXT PRIMARY KEY,
        approved_at  TEXT NOT NULL
    );",
    // 8: copies. A copy job names the point it copies; a copy names the point it is a copy
    // of. A rule's copy of a point into a vault is made once.
    "ALTER TABLE recovery_points ADD COLUMN source_recovery_point_id TEXT;
    CREATE INDEX recovery_points_by_source ON recovery_points (source_recovery_point_id)
        WHERE source_recovery_point_id IS NOT NULL;
    ALTER TABLE jobs ADD COLUMN source_recovery_point_id TEXT;
    CREATE UNIQUE INDEX jobs_copy_once ON jobs (source_recovery_point_id, vault)
        WHERE kind = 'copy' AND rule IS NOT NULL;",
    // 9: what a restore created
    "ALTER TABLE jobs ADD COLUMN created_resource_arn TEXT;",
    // 10: restore tests: a restore's validation and the deletion of what it restored
    "ALTER TABLE jobs ADD COLUMN validation_status TEXT;
    ALTER TABLE jobs ADD COLUMN validation_message TEXT;
    ALTER TABLE jobs ADD COLUMN deletion_status TEXT;",
    // 11: what each `coffer vault check` found, for the dashboard's last check of a vault
    "CREATE TABLE vault_checks (
        vault             TEXT NOT NULL,
        checked_at        TEXT NOT NULL,
        location          TEXT NOT NULL,
        snapshots         INTEGER NOT NULL,
        read_data_subset  TEXT,
        missing           INTEGER NOT NULL,
        errors            INTEGER NOT NULL,
        warnings          INTEGER NOT NULL,
        first_error       TEXT,
        PRIMARY KEY (vault, checked_at)
    );",
    // 12: each control's last status, so CONTROL_NON_COMPLIANT is sent once per change
    "CREATE TABLE control_statuses (
        framework  TEXT NOT NULL,
        control    TEXT NOT NULL,
        compliant  INTEGER NOT NULL,
        since      TEXT NOT NULL,
        PRIMARY KEY (framework, control)
    );",
];

/// A point's id, creation, completion, cold and delete times, as text.
type DatedPoint = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Migration 5's data step: each recorded `cold_at` and `delete_at` moves back by the time
/// its point took to complete, so that it counts from creation.
fn lifecycle_from_creation(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<DatedPoint> = tx
        .prepare(
            "SELECT id, created_at, completed_at, cold_at, delete_at FROM recovery_points
             WHERE completed_at IS NOT NULL AND (cold_at IS NOT NULL OR delete_at IS NOT NULL)",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, created, completed, cold, delete) in rows {
        let (created, Some(completed)) = (parse_ts(&created)?, opt_ts(completed)?) else {
            continue;
        };
        let took = completed - created;
        let moved = |t: Option<String>| -> rusqlite::Result<Option<String>> {
            Ok(opt_ts(t)?.map(|t| ts(t.checked_sub_signed(took).unwrap_or(t))))
        };
        tx.execute(
            "UPDATE recovery_points SET cold_at = ?2, delete_at = ?3 WHERE id = ?1",
            rusqlite::params![id, moved(cold)?, moved(delete)?],
        )?;
    }
    Ok(())
}

/// Steps of a migration that SQL alone cannot do, run after its SQL in the same transaction.
fn data_step(version: usize, tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    match version {
        5 => lifecycle_from_creation(tx),
        _ => Ok(()),
    }
}

/// Refuses a catalog whose schema is newer than this coffer knows: migrating it back is not
/// possible, and reading it could misread what a newer coffer recorded.
pub(super) fn newer_check(path: &Path, version: i64) -> Result<(), CatalogError> {
    if version > MIGRATIONS.len() as i64 {
        return Err(SqliteCatalog::err(
            path,
            format!(
                "written by a newer coffer: catalog version {version}, this coffer knows {}; upgrade coffer to use this catalog",
                MIGRATIONS.len()
            ),
        ));
    }
    Ok(())
}

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), CatalogError> {
    let e = |e: rusqlite::Error| SqliteCatalog::err(path, e);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(e)?;
    newer_check(path, version)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(e)?;
        tx.execute_batch(sql).map_err(e)?;
        data_step(i + 1, &tx).map_err(e)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(e)?;
        tx.commit().map_err(e)?;
    }
    Ok(())
}
