//! `epages-sync`: tenant onboarding, operations, the sandbox shop and the local runner.
//! Each subcommand lives in its own module under `commands/`.

mod commands;

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
    /// Run an emulated ePages Beyond shop (for tests and local demos) until Ctrl-C.
    Sandbox(commands::sandbox::SandboxArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sandbox(args) => commands::sandbox::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", commands::report(&error));
            ExitCode::FAILURE
        }
    }
}
