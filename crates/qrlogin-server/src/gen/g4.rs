//! G4, the V3 authentication API (`/api/v3/*`, v5 SDKs): gene-qrcode, get/check-qrcode-status
//! with string statuses, the token-set exchange, set/change-qrcode-status on the phone, and the
//! password sign-in and profile that the phone and the desktop use.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    full_user_on_poll, generate_extras, phone_action, scanner, GenerateExtensions, PhoneAction,
    PhoneBody, PollUser,
};
use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::{now_ms, Generation, Status};
use crate::ratelimit::Kind;
use crate::service::{Exchanged, GenerateRequest};
use crate::sessions::NewSession;
use crate::store::auth::SessionKind;
use crate::tokens::bearer;
use crate::web::{
    exchange_auth, fail, header_str, json_body, long_poll_params, ok, profile, token_set,
    v3_ok_message, AppState, Envelope,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v3/gene-qrcode", post(generate))
        .route("/api/v3/get-qrcode-status", get(status))
        .route("/api/v3/check-qrcode-status", get(status))
        .route(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            post(exchange),
        )
        .route("/api/v3/set-qrcode-status", post(set_status))
        .route("/api/v3/change-qrcode-status", post(change_status))
        .route("/api/v3/signin", post(sign_in))
        .route("/api/v3/get-profile", get(get_profile))
}

fn reply(lang: Lang, r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(data) => ok(Envelope::V3, v3_ok_message(lang), data),
        Err(e) => fail(Envelope::V3, lang, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateBody {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    custom_data: Option<Value>,
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
        match b.kind.as_deref() {
            Some("MOBILE_APP") => {}
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "type {other} is not offered by this server (MOBILE_APP only)"
                )))
            }
            None => return Err(ApiError::BadRequest("type is required".into())),
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
            custom_data: b.custom_data,
            ip: Some(peer.ip()),
            user_code: None,
        };
        let s = state
            .server
            .generate(Generation::G4, &app, req, &state.public_url)
            .await?;
        let mut data = json!({
            "qrcodeId": s.handle,
            "url": state.qr_png_url(&s.scan_id),
            "customLogoUrl": state.logo_url(&app),
        });
        if let Value::Object(m) = &mut data {
            m.extend(generate_extras(&s));
        }
        Ok(data)
    }
    .await;
    reply(lang, r)
}

async fn status(
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
        let id = q
            .get("qrcodeId")
            .map(|i| i.trim())
            .filter(|i| !i.is_empty())
            .ok_or(ApiError::QrNotFound)?;
        let (wait, known) = long_poll_params(&q);
        let s = state.long_poll(peer.ip(), id, wait, known).await?;
        let status = s.status_at(now_ms());
        let mut data = json!({
            "status": match status {
                Status::Pending => "PENDING",
                Status::Scanned => "SCANNED",
                Status::Authorized => "AUTHORIZED",
                Status::Cancelled => "CANCELLED",
                Status::Expired => "EXPIRED",
            },
        });
        let Value::Object(m) = &mut data else {
            return Err(ApiError::Internal);
        };
        m.extend(state.rotation_fields(&s).await?);
        if matches!(
            status,
            Status::Scanned | Status::Authorized | Status::Cancelled
        ) {
            if let Some(user) = scanner(&state, &s).await? {
                m.insert(
                    "briefUserInfo".into(),
                    json!({"displayName": user.display_name(), "photo": state.photo_of(&user)}),
                );
            }
        }
        if status == Status::Authorized {
            match full_user_on_poll(
                &state,
                &s,
                peer.ip(),
                q.get("codeVerifier").map(String::as_str),
            )
            .await?
            {
                Some(PollUser::Delivered(ex)) => {
                    m.insert("tokenSet".into(), token_set(&ex));
                }
                // Delivered once: a later poll shows the status and who, nothing to spend.
                Some(PollUser::Already(_)) => {}
                None => {
                    m.insert("ticket".into(), s.ticket.clone().into());
                }
            }
        }
        Ok(data)
    }
    .await;
    reply(lang, r)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeBody {
    #[serde(default)]
    ticket: String,
    #[serde(default, rename = "client_id")]
    client_id: Option<String>,
    #[serde(default, rename = "client_secret")]
    client_secret: Option<String>,
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
        let mut auth = exchange_auth(&headers, b.code_verifier);
        // client_secret_post: the credentials travel in the body.
        if let (Some(id), Some(secret)) = (b.client_id, b.client_secret) {
            if !secret.is_empty() {
                auth.client = Some((id, secret));
            }
        }
        let ex: Exchanged = state
            .server
            .exchange(&b.ticket, &auth, Some(peer.ip()), &state.public_url)
            .await?;
        Ok(token_set(&ex))
    }
    .await;
    reply(lang, r)
}

async fn phone(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), ApiError> {
    let b: PhoneBody = json_body(body)?;
    let action = b
        .action
        .as_deref()
        .and_then(PhoneAction::parse)
        .ok_or_else(|| ApiError::BadRequest("action must be SCAN, CONFIRM or CANCEL".into()))?;
    phone_action(
        state,
        headers,
        peer.ip(),
        b.id(),
        action,
        b.check_code.as_deref(),
    )
    .await
    .map(|_| ())
}

async fn set_status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let r = phone(&state, peer, &headers, &body)
        .await
        .map(|()| json!({"success": true}));
    reply(lang, r)
}

/// The deprecated form answers without `data` (Authing's `CommonResponseDto`).
async fn change_status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    match phone(&state, peer, &headers, &body).await {
        Ok(()) => Json(json!({
            "statusCode": 200,
            "message": v3_ok_message(lang),
            "requestId": crate::ids::object_id(),
        }))
        .into_response(),
        Err(e) => fail(Envelope::V3, lang, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInBody {
    #[serde(default)]
    connection: Option<String>,
    #[serde(default)]
    password_payload: Option<PasswordPayload>,
}

#[derive(Debug, Default, Deserialize)]
struct PasswordPayload {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let r = async {
        state.limit(Kind::SignIn, peer.ip())?;
        let b: SignInBody = json_body(&body)?;
        if b.connection.as_deref() != Some("PASSWORD") {
            return Err(ApiError::BadRequest("connection must be PASSWORD".into()));
        }
        let p = b
            .password_payload
            .ok_or_else(|| ApiError::BadRequest("passwordPayload is required".into()))?;
        let username = p.username.or(p.account).unwrap_or_default();
        let app = state
            .server
            .app_for(header_str(&headers, "x-authing-app-id"))
            .await?;
        let user = state
            .server
            .sign_in(&username, &p.password, &app.app_id, Some(peer.ip()))
            .await?;
        // A password sign-in is a phone-side (approver) session, with a refresh token.
        let new = NewSession {
            user: &user,
            app_id: &app.app_id,
            kind: SessionKind::Approver,
            public_client: true,
            access_ttl_secs: i64::from(app.access_ttl_secs),
            with_refresh: true,
            device: None,
            ip: Some(peer.ip()),
        };
        let ex = state.server.open_session(new, &state.public_url).await?;
        Ok(token_set(&ex))
    }
    .await;
    reply(lang, r)
}

async fn get_profile(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::from_api_headers(&headers);
    let r = async {
        let token = header_str(&headers, header::AUTHORIZATION.as_str())
            .and_then(bearer)
            .ok_or(ApiError::NotSignedIn)?;
        let user = state
            .server
            .user_for_token(token)
            .await?
            .ok_or(ApiError::NotSignedIn)?;
        Ok(profile(&state, &user))
    }
    .await;
    reply(lang, r)
}
