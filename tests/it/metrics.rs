//! `coffer daemon --listen` (issue 16): the daemon serves `/metrics` in the Prometheus text
//! format (parsed here by a Prometheus parser, every name starting with `coffer_`, the
//! catalog's points, jobs and controls in it), `/healthz`, and `/readyz`, which turns
//! unready when the catalog cannot be read.

use crate::cli::wait_for_event;
use crate::support::{coffer, run, workspace, BASIC};
use std::io::{BufRead, Read, Write};

/// One GET over a plain connection: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let code = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // a chunked body: keep the chunks' data only
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (code, body)
}

#[test]
fn the_daemon_serves_metrics_health_and_readiness() {
    let config = format!(
        "{BASIC}\nframework \"ops\" {{\n  control \"BACKUP_LAST_RECOVERY_POINT_CREATED\" {{}}\n}}\n"
    )
    .replace(
        "any_tag = { Backup = [\"daily\"] }",
        "resources = [\"dir:*\"]",
    )
    // a rule the daemon never finds due, whatever the time of day the test runs at (03:00
    // with an 8-hour start window made it back up a second time between 03:00 and 11:00)
    .replace("cron(0 3 * * ? *)", "cron(0 3 1 1 ? 2199)");
    let dir = workspace(&config);
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/a.txt"), "some bytes").unwrap();
    let r = run(coffer(dir.path()).args(["apply", "--auto-approve"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let data = format!(
        "dir:{}",
        dir.path().join("data").canonicalize().unwrap().display()
    );
    let r =
        run(coffer(dir.path()).args(["backup", "start", "--resource", &data, "--vault", "main"]));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let mut child = coffer(dir.path())
        .args(["daemon", "--log-format", "json", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let listening = wait_for_event(&mut lines, "listening", &mut seen);
    let addr = listening["address"].as_str().unwrap().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    wait_for_event(&mut lines, "sleeping", &mut seen);

    assert_eq!(get(&addr, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(get(&addr, "/readyz"), (200, "ready\n".to_string()));
    // the dashboard is served beside them (issue 19)
    let (code, page) = get(&addr, "/matrix");
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Protection matrix"), "{page}");
    let (code, text) = get(&addr, "/metrics");
    assert_eq!(code, 200, "{text}");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text");
    assert!(!scrape.samples.is_empty());
    for s in &scrape.samples {
        assert!(s.metric.starts_with("coffer_"), "{}", s.metric);
    }
    let value = |name: &str, label: (&str, &str)| -> Option<f64> {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get(label.0) == Some(label.1))
            .and_then(|s| match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                _ => None,
            })
    };
    assert_eq!(
        value("coffer_jobs", ("state", "COMPLETED")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value("coffer_recovery_points", ("vault", "main")),
        Some(1.0),
        "{text}"
    );
    let newest = value(
        "coffer_last_recovery_point_timestamp_seconds",
        ("resource_arn", &data),
    );
    let age = chrono::Utc::now().timestamp() as f64 - newest.expect("the newest point's time");
    assert!((0.0..600.0).contains(&age), "{age}");
    assert_eq!(
        value(
            "coffer_control_compliant",
            ("control", "BACKUP_LAST_RECOVERY_POINT_CREATED")
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value("coffer_backup_bytes_total", ("vault", "main")).unwrap() > 0.0,
        "{text}"
    );
    assert!(
        text.contains("coffer_job_duration_seconds_bucket"),
        "{text}"
    );
    assert_eq!(
        value("coffer_rpo_violations", ("framework", "ops")),
        Some(0.0),
        "{text}"
    );

    // the catalog locked away: a directory where its file was
    let catalog = dir.path().join(".coffer/catalog.db");
    std::fs::rename(&catalog, dir.path().join("catalog.db.away")).unwrap();
    std::fs::create_dir(&catalog).unwrap();
    let (code, body) = get(&addr, "/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(
        body.starts_with("not ready: the catalog does not answer"),
        "{body}"
    );
    assert_eq!(get(&addr, "/healthz").0, 200);
    std::fs::remove_dir(&catalog).unwrap();
    std::fs::rename(dir.path().join("catalog.db.away"), &catalog).unwrap();
    assert_eq!(get(&addr, "/readyz").0, 200);

    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_for_event(&mut lines, "stopped", &mut seen);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_busy_or_bad_listen_address_fails_the_daemon_at_once() {
    let dir = workspace(BASIC);
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    assert_eq!(
        run(coffer(dir.path()).args(["apply", "--auto-approve"])).code,
        0
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let r = run(coffer(dir.path()).args(["daemon", "--listen", &addr]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        r.stderr
    );
}
