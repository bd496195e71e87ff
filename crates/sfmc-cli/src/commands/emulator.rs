//! `sfmc emulator`: serves a local Marketing Cloud until interrupted; its first stdout line is
//! `listening on http://IP:PORT`.

use sfmc_emulator::{EmulatorConfig, Package};

use crate::cli::EmulatorArgs;
use crate::exit::Failure;
use crate::output;

/// Starts the emulator and waits for Ctrl-C or SIGTERM.
pub async fn run(args: EmulatorArgs) -> Result<(), Failure> {
    let demo = EmulatorConfig::demo();
    let account_ids = if args.account_ids.is_empty() {
        demo.packages[0].account_ids.clone()
    } else {
        args.account_ids
    };
    let scopes = if args.scopes.is_empty() {
        demo.packages[0].scopes.clone()
    } else {
        args.scopes
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_owned))
            .collect()
    };
    if !sfmc_emulator::TOKEN_TTL_RANGE_SECS.contains(&args.token_ttl) {
        return Err(Failure::config(
            "--token-ttl must be from 1 to 86400 seconds",
        ));
    }
    let mut config = EmulatorConfig {
        packages: vec![Package {
            client_id: args.client_id,
            client_secret: args.client_secret,
            account_ids,
            scopes,
        }],
        token_ttl_secs: args.token_ttl,
        ..demo
    };
    if let Some(url) = &args.public_url {
        config = config
            .with_public_url(url)
            .map_err(|e| Failure::config(format!("--public-url: {e}")))?;
    }
    let emulator = sfmc_emulator::start(config, args.listen)
        .await
        .map_err(|e| Failure::config(format!("cannot listen on {}: {e}", args.listen)))?;
    output::line(&format!("listening on http://{}", emulator.addr()))?;
    crate::signal::interrupted().await;
    emulator.shutdown().await;
    Ok(())
}
