//! Scratch directories for the `sfmc-auth` tests: unique per test and process, removed on drop.

#![allow(dead_code)] // each test crate uses a different part of this module

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A unique path under the system temp dir, removed (with everything in it) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh path for `test`, not created: a store given it creates it, private.
    pub fn path_for(test: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "sfmc-auth-{test}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    /// A fresh directory for `test`, created with mode 0700.
    pub fn new(test: &str) -> Self {
        use std::os::unix::fs::DirBuilderExt;
        let dir = Self::path_for(test);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir.0)
            .expect("create a scratch directory");
        dir
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The names in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read the scratch directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        // A test may have made it unwritable or world-writable: make it removable again.
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
