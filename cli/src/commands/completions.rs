//! `epages-sync completions SHELL`: the shell completion script, generated from the same
//! command definition the parser uses, so it cannot fall behind a new option.
//!
//! Install, for example:
//! `epages-sync completions bash > ~/.local/share/bash-completion/completions/epages-sync`
//! or `epages-sync completions zsh > "${fpath[1]}/_epages-sync"`.

use clap::Args;
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, thiserror::Error)]
pub enum CompletionsError {
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

/// The script on stdout; with `--json`, `{"shell": …, "script": …}`.
pub fn run(
    args: &CompletionsArgs,
    command: &mut clap::Command,
    json: bool,
) -> Result<(), CompletionsError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, command, "epages-sync", &mut script);
    if json {
        let value = serde_json::json!({
            "shell": args.shell.to_string(),
            "script": String::from_utf8_lossy(&script),
        });
        println!("{}", serde_json::to_string(&value)?);
    } else {
        print!("{}", String::from_utf8_lossy(&script));
    }
    Ok(())
}
