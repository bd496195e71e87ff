//! [`FileStore`]: the CLI's token cache — one sealed file per key in a per-user directory
//! (mode 0700), each file mode 0600 and replaced atomically, so a reader sees the old token or
//! the new one, never half of one. A lock file per key gives single flight across the
//! processes of one machine; the kernel releases it when its holder exits, however it exits.
//!
//! All I/O runs on tokio's blocking pool ([`super::file_io`]). A directory other users can
//! write is not used (one warning says so), and a failing write warns once, naming the
//! directory: a cache that silently stops working makes every run ask Salesforce for a token.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rand::{Rng, RngCore};
use secrecy::SecretString;

use super::file_io;
use super::{LockAttempt, LockToken, StoreError, TokenStore};
use crate::endpoint::BoxFuture;
use crate::seal::{seal, unseal};
use crate::settings::TokenKey;
use crate::sync::lock;
use crate::token::AccessToken;

const SUFFIX: &str = ".token";
const LOCK_SUFFIX: &str = ".lock";

/// Sealed tokens in files. Clones share their locks and warnings.
#[derive(Debug, Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    /// Why the directory must not be used, once found (it is not used again).
    refused: OnceLock<String>,
    /// Whether a failed write has been reported.
    write_warned: AtomicBool,
    /// Lock files held by this process, by lock token.
    locks: Mutex<HashMap<String, File>>,
}

impl FileStore {
    /// A store in `dir` (created, private, on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                dir: dir.into(),
                refused: OnceLock::new(),
                write_warned: AtomicBool::new(false),
                locks: Mutex::default(),
            }),
        }
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
        &self.inner.dir
    }

    /// The file of `key`.
    pub fn path_of(&self, key: &TokenKey) -> PathBuf {
        self.inner
            .dir
            .join(format!("{}{SUFFIX}", key.fingerprint()))
    }

    fn lock_path_of(&self, key: &TokenKey) -> PathBuf {
        self.inner
            .dir
            .join(format!("{}{LOCK_SUFFIX}", key.fingerprint()))
    }

    /// A fresh hidden temporary name next to the file of `key`.
    fn temp_path(&self, key: &TokenKey) -> PathBuf {
        self.inner.dir.join(format!(
            ".{}.{:016x}.tmp",
            key.fingerprint(),
            rand::rng().next_u64()
        ))
    }

    /// Deletes every cached token file (and leftover temporary file) in the directory and
    /// returns how many. Lock files stay: they hold nothing, and deleting one that another
    /// process holds would let a second refresher lock a new file beside it. Anything else —
    /// directories, links, other files — is left alone (a link or directory with a warning). A
    /// file that cannot be removed does not stop the others; the first such error is returned
    /// at the end.
    pub fn clear(&self) -> Result<usize, StoreError> {
        let dir = &self.inner.dir;
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(error("read", dir, &e)),
        };
        let (mut removed, mut first_error) = (0, None);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.ends_with(SUFFIX) || (name.starts_with('.') && name.ends_with(".tmp"));
            if !ours {
                continue;
            }
            // `file_type` does not follow links: only regular files are ours to delete.
            if !entry.file_type().is_ok_and(|t| t.is_file()) {
                tracing::warn!(path = %entry.path().display(), "not a cache file; left alone");
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => removed += 1,
                Err(e) => {
                    first_error.get_or_insert_with(|| error("remove", &entry.path(), &e));
                }
            }
        }
        first_error.map_or(Ok(removed), Err)
    }

    /// `Err` when the directory must not be used; `Refused { first: true }` the first time.
    /// Blocking: a directory that does not exist yet is checked again next time (and by every
    /// write after creating it), so nobody can slip one in between.
    fn check_dir(&self) -> Result<(), Failure> {
        let dir = &self.inner.dir;
        let first = match self.inner.refused.get() {
            Some(_) => false,
            None => {
                let Some(why) = file_io::unsafe_dir(dir) else {
                    return Ok(());
                };
                self.inner.refused.set(why).is_ok()
            }
        };
        let why = self.inner.refused.get().map_or("", String::as_str);
        Err(Failure::Refused {
            error: StoreError::new("file", format!("{} is not used: {why}", dir.display())),
            first,
        })
    }

    /// Runs blocking file work, after the directory check, on tokio's blocking pool (inline
    /// outside a runtime). A refused directory is warned about once, here on the caller's task
    /// (where its log subscriber is).
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(FileStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Failure> {
        let store = self.clone();
        let checked = move || {
            store.check_dir()?;
            work(store).map_err(Failure::Io)
        };
        let outcome = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(checked).await.map_err(|e| {
                Failure::Io(StoreError::new("file", format!("file task failed: {e}")))
            })?,
            Err(_) => checked(),
        };
        if let Err(Failure::Refused { error, first: true }) = &outcome {
            tracing::warn!(
                dir = %self.inner.dir.display(),
                "{error}; tokens are not cached across runs (use a private directory, e.g. \
                 SFMC_CACHE_DIR)"
            );
        }
        outcome
    }

    /// Reports a failed write once at WARN (then at DEBUG).
    fn write_failed(&self, error: &StoreError) {
        if self.inner.write_warned.swap(true, Ordering::Relaxed) {
            tracing::debug!(%error, "token cache write failed");
        } else {
            tracing::warn!(
                dir = %self.inner.dir.display(),
                "cannot write the token cache ({error}); every run will request a new token, \
                 which Salesforce throttles — fix the directory or set SFMC_CACHE_DIR"
            );
        }
    }
}

/// Why file work did not happen: a refused directory (warned about once) or an I/O error.
enum Failure {
    Refused { error: StoreError, first: bool },
    Io(StoreError),
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused { error, .. } | Failure::Io(error) => error,
        }
    }
}

fn error(what: &str, path: &Path, e: &io::Error) -> StoreError {
    StoreError::new("file", format!("cannot {what} {}: {e}", path.display()))
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
            let path = self.path_of(key);
            let bytes = self
                .blocking(move |_| {
                    file_io::read_bounded(&path).map_err(|e| error("read", &path, &e))
                })
                .await?;
            Ok(bytes.and_then(|b| unseal(secret, key, &b)))
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let sealed = seal(secret, key, token);
            let (path, tmp) = (self.path_of(key), self.temp_path(key));
            let written = self
                .blocking(move |store| {
                    file_io::replace(store.dir(), &tmp, &path, &sealed)
                        .map_err(|e| error("write", &path, &e))
                })
                .await;
            // A refused directory has had its one warning: not a write failure to warn about.
            if let Err(Failure::Io(error)) = &written {
                self.write_failed(error);
            }
            Ok(written?)
        })
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let (path, aside) = (self.path_of(key), self.temp_path(key));
            let (key, secret, failed) = (key.clone(), secret.clone(), failed.clone());
            self.blocking(move |_| {
                let is_failed = |bytes: &[u8]| {
                    unseal(&secret, &key, bytes).is_some_and(|t| t.same_token(&failed))
                };
                file_io::remove_if(&path, &aside, is_failed).map_err(|e| error("remove", &path, &e))
            })
            .await
            .map_err(StoreError::from)
        })
    }

    fn try_lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<LockAttempt, StoreError>> {
        Box::pin(async move {
            let path = self.lock_path_of(key);
            // The held file comes back to this future before it is recorded: if the future is
            // dropped meanwhile, the file is dropped with the task's output and the lock ends.
            let held = self
                .blocking(move |store| {
                    file_io::try_lock(store.dir(), &path).map_err(|e| error("lock", &path, &e))
                })
                .await?;
            let Some(file) = held else {
                return Ok(LockAttempt::Held);
            };
            let token = format!("{:032x}", rand::rng().random::<u128>());
            lock(&self.inner.locks).insert(token.clone(), file);
            Ok(LockAttempt::Acquired(LockToken(token)))
        })
    }

    fn unlock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock_token: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = key;
        // Closing the file releases the lock.
        drop(lock(&self.inner.locks).remove(&lock_token.0));
        Box::pin(async { Ok(()) })
    }
}
