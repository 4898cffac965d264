//! The domain values the server stores and renders: apps, users and QR sessions with their one
//! canonical status. Expiry is never stored: it is derived from `expires_at` whenever a session is read.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch; the one clock unit of the store.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as Millis
}

/// RFC 3339 text of a millisecond timestamp (UTC), as Authing's JSON carries times.
pub fn rfc3339(ms: Millis) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// What the QR encodes (PROTOCOL.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QrPayload {
    /// `{public_url}/s/{scanId}`: a phone camera opens the approval page.
    #[default]
    Url,
    /// The JSON payload Authing's own apps parse (carries `random`/`qrcodeId`).
    AuthingJson,
}

impl QrPayload {
    pub fn as_str(self) -> &'static str {
        match self {
            QrPayload::Url => "url",
            QrPayload::AuthingJson => "authing-json",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "url" => Some(QrPayload::Url),
            "authing-json" => Some(QrPayload::AuthingJson),
            _ => None,
        }
    }
}

/// Default access-token lifetime of an app (`--access-ttl`): short, since a copied access token
/// is good until it expires, while the refresh token that renews it can be withdrawn.
pub const ACCESS_TTL_SECS: u32 = 3600;

/// One application (client) of the user pool, with its QR login settings (PROTOCOL.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub app_id: String,
    #[serde(skip_serializing)]
    pub app_secret: String,
    pub name: String,
    pub redirect_url: Option<String>,
    pub allow_client_exchange: bool,
    pub return_full_user_info: bool,
    pub qr_ttl_secs: u32,
    pub ticket_ttl_secs: u32,
    pub qr_payload: QrPayload,
    pub check_code: bool,
    pub created_at: Millis,
    /// Lifetime of the access tokens of this app's sessions (default 1 h).
    pub access_ttl_secs: u32,
    /// While a QR waits, its public id changes this often (0 = never); see `rotation`.
    pub qr_rotate_secs: u32,
    /// The app's logo, a re-encoded PNG (`logo`), served at `/logos/{app_id}.png`.
    pub logo_png: Option<Vec<u8>>,
    /// A new user may register on the phone page (`approval::signup`); off = login only.
    pub signup: bool,
}

/// A user as stored. The password hash never leaves the store module and `service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub photo: Option<String>,
    pub created_at: Millis,
    pub logins_count: i64,
    pub last_login: Option<Millis>,
    pub last_ip: Option<String>,
}

impl User {
    /// The name people see: the nickname, else the username.
    pub fn display_name(&self) -> &str {
        self.nickname
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.username)
    }
}

/// Which Authing API generation created a session (it decides the QR's JSON payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    G1,
    G2,
    G3,
    G4,
    /// RFC 8628 device authorization (device.rs): the handle is the `device_code`, the scan id
    /// the user code.
    Device,
}

impl Generation {
    pub fn as_str(self) -> &'static str {
        match self {
            Generation::G1 => "g1",
            Generation::G2 => "g2",
            Generation::G3 => "g3",
            Generation::G4 => "g4",
            Generation::Device => "device",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "g1" => Some(Generation::G1),
            "g2" => Some(Generation::G2),
            "g3" => Some(Generation::G3),
            "g4" => Some(Generation::G4),
            "device" => Some(Generation::Device),
            _ => None,
        }
    }
}

/// The canonical status of a QR session. `Expired` is never stored, only derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Scanned,
    Authorized,
    Cancelled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Scanned => "scanned",
            Status::Authorized => "authorized",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }

    /// Stored statuses only (`expired` is never written).
    pub fn parse_stored(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Status::Pending),
            "scanned" => Some(Status::Scanned),
            "authorized" => Some(Status::Authorized),
            "cancelled" => Some(Status::Cancelled),
            _ => None,
        }
    }

    /// The `known=` of a long-poll: canonical names, G3 numbers or G4 strings (contracts.md §1).
    pub fn parse_known(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pending" | "0" => Some(Status::Pending),
            "scanned" | "1" => Some(Status::Scanned),
            "authorized" | "2" => Some(Status::Authorized),
            "cancelled" | "canceled" | "3" => Some(Status::Cancelled),
            "expired" | "-1" => Some(Status::Expired),
            _ => None,
        }
    }

    /// True once nothing can change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Authorized | Status::Cancelled | Status::Expired
        )
    }
}

/// Who is asking to sign in (PROTOCOL.md §4.3): sent by the requester, plus IP and time added here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requester {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default)]
    pub time: Millis,
}

/// One login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrSession {
    /// `random` (G1, G3) or `qrcodeId` (G2, G4): the requester's secret handle.
    pub handle: String,
    /// The public id the QR carries.
    pub scan_id: String,
    pub generation: Generation,
    pub app_id: String,
    /// The stored status; use [`QrSession::status_at`] for the one to show.
    pub stored_status: Status,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub scanned_by: Option<String>,
    pub scanned_at: Option<Millis>,
    pub decided_at: Option<Millis>,
    pub ticket: Option<String>,
    pub ticket_expires_at: Option<Millis>,
    pub ticket_used_at: Option<Millis>,
    pub code_challenge: Option<String>,
    pub check_code: Option<String>,
    pub check_choices: Vec<String>,
    pub requester: Option<Requester>,
    pub custom_data: Option<serde_json::Value>,
    pub qr_content: String,
    /// The code to type instead of scanning (`typed_code`), on the generate reply only: it is
    /// filed apart and not read back with the session.
    pub user_code: Option<UserCode>,
}

/// A QR session's typed code (issue 15 item 7) as the generate reply carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode {
    /// Stored form, without the dash (`WDJBMJHT`).
    pub code: String,
    /// Where to type it: `{public-url}/s`.
    pub entry_url: String,
}

impl QrSession {
    /// The status as of `now`: a pending or scanned session past its expiry is expired.
    pub fn status_at(&self, now: Millis) -> Status {
        match self.stored_status {
            Status::Pending | Status::Scanned if now >= self.expires_at => Status::Expired,
            s => s,
        }
    }

    /// Seconds left before the QR expires (0 once past).
    pub fn expires_in_secs(&self, now: Millis) -> i64 {
        ((self.expires_at - now).max(0) + 999) / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(status: Status, expires_at: Millis) -> QrSession {
        QrSession {
            handle: "h".into(),
            scan_id: "s".into(),
            generation: Generation::G3,
            app_id: "a".into(),
            stored_status: status,
            created_at: 0,
            expires_at,
            scanned_by: None,
            scanned_at: None,
            decided_at: None,
            ticket: None,
            ticket_expires_at: None,
            ticket_used_at: None,
            code_challenge: None,
            check_code: None,
            check_choices: vec![],
            requester: None,
            custom_data: None,
            qr_content: String::new(),
            user_code: None,
        }
    }

    #[test]
    fn expiry_is_derived_only_before_a_decision() {
        assert_eq!(session(Status::Pending, 10).status_at(9), Status::Pending);
        assert_eq!(session(Status::Pending, 10).status_at(10), Status::Expired);
        assert_eq!(session(Status::Scanned, 10).status_at(11), Status::Expired);
        assert_eq!(
            session(Status::Authorized, 10).status_at(11),
            Status::Authorized
        );
        assert_eq!(
            session(Status::Cancelled, 10).status_at(11),
            Status::Cancelled
        );
    }

    #[test]
    fn known_accepts_every_generation_encoding() {
        assert_eq!(Status::parse_known("SCANNED"), Some(Status::Scanned));
        assert_eq!(Status::parse_known("2"), Some(Status::Authorized));
        assert_eq!(Status::parse_known("-1"), Some(Status::Expired));
        assert_eq!(Status::parse_known("CANCELLED"), Some(Status::Cancelled));
        assert_eq!(Status::parse_known("bogus"), None);
    }

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
