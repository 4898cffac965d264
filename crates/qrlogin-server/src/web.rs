//! Shared pieces of the HTTP layer: the state every handler gets, envelopes of each generation,
//! request parsing, phone authentication, and the JSON views of a user.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::errors::{ApiError, Forbidden};
use crate::i18n::Lang;
use crate::limits::{EdgeLimits, HeldPolls};
use crate::model::{rfc3339, QrSession, Status, User};
use crate::ratelimit::{Kind, Limiter};
use crate::server::Server;
use crate::service::{constant_time_eq, ExchangeAuth, Exchanged};
use crate::tokens::bearer;

/// The approval page's session cookie.
pub const SESSION_COOKIE: &str = "qrl_session";
/// The approval page's pre-sign-in CSRF cookie (double submit).
pub const CSRF_COOKIE: &str = "qrl_csrf";
/// The CSRF cookie's name over https.
pub const CSRF_COOKIE_HOST: &str = "__Host-qrl_csrf";
/// The header the page's JS sends with its CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Clone)]
pub struct AppState {
    pub server: Server,
    /// Scheme, host and optional path prefix; no trailing slash.
    pub public_url: Arc<str>,
    /// The path part of `public_url` (empty or `/prefix`), for links inside pages.
    pub base_path: Arc<str>,
    pub limiter: Arc<Limiter>,
    pub shutdown: watch::Receiver<bool>,
    pub secure_cookies: bool,
    /// Long-polls held now, capped per client and per session (limits.rs).
    pub held_polls: Arc<HeldPolls>,
    /// RFC 8628 polling pace per device code (device.rs).
    pub device_pace: Arc<crate::device::Pace>,
    /// WeChat's API for mini-program sign-ins (`--wechat-api-base`; idp/wechat.rs).
    pub wechat: Arc<crate::idp::wechat::Wechat>,
}

impl AppState {
    pub fn new(
        server: Server,
        public_url: &str,
        limiter: Arc<Limiter>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let parsed = url::Url::parse(public_url).ok();
        let base_path = parsed
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let secure_cookies = parsed.is_some_and(|u| u.scheme() == "https");
        AppState {
            server,
            public_url: public_url.into(),
            base_path: base_path.into(),
            limiter,
            shutdown,
            secure_cookies,
            held_polls: HeldPolls::new(&EdgeLimits::default()),
            device_pace: Arc::default(),
            wechat: Arc::new(crate::idp::wechat::Wechat::new(
                crate::idp::wechat::DEFAULT_API_BASE,
            )),
        }
    }

    /// A requester's poll of `handle` for `client`; a long one takes a place under the caps
    /// of held long-polls (429 at once over them) for as long as it is held.
    pub async fn long_poll(
        &self,
        client: IpAddr,
        handle: &str,
        wait: Option<u64>,
        known: Option<Status>,
    ) -> Result<QrSession, ApiError> {
        let _hold = match (wait, known) {
            (Some(w), Some(_)) if w > 0 => Some(self.held_polls.try_hold(client, handle)?),
            _ => None,
        };
        self.server
            .poll(handle, wait, known, self.shutdown.clone())
            .await
    }

    /// The name of the pre-sign-in CSRF cookie. Over https it carries the `__Host-` prefix
    /// (Secure, Path=/, no Domain: no sibling subdomain can plant one). A plain-http public URL
    /// (loopback, or the desktop app's LAN mode) cannot: browsers drop Secure cookies set over
    /// http, which would break sign-in, and on plain http a network attacker can read and set
    /// any cookie anyway, so the prefix would promise nothing there.
    pub fn csrf_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            CSRF_COOKIE_HOST
        } else {
            CSRF_COOKIE
        }
    }

    pub fn limit(&self, kind: Kind, ip: IpAddr) -> Result<(), ApiError> {
        let r = self.limiter.check(kind, ip);
        if r.is_err() {
            tracing::warn!(%ip, ?kind, "rate limited");
        }
        r
    }

    /// For a poll reply: `qrContent` (and `scanId`, `qrcodeUrl`-style image) of a rotating QR
    /// that has turned since the generate reply (contracts.md §1); empty otherwise.
    pub async fn rotation_fields(
        &self,
        s: &QrSession,
    ) -> Result<serde_json::Map<String, Value>, ApiError> {
        let mut m = serde_json::Map::new();
        if let Some((content, id)) = self.server.rotated_qr(s, &self.public_url).await? {
            m.insert("qrContent".into(), content.into());
            m.insert("scanId".into(), id.clone().into());
            m.insert("qrImage".into(), self.qr_png_url(&id).into());
        }
        Ok(m)
    }

    /// G3 `customLogo` / G4 `customLogoUrl`: the app's logo, or `""` as Authing sends without.
    pub fn logo_url(&self, app: &crate::model::App) -> String {
        match app.logo_png {
            Some(_) => format!("{}/logos/{}.png", self.public_url, app.app_id),
            None => String::new(),
        }
    }

    pub fn qr_png_url(&self, scan_id: &str) -> String {
        format!("{}/qrcode/{scan_id}.png", self.public_url)
    }

    pub fn photo_of(&self, user: &User) -> String {
        match user.photo.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => p.to_owned(),
            None => format!("{}/avatars/{}.png", self.public_url, user.id),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Envelopes

/// The reply shapes of the generations (PROTOCOL.md §2 "Envelopes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// G2, G3 (and G1's generate): `{code, message, data}`, business errors on HTTP 200.
    Code,
    /// G4: `{statusCode, message, apiCode?, data}`, HTTP status = `statusCode`.
    V3,
}

pub fn ok(env: Envelope, message: &str, data: Value) -> Response {
    let body = match env {
        Envelope::Code => json!({"code": 200, "message": message, "data": data}),
        Envelope::V3 => json!({"statusCode": 200, "message": message, "data": data}),
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

pub fn fail(env: Envelope, lang: Lang, e: &ApiError) -> Response {
    let message = e.message(lang);
    let (status, body) = match env {
        Envelope::Code => {
            let status = if e.retry_after().is_some() {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::OK
            };
            (
                status,
                json!({"code": e.code(), "message": message, "data": null}),
            )
        }
        Envelope::V3 => {
            let http = e.g4_http_status();
            (
                StatusCode::from_u16(http).unwrap_or(StatusCode::BAD_REQUEST),
                json!({
                    "statusCode": http,
                    "message": message,
                    "apiCode": e.code(),
                    "requestId": crate::ids::object_id(),
                    "data": null,
                }),
            )
        }
    };
    with_retry_after((status, axum::Json(body)).into_response(), e)
}

pub fn with_retry_after(mut resp: Response, e: &ApiError) -> Response {
    if let Some(secs) = e.retry_after() {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Success message of G4 replies.
pub fn v3_ok_message(lang: Lang) -> &'static str {
    lang.pick("操作成功", "Success")
}

// ---------------------------------------------------------------------------------------------
// Request parsing

/// Parses a JSON body; an empty body is `{}` (Authing SDKs sometimes send none).
pub fn json_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| ApiError::BadRequest(format!("JSON body: {e}")))
}

/// `wait` and `known` of a long-poll (PROTOCOL.md §4.5); both absent means an immediate reply.
pub fn long_poll_params(q: &HashMap<String, String>) -> (Option<u64>, Option<Status>) {
    let wait = q.get("wait").and_then(|w| w.trim().parse::<u64>().ok());
    let known = q.get("known").and_then(|k| Status::parse_known(k));
    (wait, known)
}

/// `Authorization: Basic base64(appId:appSecret)`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub fn exchange_auth(headers: &HeaderMap, verifier: Option<String>) -> ExchangeAuth {
    ExchangeAuth {
        header_app_id: header_str(headers, "x-authing-app-id").map(str::to_owned),
        client: basic_credentials(headers),
        code_verifier: verifier.filter(|v| !v.is_empty()),
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The CSRF token of a signed-in page: derived from the session cookie, which a foreign site
/// can neither read nor send (SameSite=Strict).
pub fn csrf_for_session(session_token: &str) -> String {
    let digest = Sha256::digest(format!("qrlogin-csrf:{session_token}").as_bytes());
    hex::encode(&digest[..16])
}

/// The signed-in user of a phone call: a token in `Authorization` (apps), or the approval
/// page's cookie plus its CSRF header (the page's own JS). Either must be an approver session:
/// a token from a QR exchange is refused (PROTOCOL.md §4.6).
pub async fn phone_user(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    if let Some(token) = header_str(headers, header::AUTHORIZATION.as_str()).and_then(bearer) {
        return state.server.approver_for_token(token).await;
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        let user = state.server.approver_for_token(token).await?;
        let sent = header_str(headers, CSRF_HEADER).unwrap_or("");
        if !constant_time_eq(sent, &csrf_for_session(token)) {
            return Err(ApiError::Forbidden(Forbidden::Csrf));
        }
        return Ok(user);
    }
    Err(ApiError::NotSignedIn)
}

// ---------------------------------------------------------------------------------------------
// JSON views of a user

/// What a poll may show before authorization: nickname and photo only.
pub fn brief_user(state: &AppState, user: &User) -> Value {
    json!({"nickname": user.display_name(), "photo": state.photo_of(user)})
}

/// G1 and G2 user objects (`_id`, `lastIP`), with a token.
pub fn user_legacy(state: &AppState, user: &User, token: &str, token_expires_at: i64) -> Value {
    json!({
        "_id": user.id,
        "id": user.id,
        "email": user.email,
        "emailVerified": false,
        "oauth": "",
        "registerMethod": "default:username-password",
        "username": user.username,
        "nickname": user.display_name(),
        "company": "",
        "photo": state.photo_of(user),
        "browser": "",
        "phone": user.phone,
        "token": token,
        "tokenExpiredAt": rfc3339(token_expires_at),
        "loginsCount": user.logins_count,
        "lastLogin": user.last_login.map(rfc3339),
        "lastIP": user.last_ip,
        "signedUp": rfc3339(user.created_at),
        "blocked": false,
        "isDeleted": false,
    })
}

/// G3 user objects (`id`, `lastIp`), with a token.
pub fn user_v2(state: &AppState, user: &User, token: &str, token_expires_at: i64) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "emailVerified": false,
        "oauth": "",
        "registerMethod": "default:username-password",
        "username": user.username,
        "nickname": user.display_name(),
        "company": "",
        "photo": state.photo_of(user),
        "phone": user.phone,
        "token": token,
        "tokenExpiredAt": rfc3339(token_expires_at),
        "loginsCount": user.logins_count,
        "lastLogin": user.last_login.map(rfc3339),
        "lastIp": user.last_ip,
        "signedUp": rfc3339(user.created_at),
        "blocked": false,
        "isDeleted": false,
    })
}

/// The profile of contracts.md §1 (`get-profile` data), plus v5's `userId`.
pub fn profile(state: &AppState, user: &User) -> Value {
    json!({
        "id": user.id,
        "userId": user.id,
        "username": user.username,
        "nickname": user.display_name(),
        "email": user.email,
        "phone": user.phone,
        "photo": state.photo_of(user),
        "loginsCount": user.logins_count,
        "lastLogin": user.last_login.map(rfc3339),
        "signedUp": rfc3339(user.created_at),
    })
}

/// A G4 token set: Authing's `expire_in`, plus RFC 6749's `expires_in` and the refresh token.
pub fn token_set(ex: &Exchanged) -> Value {
    crate::oidc::oauth_token_set(ex)
}

/// A G1-G3 user object of an exchange: the user with its access token, plus the refresh token
/// as extra fields (`refreshToken`, `refreshTokenExpiredAt`; docs/contracts.md §1).
pub fn with_tokens(mut user: Value, ex: &Exchanged) -> Value {
    if let Value::Object(m) = &mut user {
        m.insert("token".into(), ex.access.token.clone().into());
        m.insert(
            "tokenExpiredAt".into(),
            rfc3339(ex.access.expires_at).into(),
        );
        if let Some(r) = &ex.refresh {
            m.insert("refreshToken".into(), r.token.clone().into());
            m.insert("refreshTokenExpiredAt".into(), rfc3339(r.expires_at).into());
        }
    }
    user
}

/// A user object whose token was already delivered: the same fields, without any token.
pub fn without_tokens(mut user: Value) -> Value {
    if let Value::Object(m) = &mut user {
        m.remove("token");
        m.remove("tokenExpiredAt");
    }
    user
}
