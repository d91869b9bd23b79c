//! Restore tests (effectful shell): a run restores one point per selected resource as restore
//! jobs (their `rule` names the test and selection, so racing ticks create each once), then
//! validates what each restored (the selection's `validate` command, or the provider's own
//! check), records the result once, deletes what was restored and records that. Each tick
//! also finishes what earlier runs left: a restore resumed after a crash is validated, and
//! whatever a run restored is deleted once validated or once its validation window closed.

use super::execute::Executor;
use super::Event;
use crate::catalog::{JobFilter, JobRecord, JobUpdate, NewJob, PointFilter};
use crate::inventory::ResourceType;
use crate::jobs::restore_test::{self, TestInfo, FAILED, SUCCESSFUL, TIMED_OUT};
use crate::jobs::{restore_metadata, JobKind, JobOptions, JobState, PointStatus, Windows};
use crate::providers::{Provider, RestoreRequest, Restoring};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The applied restore tests, and where their validation commands run from.
#[derive(Debug, Clone, Default)]
pub struct RestoreTests {
    pub tests: Vec<TestInfo>,
    /// The configuration directory: relative commands are relative to it.
    pub config_dir: PathBuf,
}

/// How long a restore test's restore may take, after its start window.
const RESTORE_TIME: chrono::Duration = chrono::Duration::days(7);

/// Runs `test` as scheduled at `run_at`: creates its restore jobs (once), runs them, and
/// validates and cleans up what they restored. Returns the jobs as they ended.
pub async fn run<E: Provider>(
    exec: &Executor<'_, E>,
    tests: &RestoreTests,
    test: &TestInfo,
    run_at: DateTime<Utc>,
) -> Result<Vec<JobRecord>, String> {
    let points = exec
        .catalog
        .borrow()
        .recovery_points(&PointFilter {
            status: Some(PointStatus::Completed),
            ..PointFilter::default()
        })
        .map_err(|e| e.to_string())?;
    let mut created = Vec::new();
    for (selection, point) in restore_test::choose(&test.name, &test.attrs, &points, run_at) {
        let s = &test.attrs.selections[&selection];
        let source = point
            .source_resource()
            .map(|r| r.metadata)
            .unwrap_or_default();
        let overrides: Vec<(String, String)> = s
            .overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let metadata = match restore_metadata::resolve(s.resource_type, &source, &overrides, None) {
            Ok(m) => m,
            Err(e) => {
                (exec.report)(Event::Warning(format!(
                    "restore_test.{}: {} is not restored: {e}",
                    test.name, point.id
                )));
                continue;
            }
        };
        let job = NewJob {
            kind: JobKind::Restore,
            plan: None,
            rule: Some(restore_test::selection_label(&test.name, &selection)),
            resource_arn: point.point.resource_arn.clone(),
            vault: point.point.vault.clone(),
            windows: Windows {
                scheduled_at: run_at,
                start_by: run_at + test.start_window,
                complete_by: run_at + test.start_window + RESTORE_TIME,
            },
            options: JobOptions {
                restore: metadata,
                ..JobOptions::default()
            },
            recovery_point_id: Some(point.id.clone()),
            source_recovery_point_id: None,
        };
        let made = exec
            .catalog
            .borrow_mut()
            .create_job(&job, exec.clock.now())
            .map_err(|e| e.to_string())?;
        created.extend(made);
    }
    let ids: Vec<String> = created.iter().map(|j| j.id.clone()).collect();
    if !created.is_empty() {
        exec.run_all(created, &BTreeMap::new()).await?;
    }
    crate::failpoint::abort_at("restore-test-before-validation");
    finish(exec, tests, &ids).await?;
    super::cycle::reload(exec, &ids)
}

/// Validates and cleans up every restore test job that ended and is not cleaned up yet: what
/// earlier runs (or a crash) left, and what this tick's runs made. Returns them as they ended.
pub async fn finish_left<E: Provider>(
    exec: &Executor<'_, E>,
    tests: &RestoreTests,
) -> Result<Vec<JobRecord>, String> {
    let left: Vec<String> = exec
        .catalog
        .borrow()
        .jobs(&JobFilter {
            kind: Some(JobKind::Restore),
            ..JobFilter::default()
        })
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|j| {
            j.state().is_terminal()
                && j.deletion_status.is_none()
                && j.job
                    .rule
                    .as_deref()
                    .and_then(restore_test::parse_label)
                    .is_some()
        })
        .map(|j| j.id)
        .collect();
    if left.is_empty() {
        return Ok(Vec::new());
    }
    finish(exec, tests, &left).await?;
    super::cycle::reload(exec, &left)
}

/// Validation, then cleanup, of the given restore test jobs.
async fn finish<E: Provider>(
    exec: &Executor<'_, E>,
    tests: &RestoreTests,
    ids: &[String],
) -> Result<(), String> {
    for id in ids {
        let Some(job) = exec.catalog.borrow().job(id).map_err(|e| e.to_string())? else {
            continue;
        };
        if !job.state().is_terminal() || job.deletion_status.is_some() {
            continue;
        }
        let Some((test_name, selection)) =
            job.job.rule.as_deref().and_then(restore_test::parse_label)
        else {
            continue;
        };
        let Some(point) = job
            .job
            .recovery_point_id
            .as_deref()
            .map(|p| exec.catalog.borrow().recovery_point(p))
            .transpose()
            .map_err(|e| e.to_string())?
            .flatten()
        else {
            continue;
        };
        let Some(resource) = point.source_resource() else {
            continue;
        };
        let selection_attrs = tests
            .tests
            .iter()
            .find(|t| t.name == test_name)
            .and_then(|t| t.attrs.selections.get(selection));
        let tags = super::execute::restore::restore_tags(&job, &point);
        let metadata = super::execute::restore::restore_metadata(&job, resource.resource_type);
        let req = RestoreRequest {
            vault: &point.point.vault,
            native_id: &point.point.native_id,
            metadata: &metadata,
            job_id: &job.id,
            tags: &tags,
        };
        // what the job recorded; else what a restore that died before recording it left (found
        // by its tag or name, or a file restore's partial directory, which finding deletes)
        let (created, recorded) = match job.native_ids.first().cloned() {
            Some(c) => (c, true),
            None => match exec.provider.find_restored(&resource, &req).await {
                Ok(Some(c)) => (c, false),
                Ok(None) => {
                    record(
                        exec,
                        id,
                        JobUpdate {
                            deletion_status: Some("SUCCESSFUL: nothing was left".into()),
                            ..JobUpdate::default()
                        },
                    )?;
                    continue;
                }
                Err(e) => {
                    record(
                        exec,
                        id,
                        JobUpdate {
                            deletion_status: Some(format!("FAILED: {}", e.message)),
                            ..JobUpdate::default()
                        },
                    )?;
                    continue;
                }
            },
        };
        let now = exec.clock.now();
        let ended = job.history.transitions.last().map_or(now, |t| t.1);
        let window = selection_attrs.map_or(chrono::Duration::zero(), |s| {
            s.validation_window.to_chrono()
        });
        if job.state() == JobState::Completed && job.validation_status.is_none() {
            let (status, message) = if now > ended + window && window > chrono::Duration::zero() {
                (
                    TIMED_OUT,
                    format!(
                        "the validation window of {} closed before the validation ran",
                        selection_attrs.map_or(String::new(), |s| s.validation_window.to_string())
                    ),
                )
            } else {
                validate(
                    exec,
                    tests,
                    &job,
                    &point.id,
                    &resource,
                    &req,
                    &created,
                    selection_attrs,
                )
                .await
            };
            record(
                exec,
                id,
                JobUpdate {
                    validation_status: Some(status.to_string()),
                    validation_message: Some(message),
                    ..JobUpdate::default()
                },
            )?;
        }
        // deleted once validated; a restore that failed or was aborted deleted what it made
        // as it ended (its error says whether that failed too)
        let deletion = if recorded && job.state() != JobState::Completed {
            match &job.error {
                Some(e) if e.contains("failed too") => format!("FAILED: {e}"),
                _ => "SUCCESSFUL".to_string(),
            }
        } else {
            match exec
                .provider
                .discard_restored(&resource, &req, &created)
                .await
            {
                Ok(()) => "SUCCESSFUL".to_string(),
                Err(e) => format!("FAILED: {}", e.message),
            }
        };
        record(
            exec,
            id,
            JobUpdate {
                deletion_status: Some(deletion),
                ..JobUpdate::default()
            },
        )?;
    }
    Ok(())
}

fn record<E: Provider>(exec: &Executor<'_, E>, id: &str, u: JobUpdate) -> Result<(), String> {
    exec.catalog
        .borrow_mut()
        .update_job(id, &u)
        .map_err(|e| e.to_string())
}

/// Keeps the end of a command's output (its last 2,000 characters).
fn tail(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let keep = 2000;
    if chars.len() <= keep {
        text.trim().to_string()
    } else {
        format!(
            "…{}",
            chars[chars.len() - keep..]
                .iter()
                .collect::<String>()
                .trim()
        )
    }
}

/// Runs the selection's `validate` command (or the provider's own check) against what `job`
/// restored of `source`; returns the status and why.
#[allow(clippy::too_many_arguments)]
async fn validate<E: Provider>(
    exec: &Executor<'_, E>,
    tests: &RestoreTests,
    job: &JobRecord,
    point_id: &str,
    source: &crate::inventory::Resource,
    req: &RestoreRequest<'_>,
    created: &str,
    selection: Option<&crate::objects::RestoreTestSelectionAttrs>,
) -> (&'static str, String) {
    let Some(v) = selection.and_then(|s| s.validate.as_ref()) else {
        return match exec.provider.validate_restored(source, req, created).await {
            Ok(m) => (SUCCESSFUL, m),
            Err(m) => (FAILED, m),
        };
    };
    let mut env: Vec<(&str, String)> = vec![
        ("COFFER_RESTORE_JOB_ID", job.id.clone()),
        ("COFFER_RECOVERY_POINT_ID", point_id.to_string()),
        (
            "COFFER_RESTORED_RESOURCE_ARN",
            job.created_resource_arn.clone().unwrap_or_default(),
        ),
    ];
    match source.resource_type {
        ResourceType::Directory | ResourceType::EfsFileSystem => {
            env.push(("COFFER_RESTORED_PATH", created.to_string()))
        }
        ResourceType::EbsVolume => env.push(("COFFER_RESTORED_VOLUME_ID", created.to_string())),
        ResourceType::Ec2Instance => env.push(("COFFER_RESTORED_INSTANCE_ID", created.to_string())),
        ResourceType::DynamoDbTable => env.push(("COFFER_RESTORED_TABLE", created.to_string())),
        ResourceType::RdsInstance | ResourceType::AuroraCluster => {
            if let Ok(Restoring::Ready { endpoint, port, .. }) =
                exec.provider.restored(source, req, created).await
            {
                env.extend(endpoint.map(|e| ("COFFER_RESTORED_ENDPOINT", e)));
                env.extend(port.map(|p| ("COFFER_RESTORED_PORT", p.to_string())));
            }
        }
    }
    let program = Path::new(&v.command[0]);
    let program = if program.is_relative() && v.command[0].contains('/') {
        tests.config_dir.join(program)
    } else {
        program.to_path_buf()
    };
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&v.command[1..])
        .current_dir(&tests.config_dir)
        .envs(env)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let limit = v
        .timeout
        .to_chrono()
        .to_std()
        .unwrap_or(std::time::Duration::ZERO);
    let child = match tokio::time::timeout(limit, cmd.output()).await {
        Ok(Ok(out)) => out,
        Err(_) => {
            return (
                TIMED_OUT,
                format!("`{}` did not end within {}", v.command.join(" "), v.timeout),
            )
        }
        Ok(Err(e)) => {
            return (
                FAILED,
                format!("`{}` could not be run: {e}", program.display()),
            )
        }
    };
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    if child.status.success() {
        (SUCCESSFUL, tail(&output))
    } else {
        (
            FAILED,
            format!(
                "`{}` exited with {}: {}",
                v.command.join(" "),
                child
                    .status
                    .code()
                    .map_or("a signal".into(), |c| c.to_string()),
                tail(&output)
            ),
        )
    }
}
