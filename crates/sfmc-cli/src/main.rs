//! The `sfmc` binary: parses the command line, sets up logging, runs one command and turns its
//! outcome into an exit code (see [`exit`]).

mod cli;
mod commands;
mod config_file;
mod connection;
mod exit;
mod input;
mod logging;
mod output;
mod serve;
mod signal;

use std::process::ExitCode;

use clap::Parser;

use crate::commands::gateway::LogFormat;

/// mimalloc: the servers (gateway, emulator) allocate per request from several threads, where
/// it is markedly cheaper than the system allocator (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match &cli.command {
        // The gateway logs each request at info level, through the writer thread.
        cli::Command::Gateway(args) => {
            logging::init(args.log_format, "warn,sfmc_gateway=info", true);
        }
        _ => logging::init(LogFormat::Text, "warn", false),
    }
    // One-shot commands run on the calling thread (no worker threads to start); the servers
    // (emulator, gateway) handle their own signals; the emulator serves on all cores, the
    // gateway on worker threads of its own (`sfmc-gateway`'s workers).
    let server = matches!(
        cli.command,
        cli::Command::Emulator(_) | cli::Command::Gateway(_)
    );
    let mut builder = if server {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::UNAVAILABLE);
        }
    };
    let outcome = runtime.block_on(async {
        if server {
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
    // Everything the command started has finished or been stopped above; what may remain is a
    // blocking read of stdin (`sfmc de import -` interrupted on a terminal), which must not hold
    // the exit until the user presses Enter.
    runtime.shutdown_background();
    logging::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.code())
        }
    }
}
