//! Inbound API keys of the gateway, kept as SHA-256 digests (`sha256:` + 64 hex digits) so the
//! config file never holds a usable key, and checked in constant time.

use std::fmt;

use sha2::{Digest, Sha256};

/// The accepted keys' digests.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeys({} keys)", self.digests.len())
    }
}

/// The form a key takes in the config file: `sha256:` and the hex digest of the key.
pub fn hash_api_key(key: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

impl ApiKeys {
    /// Parses the digests as written in the config file.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut digests = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let digest = entry
                .strip_prefix("sha256:")
                .and_then(|hex_digits| hex::decode(hex_digits).ok())
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    format!(
                        "entry {} is not \"sha256:\" and 64 hex digits; store a key's digest, never the key (`sfmc gateway --hash-key` prints it)",
                        i + 1
                    )
                })?;
            digests.push(digest);
        }
        Ok(Self { digests })
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether `presented` is one of the keys. Every digest is compared in full, in constant time.
    pub fn verify(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = 0u8;
        for known in &self.digests {
            let diff = known
                .iter()
                .zip(digest.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            found |= u8::from(diff == 0);
        }
        found == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_configured_keys() {
        let stored = hash_api_key("k-123");
        let keys = ApiKeys::parse([stored.as_str()]).unwrap();
        assert!(keys.verify("k-123"));
        assert!(!keys.verify("k-124"));
        assert!(!keys.verify(""));
        assert_eq!(format!("{keys:?}"), "ApiKeys(1 keys)");
    }

    #[test]
    fn refuses_plain_keys() {
        let err = ApiKeys::parse(["my-plain-key"]).unwrap_err();
        assert!(err.contains("entry 1"), "{err}");
        assert!(!err.contains("my-plain-key"), "{err}");
        assert!(ApiKeys::parse(["sha256:abcd"]).is_err());
    }
}
