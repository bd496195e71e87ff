//! Sealing tokens for storage outside the process (files, Redis): AES-256-GCM under a key
//! derived by HKDF-SHA256 from the client secret and the [`TokenKey`].
//!
//! A sealed value is useless without the client secret; a different secret, a different key, a
//! truncated or altered value all unseal to `None` (a cache miss), never to a wrong token and
//! never to a panic.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::settings::TokenKey;
use crate::token::{AccessToken, TokenResponse};

/// The first bytes of every sealed value: format and version.
const MAGIC: &[u8; 6] = b"sfmc2\0";
const NONCE_LEN: usize = 12;
const HKDF_SALT: &[u8] = b"sfmc token store v1";

fn cipher(secret: &SecretString, key: &TokenKey) -> Aes256Gcm {
    let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret.expose_secret().as_bytes());
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 * 32, so expand cannot fail.
    if hkdf.expand(key.canonical().as_bytes(), &mut okm).is_err() {
        okm = [0u8; 32];
    }
    let cipher = Aes256Gcm::new(&okm.into());
    okm.fill(0);
    cipher
}

/// Seals `token` for `key` under `secret`. The plain text is the absolute expiry (8 bytes, big
/// endian) followed by the response in its wire format.
pub fn seal(secret: &SecretString, key: &TokenKey, token: &AccessToken) -> Vec<u8> {
    let mut plain = token.expires_at_ms().to_be_bytes().to_vec();
    plain.extend_from_slice(&token.response().to_json());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let aad = key.canonical();
    let sealed = cipher(secret, key)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    plain.fill(0);
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Opens a sealed value; `None` for anything that is not a token sealed for `key` under `secret`.
/// The response is checked again by [`TokenResponse::parse`], the one token parser.
pub fn unseal(secret: &SecretString, key: &TokenKey, sealed: &[u8]) -> Option<AccessToken> {
    let rest = sealed.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let aad = key.canonical();
    let mut plain = cipher(secret, key)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    let opened = plain.split_first_chunk::<8>().and_then(|(expiry, json)| {
        let response = TokenResponse::parse(json).ok()?;
        Some(AccessToken::with_expiry(
            response,
            u64::from_be_bytes(*expiry),
        ))
    });
    plain.fill(0);
    opened
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{AuthBaseUrl, ConnectionSettings};

    fn key(client: &str) -> TokenKey {
        ConnectionSettings::new(
            AuthBaseUrl::parse("http://127.0.0.1:1/").unwrap(),
            client,
            SecretString::from("s3cret"),
        )
        .unwrap()
        .key()
    }

    pub(crate) fn token(text: &str) -> AccessToken {
        let body = format!(
            r#"{{"access_token":"{text}","token_type":"Bearer","expires_in":1079,"scope":"email_read","rest_instance_url":"http://127.0.0.1:1/","soap_instance_url":"http://127.0.0.1:1/"}}"#
        );
        AccessToken::new(TokenResponse::parse(body.as_bytes()).unwrap(), 1_000)
    }

    #[test]
    fn round_trip() {
        let secret = SecretString::from("s3cret");
        let sealed = seal(&secret, &key("a"), &token("tok-1"));
        let opened = unseal(&secret, &key("a"), &sealed).unwrap();
        assert_eq!(opened.expose(), "tok-1");
        assert_eq!(opened.expires_at_ms(), 1_000 + 1_079_000);
        assert_eq!(opened.scope(), "email_read");
    }

    #[test]
    fn sealed_value_holds_no_clear_text() {
        let secret = SecretString::from("s3cret-value");
        let sealed = seal(&secret, &key("a"), &token("the-token-text"));
        let haystack = String::from_utf8_lossy(&sealed);
        assert!(!haystack.contains("the-token-text"));
        assert!(!haystack.contains("s3cret-value"));
    }

    #[test]
    fn wrong_secret_or_key_is_a_miss() {
        let sealed = seal(&SecretString::from("s3cret"), &key("a"), &token("t"));
        assert!(unseal(&SecretString::from("other"), &key("a"), &sealed).is_none());
        assert!(unseal(&SecretString::from("s3cret"), &key("b"), &sealed).is_none());
    }

    #[test]
    fn truncated_or_flipped_is_a_miss() {
        let secret = SecretString::from("s3cret");
        let sealed = seal(&secret, &key("a"), &token("t"));
        for len in 0..sealed.len() {
            assert!(
                unseal(&secret, &key("a"), &sealed[..len]).is_none(),
                "len {len}"
            );
        }
        for i in 0..sealed.len() {
            let mut flipped = sealed.clone();
            flipped[i] ^= 0x01;
            assert!(unseal(&secret, &key("a"), &flipped).is_none(), "byte {i}");
        }
    }
}
