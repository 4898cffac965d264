//! G2, "APP 扫码登录" v1 on the oauth host: `GET /qrcode/gene`, `GET /qrcode/check` (booleans plus
//! `status` 0/1/-1), the ticket exchange, and the phone's scanned/confirm/cancel.

use axum::extract::{Path, Query};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use super::{
    exchange_for_user, generate, phone_status, poll, poll_user_info, query_request,
    status_description, user_legacy, with_generate_extras, with_rotation, Params, PhoneAction,
    QUERY_EXTENSIONS,
};
use crate::errors::ApiError;
use crate::http::{limit, AppState, Code, Ctx, Reply};
use crate::model::{now_ms, Generation, Status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/qrcode/gene", get(generate_qr))
        .route("/qrcode/check", get(check))
        .route(
            "/oauth/scan-qrcode/exchangeUserInfoWithTicket",
            post(exchange),
        )
        .route("/oauth/scan-qrcode/{action}", post(phone))
}

async fn generate_qr(Query(q): Query<Params>, ctx: Ctx<Code, limit::Generate>) -> Reply<Code> {
    let r = generate_data(&ctx, &q).await;
    ctx.reply_saying(("生成二维码成功", "QR code generated"), r)
}

async fn generate_data(ctx: &Ctx<Code, limit::Generate>, q: &Params) -> Result<Value, ApiError> {
    let state = &ctx.state;
    if q.get("scene").map(String::as_str) != Some("APP_AUTH") {
        return Err(ApiError::BadRequest("scene must be APP_AUTH".into()));
    }
    if let Some(pool) = q.get("userPoolId").filter(|p| !p.is_empty()) {
        if pool != state.server.user_pool_id() {
            return Err(ApiError::BadRequest("unknown userPoolId".into()));
        }
    }
    // G2 names only the pool: its default app, unless the caller names one.
    let app = ctx.app().await?;
    // Every other query key is the caller's custom data (`userDefinedData` in the QR).
    let custom: Map<String, Value> = q
        .iter()
        .filter(|(k, _)| {
            !matches!(k.as_str(), "scene" | "userPoolId") && !QUERY_EXTENSIONS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let custom = (!custom.is_empty()).then_some(Value::Object(custom));
    let s = generate(ctx, Generation::G2, &app, query_request(q, custom)).await?;
    let data = json!({
        "qrcodeId": s.handle,
        "qrcodeUrl": state.qr_png_url(&s.scan_id),
    });
    Ok(with_generate_extras(data, &s))
}

async fn check(Query(q): Query<Params>, mut ctx: Ctx<Code, limit::Poll>) -> Reply<Code> {
    let r = check_data(&mut ctx, &q).await;
    ctx.reply_saying(("查询二维码状态成功", "QR code status"), r)
}

/// The booleans, `status` 0/1/-1, and the ticket once authorized.
async fn check_data(ctx: &mut Ctx<Code, limit::Poll>, q: &Params) -> Result<Value, ApiError> {
    let s = poll(ctx, q, "qrcodeId").await?;
    let ctx = &*ctx;
    let status = s.status_at(now_ms());
    let user_info = poll_user_info(ctx, &s, q, user_legacy).await?;
    let ticket = match status {
        Status::Authorized => s.ticket.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let data = json!({
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
        "description": status_description(status, ctx.lang),
    });
    with_rotation(&ctx.state, data, &s).await
}

async fn exchange(ctx: Ctx<Code, limit::Exchange>) -> Reply<Code> {
    let r = exchange_for_user(&ctx, user_legacy).await;
    ctx.reply_saying(("换取用户信息成功", "User info exchanged"), r)
}

async fn phone(Path(action): Path<String>, ctx: Ctx<Code, limit::Poll>) -> Reply<Code> {
    let Some((action, message)) = PhoneAction::from_path(&action) else {
        return ctx.reply(Err(ApiError::BadRequest("unknown action".into())));
    };
    let r = phone_status(&ctx, action, "qrcodeId").await;
    ctx.reply_saying(message, r)
}
