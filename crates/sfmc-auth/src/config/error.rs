//! [`ConfigError`]: what is wrong in a config file — the file, the line and the field.

use std::fmt;
use std::path::{Path, PathBuf};

/// A config file that cannot be used. Never holds a secret: messages name fields, not values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The field, e.g. `connections[1].client_secret` (empty for the file as a whole).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ", {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Turns byte offsets of one file into 1-based line numbers.
pub(crate) struct Lines<'a> {
    file: &'a Path,
    text: &'a str,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        Self { file, text }
    }

    /// The file.
    pub(crate) fn file(&self) -> &Path {
        self.file
    }

    /// The line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// An error at byte `offset` (when known) in `field`.
    pub(crate) fn error(
        &self,
        offset: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: offset.map(|o| self.line_of(o)),
            field: field.into(),
            message: message.into(),
        }
    }
}
