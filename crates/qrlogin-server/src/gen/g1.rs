//! G1, the legacy mini-program scan: `GET /oauth/wxapp/qrcode/{appId}?random=` and the poll
//! `POST /oauth/wxapp/confirm/qr?random=`, whose inner `code == 200` carries the user and token.
//! G1 has no exchange, so the authorized poll is the exchange: single use, PKCE or secret bound.

use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use super::{
    brief_user, generate, poll, query_request, scanner, status_description, user_legacy,
    with_generate_extras, with_rotation, with_tokens, Params,
};
use crate::errors::ApiError;
use crate::http::{limit, AppState, Code, Ctx, Envelope, Reply};
use crate::i18n::Lang;
use crate::model::{now_ms, rfc3339, Generation, QrSession, Status};
use crate::ratelimit::Kind;
use crate::service::GenerateRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/wxapp/qrcode/{app_id}", get(generate_qr))
        .route("/oauth/wxapp/confirm/qr", post(check))
}

/// G1's poll envelope: its own `{code, message, data, redirect}` inside an outer
/// `{code: 200, data}`, refusals too; only a rate limit answers as [`Code`] does.
struct PollEnvelope;

impl Envelope for PollEnvelope {
    fn ok<T: Serialize>(_: Lang, _: Option<&'static str>, inner: T) -> Response {
        #[derive(Serialize)]
        struct Outer<T> {
            code: u16,
            data: T,
        }
        Json(Outer {
            code: 200,
            data: inner,
        })
        .into_response()
    }

    fn fail(lang: Lang, e: &ApiError) -> Response {
        if let ApiError::RateLimited { .. } = e {
            return Code::fail(lang, e);
        }
        let inner = json!({
            "code": e.code(),
            "message": e.message(lang),
            "data": null,
            "redirect": null,
        });
        Self::ok(lang, None, inner)
    }
}

async fn generate_qr(
    Path(app_id): Path<String>,
    Query(q): Query<Params>,
    ctx: Ctx<Code, limit::Generate>,
) -> Reply<Code> {
    let r = generate_data(&ctx, &app_id, &q).await;
    ctx.reply_saying(("获取二维码成功", "QR code generated"), r)
}

async fn generate_data(
    ctx: &Ctx<Code, limit::Generate>,
    app_id: &str,
    q: &Params,
) -> Result<Value, ApiError> {
    let state = &ctx.state;
    let app = state.server.app_for(Some(app_id)).await?;
    // G1 has no custom data; the session keeps the SDK's `enableFetchPhone` there.
    let custom = fetch_phone_requested(q).then(|| json!({ FETCH_PHONE: true }));
    let req = query_request(q, custom);
    // The SDK makes `random`; a variant SDK omits it and reads ours back.
    let handle = q.get("random").cloned().filter(|r| !r.is_empty());
    let req = GenerateRequest { handle, ..req };
    let s = generate(ctx, Generation::G1, &app, req).await?;
    let data = json!({
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
    Ok(with_generate_extras(data, &s))
}

async fn check(
    Query(q): Query<Params>,
    mut ctx: Ctx<PollEnvelope, limit::Poll>,
) -> Reply<PollEnvelope> {
    let r = check_inner(&mut ctx, &q).await;
    ctx.reply(r)
}

/// The inner `{code, message, data, redirect}`; we add `status` (canonical name) so that a
/// client of our server can tell scanned, cancelled and expired apart.
async fn check_inner(
    ctx: &mut Ctx<PollEnvelope, limit::Poll>,
    q: &Params,
) -> Result<Value, ApiError> {
    let s = poll(ctx, q, "random").await?;
    let state = &ctx.state;
    let status = s.status_at(now_ms());
    let app = state.server.session_app(&s).await?;
    let lang = ctx.lang;
    if status == Status::Authorized {
        state.limit(Kind::Exchange, ctx.ip)?;
        let auth = ctx.exchange_auth(q.get("codeVerifier").cloned());
        let ex = state
            .server
            .redeem(&s, &auth, Some(ctx.ip), &state.public_url)
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
    let inner = json!({
        "code": code,
        "message": status_description(status, lang),
        "data": data,
        "redirect": null,
        "status": status.as_str(),
    });
    with_rotation(state, inner, &s).await
}

/// The session's record of the generate request's `enableFetchPhone=true`.
const FETCH_PHONE: &str = "enableFetchPhone";

fn fetch_phone_requested(q: &Params) -> bool {
    q.get(FETCH_PHONE)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn fetches_phone(s: &QrSession) -> bool {
    s.custom_data
        .as_ref()
        .and_then(|c| c.get(FETCH_PHONE))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}
