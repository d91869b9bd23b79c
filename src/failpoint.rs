//! Test-only fail points: `COFFER_FAILPOINT=NAME` makes the process stop at the named step,
//! so that crash safety is tested at a chosen moment rather than by racing a kill against a
//! sleep. Without the variable every fail point is a no-op.

fn armed(name: &str) -> bool {
    std::env::var("COFFER_FAILPOINT").is_ok_and(|v| v == name)
}

/// Aborts the process (as a kill would) when `name` is armed.
pub(crate) fn abort_at(name: &str) {
    if armed(name) {
        eprintln!("coffer: fail point {name} reached; aborting");
        std::process::abort();
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
