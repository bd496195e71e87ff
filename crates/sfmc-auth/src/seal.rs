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
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::settings::TokenKey;
use crate::token::{AccessToken, TokenResponse};

/// The first bytes of every sealed value: format and version.
const MAGIC: &[u8; 6] = b"sfmc1\0";
const NONCE_LEN: usize = 12;
const HKDF_SALT: &[u8] = b"sfmc token store v1";

/// What is inside a sealed value.
#[derive(Serialize, Deserialize)]
struct Plain {
    access_token: String,
    token_type: String,
    expires_in: u64,
    scope: String,
    rest_instance_url: String,
    soap_instance_url: Option<String>,
    refresh_token: Option<String>,
    expires_at_ms: u64,
}

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

/// Seals `token` for `key` under `secret`.
pub fn seal(secret: &SecretString, key: &TokenKey, token: &AccessToken) -> Vec<u8> {
    let response = token.response();
    let plain = Plain {
        access_token: token.expose().to_owned(),
        token_type: response.token_type.clone(),
        expires_in: response.expires_in,
        scope: response.scope.clone(),
        rest_instance_url: response.rest_instance_url.clone(),
        soap_instance_url: response.soap_instance_url.clone(),
        refresh_token: response
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        expires_at_ms: token.expires_at_ms(),
    };
    let mut json = serde_json::to_vec(&plain).unwrap_or_default();
    drop(plain);
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let aad = key.canonical();
    let sealed = cipher(secret, key)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &json,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    json.fill(0);
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Opens a sealed value; `None` for anything that is not a token sealed for `key` under `secret`.
pub fn unseal(secret: &SecretString, key: &TokenKey, sealed: &[u8]) -> Option<AccessToken> {
    let rest = sealed.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let aad = key.canonical();
    let mut json = cipher(secret, key)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    let plain: Option<Plain> = serde_json::from_slice(&json).ok();
    json.fill(0);
    let plain = plain?;
    let wire = serde_json::json!({
        "access_token": plain.access_token,
        "token_type": plain.token_type,
        "expires_in": plain.expires_in,
        "scope": plain.scope,
        "rest_instance_url": plain.rest_instance_url,
        "soap_instance_url": plain.soap_instance_url,
        "refresh_token": plain.refresh_token,
    });
    // Re-check the restored response with the one token parser.
    let bytes = serde_json::to_vec(&wire).ok()?;
    let response = TokenResponse::parse(&bytes).ok()?;
    Some(AccessToken::with_expiry(response, plain.expires_at_ms))
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
