//! G4's `GET /api/v3/get-my-login-history?page&limit&appId&clientIp&success&start&end`, as
//! Authing's v5 SDK calls it with the user's token: `{totalCount, list: [LoginHistoryDto]}` of
//! the login history (history.rs).

use axum::extract::Query;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::Params;
use crate::errors::ApiError;
use crate::http::auth::token_user;
use crate::http::{AppState, Ctx, Reply, V3};
use crate::model::rfc3339;
use crate::store::auth::HistoryQuery;

/// Authing's page size limit for the history.
const MAX_LIMIT: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v3/get-my-login-history", get(get_my_login_history))
}

async fn get_my_login_history(Query(q): Query<Params>, ctx: Ctx<V3>) -> Reply<V3> {
    ctx.reply(my_history(&ctx, &q).await)
}

async fn my_history(ctx: &Ctx<V3>, q: &Params) -> Result<Value, ApiError> {
    let state = &ctx.state;
    let user = token_user(state, &ctx.headers).await?;
    let num = |k: &str| -> Result<Option<i64>, ApiError> {
        match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::BadRequest(format!("{k} must be a number"))),
        }
    };
    let page = num("page")?.unwrap_or(1).max(1);
    let limit = num("limit")?.unwrap_or(10).clamp(1, MAX_LIMIT);
    let success = match q.get("success").map(|v| v.trim()) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::BadRequest("success must be true or false".into())),
    };
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let query = HistoryQuery {
        user_id: Some(user.id.clone()),
        app_id: text("appId"),
        client_ip: text("clientIp"),
        success,
        start: num("start")?,
        end: num("end")?,
        offset: (page - 1).saturating_mul(limit),
        limit,
    };
    let (total, events) = state.server.store().login_history(&query).await?;
    let apps = state.server.store().list_apps().await?;
    let list: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let app_name = apps
                .iter()
                .find(|a| a.app_id == e.app_id)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            json!({
                "userId": e.user_id,
                "appId": e.app_id,
                "appName": app_name,
                "appLoginUrl": "",
                "appLogo": "",
                "loginAt": rfc3339(e.at),
                // The address of the computer that got signed in, or of the phone that signed in.
                "clientIp": e.requester_ip.clone().or(e.approver_ip.clone()).unwrap_or_default(),
                "success": e.success,
                "errorMessage": (!e.success).then(|| e.outcome.clone()),
                "userAgent": "",
                "parsedUserAgent": {},
                "loginMethod": if e.event == "sign-in" { "PASSWORD" } else { "QRCODE" },
                "geoip": {},
                // Ours, beside Authing's fields.
                "event": e.event,
                "outcome": e.outcome,
                "requesterDevice": e.device,
                "requesterIp": e.requester_ip,
                "approverIp": e.approver_ip,
            })
        })
        .collect();
    Ok(json!({"totalCount": total, "list": list}))
}
