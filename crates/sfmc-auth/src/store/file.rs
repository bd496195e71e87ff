//! [`FileStore`]: the CLI's token cache — one sealed file per key in a per-user directory
//! (mode 0700), each file mode 0600 and replaced atomically (temporary file, `fsync`, rename),
//! so a reader sees the old token or the new one, never half of one. The files are a few hundred
//! bytes, so their I/O runs inline on the caller's task.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;
use secrecy::SecretString;

use super::{StoreError, TokenStore};
use crate::endpoint::BoxFuture;
use crate::seal::{seal, unseal};
use crate::settings::TokenKey;
use crate::token::AccessToken;

/// The largest cache file read; anything longer is not ours.
const MAX_FILE_LEN: u64 = 64 * 1024;
const SUFFIX: &str = ".token";

/// Sealed tokens in files.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The per-user cache directory: `$SFMC_CACHE_DIR`, else `$XDG_CACHE_HOME/sfmc`, else
    /// `$HOME/.cache/sfmc` (`%LOCALAPPDATA%\sfmc` on Windows). `None` when none is set.
    pub fn user_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("SFMC_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = var("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("sfmc"));
        }
        if cfg!(windows) {
            return var("LOCALAPPDATA").map(|d| PathBuf::from(d).join("sfmc"));
        }
        var("HOME").map(|home| PathBuf::from(home).join(".cache").join("sfmc"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`.
    pub fn path_of(&self, key: &TokenKey) -> PathBuf {
        self.dir.join(format!("{}{SUFFIX}", key.fingerprint()))
    }

    /// Deletes every cached token file in the directory; returns how many.
    pub fn clear(&self) -> Result<usize, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(self.error("read", &self.dir, &e)),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.ends_with(SUFFIX) || (name.starts_with('.') && name.ends_with(".tmp"));
            if ours {
                fs::remove_file(entry.path())
                    .map_err(|e| self.error("remove", &entry.path(), &e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn error(&self, what: &str, path: &Path, e: &io::Error) -> StoreError {
        StoreError::new("file", format!("cannot {what} {}: {e}", path.display()))
    }

    fn read(&self, key: &TokenKey) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path_of(key);
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error("open", &path, &e)),
        };
        let mut bytes = Vec::new();
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.error("read", &path, &e))?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    fn write(&self, key: &TokenKey, bytes: &[u8]) -> Result<(), StoreError> {
        create_private_dir(&self.dir).map_err(|e| self.error("create", &self.dir, &e))?;
        let path = self.path_of(key);
        let tmp = self.dir.join(format!(
            ".{}.{:016x}.tmp",
            key.fingerprint(),
            rand::rng().next_u64()
        ));
        let written = write_private(&tmp, bytes).and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.error("write", &path, &e));
        }
        sync_dir(&self.dir);
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Makes a rename durable. Best effort: the cache is only a cache.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes a new file readable by its owner only, and flushes it to disk.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl TokenStore for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }

    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        Box::pin(async move {
            let bytes = self.read(key)?;
            let token = bytes.and_then(|b| unseal(secret, key, &b));
            Ok(token)
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.write(key, &seal(secret, key, token)) })
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let stored = self.read(key)?.and_then(|b| unseal(secret, key, &b));
            if stored.is_some_and(|t| t.same_token(failed)) {
                let path = self.path_of(key);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(self.error("remove", &path, &e)),
                }
            }
            Ok(())
        })
    }
}
