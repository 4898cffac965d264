//! Wake-ups for long-polls: a status change wakes every request held on that session at once.
//! [`LocalNotifier`] serves one process; [`PgNotifier`] wakes the waiters of every instance that
//! shares a PostgreSQL database, through `LISTEN`/`NOTIFY`.

#[cfg(feature = "postgres")]
mod postgres;

#[cfg(feature = "postgres")]
pub use postgres::PgNotifier;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

pub trait Notifier: Send + Sync + 'static {
    /// Registers interest in `handle`. Subscribe *before* reading the status, so that a change
    /// between the read and the wait is not missed.
    fn subscribe(&self, handle: &str) -> Subscription;
    /// Wakes every subscriber of `handle`.
    fn notify(&self, handle: &str);
}

/// One waiter's registration; unregisters itself when dropped.
pub struct Subscription {
    rx: Option<watch::Receiver<u64>>,
    on_drop: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Subscription {
    /// Resolves at the next notification after the subscription was made (or the last call).
    pub async fn changed(&mut self) {
        match self.rx.as_mut() {
            Some(rx) => {
                if rx.changed().await.is_err() {
                    // The sender is gone: nothing will ever wake us, so wait for the timeout.
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Drop the receiver first so the cleanup sees the true count.
        self.rx.take();
        if let Some(f) = self.on_drop.take() {
            f();
        }
    }
}

/// The in-process notifier: one `watch` channel per session that has waiters.
#[derive(Default, Clone)]
pub struct LocalNotifier {
    channels: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

impl LocalNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions have at least one waiter (for tests and benchmarks).
    pub fn watched_sessions(&self) -> usize {
        self.channels.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl LocalNotifier {
    /// Wakes every waiter of every session, so that each re-reads its status. For when changes
    /// may have been missed (a lost `LISTEN` connection): a spurious wake-up costs one read.
    pub fn notify_all(&self) {
        if let Ok(map) = self.channels.lock() {
            for tx in map.values() {
                tx.send_modify(|v| *v = v.wrapping_add(1));
            }
        }
    }
}

impl Notifier for LocalNotifier {
    fn subscribe(&self, handle: &str) -> Subscription {
        let Ok(mut map) = self.channels.lock() else {
            return Subscription {
                rx: None,
                on_drop: None,
            };
        };
        let rx = map
            .entry(handle.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        let channels = Arc::clone(&self.channels);
        let key = handle.to_owned();
        Subscription {
            rx: Some(rx),
            on_drop: Some(Box::new(move || {
                if let Ok(mut map) = channels.lock() {
                    // Receivers are only made under this lock, so a zero count is final.
                    if map.get(&key).is_some_and(|tx| tx.receiver_count() == 0) {
                        map.remove(&key);
                    }
                }
            })),
        }
    }

    fn notify(&self, handle: &str) {
        if let Ok(map) = self.channels.lock() {
            if let Some(tx) = map.get(handle) {
                tx.send_modify(|v| *v = v.wrapping_add(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_notify_wakes_every_waiter_and_cleans_up() {
        let n = LocalNotifier::new();
        let mut waiters: Vec<_> = (0..50).map(|_| n.subscribe("s1")).collect();
        let _other = n.subscribe("s2");
        assert_eq!(n.watched_sessions(), 2);
        n.notify("s1");
        for w in waiters.iter_mut() {
            tokio::time::timeout(Duration::from_secs(1), w.changed())
                .await
                .expect("waiter not woken");
        }
        drop(waiters);
        assert_eq!(n.watched_sessions(), 1, "channel of s1 not removed");
    }

    #[tokio::test]
    async fn notify_all_wakes_every_session() {
        let n = LocalNotifier::new();
        let mut a = n.subscribe("a");
        let mut b = n.subscribe("b");
        n.notify_all();
        for w in [&mut a, &mut b] {
            tokio::time::timeout(Duration::from_millis(200), w.changed())
                .await
                .expect("waiter not woken by notify_all");
        }
    }

    #[tokio::test]
    async fn a_notify_before_the_wait_is_not_lost() {
        let n = LocalNotifier::new();
        let mut w = n.subscribe("s");
        n.notify("s");
        tokio::time::timeout(Duration::from_millis(200), w.changed())
            .await
            .expect("notification between subscribe and wait was lost");
    }
}
