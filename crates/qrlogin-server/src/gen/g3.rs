//! G3, `/api/v2/qrcode/*` (authing-js-sdk 4.x, Guard): POST gene, GET check with `status`
//! -1/0/1/2/3, POST userinfo for the ticket, and the phone's scanned/confirm/cancel.

use axum::extract::{Path, Query};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    exchange_for_user, generate, phone_status, poll, poll_user_info, status_description,
    user_legacy, with_generate_extras, GenerateExtensions, Params, PhoneAction,
};
use crate::errors::ApiError;
use crate::http::{limit, AppState, Code, Ctx, Reply};
use crate::model::{now_ms, Generation, Status, User};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/qrcode/gene", post(generate_qr))
        .route("/api/v2/qrcode/check", get(check))
        .route("/api/v2/qrcode/userinfo", post(exchange))
        .route("/api/v2/qrcode/{action}", post(phone))
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

async fn generate_qr(ctx: Ctx<Code, limit::Generate>) -> Reply<Code> {
    let r = generate_data(&ctx).await;
    ctx.reply_saying(("获取二维码成功", "QR code generated"), r)
}

async fn generate_data(ctx: &Ctx<Code, limit::Generate>) -> Result<Value, ApiError> {
    let b: GenerateBody = ctx.json()?;
    let scene = b.scene.as_deref().unwrap_or("APP_AUTH");
    if scene != "APP_AUTH" {
        return Err(ApiError::BadRequest(format!(
            "scene {scene} is not offered by this server (APP_AUTH only)"
        )));
    }
    let app = ctx.app().await?;
    let custom = b.params.or(b.custom_data).or(b.custome_data);
    let s = generate(ctx, Generation::G3, &app, b.ext.request(custom)).await?;
    let state = &ctx.state;
    let data = json!({
        "random": s.handle,
        "url": state.qr_png_url(&s.scan_id),
        "customLogo": state.logo_url(&app),
    });
    Ok(with_generate_extras(data, &s))
}

async fn check(Query(q): Query<Params>, mut ctx: Ctx<Code, limit::Poll>) -> Reply<Code, CheckData> {
    let r = check_data(&mut ctx, &q).await;
    ctx.reply_saying(("查询二维码状态成功！", "QR code status"), r)
}

/// The poll reply's `data`, the hottest reply of the server: written straight from this struct
/// (fields in name order, as a JSON object of ours prints them) instead of a `Value` tree.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckData {
    description: &'static str,
    /// A rotating QR's current code (contracts.md §1), when it turned since the generate.
    #[serde(skip_serializing_if = "Option::is_none")]
    qr_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qr_image: Option<String>,
    random: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scan_id: Option<String>,
    /// The scanner's id is part of the user: shown only once the user agreed.
    scanned_user_id: Option<String>,
    status: i8,
    ticket: Option<String>,
    user_info: Value,
}

/// `status` -1 expired, 0 waiting, 1 scanned, 2 authorized (with the ticket), 3 cancelled.
async fn check_data(ctx: &mut Ctx<Code, limit::Poll>, q: &Params) -> Result<CheckData, ApiError> {
    let s = poll(ctx, q, "random").await?;
    let ctx = &*ctx;
    let status = s.status_at(now_ms());
    let user_info = poll_user_info(ctx, &s, q, user_v2).await?;
    let authorized = status == Status::Authorized;
    let state = &ctx.state;
    let rotated = state.server.rotated_qr(&s, &state.public_url).await?;
    let (qr_content, scan_id) = rotated.unzip();
    Ok(CheckData {
        description: status_description(status, ctx.lang),
        qr_image: scan_id.as_deref().map(|id| state.qr_png_url(id)),
        qr_content,
        random: s.handle.clone(),
        scan_id,
        scanned_user_id: if authorized {
            s.scanned_by.clone()
        } else {
            None
        },
        status: match status {
            Status::Pending => 0,
            Status::Scanned => 1,
            Status::Authorized => 2,
            Status::Cancelled => 3,
            Status::Expired => -1,
        },
        ticket: if authorized { s.ticket.clone() } else { None },
        user_info,
    })
}

async fn exchange(ctx: Ctx<Code, limit::Exchange>) -> Reply<Code> {
    let r = exchange_for_user(&ctx, user_v2).await;
    ctx.reply_saying(("换取用户信息成功", "User info exchanged"), r)
}

async fn phone(Path(action): Path<String>, ctx: Ctx<Code, limit::Poll>) -> Reply<Code> {
    let Some((action, message)) = PhoneAction::from_path(&action) else {
        return ctx.reply(Err(ApiError::QrNotFound));
    };
    let r = phone_status(&ctx, action, "random").await;
    ctx.reply_saying(message, r)
}

/// G3's user object: G2's without `_id` and `browser`, and `lastIp` for `lastIP`.
fn user_v2(state: &AppState, user: &User, token: &str, token_expires_at: i64) -> Value {
    let mut v = user_legacy(state, user, token, token_expires_at);
    if let Value::Object(m) = &mut v {
        m.remove("_id");
        m.remove("browser");
        if let Some(ip) = m.remove("lastIP") {
            m.insert("lastIp".into(), ip);
        }
    }
    v
}
