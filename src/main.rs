//! The `coffer` binary: a thin wrapper around [`coffer::cli::main`].

fn main() -> std::process::ExitCode {
    coffer::cli::main()
}
