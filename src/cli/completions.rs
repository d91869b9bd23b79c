//! `coffer completions SHELL`: shell completion scripts.

use super::args::Cli;
use super::context::CmdError;
use super::Exit;

pub fn completions(shell: clap_complete::Shell) -> Result<Exit, CmdError> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "coffer", &mut std::io::stdout());
    Ok(Exit::Success)
}
