//! The blocking file primitives behind [`super::FileStore`], each safe against what may be
//! planted in a shared or hostile cache directory: reads that never block (a FIFO is a miss),
//! follow no symlink, accept regular files only and stop at a bound; writes to a private
//! temporary file, `fsync`ed and renamed into place; a compare-and-delete that cannot delete a
//! token another process wrote meanwhile; and `flock`-style entry locks that end with their
//! holder. They run on tokio's blocking pool, never on an async worker.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// The largest cache file read; anything longer is not ours.
pub(crate) const MAX_FILE_LEN: u64 = 64 * 1024;

/// Opens `path` for reading (or read-write, creating it, for lock files) without blocking and
/// without following a symlink; anything but a regular file is `Ok(None)`.
pub(crate) fn open_regular(path: &Path, create: bool) -> io::Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true);
    if create {
        options.write(true).create(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW;
        options.custom_flags(i32::try_from(flags.bits()).unwrap_or(0));
        options.mode(0o600);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(None),
        Err(e) if is_symlink(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(file.metadata()?.is_file().then_some(file))
}

/// The bytes of the regular file at `path`, at most [`MAX_FILE_LEN`]; `None` when there is no
/// such file or it is longer.
pub(crate) fn read_bounded(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let Some(file) = open_regular(path, false)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_FILE_LEN).then_some(bytes))
}

/// Replaces `path` atomically with `bytes`: a private temporary file `tmp`, flushed, renamed.
pub(crate) fn replace(dir: &Path, tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    prepare_dir(dir)?;
    let written = write_private(tmp, bytes).and_then(|()| fs::rename(tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    sync_dir(dir);
    Ok(())
}

/// Deletes `path` if `is_failed` says its bytes are the failed token, without ever deleting a
/// file another process renamed into place meanwhile: the file is first renamed aside to
/// `aside` (atomic: whichever file is current moves), then either deleted or, if it is another
/// token, linked back unless a newer one has arrived since.
pub(crate) fn remove_if(
    path: &Path,
    aside: &Path,
    is_failed: impl Fn(&[u8]) -> bool,
) -> io::Result<()> {
    if read_bounded(path)?.is_none_or(|bytes| !is_failed(&bytes)) {
        return Ok(());
    }
    match fs::rename(path, aside) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    let moved = match read_bounded(aside) {
        Ok(moved) => moved,
        Err(e) => {
            // Unreadable now: put it back rather than lose it.
            let _ = fs::hard_link(aside, path);
            let _ = fs::remove_file(aside);
            return Err(e);
        }
    };
    if moved.is_some_and(|bytes| !is_failed(&bytes)) {
        // A newer token was written between the check and the rename: put it back, unless an
        // even newer one is in place already.
        match fs::hard_link(aside, path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                let _ = fs::remove_file(aside);
                return Err(e);
            }
        }
    }
    fs::remove_file(aside)
}

/// Takes the exclusive lock of the lock file at `path` without waiting: `Some(file)` holds it
/// until dropped (or the process ends), `None` when another holder has it.
pub(crate) fn try_lock(dir: &Path, path: &Path) -> io::Result<Option<File>> {
    prepare_dir(dir)?;
    let Some(file) = open_regular(path, true)? else {
        return Err(io::Error::other("the lock path is not a regular file"));
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Creates `dir` private if it is missing, and refuses it if it is not safe to use (someone
/// else may have made it first).
fn prepare_dir(dir: &Path) -> io::Result<()> {
    create_private_dir(dir)?;
    match unsafe_dir(dir) {
        Some(why) => Err(io::Error::other(format!(
            "the directory is not used: {why}"
        ))),
        None => Ok(()),
    }
}

/// Why `dir` must not be used for secrets-derived files, if it must not: not a directory, owned
/// by another user, or writable by group or others (anyone there could plant files).
pub(crate) fn unsafe_dir(dir: &Path) -> Option<String> {
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(_) => return None, // created private on first write
    };
    if !meta.is_dir() {
        return Some("it is not a directory".to_owned());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Some("it belongs to another user".to_owned());
        }
        let mode = meta.permissions().mode();
        if mode & 0o022 != 0 {
            return Some(format!(
                "other users can write to it (mode {:o})",
                mode & 0o777
            ));
        }
    }
    None
}

/// Whether an open failed because the path is a symlink (`O_NOFOLLOW`): not ours.
fn is_symlink(error: &io::Error) -> bool {
    #[cfg(unix)]
    return error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error());
    #[cfg(not(unix))]
    return {
        let _ = error;
        false
    };
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
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes a new file readable by its owner only, and flushes it to disk.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
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
