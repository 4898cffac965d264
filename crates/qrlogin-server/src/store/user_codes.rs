//! Storage of issue 15's additions that are not a QR session column: the typed user codes of QR
//! sessions (`typed_code`) and per-app settings changed after `app add` (`app set`). One
//! implementation for both backends, stamped out by a macro as `auth.rs` does.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Millis;

#[async_trait]
pub trait UserCodeStore: Send + Sync {
    /// Files `code` for the session with `scan_id` until `expires_at`. Fails with
    /// [`super::StoreError::Duplicate`] when the code is taken.
    async fn insert_user_code(
        &self,
        code: &str,
        scan_id: &str,
        expires_at: Millis,
    ) -> StoreResult<()>;
    /// The scan id a code names (also after the session expired, until the sweep, so the page
    /// can say "expired" rather than "unknown").
    async fn scan_id_for_user_code(&self, code: &str) -> StoreResult<Option<String>>;
    /// Deletes codes that expired before `before`; returns how many.
    async fn purge_user_codes(&self, before: Millis) -> StoreResult<u64>;
    /// Turns an app's sign-up on the phone page on or off; false when no such app.
    async fn set_app_signup(&self, app_id: &str, signup: bool) -> StoreResult<bool>;
}

macro_rules! user_code_store_impl {
    ($store:ty, $sql:expr) => {
        const _: () = {
            use $crate::model::Millis;
            use $crate::store::{backend_error as backend, StoreResult};

            fn q(sql: &str) -> String {
                let f: fn(&str) -> String = $sql;
                f(sql)
            }

            #[async_trait::async_trait]
            impl super::user_codes::UserCodeStore for $store {
                async fn insert_user_code(
                    &self,
                    code: &str,
                    scan_id: &str,
                    expires_at: Millis,
                ) -> StoreResult<()> {
                    let sql = q("INSERT INTO qr_user_codes (code, scan_id, expires_at) \
                        VALUES ($1, $2, $3)");
                    sqlx::query(&sql)
                        .bind(code)
                        .bind(scan_id)
                        .bind(expires_at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn scan_id_for_user_code(&self, code: &str) -> StoreResult<Option<String>> {
                    let sql = q("SELECT scan_id FROM qr_user_codes WHERE code = $1");
                    sqlx::query_scalar(&sql)
                        .bind(code)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn purge_user_codes(&self, before: Millis) -> StoreResult<u64> {
                    let sql = q("DELETE FROM qr_user_codes WHERE expires_at < $1");
                    let r = sqlx::query(&sql)
                        .bind(before)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(r.rows_affected())
                }

                async fn set_app_signup(&self, app_id: &str, signup: bool) -> StoreResult<bool> {
                    let sql = q("UPDATE apps SET signup = $1 WHERE app_id = $2");
                    let r = sqlx::query(&sql)
                        .bind(signup)
                        .bind(app_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(r.rows_affected() > 0)
                }
            }
        };
    };
}

// One SQL text for both backends: SQLite reads `$n` placeholders too (store/sql.rs).
user_code_store_impl!(super::SqliteStore, |s: &str| s.to_owned());
#[cfg(feature = "postgres")]
user_code_store_impl!(super::PgStore, |s: &str| s.to_owned());
