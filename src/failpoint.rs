//! Test-only fail points (after-backup-request, backup-running-pause, before-copies, after-copy-request,
//! after-restore-request, restore-test-before-validation, after-delete-request,
//! after-deregister-image, prune-locked, restore-running, restore-pause, apply-after-step-N):
//! `COFFER_FAILPOINT=NAME` makes the process stop at the named step,
//! so that crash safety is tested at a chosen moment rather than by racing a kill against a
//! sleep. Without the variable every fail point is a no-op.

fn armed(name: &str) -> bool {
    std::env::var("COFFER_FAILPOINT").is_ok_and(|v| v == name)
}

/// Aborts the process (as a kill would) when `name` is armed.
pub(crate) fn abort_at(name: &str) {
    if armed(name) {
        abort_now(name);
    }
}

/// Blocks the calling thread for good when `name` is armed, after saying so on stderr, so a
/// test can interrupt or kill the process while it is at that step.
pub(crate) fn pause_at(name: &str) {
    if armed(name) {
        eprintln!("coffer: fail point {name} reached; pausing");
        loop {
            std::thread::park();
        }
    }
}

/// For `COFFER_FAILPOINT=PREFIX-N`: the step number N after which to abort, if armed.
pub(crate) fn step(prefix: &str) -> Option<usize> {
    std::env::var("COFFER_FAILPOINT")
        .ok()?
        .strip_prefix(prefix)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// Aborts the process (as a kill would) with a message naming the fail point.
pub(crate) fn abort_now(name: &str) -> ! {
    eprintln!("coffer: fail point {name} reached; aborting");
    std::process::abort();
}
