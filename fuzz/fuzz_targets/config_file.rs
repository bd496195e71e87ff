//! Config files from users: never a panic; an error always names the file, and its line (when
//! given) lies inside the text; `${VAR}` values resolve only from the given environment.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sfmc_auth::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |name: &str| (name == "SET").then(|| "value".to_owned());
    match Config::parse(Path::new("fuzz.toml"), text, &env) {
        Ok(parsed) => {
            let config = parsed.config;
            for (i, c) in config.connections.iter().enumerate() {
                assert!(sfmc_auth::config::is_valid_connection_name(&c.name));
                assert!(config.connections[..i].iter().all(|o| o.name != c.name));
            }
        }
        Err(e) => {
            assert_eq!(e.file, Path::new("fuzz.toml"));
            if let Some(line) = e.line {
                assert!(line >= 1 && line <= text.lines().count().max(1) + 1);
            }
        }
    }
});
