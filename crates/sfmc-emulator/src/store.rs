//! The REST families' in-memory data, one [`BusinessUnit`] per MID: a token for MID A reads
//! and writes only A's unit. Units are made on first use; each family's state sits behind its
//! own lock, and each data extension behind its own, so a million-row import does not hold
//! up the other families.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::api::async_rows::AsyncRequests;
use crate::api::by_id::ById;
use crate::api::ids::Ids;
use crate::api::{contacts, journeys, messaging};
use crate::dataext::DataExtension;

/// Status polls an asynchronous rows request answers `Pending` before `Complete`, by default.
pub(crate) const DEFAULT_ASYNC_PENDING_POLLS: u32 = 1;

/// Locks `mutex`, carrying on with the data if a panicking holder poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads `lock`, carrying on with the data if a panicking holder poisoned it.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes `lock`, carrying on with the data if a panicking holder poisoned it.
fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A data extension shared between requests.
pub(crate) type SharedDataExtension = Arc<Mutex<DataExtension>>;

/// Everything one business unit (MID) owns.
#[derive(Default)]
pub(crate) struct BusinessUnit {
    pub assets: Mutex<ById>,
    pub categories: Mutex<ById>,
    pub campaigns: Mutex<ById>,
    pub contacts: Mutex<contacts::Contacts>,
    pub journeys: Mutex<journeys::Journeys>,
    pub messaging: Mutex<messaging::Messaging>,
    /// Data extensions by lower-cased external key.
    data_extensions: RwLock<HashMap<String, SharedDataExtension>>,
    pub async_requests: Mutex<AsyncRequests>,
}

impl BusinessUnit {
    /// The data extension with external key `key` (case-insensitive).
    pub(crate) fn data_extension(&self, key: &str) -> Option<SharedDataExtension> {
        read(&self.data_extensions)
            .get(&key.to_lowercase())
            .cloned()
    }

    /// Adds `de`; `false` when its key is taken.
    pub(crate) fn add_data_extension(&self, de: DataExtension) -> bool {
        let mut map = write(&self.data_extensions);
        let key = de.key.to_lowercase();
        if map.contains_key(&key) {
            return false;
        }
        map.insert(key, Arc::new(Mutex::new(de)));
        true
    }

    /// Removes the data extension with `key`; `false` when there is none.
    pub(crate) fn remove_data_extension(&self, key: &str) -> bool {
        write(&self.data_extensions)
            .remove(&key.to_lowercase())
            .is_some()
    }

    /// Every data extension, in no particular order.
    pub(crate) fn all_data_extensions(&self) -> Vec<SharedDataExtension> {
        read(&self.data_extensions).values().cloned().collect()
    }
}

/// All business units, plus the id sources and settings the families share.
pub(crate) struct Stores {
    units: RwLock<HashMap<String, Arc<BusinessUnit>>>,
    /// Ids and timestamps.
    pub ids: Ids,
    async_pending_polls: AtomicU32,
}

impl Default for Stores {
    fn default() -> Self {
        Stores {
            units: RwLock::default(),
            ids: Ids::default(),
            async_pending_polls: AtomicU32::new(DEFAULT_ASYNC_PENDING_POLLS),
        }
    }
}

impl Stores {
    /// The business unit of `mid`, made empty on first use.
    pub(crate) fn unit(&self, mid: &str) -> Arc<BusinessUnit> {
        if let Some(unit) = read(&self.units).get(mid) {
            return unit.clone();
        }
        write(&self.units)
            .entry(mid.to_owned())
            .or_default()
            .clone()
    }

    /// Status polls a new asynchronous rows request answers `Pending`.
    pub(crate) fn async_pending_polls(&self) -> u32 {
        self.async_pending_polls.load(Ordering::Relaxed)
    }

    /// Sets [`Stores::async_pending_polls`] for requests accepted from now on.
    pub(crate) fn set_async_pending_polls(&self, polls: u32) {
        self.async_pending_polls.store(polls, Ordering::Relaxed);
    }
}
