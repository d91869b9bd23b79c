//! Notifications (issue 16): a failed job's webhook reaches a local HTTP server with the
//! payload (checked against schema/notification.schema.json) and a header whose secret came
//! from the environment; a server that answers 500 twice and then 200 gets it three times and
//! it counts as delivered once; a dead endpoint does not fail the job; a command gets the
//! payload on standard input.

use crate::files::apply;
use crate::support::{coffer, run, workspace};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<String>,
    body: String,
}

/// An HTTP server on a free port answering with `statuses` in turn (then 200); returns its
/// address and what it received.
fn server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end().to_string();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                headers.push(line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock().unwrap().push(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let status = statuses.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (addr, got)
}

fn config(notification: &str) -> String {
    format!(
        r#"
vault "main" {{
  storage = "file://./vaults/main"
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
  path = "./docs"
}}
{notification}
"#
    )
}

#[test]
fn a_failed_backups_webhook_is_retried_through_two_500s_and_delivered_once() {
    let (addr, got) = server(vec![500, 500]);
    let dir = workspace(&config(&format!(
        r#"
notification "oncall" {{
  events  = ["BACKUP_JOB_FAILED"]
  retries = 3
  webhook {{
    url        = "http://{addr}/hook"
    headers    = {{ X-Team = "platform" }}
    header_env = {{ Authorization = "ONCALL_TOKEN" }}
  }}
}}
"#
    )));
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    apply(dir.path());
    // the vault's repository is gone by the night: the backup fails
    std::fs::remove_dir_all(dir.path().join("vaults/main")).unwrap();
    let r = run(coffer(dir.path())
        .args(["run", "--at", "2026-12-05T03:10:00Z", "--json"])
        .env("ONCALL_TOKEN", "Bearer s3cret"));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["jobs"][0]["state"], "FAILED");
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "two 500s, then the 200: {got:#?}");
    assert!(got.iter().all(|g| g.body == got[0].body));
    let payload: serde_json::Value = serde_json::from_str(&got[2].body).unwrap();
    crate::schemas::assert_valid("notification", &payload);
    assert_eq!(payload["event"], "BACKUP_JOB_FAILED");
    assert_eq!(payload["notification"], "oncall");
    assert_eq!(payload["job_id"], report["jobs"][0]["id"]);
    assert_eq!(payload["job_state"], "FAILED");
    let headers = got[2].headers.join("\n").to_ascii_lowercase();
    assert!(
        headers.contains("authorization: bearer s3cret"),
        "{headers}"
    );
    assert!(headers.contains("x-team: platform"), "{headers}");
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    // the secret is in no file coffer wrote
    for f in crate::support::files_under(&dir.path().join(".coffer")) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("s3cret"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn a_dead_endpoint_does_not_fail_the_job_and_a_command_gets_the_payload() {
    // a port nothing listens on
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let dir = workspace(&config(&format!(
        r#"
notification "dead" {{
  events  = ["BACKUP_JOB_COMPLETED"]
  retries = 1
  webhook {{
    url = "http://{dead}/hook"
  }}
}}
notification "script" {{
  events  = ["BACKUP_JOB_STARTED", "BACKUP_JOB_COMPLETED"]
  command = ["sh", "-c", "cat >> notified.jsonl; echo >> notified.jsonl"]
}}
"#
    )));
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/a.txt"), "hello").unwrap();
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-05T03:10:00Z", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["jobs"][0]["state"], "COMPLETED");
    assert!(
        r.stderr.contains(
            "notification dead of BACKUP_JOB_COMPLETED could not be delivered after 2 tries"
        ),
        "{}",
        r.stderr
    );
    let lines = std::fs::read_to_string(dir.path().join("notified.jsonl")).unwrap();
    let events: Vec<String> = lines
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(events, ["BACKUP_JOB_STARTED", "BACKUP_JOB_COMPLETED"]);
    // an on-demand backup notifies the same way
    let docs = format!(
        "dir:{}",
        dir.path().join("docs").canonicalize().unwrap().display()
    );
    let r =
        run(coffer(dir.path()).args(["backup", "start", "--resource", &docs, "--vault", "main"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = std::fs::read_to_string(dir.path().join("notified.jsonl")).unwrap();
    assert_eq!(
        lines.lines().filter(|l| !l.is_empty()).count(),
        4,
        "{lines}"
    );
}

/// A file restore (`restore start --target`, which runs outside the job runner) notifies its
/// end as the runner's jobs do.
#[test]
fn a_file_restore_notifies_that_it_completed() {
    let dir = workspace(&config(
        r#"
notification "script" {
  events  = ["RESTORE_JOB_COMPLETED", "RESTORE_JOB_FAILED"]
  command = ["sh", "-c", "cat >> notified.jsonl; echo >> notified.jsonl"]
}
"#,
    ));
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/a.txt"), "hello").unwrap();
    apply(dir.path());
    let r = run(coffer(dir.path()).args(["run", "--at", "2026-12-05T03:10:00Z", "--json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let point = report["jobs"][0]["recovery_point_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !dir.path().join("notified.jsonl").exists(),
        "a backup is not a restore"
    );
    let r = run(coffer(dir.path()).args([
        "restore",
        "start",
        "--recovery-point",
        &point,
        "--target",
        "restored",
        "--json",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let restored: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let lines = std::fs::read_to_string(dir.path().join("notified.jsonl")).unwrap();
    let payloads: Vec<serde_json::Value> = lines
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(payloads.len(), 1, "{lines}");
    crate::schemas::assert_valid("notification", &payloads[0]);
    assert_eq!(payloads[0]["event"], "RESTORE_JOB_COMPLETED");
    assert_eq!(payloads[0]["job_kind"], "restore");
    assert_eq!(payloads[0]["job_id"], restored["job_id"]);
    assert_eq!(payloads[0]["recovery_point_id"], point.as_str());
}

/// The `CONTROL_NON_COMPLIANT` lines a command notification appended to `notified.jsonl`.
pub(crate) fn control_notifications(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("notified.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "CONTROL_NON_COMPLIANT")
        .collect()
}

/// A command notification of `CONTROL_NON_COMPLIANT`, and a control the never backed up
/// directory fails.
pub(crate) const CONTROL_NOTIFICATION: &str = r#"
notification "compliance" {
  events  = ["CONTROL_NON_COMPLIANT"]
  command = ["sh", "-c", "cat >> notified.jsonl; echo >> notified.jsonl"]
}
framework "ops" {
  control "BACKUP_LAST_RECOVERY_POINT_CREATED" {
    max_age = "1d"
  }
}
"#;

/// A daemon started, ticked and stopped twice over a control that is NON_COMPLIANT sends
/// `CONTROL_NON_COMPLIANT` once: the catalog remembers it was sent.
#[test]
fn a_control_that_stays_non_compliant_is_announced_once_across_restarts() {
    use std::io::BufRead;
    // a rule the daemon never finds due, so nothing is backed up and the control stays failed
    let dir = workspace(
        &config(CONTROL_NOTIFICATION).replace("cron(0 3 * * ? *)", "cron(0 3 1 1 ? 2199)"),
    );
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    apply(dir.path());
    for start in 0..2 {
        let mut child = coffer(dir.path())
            .args(["daemon", "--log-format", "json"])
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        crate::cli::wait_for_event(&mut lines, "tick", &mut seen);
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        crate::cli::wait_for_event(&mut lines, "stopped", &mut seen);
        assert!(child.wait().unwrap().success(), "{}", seen.join("\n"));
        let sent = control_notifications(dir.path());
        assert_eq!(sent.len(), 1, "after start {start}: {sent:#?}");
        crate::schemas::assert_valid("notification", &sent[0]);
        assert_eq!(sent[0]["framework"], "ops");
        assert_eq!(sent[0]["control"], "BACKUP_LAST_RECOVERY_POINT_CREATED");
    }
}

#[test]
fn notification_mistakes_are_pointed_at() {
    let dir = workspace(&config(
        r#"
notification "bad" {
  events = ["BACKUP_JOB_FAILD"]
  command = ["x"]
  webhook {
    url = "ftp://nope"
  }
}
notification "nowhere" {
  events = ["BACKUP_JOB_FAILED"]
}
"#,
    ));
    let r = run(coffer(dir.path()).args(["validate"]));
    assert_eq!(r.code, 1);
    for e in [
        "`BACKUP_JOB_FAILD` is not an event coffer notifies of",
        "did you mean `BACKUP_JOB_FAILED`?",
        "`ftp://nope` is not an http(s) URL",
        "notification `bad` has both a webhook and a command",
        "notification `nowhere` delivers nowhere",
    ] {
        assert!(r.stderr.contains(e), "missing {e:?} in\n{}", r.stderr);
    }
}
