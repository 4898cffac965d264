//! Short-lived copies of apps and users for the poll path, so that a poll reads no database: the
//! QR settings of an app and the name of a scanner change rarely, and a copy is at most
//! [`FRESH_FOR`] old. Secrets and password hashes are never checked against a copy (exchanges
//! and sign-ins read the store).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a copy is used before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

pub struct Recent<T> {
    map: Mutex<HashMap<String, (Arc<T>, Instant)>>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            map: Mutex::default(),
        }
    }
}

impl<T> Recent<T> {
    /// The copy of `key` when it is fresh.
    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < FRESH_FOR)
            .map(|(v, _)| Arc::clone(v))
    }

    pub fn put(&self, key: &str, value: Arc<T>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key.to_owned(), (value, Instant::now()));
    }

    pub fn forget(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }

    /// Drops the copies that are no longer fresh (memory stays bounded by what is in use).
    pub fn prune(&self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, at)| at.elapsed() < FRESH_FOR);
    }
}
