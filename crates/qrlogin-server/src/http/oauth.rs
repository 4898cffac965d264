//! The OAuth side of the HTTP layer (RFC 6749 and the standards around it): the error reply
//! ([`OAuthError`], also the [`OAuth`] envelope of a [`super::Ctx`]), form or JSON parameters,
//! client authentication, and the token set every token endpoint and G4 hand out.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::reply::Envelope;
use super::request::basic_credentials;
use super::AppState;
use crate::crypto::constant_time_eq;
use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::App;
use crate::sessions::Exchanged;

/// The token endpoints' envelope: the JSON object as it is on success, RFC 6749 §5.2 errors.
pub(crate) struct OAuth;

impl Envelope for OAuth {
    fn ok<T: serde::Serialize>(_: Lang, _: Option<&'static str>, data: T) -> Response {
        Json(data).into_response()
    }

    fn fail(_: Lang, e: &ApiError) -> Response {
        OAuthError::from(e.clone()).into_response()
    }
}

/// An RFC 6749 §5.2 error reply.
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// RFC 8628 `slow_down`: the interval to poll at from now on (also in the description).
    pub(crate) interval: Option<u64>,
    /// Our extension on `authorization_pending`: `pending` or `scanned` (device.rs).
    pub(crate) qrlogin_status: Option<&'static str>,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            interval: None,
            qrlogin_status: None,
        }
    }

    pub(crate) fn request(description: impl Into<String>) -> Self {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub(crate) fn client(description: impl Into<String>) -> Self {
        OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::RateLimited { retry_after_secs } => OAuthError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                format!("too many requests, try again in {retry_after_secs} s"),
            ),
            ApiError::BadRequest(d) => OAuthError::request(d),
            _ => OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal server error",
            ),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut v = json!({"error": self.error, "error_description": self.description});
        if let Value::Object(m) = &mut v {
            if let Some(i) = self.interval {
                m.insert("interval".into(), i.into());
            }
            if let Some(s) = self.qrlogin_status {
                m.insert("qrlogin_status".into(), s.into());
            }
        }
        let body = Json(v);
        let mut resp = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"qrlogin\""),
            );
        }
        resp
    }
}

/// The parameters of a form-encoded body (what the SDKs send), or of a JSON object.
pub(crate) fn params(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<HashMap<String, String>, OAuthError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        return Ok(url::form_urlencoded::parse(body).into_owned().collect());
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| OAuthError::request(format!("JSON body: {e}")))?;
    let Value::Object(m) = v else {
        return Err(OAuthError::request("the JSON body must be an object"));
    };
    Ok(m.into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            _ => None,
        })
        .collect())
}

pub(crate) fn param<'a>(p: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    p.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The authenticated client: its app and whether it showed the secret (`false` is `none`).
/// `Authorization: Basic` wins over body credentials; any other `Authorization` (the v5 SDK
/// sends its access token there once it has one) is not client authentication and is ignored.
pub(crate) async fn client(
    state: &AppState,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Result<(App, bool), OAuthError> {
    let (id, secret) = match basic_credentials(headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            param(p, "client_id").map(str::to_owned),
            param(p, "client_secret").map(str::to_owned),
        ),
    };
    let id = id.ok_or_else(|| OAuthError::client("client_id is required"))?;
    let app = match state.server.app_for(Some(&id)).await {
        Ok(app) => app,
        Err(ApiError::UnknownApp) => return Err(OAuthError::client("unknown client_id")),
        Err(e) => return Err(e.into()),
    };
    match secret.filter(|s| !s.is_empty()) {
        Some(s) if constant_time_eq(&s, &app.app_secret) => Ok((app, true)),
        Some(_) => Err(OAuthError::client("wrong client_secret")),
        None => Ok((app, false)),
    }
}

/// A token set of a session, as RFC 6749 §5.1 and Authing's v3 (`expire_in`) spell it: the
/// token endpoints, the device grant and G4 answer it alike.
pub(crate) fn token_set(ex: &Exchanged) -> Value {
    let mut v = json!({
        "access_token": ex.access.token,
        "id_token": ex.id_token,
        "token_type": "Bearer",
        "expires_in": ex.access_ttl_secs,
        "expire_in": ex.access_ttl_secs,
        "scope": "openid profile offline_access",
    });
    if let (Some(r), Value::Object(m)) = (&ex.refresh, &mut v) {
        m.insert("refresh_token".into(), r.token.clone().into());
    }
    v
}
