//! The `sfmc` binary: parses the command line, sets up logging, runs one command and turns its
//! outcome into an exit code (see [`exit`]).

mod cli;
mod commands;
mod config_file;
mod connection;
mod exit;
mod input;
mod output;
mod serve;
mod signal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing();
    // One-shot commands run on the calling thread (no worker threads to start); the emulator
    // serves on all cores.
    let mut builder = match cli.command {
        cli::Command::Emulator(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::UNAVAILABLE);
        }
    };
    let outcome = runtime.block_on(async {
        if matches!(cli.command, cli::Command::Emulator(_)) {
            return commands::run(cli.command).await;
        }
        let mut signals = match signal::Signals::listen() {
            Ok(signals) => signals,
            Err(error) => {
                return Err(exit::Failure::unavailable(format!(
                    "cannot listen for Ctrl-C: {error}"
                )));
            }
        };
        let outcome = if matches!(cli.command, cli::Command::De(_)) {
            // `sfmc de` stops on Ctrl-C itself, to report what it got done.
            commands::run(cli.command).await
        } else {
            tokio::select! {
                biased;
                () = signals.recv() => Err(exit::Failure::interrupted()),
                outcome = commands::run(cli.command) => outcome,
            }
        };
        // However the command ended, stop what still runs (a background refresh past the
        // settle limit, a refresh cut by the signal) so that store locks are released now,
        // not when their leases run out.
        connection::shutdown_all().await;
        outcome
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.code())
        }
    }
}

/// Tracing to stderr, filtered by `RUST_LOG` (default: warnings).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
