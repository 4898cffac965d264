//! Storage behind one trait, so that a second backend (PostgreSQL, shared by several instances)
//! can be added without touching the handlers. Every status change is a compare-and-set that
//! returns whether it happened; callers never read, decide, then write.

pub mod auth;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
pub mod user_codes;

pub use auth::AuthStore;
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
/// The sessions, refresh tokens and login history of [`AuthStore`] are part of every store.
pub trait Store: AuthStore + UserCodeStore + Send + Sync + 'static {
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

/// The JSON columns of a session, as both backends store them (TEXT).
pub(crate) struct SessionJson {
    pub check_choices: String,
    pub requester: Option<String>,
    pub custom_data: Option<String>,
}

impl SessionJson {
    pub fn of(s: &QrSession) -> StoreResult<Self> {
        let text = |e: serde_json::Error| StoreError::Backend(e.to_string());
        Ok(SessionJson {
            check_choices: serde_json::to_string(&s.check_choices).map_err(text)?,
            requester: s
                .requester
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(text)?,
            custom_data: s
                .custom_data
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(text)?,
        })
    }
}

pub(crate) fn backend_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Row decoding shared by both backends (same column names and Rust types); a macro because
/// sqlx's generic `Row` bounds for seven column types are longer than the code.
macro_rules! row_decoders {
    ($row:ty) => {
        fn app_from_row(row: &$row) -> Result<$crate::model::App, sqlx::Error> {
            use sqlx::Row;
            let payload: String = row.try_get("qr_payload")?;
            Ok($crate::model::App {
                app_id: row.try_get("app_id")?,
                app_secret: row.try_get("app_secret")?,
                name: row.try_get("name")?,
                redirect_url: row.try_get("redirect_url")?,
                allow_client_exchange: row.try_get("allow_client_exchange")?,
                return_full_user_info: row.try_get("return_full_user_info")?,
                qr_ttl_secs: row
                    .try_get::<i64, _>("qr_ttl_secs")?
                    .clamp(1, i64::from(u32::MAX)) as u32,
                ticket_ttl_secs: row
                    .try_get::<i64, _>("ticket_ttl_secs")?
                    .clamp(1, i64::from(u32::MAX)) as u32,
                qr_payload: $crate::model::QrPayload::parse(&payload).unwrap_or_default(),
                check_code: row.try_get("check_code")?,
                created_at: row.try_get("created_at")?,
                access_ttl_secs: row
                    .try_get::<i64, _>("access_ttl_secs")?
                    .clamp(1, i64::from(u32::MAX)) as u32,
                qr_rotate_secs: row
                    .try_get::<i64, _>("qr_rotate_secs")?
                    .clamp(0, i64::from(u32::MAX)) as u32,
                logo_png: row.try_get("logo_png")?,
                signup: row.try_get("signup")?,
            })
        }

        fn user_from_row(row: &$row) -> Result<$crate::model::User, sqlx::Error> {
            use sqlx::Row;
            Ok($crate::model::User {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                password_hash: row.try_get("password_hash")?,
                nickname: row.try_get("nickname")?,
                email: row.try_get("email")?,
                phone: row.try_get("phone")?,
                photo: row.try_get("photo")?,
                created_at: row.try_get("created_at")?,
                logins_count: row.try_get("logins_count")?,
                last_login: row.try_get("last_login")?,
                last_ip: row.try_get("last_ip")?,
            })
        }

        fn session_from_row(row: &$row) -> Result<$crate::model::QrSession, sqlx::Error> {
            use sqlx::Row;
            use $crate::model::{Generation, Requester, Status};
            let decode = |col: &str, e: String| sqlx::Error::ColumnDecode {
                index: col.to_owned(),
                source: e.into(),
            };
            let generation: String = row.try_get("generation")?;
            let status: String = row.try_get("status")?;
            let choices: Option<String> = row.try_get("check_choices")?;
            let requester: Option<String> = row.try_get("requester")?;
            let custom: Option<String> = row.try_get("custom_data")?;
            Ok($crate::model::QrSession {
                handle: row.try_get("handle")?,
                scan_id: row.try_get("scan_id")?,
                generation: Generation::parse(&generation)
                    .ok_or_else(|| decode("generation", generation.clone()))?,
                app_id: row.try_get("app_id")?,
                stored_status: Status::parse_stored(&status)
                    .ok_or_else(|| decode("status", status.clone()))?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
                scanned_by: row.try_get("scanned_by")?,
                scanned_at: row.try_get("scanned_at")?,
                decided_at: row.try_get("decided_at")?,
                ticket: row.try_get("ticket")?,
                ticket_expires_at: row.try_get("ticket_expires_at")?,
                ticket_used_at: row.try_get("ticket_used_at")?,
                code_challenge: row.try_get("code_challenge")?,
                check_code: row.try_get("check_code")?,
                check_choices: choices
                    .map(|c| {
                        serde_json::from_str(&c).map_err(|e| decode("check_choices", e.to_string()))
                    })
                    .transpose()?
                    .unwrap_or_default(),
                requester: requester
                    .map(|r| serde_json::from_str::<Requester>(&r))
                    .transpose()
                    .map_err(|e| decode("requester", e.to_string()))?,
                custom_data: custom
                    .map(|c| serde_json::from_str(&c))
                    .transpose()
                    .map_err(|e| decode("custom_data", e.to_string()))?,
                qr_content: row.try_get("qr_content")?,
                user_code: None,
            })
        }
    };
}
pub(crate) use row_decoders;

pub(crate) const SESSION_COLUMNS: &str = "handle, scan_id, generation, app_id, status, \
    created_at, expires_at, scanned_by, scanned_at, decided_at, ticket, ticket_expires_at, \
    ticket_used_at, code_challenge, check_code, check_choices, requester, custom_data, qr_content";

pub(crate) const APP_COLUMNS: &str = "app_id, app_secret, name, redirect_url, \
    allow_client_exchange, return_full_user_info, qr_ttl_secs, ticket_ttl_secs, qr_payload, \
    check_code, created_at, access_ttl_secs, qr_rotate_secs, logo_png, signup";

pub(crate) const USER_COLUMNS: &str = "id, username, password_hash, nickname, email, phone, \
    photo, created_at, logins_count, last_login, last_ip";
