//! Poison-tolerant locking of the crate's std mutexes: every critical section leaves its state
//! consistent (single inserts, removes and field writes), so a panic elsewhere never makes the
//! state unusable.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, recovering the guard if a holder panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
