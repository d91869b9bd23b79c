//! `coffer serve` (issue 19) through the built binary over a seeded file-level workspace: a
//! night that was missed (coffer did not run at all) and a night that failed (its vault's
//! repository was gone), every view and its JSON served (the JSON valid
//! against its schema in schema/), every link between pages leading somewhere, GET only, and
//! the bearer token required beyond loopback.

use crate::schemas::assert_valid;
use crate::support::{coffer, ok_run, run, workspace};
use chrono::{Duration, Utc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};

const CONFIG: &str = r#"
vault "main" {
  storage = "file://./vaults/main"
}

plan "daily" {
  rule "nightly" {
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
    lifecycle {
      delete_after = "35d"
    }
  }
}

selection "all" {
  plan      = plan.daily
  resources = ["dir:*"]
}

directory "web" {
  path = "./web"
}

directory "db" {
  path = "./db"
}
"#;

/// A workspace applied now and left alone the first night (missed: coffer's first tick
/// never looks back past a start window), ticked the second night with its repository moved
/// away (failed), and the third night as it should be; and the time to look at it from, the
/// third day at noon.
pub fn seeded() -> (tempfile::TempDir, String) {
    let dir = workspace(CONFIG);
    let path = dir.path();
    for d in ["web", "db"] {
        std::fs::create_dir_all(path.join(d)).unwrap();
        std::fs::write(path.join(d).join("file.txt"), format!("the {d} data")).unwrap();
    }
    let ok = |r: crate::support::Run, what: &str| ok_run(&r, what);
    ok(run(coffer(path).args(["apply", "--auto-approve"])), "apply");
    let night = |n: i64| {
        (Utc::now().date_naive() + Duration::days(n))
            .and_hms_opt(3, 10, 0)
            .unwrap()
            .and_utc()
            .to_rfc3339()
    };
    let repo = path.join("vaults/main");
    let away = path.join("vaults/main.away");
    std::fs::rename(&repo, &away).unwrap();
    let r = run(coffer(path).args(["run", "--at", &night(2)]));
    assert_ne!(
        r.code, 0,
        "night 2 fails without its repository: {}",
        r.stdout
    );
    std::fs::rename(&away, &repo).unwrap();
    ok(
        run(coffer(path).args(["run", "--at", &night(3)])),
        "night 3",
    );
    ok(
        run(coffer(path).args(["vault", "check", "main"])),
        "vault check",
    );
    let noon = (Utc::now().date_naive() + Duration::days(3))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339();
    (dir, noon)
}

/// `coffer serve` on a free port; returns the process and its address.
pub fn serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = coffer(dir);
    cmd.arg("serve").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr)
}

/// One request: the status, the headers (lower-cased) and the body.
pub fn request(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = Vec::new();
    s.read_to_end(&mut text).unwrap();
    let text = String::from_utf8_lossy(&text).into_owned();
    let code = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (code, head.to_ascii_lowercase(), body.to_string())
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let (code, _, body) = request(addr, "GET", path, None);
    (code, body)
}

/// Every `href="/…"` of a page, decoded from HTML.
fn links(page: &str) -> BTreeSet<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with('/'))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_view_and_its_json_is_served_and_the_matrix_shows_the_failed_and_missed_nights() {
    let (dir, noon) = seeded();
    let (child, addr) = serve(dir.path(), &["--listen", "127.0.0.1:0", "--at", &noon], &[]);
    let _stop = Stop(child);
    let (code, headers, page) = request(&addr, "GET", "/", None);
    assert_eq!(code, 200, "{page}");
    assert!(
        headers.contains("content-security-policy: default-src 'none'; style-src 'self'"),
        "{headers}"
    );
    assert!(headers.contains("x-content-type-options: nosniff"));
    assert!(
        page.contains("All 2 resources are protected and fresh"),
        "{page}"
    );

    let (code, matrix) = get(&addr, "/matrix?days=30");
    assert_eq!(code, 200);
    let failed = matrix.matches("data-status=\"failed\"").count();
    let missed = matrix.matches("data-status=\"missed\"").count();
    assert_eq!((failed, missed), (2, 2), "{matrix}");

    // the JSON of every view follows its schema
    for (path, schema) in [
        ("/api/v1/overview", "dashboard-overview"),
        ("/api/v1/matrix?days=7", "dashboard-matrix"),
        ("/api/v1/jobs", "dashboard-jobs"),
        ("/api/v1/vaults", "dashboard-vaults"),
        ("/api/v1/schedule", "dashboard-schedule"),
        ("/api/v1/audit", "dashboard-audit"),
    ] {
        let (code, body) = get(&addr, path);
        assert_eq!(code, 200, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_valid(schema, &v);
    }
    let (_, jobs) = get(&addr, "/api/v1/jobs?status=failed");
    let jobs: Value = serde_json::from_str(&jobs).unwrap();
    assert_eq!(jobs["total"], 2, "{jobs:#}");
    let id = jobs["rows"][0]["id"].as_str().unwrap().to_string();
    let (code, job) = get(&addr, &format!("/api/v1/jobs/{id}"));
    assert_eq!(code, 200);
    let job: Value = serde_json::from_str(&job).unwrap();
    assert_valid("dashboard-job", &job);
    assert!(
        job["error"].as_str().unwrap().contains("repository"),
        "{job:#}"
    );
    let arn = job["resource_arn"].as_str().unwrap().to_string();
    let (code, res) = get(
        &addr,
        &format!(
            "/api/v1/resources/{}",
            arn.replace('/', "%2F").replace(':', "%3A")
        ),
    );
    assert_eq!(code, 200, "{res}");
    let res: Value = serde_json::from_str(&res).unwrap();
    assert_valid("dashboard-resource", &res);
    assert_eq!(res["protections"][0]["source"], "main.hcl:17", "{res:#}");

    // every link of every page leads to a page (the whole site, crawled from the overview)
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = vec!["/".into()];
    while let Some(p) = todo.pop() {
        if !seen.insert(p.clone()) {
            continue;
        }
        assert!(seen.len() < 500, "the crawl does not end: {seen:?}");
        let (code, body) = get(&addr, &p);
        assert_eq!(code, 200, "{p} answered {code}");
        todo.extend(links(&body).into_iter().filter(|l| !seen.contains(l)));
    }
    assert!(
        seen.iter().any(|p| p.starts_with("/resources/")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|p| p.starts_with("/jobs/")), "{seen:?}");

    // read-only: nothing but GET (and HEAD)
    assert_eq!(request(&addr, "POST", "/", None).0, 405);
    assert_eq!(request(&addr, "DELETE", "/api/v1/jobs", None).0, 405);
    assert_eq!(get(&addr, "/jobs/no-such-job").0, 404);
    assert_eq!(get(&addr, "/api/v1/matrix?days=lots").0, 400);
}

/// The vault page shows each vault's newest `coffer vault check`: intact after the seeding's
/// check, then missing once a check finds its repository gone.
#[test]
fn the_vault_page_shows_the_last_check() {
    let (dir, noon) = seeded();
    let last_check = |want: &str| -> (Value, String) {
        let (child, addr) = serve(dir.path(), &["--listen", "127.0.0.1:0", "--at", &noon], &[]);
        let _stop = Stop(child);
        let (code, body) = get(&addr, "/api/v1/vaults");
        assert_eq!(code, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_valid("dashboard-vaults", &v);
        let main = v["vaults"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "main")
            .unwrap()
            .clone();
        assert_eq!(main["last_check_status"], want, "{main:#}");
        (main["last_check"].clone(), get(&addr, "/vaults").1)
    };
    let (check, page) = last_check("ok");
    assert_eq!(
        check["snapshots"], 2,
        "night 3 made a point of each directory: {check:#}"
    );
    assert_eq!(
        (check["missing"].clone(), check["errors"].clone()),
        (Value::Bool(false), 0.into())
    );
    assert!(page.contains("intact, 2 snapshots"), "{page}");

    let repo = dir.path().join("vaults/main");
    let away = dir.path().join("vaults/main.away");
    std::fs::rename(&repo, &away).unwrap();
    let r = run(coffer(dir.path()).args(["vault", "check", "main", "--json"]));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid("vault-check", &out);
    assert_eq!(
        (out["missing"].clone(), out["recorded"].clone()),
        (Value::Bool(true), Value::Bool(true)),
        "{out:#}"
    );
    let (check, page) = last_check("failed");
    assert_eq!(check["missing"], true, "{check:#}");
    assert_eq!(
        check["checked_at"], out["checked_at"],
        "the check recorded is the one made"
    );
    assert!(page.contains("repository missing"), "{page}");
    std::fs::rename(&away, &repo).unwrap();
}

#[test]
fn beyond_loopback_the_token_is_required_and_a_request_without_it_gets_401() {
    let (dir, _) = seeded();
    let r = run(coffer(dir.path()).args(["serve", "--listen", "0.0.0.0:0"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--auth-token-env"), "{}", r.stderr);
    let r = run(coffer(dir.path()).args([
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--auth-token-env",
        "COFFER_TEST_NO_SUCH_TOKEN",
    ]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not set"), "{}", r.stderr);

    let secret = "s3cret-token-for-the-test";
    let (child, addr) = serve(
        dir.path(),
        &[
            "--listen",
            "0.0.0.0:0",
            "--auth-token-env",
            "COFFER_TEST_TOKEN",
        ],
        &[("COFFER_TEST_TOKEN", secret)],
    );
    let _stop = Stop(child);
    let port = addr.rsplit(':').next().unwrap();
    let local = format!("127.0.0.1:{port}");
    for path in [
        "/",
        "/matrix",
        "/api/v1/overview",
        "/metrics",
        "/assets/coffer.css",
    ] {
        let (code, headers, _) = request(&local, "GET", path, None);
        assert_eq!(code, 401, "{path}");
        assert!(headers.contains("www-authenticate: bearer"), "{headers}");
        assert_eq!(request(&local, "GET", path, Some("wrong")).0, 401, "{path}");
        assert_eq!(request(&local, "GET", path, Some(secret)).0, 200, "{path}");
    }
    assert_eq!(request(&local, "GET", "/healthz", None).0, 200);
    let (_, _, page) = request(&local, "GET", "/", Some(secret));
    assert!(!page.contains(secret), "the token is never shown");
}
