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
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::client_addr::ClientAddr;
pub use crate::devicecode::{display_user_code, is_user_code, normalize_user_code, INTERVAL_SECS};
use crate::devicecode::{new_user_code, verification_uri};
use crate::errors::ApiError;
use crate::http::oauth::{client, param, params, token_set, OAuth, OAuthError};
use crate::http::{limit, AppState, Code, Ctx, Envelope};
use crate::i18n::Lang;
use crate::model::{now_ms, Generation, QrSession, Requester, Status};
use crate::ratelimit::Kind;
use crate::service::{ExchangeAuth, GenerateRequest, MAX_WAIT_SECS};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/device_authorization", post(authorize))
        .route("/oidc/device_authorization", post(authorize))
        .route("/device", get(enter_code))
        .route("/oidc/userinfo", get(userinfo))
}

/// OIDC userinfo (Core §5.3), so a standard client learns who signed in: the standard claims
/// of the token's live session, or 401 with `WWW-Authenticate: Bearer`.
async fn userinfo(ctx: Ctx<OAuth, limit::Poll>) -> Response {
    let state = &ctx.state;
    let token = ctx
        .headers
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

/// RFC 8628 §3.1-3.2. Extensions: `code_challenge` (S256 PKCE, checked at the token endpoint)
/// and `device_name`/`platform`/`app_name`/`app_version`, shown on the approval page.
async fn authorize(ctx: Ctx<OAuth, limit::Generate>) -> Result<Json<Value>, OAuthError> {
    let state = &ctx.state;
    let p = params(&ctx.headers, ctx.body())?;
    let (app, _) = client(state, &ctx.headers, &p).await?;
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
            ip: Some(ctx.ip),
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
    Ok(Json(json!({
        "device_code": session.handle,
        "user_code": display_user_code(&session.scan_id),
        "verification_uri": verification_uri(&state.public_url),
        "verification_uri_complete": session.qr_content,
        "expires_in": session.expires_in_secs(now_ms()),
        "interval": INTERVAL_SECS,
    })))
}

fn grant_error(error: &'static str, description: &str) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, error, description)
}

/// The token endpoint's device-code grant (RFC 8628 §3.4-3.5), called by oidc.rs.
pub(crate) async fn token<L>(
    ctx: &mut Ctx<OAuth, L>,
    p: &HashMap<String, String>,
) -> Result<Value, OAuthError> {
    let held = param(p, "wait")
        .and_then(|w| w.parse::<u64>().ok())
        .is_some_and(|w| w.min(MAX_WAIT_SECS) >= INTERVAL_SECS);
    if held {
        // The form is parsed (`p`) and the client is read from the copies kept.
        ctx.detach_for_hold();
    }
    let ctx = &*ctx;
    let state = &ctx.state;
    let code = param(p, "device_code")
        .ok_or_else(|| OAuthError::request("device_code is required"))?
        .to_owned();
    let (app, secret_ok) = client(state, &ctx.headers, p).await?;
    let unknown = || grant_error("invalid_grant", "unknown device_code");
    let session = match state.server.session_by_handle(&code).await {
        Ok(s) if s.generation == Generation::Device && s.app_id == app.app_id => s,
        Ok(_) | Err(ApiError::QrNotFound) => return Err(unknown()),
        Err(e) => return Err(e.into()),
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
        let _hold = state.held_polls.try_hold(ctx.ip, &session.handle)?;
        QrSession::clone(
            &*state
                .server
                .poll(&code, Some(wait), Some(known), state.shutdown.clone())
                .await?,
        )
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
                .redeem(&session, &auth, Some(ctx.ip), &state.public_url)
                .await;
            state.device_pace.forget(&session.scan_id);
            match ex {
                Ok(ex) => Ok(token_set(&ex)),
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
    ClientAddr(ip): ClientAddr,
    Query(q): Query<EnterQuery>,
    headers: HeaderMap,
) -> Response {
    // A page: its language is the browser's (Accept-Language), not the API header's.
    let lang = Lang::from_accept_language(&headers);
    if let Err(e) = state.limit(Kind::Poll, ip) {
        return Code::fail(lang, &e);
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
