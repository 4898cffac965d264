//! Storage of what issue 11 added: server-side sessions, their rotating refresh tokens, disabled
//! users, app secret rotation and the login history. One implementation for both backends, as
//! in `sql.rs`: the SQL is written once with `$n` placeholders (which SQLite reads too), rows
//! decode through `rows.rs`, and `auth_store_impl!` stamps the impl out for each store.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Millis, User};

/// Who holds a session: the phone (may approve QR logins) or a desktop (got it from a QR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Approver,
    Desktop,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Approver => "approver",
            SessionKind::Desktop => "desktop",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approver" => Some(SessionKind::Approver),
            "desktop" => Some(SessionKind::Desktop),
            _ => None,
        }
    }
}

/// One server-side session (table `auth_sessions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    pub id: String,
    pub user_id: String,
    /// The app, or the user pool id for the approval page's own sessions.
    pub app_id: String,
    pub kind: SessionKind,
    /// Made without the app secret (PKCE, client exchange): may refresh with client auth `none`.
    pub public_client: bool,
    pub created_at: Millis,
    pub last_used_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
    pub device: Option<String>,
    pub ip: Option<String>,
}

/// A stored refresh token, by the hash of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRow {
    pub session_id: String,
    pub expires_at: Millis,
    pub spent_at: Option<Millis>,
}

/// One line of the login history (table `login_history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEvent {
    pub id: String,
    pub user_id: Option<String>,
    pub username: String,
    pub app_id: String,
    /// `sign-in`, `qr-confirm` or `qr-cancel`.
    pub event: String,
    pub success: bool,
    /// `signed-in`, `wrong-password`, `disabled`, `authorized`, `cancelled`, `wrong-check-code`.
    pub outcome: String,
    pub device: Option<String>,
    pub requester_ip: Option<String>,
    pub approver_ip: Option<String>,
    pub at: Millis,
}

/// Filters of a history read; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub user_id: Option<String>,
    pub app_id: Option<String>,
    /// Matches the requester's or the approver's address.
    pub client_ip: Option<String>,
    pub success: Option<bool>,
    pub start: Option<Millis>,
    pub end: Option<Millis>,
    pub offset: i64,
    pub limit: i64,
}

#[async_trait]
pub trait AuthStore: Send + Sync {
    async fn insert_auth_session(&self, s: &AuthSession) -> StoreResult<()>;
    /// The session and its user, if the session is live at `now`: not revoked, not expired, and
    /// the user not disabled. This is the check every token goes through (one indexed join).
    async fn live_auth_session(
        &self,
        id: &str,
        now: Millis,
    ) -> StoreResult<Option<(AuthSession, User)>>;
    async fn get_auth_session(&self, id: &str) -> StoreResult<Option<AuthSession>>;
    /// Sets `last_used_at`, at most once a minute per session (a write per request would cost
    /// more than the check itself).
    async fn touch_auth_session(&self, id: &str, now: Millis) -> StoreResult<()>;
    /// Moves the end of a session (on refresh).
    async fn extend_auth_session(&self, id: &str, expires_at: Millis) -> StoreResult<()>;
    /// Ends one session; false when it had already ended or does not exist.
    async fn revoke_auth_session(&self, id: &str, now: Millis) -> StoreResult<bool>;
    /// Ends every live session of a user; returns how many.
    async fn revoke_user_sessions(&self, user_id: &str, now: Millis) -> StoreResult<u64>;
    /// The live sessions of a user, newest first.
    async fn user_sessions(&self, user_id: &str, now: Millis) -> StoreResult<Vec<AuthSession>>;

    async fn insert_refresh_token(
        &self,
        hash: &str,
        session_id: &str,
        expires_at: Millis,
    ) -> StoreResult<()>;
    async fn refresh_token(&self, hash: &str) -> StoreResult<Option<RefreshRow>>;
    /// Marks an unspent, unexpired refresh token spent: true for exactly one caller.
    async fn spend_refresh_token(&self, hash: &str, now: Millis) -> StoreResult<bool>;

    /// Sets or clears `disabled_at`; false when no such user.
    async fn set_user_disabled(&self, user_id: &str, at: Option<Millis>) -> StoreResult<bool>;
    async fn user_disabled(&self, user_id: &str) -> StoreResult<bool>;
    /// False when no such app.
    async fn set_app_secret(&self, app_id: &str, secret: &str) -> StoreResult<bool>;

    async fn insert_login_event(&self, e: &LoginEvent) -> StoreResult<()>;
    /// The events that match, newest first, and how many match in all.
    async fn login_history(&self, q: &HistoryQuery) -> StoreResult<(i64, Vec<LoginEvent>)>;

    /// Deletes sessions (with their refresh tokens) that ended before `sessions_before`, and
    /// history older than `history_before`. Returns how many rows.
    async fn purge_auth(&self, sessions_before: Millis, history_before: Millis)
        -> StoreResult<u64>;
}

/// Where-clause and its parameters of a history query (numbered from `$1`).
pub(crate) enum HistoryParam {
    Text(String),
    Int(i64),
    Bool(bool),
}

pub(crate) fn history_where(q: &HistoryQuery) -> (String, Vec<HistoryParam>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut params = Vec::new();
    // `#` in a clause is its parameter's placeholder.
    let mut add = |clause: &str, p: HistoryParam| {
        params.push(p);
        clauses.push(clause.replace('#', &format!("${}", params.len())));
    };
    if let Some(u) = &q.user_id {
        add("user_id = #", HistoryParam::Text(u.clone()));
    }
    if let Some(a) = &q.app_id {
        add("app_id = #", HistoryParam::Text(a.clone()));
    }
    if let Some(ip) = &q.client_ip {
        add(
            "(requester_ip = # OR approver_ip = #)",
            HistoryParam::Text(ip.clone()),
        );
    }
    if let Some(s) = q.success {
        add("success = #", HistoryParam::Bool(s));
    }
    if let Some(s) = q.start {
        add("at >= #", HistoryParam::Int(s));
    }
    if let Some(e) = q.end {
        add("at <= #", HistoryParam::Int(e));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

/// The `AuthStore` impl of a backend: `$store` has a `pool` of database `$db`. Rows decode
/// through `rows.rs`.
macro_rules! auth_store_impl {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::model::{Millis, User};
            use $crate::store::auth::*;
            use $crate::store::rows::{
                prefixed_columns, SessionWithUser, AUTH_SESSION_COLUMNS, LOGIN_EVENT_COLUMNS,
                USER_COLUMNS,
            };
            use $crate::store::{backend_error as backend, StoreResult};

            #[async_trait::async_trait]
            impl AuthStore for $store {
                async fn insert_auth_session(&self, s: &AuthSession) -> StoreResult<()> {
                    let sql = "INSERT INTO auth_sessions (id, user_id, app_id, kind, \
                        public_client, created_at, last_used_at, expires_at, revoked_at, device, ip) \
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
                    sqlx::query(&sql)
                        .bind(&s.id)
                        .bind(&s.user_id)
                        .bind(&s.app_id)
                        .bind(s.kind.as_str())
                        .bind(s.public_client)
                        .bind(s.created_at)
                        .bind(s.last_used_at)
                        .bind(s.expires_at)
                        .bind(s.revoked_at)
                        .bind(&s.device)
                        .bind(&s.ip)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn live_auth_session(
                    &self,
                    id: &str,
                    now: Millis,
                ) -> StoreResult<Option<(AuthSession, User)>> {
                    // Every token check runs this: its text is made once.
                    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                        format!(
                            "SELECT {}, {} FROM auth_sessions s \
                             JOIN users u ON u.id = s.user_id \
                             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
                             AND u.disabled_at IS NULL",
                            prefixed_columns(AUTH_SESSION_COLUMNS, "s", ""),
                            prefixed_columns(USER_COLUMNS, "u", "u_"),
                        )
                    });
                    let live: Option<SessionWithUser> = sqlx::query_as(&SQL)
                        .bind(id)
                        .bind(now)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(live.map(|SessionWithUser(session, user)| (session, user)))
                }

                async fn get_auth_session(&self, id: &str) -> StoreResult<Option<AuthSession>> {
                    let sql = format!("SELECT {AUTH_SESSION_COLUMNS} FROM auth_sessions WHERE id = $1");
                    sqlx::query_as(&sql)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn touch_auth_session(&self, id: &str, now: Millis) -> StoreResult<()> {
                    let sql = "UPDATE auth_sessions SET last_used_at = $1 \
                        WHERE id = $2 AND last_used_at < $3";
                    sqlx::query(&sql)
                        .bind(now)
                        .bind(id)
                        .bind(now - 60_000)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn extend_auth_session(&self, id: &str, expires_at: Millis) -> StoreResult<()> {
                    let sql = "UPDATE auth_sessions SET expires_at = $1 WHERE id = $2";
                    sqlx::query(&sql)
                        .bind(expires_at)
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn revoke_auth_session(&self, id: &str, now: Millis) -> StoreResult<bool> {
                    let sql = "UPDATE auth_sessions SET revoked_at = $1 \
                        WHERE id = $2 AND revoked_at IS NULL";
                    let done = sqlx::query(&sql)
                        .bind(now)
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn revoke_user_sessions(&self, user_id: &str, now: Millis) -> StoreResult<u64> {
                    let sql = "UPDATE auth_sessions SET revoked_at = $1 \
                        WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $3";
                    let done = sqlx::query(&sql)
                        .bind(now)
                        .bind(user_id)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn user_sessions(
                    &self,
                    user_id: &str,
                    now: Millis,
                ) -> StoreResult<Vec<AuthSession>> {
                    let sql = format!(
                        "SELECT {AUTH_SESSION_COLUMNS} FROM auth_sessions \
                         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                         ORDER BY created_at DESC, id"
                    );
                    sqlx::query_as(&sql)
                        .bind(user_id)
                        .bind(now)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn insert_refresh_token(
                    &self,
                    hash: &str,
                    session_id: &str,
                    expires_at: Millis,
                ) -> StoreResult<()> {
                    let sql = "INSERT INTO refresh_tokens (hash, session_id, expires_at) \
                        VALUES ($1, $2, $3)";
                    sqlx::query(&sql)
                        .bind(hash)
                        .bind(session_id)
                        .bind(expires_at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn refresh_token(&self, hash: &str) -> StoreResult<Option<RefreshRow>> {
                    let sql = "SELECT session_id, expires_at, spent_at FROM refresh_tokens \
                        WHERE hash = $1";
                    sqlx::query_as(sql)
                        .bind(hash)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn spend_refresh_token(&self, hash: &str, now: Millis) -> StoreResult<bool> {
                    let sql = "UPDATE refresh_tokens SET spent_at = $1 \
                        WHERE hash = $2 AND spent_at IS NULL AND expires_at > $3";
                    let done = sqlx::query(&sql)
                        .bind(now)
                        .bind(hash)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn set_user_disabled(
                    &self,
                    user_id: &str,
                    at: Option<Millis>,
                ) -> StoreResult<bool> {
                    let sql = "UPDATE users SET disabled_at = $1 WHERE id = $2";
                    let done = sqlx::query(&sql)
                        .bind(at)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn user_disabled(&self, user_id: &str) -> StoreResult<bool> {
                    let sql = "SELECT disabled_at FROM users WHERE id = $1";
                    let at: Option<Option<i64>> = sqlx::query_scalar(&sql)
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(matches!(at, Some(Some(_))))
                }

                async fn set_app_secret(&self, app_id: &str, secret: &str) -> StoreResult<bool> {
                    let sql = "UPDATE apps SET app_secret = $1 WHERE app_id = $2";
                    let done = sqlx::query(&sql)
                        .bind(secret)
                        .bind(app_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn insert_login_event(&self, e: &LoginEvent) -> StoreResult<()> {
                    let sql = format!(
                        "INSERT INTO login_history ({LOGIN_EVENT_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    );
                    sqlx::query(&sql)
                        .bind(&e.id)
                        .bind(&e.user_id)
                        .bind(&e.username)
                        .bind(&e.app_id)
                        .bind(&e.event)
                        .bind(e.success)
                        .bind(&e.outcome)
                        .bind(&e.device)
                        .bind(&e.requester_ip)
                        .bind(&e.approver_ip)
                        .bind(e.at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn login_history(
                    &self,
                    hq: &HistoryQuery,
                ) -> StoreResult<(i64, Vec<LoginEvent>)> {
                    let (filter, params) = history_where(hq);
                    let count_sql = format!("SELECT COUNT(*) FROM login_history{filter}");
                    let mut count = sqlx::query_scalar::<$db, i64>(&count_sql);
                    for p in &params {
                        count = match p {
                            HistoryParam::Text(t) => count.bind(t.clone()),
                            HistoryParam::Int(i) => count.bind(*i),
                            HistoryParam::Bool(b) => count.bind(*b),
                        };
                    }
                    let total = count.fetch_one(&self.pool).await.map_err(backend)?;
                    let n = params.len();
                    let list_sql = format!(
                        "SELECT {LOGIN_EVENT_COLUMNS} FROM login_history{filter} \
                         ORDER BY at DESC, id LIMIT ${} OFFSET ${}",
                        n + 1,
                        n + 2
                    );
                    let mut list = sqlx::query_as::<$db, LoginEvent>(&list_sql);
                    for p in &params {
                        list = match p {
                            HistoryParam::Text(t) => list.bind(t.clone()),
                            HistoryParam::Int(i) => list.bind(*i),
                            HistoryParam::Bool(b) => list.bind(*b),
                        };
                    }
                    let events = list
                        .bind(hq.limit)
                        .bind(hq.offset)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok((total, events))
                }

                async fn purge_auth(
                    &self,
                    sessions_before: Millis,
                    history_before: Millis,
                ) -> StoreResult<u64> {
                    // Refresh tokens first: both backends then need no cascading delete.
                    let tokens = "DELETE FROM refresh_tokens WHERE session_id IN \
                        (SELECT id FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $2)";
                    let a = sqlx::query(&tokens)
                        .bind(sessions_before)
                        .bind(sessions_before)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    let sessions =
                        "DELETE FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $2";
                    let b = sqlx::query(&sessions)
                        .bind(sessions_before)
                        .bind(sessions_before)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    let history = "DELETE FROM login_history WHERE at < $1";
                    let c = sqlx::query(&history)
                        .bind(history_before)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(a.rows_affected() + b.rows_affected() + c.rows_affected())
                }
            }
        };
    };
}

pub(crate) use auth_store_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_filters_number_their_placeholders_in_order() {
        let (sql, params) = history_where(&HistoryQuery {
            user_id: Some("u".into()),
            client_ip: Some("1.2.3.4".into()),
            success: Some(true),
            ..Default::default()
        });
        assert_eq!(
            sql,
            " WHERE user_id = $1 AND (requester_ip = $2 OR approver_ip = $2) AND success = $3"
        );
        assert_eq!(params.len(), 3);
    }
}
