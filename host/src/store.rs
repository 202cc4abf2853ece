//! The key-value store behind `hostMemoryGet`, with the seed's default entries.

use std::collections::BTreeMap;

/// The key-value store behind `hostMemoryGet`. Keys and values are bytes: the contract is
/// defined at the byte level, not on UTF-8 text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Store {
    /// A store with no entries: every lookup gives an empty value.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The seed's store: `hello` and `message`.
    pub fn seed() -> Self {
        [
            ("hello", "👋 Hello World 🌍"),
            ("message", "I 💜 Extism 😍"),
        ]
        .into_iter()
        .collect()
    }

    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.entries.insert(key.into(), value.into());
    }

    /// The value for `key`; a missing key gives an empty value, as in the seed's host.
    pub fn get(&self, key: &[u8]) -> &[u8] {
        self.entries.get(key).map_or(&[], Vec::as_slice)
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K: Into<Vec<u8>>, V: Into<Vec<u8>>> FromIterator<(K, V)> for Store {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut store = Self::empty();
        for (key, value) in entries {
            store.insert(key, value);
        }
        store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_gives_empty_value() {
        assert_eq!(Store::seed().get(b"nope"), b"");
        assert_eq!(Store::empty().get(b"hello"), b"");
    }

    #[test]
    fn seed_has_the_two_entries() {
        let store = Store::seed();
        assert_eq!(store.len(), 2);
        assert_eq!(store.get(b"hello"), "👋 Hello World 🌍".as_bytes());
        assert_eq!(store.get(b"message"), "I 💜 Extism 😍".as_bytes());
    }
}
