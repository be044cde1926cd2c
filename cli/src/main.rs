//! `epages-sync`: tenant onboarding, operations, the sandbox shop and the local runner.
//! Each subcommand lives in its own module under `commands/`.

mod backend;
mod commands;
mod local;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "epages-sync",
    version,
    about = "Keep Afosto and ePages Beyond shops in sync"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// Re-read a tenant's orders updated since a date (`--force`: emit again, new event ids).
    Resync(commands::resync::ResyncArgs),
    /// Per tenant: paused, flows, polling, 24 h activity; queue and dead-letter depths.
    Status(commands::status::StatusArgs),
    /// Onboard and manage tenants (shops): add, verify, list, show, pause, resume, remove.
    Tenant(commands::tenant::TenantArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo's progress lines and report are its output; the handlers' per-invocation
    // logs would bury them (RUST_LOG still turns them on).
    let default_level = match cli.command {
        Command::Demo(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(aws_adapters::lambda::secret_safe_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        ))
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
        .init();
    let command = match cli.command {
        // `tenant` has its own exit codes (1 verification failed, 2 usage or input).
        Command::Tenant(args) => return commands::tenant::main(args).await,
        // The operator commands have their own exit codes too (documented in each module).
        Command::Status(args) => return commands::status::main(args).await,
        Command::Log(args) => return commands::log::main(args).await,
        Command::Dlq(args) => return commands::dlq::main(args).await,
        // `run` exits 3 when it finished but something it processed failed.
        Command::Run(args) => return commands::run::main(args).await,
        command => command,
    };
    let result = run(command).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", commands::report(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Colour codes only where a person reads them (a terminal), and never when `NO_COLOR` is
/// set to anything non-empty (https://no-color.org): in a log file or a pipe they are noise.
fn colour_on_stderr() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Each command keeps its own typed error; boxing here keeps its chain of causes for the
/// report.
async fn run(command: Command) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match command {
        Command::Demo(args) => commands::demo::run(args).await?,
        Command::Run(args) => commands::run::run(args).await.map(drop)?,
        Command::Sandbox(args) => commands::sandbox::run(args).await?,
        Command::Resync(args) => commands::resync::run(args).await?,
        Command::Tenant(args) => commands::tenant::run(args).await.map(drop)?,
        Command::Status(args) => commands::status::run(args).await?,
        Command::Log(args) => commands::log::run(args).await?,
        Command::Dlq(args) => commands::dlq::run(args).await?,
    }
    Ok(())
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
