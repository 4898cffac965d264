//! The login history: every password sign-in (phone page or `/api/v3/signin`) and every QR
//! decision on the phone, with who, which app, the requester's device and address and the
//! approver's address. Kept [`HISTORY_KEEP`], swept with the QR sessions. Read by
//! `GET /api/v3/get-my-login-history` (as Authing's v5 SDK calls it) and `qrlogin-server audit`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::{json, Value};

use crate::errors::{ApiError, Error};
use crate::i18n::Lang;
use crate::ids;
use crate::model::{now_ms, rfc3339, Millis, QrSession, User};
use crate::server::Server;
use crate::store::auth::{HistoryQuery, LoginEvent};
use crate::tokens::bearer;
use crate::web::{fail, header_str, ok, v3_ok_message, AppState, Envelope};

/// How long the history is kept.
pub const HISTORY_KEEP: Duration = Duration::from_secs(90 * 24 * 3600);
/// Authing's page size limit for the history.
const MAX_LIMIT: i64 = 50;

/// One history line as the operator and the API see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecord {
    pub time: String,
    pub username: String,
    pub user_id: Option<String>,
    pub app_id: String,
    pub event: String,
    pub success: bool,
    pub outcome: String,
    pub requester_device: Option<String>,
    pub requester_ip: Option<String>,
    pub approver_ip: Option<String>,
}

impl From<LoginEvent> for LoginRecord {
    fn from(e: LoginEvent) -> Self {
        LoginRecord {
            time: rfc3339(e.at),
            username: e.username,
            user_id: e.user_id,
            app_id: e.app_id,
            event: e.event,
            success: e.success,
            outcome: e.outcome,
            requester_device: e.device,
            requester_ip: e.requester_ip,
            approver_ip: e.approver_ip,
        }
    }
}

impl Server {
    /// Writes one event; a failure is logged, never fails the sign-in it describes.
    async fn record(&self, e: LoginEvent) {
        if let Err(err) = self.store().insert_login_event(&e).await {
            tracing::warn!(error = %err, "recording the login history failed");
        }
    }

    pub(crate) async fn record_sign_in(
        &self,
        typed_username: &str,
        user: Option<&User>,
        app_id: &str,
        ip: Option<IpAddr>,
        outcome: &str,
    ) {
        let username = match user {
            Some(u) => u.username.clone(),
            None => typed_username.trim().chars().take(128).collect(),
        };
        self.record(LoginEvent {
            id: ids::object_id(),
            user_id: user.map(|u| u.id.clone()),
            username,
            app_id: app_id.to_owned(),
            event: "sign-in".into(),
            success: outcome == "signed-in",
            outcome: outcome.into(),
            device: None,
            requester_ip: None,
            approver_ip: ip.map(|i| i.to_string()),
            at: now_ms(),
        })
        .await;
    }

    /// A confirm or cancel on the phone (`confirm`: true for confirm), with its result.
    pub(crate) async fn record_decision(
        &self,
        s: &QrSession,
        user: &User,
        approver_ip: IpAddr,
        confirm: bool,
        result: &Result<QrSession, ApiError>,
    ) {
        let outcome = match (confirm, result) {
            (true, Ok(_)) => "authorized",
            (false, Ok(_)) => "cancelled",
            (_, Err(ApiError::Forbidden(crate::errors::Forbidden::CheckCode))) => {
                "wrong-check-code"
            }
            // Other refusals (expired, someone else's QR) changed nothing: not a login event.
            (_, Err(_)) => return,
        };
        let requester = s.requester.as_ref();
        self.record(LoginEvent {
            id: ids::object_id(),
            user_id: Some(user.id.clone()),
            username: user.username.clone(),
            app_id: s.app_id.clone(),
            event: if confirm { "qr-confirm" } else { "qr-cancel" }.into(),
            success: outcome == "authorized",
            outcome: outcome.into(),
            device: requester.and_then(|r| r.device_name.clone()),
            requester_ip: requester.and_then(|r| r.ip.clone()),
            approver_ip: Some(approver_ip.to_string()),
            at: now_ms(),
        })
        .await;
    }

    /// The history, newest first: of one user, or of everyone (`audit`).
    pub async fn login_history(
        &self,
        username: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, Error> {
        let user_id = match username {
            Some(name) => Some(
                self.store()
                    .find_user_by_username(name.trim())
                    .await?
                    .ok_or_else(|| Error::UnknownUser(name.to_owned()))?
                    .id,
            ),
            None => None,
        };
        let (_, events) = self
            .store()
            .login_history(&HistoryQuery {
                user_id,
                limit: i64::from(limit.max(1)),
                ..Default::default()
            })
            .await?;
        Ok(events.into_iter().map(LoginRecord::from).collect())
    }

    /// Deletes history older than [`HISTORY_KEEP`] and sessions that ended before `before`.
    pub(crate) async fn sweep_auth(&self, before: Millis) -> Result<u64, Error> {
        let keep = Millis::try_from(HISTORY_KEEP.as_millis()).unwrap_or(Millis::MAX);
        Ok(self
            .store()
            .purge_auth(before, now_ms().saturating_sub(keep))
            .await?)
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v3/get-my-login-history", get(get_my_login_history))
}

/// `GET /api/v3/get-my-login-history?page&limit&appId&clientIp&success&start&end` with the
/// user's token, answering Authing's `{totalCount, list: [LoginHistoryDto]}`.
async fn get_my_login_history(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_api_headers(&headers);
    match my_history(&state, &q, &headers).await {
        Ok(data) => ok(Envelope::V3, v3_ok_message(lang), data),
        Err(e) => fail(Envelope::V3, lang, &e),
    }
}

async fn my_history(
    state: &AppState,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Value, ApiError> {
    let token = header_str(headers, header::AUTHORIZATION.as_str())
        .and_then(bearer)
        .ok_or(ApiError::NotSignedIn)?;
    let user = state
        .server
        .user_for_token(token)
        .await?
        .ok_or(ApiError::NotSignedIn)?;
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
