//! The standard token endpoints at the paths Authing's v5 SDKs call, under `/oidc/` and `/oauth/`:
//! token (`grant_type=refresh_token`), revocation (RFC 7009) and introspection (RFC 7662), with
//! the RFC 8628 device-code grant (device.rs), with client authentication `client_secret_post`,
//! `client_secret_basic` or `none`, and their discovery document
//! `/.well-known/openid-configuration`. Errors are RFC 6749 JSON (http/oauth.rs).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::crypto::token_hash;
use crate::errors::ApiError;
use crate::http::oauth::{client, param, params, token_set, OAuth, OAuthError};
use crate::http::{limit, AppState, Ctx};
use crate::model::now_ms;
use crate::sessions::RefreshError;

const TOKEN_AUTH_METHODS: [&str; 3] = ["client_secret_post", "client_secret_basic", "none"];

/// A token endpoint's answer: the JSON object, or an RFC 6749 error.
type OAuthReply = Result<Json<Value>, OAuthError>;

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

async fn token(mut ctx: Ctx<OAuth, limit::Exchange>) -> OAuthReply {
    let p = params(&ctx.headers, ctx.body())?;
    match param(&p, "grant_type") {
        Some("refresh_token") => {}
        Some(crate::device::GRANT_TYPE) => {
            return crate::device::token(&mut ctx, &p).await.map(Json);
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
    let state = &ctx.state;
    let (app, secret_ok) = client(state, &ctx.headers, &p).await?;
    match state
        .server
        .refresh_session(&refresh, &app, secret_ok, &state.public_url)
        .await
    {
        Ok(ex) => Ok(Json(token_set(&ex))),
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
async fn revocation(ctx: Ctx<OAuth, limit::Exchange>) -> OAuthReply {
    let p = params(&ctx.headers, ctx.body())?;
    let token = param(&p, "token")
        .ok_or_else(|| OAuthError::request("token is required"))?
        .to_owned();
    let state = &ctx.state;
    let (app, _) = client(state, &ctx.headers, &p).await?;
    let Some(sid) = state.server.sid_of_any_token(&token).await? else {
        return Ok(Json(json!({})));
    };
    match state.server.store().get_auth_session(&sid).await {
        Ok(Some(s)) if s.app_id == app.app_id => {
            state.server.end_session(&s.id).await?;
        }
        Ok(_) => {}
        Err(e) => return Err(ApiError::from(e).into()),
    }
    Ok(Json(json!({})))
}

/// RFC 7662: `{active: false}` for anything that is not a live token of this client's sessions.
async fn introspection(ctx: Ctx<OAuth, limit::Poll>) -> OAuthReply {
    let p = params(&ctx.headers, ctx.body())?;
    let token = param(&p, "token")
        .ok_or_else(|| OAuthError::request("token is required"))?
        .to_owned();
    let state = &ctx.state;
    let (app, secret_ok) = client(state, &ctx.headers, &p).await?;
    let inactive = Ok(Json(json!({"active": false})));
    let server = &state.server;
    let now = now_ms();
    // An access (or id) token: signature and expiry, then its session.
    let (sid, token_type, exp, iat) = match server.verify_token(&token) {
        Some(c) => match c.sid {
            Some(sid) => (sid, "access_token", c.exp, Some(c.iat)),
            None => return inactive,
        },
        None => match server.store().refresh_token(&token_hash(&token)).await {
            Ok(Some(r)) if r.spent_at.is_none() && r.expires_at > now => {
                (r.session_id, "refresh_token", r.expires_at / 1000, None)
            }
            Ok(_) => return inactive,
            Err(e) => return Err(ApiError::from(e).into()),
        },
    };
    let live = server
        .store()
        .live_auth_session(&sid, now)
        .await
        .map_err(ApiError::from)?;
    let Some((session, user)) = live.filter(|(s, _)| s.app_id == app.app_id) else {
        return inactive;
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
    Ok(Json(v))
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
