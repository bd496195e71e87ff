//! The config file as the CLI sees it: which file (`--config`, `SFMC_CONFIG`, the default
//! location), loaded once with its warnings printed, and which of its connections a command
//! uses (`--connection`/`SFMC_CONNECTION`, or the only one).

use std::path::Path;

use sfmc_auth::config::{Config, ConnectionConfig};

use crate::exit::Failure;

/// Loads the config file, when one is named or exists at the default location. A named file
/// that cannot be read or checked is an error; so is a default one (it was meant to be used).
pub fn load(explicit: Option<&Path>) -> Result<Option<Config>, Failure> {
    let Some((path, _asked)) = Config::locate(explicit) else {
        return Ok(None);
    };
    let config = Config::load(&path).map_err(|e| Failure::config(e.to_string()))?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    Ok(Some(config))
}

/// Where the default config file would be, for messages.
pub fn default_location() -> &'static str {
    "$XDG_CONFIG_HOME/sfmc/config.toml (~/.config/sfmc/config.toml)"
}

/// The connection named `name` (or the only one when `name` is `None`) of `config`.
pub fn pick<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a ConnectionConfig, Failure> {
    let known = || {
        let names: Vec<&str> = config.connections.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            "it has none".to_owned()
        } else {
            format!("it has {}", names.join(", "))
        }
    };
    match name {
        Some(name) => config.connection(name).ok_or_else(|| {
            Failure::config(format!(
                "connection \"{name}\" is not in config file {} ({})",
                config.file.display(),
                known()
            ))
        }),
        None => match config.connections.as_slice() {
            [only] => Ok(only),
            _ => Err(Failure::config(format!(
                "config file {} names several connections; pick one with --connection NAME or SFMC_CONNECTION ({})",
                config.file.display(),
                known()
            ))),
        },
    }
}
