//! Lenient readers over `serde_json::Value` and the per-generation poll parsers. Servers write
//! numbers as strings, `null` for `{}`, and empty strings for absent values; all are tolerated.

use serde_json::Value;

use super::{
    Authorization, DialectId, ScanStatus, TokenSet, WireUser, CODE_MFA_REQUIRED, CODE_QR_ERROR,
};
use crate::error::{CoreError, ProtocolError};
use crate::secret::Secret;

/// The reply as a JSON object.
pub(super) fn object(body: &[u8]) -> Result<Value, ProtocolError> {
    let v: Value = serde_json::from_slice(body)
        // Never the body itself: it may carry the polling handle (PROTOCOL.md §4.1).
        .map_err(|e| ProtocolError::new(format!("reply is not JSON ({e})")))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(ProtocolError::new("reply is not a JSON object"))
    }
}

/// The first bytes of a body, for error messages (a proxy's HTML page says what went wrong).
pub(crate) fn preview(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(120)]);
    s.chars().filter(|c| !c.is_control()).collect()
}

/// An integer, also from a string or an integral float.
pub(super) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn int_field(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(int)
}

pub(super) fn u64_field(v: &Value, key: &str) -> Option<u64> {
    int_field(v, key).and_then(|i| u64::try_from(i).ok())
}

/// A non-empty string (numbers are written out: some ids are numeric).
pub(super) fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn boolean(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn message(v: &Value) -> String {
    string(v, "message").unwrap_or_default()
}

/// A check code as text; a number is zero-padded to the two digits the approval page shows.
pub(super) fn check_code(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => n.as_u64().map(|n| format!("{n:02}")),
        _ => None,
    }
}

/// RFC 3339 dates to ms since the epoch.
pub(crate) fn date_ms(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Check the generation's envelope and return its `data`; a business error becomes
/// [`CoreError::Server`] or [`CoreError::Denied`].
pub(super) fn envelope_data(id: DialectId, v: &Value) -> Result<&Value, CoreError> {
    let (code, msg) = envelope_code(id, v)?;
    if code != 200 {
        return Err(CoreError::business(code, msg));
    }
    match v.get("data") {
        Some(d) if d.is_object() => Ok(d),
        _ => Err(ProtocolError::new("reply has no data object").into()),
    }
}

/// The business code and message of an envelope. G4 puts the specific code in `apiCode`.
fn envelope_code(id: DialectId, v: &Value) -> Result<(i64, String), ProtocolError> {
    match id {
        DialectId::G4 => {
            let status = int_field(v, "statusCode")
                .ok_or_else(|| ProtocolError::new("reply has no statusCode"))?;
            let code = if status == 200 {
                200
            } else {
                int_field(v, "apiCode").unwrap_or(status)
            };
            Ok((code, message(v)))
        }
        _ => {
            let code =
                int_field(v, "code").ok_or_else(|| ProtocolError::new("reply has no code"))?;
            Ok((code, message(v)))
        }
    }
}

/// A user object of any generation (G2 writes `_id`, G3 `id`, v3 profiles `userId`).
pub fn parse_user(v: &Value) -> WireUser {
    WireUser {
        id: string(v, "id")
            .or_else(|| string(v, "_id"))
            .or_else(|| string(v, "userId")),
        username: string(v, "username"),
        nickname: string(v, "nickname").or_else(|| string(v, "displayName")),
        email: string(v, "email"),
        phone: string(v, "phone"),
        photo: string(v, "photo").or_else(|| string(v, "avatar")),
        token: string(v, "token").map(Secret::new),
        token_expired_at: string(v, "tokenExpiredAt"),
        refresh_token: string(v, "refreshToken").map(Secret::new),
        redirect: None,
    }
}

/// A G4 token set (`expire_in`; `expires_in` also accepted).
pub fn parse_token_set(v: &Value) -> Result<TokenSet, ProtocolError> {
    let access_token = string(v, "access_token")
        .ok_or_else(|| ProtocolError::new("token set has no access_token"))?;
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        id_token: string(v, "id_token").map(Secret::new),
        refresh_token: string(v, "refresh_token").map(Secret::new),
        token_type: string(v, "token_type"),
        expire_in: u64_field(v, "expire_in").or_else(|| u64_field(v, "expires_in")),
        scope: string(v, "scope"),
    })
}

/// `GET /api/v3/get-profile` (G4 envelope) to a user.
pub fn parse_profile(body: &[u8]) -> Result<WireUser, CoreError> {
    let v = object(body)?;
    let data = envelope_data(DialectId::G4, &v)?;
    let user = parse_user(data);
    if user.id.is_none() {
        return Err(ProtocolError::new("profile has no id").into());
    }
    Ok(user)
}

fn failed(code: i64, message: String) -> ScanStatus {
    ScanStatus::Failed { code, message }
}

/// The scanner's display data, if the reply has any.
fn brief(v: Option<&Value>) -> (Option<String>, Option<String>) {
    match v {
        Some(u) if u.is_object() => (
            string(u, "nickname").or_else(|| string(u, "displayName")),
            string(u, "photo"),
        ),
        _ => (None, None),
    }
}

/// G1: `{code, data: {code, message, data: user, redirect}}`; inner 200 = logged in.
pub(super) fn poll_g1(v: &Value) -> Result<ScanStatus, ProtocolError> {
    let outer = int_field(v, "code").ok_or_else(|| ProtocolError::new("reply has no code"))?;
    if outer != 200 {
        return Ok(failed(outer, message(v)));
    }
    let inner = match v.get("data") {
        Some(d) if d.is_object() => d,
        _ => return Err(ProtocolError::new("reply has no data object")),
    };
    let code = int_field(inner, "code").ok_or_else(|| ProtocolError::new("data has no code"))?;
    if code == 200 {
        let user = match inner.get("data") {
            Some(u) if u.is_object() => WireUser {
                redirect: string(inner, "redirect"),
                ..parse_user(u)
            },
            _ => return Err(ProtocolError::new("logged-in reply has no user")),
        };
        return Ok(ScanStatus::Authorized(Authorization::User(user)));
    }
    // Our server adds the canonical `status` so its G1 clients can tell the states apart;
    // Authing answers "not yet" with any other code (500 seen).
    match inner.get("status").and_then(Value::as_str) {
        Some("pending") => return Ok(ScanStatus::Pending),
        Some("scanned") => {
            let (nickname, photo) = brief(inner.get("data"));
            return Ok(ScanStatus::Scanned { nickname, photo });
        }
        Some("cancelled") => return Ok(ScanStatus::Cancelled),
        Some("expired") => return Ok(ScanStatus::Expired),
        _ => {}
    }
    Ok(match code {
        2241..=2245 | 2020 | 403 => failed(code, message(inner)),
        _ => ScanStatus::Pending,
    })
}

/// G2: booleans `scanned expired success canceled` and `status` 0 / 1 / -1.
pub(super) fn poll_g2(v: &Value) -> Result<ScanStatus, ProtocolError> {
    let code = int_field(v, "code").ok_or_else(|| ProtocolError::new("reply has no code"))?;
    if code != 200 {
        return Ok(failed(code, message(v)));
    }
    let d = match v.get("data") {
        Some(d) if d.is_object() => d,
        _ => return Err(ProtocolError::new("reply has no data object")),
    };
    let status = int_field(d, "status").unwrap_or(0);
    if boolean(d, "success") || status == 1 {
        return authorized(d, "userInfo");
    }
    if boolean(d, "canceled") || boolean(d, "cancelled") || status == -1 {
        return Ok(ScanStatus::Cancelled);
    }
    if boolean(d, "expired") {
        return Ok(ScanStatus::Expired);
    }
    if boolean(d, "scanned") {
        let (nickname, photo) = brief(d.get("userInfo"));
        return Ok(ScanStatus::Scanned { nickname, photo });
    }
    Ok(ScanStatus::Pending)
}

/// An authorized reply: a full user with a token wins (no exchange needed), else the ticket.
fn authorized(d: &Value, user_key: &str) -> Result<ScanStatus, ProtocolError> {
    if let Some(u) = d.get(user_key).filter(|u| u.is_object()) {
        let user = parse_user(u);
        if user.token.is_some() {
            return Ok(ScanStatus::Authorized(Authorization::User(user)));
        }
    }
    let (nickname, photo) = brief(d.get(user_key));
    match string(d, "ticket") {
        Some(t) => Ok(ScanStatus::Authorized(Authorization::Ticket {
            ticket: Secret::new(t),
            nickname,
            photo,
        })),
        None => Err(ProtocolError::new(
            "authorized reply has neither a ticket nor a user token",
        )),
    }
}

/// G3: `status` 0 / 1 scanned / 2 authorized / 3 cancelled / -1 expired (Guard: 4 MFA, 5 error).
pub(super) fn poll_g3(v: &Value) -> Result<ScanStatus, ProtocolError> {
    let code = int_field(v, "code").ok_or_else(|| ProtocolError::new("reply has no code"))?;
    if code != 200 {
        return Ok(failed(code, message(v)));
    }
    let d = match v.get("data") {
        Some(d) if d.is_object() => d,
        _ => return Err(ProtocolError::new("reply has no data object")),
    };
    let status =
        int_field(d, "status").ok_or_else(|| ProtocolError::new("poll reply has no status"))?;
    match status {
        0 => Ok(ScanStatus::Pending),
        1 => {
            let (nickname, photo) = brief(d.get("userInfo"));
            Ok(ScanStatus::Scanned { nickname, photo })
        }
        2 => authorized(d, "userInfo"),
        3 => Ok(ScanStatus::Cancelled),
        -1 => Ok(ScanStatus::Expired),
        4 => Ok(failed(
            CODE_MFA_REQUIRED,
            "the account requires multi-factor authentication, which QR login here cannot do"
                .into(),
        )),
        5 => {
            let msg = d
                .get("scannedResult")
                .and_then(|r| string(r, "message"))
                .unwrap_or_else(|| "the server reported an error for this QR code".into());
            Ok(failed(CODE_QR_ERROR, msg))
        }
        other => Err(ProtocolError::new(format!("unknown QR status {other}"))),
    }
}

/// G4: `PENDING SCANNED AUTHORIZED CANCELLED EXPIRED ERROR`.
pub(super) fn poll_g4(v: &Value) -> Result<ScanStatus, ProtocolError> {
    let status_code =
        int_field(v, "statusCode").ok_or_else(|| ProtocolError::new("reply has no statusCode"))?;
    if status_code != 200 {
        let code = int_field(v, "apiCode").unwrap_or(status_code);
        return Ok(failed(code, message(v)));
    }
    let d = match v.get("data") {
        Some(d) if d.is_object() => d,
        _ => return Err(ProtocolError::new("reply has no data object")),
    };
    let status = d
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| ProtocolError::new("poll reply has no status"))?
        .trim()
        .to_ascii_uppercase();
    match status.as_str() {
        "PENDING" => Ok(ScanStatus::Pending),
        "SCANNED" => {
            let (nickname, photo) = brief(d.get("briefUserInfo"));
            Ok(ScanStatus::Scanned { nickname, photo })
        }
        "AUTHORIZED" => {
            if let Some(ts) = d.get("tokenSet").filter(|t| t.is_object()) {
                if let Ok(ts) = parse_token_set(ts) {
                    return Ok(ScanStatus::Authorized(Authorization::TokenSet(ts)));
                }
            }
            let (nickname, photo) = brief(d.get("briefUserInfo"));
            match string(d, "ticket") {
                Some(t) => Ok(ScanStatus::Authorized(Authorization::Ticket {
                    ticket: Secret::new(t),
                    nickname,
                    photo,
                })),
                None => Err(ProtocolError::new(
                    "AUTHORIZED reply has neither a ticket nor a token set",
                )),
            }
        }
        "CANCELLED" => Ok(ScanStatus::Cancelled),
        "EXPIRED" => Ok(ScanStatus::Expired),
        "ERROR" => Ok(failed(
            CODE_QR_ERROR,
            string(v, "message").unwrap_or_else(|| "the server reported an error".into()),
        )),
        other => Err(ProtocolError::new(format!(
            "unknown QR status {:?}",
            other.chars().take(40).collect::<String>()
        ))),
    }
}
