//! Row decoding shared by both backends: one `FromRow` per stored type, written once over any
//! sqlx row that reads the schema's column types by name (`SqliteRow` and `PgRow` both do).
//! Also the JSON columns of a session as they are written.

use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use super::auth::{AuthSession, LoginEvent, RefreshRow, SessionKind};
use super::{StoreError, StoreResult};
use crate::model::{App, Generation, QrPayload, QrSession, Status, User};

type DecodeResult<T> = Result<T, sqlx::Error>;

/// The reads a decoder needs, one per column type of the schema. Every sqlx row whose database
/// decodes those types has them (the blanket impl below), so the generic bounds are written
/// here once instead of on every decoder.
pub(crate) trait Columns {
    fn text(&self, col: &str) -> DecodeResult<String>;
    fn opt_text(&self, col: &str) -> DecodeResult<Option<String>>;
    fn int(&self, col: &str) -> DecodeResult<i64>;
    fn opt_int(&self, col: &str) -> DecodeResult<Option<i64>>;
    fn flag(&self, col: &str) -> DecodeResult<bool>;
    fn opt_bytes(&self, col: &str) -> DecodeResult<Option<Vec<u8>>>;

    /// A whole-seconds setting stored as a 64-bit integer, kept within `min..=u32::MAX`.
    fn secs(&self, col: &str, min: i64) -> DecodeResult<u32> {
        Ok(self.int(col)?.clamp(min, i64::from(u32::MAX)) as u32)
    }

    /// A column holding one of a closed set of names (`parse` says which).
    fn named<T>(&self, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> DecodeResult<T> {
        let v = self.text(col)?;
        parse(&v).ok_or_else(|| decode_error(col, format!("unexpected value {v:?}")))
    }

    /// A nullable JSON column.
    fn json<T: DeserializeOwned>(&self, col: &str) -> DecodeResult<Option<T>> {
        self.opt_text(col)?
            .map(|t| serde_json::from_str(&t).map_err(|e| decode_error(col, e.to_string())))
            .transpose()
    }
}

impl<R> Columns for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, col: &str) -> DecodeResult<String> {
        self.try_get(col)
    }
    fn opt_text(&self, col: &str) -> DecodeResult<Option<String>> {
        self.try_get(col)
    }
    fn int(&self, col: &str) -> DecodeResult<i64> {
        self.try_get(col)
    }
    fn opt_int(&self, col: &str) -> DecodeResult<Option<i64>> {
        self.try_get(col)
    }
    fn flag(&self, col: &str) -> DecodeResult<bool> {
        self.try_get(col)
    }
    fn opt_bytes(&self, col: &str) -> DecodeResult<Option<Vec<u8>>> {
        self.try_get(col)
    }
}

/// The columns of a row under a prefix: a join selects the user as `u_id`, `u_username`, …
/// (see [`prefixed_columns`]) next to columns of the same name from the other table.
pub(crate) struct Prefixed<'a, C>(pub &'a C, pub &'static str);

impl<C: Columns> Prefixed<'_, C> {
    fn col(&self, col: &str) -> String {
        format!("{}{col}", self.1)
    }
}

impl<C: Columns> Columns for Prefixed<'_, C> {
    fn text(&self, col: &str) -> DecodeResult<String> {
        self.0.text(&self.col(col))
    }
    fn opt_text(&self, col: &str) -> DecodeResult<Option<String>> {
        self.0.opt_text(&self.col(col))
    }
    fn int(&self, col: &str) -> DecodeResult<i64> {
        self.0.int(&self.col(col))
    }
    fn opt_int(&self, col: &str) -> DecodeResult<Option<i64>> {
        self.0.opt_int(&self.col(col))
    }
    fn flag(&self, col: &str) -> DecodeResult<bool> {
        self.0.flag(&self.col(col))
    }
    fn opt_bytes(&self, col: &str) -> DecodeResult<Option<Vec<u8>>> {
        self.0.opt_bytes(&self.col(col))
    }
}

/// `columns` (a `*_COLUMNS` list) selected from table alias `table` as `{prefix}{column}`.
pub(crate) fn prefixed_columns(columns: &str, table: &str, prefix: &str) -> String {
    columns
        .split(',')
        .map(|c| {
            let c = c.trim();
            format!("{table}.{c} AS {prefix}{c}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode_error(col: &str, message: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: message.into(),
    }
}

pub(crate) const APP_COLUMNS: &str = "app_id, app_secret, name, redirect_url, \
    allow_client_exchange, return_full_user_info, qr_ttl_secs, ticket_ttl_secs, qr_payload, \
    check_code, created_at, access_ttl_secs, qr_rotate_secs, logo_png, signup";

fn app(row: &impl Columns) -> DecodeResult<App> {
    Ok(App {
        app_id: row.text("app_id")?,
        app_secret: row.text("app_secret")?,
        name: row.text("name")?,
        redirect_url: row.opt_text("redirect_url")?,
        allow_client_exchange: row.flag("allow_client_exchange")?,
        return_full_user_info: row.flag("return_full_user_info")?,
        qr_ttl_secs: row.secs("qr_ttl_secs", 1)?,
        ticket_ttl_secs: row.secs("ticket_ttl_secs", 1)?,
        qr_payload: QrPayload::parse(&row.text("qr_payload")?).unwrap_or_default(),
        check_code: row.flag("check_code")?,
        created_at: row.int("created_at")?,
        access_ttl_secs: row.secs("access_ttl_secs", 1)?,
        qr_rotate_secs: row.secs("qr_rotate_secs", 0)?,
        logo_png: row.opt_bytes("logo_png")?,
        signup: row.flag("signup")?,
    })
}

pub(crate) const USER_COLUMNS: &str = "id, username, password_hash, nickname, email, phone, \
    photo, created_at, logins_count, last_login, last_ip";

fn user(row: &impl Columns) -> DecodeResult<User> {
    Ok(User {
        id: row.text("id")?,
        username: row.text("username")?,
        password_hash: row.text("password_hash")?,
        nickname: row.opt_text("nickname")?,
        email: row.opt_text("email")?,
        phone: row.opt_text("phone")?,
        photo: row.opt_text("photo")?,
        created_at: row.int("created_at")?,
        logins_count: row.int("logins_count")?,
        last_login: row.opt_int("last_login")?,
        last_ip: row.opt_text("last_ip")?,
    })
}

pub(crate) const SESSION_COLUMNS: &str = "handle, scan_id, generation, app_id, status, \
    created_at, expires_at, scanned_by, scanned_at, decided_at, ticket, ticket_expires_at, \
    ticket_used_at, code_challenge, check_code, check_choices, requester, custom_data, qr_content";

fn session(row: &impl Columns) -> DecodeResult<QrSession> {
    Ok(QrSession {
        handle: row.text("handle")?,
        scan_id: row.text("scan_id")?,
        generation: row.named("generation", Generation::parse)?,
        app_id: row.text("app_id")?,
        stored_status: row.named("status", Status::parse_stored)?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
        scanned_by: row.opt_text("scanned_by")?,
        scanned_at: row.opt_int("scanned_at")?,
        decided_at: row.opt_int("decided_at")?,
        ticket: row.opt_text("ticket")?,
        ticket_expires_at: row.opt_int("ticket_expires_at")?,
        ticket_used_at: row.opt_int("ticket_used_at")?,
        code_challenge: row.opt_text("code_challenge")?,
        check_code: row.opt_text("check_code")?,
        check_choices: row.json("check_choices")?.unwrap_or_default(),
        requester: row.json("requester")?,
        custom_data: row.json("custom_data")?,
        qr_content: row.text("qr_content")?,
        user_code: None,
    })
}

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

pub(crate) const AUTH_SESSION_COLUMNS: &str = "id, user_id, app_id, kind, public_client, \
    created_at, last_used_at, expires_at, revoked_at, device, ip";

fn auth_session(row: &impl Columns) -> DecodeResult<AuthSession> {
    Ok(AuthSession {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        app_id: row.text("app_id")?,
        kind: row.named("kind", SessionKind::parse)?,
        public_client: row.flag("public_client")?,
        created_at: row.int("created_at")?,
        last_used_at: row.int("last_used_at")?,
        expires_at: row.int("expires_at")?,
        revoked_at: row.opt_int("revoked_at")?,
        device: row.opt_text("device")?,
        ip: row.opt_text("ip")?,
    })
}

fn refresh_row(row: &impl Columns) -> DecodeResult<RefreshRow> {
    Ok(RefreshRow {
        session_id: row.text("session_id")?,
        expires_at: row.int("expires_at")?,
        spent_at: row.opt_int("spent_at")?,
    })
}

pub(crate) const LOGIN_EVENT_COLUMNS: &str = "id, user_id, username, app_id, event, success, \
    outcome, device, requester_ip, approver_ip, at";

fn login_event(row: &impl Columns) -> DecodeResult<LoginEvent> {
    Ok(LoginEvent {
        id: row.text("id")?,
        user_id: row.opt_text("user_id")?,
        username: row.text("username")?,
        app_id: row.text("app_id")?,
        event: row.text("event")?,
        success: row.flag("success")?,
        outcome: row.text("outcome")?,
        device: row.opt_text("device")?,
        requester_ip: row.opt_text("requester_ip")?,
        approver_ip: row.opt_text("approver_ip")?,
        at: row.int("at")?,
    })
}

/// A live session with its user, as `live_auth_session`'s join selects them: the session's
/// columns as they are, the user's under `u_`.
pub(crate) struct SessionWithUser(pub AuthSession, pub User);

fn session_with_user(row: &impl Columns) -> DecodeResult<SessionWithUser> {
    Ok(SessionWithUser(
        auth_session(row)?,
        user(&Prefixed(row, "u_"))?,
    ))
}

/// `FromRow` for every stored type, so the stores fetch with `query_as` and never decode by
/// hand.
macro_rules! from_row {
    ($($ty:ty => $decode:ident),* $(,)?) => {$(
        impl<'r, R: Row + Columns> FromRow<'r, R> for $ty {
            fn from_row(row: &'r R) -> DecodeResult<Self> {
                $decode(row)
            }
        }
    )*};
}

from_row! {
    App => app,
    User => user,
    QrSession => session,
    AuthSession => auth_session,
    RefreshRow => refresh_row,
    LoginEvent => login_event,
    SessionWithUser => session_with_user,
}
