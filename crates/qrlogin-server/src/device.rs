//! RFC 8628, the OAuth 2.0 Device Authorization Grant, on the QR session machinery: a device
//! authorization IS a QR session (generation `device`) whose handle is the `device_code` and whose
//! scan id is the user code. The user code and `verification_uri_complete` both lead to the
//! approval page (`/s/{user code}`), so approval is the same informed approval as a QR's.
//!
//! Endpoints: `POST /oauth/device_authorization` (and `/oidc/`), `GET /device` (type the code),
//! and the `urn:ietf:params:oauth:grant-type:device_code` grant of the token endpoint (oidc.rs).
//! Our extension: a token request with `wait` (seconds, at least `interval`) and optionally
//! `known` is held until the status differs (PROTOCOL.md §4.5's long-poll), so our own client
//! never waits out the interval; a plain RFC 8628 client never sends them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::{now_ms, Generation, Requester, Status};
use crate::oidc::{client, oauth_token_set, param, params, OAuthError};
use crate::ratelimit::Kind;
use crate::service::{ExchangeAuth, GenerateRequest, MAX_WAIT_SECS};
use crate::web::AppState;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 §3.2's default polling interval.
pub const INTERVAL_SECS: u64 = 5;
/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_SECS: u64 = 5;
/// A poll this much early still keeps the pace (timer and network jitter).
const PACE_TOLERANCE: Duration = Duration::from_millis(250);

/// RFC 8628 §6.1: consonants only (no vowels, so no words; no 0/O, 1/I), 8 of them: 34 bits,
/// which the user-code guess limit (the sign-in limit) makes too many to try.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/device_authorization", post(authorize))
        .route("/oidc/device_authorization", post(authorize))
        .route("/device", get(enter_code))
        .route("/oidc/userinfo", get(userinfo))
}

/// OIDC userinfo (Core §5.3), so a standard client learns who signed in: the standard claims
/// of the token's live session, or 401 with `WWW-Authenticate: Bearer`.
async fn userinfo(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = state.limit(Kind::Poll, peer.ip()) {
        return OAuthError::from(e).into_response();
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::tokens::bearer);
    let user = match token {
        Some(t) => state.server.user_for_token(t).await,
        None => Ok(None),
    };
    match user {
        Ok(Some(u)) => Json(json!({
            "sub": u.id,
            "preferred_username": u.username,
            "name": u.display_name(),
            "email": u.email,
            "phone_number": u.phone,
            "picture": u.photo,
        }))
        .into_response(),
        Ok(None) => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "invalid_token"})),
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// A new user code, stored without its dash (`WDJBMJHT`).
pub(crate) fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LEN)
        .map(|_| USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect()
}

/// `WDJBMJHT` as people read it: `WDJB-MJHT`.
pub fn display_user_code(code: &str) -> String {
    if code.len() == USER_CODE_LEN {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

/// What a person typed (any case, dashes, spaces) as a stored user code, if it can be one.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    is_user_code(&code).then_some(code)
}

/// True for an id of the user-code shape (real scan ids are 24 alphanumerics).
pub fn is_user_code(id: &str) -> bool {
    id.len() == USER_CODE_LEN && id.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))
}

/// The check code of a device session when its app asks for one: the user code (as displayed)
/// among two decoys, so the phone's pick proves the person sees the device's screen.
pub(crate) fn user_code_choices(code: &str) -> (String, Vec<String>) {
    let real = display_user_code(code);
    let mut choices = vec![real.clone()];
    while choices.len() < 3 {
        let decoy = display_user_code(&new_user_code());
        if !choices.contains(&decoy) {
            choices.push(decoy);
        }
    }
    choices.shuffle(&mut rand::rngs::OsRng);
    (real, choices)
}

pub(crate) fn verification_uri(public_url: &str) -> String {
    format!("{public_url}/device")
}

pub(crate) fn verification_uri_complete(public_url: &str, code: &str) -> String {
    format!(
        "{}?user_code={}",
        verification_uri(public_url),
        display_user_code(code)
    )
}

/// A user code is guessable (34 bits), so every lookup by one costs what a password try costs,
/// in any form it is accepted in (`WDJB-MJHT`, `wdjbmjht`: see `typed_code`).
pub(crate) fn limit_user_code_guess(
    state: &AppState,
    id: &str,
    ip: IpAddr,
) -> Result<(), ApiError> {
    if normalize_user_code(id).is_some() {
        state.limit(Kind::SignIn, ip)?;
    }
    Ok(())
}

/// Polling pace per device authorization (RFC 8628 §3.5): a poll before the interval is up gets
/// `slow_down` and 5 s more interval for good. Kept in memory: behind a load balancer each
/// instance paces the polls it sees.
#[derive(Default)]
pub struct Pace {
    slots: Mutex<HashMap<String, Slot>>,
}

struct Slot {
    next: Instant,
    interval: Duration,
}

impl Pace {
    /// Ok when this poll keeps the pace; else the new interval in seconds.
    fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() > 10_000 {
            let hour = Duration::from_secs(3600);
            slots.retain(|_, s| s.next + hour > now);
        }
        let slot = slots.entry(key.to_owned()).or_insert(Slot {
            next: now,
            interval: Duration::from_secs(INTERVAL_SECS),
        });
        let early = now + PACE_TOLERANCE < slot.next;
        if early {
            slot.interval += Duration::from_secs(SLOW_DOWN_SECS);
        }
        slot.next = now + slot.interval;
        if early {
            Err(slot.interval.as_secs())
        } else {
            Ok(())
        }
    }

    fn forget(&self, key: &str) {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

fn oauth_json(r: Result<Value, OAuthError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    oauth_json(authorization(&state, peer, &headers, &body).await)
}

/// RFC 8628 §3.1-3.2. Extensions: `code_challenge` (S256 PKCE, checked at the token endpoint)
/// and `device_name`/`platform`/`app_name`/`app_version`, shown on the approval page.
async fn authorization(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, OAuthError> {
    state.limit(Kind::Generate, peer.ip())?;
    let p = params(headers, body)?;
    let (app, _) = client(state, headers, &p).await?;
    let text = |k: &str| param(&p, k).map(str::to_owned);
    let requester = Requester {
        device_name: text("device_name"),
        platform: text("platform"),
        app_name: text("app_name"),
        app_version: text("app_version"),
        ..Requester::default()
    };
    let mut attempt = 0;
    let session = loop {
        let req = GenerateRequest {
            handle: None,
            code_challenge: text("code_challenge"),
            code_challenge_method: text("code_challenge_method"),
            requester: Some(requester.clone()),
            custom_data: None,
            ip: Some(peer.ip()),
            user_code: Some(new_user_code()),
        };
        match state
            .server
            .generate(Generation::Device, &app, req, &state.public_url)
            .await
        {
            Ok(s) => break s,
            // A user code already in use (1 in 2.5e10 per live code): draw another.
            Err(ApiError::BadRequest(m)) if m.contains("already in use") && attempt < 3 => {
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(json!({
        "device_code": session.handle,
        "user_code": display_user_code(&session.scan_id),
        "verification_uri": verification_uri(&state.public_url),
        "verification_uri_complete": session.qr_content,
        "expires_in": session.expires_in_secs(now_ms()),
        "interval": INTERVAL_SECS,
    }))
}

fn grant_error(error: &'static str, description: &str) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, error, description)
}

/// The token endpoint's device-code grant (RFC 8628 §3.4-3.5), called by oidc.rs.
pub(crate) async fn token(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Result<Value, OAuthError> {
    let code = param(p, "device_code")
        .ok_or_else(|| OAuthError::request("device_code is required"))?
        .to_owned();
    let (app, secret_ok) = client(state, headers, p).await?;
    let unknown = || grant_error("invalid_grant", "unknown device_code");
    let session = match state.server.store().session_by_handle(&code).await {
        Ok(Some(s)) if s.generation == Generation::Device && s.app_id == app.app_id => s,
        Ok(_) => return Err(unknown()),
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let wait = param(p, "wait")
        .and_then(|w| w.parse::<u64>().ok())
        .unwrap_or(0)
        .min(MAX_WAIT_SECS);
    let session = if wait >= INTERVAL_SECS {
        // A held request paces itself: it returns when something changed or time ran out.
        let known = param(p, "known")
            .and_then(Status::parse_known)
            .unwrap_or_else(|| session.status_at(now_ms()));
        let _hold = state.held_polls.try_hold(peer.ip(), &session.handle)?;
        state
            .server
            .poll(&code, Some(wait), Some(known), state.shutdown.clone())
            .await?
    } else {
        if let Err(interval) = state.device_pace.check(&session.scan_id, Instant::now()) {
            let mut e = grant_error(
                "slow_down",
                &format!("polled faster than the interval; poll every {interval} s from now on"),
            );
            e.interval = Some(interval);
            return Err(e);
        }
        session
    };
    let pending = |status: &'static str| {
        let mut e = grant_error(
            "authorization_pending",
            "the user has not approved this device yet",
        );
        e.qrlogin_status = Some(status);
        e
    };
    match session.status_at(now_ms()) {
        Status::Pending => Err(pending("pending")),
        Status::Scanned => Err(pending("scanned")),
        Status::Cancelled => Err(grant_error(
            "access_denied",
            "the user declined this sign-in",
        )),
        Status::Expired => Err(grant_error(
            "expired_token",
            "the device code expired: start again",
        )),
        Status::Authorized => {
            let auth = ExchangeAuth {
                header_app_id: None,
                client: secret_ok.then(|| (app.app_id.clone(), app.app_secret.clone())),
                code_verifier: param(p, "code_verifier").map(str::to_owned),
            };
            let ex = state
                .server
                .redeem(&session, &auth, Some(peer.ip()), &state.public_url)
                .await;
            state.device_pace.forget(&session.scan_id);
            match ex {
                Ok(ex) => Ok(oauth_token_set(&ex)),
                Err(ApiError::TicketInvalid) => Err(grant_error(
                    "invalid_grant",
                    "this device code was already used, or its approval ran out",
                )),
                Err(ApiError::PkceMismatch) => Err(grant_error(
                    "invalid_grant",
                    "code_verifier does not match the code_challenge",
                )),
                Err(ApiError::Forbidden(_)) => Err(OAuthError::client("wrong client")),
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct EnterQuery {
    user_code: Option<String>,
}

/// The `verification_uri`: a form for the code, or with `user_code` a redirect to its approval
/// page (where the guess limit applies).
async fn enter_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<EnterQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    if let Err(e) = state.limit(Kind::Poll, peer.ip()) {
        return crate::web::fail(crate::web::Envelope::Code, lang, &e);
    }
    let typed = q.user_code.as_deref().map(str::trim).unwrap_or("");
    if let Some(code) = normalize_user_code(typed) {
        let to = format!("{}/s/{code}", state.base_path);
        let mut resp = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&to) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    }
    let error = if typed.is_empty() {
        String::new()
    } else {
        format!(
            "<p role=\"alert\">{}</p>",
            lang.pick(
                "这不是有效的设备码：8 个字母，例如 WDJB-MJHT。",
                "That is not a device code: 8 letters, like WDJB-MJHT."
            )
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang_attr}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1>{error}\
         <form method=\"get\" action=\"{base}/device\"><label for=\"user_code\">{label}</label> \
         <input id=\"user_code\" name=\"user_code\" autocomplete=\"off\" autocapitalize=\"characters\" \
         spellcheck=\"false\" required> <button type=\"submit\">{go}</button></form></main></body></html>",
        lang_attr = lang.html_lang(),
        title = lang.pick("连接设备", "Connect a device"),
        label = lang.pick("设备上显示的代码", "The code shown on the device"),
        go = lang.pick("继续", "Continue"),
        base = crate::approval::page::esc(&state.base_path),
    );
    let status = if typed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, axum::response::Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_unambiguous_and_typed_forms_normalize() {
        for _ in 0..200 {
            let c = new_user_code();
            assert!(is_user_code(&c), "{c}");
            assert!(!c.contains(['A', 'E', 'I', 'O', 'U', '0', '1']));
            let shown = display_user_code(&c);
            assert_eq!(normalize_user_code(&shown.to_lowercase()), Some(c.clone()));
            assert_eq!(normalize_user_code(&shown.replace('-', " ")), Some(c));
        }
        assert_eq!(normalize_user_code("WDJB-MJH"), None);
        assert_eq!(normalize_user_code("WDJB-MJHO"), None);
        assert!(!is_user_code("aB3dE5gH7jK9mN1pQ3sT5vW7"));
    }

    #[test]
    fn polling_early_slows_down_by_five_seconds_for_good() {
        let pace = Pace::default();
        let t0 = Instant::now();
        assert_eq!(pace.check("k", t0), Ok(()));
        assert_eq!(pace.check("k", t0 + Duration::from_secs(1)), Err(10));
        // The new interval counts from the slowed-down poll.
        assert_eq!(pace.check("k", t0 + Duration::from_secs(6)), Err(15));
        assert_eq!(pace.check("k", t0 + Duration::from_secs(21)), Ok(()));
        assert_eq!(pace.check("other", t0), Ok(()));
    }
}
