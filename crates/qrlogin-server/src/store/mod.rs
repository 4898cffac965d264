//! Storage behind one trait, so that a second backend (PostgreSQL, shared by several instances)
//! can be added without touching the handlers. Every status change is a compare-and-set that
//! returns whether it happened; callers never read, decide, then write.

pub mod auth;
pub mod idp;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod sql;
mod sqlite;
pub mod user_codes;

pub use auth::AuthStore;
pub use idp::IdpStore;
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, NOTIFY_CHANNEL};
pub use sqlite::SqliteStore;
pub use user_codes::UserCodeStore;

use async_trait::async_trait;

use crate::model::{App, Millis, QrSession, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key (username, handle, scan id) is taken.
    #[error("already exists")]
    Duplicate,
    #[error("{0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
/// The sessions, refresh tokens and login history of [`AuthStore`], the identity sources of
/// [`IdpStore`] and the typed codes of [`UserCodeStore`] are part of every store.
pub trait Store: AuthStore + IdpStore + UserCodeStore + Send + Sync + 'static {
    /// Stores `value` under `key` unless a value is there, and returns the value in force.
    /// Used for the user-pool id and the signing key, made once per data directory.
    async fn meta_get_or_insert(&self, key: &str, value: &str) -> StoreResult<String>;

    async fn insert_app(&self, app: &App) -> StoreResult<()>;
    async fn get_app(&self, app_id: &str) -> StoreResult<Option<App>>;
    /// Oldest first; the first is the pool's default app.
    async fn list_apps(&self) -> StoreResult<Vec<App>>;

    /// Fails with [`StoreError::Duplicate`] when the username is taken.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, id: &str) -> StoreResult<Option<User>>;
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Returns false when no such user.
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<bool>;
    async fn record_login(&self, user_id: &str, ip: Option<&str>, at: Millis) -> StoreResult<()>;

    /// Fails with [`StoreError::Duplicate`] when the handle or scan id is taken.
    async fn insert_session(&self, session: &QrSession) -> StoreResult<()>;
    async fn session_by_handle(&self, handle: &str) -> StoreResult<Option<QrSession>>;
    async fn session_by_scan_id(&self, scan_id: &str) -> StoreResult<Option<QrSession>>;
    async fn session_by_ticket(&self, ticket: &str) -> StoreResult<Option<QrSession>>;

    /// pending → scanned by `user_id`, only while unexpired at `now`.
    async fn mark_scanned(&self, handle: &str, user_id: &str, now: Millis) -> StoreResult<bool>;
    /// scanned by `user_id` → authorized with a fresh ticket, only while unexpired at `now`.
    async fn mark_authorized(
        &self,
        handle: &str,
        user_id: &str,
        ticket: &str,
        ticket_expires_at: Millis,
        now: Millis,
    ) -> StoreResult<bool>;
    /// scanned by `user_id` → cancelled, only while unexpired at `now`.
    async fn mark_cancelled(&self, handle: &str, user_id: &str, now: Millis) -> StoreResult<bool>;
    /// Spends an unused, unexpired ticket of `app_id`: true for exactly one caller.
    async fn spend_ticket(&self, ticket: &str, app_id: &str, now: Millis) -> StoreResult<bool>;

    /// Deletes sessions that ended before `before`: the QR and its ticket (if any) both expired,
    /// or the ticket was spent. Returns how many. Safe to run on every instance at once: each
    /// row is deleted by exactly one of them, and none waits on another's batch.
    async fn purge_sessions(&self, before: Millis) -> StoreResult<u64>;
}

/// How many rows one sweep statement deletes: small batches keep each transaction short, so a
/// sweep never holds locks that a status change has to wait for.
pub(crate) const PURGE_BATCH: i64 = 500;

/// A pool of `options`' database, its schema brought up to date by `migrator` (at every open;
/// sqlx locks the database while it migrates, so instances may start at once).
pub(crate) async fn migrated_pool<DB>(
    pool: sqlx::pool::PoolOptions<DB>,
    options: <DB::Connection as sqlx::Connection>::Options,
    migrator: &sqlx::migrate::Migrator,
) -> StoreResult<sqlx::Pool<DB>>
where
    DB: sqlx::Database,
    DB::Connection: sqlx::migrate::Migrate,
{
    let pool = pool.connect_with(options).await.map_err(backend_error)?;
    migrator
        .run(&pool)
        .await
        .map_err(|e| StoreError::Backend(format!("migration: {e}")))?;
    Ok(pool)
}

pub(crate) fn backend_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
        _ => StoreError::Backend(e.to_string()),
    }
}
