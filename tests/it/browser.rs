//! The dashboard in a real browser (issue 19): `coffer serve` over the seeded workspace of
//! [`super::dashboard`], driven by Debian's chromium through playwright-core
//! (tests/browser/dashboard.mjs): no console error on any view, the matrix's failed and
//! missed cells, links between views, keyboard focus, axe-core with no serious or critical
//! violation, and a screenshot of each view under the test's output directory.

use crate::dashboard::{seeded, serve};
use crate::support::repo;

#[test]
fn every_view_works_in_chromium_and_axe_finds_no_serious_violation() {
    let browser_dir = repo().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "the browser tests need playwright-core and axe-core: run `npm ci --prefix tests/browser` (and `apt-get install chromium`), as .ci/run does"
    );
    let chromium = std::env::var("COFFER_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no browser at {chromium}: `apt-get install chromium`, or set COFFER_CHROMIUM"
    );
    let (dir, noon) = seeded();
    let (mut child, addr) = serve(dir.path(), &["--listen", "127.0.0.1:0", "--at", &noon], &[]);
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    let result = std::process::Command::new("node")
        .arg(browser_dir.join("dashboard.mjs"))
        .arg(format!("http://{addr}"))
        .arg(&out)
        .env("COFFER_CHROMIUM", &chromium)
        .output()
        .expect("node runs (apt-get install nodejs)");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        result.status.success(),
        "the browser checks failed:\n{}\n{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    for view in [
        "overview", "matrix", "jobs", "vaults", "schedule", "audit", "resource", "job",
    ] {
        let shot = out.join(format!("{view}.png"));
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "no screenshot of {view} at {}", shot.display());
    }
}
