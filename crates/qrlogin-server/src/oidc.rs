//! The standard token endpoints at the paths Authing's v5 SDKs call, under `/oidc/` and `/oauth/`:
//! token (`grant_type=refresh_token`), revocation (RFC 7009) and introspection (RFC 7662), with
//! the RFC 8628 device-code grant (device.rs), with client authentication `client_secret_post`, `client_secret_basic` or `none`, and their
//! discovery document `/.well-known/openid-configuration`. Errors are RFC 6749 JSON.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::model::{now_ms, App};
use crate::ratelimit::Kind;
use crate::service::constant_time_eq;
use crate::sessions::{token_hash, Exchanged, RefreshError};
use crate::web::{basic_credentials, AppState};

const TOKEN_AUTH_METHODS: [&str; 3] = ["client_secret_post", "client_secret_basic", "none"];

pub fn router() -> Router<AppState> {
    let mut r = Router::new().route("/.well-known/openid-configuration", get(discovery));
    for base in ["/oidc", "/oauth"] {
        r = r
            .route(&format!("{base}/token"), post(token))
            .route(&format!("{base}/token/revocation"), post(revocation))
            .route(&format!("{base}/token/introspection"), post(introspection));
    }
    r
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

/// A token set of a session, as RFC 6749 §5.1 and Authing's v3 (`expire_in`) spell it.
pub(crate) fn oauth_token_set(ex: &Exchanged) -> Value {
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

async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_reply(&state, peer, &headers, &body).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn token_reply(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, OAuthError> {
    state.limit(Kind::Exchange, peer.ip())?;
    let p = params(headers, body)?;
    match param(&p, "grant_type") {
        Some("refresh_token") => {}
        Some(crate::device::GRANT_TYPE) => {
            return crate::device::token(state, peer, headers, &p).await;
        }
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant_type {other} is not offered here (refresh_token and device_code only)"
                ),
            ))
        }
        None => return Err(OAuthError::request("grant_type is required")),
    }
    let refresh = param(&p, "refresh_token")
        .ok_or_else(|| OAuthError::request("refresh_token is required"))?
        .to_owned();
    let (app, secret_ok) = client(state, headers, &p).await?;
    match state
        .server
        .refresh_session(&refresh, &app, secret_ok, &state.public_url)
        .await
    {
        Ok(ex) => Ok(oauth_token_set(&ex)),
        Err(RefreshError::Grant(why)) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            why,
        )),
        Err(RefreshError::Client) => Err(OAuthError::client(
            "this session was made with the app secret: refresh needs it too",
        )),
        Err(RefreshError::Api(e)) => Err(e.into()),
    }
}

/// RFC 7009: 200 whatever the token (unknown, expired, another client's); revoking any token
/// of a session ends the whole session.
async fn revocation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = async {
        state.limit(Kind::Exchange, peer.ip())?;
        let p = params(&headers, &body)?;
        let token = param(&p, "token")
            .ok_or_else(|| OAuthError::request("token is required"))?
            .to_owned();
        let (app, _) = client(&state, &headers, &p).await?;
        let Some(sid) = state.server.sid_of_any_token(&token).await? else {
            return Ok(());
        };
        match state.server.store().get_auth_session(&sid).await {
            Ok(Some(s)) if s.app_id == app.app_id => {
                state.server.end_session(&s.id).await?;
            }
            Ok(_) => {}
            Err(e) => return Err(ApiError::from(e).into()),
        }
        Ok::<(), OAuthError>(())
    }
    .await;
    match r {
        Ok(()) => (StatusCode::OK, Json(json!({}))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn introspection(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match introspect(&state, peer, &headers, &body).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// RFC 7662: `{active: false}` for anything that is not a live token of this client's sessions.
async fn introspect(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, OAuthError> {
    state.limit(Kind::Poll, peer.ip())?;
    let p = params(headers, body)?;
    let token = param(&p, "token")
        .ok_or_else(|| OAuthError::request("token is required"))?
        .to_owned();
    let (app, secret_ok) = client(state, headers, &p).await?;
    let inactive = json!({"active": false});
    let server = &state.server;
    let now = now_ms();
    // An access (or id) token: signature and expiry, then its session.
    let (sid, token_type, exp, iat) = match server.verify_token(&token) {
        Some(c) => match c.sid {
            Some(sid) => (sid, "access_token", c.exp, Some(c.iat)),
            None => return Ok(inactive),
        },
        None => match server.store().refresh_token(&token_hash(&token)).await {
            Ok(Some(r)) if r.spent_at.is_none() && r.expires_at > now => {
                (r.session_id, "refresh_token", r.expires_at / 1000, None)
            }
            Ok(_) => return Ok(inactive),
            Err(e) => return Err(ApiError::from(e).into()),
        },
    };
    let live = server
        .store()
        .live_auth_session(&sid, now)
        .await
        .map_err(ApiError::from)?;
    let Some((session, user)) = live.filter(|(s, _)| s.app_id == app.app_id) else {
        return Ok(inactive);
    };
    // `none` reads only what a public client may: its own sessions, or any of an app that
    // lets clients exchange without the secret.
    if !secret_ok && !session.public_client && !app.allow_client_exchange {
        return Err(OAuthError::client(
            "introspection of this app's tokens needs the app secret",
        ));
    }
    let mut v = json!({
        "active": true,
        "sub": user.id,
        "username": user.username,
        "client_id": app.app_id,
        "aud": app.app_id,
        "iss": state.public_url.as_ref(),
        "exp": exp,
        "sid": session.id,
        "token_type": token_type,
        "scope": "openid profile offline_access",
    });
    if let (Some(iat), Value::Object(m)) = (iat, &mut v) {
        m.insert("iat".into(), iat.into());
    }
    Ok(v)
}

async fn discovery(State(state): State<AppState>) -> Response {
    let base = state.public_url.as_ref();
    Json(json!({
        "issuer": base,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "token_endpoint": format!("{base}/oidc/token"),
        "revocation_endpoint": format!("{base}/oidc/token/revocation"),
        "introspection_endpoint": format!("{base}/oidc/token/introspection"),
        "device_authorization_endpoint": format!("{base}/oidc/device_authorization"),
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "grant_types_supported": ["refresh_token", crate::device::GRANT_TYPE],
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "scopes_supported": ["openid", "profile", "offline_access"],
    }))
    .into_response()
}
