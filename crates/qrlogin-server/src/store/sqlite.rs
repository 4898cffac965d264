//! The embedded backend: one SQLite file in the data directory, WAL mode, schema from
//! `migrations/sqlite/` applied at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use super::{
    backend_error as backend, row_decoders, SessionJson, Store, StoreError, StoreResult,
    APP_COLUMNS, PURGE_BATCH, SESSION_COLUMNS, USER_COLUMNS,
};
use crate::model::{App, Millis, QrSession, User};

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
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration: {e}")))?;
        Ok(SqliteStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

row_decoders!(SqliteRow);

impl SqliteStore {
    async fn one_session(&self, column: &str, value: &str) -> StoreResult<Option<QrSession>> {
        // `column` is one of three literals chosen below, never user input.
        let sql = format!("SELECT {SESSION_COLUMNS} FROM qr_sessions WHERE {column} = ?");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref()
            .map(session_from_row)
            .transpose()
            .map_err(backend)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn meta_get_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_app(&self, app: &App) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO apps ({APP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(&app.app_id)
            .bind(&app.app_secret)
            .bind(&app.name)
            .bind(&app.redirect_url)
            .bind(app.allow_client_exchange)
            .bind(app.return_full_user_info)
            .bind(i64::from(app.qr_ttl_secs))
            .bind(i64::from(app.ticket_ttl_secs))
            .bind(app.qr_payload.as_str())
            .bind(app.check_code)
            .bind(app.created_at)
            .bind(i64::from(app.access_ttl_secs))
            .bind(i64::from(app.qr_rotate_secs))
            .bind(&app.logo_png)
            .bind(app.signup)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get_app(&self, app_id: &str) -> StoreResult<Option<App>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE app_id = ?");
        let row = sqlx::query(&sql)
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(app_from_row).transpose().map_err(backend)
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY created_at, rowid");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(app_from_row)
            .collect::<Result<_, _>>()
            .map_err(backend)
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let sql =
            format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(&user.id)
            .bind(&user.username)
            .bind(&user.password_hash)
            .bind(&user.nickname)
            .bind(&user.email)
            .bind(&user.phone)
            .bind(&user.photo)
            .bind(user.created_at)
            .bind(user.logins_count)
            .bind(user.last_login)
            .bind(&user.last_ip)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(user_from_row).transpose().map_err(backend)
    }

    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(user_from_row).transpose().map_err(backend)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, rowid");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<_, _>>()
            .map_err(backend)
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_login(&self, user_id: &str, ip: Option<&str>, at: Millis) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET logins_count = logins_count + 1, last_login = ?, \
             last_ip = COALESCE(?, last_ip) WHERE id = ?",
        )
        .bind(at)
        .bind(ip)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn insert_session(&self, s: &QrSession) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO qr_sessions ({SESSION_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let json = SessionJson::of(s)?;
        sqlx::query(&sql)
            .bind(&s.handle)
            .bind(&s.scan_id)
            .bind(s.generation.as_str())
            .bind(&s.app_id)
            .bind(s.stored_status.as_str())
            .bind(s.created_at)
            .bind(s.expires_at)
            .bind(&s.scanned_by)
            .bind(s.scanned_at)
            .bind(s.decided_at)
            .bind(&s.ticket)
            .bind(s.ticket_expires_at)
            .bind(s.ticket_used_at)
            .bind(&s.code_challenge)
            .bind(&s.check_code)
            .bind(json.check_choices)
            .bind(json.requester)
            .bind(json.custom_data)
            .bind(&s.qr_content)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn session_by_handle(&self, handle: &str) -> StoreResult<Option<QrSession>> {
        self.one_session("handle", handle).await
    }

    async fn session_by_scan_id(&self, scan_id: &str) -> StoreResult<Option<QrSession>> {
        self.one_session("scan_id", scan_id).await
    }

    async fn session_by_ticket(&self, ticket: &str) -> StoreResult<Option<QrSession>> {
        self.one_session("ticket", ticket).await
    }

    async fn mark_scanned(&self, handle: &str, user_id: &str, now: Millis) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE qr_sessions SET status = 'scanned', scanned_by = ?, scanned_at = ? \
             WHERE handle = ? AND status = 'pending' AND expires_at > ?",
        )
        .bind(user_id)
        .bind(now)
        .bind(handle)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_authorized(
        &self,
        handle: &str,
        user_id: &str,
        ticket: &str,
        ticket_expires_at: Millis,
        now: Millis,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE qr_sessions SET status = 'authorized', decided_at = ?, ticket = ?, \
             ticket_expires_at = ? \
             WHERE handle = ? AND status = 'scanned' AND scanned_by = ? AND expires_at > ?",
        )
        .bind(now)
        .bind(ticket)
        .bind(ticket_expires_at)
        .bind(handle)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_cancelled(&self, handle: &str, user_id: &str, now: Millis) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE qr_sessions SET status = 'cancelled', decided_at = ? \
             WHERE handle = ? AND status = 'scanned' AND scanned_by = ? AND expires_at > ?",
        )
        .bind(now)
        .bind(handle)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn spend_ticket(&self, ticket: &str, app_id: &str, now: Millis) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE qr_sessions SET ticket_used_at = ? \
             WHERE ticket = ? AND app_id = ? AND status = 'authorized' \
             AND ticket_used_at IS NULL AND ticket_expires_at > ?",
        )
        .bind(now)
        .bind(ticket)
        .bind(app_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_sessions(&self, before: Millis) -> StoreResult<u64> {
        // SQLite has one writer at a time; batches keep each write lock short for the
        // status changes queued behind it.
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM qr_sessions WHERE rowid IN (SELECT rowid FROM qr_sessions \
                 WHERE (expires_at < ?1 AND (ticket_expires_at IS NULL OR ticket_expires_at < ?1)) \
                 OR ticket_used_at < ?1 LIMIT ?2)",
            )
            .bind(before)
            .bind(PURGE_BATCH)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            total += done.rows_affected();
            if done.rows_affected() < PURGE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}
