//! G3, `/api/v2/qrcode/*` (authing-js-sdk 4.x, Guard): POST gene, GET check with `status`
//! -1/0/1/2/3, POST userinfo for the ticket, and the phone's scanned/confirm/cancel.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    full_user_on_poll, generate_extras, phone_action, phone_status_number, scanner,
    status_description, GenerateExtensions, PhoneAction, PhoneBody, PollUser,
};
use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::{now_ms, Generation, Status};
use crate::ratelimit::Kind;
use crate::service::GenerateRequest;
use crate::web::{
    brief_user, exchange_auth, fail, header_str, json_body, long_poll_params, ok, user_v2,
    with_tokens, without_tokens, AppState, Envelope,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/qrcode/gene", post(generate))
        .route("/api/v2/qrcode/check", get(check))
        .route("/api/v2/qrcode/userinfo", post(exchange))
        .route("/api/v2/qrcode/{action}", post(phone))
}

fn reply(lang: Lang, message: &str, r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(data) => ok(Envelope::Code, message, data),
        Err(e) => fail(Envelope::Code, lang, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateBody {
    #[serde(default)]
    scene: Option<String>,
    /// Custom data: `params` since 2021, `customData` before (and `customeData` in the docs).
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    custom_data: Option<Value>,
    #[serde(default, rename = "customeData")]
    custome_data: Option<Value>,
    #[serde(flatten)]
    ext: GenerateExtensions,
}

async fn generate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let r = async {
        state.limit(Kind::Generate, peer.ip())?;
        let b: GenerateBody = json_body(&body)?;
        let scene = b.scene.as_deref().unwrap_or("APP_AUTH");
        if scene != "APP_AUTH" {
            return Err(ApiError::BadRequest(format!(
                "scene {scene} is not offered by this server (APP_AUTH only)"
            )));
        }
        let app = state
            .server
            .app_for(header_str(&headers, "x-authing-app-id"))
            .await?;
        let req = GenerateRequest {
            handle: None,
            code_challenge: b.ext.code_challenge,
            code_challenge_method: b.ext.code_challenge_method,
            requester: b.ext.requester,
            custom_data: b.params.or(b.custom_data).or(b.custome_data),
            ip: Some(peer.ip()),
            user_code: None,
        };
        let s = state
            .server
            .generate(Generation::G3, &app, req, &state.public_url)
            .await?;
        let mut data = json!({
            "random": s.handle,
            "url": state.qr_png_url(&s.scan_id),
            "customLogo": state.logo_url(&app),
        });
        if let Value::Object(m) = &mut data {
            m.extend(generate_extras(&s));
        }
        Ok(data)
    }
    .await;
    reply(lang, lang.pick("获取二维码成功", "QR code generated"), r)
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
    let r = async {
        state.limit(Kind::Poll, peer.ip())?;
        let random = q
            .get("random")
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .ok_or(ApiError::QrNotFound)?;
        let (wait, known) = long_poll_params(&q);
        let s = state.long_poll(peer.ip(), random, wait, known).await?;
        let status = s.status_at(now_ms());
        let full = full_user_on_poll(
            &state,
            &s,
            peer.ip(),
            q.get("codeVerifier").map(String::as_str),
        )
        .await?;
        let user_info = match &full {
            Some(PollUser::Delivered(ex)) => with_tokens(
                user_v2(&state, &ex.user, &ex.access.token, ex.access.expires_at),
                ex,
            ),
            Some(PollUser::Already(user)) => without_tokens(user_v2(&state, user, "", 0)),
            None => match scanner(&state, &s).await? {
                Some(user) => brief_user(&state, &user),
                None => json!({}),
            },
        };
        let authorized = status == Status::Authorized;
        let mut data = json!({
            "random": s.handle,
            "status": match status {
                Status::Pending => 0,
                Status::Scanned => 1,
                Status::Authorized => 2,
                Status::Cancelled => 3,
                Status::Expired => -1,
            },
            "userInfo": user_info,
            "ticket": if authorized { s.ticket.clone() } else { None },
            // The scanner's id is part of the user: shown only once the user agreed.
            "scannedUserId": if authorized { s.scanned_by.clone() } else { None },
            "description": status_description(status, lang),
        });
        if let Value::Object(m) = &mut data {
            m.extend(state.rotation_fields(&s).await?);
        }
        Ok(data)
    }
    .await;
    reply(lang, lang.pick("查询二维码状态成功！", "QR code status"), r)
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
            user_v2(&state, &ex.user, &ex.access.token, ex.access.expires_at),
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
        _ => return fail(Envelope::Code, lang, &ApiError::QrNotFound),
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
        if let (Some(id), Value::Object(m)) = (b.random.as_ref(), &mut data) {
            m.insert("random".into(), id.clone().into());
        }
        Ok(data)
    }
    .await;
    reply(lang, message, r)
}
