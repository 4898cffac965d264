//! The [`Store`](super::Store) operations, written once for both backends: one SQL text each
//! (`$n` placeholders, which SQLite reads too), one bind order, rows decoded by `rows.rs`.
//! `store_impl!` stamps the impl out for a backend; what truly differs between the two (how a
//! status change is announced, how a sweep takes its batch) comes from the backend's [`Dialect`].

/// What a backend does its own way; everything else is the SQL below.
pub(crate) trait Dialect {
    /// The statement that runs `update`, a conditional `UPDATE` of one session (no `RETURNING`);
    /// it yields one row when the change applied, none when it did not.
    fn status_change(update: &str) -> String;

    /// The statement that deletes at most `$2` of the sessions that [`SESSION_ENDED`] selects.
    fn purge_sessions_batch() -> String;
}

/// Sessions that ended before `$1`: the QR and its ticket (if any) both expired, or the ticket
/// was spent. The condition of both backends' sweep batch.
pub(crate) const SESSION_ENDED: &str = "((expires_at < $1 \
    AND (ticket_expires_at IS NULL OR ticket_expires_at < $1)) OR ticket_used_at < $1)";

/// The `Store` impl of a backend: `$store` has a `pool` of database `$db` and implements
/// [`Dialect`].
macro_rules! store_impl {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::model::{App, Millis, QrSession, User};
            use $crate::store::rows::{SessionJson, APP_COLUMNS, SESSION_COLUMNS, USER_COLUMNS};
            use $crate::store::sql::Dialect;
            use $crate::store::{backend_error as backend, StoreResult, PURGE_BATCH};

            impl $store {
                /// Waits for the connections to finish and closes them.
                pub async fn close(&self) {
                    self.pool.close().await;
                }

                /// The row that `sql` selects by its one parameter, a key.
                async fn by_key<T>(&self, sql: &str, key: &str) -> StoreResult<Option<T>>
                where
                    T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
                {
                    sqlx::query_as(sql)
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                /// Every row that `sql` selects (it takes no parameters).
                async fn all<T>(&self, sql: &str) -> StoreResult<Vec<T>>
                where
                    T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
                {
                    sqlx::query_as(sql)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn one_session(
                    &self,
                    column: &str,
                    value: &str,
                ) -> StoreResult<Option<QrSession>> {
                    // `column` is one of three literals chosen below, never user input.
                    let sql = format!("SELECT {SESSION_COLUMNS} FROM qr_sessions WHERE {column} = $1");
                    self.by_key(&sql, value).await
                }

                /// Runs a statement of [`Dialect::status_change`]; true when it applied.
                async fn change_status<'q>(
                    &self,
                    change: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                ) -> StoreResult<bool> {
                    let rows = change.fetch_all(&self.pool).await.map_err(backend)?;
                    Ok(rows.len() == 1)
                }
            }

            #[async_trait::async_trait]
            impl $crate::store::Store for $store {
                async fn meta_get_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
                    // Two instances starting at once both insert; the conflict keeps the first,
                    // and both read back the one in force.
                    sqlx::query(
                        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    )
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
                        "INSERT INTO apps ({APP_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
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
                    self.by_key(&sql, app_id).await
                }

                async fn list_apps(&self) -> StoreResult<Vec<App>> {
                    // `seq` breaks ties of created_at by insertion order: the first app made is
                    // the pool's default app, the same on every instance.
                    let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY created_at, seq");
                    self.all(&sql).await
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
                    self.by_key(&sql, id).await
                }

                async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
                    self.by_key(&sql, username).await
                }

                async fn list_users(&self) -> StoreResult<Vec<User>> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, seq");
                    self.all(&sql).await
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

                async fn record_login(
                    &self,
                    user_id: &str,
                    ip: Option<&str>,
                    at: Millis,
                ) -> StoreResult<()> {
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
                        "INSERT INTO qr_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
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

                async fn session_by_scan_id(
                    &self,
                    scan_id: &str,
                ) -> StoreResult<Option<QrSession>> {
                    self.one_session("scan_id", scan_id).await
                }

                async fn session_by_ticket(&self, ticket: &str) -> StoreResult<Option<QrSession>> {
                    self.one_session("ticket", ticket).await
                }

                // The three status changes are compare-and-sets: the WHERE names the state they
                // start from. SQLite has one writer at a time; under PostgreSQL's READ COMMITTED
                // an UPDATE that finds its row locked by a concurrent one waits, then re-checks
                // its WHERE against the committed row. Either way, of two callers racing on one
                // session exactly one sees a row to change.

                async fn mark_scanned(
                    &self,
                    handle: &str,
                    user_id: &str,
                    now: Millis,
                ) -> StoreResult<bool> {
                    let sql = <$store as Dialect>::status_change(
                        "UPDATE qr_sessions SET status = 'scanned', scanned_by = $1, \
                         scanned_at = $2 \
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
                    let sql = <$store as Dialect>::status_change(
                        "UPDATE qr_sessions SET status = 'authorized', decided_at = $1, \
                         ticket = $2, ticket_expires_at = $3 \
                         WHERE handle = $4 AND status = 'scanned' AND scanned_by = $5 \
                         AND expires_at > $1",
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

                async fn mark_cancelled(
                    &self,
                    handle: &str,
                    user_id: &str,
                    now: Millis,
                ) -> StoreResult<bool> {
                    let sql = <$store as Dialect>::status_change(
                        "UPDATE qr_sessions SET status = 'cancelled', decided_at = $1 \
                         WHERE handle = $2 AND status = 'scanned' AND scanned_by = $3 \
                         AND expires_at > $1",
                    );
                    self.change_status(sqlx::query(&sql).bind(now).bind(handle).bind(user_id))
                        .await
                }

                async fn spend_ticket(
                    &self,
                    ticket: &str,
                    app_id: &str,
                    now: Millis,
                ) -> StoreResult<bool> {
                    // Announced too: other instances' copies in memory (live.rs) learn that the
                    // ticket is spent (their sweep of memory and their `returnFullUserInfo`
                    // polls go by it).
                    let sql = <$store as Dialect>::status_change(
                        "UPDATE qr_sessions SET ticket_used_at = $1 \
                         WHERE ticket = $2 AND app_id = $3 AND status = 'authorized' \
                         AND ticket_used_at IS NULL AND ticket_expires_at > $1",
                    );
                    self.change_status(sqlx::query(&sql).bind(now).bind(ticket).bind(app_id))
                        .await
                }

                async fn purge_sessions(&self, before: Millis) -> StoreResult<u64> {
                    // Small batches keep each transaction short (see PURGE_BATCH).
                    let sql = <$store as Dialect>::purge_sessions_batch();
                    let mut total = 0;
                    loop {
                        let done = sqlx::query(&sql)
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
        };
    };
}
pub(crate) use store_impl;
