//! The shared backend: one PostgreSQL database for every instance behind a load balancer, schema
//! from `migrations/postgres/` applied at open. Each status change announces itself with
//! `pg_notify` in the same statement, so the announcement is delivered exactly when the change
//! commits (never for a change that did not happen) to every instance's listener. The statements
//! are shared (`sql.rs`, `auth.rs`); this file holds the connection and what PostgreSQL does its
//! own way.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::sql::{store_impl, Dialect, SESSION_ENDED};
use super::{auth::auth_store_impl, backend_error as backend, migrated_pool, StoreResult};

/// The `LISTEN`/`NOTIFY` channel of status changes; the payload is the JSON of the changed
/// columns and the handle (`Progress` in live.rs), so that other instances apply it without a
/// query.
pub const NOTIFY_CHANNEL: &str = "qrlogin_session";

/// Connections per instance. Long-poll waiters hold none (they answer from memory), so a
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
            .acquire_timeout(Duration::from_secs(10));
        let pool = migrated_pool(pool, options, &sqlx::migrate!("./migrations/postgres")).await?;
        Ok(PgStore { pool })
    }
}

impl Dialect for PgStore {
    /// The change and its announcement are one statement (and so one transaction); the payload
    /// is the new state of what changes (about 300 bytes, far below NOTIFY's 8000), so that
    /// other instances update their copy in memory without a query.
    fn status_change(update: &str) -> String {
        format!(
            "WITH changed AS ({update} RETURNING handle, status, scanned_by, scanned_at, \
             decided_at, ticket, ticket_expires_at, ticket_used_at) \
             SELECT pg_notify('{NOTIFY_CHANNEL}', row_to_json(changed)::text) FROM changed"
        )
    }

    /// SKIP LOCKED: instances sweeping at once take disjoint batches instead of queueing behind
    /// each other, and a row a status change holds is left for the next sweep.
    fn purge_sessions_batch() -> String {
        format!(
            "WITH doomed AS (SELECT handle FROM qr_sessions WHERE {SESSION_ENDED} \
             LIMIT $2 FOR UPDATE SKIP LOCKED) \
             DELETE FROM qr_sessions q USING doomed WHERE q.handle = doomed.handle"
        )
    }
}

store_impl!(PgStore, sqlx::Postgres);
auth_store_impl!(PgStore, sqlx::Postgres);
