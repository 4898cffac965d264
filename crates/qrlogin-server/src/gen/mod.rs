//! The four Authing generations (PROTOCOL.md §2), one router each. They parse requests into the
//! operations of `service` and render the one canonical session into their own envelopes.

pub mod g1;
pub mod g2;
pub mod g3;
pub mod g4;

use std::collections::HashMap;
use std::net::IpAddr;

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::model::{now_ms, QrSession, Requester, Status, User};
use crate::ratelimit::Kind;
use crate::service::Exchanged;
use crate::web::{phone_user, AppState};

/// Our additions to every generate reply (contracts.md §1).
pub(crate) fn generate_extras(session: &QrSession) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("qrContent".into(), session.qr_content.clone().into());
    m.insert("scanId".into(), session.scan_id.clone().into());
    m.insert("expiresIn".into(), session.expires_in_secs(now_ms()).into());
    if let Some(code) = &session.check_code {
        m.insert("checkCode".into(), code.clone().into());
    }
    if let Some(code) = &session.user_code {
        m.extend(code.reply_fields());
    }
    m
}

/// Extension fields of a POST generate (G3, G4).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateExtensions {
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub requester: Option<Requester>,
}

/// Extension fields of a GET generate (G1, G2), as query parameters.
pub(crate) const QUERY_EXTENSIONS: [&str; 6] = [
    "codeChallenge",
    "codeChallengeMethod",
    "deviceName",
    "platform",
    "appName",
    "appVersion",
];

pub(crate) fn requester_from_query(q: &HashMap<String, String>) -> Option<Requester> {
    let get = |k: &str| q.get(k).cloned().filter(|v| !v.trim().is_empty());
    let r = Requester {
        device_name: get("deviceName"),
        platform: get("platform"),
        app_name: get("appName"),
        app_version: get("appVersion"),
        ip: None,
        time: 0,
    };
    (r != Requester::default()).then_some(r)
}

/// The user who scanned, if any.
pub(crate) async fn scanner(state: &AppState, s: &QrSession) -> Result<Option<User>, ApiError> {
    match &s.scanned_by {
        Some(id) => Ok(state.server.store().get_user(id).await?),
        None => Ok(None),
    }
}

/// What a `returnFullUserInfo` poll carries once authorized.
pub(crate) enum PollUser {
    /// The first authorized poll: the user and the session's tokens.
    Delivered(Box<Exchanged>),
    /// Every later poll: the user, without a token (PROTOCOL.md §4.2, delivered once).
    Already(Box<User>),
}

/// With `returnFullUserInfo` on, the first authorized poll carries the user with tokens. When
/// the requester sent a PKCE challenge, only a poll with its `codeVerifier` does: any other
/// gets the ticket, which in turn needs the verifier (PROTOCOL.md §4.2), so a photo of an
/// `authing-json` QR cannot collect the tokens first.
pub(crate) async fn full_user_on_poll(
    state: &AppState,
    s: &QrSession,
    ip: IpAddr,
    verifier: Option<&str>,
) -> Result<Option<PollUser>, ApiError> {
    if s.status_at(now_ms()) != Status::Authorized {
        return Ok(None);
    }
    if let Some(challenge) = &s.code_challenge {
        if !crate::service::pkce_matches(verifier.unwrap_or(""), challenge) {
            return Ok(None);
        }
    }
    let Some(app) = state.server.store().get_app(&s.app_id).await? else {
        return Ok(None);
    };
    if !app.return_full_user_info {
        return Ok(None);
    }
    if let Some(ex) = state
        .server
        .deliver_on_poll(s, &app, Some(ip), &state.public_url)
        .await?
    {
        return Ok(Some(PollUser::Delivered(Box::new(ex))));
    }
    Ok(scanner(state, s)
        .await?
        .map(|u| PollUser::Already(Box::new(u))))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhoneAction {
    Scan,
    Confirm,
    Cancel,
}

impl PhoneAction {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "SCAN" | "SCANNED" => Some(PhoneAction::Scan),
            "CONFIRM" => Some(PhoneAction::Confirm),
            "CANCEL" => Some(PhoneAction::Cancel),
            _ => None,
        }
    }
}

/// The phone side shared by G2, G3 and G4: sign-in required, then scan, confirm or cancel the
/// session named by `scanId` or by the handle of an Authing QR.
pub(crate) async fn phone_action(
    state: &AppState,
    headers: &HeaderMap,
    ip: IpAddr,
    id: Option<&str>,
    action: PhoneAction,
    check_code: Option<&str>,
) -> Result<QrSession, ApiError> {
    state.limit(Kind::Poll, ip)?;
    let user = phone_user(state, headers).await?;
    let id = id
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .ok_or(ApiError::InvalidQr)?;
    crate::device::limit_user_code_guess(state, id, ip)?;
    let session = state.server.session_for_phone(id).await?;
    let (result, confirm) = match action {
        PhoneAction::Scan => return state.server.scan(&session, &user).await,
        PhoneAction::Confirm => (
            state.server.confirm(&session, &user, check_code).await,
            true,
        ),
        PhoneAction::Cancel => (state.server.cancel(&session, &user).await, false),
    };
    state
        .server
        .record_decision(&session, &user, ip, confirm, &result)
        .await;
    result
}

/// The phone-side `status` of G2/G3 mobile replies (G2 meaning: 0, 1 agreed, -1 cancelled).
pub(crate) fn phone_status_number(s: &QrSession) -> i64 {
    match s.status_at(now_ms()) {
        Status::Authorized => 1,
        Status::Cancelled => -1,
        _ => 0,
    }
}

pub(crate) fn status_description(status: Status, lang: crate::i18n::Lang) -> &'static str {
    match status {
        Status::Pending => lang.pick("二维码还没有被扫描", "The QR code has not been scanned"),
        Status::Scanned => lang.pick("用户已扫码，等待确认", "Scanned, waiting for confirmation"),
        Status::Authorized => lang.pick("用户已授权", "The user authorized the sign-in"),
        Status::Cancelled => lang.pick("用户取消授权", "The user cancelled"),
        Status::Expired => lang.pick("二维码已过期", "The QR code has expired"),
    }
}

/// The identifier a phone request named the session by, echoed only if it was the handle.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneBody {
    #[serde(default)]
    pub qrcode_id: Option<String>,
    #[serde(default)]
    pub random: Option<String>,
    #[serde(default)]
    pub scan_id: Option<String>,
    #[serde(default)]
    pub check_code: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}

impl PhoneBody {
    pub fn id(&self) -> Option<&str> {
        self.scan_id
            .as_deref()
            .or(self.qrcode_id.as_deref())
            .or(self.random.as_deref())
    }
}
