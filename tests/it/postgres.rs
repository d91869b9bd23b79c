//! The PostgreSQL backend through the binary, against a real, throwaway PostgreSQL: apply,
//! backups and restores with state and catalog in the database and nothing in `.coffer`;
//! two workspaces sharing one database see one state; a second apply waits for the first,
//! naming who holds the lock; a dead holder's lock ends with its lease; the password of a
//! connection string never appears in output.

use crate::support::{coffer, run, workspace};
use serde_json::Value;
use std::path::Path;

#[path = "../../src/pg_test.rs"]
#[allow(dead_code)]
pub(crate) mod pg_test;

/// A configuration on the database `conn` whose vault and directory are under `shared`, so
/// that every workspace made from it describes the same things.
fn config(conn: &str, shared: &Path) -> String {
    let shared = shared.display();
    format!(
        r#"
coffer {{
  backend "postgres" {{
    conn_str = "{conn}"
    schema   = "team"
  }}
}}

vault "main" {{
  storage = "file://{shared}/vaults/main"
}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
  }}
}}

selection "dirs" {{
  plan      = plan.daily
  resources = ["dir:*"]
}}

directory "docs" {{
  path = "{shared}/data/docs"
}}
"#
    )
}

/// A directory with the data a configuration of [`config`] backs up.
fn shared() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha").unwrap();
    dir
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(coffer(dir).args(args));
    assert_eq!(r.code, 0, "coffer {args:?}\n{}\n{}", r.stdout, r.stderr);
    r.stdout
}

/// Sends a worker SIGTERM and waits for it to leave.
fn stop(w: &mut std::process::Child) -> std::process::ExitStatus {
    // SAFETY: the child's pid is a live process this test started
    unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
    w.wait().unwrap()
}

/// The backup jobs, once every one is COMPLETED or `deadline` has passed.
fn backups_once_completed(dir: &Path, deadline: std::time::Instant) -> Vec<Value> {
    loop {
        let jobs: Value =
            serde_json::from_str(&ok(dir, &["jobs", "list", "--kind", "backup", "--json"]))
                .unwrap();
        let jobs = jobs.as_array().unwrap().clone();
        if jobs.iter().all(|j| j["state"] == "COMPLETED") || std::time::Instant::now() > deadline {
            return jobs;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn state_and_catalog_live_in_postgres_and_a_second_workspace_sees_them() {
    let (conn, data) = (pg_test::database(), shared());
    let dir = workspace(&config(&conn, data.path()));
    ok(dir.path(), &["apply", "--auto-approve"]);
    let report: Value = serde_json::from_str(&ok(
        dir.path(),
        &["run", "--at", "2026-12-05T03:10:00Z", "--json"],
    ))
    .unwrap();
    assert_eq!(report["jobs"][0]["state"], "COMPLETED", "{report:#}");
    let point = report["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();
    // nothing of state or catalog on this machine
    for f in ["state.json", "catalog.db"] {
        assert!(!dir.path().join(".coffer").join(f).exists(), "{f}");
    }
    // another checkout of the same configuration (a CI runner, a colleague) sees it all
    let other = workspace(&config(&conn, data.path()));
    let plan = run(coffer(other.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(plan.code, 0, "no changes: {}\n{}", plan.stdout, plan.stderr);
    let points: Value =
        serde_json::from_str(&ok(other.path(), &["recovery-points", "list", "--json"])).unwrap();
    assert_eq!(points[0]["id"], point.as_str());
    let history: Value =
        serde_json::from_str(&ok(other.path(), &["state", "history", "--json"])).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history:#}");
    assert_eq!(history[0]["current"], true);
    // a restore through the first workspace is a job both see
    let target = dir.path().join("restored");
    ok(
        dir.path(),
        &[
            "restore",
            "start",
            "--recovery-point",
            &point,
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(target.join("a.txt")).unwrap(),
        "alpha"
    );
    let jobs: Value = serde_json::from_str(&ok(
        other.path(),
        &["jobs", "list", "--kind", "restore", "--json"],
    ))
    .unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 1, "{jobs:#}");
}

#[test]
fn a_second_apply_waits_for_the_lock_naming_its_holder_and_force_unlock_breaks_it() {
    let (conn, data) = (pg_test::database(), shared());
    let dir = workspace(&config(&conn, data.path()));
    ok(dir.path(), &["apply", "--auto-approve"]);
    // a holder that is gone without releasing: its lock row is there until its lease ends
    let mut client = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO team.state_locks (workspace, name, lock_id, info, expires_at)
             VALUES ('default', 'state', 'lock-1', $1, now() + interval '1 hour')",
            &[&postgres::types::Json(serde_json::json!({
                "id": "lock-1", "operation": "apply", "pid": 4242, "host": "ci-runner-7",
                "user": "alice", "created_at": "2026-12-01T10:00:00Z", "version": "0.1.0"
            }))],
        )
        .unwrap();
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve", "--lock-timeout", "1s"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("locked by another coffer")
            && r.stderr.contains("ci-runner-7")
            && r.stderr.contains("alice")
            && r.stderr.contains("coffer force-unlock lock-1"),
        "{}",
        r.stderr
    );
    ok(dir.path(), &["force-unlock", "lock-1"]);
    ok(
        dir.path(),
        &["apply", "--auto-approve", "--lock-timeout", "1s"],
    );
    // a lease that ended frees the lock by itself
    client
        .execute(
            "INSERT INTO team.state_locks (workspace, name, lock_id, info, expires_at)
             VALUES ('default', 'state', 'lock-2', $1, now() - interval '1 second')",
            &[&postgres::types::Json(serde_json::json!({
                "id": "lock-2", "operation": "apply", "pid": 1, "host": "gone",
                "user": "bob", "created_at": "2026-12-01T10:00:00Z", "version": "0.1.0"
            }))],
        )
        .unwrap();
    ok(
        dir.path(),
        &["apply", "--auto-approve", "--lock-timeout", "1s"],
    );
}

#[test]
fn two_applies_at_once_from_two_processes_leave_one_valid_state() {
    let (conn, data) = (pg_test::database(), shared());
    let a = workspace(&config(&conn, data.path()));
    let b = workspace(&config(&conn, data.path()));
    let spawn = |d: &Path| {
        coffer(d)
            .args(["apply", "--auto-approve", "--lock-timeout", "60s"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(a.path()), spawn(b.path()));
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    for o in [&oa, &ob] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let history: Value =
        serde_json::from_str(&ok(a.path(), &["state", "history", "--json"])).unwrap();
    // the first made everything; the second found nothing left to do
    assert_eq!(history.as_array().unwrap().len(), 1, "{history:#}");
    let plan = run(coffer(b.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

#[test]
fn a_connection_string_password_is_never_shown() {
    let (conn, data) = (pg_test::database(), shared());
    let with_password = format!("{conn} password=hunter2-secret");
    let dir = workspace(&config(&with_password, data.path()));
    for args in [
        &["plan", "--json"][..],
        &["apply", "--auto-approve"],
        &["show", "--json"],
        &["state", "history"],
    ] {
        let r = run(coffer(dir.path()).args(args));
        assert!(
            !r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"),
            "{args:?} showed the password:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
    // a wrong database is named, the password still not
    let wrong = workspace(&config(
        "host=/nonexistent dbname=x password=hunter2-secret",
        data.path(),
    ));
    let r = run(coffer(wrong.path()).args(["plan"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("cannot connect") && !r.stderr.contains("hunter2"),
        "{}",
        r.stderr
    );
}

/// `coffer init -migrate-state` (Terraform's spelling): a local workspace with points and jobs
/// moves into PostgreSQL whole, and a backend that holds state is refused.
#[test]
fn init_migrate_state_copies_the_local_state_and_catalog_into_postgres() {
    let (conn, data) = (pg_test::database(), shared());
    let text = config(&conn, data.path());
    let local_text = text.replace(
        &text[text.find("coffer {").unwrap()..text.find("vault \"main\"").unwrap()],
        "",
    );
    let dir = workspace(&local_text);
    ok(dir.path(), &["apply", "--auto-approve"]);
    ok(dir.path(), &["run", "--at", "2026-12-05T03:10:00Z"]);
    let before_points = ok(dir.path(), &["recovery-points", "list", "--json"]);
    let before_jobs = ok(dir.path(), &["jobs", "list", "--json"]);
    assert!(before_points.contains("rp-"), "{before_points}");

    std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
    let out = ok(dir.path(), &["init", "-migrate-state"]);
    assert!(
        out.contains("1 recovery points, 1 jobs") && out.contains("PostgreSQL (schema team)"),
        "{out}"
    );
    assert_eq!(
        ok(dir.path(), &["recovery-points", "list", "--json"]),
        before_points
    );
    assert_eq!(ok(dir.path(), &["jobs", "list", "--json"]), before_jobs);
    let plan = run(coffer(dir.path()).args(["plan", "--detailed-exitcode"]));
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    // the next tick carries on from the migrated scheduler cursor and catalog
    let report: Value = serde_json::from_str(&ok(
        dir.path(),
        &["run", "--at", "2026-12-06T03:10:00Z", "--json"],
    ))
    .unwrap();
    assert_eq!(report["jobs"].as_array().unwrap().len(), 1, "{report:#}");

    let again = run(coffer(dir.path()).args(["init", "--migrate-state"]));
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("already holds state"),
        "{}",
        again.stderr
    );
}

/// Issue 15: three `coffer worker`s on one database run a tick's backups between them, each
/// job once, one snapshot per job; SIGTERM stops them.
#[test]
fn three_workers_run_each_job_once() {
    let (conn, data) = (pg_test::database(), shared());
    let n = 12;
    let mut text = config(&conn, data.path()).replace(
        "schedule     = \"cron(0 3 * * ? *)\"",
        // due within the last hour whenever the test runs, so the workers' first tick finds it
        "schedule     = \"cron(0 * * * ? *)\"\n    allow_more_frequent_than_12h = true",
    );
    for i in 0..n {
        let d = data.path().join(format!("data/d{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("f.txt"), format!("file {i}")).unwrap();
        text.push_str(&format!(
            "\ndirectory \"d{i}\" {{\n  path = \"{}\"\n}}\n",
            d.display()
        ));
    }
    let dir = workspace(&text);
    ok(dir.path(), &["apply", "--auto-approve"]);
    let workers: Vec<std::process::Child> = (0..3)
        .map(|i| {
            coffer(dir.path())
                .args([
                    "worker",
                    "--name",
                    &format!("w{i}"),
                    "--poll-interval",
                    "1s",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let jobs = loop {
        let jobs: Value = serde_json::from_str(&ok(
            dir.path(),
            &["jobs", "list", "--kind", "backup", "--json"],
        ))
        .unwrap();
        let jobs = jobs.as_array().unwrap().clone();
        // a tick after the top of the hour adds the next run's jobs: wait for all there are
        let done = jobs.iter().filter(|j| j["state"] == "COMPLETED").count();
        if (done > n && done == jobs.len()) || std::time::Instant::now() > deadline {
            break jobs;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let mut logs = String::new();
    for mut w in workers {
        let status = stop(&mut w);
        let mut err = String::new();
        use std::io::Read;
        w.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert!(status.success(), "{err}");
        logs.push_str(&err);
    }
    // one job per directory and run (one run, or two when the test straddles an hour)
    let mut runs: Vec<(String, String)> = jobs
        .iter()
        .map(|j| {
            (
                j["resource_arn"].as_str().unwrap().to_string(),
                j["scheduled_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    runs.sort();
    runs.dedup();
    assert_eq!(runs.len(), jobs.len(), "{jobs:#?}\n{logs}");
    assert!(
        jobs.len() == n + 1 || jobs.len() == 2 * (n + 1),
        "one job per directory and run: {jobs:#?}\n{logs}"
    );
    assert!(
        jobs.iter().all(|j| j["state"] == "COMPLETED"),
        "{jobs:#?}\n{logs}"
    );
    // one snapshot per job, none twice
    let snapshots = crate::files::vault_snapshots(data.path());
    assert_eq!(snapshots.len(), jobs.len(), "{logs}");
    let mut by_job: Vec<String> = snapshots
        .iter()
        .flat_map(|s| {
            s.tags
                .iter()
                .filter(|t| t.starts_with("coffer:job="))
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    by_job.sort();
    by_job.dedup();
    assert_eq!(by_job.len(), jobs.len());
    // every worker was seen, and none holds a job now
    let workers: Value =
        serde_json::from_str(&ok(dir.path(), &["workers", "list", "--json"])).unwrap();
    let mut names: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["w0", "w1", "w2"], "{workers:#}");
    assert!(workers
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["jobs_held"] == 0));
}

/// Issue 15: a worker leaves alone a file restore that a live `restore start` (holding the
/// runner lock) is running, and ends one whose process is gone once the lock is free.
#[test]
fn a_worker_leaves_a_running_file_restore_to_its_process_and_ends_an_orphaned_one() {
    use coffer::catalog::Catalog;
    let (conn, data) = (pg_test::database(), shared());
    let dir = workspace(&config(&conn, data.path()));
    ok(dir.path(), &["apply", "--auto-approve"]);
    let report: Value = serde_json::from_str(&ok(
        dir.path(),
        &["run", "--at", "2026-12-05T03:10:00Z", "--json"],
    ))
    .unwrap();
    let point = report["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();
    let target = coffer::pg::PgTarget {
        conn_str: conn.clone(),
        schema: "team".into(),
    };
    let mut catalog = coffer::catalog::PgCatalog::open(&target).unwrap();
    let now = chrono::Utc::now();
    let job = catalog
        .create_job(
            &coffer::catalog::NewJob {
                kind: coffer::jobs::JobKind::Restore,
                plan: None,
                rule: None,
                resource_arn: format!("dir:{}/data/docs", data.path().display()),
                vault: "main".into(),
                windows: coffer::jobs::Windows::on_demand(now),
                options: Default::default(),
                recovery_point_id: Some(point),
                source_recovery_point_id: None,
            },
            now,
        )
        .unwrap()
        .unwrap();
    for s in [
        coffer::jobs::JobState::Pending,
        coffer::jobs::JobState::Running,
    ] {
        catalog.transition_job(&job.id, s, now, None).unwrap();
    }
    // the `restore start` running it holds the runner lock
    let mut client = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO team.state_locks (workspace, name, lock_id, info, expires_at)
             VALUES ('default', 'runner', 'restore-1', $1, now() + interval '1 hour')",
            &[&postgres::types::Json(serde_json::json!({
                "id": "restore-1", "operation": "restore start", "pid": 4242, "host": "laptop",
                "user": "alice", "created_at": "2026-12-01T10:00:00Z", "version": "0.1.0"
            }))],
        )
        .unwrap();
    let tick_once = || {
        let mut w = coffer(dir.path())
            .args(["worker", "--name", "w", "--poll-interval", "1s"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = std::io::BufReader::new(w.stderr.take().unwrap());
        let mut log = String::new();
        loop {
            use std::io::BufRead;
            let mut line = String::new();
            if err.read_line(&mut line).unwrap() == 0 {
                break;
            }
            log.push_str(&line);
            if line.contains("tick done") || line.contains("tick failed") {
                break;
            }
        }
        stop(&mut w);
        log
    };
    let log = tick_once();
    let state = |c: &coffer::catalog::PgCatalog| c.job(&job.id).unwrap().unwrap().state();
    assert_eq!(state(&catalog), coffer::jobs::JobState::Running, "{log}");
    // its process died: once its lock is gone, the next worker tick ends the job
    client
        .execute(
            "DELETE FROM team.state_locks WHERE lock_id = 'restore-1'",
            &[],
        )
        .unwrap();
    let log = tick_once();
    let ended = catalog.job(&job.id).unwrap().unwrap();
    assert_eq!(ended.state(), coffer::jobs::JobState::Failed, "{log}");
}

/// Issue 15: a worker that dies mid-job (the process aborts right after its backup was made,
/// as kill -9 would end it) keeps its claim until the lease ends; then another worker claims
/// the job and adopts the backup the dead one made, so it is not made twice.
#[test]
fn a_worker_that_dies_mid_job_has_it_finished_by_another_after_the_lease() {
    let (conn, data) = (pg_test::database(), shared());
    let text = config(&conn, data.path()).replace(
        "schedule     = \"cron(0 3 * * ? *)\"",
        "schedule     = \"cron(0 * * * ? *)\"\n    allow_more_frequent_than_12h = true",
    );
    let dir = workspace(&text);
    ok(dir.path(), &["apply", "--auto-approve"]);
    let dead = coffer(dir.path())
        .args(["worker", "--name", "doomed", "--poll-interval", "1s"])
        .env("COFFER_FAILPOINT", "after-backup-request")
        .output()
        .unwrap();
    assert!(!dead.status.success(), "the fail point ends the worker");
    let held: Value =
        serde_json::from_str(&ok(dir.path(), &["workers", "list", "--json"])).unwrap();
    assert_eq!(held[0]["jobs_held"], 1, "{held:#}");
    let started = std::time::Instant::now();
    let mut rescuer = coffer(dir.path())
        .args(["worker", "--name", "rescuer", "--poll-interval", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let jobs = backups_once_completed(dir.path(), started + std::time::Duration::from_secs(90));
    stop(&mut rescuer);
    assert!(jobs.iter().all(|j| j["state"] == "COMPLETED"), "{jobs:#?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(20),
        "the job waited for the dead worker's lease to end"
    );
    let snapshots = crate::files::vault_snapshots(data.path());
    assert_eq!(snapshots.len(), jobs.len(), "adopted, not made twice");
}

/// Issue 15: an idle worker sleeps until its next run, and a job created meanwhile wakes it
/// at once (LISTEN/NOTIFY); without the wake-up it would sleep for hours.
#[test]
fn a_job_created_while_a_worker_sleeps_wakes_it() {
    use coffer::catalog::Catalog;
    let (conn, data) = (pg_test::database(), shared());
    let dir = workspace(&config(&conn, data.path()));
    ok(dir.path(), &["apply", "--auto-approve"]);
    let mut w = coffer(dir.path())
        .args(["worker", "--name", "sleeper", "--poll-interval", "1h"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(w.stderr.take().unwrap());
    loop {
        use std::io::BufRead;
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "the worker ended");
        if line.contains("sleeping until") {
            break;
        }
    }
    let target = coffer::pg::PgTarget {
        conn_str: conn.clone(),
        schema: "team".into(),
    };
    let mut catalog = coffer::catalog::PgCatalog::open(&target).unwrap();
    let now = chrono::Utc::now();
    let job = catalog
        .create_job(
            &coffer::catalog::NewJob {
                kind: coffer::jobs::JobKind::Backup,
                plan: None,
                rule: None,
                resource_arn: format!("dir:{}/data/docs", data.path().display()),
                vault: "main".into(),
                windows: coffer::jobs::Windows::on_demand(now),
                options: Default::default(),
                recovery_point_id: None,
                source_recovery_point_id: None,
            },
            now,
        )
        .unwrap()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let state = loop {
        let s = catalog.job(&job.id).unwrap().unwrap().state();
        if s == coffer::jobs::JobState::Completed || std::time::Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    stop(&mut w);
    assert_eq!(state, coffer::jobs::JobState::Completed);
}

/// What a worker of [`three_workers_over_moto_run_a_thousand_backups_once_through_a_kill_and_a_restart`]
/// is started with.
fn aws_worker(dir: &Path, name: &str) -> std::process::Child {
    let mut c = coffer(dir);
    crate::moto::aws_env(&mut c)
        .args([
            "worker",
            "--name",
            name,
            "--poll-interval",
            "1s",
            "--max-jobs-per-service",
            "30",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).unwrap())
        .spawn()
        .unwrap()
}

/// The last lines of every worker's log in `dir`.
fn worker_logs(dir: &Path) -> String {
    (0..3)
        .map(|i| {
            let log = std::fs::read_to_string(dir.join(format!("w{i}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            format!(
                "w{i}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The backup jobs as `jobs list` has them, or nothing while the database is restarting.
fn backup_jobs(dir: &Path) -> Option<Vec<Value>> {
    let r = run(coffer(dir).args(["jobs", "list", "--kind", "backup", "--json"]));
    (r.code == 0).then(|| serde_json::from_str::<Vec<Value>>(&r.stdout).unwrap())
}

/// Issue 15: three workers over moto run a thousand backup jobs between them. One is killed
/// with SIGKILL mid-run and PostgreSQL is restarted under the other two mid-tick: the
/// survivors reconnect, finish the dead worker's jobs after its lease, and every job
/// completes once, with one snapshot, none made twice.
#[test]
fn three_workers_over_moto_run_a_thousand_backups_once_through_a_kill_and_a_restart() {
    const N: usize = 1000;
    // a region of this test's own: nothing else looks at its volumes and snapshots
    let region = "us-gov-west-1";
    let cluster = pg_test::Cluster::private();
    let conn = cluster.database();
    let rt = crate::moto::runtime();
    let ec2 = aws_sdk_ec2::Client::new(&rt.block_on(crate::moto::sdk(region)));
    rt.block_on(async {
        for chunk in (0..N).collect::<Vec<_>>().chunks(50) {
            let made = chunk
                .iter()
                .map(|_| crate::moto::volume(&ec2, region, &[("Backup", "scale")]));
            futures_util::future::join_all(made).await;
        }
    });
    // a daily run that was due two minutes ago: the workers' first tick finds it, and the
    // next is a day away
    let due = chrono::Utc::now() - chrono::Duration::minutes(2);
    let text = format!(
        r#"
coffer {{
  backend "postgres" {{
    conn_str = "{conn}"
    schema   = "team"
  }}
}}

provider "aws" {{
  region = "{region}"
}}

vault "main" {{}}

plan "daily" {{
  rule "nightly" {{
    schedule          = "cron({} {} * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.main
  }}
}}

selection "scale" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["scale"] }}
}}
"#,
        chrono::Timelike::minute(&due),
        chrono::Timelike::hour(&due),
    );
    let dir = workspace(&text);
    let mut apply = coffer(dir.path());
    let r = run(crate::moto::aws_env(&mut apply).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let started = std::time::Instant::now();
    let mut workers: Vec<std::process::Child> = (0..3)
        .map(|i| aws_worker(dir.path(), &format!("w{i}")))
        .collect();
    let completed = |jobs: &[Value]| jobs.iter().filter(|j| j["state"] == "COMPLETED").count();
    let wait_for = |done: usize| loop {
        if let Some(jobs) = backup_jobs(dir.path()) {
            if completed(&jobs) >= done {
                return;
            }
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "fewer than {done} jobs completed in 5 minutes\n{}",
            worker_logs(dir.path())
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // w0 dies mid-run, as a lost machine would
    wait_for(N / 5);
    workers[0].kill().unwrap();
    workers[0].wait().unwrap();
    // and the database goes away under the other two for a second
    wait_for(N / 2);
    cluster.restart(std::time::Duration::from_secs(1));
    let jobs = loop {
        let jobs = backup_jobs(dir.path()).unwrap_or_default();
        if (jobs.len() >= N && completed(&jobs) == jobs.len())
            || started.elapsed() > std::time::Duration::from_secs(300)
        {
            break jobs;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    for mut w in workers.drain(1..) {
        let status = stop(&mut w);
        assert!(status.success(), "{}", worker_logs(dir.path()));
    }
    let logs = worker_logs(dir.path());
    assert_eq!(jobs.len(), N, "one job per volume\n{logs}");
    assert_eq!(completed(&jobs), N, "{logs}");
    let mut resources: Vec<&str> = jobs
        .iter()
        .map(|j| j["resource_arn"].as_str().unwrap())
        .collect();
    resources.sort();
    resources.dedup();
    assert_eq!(resources.len(), N);
    // one snapshot per job, none twice, even for the jobs the dead worker had started
    let snapshots = rt.block_on(async {
        let mut all = Vec::new();
        let mut pages = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag-key")
                    .values("coffer:job")
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            all.extend(page.expect("DescribeSnapshots").snapshots().to_vec());
        }
        all
    });
    let mut by_job: Vec<String> = snapshots
        .iter()
        .filter_map(|s| crate::moto::ec2_tag(s.tags(), "coffer:job").map(str::to_string))
        .collect();
    by_job.sort();
    let made = by_job.len();
    let twice: Vec<String> = by_job
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].clone())
        .collect();
    by_job.dedup();
    // what the workers said about those jobs' volumes, and when the snapshots were made
    let volumes: Vec<String> = snapshots
        .iter()
        .filter(|s| {
            crate::moto::ec2_tag(s.tags(), "coffer:job")
                .is_some_and(|j| twice.iter().any(|t| t == j))
        })
        .map(|s| {
            format!(
                "{} of {} at {:?}",
                s.snapshot_id().unwrap_or_default(),
                s.volume_id().unwrap_or_default(),
                s.start_time()
            )
        })
        .collect();
    let said: String = (0..3)
        .flat_map(|i| {
            let log = std::fs::read_to_string(dir.path().join(format!("w{i}.log"))).unwrap();
            log.lines()
                .filter(|l| {
                    twice.iter().any(|j| l.contains(j.as_str()))
                        || volumes
                            .iter()
                            .any(|v| v.split(' ').nth(2).is_some_and(|vol| l.contains(vol)))
                        || l.contains("WARN")
                        || l.contains("ERROR")
                })
                .map(|l| format!("w{i}: {}\n", &l[..l.len().min(400)]))
                .collect::<Vec<_>>()
        })
        .collect();
    let said = format!("{volumes:#?}\n{said}");
    assert_eq!(
        made,
        by_job.len(),
        "jobs that made two snapshots: {twice:?}\n{said}"
    );
    assert_eq!(made, N, "one snapshot per job");
    let full: String = (1..3)
        .map(|i| std::fs::read_to_string(dir.path().join(format!("w{i}.log"))).unwrap())
        .collect();
    assert!(
        full.contains("tick failed") || full.contains("cannot"),
        "the restart was seen by the workers:\n{logs}"
    );
    eprintln!(
        "{N} jobs through 3 workers, a kill and a restart in {:?}",
        started.elapsed()
    );
}

/// Issue 15: told to stop, a worker whose job does not finish within `--shutdown-timeout`
/// hands the job back and leaves; another worker takes it at once, without waiting for a
/// lease to end, and finishes the backup the first one started (one snapshot).
#[test]
fn a_stopped_worker_hands_back_what_it_holds_after_its_shutdown_timeout() {
    let (conn, data) = (pg_test::database(), shared());
    let text = config(&conn, data.path()).replace(
        "schedule     = \"cron(0 3 * * ? *)\"",
        "schedule     = \"cron(0 * * * ? *)\"\n    allow_more_frequent_than_12h = true",
    );
    let dir = workspace(&text);
    ok(dir.path(), &["apply", "--auto-approve"]);
    let mut stuck = coffer(dir.path())
        .args([
            "worker",
            "--name",
            "stuck",
            "--poll-interval",
            "1s",
            "--shutdown-timeout",
            "2s",
        ])
        .env("COFFER_FAILPOINT", "backup-running-pause")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(stuck.stderr.take().unwrap());
    let mut log = String::new();
    loop {
        use std::io::BufRead;
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the worker ended\n{log}"
        );
        log.push_str(&line);
        if line.contains("fail point backup-running-pause reached") {
            break;
        }
    }
    let held: Value =
        serde_json::from_str(&ok(dir.path(), &["workers", "list", "--json"])).unwrap();
    assert_eq!(held[0]["jobs_held"], 1, "{held:#}");
    let asked = std::time::Instant::now();
    let status = stop(&mut stuck);
    let waited = asked.elapsed();
    use std::io::Read;
    err.read_to_string(&mut log).unwrap();
    assert!(status.success(), "{log}");
    assert!(
        waited >= std::time::Duration::from_secs(2) && waited < std::time::Duration::from_secs(15),
        "left after its shutdown timeout, not before: {waited:?}\n{log}"
    );
    assert!(
        log.contains("handed back 1 unfinished job for other workers"),
        "{log}"
    );
    let held: Value =
        serde_json::from_str(&ok(dir.path(), &["workers", "list", "--json"])).unwrap();
    assert_eq!(held[0]["jobs_held"], 0, "{held:#}");
    // the job is free now: another worker finishes it well inside the 30 s a lease lasts
    let mut next = coffer(dir.path())
        .args(["worker", "--name", "next", "--poll-interval", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let jobs = backups_once_completed(dir.path(), started + std::time::Duration::from_secs(60));
    stop(&mut next);
    assert!(jobs.iter().all(|j| j["state"] == "COMPLETED"), "{jobs:#?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "taken at once, not after the lease: {:?}",
        started.elapsed()
    );
    assert_eq!(
        crate::files::vault_snapshots(data.path()).len(),
        jobs.len(),
        "the backup the first worker started was finished, not made again"
    );
}

/// Two workers sharing one database, each ticking over a control that is NON_COMPLIANT,
/// send `CONTROL_NON_COMPLIANT` once between them: the catalog records the change once.
#[test]
fn two_workers_announce_a_control_becoming_non_compliant_once() {
    use std::io::BufRead;
    let (conn, data) = (pg_test::database(), shared());
    let text = config(&conn, data.path()).replace("cron(0 3 * * ? *)", "cron(0 3 1 1 ? 2199)")
        + crate::notifications::CONTROL_NOTIFICATION;
    let dir = workspace(&text);
    ok(dir.path(), &["apply", "--auto-approve"]);
    let mut workers: Vec<std::process::Child> = (0..2)
        .map(|i| {
            coffer(dir.path())
                .args([
                    "worker",
                    "--name",
                    &format!("w{i}"),
                    "--poll-interval",
                    "1s",
                    "--log-format",
                    "json",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // each has ticked, and evaluated the controls after its tick
    let mut logs: Vec<_> = workers
        .iter_mut()
        .map(|w| std::io::BufReader::new(w.stderr.take().unwrap()).lines())
        .collect();
    let mut seen = Vec::new();
    for lines in &mut logs {
        crate::cli::wait_for_event(lines, "tick", &mut seen);
    }
    for w in &mut workers {
        unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
    }
    for (w, lines) in workers.iter_mut().zip(&mut logs) {
        crate::cli::wait_for_event(lines, "stopped", &mut seen);
        assert!(w.wait().unwrap().success(), "{}", seen.join("\n"));
    }
    let sent = crate::notifications::control_notifications(dir.path());
    assert_eq!(sent.len(), 1, "{sent:#?}\n{}", seen.join("\n"));
    assert_eq!(sent[0]["control"], "BACKUP_LAST_RECOVERY_POINT_CREATED");
}
