//! `epages-sync`: tenant onboarding, operations, the sandbox shop and the local runner.
//! Each subcommand lives in its own module under `commands/`.

mod backend;
mod commands;
mod local;
mod logging;
mod output;
mod when;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::backend::{BackendArgs, BackendKind};

#[derive(Debug, Parser)]
#[command(
    name = "epages-sync",
    version,
    about = "Keep Afosto and ePages Beyond shops in sync"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The options every subcommand takes, before or after its name (`global = true`): one
/// definition, handed to the commands by [`dispatch`].
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Machine-readable output: JSON on stdout (and JSON log lines on stderr for `run`).
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail on stderr: -v debug, -vv trace (instead of RUST_LOG).
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Less on stderr: -q warnings and errors only, -qq errors only (instead of RUST_LOG).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub quiet: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole pipeline on a sandbox shop, Afosto played locally; every effect verified.
    Demo(commands::demo::DemoArgs),
    /// Run the connector locally against real shops: scheduler, poller and command consumer
    /// (exit 3: finished, but a poll failed, a message was dead-lettered or a line rejected).
    Run(commands::run::RunArgs),
    /// Run an emulated ePages Beyond shop (for tests and local demos) until Ctrl-C.
    Sandbox(commands::sandbox::SandboxArgs),
    /// Dead-letter queues: list, show, and replay to the source queue in FIFO order.
    Dlq(commands::dlq::DlqArgs),
    /// The activity log of a tenant, an order or a SKU, newest first.
    Log(commands::log::LogArgs),
    /// Re-read a tenant's orders updated since a time (`--force`: emit again, new event ids).
    Resync(commands::resync::ResyncArgs),
    /// Per tenant: paused, flows, polling, 24 h activity; queue and dead-letter depths.
    Status(commands::status::StatusArgs),
    /// Onboard and manage tenants (shops): add, update, verify, list, show, pause, resume,
    /// remove.
    Tenant(commands::tenant::TenantArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(commands::completions::CompletionsArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    // The demo's progress lines and report are its output; the handlers' per-invocation
    // logs would bury them (RUST_LOG or -v still turn them on).
    let quiet_by_default = matches!(cli.command, Command::Demo(_));
    logging::init(&logging::Verbosity {
        verbose: cli.global.verbose,
        quiet: cli.global.quiet,
        quiet_by_default,
        json: cli.global.json && matches!(cli.command, Command::Run(_)),
    });
    let state_dir_given = matches.value_source("state_dir") == Some(ValueSource::CommandLine);
    match dispatch(cli.global, state_dir_given, cli.command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", commands::report(error.as_ref()));
            if error.downcast_ref::<EmbeddedOnly>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Hands the global options to the command (its own fields for them are `#[arg(skip)]`) and
/// runs it; commands with their own exit codes map their errors themselves.
async fn dispatch(
    global: GlobalArgs,
    state_dir_given: bool,
    command: Command,
) -> Result<ExitCode, Failure> {
    let GlobalArgs { backend, json, .. } = global;
    match command {
        Command::Tenant(mut args) => {
            (args.backend, args.json) = (backend, json);
            Ok(commands::tenant::main(args).await)
        }
        Command::Status(mut args) => {
            (args.backend, args.json) = (backend, json);
            Ok(commands::status::main(args).await)
        }
        Command::Log(mut args) => {
            (args.backend, args.json) = (backend, json);
            Ok(commands::log::main(args).await)
        }
        Command::Dlq(mut args) => {
            (args.backend, args.json) = (backend, json);
            Ok(commands::dlq::main(args).await)
        }
        Command::Run(mut args) => {
            embedded_only("run", &backend)?;
            args.state_dir = backend.state_dir;
            Ok(commands::run::main(args).await)
        }
        Command::Resync(mut args) => {
            (args.backend, args.json) = (backend, json);
            commands::resync::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(mut args) => {
            embedded_only("demo", &backend)?;
            // The demo keeps its state in a temporary directory unless told where.
            args.state_dir = state_dir_given.then_some(backend.state_dir);
            args.json = json;
            commands::demo::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sandbox(mut args) => {
            args.json = json;
            commands::sandbox::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions(args) => {
            commands::completions::run(&args, &mut Cli::command(), json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A usage error for a command that only runs on the embedded backend.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` runs on the embedded backend only (drop --backend aws)")]
struct EmbeddedOnly(&'static str);

fn embedded_only(command: &'static str, backend: &BackendArgs) -> Result<(), Failure> {
    if backend.backend == BackendKind::Embedded {
        Ok(())
    } else {
        Err(EmbeddedOnly(command).into())
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every option and argument of every subcommand explains itself in `--help` (issue 15):
    /// an option without a help text is a question a user has to ask someone.
    #[test]
    fn every_option_and_argument_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "epages-sync", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
