//! The PostgreSQL catalog's tables: the SQLite catalog's schema (jobs, their transitions,
//! recovery points, the scheduler cursor, approved deletions, vault checks, control statuses) in
//! PostgreSQL's types: `timestamptz` times, `jsonb` documents, `bigint` sizes. Migrations
//! are counted separately from SQLite's (component `catalog` in `schema_migrations`).

pub(super) const COMPONENT: &str = "catalog";

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite catalog has after its tenth migration
    "CREATE TABLE recovery_points (
        id                       text PRIMARY KEY,
        status                   text NOT NULL DEFAULT 'COMPLETED',
        vault                    text NOT NULL,
        native_id                text NOT NULL,
        resource_arn             text NOT NULL,
        resource_type            text NOT NULL,
        resource                 jsonb NOT NULL DEFAULT 'null',
        plan                     text,
        rule                     text,
        job_id                   text,
        created_at               timestamptz NOT NULL,
        completed_at             timestamptz,
        size_bytes               bigint,
        encrypted                boolean NOT NULL DEFAULT false,
        kms_key                  text,
        cold_at                  timestamptz,
        delete_at                timestamptz,
        tags                     jsonb NOT NULL DEFAULT '{}',
        storage_class            text NOT NULL DEFAULT 'WARM',
        deleted_at               timestamptz,
        deleted_by               text,
        status_message           text,
        retry_at                 timestamptz,
        source_recovery_point_id text
    );
    CREATE UNIQUE INDEX recovery_points_by_job ON recovery_points (job_id) WHERE job_id IS NOT NULL;
    CREATE INDEX recovery_points_by_resource ON recovery_points (resource_arn);
    CREATE INDEX recovery_points_by_vault_status ON recovery_points (vault, status);
    CREATE INDEX recovery_points_due_delete ON recovery_points (status, delete_at) WHERE delete_at IS NOT NULL;
    CREATE INDEX recovery_points_due_cold ON recovery_points (status, cold_at) WHERE cold_at IS NOT NULL;
    CREATE INDEX recovery_points_retry ON recovery_points (status, retry_at) WHERE retry_at IS NOT NULL;
    CREATE INDEX recovery_points_by_source ON recovery_points (source_recovery_point_id)
        WHERE source_recovery_point_id IS NOT NULL;
    CREATE TABLE jobs (
        id                       text PRIMARY KEY,
        kind                     text NOT NULL,
        plan                     text,
        rule                     text,
        resource_arn             text NOT NULL,
        vault                    text NOT NULL,
        scheduled_at             timestamptz NOT NULL,
        start_by                 timestamptz NOT NULL,
        complete_by              timestamptz NOT NULL,
        state                    text NOT NULL,
        attempts                 integer NOT NULL DEFAULT 0,
        error                    text,
        bytes                    bigint,
        native_ids               jsonb NOT NULL DEFAULT '[]',
        created_at               timestamptz NOT NULL,
        updated_at               timestamptz NOT NULL,
        options                  jsonb NOT NULL DEFAULT '{}',
        recovery_point_id        text,
        warning                  text,
        source_recovery_point_id text,
        created_resource_arn     text,
        validation_status        text,
        validation_message       text,
        deletion_status          text
    );
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_resource ON jobs (resource_arn);
    CREATE INDEX jobs_by_point ON jobs (recovery_point_id) WHERE recovery_point_id IS NOT NULL;
    CREATE INDEX jobs_by_run ON jobs (scheduled_at DESC);
    CREATE UNIQUE INDEX jobs_once_per_run ON jobs (kind, rule, scheduled_at, resource_arn)
        WHERE kind IN ('backup', 'restore');
    CREATE UNIQUE INDEX jobs_lifecycle_once ON jobs (kind, recovery_point_id)
        WHERE kind IN ('delete', 'cold')
          AND state NOT IN ('ABORTED', 'COMPLETED', 'FAILED', 'EXPIRED', 'PARTIAL');
    CREATE UNIQUE INDEX jobs_prune_once ON jobs (vault, scheduled_at) WHERE kind = 'prune';
    CREATE UNIQUE INDEX jobs_copy_once ON jobs (source_recovery_point_id, vault)
        WHERE kind = 'copy' AND rule IS NOT NULL;
    CREATE TABLE job_transitions (
        job_id  text NOT NULL REFERENCES jobs (id),
        seq     integer NOT NULL,
        state   text NOT NULL,
        at      timestamptz NOT NULL,
        PRIMARY KEY (job_id, seq)
    );
    CREATE TABLE scheduler (
        key    text PRIMARY KEY,
        value  timestamptz NOT NULL
    );
    CREATE TABLE approved_deletions (
        point_id     text PRIMARY KEY,
        approved_at  timestamptz NOT NULL
    );",
    // 2: workers' claims on jobs (issue 15): who holds a job, the claim's token that every
    // change to the job checks, and until when the claim lives unless renewed
    "ALTER TABLE jobs ADD COLUMN claimed_by text;
    ALTER TABLE jobs ADD COLUMN claim_token text;
    ALTER TABLE jobs ADD COLUMN lease_expires_at timestamptz;",
    // 3: the workers seen, with their heartbeat (`coffer workers list`)
    "CREATE TABLE workers (
        name          text PRIMARY KEY,
        host          text NOT NULL,
        pid           integer NOT NULL,
        version       text NOT NULL,
        started_at    timestamptz NOT NULL,
        heartbeat_at  timestamptz NOT NULL
    );
    CREATE INDEX jobs_by_claim ON jobs (claimed_by) WHERE claimed_by IS NOT NULL;",
    // 4: what a claimed job counts against, so that limits hold across workers: its service
    // (jobs per service) and, for a copy, its destination region's copy slots
    "ALTER TABLE jobs ADD COLUMN claim_service text;
    ALTER TABLE jobs ADD COLUMN claim_copy_slot text;
    CREATE INDEX jobs_by_live_claim ON jobs (lease_expires_at) WHERE claim_token IS NOT NULL;",
    // 5: what each `coffer vault check` found (SQLite's migration 11)
    "CREATE TABLE vault_checks (
        vault             text NOT NULL,
        checked_at        timestamptz NOT NULL,
        location          text NOT NULL,
        snapshots         bigint NOT NULL,
        read_data_subset  text,
        missing           boolean NOT NULL,
        errors            bigint NOT NULL,
        warnings          bigint NOT NULL,
        first_error       text,
        PRIMARY KEY (vault, checked_at)
    );",
    // 6: each control's last status (SQLite's migration 12)
    "CREATE TABLE control_statuses (
        framework  text NOT NULL,
        control    text NOT NULL,
        compliant  boolean NOT NULL,
        since      timestamptz NOT NULL,
        PRIMARY KEY (framework, control)
    );",
];
