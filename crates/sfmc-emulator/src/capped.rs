//! Bounded memory for what the emulator keeps only to answer later questions (asynchronous
//! rows requests, sent messages, contact delete requests): [`Capped`] keeps the newest `cap`
//! entries by key and forgets the oldest, which then answer 404 like unknown ones.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Entries by key, at most `cap` of them; inserting beyond drops the oldest.
#[derive(Debug)]
pub(crate) struct Capped<K, V> {
    by_key: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: Eq + Hash + Clone, V> Capped<K, V> {
    /// An empty store keeping at most `cap` (at least 1) entries.
    pub(crate) fn new(cap: usize) -> Self {
        Capped {
            by_key: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Adds or replaces `key` (a replaced entry keeps its age); the oldest entries go when
    /// there are more than `cap`.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if self.by_key.insert(key.clone(), value).is_some() {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.cap {
            if let Some(oldest) = self.order.pop_front() {
                self.by_key.remove(&oldest);
            }
        }
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.by_key.get(key)
    }

    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.by_key.get_mut(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_go_first() {
        let mut capped = Capped::new(2);
        capped.insert("a", 1);
        capped.insert("b", 2);
        capped.insert("a", 10);
        capped.insert("c", 3);
        assert_eq!(capped.get("a"), None);
        assert_eq!(capped.get("b"), Some(&2));
        assert_eq!(capped.get("c"), Some(&3));
        assert_eq!(capped.order, ["b", "c"]);
    }
}
