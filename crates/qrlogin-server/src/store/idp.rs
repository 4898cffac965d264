//! Storage of identity sources (issue 15 items 5 and 6): the sources themselves, the external
//! identities bound to users, phone binding and pending account links. Written once with `$n`
//! placeholders and stamped out for each backend, as `auth.rs` does.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Millis;

/// What a sign-in through a source does when its verified phone or email matches a user who is
/// not yet bound to it (seed 003's 账号身份关联).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// A new user, always (the phone is bound to it only if nobody has it).
    #[default]
    None,
    /// Sign in to the user whose phone matches.
    MatchPhone,
    /// Sign in to the user whose email matches (WeChat gives no email: never matches there).
    MatchEmail,
    /// Ask on the phone page: the user confirms with that account's password.
    Ask,
}

impl LinkMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkMode::None => "none",
            LinkMode::MatchPhone => "match-phone",
            LinkMode::MatchEmail => "match-email",
            LinkMode::Ask => "ask",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(LinkMode::None),
            "match-phone" => Some(LinkMode::MatchPhone),
            "match-email" => Some(LinkMode::MatchEmail),
            "ask" => Some(LinkMode::Ask),
            _ => None,
        }
    }
}

/// One identity source (table `identity_sources`).
#[derive(Clone, PartialEq, Eq)]
pub struct IdentitySource {
    /// The `extIdpConnidentifier` clients name it by.
    pub id: String,
    /// `wechat-miniprogram` (the only kind so far).
    pub kind: String,
    /// The mini-program's AppID.
    pub app_id: String,
    /// Its AppSecret: sent to WeChat only, never logged or shown.
    pub app_secret: String,
    pub link: LinkMode,
    pub created_at: Millis,
}

// By hand: the secret must not reach a log through `{:?}`.
impl std::fmt::Debug for IdentitySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySource")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("app_id", &self.app_id)
            .field("app_secret", &"***")
            .field("link", &self.link)
            .finish()
    }
}

/// An account link waiting for the password of the account it would bind to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLink {
    pub id: String,
    pub source_id: String,
    pub subject: String,
    pub user_id: String,
    pub phone: Option<String>,
    pub expires_at: Millis,
    pub done_at: Option<Millis>,
}

#[async_trait]
pub trait IdpStore: Send + Sync {
    /// Fails with `Duplicate` when the id is taken.
    async fn insert_identity_source(&self, s: &IdentitySource) -> StoreResult<()>;
    async fn get_identity_source(&self, id: &str) -> StoreResult<Option<IdentitySource>>;
    async fn list_identity_sources(&self) -> StoreResult<Vec<IdentitySource>>;
    /// False when no such source.
    async fn set_identity_source_link(&self, id: &str, link: LinkMode) -> StoreResult<bool>;

    /// The user bound to `subject` of a source.
    async fn identity_user(&self, source_id: &str, subject: &str) -> StoreResult<Option<String>>;
    /// Fails with `Duplicate` when the subject is bound already (two sign-ins at once).
    async fn insert_external_identity(
        &self,
        source_id: &str,
        subject: &str,
        user_id: &str,
        at: Millis,
    ) -> StoreResult<()>;

    /// Ids of the users whose phone is one of `candidates` (the forms of one number).
    async fn users_with_phone(&self, candidates: &[String; 3]) -> StoreResult<Vec<String>>;
    async fn users_with_email(&self, email: &str) -> StoreResult<Vec<String>>;
    /// Sets the user's phone to `phone` only if they have none and no user has the number in
    /// any of its `forms` (DTO comment of `wxPhoneInfo`). True when it was set.
    async fn bind_phone_if_free(
        &self,
        user_id: &str,
        phone: &str,
        forms: &[String; 3],
    ) -> StoreResult<bool>;

    async fn insert_pending_link(&self, l: &PendingLink) -> StoreResult<()>;
    async fn get_pending_link(&self, id: &str) -> StoreResult<Option<PendingLink>>;
    /// Marks an unfinished, unexpired link done: true for exactly one caller.
    async fn finish_pending_link(&self, id: &str, now: Millis) -> StoreResult<bool>;
    /// Deletes links that expired before `before` (the sweep); returns how many.
    async fn purge_pending_links(&self, before: Millis) -> StoreResult<u64>;
}

const SOURCE_COLUMNS: &str = "id, kind, app_id, app_secret, link, created_at";
const LINK_COLUMNS: &str = "id, source_id, subject, user_id, phone, expires_at, done_at";

macro_rules! idp_store_impl {
    ($store:ty, $row:ty, $sql:expr) => {
        const _: () = {
            use sqlx::Row;
            use $crate::model::Millis;
            use $crate::store::idp::*;
            use $crate::store::{backend_error as backend, StoreResult};

            fn q(sql: &str) -> String {
                let f: fn(&str) -> String = $sql;
                f(sql)
            }

            fn source_from(row: &$row) -> Result<IdentitySource, sqlx::Error> {
                let link: String = row.try_get("link")?;
                Ok(IdentitySource {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    app_id: row.try_get("app_id")?,
                    app_secret: row.try_get("app_secret")?,
                    link: LinkMode::parse(&link).unwrap_or_default(),
                    created_at: row.try_get("created_at")?,
                })
            }

            fn link_from(row: &$row) -> Result<PendingLink, sqlx::Error> {
                Ok(PendingLink {
                    id: row.try_get("id")?,
                    source_id: row.try_get("source_id")?,
                    subject: row.try_get("subject")?,
                    user_id: row.try_get("user_id")?,
                    phone: row.try_get("phone")?,
                    expires_at: row.try_get("expires_at")?,
                    done_at: row.try_get("done_at")?,
                })
            }

            #[async_trait::async_trait]
            impl IdpStore for $store {
                async fn insert_identity_source(&self, s: &IdentitySource) -> StoreResult<()> {
                    let sql = q(&format!(
                        "INSERT INTO identity_sources ({SOURCE_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6)"
                    ));
                    sqlx::query(&sql)
                        .bind(&s.id)
                        .bind(&s.kind)
                        .bind(&s.app_id)
                        .bind(&s.app_secret)
                        .bind(s.link.as_str())
                        .bind(s.created_at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn get_identity_source(
                    &self,
                    id: &str,
                ) -> StoreResult<Option<IdentitySource>> {
                    let sql = q(&format!(
                        "SELECT {SOURCE_COLUMNS} FROM identity_sources WHERE id = $1"
                    ));
                    let row = sqlx::query(&sql)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?;
                    row.as_ref().map(source_from).transpose().map_err(backend)
                }

                async fn list_identity_sources(&self) -> StoreResult<Vec<IdentitySource>> {
                    let sql = q(&format!(
                        "SELECT {SOURCE_COLUMNS} FROM identity_sources ORDER BY created_at, id"
                    ));
                    let rows = sqlx::query(&sql)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    rows.iter()
                        .map(source_from)
                        .collect::<Result<_, _>>()
                        .map_err(backend)
                }

                async fn set_identity_source_link(
                    &self,
                    id: &str,
                    link: LinkMode,
                ) -> StoreResult<bool> {
                    let sql = q("UPDATE identity_sources SET link = $1 WHERE id = $2");
                    let done = sqlx::query(&sql)
                        .bind(link.as_str())
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn identity_user(
                    &self,
                    source_id: &str,
                    subject: &str,
                ) -> StoreResult<Option<String>> {
                    let sql = q("SELECT user_id FROM external_identities \
                        WHERE source_id = $1 AND subject = $2");
                    sqlx::query_scalar(&sql)
                        .bind(source_id)
                        .bind(subject)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn insert_external_identity(
                    &self,
                    source_id: &str,
                    subject: &str,
                    user_id: &str,
                    at: Millis,
                ) -> StoreResult<()> {
                    let sql = q("INSERT INTO external_identities \
                        (source_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4)");
                    sqlx::query(&sql)
                        .bind(source_id)
                        .bind(subject)
                        .bind(user_id)
                        .bind(at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn users_with_phone(
                    &self,
                    candidates: &[String; 3],
                ) -> StoreResult<Vec<String>> {
                    let sql = q("SELECT id FROM users WHERE phone IN ($1, $2, $3) \
                        ORDER BY created_at, id");
                    sqlx::query_scalar(&sql)
                        .bind(&candidates[0])
                        .bind(&candidates[1])
                        .bind(&candidates[2])
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn users_with_email(&self, email: &str) -> StoreResult<Vec<String>> {
                    let sql = q("SELECT id FROM users WHERE LOWER(email) = LOWER($1) \
                        ORDER BY created_at, id");
                    sqlx::query_scalar(&sql)
                        .bind(email)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn bind_phone_if_free(
                    &self,
                    user_id: &str,
                    phone: &str,
                    forms: &[String; 3],
                ) -> StoreResult<bool> {
                    // One statement: the check and the write cannot be split by another bind.
                    let sql = q("UPDATE users SET phone = $1 WHERE id = $2 \
                        AND (phone IS NULL OR phone = '') \
                        AND NOT EXISTS (SELECT 1 FROM users o WHERE o.phone IN ($3, $4, $5))");
                    let done = sqlx::query(&sql)
                        .bind(phone)
                        .bind(user_id)
                        .bind(&forms[0])
                        .bind(&forms[1])
                        .bind(&forms[2])
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn insert_pending_link(&self, l: &PendingLink) -> StoreResult<()> {
                    let sql = q(&format!(
                        "INSERT INTO pending_links ({LINK_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    ));
                    sqlx::query(&sql)
                        .bind(&l.id)
                        .bind(&l.source_id)
                        .bind(&l.subject)
                        .bind(&l.user_id)
                        .bind(&l.phone)
                        .bind(l.expires_at)
                        .bind(l.done_at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn get_pending_link(&self, id: &str) -> StoreResult<Option<PendingLink>> {
                    let sql = q(&format!(
                        "SELECT {LINK_COLUMNS} FROM pending_links WHERE id = $1"
                    ));
                    let row = sqlx::query(&sql)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?;
                    row.as_ref().map(link_from).transpose().map_err(backend)
                }

                async fn finish_pending_link(&self, id: &str, now: Millis) -> StoreResult<bool> {
                    let sql = q("UPDATE pending_links SET done_at = $1 \
                        WHERE id = $2 AND done_at IS NULL AND expires_at > $3");
                    let done = sqlx::query(&sql)
                        .bind(now)
                        .bind(id)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn purge_pending_links(&self, before: Millis) -> StoreResult<u64> {
                    let sql = q("DELETE FROM pending_links WHERE expires_at < $1");
                    let done = sqlx::query(&sql)
                        .bind(before)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}

// One SQL text for both backends: SQLite reads `$n` placeholders too (store/sql.rs).
idp_store_impl!(super::SqliteStore, sqlx::sqlite::SqliteRow, |s: &str| s
    .to_owned());
#[cfg(feature = "postgres")]
idp_store_impl!(super::PgStore, sqlx::postgres::PgRow, |s: &str| s
    .to_owned());
