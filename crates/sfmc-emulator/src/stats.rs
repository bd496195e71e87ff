//! Request counters (atomics, no locks) and [`Stats`], their serializable snapshot.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A snapshot of what the emulator has served, as `GET /_emulator/stats` returns it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every `POST /v2/token`, failed ones included.
    pub token_requests: u64,
    /// Every request that is neither `POST /v2/token` nor under `/_emulator/`.
    pub api_requests: u64,
    /// Token requests per configured client id (requests naming an unknown client id are only
    /// in `token_requests`); client ids with no request are absent.
    pub token_requests_by_client: BTreeMap<String, u64>,
    /// Access tokens handed out.
    pub tokens_issued: u64,
}

/// The live counters behind [`Stats`].
#[derive(Default)]
pub(crate) struct Counters {
    token_requests: AtomicU64,
    api_requests: AtomicU64,
    tokens_issued: AtomicU64,
}

impl Counters {
    pub(crate) fn token_request(&self) {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn api_request(&self) {
        self.api_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn token_issued(&self) {
        self.tokens_issued.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, token_requests_by_client: BTreeMap<String, u64>) -> Stats {
        Stats {
            token_requests: self.token_requests.load(Ordering::Relaxed),
            api_requests: self.api_requests.load(Ordering::Relaxed),
            token_requests_by_client,
            tokens_issued: self.tokens_issued.load(Ordering::Relaxed),
        }
    }
}
