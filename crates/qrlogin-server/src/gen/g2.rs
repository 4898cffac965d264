//! G2, "APP 扫码登录" v1 on the oauth host: `GET /qrcode/gene`, `GET /qrcode/check` (booleans plus
//! `status` 0/1/-1), the ticket exchange, and the phone's scanned/confirm/cancel.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    full_user_on_poll, generate_extras, phone_action, phone_status_number, requester_from_query,
    scanner, status_description, PhoneAction, PhoneBody, PollUser, QUERY_EXTENSIONS,
};
use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::{now_ms, Generation, Status};
use crate::ratelimit::Kind;
use crate::service::GenerateRequest;
use crate::web::{
    brief_user, exchange_auth, fail, header_str, json_body, long_poll_params, ok, user_legacy,
    with_tokens, without_tokens, AppState, Envelope,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/qrcode/gene", get(generate))
        .route("/qrcode/check", get(check))
        .route(
            "/oauth/scan-qrcode/exchangeUserInfoWithTicket",
            post(exchange),
        )
        .route("/oauth/scan-qrcode/{action}", post(phone))
}

fn reply(lang: Lang, message: &str, r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(data) => ok(Envelope::Code, message, data),
        Err(e) => fail(Envelope::Code, lang, &e),
    }
}

async fn generate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let r = generate_data(&state, peer, &q, &headers).await;
    reply(lang, lang.pick("生成二维码成功", "QR code generated"), r)
}

async fn generate_data(
    state: &AppState,
    peer: SocketAddr,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Value, ApiError> {
    state.limit(Kind::Generate, peer.ip())?;
    if q.get("scene").map(String::as_str) != Some("APP_AUTH") {
        return Err(ApiError::BadRequest("scene must be APP_AUTH".into()));
    }
    if let Some(pool) = q.get("userPoolId").filter(|p| !p.is_empty()) {
        if pool != state.server.user_pool_id() {
            return Err(ApiError::BadRequest("unknown userPoolId".into()));
        }
    }
    // G2 names only the pool: its default app, unless the caller names one.
    let app = state
        .server
        .app_for(header_str(headers, "x-authing-app-id"))
        .await?;
    // Every other query key is the caller's custom data (`userDefinedData` in the QR).
    let custom: Map<String, Value> = q
        .iter()
        .filter(|(k, _)| {
            !matches!(k.as_str(), "scene" | "userPoolId") && !QUERY_EXTENSIONS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let req = GenerateRequest {
        handle: None,
        code_challenge: q.get("codeChallenge").cloned(),
        code_challenge_method: q.get("codeChallengeMethod").cloned(),
        requester: requester_from_query(q),
        custom_data: (!custom.is_empty()).then_some(Value::Object(custom)),
        ip: Some(peer.ip()),
        user_code: None,
    };
    let s = state
        .server
        .generate(Generation::G2, &app, req, &state.public_url)
        .await?;
    let mut data = json!({
        "qrcodeId": s.handle,
        "qrcodeUrl": state.qr_png_url(&s.scan_id),
    });
    if let Value::Object(m) = &mut data {
        m.extend(generate_extras(&s));
    }
    Ok(data)
}

async fn check(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    // Not held through a long-poll: header values share hyper's 8 KiB read buffer.
    drop(headers);
    let r = check_data(&state, peer, &q, lang).await;
    reply(lang, lang.pick("查询二维码状态成功", "QR code status"), r)
}

async fn check_data(
    state: &AppState,
    peer: SocketAddr,
    q: &HashMap<String, String>,
    lang: Lang,
) -> Result<Value, ApiError> {
    state.limit(Kind::Poll, peer.ip())?;
    let id = q
        .get("qrcodeId")
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
        .ok_or(ApiError::QrNotFound)?;
    let (wait, known) = long_poll_params(q);
    let s = state.long_poll(peer.ip(), id, wait, known).await?;
    let status = s.status_at(now_ms());
    let user_info = match full_user_on_poll(
        state,
        &s,
        peer.ip(),
        q.get("codeVerifier").map(String::as_str),
    )
    .await?
    {
        Some(PollUser::Delivered(ex)) => with_tokens(
            user_legacy(state, &ex.user, &ex.access.token, ex.access.expires_at),
            &ex,
        ),
        Some(PollUser::Already(user)) => without_tokens(user_legacy(state, &user, "", 0)),
        None => match scanner(state, &s).await? {
            Some(user) => brief_user(state, &user),
            None => json!({}),
        },
    };
    let ticket = match status {
        Status::Authorized => s.ticket.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let mut data = json!({
        "qrcodeId": s.handle,
        "scanned": s.scanned_by.is_some(),
        "expired": status == Status::Expired,
        "success": status == Status::Authorized,
        "canceled": status == Status::Cancelled,
        "status": match status {
            Status::Authorized => 1,
            Status::Cancelled => -1,
            _ => 0,
        },
        "userInfo": user_info,
        "ticket": ticket,
        "description": status_description(status, lang),
    });
    if let Value::Object(m) = &mut data {
        m.extend(state.rotation_fields(&s).await?);
    }
    Ok(data)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeBody {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    code_verifier: Option<String>,
}

async fn exchange(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let r = async {
        state.limit(Kind::Exchange, peer.ip())?;
        let b: ExchangeBody = json_body(&body)?;
        let auth = exchange_auth(&headers, b.code_verifier);
        let ex = state
            .server
            .exchange(&b.ticket, &auth, Some(peer.ip()), &state.public_url)
            .await?;
        Ok(with_tokens(
            user_legacy(&state, &ex.user, &ex.access.token, ex.access.expires_at),
            &ex,
        ))
    }
    .await;
    reply(
        lang,
        lang.pick("换取用户信息成功", "User info exchanged"),
        r,
    )
}

async fn phone(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let (action, message) = match action.as_str() {
        "scanned" => (
            PhoneAction::Scan,
            lang.pick("二维码扫描确认成功", "QR code scanned"),
        ),
        "confirm" => (
            PhoneAction::Confirm,
            lang.pick("授权登录成功", "Sign-in authorized"),
        ),
        "cancel" => (
            PhoneAction::Cancel,
            lang.pick("取消授权成功", "Sign-in cancelled"),
        ),
        _ => {
            return fail(
                Envelope::Code,
                lang,
                &ApiError::BadRequest("unknown action".into()),
            )
        }
    };
    let r = async {
        let b: PhoneBody = json_body(&body)?;
        let s = phone_action(
            &state,
            &headers,
            peer.ip(),
            b.id(),
            action,
            b.check_code.as_deref(),
        )
        .await?;
        let mut data = json!({
            "status": phone_status_number(&s),
            "description": status_description(s.status_at(now_ms()), lang),
        });
        // Echo the handle only if the request carried it (PROTOCOL.md §4.4).
        if let (Some(id), Value::Object(m)) = (b.qrcode_id.as_ref(), &mut data) {
            m.insert("qrcodeId".into(), id.clone().into());
        }
        Ok(data)
    }
    .await;
    reply(lang, message, r)
}
