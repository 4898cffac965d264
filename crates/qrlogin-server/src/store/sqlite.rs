//! The embedded backend: one SQLite file in the data directory, WAL mode, schema from
//! `migrations/sqlite/` applied at open. The statements are shared (`sql.rs`, `auth.rs`); this
//! file holds the connection and what SQLite does its own way.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::sql::{store_impl, Dialect, SESSION_ENDED};
use super::{auth::auth_store_impl, backend_error as backend, migrated_pool, StoreResult};

pub struct SqliteStore {
    pub(super) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `file` and brings its schema up to date.
    pub async fn open(file: &Path) -> StoreResult<Self> {
        let url = format!("sqlite://{}", file.display());
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4);
        let pool = migrated_pool(pool, options, &sqlx::migrate!("./migrations/sqlite")).await?;
        Ok(SqliteStore { pool })
    }
}

impl Dialect for SqliteStore {
    /// SQLite serves one process, whose waiters the caller wakes (`LocalNotifier`): the change
    /// is the statement with `RETURNING handle`, whose one row says that it applied.
    fn status_change(update: &str) -> String {
        format!("{update} RETURNING handle")
    }

    /// SQLite has one writer at a time; batches keep each write lock short for the status
    /// changes queued behind it. `rowid` is the cheapest handle on a row.
    fn purge_sessions_batch() -> String {
        format!(
            "DELETE FROM qr_sessions WHERE rowid IN \
             (SELECT rowid FROM qr_sessions WHERE {SESSION_ENDED} LIMIT $2)"
        )
    }
}

store_impl!(SqliteStore, sqlx::Sqlite);
auth_store_impl!(SqliteStore, sqlx::Sqlite);
