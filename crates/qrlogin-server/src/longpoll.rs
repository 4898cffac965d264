//! Changes made by other instances that share the store. Long-polls wait on the live sessions
//! ([`crate::live`]), which every change of this instance updates directly; a notifier hands
//! them the changes of other instances. [`LocalNotifier`] serves one process (nothing to hear);
//! [`PgNotifier`] hears every instance that shares a PostgreSQL database through
//! `LISTEN`/`NOTIFY`, the payload carrying the new state, so no query is needed to apply it.

#[cfg(feature = "postgres")]
mod postgres;

#[cfg(feature = "postgres")]
pub use postgres::PgNotifier;

use std::sync::Arc;

use crate::live::LiveSessions;

pub trait Notifier: Send + Sync + 'static {
    /// Connects this instance's live sessions: every change another instance announces from
    /// now on is merged into `live`.
    fn attach(&self, live: Arc<LiveSessions>);
}

/// The notifier of a server that is the only writer of its store (SQLite): every change is
/// made by this process and reaches its live sessions directly.
#[derive(Default, Clone)]
pub struct LocalNotifier;

impl LocalNotifier {
    pub fn new() -> Self {
        LocalNotifier
    }
}

impl Notifier for LocalNotifier {
    fn attach(&self, _live: Arc<LiveSessions>) {}
}
