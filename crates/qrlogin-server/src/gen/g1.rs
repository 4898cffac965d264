//! G1, the legacy mini-program scan: `GET /oauth/wxapp/qrcode/{appId}?random=` and the poll
//! `POST /oauth/wxapp/confirm/qr?random=`, whose inner `code == 200` carries the user and token.
//! G1 has no exchange, so the authorized poll is the exchange: single use, PKCE or secret bound.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{generate_extras, requester_from_query, scanner, status_description};
use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::{now_ms, rfc3339, Generation, Status};
use crate::ratelimit::Kind;
use crate::service::GenerateRequest;
use crate::web::{
    brief_user, exchange_auth, fail, long_poll_params, ok, user_legacy, with_tokens, AppState,
    Envelope,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/wxapp/qrcode/{app_id}", get(generate))
        .route("/oauth/wxapp/confirm/qr", post(poll))
}

async fn generate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(app_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    match generate_data(&state, peer, &app_id, &q).await {
        Ok(data) => ok(
            Envelope::Code,
            lang.pick("获取二维码成功", "QR code generated"),
            data,
        ),
        Err(e) => fail(Envelope::Code, lang, &e),
    }
}

async fn generate_data(
    state: &AppState,
    peer: SocketAddr,
    app_id: &str,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    state.limit(Kind::Generate, peer.ip())?;
    let app = state.server.app_for(Some(app_id)).await?;
    let req = GenerateRequest {
        // The SDK makes `random`; a variant SDK omits it and reads ours back.
        handle: q.get("random").cloned().filter(|r| !r.is_empty()),
        code_challenge: q.get("codeChallenge").cloned(),
        code_challenge_method: q.get("codeChallengeMethod").cloned(),
        requester: requester_from_query(q),
        // G1 has no custom data; the session keeps the SDK's `enableFetchPhone` there.
        custom_data: fetch_phone_requested(q).then(|| json!({ FETCH_PHONE: true })),
        ip: Some(peer.ip()),
        user_code: None,
    };
    let s = state
        .server
        .generate(Generation::G1, &app, req, &state.public_url)
        .await?;
    let mut data = json!({
        "_id": s.handle,
        "random": s.handle,
        "client": app.app_id,
        "qrcode": state.qr_png_url(&s.scan_id),
        "expiredAt": rfc3339(s.expires_at),
        "createdAt": rfc3339(s.created_at),
        "redirect": app.redirect_url.clone().unwrap_or_default(),
        "success": false,
        "used": false,
    });
    if let Value::Object(m) = &mut data {
        m.extend(generate_extras(&s));
    }
    Ok(data)
}

async fn poll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let inner = match poll_inner(&state, peer, &q, &headers, lang).await {
        Ok(inner) => inner,
        Err(e @ ApiError::RateLimited { .. }) => return fail(Envelope::Code, lang, &e),
        Err(e) => json!({
            "code": e.code(),
            "message": e.message(lang),
            "data": null,
            "redirect": null,
        }),
    };
    Json(json!({"code": 200, "data": inner})).into_response()
}

/// The inner `{code, message, data, redirect}`; we add `status` (canonical name) so that a
/// client of our server can tell scanned, cancelled and expired apart.
async fn poll_inner(
    state: &AppState,
    peer: SocketAddr,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<Value, ApiError> {
    state.limit(Kind::Poll, peer.ip())?;
    let random = q
        .get("random")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .ok_or(ApiError::QrNotFound)?;
    let (wait, known) = long_poll_params(q);
    let s = state.long_poll(peer.ip(), random, wait, known).await?;
    let status = s.status_at(now_ms());
    let app = state.server.session_app(&s).await?;
    if status == Status::Authorized {
        state.limit(Kind::Exchange, peer.ip())?;
        let auth = exchange_auth(headers, q.get("codeVerifier").cloned());
        let ex = state
            .server
            .redeem(&s, &auth, Some(peer.ip()), &state.public_url)
            .await?;
        let mut user = user_legacy(state, &ex.user, &ex.access.token, ex.access.expires_at);
        if !fetches_phone(&s) {
            // Authing's 身份管家 shares no phone number; only 小登录 (`enableFetchPhone`) does.
            user["phone"] = Value::Null;
        }
        return Ok(json!({
            "code": 200,
            "message": lang.pick("扫码登录成功", "Signed in by QR code"),
            "data": with_tokens(user, &ex),
            "redirect": app.redirect_url,
            "status": status.as_str(),
        }));
    }
    let data = match (status, scanner(state, &s).await?) {
        (Status::Scanned, Some(user)) => brief_user(state, &user),
        _ => Value::Null,
    };
    let code = if status == Status::Expired { 2244 } else { 500 };
    let mut inner = json!({
        "code": code,
        "message": status_description(status, lang),
        "data": data,
        "redirect": null,
        "status": status.as_str(),
    });
    if let Value::Object(m) = &mut inner {
        m.extend(state.rotation_fields(&s).await?);
    }
    Ok(inner)
}

/// The session's record of the generate request's `enableFetchPhone=true`.
const FETCH_PHONE: &str = "enableFetchPhone";

fn fetch_phone_requested(q: &HashMap<String, String>) -> bool {
    q.get(FETCH_PHONE)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn fetches_phone(s: &crate::model::QrSession) -> bool {
    s.custom_data
        .as_ref()
        .and_then(|c| c.get(FETCH_PHONE))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}
