//! The login history: every password sign-in (phone page or `/api/v3/signin`) and every QR
//! decision on the phone, with who, which app, the requester's device and address and the
//! approver's address. Kept [`HISTORY_KEEP`], swept with the QR sessions. Read by
//! `GET /api/v3/get-my-login-history` (gen/history.rs) and `qrlogin-server audit`.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::errors::{ApiError, Error, Forbidden};
use crate::ids;
use crate::model::{now_ms, rfc3339, Millis, QrSession, User};
use crate::server::Server;
use crate::store::auth::{HistoryQuery, LoginEvent};

/// How long the history is kept.
pub const HISTORY_KEEP: Duration = Duration::from_secs(90 * 24 * 3600);

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
            (_, Err(ApiError::Forbidden(Forbidden::CheckCode))) => "wrong-check-code",
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
