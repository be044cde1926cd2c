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

impl Cli {
    /// What clap cannot see: `-v` and `-q` given at different levels (`-v status -q`).
    fn checked(self) -> Result<Self, clap::Error> {
        if self.global.verbose > 0 && self.global.quiet > 0 {
            return Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "-v (--verbose) and -q (--quiet) cannot be used together",
            ));
        }
        Ok(self)
    }
}

/// The options every subcommand takes, before or after its name (`global = true`): one
/// definition, handed to the commands by [`dispatch`].
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
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
    quiet_when_the_reader_leaves();
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches).and_then(Cli::checked) {
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
    let outcome = dispatch(cli.global, state_dir_given, cli.command).await;
    logging::flush();
    match outcome {
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

/// `epages-sync log | head`: once the reader of stdout is gone, printing fails. Like other
/// command-line tools, stop quietly with 141 (128 + SIGPIPE) instead of a panic and its
/// backtrace; every other panic is reported as before.
fn quiet_when_the_reader_leaves() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
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
    use clap::{CommandFactory, Parser};

    use super::Cli;

    /// clap's own consistency checks (duplicate names, conflicting globals, groups naming
    /// unknown arguments), which otherwise only fire when a user hits the command.
    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every subcommand path, e.g. `["tenant", "add"]`, down to the leaves.
    fn leaves(command: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        let subcommands: Vec<_> = command.get_subcommands().collect();
        if subcommands.is_empty() {
            out.push(path);
            return;
        }
        for sub in subcommands {
            let mut next = path.clone();
            next.push(sub.get_name().to_owned());
            leaves(sub, next, out);
        }
    }

    /// The global options (issue 15) are accepted before the subcommand, between its parts
    /// and after it, by every subcommand: `--help` at the end stops the parse once every
    /// option before it was accepted (an unknown one is an error before that).
    #[test]
    fn every_subcommand_accepts_the_global_options_anywhere() {
        let global = [
            "--state-dir",
            "/tmp/somewhere",
            "--backend",
            "embedded",
            "--json",
            "-v",
        ];
        let mut paths = Vec::new();
        leaves(&Cli::command(), Vec::new(), &mut paths);
        assert!(paths.len() >= 18, "{paths:?}");
        for path in paths {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let mut placements = vec![
                [&["epages-sync"][..], &global, &path, &["--help"]].concat(),
                [&["epages-sync"][..], &path, &global, &["--help"]].concat(),
            ];
            if path.len() > 1 {
                placements.push(
                    [
                        &["epages-sync"][..],
                        &path[..1],
                        &global,
                        &path[1..],
                        &["--help"],
                    ]
                    .concat(),
                );
            }
            for args in placements {
                let error = Cli::command()
                    .try_get_matches_from(&args)
                    .expect_err("--help ends the parse");
                assert_eq!(
                    error.kind(),
                    clap::error::ErrorKind::DisplayHelp,
                    "{args:?}: {error}"
                );
            }
            // -q is global too (it conflicts with -v, so on its own).
            let args = [&["epages-sync"][..], &path, &["-q", "--help"]].concat();
            let error = Cli::command()
                .try_get_matches_from(&args)
                .expect_err("--help ends the parse");
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::DisplayHelp,
                "{args:?}"
            );
        }
    }

    /// `-v` and `-q` together are a usage error, not a silent choice.
    #[test]
    fn verbose_and_quiet_conflict() {
        for args in [
            &["epages-sync", "-v", "status", "-q"][..],
            &["epages-sync", "status", "-q", "-v"],
        ] {
            let error = Cli::try_parse_from(args)
                .and_then(Cli::checked)
                .expect_err("conflict");
            assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        }
    }

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
