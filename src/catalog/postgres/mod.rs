//! The PostgreSQL catalog: every operation of [`Catalog`] with the meaning the SQLite catalog
//! gives it, for a team sharing one database. Writes that must not race (creating a job,
//! moving one, recording a point once per job) lock the rows they decide on (`FOR UPDATE`)
//! inside one transaction; unique indexes make racing creators agree. Text is ordered by
//! byte (`COLLATE "C"`) as SQLite orders it; times are kept to the microsecond.

mod rows;
mod schema;

use super::columns::{JOB_COLUMNS, LIVE_POINT_COLUMNS, POINT_COLUMNS};
use super::{
    Catalog, CatalogError, ClaimLimits, ClaimRequest, Claimed, JobFilter, JobRecord, JobUpdate,
    NewJob, NewRecoveryPoint, PointChange, PointFilter, RecoveryPoint, VaultCheck, VaultPoints,
};
use crate::jobs::live::LivePoints;
use crate::jobs::{DeletedBy, History, JobKind, JobState, PointStatus, StorageClass};
use crate::pg::{PgConnection, PgFail, PgTarget};
use chrono::{DateTime, Utc};
use postgres::types::Json;
use rows::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The PostgreSQL catalog.
pub struct PgCatalog {
    conn: PgConnection,
    /// The claims this catalog's worker holds: job id → claim token.
    claims: std::sync::Arc<std::sync::Mutex<BTreeMap<String, String>>>,
    /// The worker that claims through this catalog, whose heartbeat renewing claims records.
    worker: std::sync::Mutex<Option<String>>,
}

impl PgCatalog {
    /// Connects to `target` and brings the catalog's tables up to date.
    pub fn open(target: &PgTarget) -> Result<PgCatalog, CatalogError> {
        let conn = PgConnection::open(target).map_err(|message| CatalogError {
            path: PathBuf::from("postgres"),
            message,
        })?;
        let catalog = PgCatalog::over(conn);
        catalog.migrate()?;
        Ok(catalog)
    }

    /// The catalog on an open connection whose tables [`PgCatalog::migrate`] brought up to
    /// date (a backend migrates once and opens its catalogs over its one connection).
    pub fn over(conn: PgConnection) -> PgCatalog {
        PgCatalog {
            conn,
            claims: Default::default(),
            worker: Default::default(),
        }
    }

    /// Brings the catalog's tables up to date.
    pub fn migrate(&self) -> Result<(), CatalogError> {
        self.conn
            .migrate(schema::COMPONENT, schema::MIGRATIONS)
            .map_err(|m| self.err(m))
    }

    fn err(&self, message: String) -> CatalogError {
        CatalogError {
            path: PathBuf::from(&self.conn.place),
            message,
        }
    }

    /// The token of this catalog's claim on job `id`, if it holds one.
    fn token(&self, id: &str) -> Option<String> {
        self.claims.lock().ok()?.get(id).cloned()
    }

    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<R, PgFail> + Send + 'static,
    ) -> Result<R, CatalogError> {
        self.conn.call(f).map_err(|m| CatalogError {
            path: PathBuf::from("postgres"),
            message: m,
        })
    }
}

/// Whether a delete, cold or copy job may be created for its point now, as
/// `SqliteCatalog`'s rule says; the point's row is locked until the transaction ends.
fn point_allows(
    tx: &mut postgres::Transaction<'_>,
    job: &NewJob,
    at: DateTime<Utc>,
) -> Result<bool, PgFail> {
    if let (JobKind::Copy, Some(source)) = (job.kind, &job.source_recovery_point_id) {
        let row = tx.query_opt(
            "SELECT status, storage_class FROM recovery_points WHERE id = $1 FOR UPDATE",
            &[source],
        )?;
        return Ok(row.is_some_and(|r| {
            r.get::<_, &str>(0) == PointStatus::Completed.as_str()
                && r.get::<_, &str>(1) == StorageClass::Warm.as_str()
        }));
    }
    let (JobKind::Delete | JobKind::Cold, Some(point)) = (job.kind, &job.recovery_point_id) else {
        return Ok(true);
    };
    let Some(row) = tx.query_opt(
        "SELECT status, storage_class, retry_at FROM recovery_points WHERE id = $1 FOR UPDATE",
        &[point],
    )?
    else {
        return Ok(false);
    };
    let (status, class, retry_at): (String, String, Option<DateTime<Utc>>) =
        (row.get(0), row.get(1), row.get(2));
    let manual = job.options.deleted_by == Some(DeletedBy::Manual);
    Ok(match (job.kind, status.as_str()) {
        (JobKind::Delete, "COMPLETED") => true,
        (JobKind::Delete, "EXPIRED") => manual || retry_at.is_some_and(|r| r <= at),
        (JobKind::Cold, "COMPLETED") => class == StorageClass::Warm.as_str(),
        _ => false,
    })
}

fn points(rows: Vec<postgres::Row>) -> Result<Vec<RecoveryPoint>, PgFail> {
    rows.iter().map(point_row).collect()
}

impl Catalog for PgCatalog {
    fn vault_points(&self) -> Result<BTreeMap<String, VaultPoints>, CatalogError> {
        self.call(|c| {
            let rows = c.query(
                "SELECT vault, COUNT(*), MAX(COALESCE(completed_at, created_at)) FROM recovery_points
                 WHERE status != 'DELETED' GROUP BY vault",
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| {
                    let n: i64 = r.get(1);
                    (
                        r.get::<_, String>(0),
                        VaultPoints {
                            count: n.max(0) as u64,
                            newest: r.get(2),
                        },
                    )
                })
                .collect())
        })
    }

    fn vault_live_count(&self, vault: &str) -> Result<u64, CatalogError> {
        let vault = vault.to_string();
        self.call(move |c| {
            let n: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM recovery_points WHERE vault = $1 AND status IN ('COMPLETED', 'EXPIRED')",
                    &[&vault],
                )?
                .get(0);
            Ok(n.max(0) as u64)
        })
    }

    fn forget_vault_points(
        &mut self,
        vault: &str,
        at: DateTime<Utc>,
        by: DeletedBy,
    ) -> Result<u64, CatalogError> {
        let vault = vault.to_string();
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE recovery_points SET status = 'DELETED', deleted_at = $2, deleted_by = $3
                 WHERE vault = $1 AND status != 'DELETED'",
                &[&vault, &at, &by.as_str()],
            )?)
        })
    }

    fn add_recovery_point(&mut self, p: &NewRecoveryPoint) -> Result<String, CatalogError> {
        let p = p.clone();
        self.call(move |c| {
            let id = format!("rp-{}", uuid::Uuid::new_v4().simple());
            let inserted = c.query_opt(
                &format!(
                    "INSERT INTO recovery_points ({POINT_COLUMNS}) VALUES ($1, 'COMPLETED', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'WARM', NULL, NULL, NULL, $18)
                     ON CONFLICT (job_id) WHERE job_id IS NOT NULL DO NOTHING RETURNING id"
                ),
                &[
                    &id,
                    &p.vault,
                    &p.native_id,
                    &p.resource_arn,
                    &p.resource_type,
                    &Json(&p.resource),
                    &p.plan,
                    &p.rule,
                    &p.job_id,
                    &p.created_at,
                    &p.completed_at,
                    &p.size_bytes.map(|b| b as i64),
                    &p.encrypted,
                    &p.kms_key,
                    &p.cold_at,
                    &p.delete_at,
                    &Json(&p.tags),
                    &p.source_recovery_point_id,
                ],
            )?;
            if inserted.is_some() {
                return Ok(id);
            }
            // the job already has its point: that one is the answer
            Ok(c.query_one(
                "SELECT id FROM recovery_points WHERE job_id = $1",
                &[&p.job_id],
            )?
            .get(0))
        })
    }

    fn recovery_point(&self, id: &str) -> Result<Option<RecoveryPoint>, CatalogError> {
        let id = id.to_string();
        self.call(move |c| {
            c.query_opt(
                &format!("SELECT {POINT_COLUMNS} FROM recovery_points WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(point_row)
            .transpose()
        })
    }

    fn due_points(&self, now: DateTime<Utc>) -> Result<Vec<RecoveryPoint>, CatalogError> {
        self.call(move |c| {
            // one index range scan per date; a point due by both comes once, at its earlier
            points(c.query(
                &format!(
                    "SELECT {POINT_COLUMNS} FROM (
                        SELECT DISTINCT ON (id) * FROM (
                            SELECT *, delete_at AS due FROM recovery_points
                             WHERE status = 'COMPLETED' AND delete_at IS NOT NULL AND delete_at <= $1
                            UNION ALL
                            SELECT *, cold_at AS due FROM recovery_points
                             WHERE status = 'COMPLETED' AND cold_at IS NOT NULL AND cold_at <= $1
                               AND storage_class = 'WARM'
                        ) d ORDER BY id, due
                     ) p ORDER BY due, id COLLATE \"C\""
                ),
                &[&now],
            )?)
        })
    }

    fn retry_due(&self, now: DateTime<Utc>) -> Result<Vec<RecoveryPoint>, CatalogError> {
        self.call(move |c| {
            points(c.query(
                &format!(
                    "SELECT {POINT_COLUMNS} FROM recovery_points
                     WHERE status = 'EXPIRED' AND retry_at IS NOT NULL AND retry_at <= $1
                     ORDER BY retry_at, id COLLATE \"C\""
                ),
                &[&now],
            )?)
        })
    }

    fn recovery_points(&self, filter: &PointFilter) -> Result<Vec<RecoveryPoint>, CatalogError> {
        let f = filter.clone();
        self.call(move |c| {
            points(c.query(
                &format!(
                    "SELECT {POINT_COLUMNS} FROM recovery_points
                     WHERE ($1::text IS NULL OR vault = $1) AND ($2::text IS NULL OR resource_arn = $2)
                       AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR rule = $4)
                     ORDER BY created_at DESC, resource_arn COLLATE \"C\", id COLLATE \"C\""
                ),
                &[
                    &f.vault,
                    &f.resource_arn,
                    &f.status.map(PointStatus::as_str),
                    &f.rule,
                ],
            )?)
        })
    }

    fn live_points(&self, filter: &PointFilter, into: &mut LivePoints) -> Result<(), CatalogError> {
        let f = filter.clone();
        let rows = self.call(move |c| {
            Ok(c.query(
                &format!(
                    "SELECT {LIVE_POINT_COLUMNS} FROM recovery_points
                     WHERE status = 'COMPLETED' AND ($1::text IS NULL OR vault = $1)
                       AND ($2::text IS NULL OR resource_arn = $2) AND ($3::text IS NULL OR rule = $3)"
                ),
                &[&f.vault, &f.resource_arn, &f.rule],
            )?)
        })?;
        for r in &rows {
            live_point_row(r, into).map_err(|e| self.err(e.0))?;
        }
        Ok(())
    }

    fn change_point(&mut self, id: &str, change: &PointChange) -> Result<(), CatalogError> {
        let (id, change) = (id.to_string(), change.clone());
        let quoted = id.clone();
        let n = self.call(move |c| {
            Ok(match &change {
                PointChange::Deleted { at, by } => c.execute(
                    "UPDATE recovery_points SET status = 'DELETED', deleted_at = $2, deleted_by = $3,
                     retry_at = NULL WHERE id = $1",
                    &[&id, at, &by.as_str()],
                )?,
                PointChange::Expired { reason, retry_at } => c.execute(
                    "UPDATE recovery_points SET status = 'EXPIRED', status_message = $2, retry_at = $3
                     WHERE id = $1 AND status != 'DELETED'",
                    &[&id, reason, retry_at],
                )?,
                PointChange::Cold { native_id } => c.execute(
                    "UPDATE recovery_points SET storage_class = 'COLD', native_id = COALESCE($2, native_id)
                     WHERE id = $1",
                    &[&id, native_id],
                )?,
                PointChange::StaysWarm { reason } => c.execute(
                    "UPDATE recovery_points SET cold_at = NULL, status_message = $2 WHERE id = $1",
                    &[&id, reason],
                )?,
            })
        })?;
        if n == 0 {
            return Err(self.err(format!("no live recovery point {quoted}")));
        }
        Ok(())
    }

    fn approve_deletions(&mut self, ids: &[String], at: DateTime<Utc>) -> Result<(), CatalogError> {
        let ids = ids.to_vec();
        self.call(move |c| {
            c.execute(
                "INSERT INTO approved_deletions (point_id, approved_at)
                 SELECT unnest($1::text[]), $2 ON CONFLICT (point_id) DO NOTHING",
                &[&ids, &at],
            )?;
            Ok(())
        })
    }

    fn approved_deletions(&self) -> Result<BTreeSet<String>, CatalogError> {
        self.call(|c| {
            Ok(c.query(
                "SELECT a.point_id FROM approved_deletions a
                 JOIN recovery_points p ON p.id = a.point_id WHERE p.status != 'DELETED'",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn create_job(
        &mut self,
        job: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, CatalogError> {
        let job = job.clone();
        self.call(move |c| {
            let id = format!("job-{}", uuid::Uuid::new_v4().simple());
            let mut tx = c.transaction()?;
            if !point_allows(&mut tx, &job, at)? {
                return Ok(None);
            }
            let inserted = tx.execute(
                "INSERT INTO jobs (id, kind, plan, rule, resource_arn, vault, scheduled_at, start_by, complete_by, state, options, created_at, updated_at, recovery_point_id, source_recovery_point_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'CREATED', $10, $11, $11, $12, $13)
                 ON CONFLICT DO NOTHING",
                &[
                    &id,
                    &job.kind.as_str(),
                    &job.plan,
                    &job.rule,
                    &job.resource_arn,
                    &job.vault,
                    &job.windows.scheduled_at,
                    &job.windows.start_by,
                    &job.windows.complete_by,
                    &Json(&job.options),
                    &at,
                    &job.recovery_point_id,
                    &job.source_recovery_point_id,
                ],
            )?;
            if inserted == 0 {
                return Ok(None);
            }
            if let (JobKind::Delete, Some(point)) = (job.kind, &job.recovery_point_id) {
                // the retry this job is becomes due again only if it fails
                tx.execute(
                    "UPDATE recovery_points SET retry_at = NULL WHERE id = $1",
                    &[point],
                )?;
            }
            tx.execute(
                "INSERT INTO job_transitions (job_id, seq, state, at) VALUES ($1, 0, 'CREATED', $2)",
                &[&id, &at],
            )?;
            // a hint for idle workers, delivered when the job is committed
            tx.execute(
                "SELECT pg_notify($1, current_schema())",
                &[&crate::pg::JOBS_CHANNEL],
            )?;
            tx.commit()?;
            Ok(Some(JobRecord {
                id,
                job,
                history: History::created(at),
                attempts: 0,
                error: None,
                bytes: None,
                native_ids: Vec::new(),
                warning: None,
                created_resource_arn: None,
                validation_status: None,
                validation_message: None,
                deletion_status: None,
            }))
        })
    }

    fn transition_job(
        &mut self,
        id: &str,
        to: JobState,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<JobRecord, CatalogError> {
        let (id, error) = (id.to_string(), error.map(str::to_string));
        let token = self.token(&id);
        let job = self.call(move |c| {
            let mut tx = c.transaction()?;
            // the job's row is locked first, so two workers cannot both move it
            let Some(mut job) = load_job(&mut tx, &id, true)? else {
                return Err(PgFail(format!("no job {id}")));
            };
            if let Some(token) = &token {
                let held: Option<String> = tx
                    .query_one("SELECT claim_token FROM jobs WHERE id = $1", &[&id])?
                    .get(0);
                if held.as_deref() != Some(token.as_str()) {
                    return Err(PgFail(format!(
                        "job {id} {}: its lease ended and another worker claimed it",
                        super::LOST_CLAIM
                    )));
                }
            }
            job.history
                .advance(to, at)
                .map_err(|t| PgFail(format!("job {id}: {t}")))?;
            let seq = job.history.transitions.len() - 1;
            let at = job.history.transitions[seq].1;
            tx.execute(
                "INSERT INTO job_transitions (job_id, seq, state, at) VALUES ($1, $2, $3, $4)",
                &[&id, &(seq as i32), &to.as_str(), &at],
            )?;
            tx.execute(
                "UPDATE jobs SET state = $2, updated_at = $3, error = COALESCE($4, error) WHERE id = $1",
                &[&id, &to.as_str(), &at, &error],
            )?;
            if to.is_terminal() {
                // the claim ends with the job
                tx.execute(
                    "UPDATE jobs SET claimed_by = NULL, claim_token = NULL, lease_expires_at = NULL WHERE id = $1",
                    &[&id],
                )?;
            }
            tx.commit()?;
            if let Some(msg) = error {
                job.error = Some(msg);
            }
            Ok(job)
        })?;
        if to.is_terminal() {
            if let Ok(mut claims) = self.claims.lock() {
                claims.remove(&job.id);
            }
        }
        Ok(job)
    }

    fn update_job(&mut self, id: &str, u: &JobUpdate) -> Result<(), CatalogError> {
        let (id, u) = (id.to_string(), u.clone());
        let quoted = id.clone();
        let token = self.token(&id);
        let n = self.call(move |c| {
            Ok(c.execute(
                "UPDATE jobs SET native_ids = COALESCE($2, native_ids), bytes = COALESCE($3, bytes),
                 recovery_point_id = COALESCE($4, recovery_point_id), attempts = COALESCE($5, attempts),
                 warning = COALESCE($6, warning), error = COALESCE($7, error),
                 created_resource_arn = COALESCE($8, created_resource_arn),
                 validation_message = CASE WHEN validation_status IS NULL THEN COALESCE($10, validation_message) ELSE validation_message END,
                 validation_status = COALESCE(validation_status, $9),
                 deletion_status = COALESCE($11, deletion_status)
                 WHERE id = $1 AND ($12::text IS NULL OR claim_token = $12)",
                &[
                    &id,
                    &u.native_ids.as_ref().map(Json),
                    &u.bytes.map(|b| b as i64),
                    &u.recovery_point_id,
                    &u.attempts.map(|a| a as i32),
                    &u.warning,
                    &u.error,
                    &u.created_resource_arn,
                    &u.validation_status,
                    &u.validation_message,
                    &u.deletion_status,
                    &token,
                ],
            )?)
        })?;
        if n == 0 {
            return Err(self.err(match self.token(&quoted) {
                Some(_) => format!(
                    "job {quoted} {}: its lease ended and another worker claimed it",
                    super::LOST_CLAIM
                ),
                None => format!("no job {quoted}"),
            }));
        }
        Ok(())
    }

    fn job(&self, id: &str) -> Result<Option<JobRecord>, CatalogError> {
        let id = id.to_string();
        self.call(move |c| {
            let mut tx = c.transaction()?;
            let job = load_job(&mut tx, &id, false)?;
            tx.commit()?;
            Ok(job)
        })
    }

    fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, CatalogError> {
        let f = filter.clone();
        self.call(move |c| {
            let terminal: Vec<&str> = JobState::ALL
                .into_iter()
                .filter(|s| s.is_terminal())
                .map(JobState::as_str)
                .collect();
            let columns = JOB_COLUMNS
                .split(", ")
                .map(|c| format!("j.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            // one query, as on SQLite: a job's row once per transition, folded here
            let rows = c.query(
                &format!(
                    "SELECT {columns}, t.state, t.at FROM jobs j
                     LEFT JOIN job_transitions t ON t.job_id = j.id
                     WHERE ($1::text IS NULL OR j.state = $1) AND ($2::timestamptz IS NULL OR j.scheduled_at >= $2)
                       AND ($3::text IS NULL OR j.kind = $3) AND (NOT $4 OR j.state <> ALL($5))
                     ORDER BY j.scheduled_at DESC, j.resource_arn COLLATE \"C\", j.id COLLATE \"C\", t.seq"
                ),
                &[
                    &f.state.map(JobState::as_str),
                    &f.since,
                    &f.kind.map(JobKind::as_str),
                    &f.unfinished,
                    &terminal,
                ],
            )?;
            let n = JOB_COLUMNS.split(", ").count();
            let mut out: Vec<JobRecord> = Vec::new();
            for r in &rows {
                let id: &str = r.get(0);
                if out.last().is_none_or(|j| j.id != id) {
                    out.push(job_row(r)?);
                }
                let (Some(state), Some(at)) = (
                    r.get::<_, Option<&str>>(n),
                    r.get::<_, Option<DateTime<Utc>>>(n + 1),
                ) else {
                    continue;
                };
                let transition = (parse_state(state)?, at);
                if let Some(job) = out.last_mut() {
                    job.history.transitions.push(transition);
                }
            }
            Ok(out)
        })
    }

    fn claim_jobs(
        &mut self,
        wanted: &[ClaimRequest],
        worker: &str,
        lease: std::time::Duration,
        limits: &ClaimLimits,
    ) -> Result<Claimed, CatalogError> {
        /// Jobs looked at by a claim's first statement, per job it may take, and at most by
        /// one statement: a claim reads a few rows at the head of the queue, not the queue.
        const PER_JOB: usize = 4;
        const MOST: usize = 512;
        if let Ok(mut w) = self.worker.lock() {
            *w = Some(worker.to_string());
        }
        let in_hand: Vec<String> = {
            let claims = self
                .claims
                .lock()
                .map_err(|_| self.err("claims poisoned".into()))?;
            wanted
                .iter()
                .filter(|w| claims.contains_key(&w.id))
                .map(|w| w.id.clone())
                .collect()
        };
        // whether those are still this catalog's: asked of the database only when some are,
        // not on every claim of a worker's loop (its renewals run beside it)
        let lost = if in_hand.is_empty() {
            Vec::new()
        } else {
            self.renew_claims(lease)?
        };
        let held: Vec<String> = in_hand
            .into_iter()
            .filter(|id| !lost.contains(id))
            .collect();
        let asked: Vec<ClaimRequest> = wanted
            .iter()
            .filter(|w| !held.contains(&w.id))
            .cloned()
            .collect();
        if asked.is_empty() || limits.jobs == 0 {
            return Ok(Claimed {
                claimed: held,
                ended: Vec::new(),
            });
        }
        let (worker, secs, limits) = (worker.to_string(), lease.as_secs_f64(), *limits);
        let terminal: Vec<&'static str> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .map(JobState::as_str)
            .collect();
        let (new, ended): (Vec<(String, String)>, Vec<String>) = self.call(move |c| {
            let mut tx = c.transaction()?;
            // claims are made one at a time across workers (they take milliseconds), so that
            // what the limits count cannot change under a claim
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':coffer:claim'))",
                &[],
            )?;
            // what every worker holds now: claimed jobs with a live lease (a claim ends with
            // its job, so these are unfinished)
            let mut per_service: BTreeMap<String, usize> = BTreeMap::new();
            let mut per_slot: BTreeMap<String, usize> = BTreeMap::new();
            let mut busy: BTreeSet<String> = BTreeSet::new();
            for r in tx.query(
                "SELECT resource_arn, claim_service, claim_copy_slot FROM jobs
                  WHERE claim_token IS NOT NULL AND lease_expires_at > now() AND state <> ALL($1)",
                &[&terminal],
            )? {
                busy.insert(r.get(0));
                if let Some(s) = r.get::<_, Option<String>>(1) {
                    *per_service.entry(s).or_default() += 1;
                }
                if let Some(s) = r.get::<_, Option<String>>(2) {
                    *per_slot.entry(s).or_default() += 1;
                }
            }
            let mut chosen: Vec<&ClaimRequest> = Vec::new();
            let mut ended: Vec<String> = Vec::new();
            // the head of the queue first, then ever larger pieces of what follows
            let mut rest: &[ClaimRequest] = &asked;
            let mut size = limits.jobs.saturating_mul(PER_JOB).clamp(32, MOST);
            while !rest.is_empty() && chosen.len() < limits.jobs {
                let (chunk, after) = rest.split_at(size.min(rest.len()));
                rest = after;
                size = (size * 2).min(MOST);
                let ids: Vec<&String> = chunk.iter().map(|r| &r.id).collect();
                let by_id: BTreeMap<&String, &ClaimRequest> =
                    chunk.iter().map(|r| (&r.id, r)).collect();
                // a join on the ids asked for reads those rows by their key, whatever the
                // queue's length
                let rows = tx.query(
                    "SELECT j.id, j.resource_arn, j.state <> ALL($2),
                            j.claim_token IS NULL OR j.lease_expires_at < now()
                       FROM unnest($1::text[]) AS w(id) JOIN jobs j ON j.id = w.id
                      ORDER BY j.scheduled_at, j.id",
                    &[&ids, &terminal],
                )?;
                let open: BTreeSet<String> = rows
                    .iter()
                    .filter(|r| r.get::<_, bool>(2))
                    .map(|r| r.get(0))
                    .collect();
                // finished (or gone) jobs are said so, and not asked for again
                ended.extend(
                    ids.iter()
                        .filter(|id| !open.contains(**id))
                        .map(|id| id.to_string()),
                );
                for r in rows
                    .iter()
                    .filter(|r| r.get::<_, bool>(2) && r.get::<_, bool>(3))
                {
                    if chosen.len() >= limits.jobs {
                        break;
                    }
                    let (id, resource): (String, String) = (r.get(0), r.get(1));
                    let Some(req) = by_id.get(&id) else { continue };
                    // one job per resource at a time, across workers
                    if busy.contains(&resource) {
                        continue;
                    }
                    let service_full = req.service.as_ref().is_some_and(|s| {
                        per_service.get(s).copied().unwrap_or(0) >= limits.per_service
                    });
                    let slot_full = req.copy_slot.as_ref().is_some_and(|s| {
                        per_slot.get(s).copied().unwrap_or(0) >= limits.copies_per_slot
                    });
                    if service_full || slot_full {
                        continue;
                    }
                    busy.insert(resource);
                    if let Some(s) = &req.service {
                        *per_service.entry(s.clone()).or_default() += 1;
                    }
                    if let Some(s) = &req.copy_slot {
                        *per_slot.entry(s.clone()).or_default() += 1;
                    }
                    chosen.push(req);
                }
            }
            // the chosen rows, locked and checked again as they are taken: a row another
            // transaction is changing is skipped, not waited for
            let chosen_ids: Vec<&String> = chosen.iter().map(|r| &r.id).collect();
            let locked: BTreeSet<String> = tx
                .query(
                    "SELECT id FROM jobs
                      WHERE id = ANY($1) AND state <> ALL($2)
                        AND (claim_token IS NULL OR lease_expires_at < now())
                      FOR UPDATE SKIP LOCKED",
                    &[&chosen_ids, &terminal],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            chosen.retain(|r| locked.contains(&r.id));
            let chosen_ids: Vec<&String> = chosen.iter().map(|r| &r.id).collect();
            let services: Vec<Option<&String>> =
                chosen.iter().map(|r| r.service.as_ref()).collect();
            let slots: Vec<Option<&String>> = chosen.iter().map(|r| r.copy_slot.as_ref()).collect();
            let rows = tx.query(
                "UPDATE jobs j SET claimed_by = $4, claim_token = gen_random_uuid()::text,
                        lease_expires_at = now() + make_interval(secs => $5),
                        claim_service = c.service, claim_copy_slot = c.slot
                   FROM unnest($1::text[], $2::text[], $3::text[]) AS c(id, service, slot)
                  WHERE j.id = c.id
                 RETURNING j.id, j.claim_token",
                &[&chosen_ids, &services, &slots, &worker, &secs],
            )?;
            let claimed = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            tx.commit()?;
            Ok((claimed, ended))
        })?;
        let mut claims = self
            .claims
            .lock()
            .map_err(|_| self.err("claims poisoned".into()))?;
        let mut out = held;
        for (id, token) in new {
            claims.insert(id.clone(), token);
            out.push(id);
        }
        Ok(Claimed {
            claimed: out,
            ended,
        })
    }

    fn renew_claims(&self, lease: std::time::Duration) -> Result<Vec<String>, CatalogError> {
        let held: Vec<(String, String)> = match self.claims.lock() {
            Ok(c) => c.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => return Err(self.err("claims poisoned".into())),
        };
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, tokens): (Vec<String>, Vec<String>) = held.iter().cloned().unzip();
        let secs = lease.as_secs_f64();
        let worker = self.worker.lock().ok().and_then(|w| w.clone());
        let renewed: Vec<String> = self.call(move |c| {
            if let Some(w) = &worker {
                c.execute(
                    "UPDATE workers SET heartbeat_at = now() WHERE name = $1",
                    &[w],
                )?;
            }
            Ok(c.query(
                "UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => $3)
                   FROM unnest($1::text[], $2::text[]) AS h(id, token)
                  WHERE j.id = h.id AND j.claim_token = h.token
                 RETURNING j.id",
                &[&ids, &tokens, &secs],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })?;
        // a lost claim stays known, so that this catalog's later changes to that job are
        // refused rather than made unchecked
        Ok(held
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !renewed.contains(id))
            .collect())
    }

    fn release_claims(&mut self) -> Result<(), CatalogError> {
        let held: Vec<(String, String)> = match self.claims.lock() {
            Ok(mut c) => std::mem::take(&mut *c).into_iter().collect(),
            Err(_) => return Err(self.err("claims poisoned".into())),
        };
        if held.is_empty() {
            return Ok(());
        }
        let (ids, tokens): (Vec<String>, Vec<String>) = held.into_iter().unzip();
        self.call(move |c| {
            c.execute(
                "UPDATE jobs j SET claimed_by = NULL, claim_token = NULL, lease_expires_at = NULL
                   FROM unnest($1::text[], $2::text[]) AS h(id, token)
                  WHERE j.id = h.id AND j.claim_token = h.token",
                &[&ids, &tokens],
            )?;
            Ok(())
        })
    }

    fn tick_cursor(&self) -> Result<Option<DateTime<Utc>>, CatalogError> {
        self.call(|c| {
            Ok(
                c.query_opt("SELECT value FROM scheduler WHERE key = 'tick_cursor'", &[])?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn advance_tick_cursor(&mut self, to: DateTime<Utc>) -> Result<(), CatalogError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO scheduler (key, value) VALUES ('tick_cursor', $1)
                 ON CONFLICT (key) DO UPDATE SET value = GREATEST(scheduler.value, EXCLUDED.value)",
                &[&to],
            )?;
            Ok(())
        })
    }

    fn record_vault_check(&mut self, check: &VaultCheck) -> Result<(), CatalogError> {
        let c = check.clone();
        self.call(move |conn| {
            insert_vault_check(conn, &c)?;
            Ok(())
        })
    }

    fn note_control_status(
        &mut self,
        framework: &str,
        control: &str,
        compliant: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError> {
        let (framework, control) = (framework.to_string(), control.to_string());
        // A racing worker's upsert waits for this one's row lock, then finds the status
        // unchanged and returns no row: each change is seen once.
        self.call(move |c| {
            let changed = c.query_opt(
                "INSERT INTO control_statuses (framework, control, compliant, since)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (framework, control) DO UPDATE
                   SET compliant = EXCLUDED.compliant, since = EXCLUDED.since
                   WHERE control_statuses.compliant <> EXCLUDED.compliant
                 RETURNING compliant",
                &[&framework, &control, &compliant, &at],
            )?;
            Ok(changed.is_some() && !compliant)
        })
    }

    fn last_vault_checks(&self) -> Result<BTreeMap<String, VaultCheck>, CatalogError> {
        self.call(|c| {
            Ok(c.query(
                "SELECT DISTINCT ON (vault) vault, checked_at, location, snapshots,
                        read_data_subset, missing, errors, warnings, first_error
                 FROM vault_checks ORDER BY vault, checked_at DESC",
                &[],
            )?
            .iter()
            .map(|r| {
                let check = VaultCheck {
                    vault: r.get(0),
                    checked_at: r.get(1),
                    location: r.get(2),
                    snapshots: r.get::<_, i64>(3) as u64,
                    read_data_subset: r.get(4),
                    missing: r.get(5),
                    errors: r.get::<_, i64>(6) as u64,
                    warnings: r.get::<_, i64>(7) as u64,
                    first_error: r.get(8),
                };
                (check.vault.clone(), check)
            })
            .collect())
        })
    }
}

/// Writes one vault check, replacing one of the same vault and instant.
fn insert_vault_check(
    c: &mut impl postgres::GenericClient,
    check: &VaultCheck,
) -> Result<(), PgFail> {
    c.execute(
        "INSERT INTO vault_checks
         (vault, checked_at, location, snapshots, read_data_subset, missing, errors, warnings, first_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (vault, checked_at) DO UPDATE SET
           location = EXCLUDED.location, snapshots = EXCLUDED.snapshots,
           read_data_subset = EXCLUDED.read_data_subset, missing = EXCLUDED.missing,
           errors = EXCLUDED.errors, warnings = EXCLUDED.warnings,
           first_error = EXCLUDED.first_error",
        &[
            &check.vault,
            &check.checked_at,
            &check.location,
            &(check.snapshots as i64),
            &check.read_data_subset,
            &check.missing,
            &(check.errors as i64),
            &(check.warnings as i64),
            &check.first_error,
        ],
    )?;
    Ok(())
}

/// Everything a catalog holds, as `init -migrate-state` copies it from one backend to
/// another: ids, states, histories and dates kept.
pub struct CatalogDump {
    pub points: Vec<RecoveryPoint>,
    /// When each EXPIRED point's failed deletion is tried again.
    pub retry_at: BTreeMap<String, DateTime<Utc>>,
    pub jobs: Vec<JobRecord>,
    pub approved: BTreeMap<String, DateTime<Utc>>,
    pub tick_cursor: Option<DateTime<Utc>>,
    /// Every vault check recorded, not only the newest.
    pub checks: Vec<VaultCheck>,
    /// Each control's last status.
    pub controls: Vec<super::ControlStatus>,
}

impl PgCatalog {
    /// Whether the catalog holds no point and no job.
    pub fn is_empty(&self) -> Result<bool, CatalogError> {
        self.call(|c| {
            Ok(c.query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM recovery_points) AND NOT EXISTS (SELECT 1 FROM jobs)",
                &[],
            )?
            .get(0))
        })
    }

    /// Writes `dump` into this (empty) catalog in one transaction.
    pub fn import(&mut self, dump: CatalogDump) -> Result<(), CatalogError> {
        self.call(move |c| {
            let mut tx = c.transaction()?;
            for p in &dump.points {
                let n = &p.point;
                tx.execute(
                    &format!(
                        "INSERT INTO recovery_points ({POINT_COLUMNS}, retry_at) VALUES
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
                    ),
                    &[
                        &p.id,
                        &p.status.as_str(),
                        &n.vault,
                        &n.native_id,
                        &n.resource_arn,
                        &n.resource_type,
                        &Json(&n.resource),
                        &n.plan,
                        &n.rule,
                        &n.job_id,
                        &n.created_at,
                        &n.completed_at,
                        &n.size_bytes.map(|b| b as i64),
                        &n.encrypted,
                        &n.kms_key,
                        &n.cold_at,
                        &n.delete_at,
                        &Json(&n.tags),
                        &p.storage_class.as_str(),
                        &p.deleted_at,
                        &p.deleted_by.map(DeletedBy::as_str),
                        &p.status_message,
                        &n.source_recovery_point_id,
                        &dump.retry_at.get(&p.id),
                    ],
                )?;
            }
            for j in &dump.jobs {
                let first = j.history.transitions.first().map(|t| t.1);
                let last = j.history.transitions.last().map(|t| t.1);
                let (Some(created), Some(updated)) = (first, last) else {
                    return Err(PgFail(format!("job {} has no history", j.id)));
                };
                tx.execute(
                    &format!(
                        "INSERT INTO jobs ({JOB_COLUMNS}, state, created_at, updated_at) VALUES
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
                    ),
                    &[
                        &j.id,
                        &j.job.kind.as_str(),
                        &j.job.plan,
                        &j.job.rule,
                        &j.job.resource_arn,
                        &j.job.vault,
                        &j.job.windows.scheduled_at,
                        &j.job.windows.start_by,
                        &j.job.windows.complete_by,
                        &(j.attempts as i32),
                        &j.error,
                        &j.bytes.map(|b| b as i64),
                        &Json(&j.native_ids),
                        &Json(&j.job.options),
                        &j.job.recovery_point_id,
                        &j.warning,
                        &j.job.source_recovery_point_id,
                        &j.created_resource_arn,
                        &j.validation_status,
                        &j.validation_message,
                        &j.deletion_status,
                        &j.state().as_str(),
                        &created,
                        &updated,
                    ],
                )?;
                for (seq, (state, at)) in j.history.transitions.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO job_transitions (job_id, seq, state, at) VALUES ($1, $2, $3, $4)",
                        &[&j.id, &(seq as i32), &state.as_str(), at],
                    )?;
                }
            }
            for (id, at) in &dump.approved {
                tx.execute(
                    "INSERT INTO approved_deletions (point_id, approved_at) VALUES ($1, $2)",
                    &[id, at],
                )?;
            }
            if let Some(cursor) = dump.tick_cursor {
                tx.execute(
                    "INSERT INTO scheduler (key, value) VALUES ('tick_cursor', $1)",
                    &[&cursor],
                )?;
            }
            for check in &dump.checks {
                insert_vault_check(&mut tx, check)?;
            }
            for c in &dump.controls {
                tx.execute(
                    "INSERT INTO control_statuses (framework, control, compliant, since)
                     VALUES ($1, $2, $3, $4)",
                    &[&c.framework, &c.control, &c.compliant, &c.since],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

/// A worker as `coffer workers list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct WorkerRecord {
    pub name: String,
    pub host: String,
    pub pid: i32,
    pub version: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, on the database's clock.
    pub last_heartbeat: String,
    /// Jobs it holds a live claim on.
    pub jobs_held: i64,
}

impl PgCatalog {
    /// Hands back the claims worker `name` holds, whichever connection made them, so that a
    /// worker leaving after its shutdown timeout frees its jobs for the others at once (what
    /// its own connection would still write about them is refused). A RUNNING job that has
    /// not recorded what it asked for is kept until its lease ends: its request may still be
    /// on its way to AWS, and a worker taking the job at once could miss what it makes and
    /// ask again. Returns the jobs freed and the jobs kept.
    pub fn hand_back(&self, name: &str) -> Result<(Vec<String>, Vec<String>), CatalogError> {
        let name = name.to_string();
        self.call(move |c| {
            let mut tx = c.transaction()?;
            let freed = tx
                .query(
                    "UPDATE jobs SET claimed_by = NULL, claim_token = NULL, lease_expires_at = NULL
                      WHERE claimed_by = $1 AND claim_token IS NOT NULL
                        AND NOT (state = 'RUNNING' AND native_ids = '[]'::jsonb)
                     RETURNING id",
                    &[&name],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let kept = tx
                .query(
                    "SELECT id FROM jobs WHERE claimed_by = $1 AND claim_token IS NOT NULL
                      ORDER BY id",
                    &[&name],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            tx.commit()?;
            Ok((freed, kept))
        })
    }

    /// Records that worker `name` (on `host`, process `pid`) started now, or beats again.
    pub fn worker_heartbeat(
        &self,
        name: &str,
        host: &str,
        pid: u32,
        started: bool,
    ) -> Result<(), CatalogError> {
        let (name, host, pid) = (name.to_string(), host.to_string(), pid as i32);
        let version = crate::VERSION.to_string();
        self.call(move |c| {
            if started {
                c.execute(
                    "INSERT INTO workers (name, host, pid, version, started_at, heartbeat_at)
                     VALUES ($1, $2, $3, $4, now(), now())
                     ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
                        version = EXCLUDED.version, started_at = now(), heartbeat_at = now()",
                    &[&name, &host, &pid, &version],
                )?;
            } else {
                c.execute(
                    "UPDATE workers SET heartbeat_at = now() WHERE name = $1",
                    &[&name],
                )?;
            }
            Ok(())
        })
    }

    /// Every worker seen, most recently heard from first.
    pub fn workers(&self) -> Result<Vec<WorkerRecord>, CatalogError> {
        self.call(|c| {
            let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Ok(c.query(
                "SELECT w.name, w.host, w.pid, w.version, w.started_at, w.heartbeat_at,
                        (SELECT COUNT(*) FROM jobs j WHERE j.claimed_by = w.name AND j.lease_expires_at > now())
                   FROM workers w ORDER BY w.heartbeat_at DESC, w.name",
                &[],
            )?
            .iter()
            .map(|r| WorkerRecord {
                name: r.get(0),
                host: r.get(1),
                pid: r.get(2),
                version: r.get(3),
                started_at: rfc(r.get(4)),
                last_heartbeat: rfc(r.get(5)),
                jobs_held: r.get(6),
            })
            .collect())
        })
    }
}
