//! Cross-instance wake-ups: one `LISTEN` connection per instance on the channel that
//! [`crate::store::PgStore`] notifies in the same statement as each status change. The listener
//! task fans each notification out to this instance's local waiters; no polling of the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{LocalNotifier, Notifier, Subscription};
use crate::store::{backend_error, StoreResult, NOTIFY_CHANNEL};

/// The notifier of an instance whose store is a [`crate::store::PgStore`].
pub struct PgNotifier {
    local: LocalNotifier,
    reconnects: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PgNotifier {
    /// Connects and starts listening; returns once `LISTEN` is in force, so that no change made
    /// after this returns can go unnoticed.
    pub async fn start(url: &str) -> StoreResult<PgNotifier> {
        let listener = listen(url).await.map_err(backend_error)?;
        let local = LocalNotifier::new();
        let reconnects = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(fan_out(
            url.to_owned(),
            listener,
            local.clone(),
            Arc::clone(&reconnects),
        ));
        Ok(PgNotifier {
            local,
            reconnects,
            task,
        })
    }

    /// How many sessions have at least one waiter on this instance.
    pub fn watched_sessions(&self) -> usize {
        self.local.watched_sessions()
    }

    /// How many times the `LISTEN` connection was lost and made again (for tests and logs).
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }
}

impl Drop for PgNotifier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Notifier for PgNotifier {
    fn subscribe(&self, handle: &str) -> Subscription {
        self.local.subscribe(handle)
    }

    /// Nothing to do here: the store already announced the change in the statement that made
    /// it, and the listener wakes this instance's waiters as it wakes every other instance's.
    /// (Waking here too would make every local waiter read the session twice.)
    fn notify(&self, _handle: &str) {}
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// Forwards notifications until aborted. A notification sent while the connection was down is
/// lost, so after every reconnect (once `LISTEN` is in force again) every local waiter is woken
/// to re-read its session: a change in the gap is then seen, and none after it can be missed.
async fn fan_out(
    url: String,
    mut listener: PgListener,
    local: LocalNotifier,
    reconnects: Arc<AtomicU64>,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => local.notify(n.payload()),
            Ok(None) => {
                // sqlx has already reconnected and re-issued LISTEN before returning None.
                reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("LISTEN connection was lost and is back; waking every waiter");
                local.notify_all();
            }
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; reconnecting");
                listener = reconnect(&url).await;
                reconnects.fetch_add(1, Ordering::Relaxed);
                local.notify_all();
            }
        }
    }
}

/// A fresh listener, retried with backoff while the database is unreachable.
async fn reconnect(url: &str) -> PgListener {
    let mut delay = Duration::from_millis(100);
    loop {
        tokio::time::sleep(delay).await;
        match listen(url).await {
            Ok(l) => {
                tracing::info!("LISTEN connection re-established");
                return l;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot LISTEN yet");
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
