//! Cross-instance changes: one `LISTEN` connection per instance on the channel that
//! [`crate::store::PgStore`] notifies in the same statement as each status change. The payload
//! is the session's new state ([`crate::live::Progress`]); the listener task merges it into this
//! instance's live sessions, which wakes the local waiters. No query, no polling of the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::Notifier;
use crate::live::LiveSessions;
use crate::store::{backend_error, StoreResult, NOTIFY_CHANNEL};

/// The notifier of an instance whose store is a [`crate::store::PgStore`].
pub struct PgNotifier {
    live: Arc<OnceLock<Arc<LiveSessions>>>,
    reconnects: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PgNotifier {
    /// Connects and starts listening; returns once `LISTEN` is in force, so that no change made
    /// after this returns can go unnoticed.
    pub async fn start(url: &str) -> StoreResult<PgNotifier> {
        let listener = listen(url).await.map_err(backend_error)?;
        let live = Arc::new(OnceLock::new());
        let reconnects = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(fan_out(
            url.to_owned(),
            listener,
            Arc::clone(&live),
            Arc::clone(&reconnects),
        ));
        Ok(PgNotifier {
            live,
            reconnects,
            task,
        })
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
    /// Changes heard before this (none of a session this instance holds: it holds none yet)
    /// are dropped.
    fn attach(&self, live: Arc<LiveSessions>) {
        let _ = self.live.set(live);
    }
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// Forwards notifications until aborted. A notification sent while the connection was down is
/// lost, so after every reconnect (once `LISTEN` is in force again) every live session is read
/// again: a change in the gap is then seen, and none after it can be missed.
async fn fan_out(
    url: String,
    mut listener: PgListener,
    live: Arc<OnceLock<Arc<LiveSessions>>>,
    reconnects: Arc<AtomicU64>,
) {
    let resync = |live: &OnceLock<Arc<LiveSessions>>| {
        if let Some(live) = live.get() {
            let live = Arc::clone(live);
            // Beside the listener: it keeps applying the changes that arrive meanwhile.
            tokio::spawn(async move { live.resync().await });
        }
    };
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                if let Some(live) = live.get() {
                    live.hear_payload(n.payload());
                }
            }
            Ok(None) => {
                // sqlx has already reconnected and re-issued LISTEN before returning None.
                reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "LISTEN connection was lost and is back; reading live sessions again"
                );
                resync(&live);
            }
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; reconnecting");
                listener = reconnect(&url).await;
                reconnects.fetch_add(1, Ordering::Relaxed);
                resync(&live);
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
