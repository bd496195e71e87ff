//! `sfmc cache clear|dir`: the per-user token cache directory.

use sfmc_auth::FileStore;

use crate::cli::CacheAction;
use crate::exit::Failure;
use crate::output;

/// Runs a cache action.
pub fn run(action: &CacheAction) -> Result<(), Failure> {
    let dir = FileStore::user_dir().ok_or_else(|| {
        Failure::config("cache directory: none found; set SFMC_CACHE_DIR or HOME")
    })?;
    match action {
        CacheAction::Dir => output::line(&dir.display().to_string()),
        CacheAction::Clear => {
            let removed = FileStore::new(&dir)
                .clear()
                .map_err(|e| Failure::unavailable(e.to_string()))?;
            output::line(&format!(
                "removed {removed} cached token(s) from {}",
                dir.display()
            ))
        }
    }
}
