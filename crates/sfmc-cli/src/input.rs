//! Reading bounded text input (parameter files, stdin): never more than a limit into memory.

use std::fmt;
use std::io::Read;

/// Why bounded input could not be read; shown after the input's name.
#[derive(Debug)]
pub(crate) enum InputError {
    /// Reading failed (or the text is not UTF-8).
    Read(std::io::Error),
    /// More than the limit.
    TooLarge(u64),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(error) => write!(f, "cannot be read: {error}"),
            Self::TooLarge(limit) => write!(f, "is larger than {limit} bytes"),
        }
    }
}

/// All of `reader` as UTF-8 text, at most `limit` bytes (never more is read).
pub(crate) fn read_bounded_text(reader: impl Read, limit: u64) -> Result<String, InputError> {
    let mut text = String::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(InputError::Read)?;
    if text.len() as u64 > limit {
        return Err(InputError::TooLarge(limit));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_up_to_the_limit_is_read_and_more_is_refused() {
        assert_eq!(
            read_bounded_text(&b"abcd"[..], 4).ok().as_deref(),
            Some("abcd")
        );
        assert!(matches!(
            read_bounded_text(&b"abcde"[..], 4),
            Err(InputError::TooLarge(4))
        ));
        assert!(matches!(
            read_bounded_text(&[0xff, 0xfe][..], 4),
            Err(InputError::Read(_))
        ));
    }
}
