//! The shared backend: one PostgreSQL database for every instance behind a load balancer, schema
//! from `migrations/postgres/` applied at open. Each status change announces itself with
//! `pg_notify` in the same statement, so the announcement is delivered exactly when the change
//! commits (never for a change that did not happen) to every instance's listener.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};

use super::{
    backend_error as backend, row_decoders, SessionJson, Store, StoreError, StoreResult,
    APP_COLUMNS, PURGE_BATCH, SESSION_COLUMNS, USER_COLUMNS,
};
use crate::model::{App, Millis, QrSession, User};

/// The `LISTEN`/`NOTIFY` channel of status changes; the payload is the session's handle.
pub const NOTIFY_CHANNEL: &str = "qrlogin_session";

/// Connections per instance. Long-poll waiters hold none (they re-read once when woken), so a
/// handful serves thousands of kiosks; PostgreSQL's default limit is 100 for all instances.
const MAX_CONNECTIONS: u32 = 16;

pub struct PgStore {
    pub(super) pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date. Instances starting at
    /// once are fine: sqlx holds an advisory lock while it migrates.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration: {e}")))?;
        Ok(PgStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn one_session(&self, column: &str, value: &str) -> StoreResult<Option<QrSession>> {
        // `column` is one of three literals chosen below, never user input.
        let sql = format!("SELECT {SESSION_COLUMNS} FROM qr_sessions WHERE {column} = $1");
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

    /// Runs a conditional `UPDATE … RETURNING handle` wrapped so that the row it changed (if any)
    /// is announced on [`NOTIFY_CHANNEL`]; true when it applied.
    async fn change_status(
        &self,
        update: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> StoreResult<bool> {
        let rows = update.fetch_all(&self.pool).await.map_err(backend)?;
        Ok(rows.len() == 1)
    }
}

row_decoders!(PgRow);

/// `UPDATE` statements of status changes end in `RETURNING handle`; this wraps one so that the
/// change and its announcement are one statement (and so one transaction).
fn announced(update: &str) -> String {
    format!(
        "WITH changed AS ({update} RETURNING handle) \
         SELECT pg_notify('{NOTIFY_CHANNEL}', handle) FROM changed"
    )
}

#[async_trait]
impl Store for PgStore {
    async fn meta_get_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        // Two instances starting at once both insert; the conflict keeps the first, and both
        // read back the one in force.
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_app(&self, app: &App) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO apps ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
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
        let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE app_id = $1");
        let row = sqlx::query(&sql)
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(app_from_row).transpose().map_err(backend)
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY created_at, seq");
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
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
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
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(user_from_row).transpose().map_err(backend)
    }

    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(user_from_row).transpose().map_err(backend)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, seq");
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
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_login(&self, user_id: &str, ip: Option<&str>, at: Millis) -> StoreResult<()> {
        // One statement: concurrent logins on two instances both count.
        sqlx::query(
            "UPDATE users SET logins_count = logins_count + 1, last_login = $1, \
             last_ip = COALESCE($2, last_ip) WHERE id = $3",
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
            "INSERT INTO qr_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
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

    // The three status changes: under READ COMMITTED a conditional UPDATE that finds its row
    // locked by a concurrent one waits, then re-checks its WHERE against the committed row, so
    // of two instances racing on one session exactly one sees a row to change.

    async fn mark_scanned(&self, handle: &str, user_id: &str, now: Millis) -> StoreResult<bool> {
        let sql = announced(
            "UPDATE qr_sessions SET status = 'scanned', scanned_by = $1, scanned_at = $2 \
             WHERE handle = $3 AND status = 'pending' AND expires_at > $2",
        );
        self.change_status(sqlx::query(&sql).bind(user_id).bind(now).bind(handle))
            .await
    }

    async fn mark_authorized(
        &self,
        handle: &str,
        user_id: &str,
        ticket: &str,
        ticket_expires_at: Millis,
        now: Millis,
    ) -> StoreResult<bool> {
        let sql = announced(
            "UPDATE qr_sessions SET status = 'authorized', decided_at = $1, ticket = $2, \
             ticket_expires_at = $3 \
             WHERE handle = $4 AND status = 'scanned' AND scanned_by = $5 AND expires_at > $1",
        );
        self.change_status(
            sqlx::query(&sql)
                .bind(now)
                .bind(ticket)
                .bind(ticket_expires_at)
                .bind(handle)
                .bind(user_id),
        )
        .await
    }

    async fn mark_cancelled(&self, handle: &str, user_id: &str, now: Millis) -> StoreResult<bool> {
        let sql = announced(
            "UPDATE qr_sessions SET status = 'cancelled', decided_at = $1 \
             WHERE handle = $2 AND status = 'scanned' AND scanned_by = $3 AND expires_at > $1",
        );
        self.change_status(sqlx::query(&sql).bind(now).bind(handle).bind(user_id))
            .await
    }

    async fn spend_ticket(&self, ticket: &str, app_id: &str, now: Millis) -> StoreResult<bool> {
        // Not announced: the status stays `authorized`, so no long-poll is waiting for this.
        let done = sqlx::query(
            "UPDATE qr_sessions SET ticket_used_at = $1 \
             WHERE ticket = $2 AND app_id = $3 AND status = 'authorized' \
             AND ticket_used_at IS NULL AND ticket_expires_at > $1",
        )
        .bind(now)
        .bind(ticket)
        .bind(app_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_sessions(&self, before: Millis) -> StoreResult<u64> {
        // SKIP LOCKED: instances sweeping at once take disjoint batches instead of queueing
        // behind each other, and a row a status change holds is left for the next sweep.
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "WITH doomed AS ( \
                   SELECT handle FROM qr_sessions \
                   WHERE (expires_at < $1 \
                          AND (ticket_expires_at IS NULL OR ticket_expires_at < $1)) \
                      OR ticket_used_at < $1 \
                   LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 DELETE FROM qr_sessions q USING doomed WHERE q.handle = doomed.handle",
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
