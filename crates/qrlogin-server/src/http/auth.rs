//! Who is calling: the user of a bearer token, and the approver of a phone call (a token, or
//! the approval page's cookie with its CSRF header). The page's cookie names live here too.

use axum::http::{header, HeaderMap};

use super::request::{cookie, header_str};
use super::AppState;
use crate::crypto::{constant_time_eq, csrf_for_session};
use crate::errors::{ApiError, Forbidden};
use crate::model::User;
use crate::tokens::bearer;

/// The approval page's session cookie.
pub const SESSION_COOKIE: &str = "qrl_session";
/// The approval page's pre-sign-in CSRF cookie (double submit).
pub const CSRF_COOKIE: &str = "qrl_csrf";
/// The CSRF cookie's name over https.
pub const CSRF_COOKIE_HOST: &str = "__Host-qrl_csrf";
/// The header the page's JS sends with its CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The user of `Authorization: Bearer` whose session is live; "not signed in" otherwise.
pub async fn token_user(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = header_str(headers, header::AUTHORIZATION.as_str())
        .and_then(bearer)
        .ok_or(ApiError::NotSignedIn)?;
    state
        .server
        .user_for_token(token)
        .await?
        .ok_or(ApiError::NotSignedIn)
}

/// The signed-in user of a phone call: a token in `Authorization` (apps), or the approval
/// page's cookie plus its CSRF header (the page's own JS). Either must be an approver session:
/// a token from a QR exchange is refused (PROTOCOL.md §4.6).
pub async fn phone_user(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    if let Some(token) = header_str(headers, header::AUTHORIZATION.as_str()).and_then(bearer) {
        return state.server.approver_for_token(token).await;
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        let user = state.server.approver_for_token(token).await?;
        let sent = header_str(headers, CSRF_HEADER).unwrap_or("");
        if !constant_time_eq(sent, &csrf_for_session(token)) {
            return Err(ApiError::Forbidden(Forbidden::Csrf));
        }
        return Ok(user);
    }
    Err(ApiError::NotSignedIn)
}
