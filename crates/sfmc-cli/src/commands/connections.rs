//! `sfmc connections`: the connections of the config file — name, auth base URI, client id,
//! business unit, scopes — never a secret.

use serde_json::json;

use crate::cli::ConnectionsArgs;
use crate::config_file;
use crate::exit::Failure;
use crate::output;

/// Lists the connections as a table, or JSON with `--json`.
pub fn run(args: &ConnectionsArgs) -> Result<(), Failure> {
    let config = config_file::load(args.config.as_deref())?.ok_or_else(|| {
        Failure::config(format!(
            "no config file: pass --config FILE, set SFMC_CONFIG, or create {}",
            config_file::default_location()
        ))
    })?;
    let summaries: Vec<_> = config.connections.iter().map(|c| c.summary()).collect();
    if args.json {
        return output::json(&json!({
            "file": config.file.display().to_string(),
            "connections": summaries,
        }));
    }
    let mut rows = vec![[
        "NAME".to_owned(),
        "ACCOUNT ID".to_owned(),
        "CLIENT ID".to_owned(),
        "AUTH BASE URI".to_owned(),
    ]];
    rows.extend(summaries.into_iter().map(|s| {
        [
            s.name,
            s.account_id.unwrap_or_else(|| "-".to_owned()),
            s.client_id,
            s.auth_base_uri,
        ]
    }));
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        output::line(line.trim_end())?;
    }
    Ok(())
}
