//! Scale benchmark for plan and apply (issue 2): generates a configuration of 10,000 objects
//! (1,000 plans × 5 rules + 4,000 selections, plus their plans and two vaults), then times the
//! release `coffer` binary and reads its peak memory (max RSS from wait4):
//!
//! 1. `plan` against empty state (target < 1 s, < 200 MB)
//! 2. `apply` of everything from empty state (target < 3 s)
//! 3. `plan` against the state that holds all of them (target < 1 s, < 200 MB)
//!
//! Run with `cargo bench --bench scale`. Each step runs several times; the median time and
//! the largest peak memory are reported. This is a benchmark, not a test: it reports figures
//! and whether they meet the targets, and never fails a test run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The generated configuration: `plans` plans of `rules` rules each and `selections` selections.
pub fn generate(plans: usize, rules: usize, selections: usize) -> String {
    let mut out = String::with_capacity(plans * rules * 300 + selections * 250);
    out.push_str("vault \"main\" {\n  storage = \"file://./vaults/main\"\n}\n\nvault \"dr\" {\n  storage = \"file://./vaults/dr\"\n}\n\n");
    for p in 0..plans {
        let _ = writeln!(out, "plan \"plan-{p}\" {{");
        for r in 0..rules {
            let _ = writeln!(
                out,
                "  rule \"rule-{r}\" {{\n    schedule          = \"cron({} {} ? * {} *)\"\n    start_window      = \"1h\"\n    completion_window = \"{}h\"\n    target_vault      = vault.main\n    lifecycle {{\n      delete_after = \"{}d\"\n    }}\n    recovery_point_tags = {{ Plan = \"plan-{p}\", Rule = \"rule-{r}\" }}\n    copy_to {{\n      vault = vault.dr\n    }}\n  }}",
                (r * 10) % 60,
                p % 24,
                r % 7 + 1,
                r + 2,
                30 + r
            );
        }
        out.push_str("}\n\n");
    }
    for s in 0..selections {
        let _ = writeln!(
            out,
            "selection \"sel-{s}\" {{\n  plan      = plan.plan-{}\n  any_tag   = {{ Team = [\"team-{}\"] }}\n  resources = [\"arn:aws:ec2:us-east-1:111122223333:volume/vol-{s:08x}\"]\n  condition {{\n    string_equals = {{ Environment = \"prod\" }}\n  }}\n}}\n",
            s % plans.max(1),
            s % 50
        );
    }
    out
}

struct Measured {
    elapsed: Duration,
    max_rss_kib: i64,
    code: i32,
}

/// Runs coffer and waits with wait4 to read the child's own peak memory (wait4 reaps the
/// child, which clippy cannot see).
#[allow(clippy::zombie_processes)]
fn measure(dir: &Path, args: &[&str]) -> Measured {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COFFER_VAULT_PASSWORD", "bench")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("coffer starts");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(r, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        elapsed,
        max_rss_kib: usage.ru_maxrss,
        code,
    }
}

fn report(name: &str, runs: &[Measured], time_target: Duration, mem_target_mib: Option<i64>) {
    let mut times: Vec<Duration> = runs.iter().map(|m| m.elapsed).collect();
    times.sort();
    let median = times[times.len() / 2];
    let peak_mib = runs.iter().map(|m| m.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0;
    let time_ok = median < time_target;
    let mem_ok = mem_target_mib.is_none_or(|t| peak_mib < t as f64);
    println!(
        "{name:<28} median {:>7.3} s (min {:.3}, max {:.3}, {} runs)  peak {:>6.1} MiB   target < {:?}{}  {}",
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        runs.len(),
        peak_mib,
        time_target,
        mem_target_mib.map(|m| format!(", < {m} MiB")).unwrap_or_default(),
        if time_ok && mem_ok { "OK" } else { "MISSED" }
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this without it, in a debug
    // build: then only a small smoke run checks that the benchmark itself works.
    let full = std::env::args().any(|a| a == "--bench");
    let runs: usize = std::env::var("COFFER_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 5 } else { 1 });
    let text = if full {
        generate(1000, 5, 4000)
    } else {
        generate(10, 5, 40)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), &text).expect("write config");
    println!(
        "configuration: {} bytes{} in {}",
        text.len(),
        if full {
            ", 10,000 objects (+2 vaults)"
        } else {
            " (smoke run; use cargo bench for figures)"
        },
        dir.path().display()
    );

    let mut empty_plan = Vec::new();
    for _ in 0..runs {
        let m = measure(dir.path(), &["plan"]);
        assert_eq!(m.code, 0, "plan failed");
        empty_plan.push(m);
    }
    report(
        "plan, empty state",
        &empty_plan,
        Duration::from_secs(1),
        Some(200),
    );

    let mut applies = Vec::new();
    for i in 0..runs {
        if i > 0 {
            std::fs::remove_dir_all(dir.path().join(".coffer")).expect("reset state");
        }
        let m = measure(dir.path(), &["apply", "--auto-approve"]);
        assert_eq!(m.code, 0, "apply failed");
        applies.push(m);
    }
    report(
        "apply 10,000 from empty",
        &applies,
        Duration::from_secs(3),
        None,
    );

    let mut full_plan = Vec::new();
    for _ in 0..runs {
        let m = measure(dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(m.code, 0, "plan against full state must show no changes");
        full_plan.push(m);
    }
    report(
        "plan, state holds all",
        &full_plan,
        Duration::from_secs(1),
        Some(200),
    );
}
