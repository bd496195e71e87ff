//! Issued access tokens: minting and checking. Tokens are self-contained and signed
//! (HMAC-SHA256 under a per-emulator random key), so the emulator keeps no per-token memory:
//! a benchmark that asks for millions of tokens costs nothing to remember, and there is nothing
//! to prune. Revocation is a generation counter that every token carries.
//!
//! Shape: four dot-separated base64url segments like Salesforce's, exactly 512 characters:
//! `header.payload.signature.filler`, where the header is the one real tokens carry
//! (`{"alg":"HS256","kid":"4","ver":"1","typ":"JWT"}`), the payload is JSON naming the
//! package, business unit, granted scopes (a bitset over the package's scopes), expiry and
//! generation, the filler is random padding up to 512 characters, and the signature covers
//! header, payload and filler.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::Key;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;
use tokio::time::Instant;

use crate::clock;

type HmacSha256 = Hmac<Sha256>;

/// Length of every access token, as real Marketing Cloud tokens.
pub(crate) const TOKEN_LEN: usize = 512;

/// Most scopes a package can have: the granted-scope bitset must fit in the 512 characters.
pub(crate) const MAX_SCOPES_PER_PACKAGE: usize = 256;

/// The JOSE header of real Marketing Cloud access tokens.
const HEADER_JSON: &str = r#"{"alg":"HS256","kid":"4","ver":"1","typ":"JWT"}"#;

/// What a valid token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    /// Index of the package in the configuration.
    pub package: usize,
    /// Index of the business unit in the package's `account_ids`.
    pub mid: usize,
    /// Granted scopes as a bitset over the package's (deduplicated) scopes.
    pub scopes: ScopeSet,
    /// Expiry in milliseconds since the mint's origin.
    pub expires_at_ms: u64,
}

/// A set of indices into a package's scope list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScopeSet(Vec<u8>);

impl ScopeSet {
    /// Adds scope number `i`.
    pub(crate) fn insert(&mut self, i: usize) {
        let byte = i / 8;
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        self.0[byte] |= 1 << (i % 8);
    }

    /// Whether scope number `i` is in the set.
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.0.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(self.0.len() * 2);
        for b in &self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    fn from_hex(s: &str) -> Option<Self> {
        if !s.len().is_multiple_of(2) || s.len() > MAX_SCOPES_PER_PACKAGE / 4 {
            return None;
        }
        let digit = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        s.as_bytes()
            .chunks_exact(2)
            .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .map(ScopeSet)
    }
}

/// The payload segment, as parsed back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    #[allow(dead_code)]
    jti: String,
    pkg: usize,
    mid: usize,
    scp: String,
    exp_ms: u64,
    generation: u64,
}

/// Mints and checks tokens for one emulator instance.
pub(crate) struct TokenMint {
    mac: HmacSha256,
    header_b64: String,
    origin: Instant,
    generation: AtomicU64,
}

impl TokenMint {
    /// A mint with a fresh random key; its clock starts now.
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 64];
        rand::rng().fill_bytes(&mut key);
        TokenMint {
            mac: <HmacSha256 as KeyInit>::new(&Key::<HmacSha256>::from(key)),
            header_b64: URL_SAFE_NO_PAD.encode(HEADER_JSON),
            origin: clock::now(),
            generation: AtomicU64::new(0),
        }
    }

    /// Milliseconds since this mint was made, on tokio's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(clock::now().duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes every token minted so far invalid.
    pub(crate) fn revoke_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A new token for business unit `mid` of package `package` with `scopes`, valid `ttl_secs`.
    pub(crate) fn issue(
        &self,
        package: usize,
        mid: usize,
        scopes: &ScopeSet,
        ttl_secs: u64,
    ) -> String {
        let mut rng = rand::rng();
        let mut jti = [0u8; 16];
        rng.fill_bytes(&mut jti);
        let expires_at_ms = self.now_ms().saturating_add(ttl_secs.saturating_mul(1000));
        let payload = format!(
            r#"{{"jti":"{}","pkg":{package},"mid":{mid},"scp":"{}","exp_ms":{expires_at_ms},"generation":{}}}"#,
            URL_SAFE_NO_PAD.encode(jti),
            scopes.to_hex(),
            self.generation.load(Ordering::SeqCst),
        );
        let payload_b64 = URL_SAFE_NO_PAD.encode(payload);

        // header.payload.SIGNATURE.filler: the signature is 43 characters (32 bytes).
        const SIG_LEN: usize = 43;
        let fixed = self.header_b64.len() + payload_b64.len() + SIG_LEN + 3;
        let filler_len = TOKEN_LEN.saturating_sub(fixed).max(1);
        let mut raw = vec![0u8; filler_len.div_ceil(4) * 3];
        rng.fill_bytes(&mut raw);
        let mut filler = URL_SAFE_NO_PAD.encode(&raw);
        filler.truncate(filler_len);

        let mut signed = String::with_capacity(TOKEN_LEN);
        signed.push_str(&self.header_b64);
        signed.push('.');
        signed.push_str(&payload_b64);
        let signature = self.sign(&signed, &filler);

        let mut token = signed;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token.push('.');
        token.push_str(&filler);
        debug_assert_eq!(token.len(), TOKEN_LEN);
        token
    }

    /// The claims of `token` if this mint issued it, it has not expired and was not revoked.
    pub(crate) fn verify(&self, token: &str) -> Option<Claims> {
        if token.len() != TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (header, payload_b64, signature, filler) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let signed = &token[..header.len() + 1 + payload_b64.len()];
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        mac.update(b".");
        mac.update(filler.as_bytes());
        mac.verify_slice(&signature).ok()?;

        let payload: Payload =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload_b64).ok()?).ok()?;
        if payload.generation != self.generation.load(Ordering::SeqCst)
            || payload.exp_ms <= self.now_ms()
        {
            return None;
        }
        Some(Claims {
            package: payload.pkg,
            mid: payload.mid,
            scopes: ScopeSet::from_hex(&payload.scp)?,
            expires_at_ms: payload.exp_ms,
        })
    }

    fn sign(&self, header_and_payload: &str, filler: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(header_and_payload.as_bytes());
        mac.update(b".");
        mac.update(filler.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_scopes() -> ScopeSet {
        let mut s = ScopeSet::default();
        for i in 0..MAX_SCOPES_PER_PACKAGE {
            s.insert(i);
        }
        s
    }

    #[tokio::test]
    async fn issued_tokens_verify_and_are_512_chars() {
        let mint = TokenMint::new();
        let mut scopes = ScopeSet::default();
        scopes.insert(0);
        scopes.insert(9);
        let t = mint.issue(3, 1, &scopes, 60);
        assert_eq!(t.len(), TOKEN_LEN);
        assert_eq!(t.split('.').count(), 4);
        assert!(t.starts_with("eyJhbGciOiJIUzI1NiIsImtpZCI6IjQiLCJ2ZXIiOiIxIiwidHlwIjoiSldUIn0."));
        let c = mint.verify(&t).unwrap();
        assert_eq!((c.package, c.mid), (3, 1));
        assert!(c.scopes.contains(0) && c.scopes.contains(9) && !c.scopes.contains(1));
    }

    #[tokio::test]
    async fn the_largest_payload_still_fits() {
        let mint = TokenMint::new();
        let t = mint.issue(usize::MAX, usize::MAX, &full_scopes(), u64::MAX);
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(mint.verify(&t).is_some());
    }

    #[tokio::test]
    async fn tampering_other_mints_and_revocation_fail() {
        let mint = TokenMint::new();
        let t = mint.issue(0, 0, &ScopeSet::default(), 60);
        let mut tampered = t.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(mint.verify(&String::from_utf8(tampered).unwrap()).is_none());
        assert!(TokenMint::new().verify(&t).is_none());
        assert!(mint.verify("").is_none());
        assert!(mint.verify(&"a".repeat(512)).is_none());
        assert!(mint.verify(&"é".repeat(256)).is_none());
        assert!(mint.verify(&".".repeat(512)).is_none());
        mint.revoke_all();
        assert!(mint.verify(&t).is_none());
        assert!(
            mint.verify(&mint.issue(0, 0, &ScopeSet::default(), 60))
                .is_some()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_expire_on_tokio_time() {
        let mint = TokenMint::new();
        let t = mint.issue(0, 0, &ScopeSet::default(), 10);
        tokio::time::advance(std::time::Duration::from_millis(9_999)).await;
        assert!(mint.verify(&t).is_some());
        tokio::time::advance(std::time::Duration::from_millis(1)).await;
        assert!(mint.verify(&t).is_none());
    }
}
