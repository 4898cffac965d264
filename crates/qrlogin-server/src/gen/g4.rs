//! G4, the V3 authentication API (`/api/v3/*`, v5 SDKs): gene-qrcode, get/check-qrcode-status
//! with string statuses, the token-set exchange, set/change-qrcode-status on the phone, and the
//! password sign-in and profile that the phone and the desktop use.

use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    full_user_on_poll, generate, phone_action, poll, scanner, with_generate_extras,
    GenerateExtensions, Params, PhoneAction, PhoneBody, PollUser,
};
use crate::errors::ApiError;
use crate::http::auth::token_user;
use crate::http::oauth::token_set;
use crate::http::reply::v3_ok_message;
use crate::http::{limit, AppState, Ctx, Envelope, Reply, V3};
use crate::i18n::Lang;
use crate::ids;
use crate::model::{now_ms, rfc3339, Generation, Status, User};
use crate::sessions::NewSession;
use crate::store::auth::SessionKind;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v3/gene-qrcode", post(generate_qr))
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

async fn generate_qr(ctx: Ctx<V3, limit::Generate>) -> Reply<V3> {
    ctx.reply(generate_data(&ctx).await)
}

async fn generate_data(ctx: &Ctx<V3, limit::Generate>) -> Result<Value, ApiError> {
    let b: GenerateBody = ctx.json()?;
    match b.kind.as_deref() {
        Some("MOBILE_APP") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "type {other} is not offered by this server (MOBILE_APP only)"
            )))
        }
        None => return Err(ApiError::BadRequest("type is required".into())),
    }
    let app = ctx.app().await?;
    let s = generate(ctx, Generation::G4, &app, b.ext.request(b.custom_data)).await?;
    let state = &ctx.state;
    let data = json!({
        "qrcodeId": s.handle,
        "url": state.qr_png_url(&s.scan_id),
        "customLogoUrl": state.logo_url(&app),
    });
    Ok(with_generate_extras(data, &s))
}

async fn status(Query(q): Query<Params>, mut ctx: Ctx<V3, limit::Poll>) -> Reply<V3> {
    let r = status_data(&mut ctx, &q).await;
    ctx.reply(r)
}

/// `status` as a word, who scanned, and once authorized the token set or the ticket.
async fn status_data(ctx: &mut Ctx<V3, limit::Poll>, q: &Params) -> Result<Value, ApiError> {
    let s = poll(ctx, q, "qrcodeId").await?;
    let ctx = &*ctx;
    let state = &ctx.state;
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
        if let Some(user) = scanner(state, &s).await? {
            m.insert(
                "briefUserInfo".into(),
                json!({"displayName": user.display_name(), "photo": state.photo_of(&user)}),
            );
        }
    }
    if status == Status::Authorized {
        match full_user_on_poll(ctx, &s, q).await? {
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

async fn exchange(ctx: Ctx<V3, limit::Exchange>) -> Reply<V3> {
    ctx.reply(exchange_data(&ctx).await)
}

async fn exchange_data(ctx: &Ctx<V3, limit::Exchange>) -> Result<Value, ApiError> {
    let b: ExchangeBody = ctx.json()?;
    let mut auth = ctx.exchange_auth(b.code_verifier);
    // client_secret_post: the credentials travel in the body.
    if let (Some(id), Some(secret)) = (b.client_id, b.client_secret) {
        if !secret.is_empty() {
            auth.client = Some((id, secret));
        }
    }
    let state = &ctx.state;
    let ex = state
        .server
        .exchange(&b.ticket, &auth, Some(ctx.ip), &state.public_url)
        .await?;
    Ok(token_set(&ex))
}

/// The phone's scan, confirm or cancel of either status endpoint (`action` in the body).
async fn phone<E: Envelope>(ctx: &Ctx<E, limit::Poll>) -> Result<(), ApiError> {
    let b: PhoneBody = ctx.json()?;
    let action = b
        .action
        .as_deref()
        .and_then(PhoneAction::parse)
        .ok_or_else(|| ApiError::BadRequest("action must be SCAN, CONFIRM or CANCEL".into()))?;
    phone_action(ctx, &b, action).await.map(|_| ())
}

async fn set_status(ctx: Ctx<V3, limit::Poll>) -> Reply<V3> {
    let r = phone(&ctx).await.map(|()| json!({"success": true}));
    ctx.reply(r)
}

/// The deprecated form answers without `data` (Authing's `CommonResponseDto`).
struct NoData;

impl Envelope for NoData {
    fn ok<T: Serialize>(lang: Lang, _: Option<&'static str>, _: T) -> Response {
        Json(json!({
            "statusCode": 200,
            "message": v3_ok_message(lang),
            "requestId": ids::object_id(),
        }))
        .into_response()
    }

    fn fail(lang: Lang, e: &ApiError) -> Response {
        V3::fail(lang, e)
    }
}

async fn change_status(ctx: Ctx<NoData, limit::Poll>) -> Reply<NoData> {
    ctx.reply(phone(&ctx).await.map(|()| Value::Null))
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

async fn sign_in(ctx: Ctx<V3, limit::SignIn>) -> Reply<V3> {
    ctx.reply(sign_in_data(&ctx).await)
}

async fn sign_in_data(ctx: &Ctx<V3, limit::SignIn>) -> Result<Value, ApiError> {
    let b: SignInBody = ctx.json()?;
    if b.connection.as_deref() != Some("PASSWORD") {
        return Err(ApiError::BadRequest("connection must be PASSWORD".into()));
    }
    let p = b
        .password_payload
        .ok_or_else(|| ApiError::BadRequest("passwordPayload is required".into()))?;
    let username = p.username.or(p.account).unwrap_or_default();
    let app = ctx.app().await?;
    let state = &ctx.state;
    let user = state
        .server
        .sign_in(&username, &p.password, &app.app_id, Some(ctx.ip))
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
        ip: Some(ctx.ip),
    };
    let ex = state.server.open_session(new, &state.public_url).await?;
    Ok(token_set(&ex))
}

async fn get_profile(ctx: Ctx<V3>) -> Reply<V3> {
    let r = token_user(&ctx.state, &ctx.headers).await;
    ctx.reply(r.map(|user| profile(&ctx.state, &user)))
}

/// The profile of contracts.md §1 (`get-profile` data), plus v5's `userId`.
fn profile(state: &AppState, user: &User) -> Value {
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
