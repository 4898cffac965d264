//! The mobile approval page (PROTOCOL.md §4.4): `GET /s/{scanId}` signs the phone in if needed,
//! marks the session scanned, shows who is asking and offers Confirm / Cancel. Its script calls
//! the G4 phone endpoint with the session cookie and a CSRF header.

pub(crate) mod page;
mod signup;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::client_addr::different_networks;
use crate::crypto::{constant_time_eq, csrf_for_session};
use crate::errors::{ApiError, Forbidden};
use crate::http::auth::SESSION_COOKIE;
use crate::http::reply::with_retry_after;
use crate::http::request::cookie;
use crate::http::AppState;
use crate::i18n::Lang;
use crate::ids;
use crate::model::{now_ms, QrSession, Status, User};
use crate::ratelimit::Kind;
use crate::sessions::{NewSession, PHONE_PAGE_SESSION_SECS};
use crate::store::auth::SessionKind;
use page::{Frame, View};

const PHONE_JS: &str = include_str!("assets/phone.js");
const PHONE_CSS: &str = include_str!("assets/phone.css");

/// The page's own Content-Security-Policy: nothing inline, nothing foreign, never framed.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/s/assets/phone.js", get(script))
        .route("/s/assets/phone.css", get(style))
        .route("/s/{scan_id}", get(show))
        .route("/s/{scan_id}/signin", post(sign_in))
        .route("/s/{scan_id}/signout", post(sign_out))
        .route(
            "/s/{scan_id}/signup",
            get(signup::show).post(signup::submit),
        )
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        PHONE_JS,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        PHONE_CSS,
    )
        .into_response()
}

/// A page response with the page's security headers and, when new, the CSRF cookie.
fn page_response(status: StatusCode, html: String, set_cookies: Vec<String>) -> Response {
    let mut resp = (status, axum::response::Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn cookie_line(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// The pre-sign-in CSRF token: the cookie's value, or a new one (then also set as a cookie).
fn csrf_cookie(state: &AppState, headers: &HeaderMap) -> (String, Vec<String>) {
    match cookie(headers, state.csrf_cookie_name()) {
        Some(v) if v.len() >= 32 && v.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (v.to_owned(), vec![])
        }
        _ => {
            let v = ids::handle();
            let line = cookie_line(state, state.csrf_cookie_name(), &v, 3600);
            (v, vec![line])
        }
    }
}

/// The signed-in user of the page and their session token, from the cookie. Only an approver
/// session counts: a revoked one, or a desktop token planted in the cookie, signs in anew.
async fn page_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(User, String)>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    match state.server.approver_for_token(token).await {
        Ok(u) => Ok(Some((u, token.to_owned()))),
        Err(ApiError::NotSignedIn | ApiError::Forbidden(Forbidden::NotApprover)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(scan_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let (pre_csrf, cookies) = csrf_cookie(&state, &headers);
    let result = show_view(&state, peer, &scan_id, &headers).await;
    let (status, csrf) = match &result {
        Ok((view_csrf, _)) => (StatusCode::OK, view_csrf.clone().unwrap_or(pre_csrf)),
        Err(e) => (error_status(e), pre_csrf),
    };
    let frame = Frame {
        lang,
        base_path: &state.base_path,
        csrf: &csrf,
        scan_id: &scan_id,
    };
    match result {
        Ok((_, owned)) => page_response(status, page::render(&frame, &owned.as_view()), cookies),
        Err(e) => {
            let view = View::Error {
                code: e.code(),
                message: e.message(lang),
            };
            let resp = page_response(status, page::render(&frame, &view), cookies);
            with_retry_after(resp, &e)
        }
    }
}

fn error_status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::QrNotFound => StatusCode::NOT_FOUND,
        ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::QrExpired => StatusCode::GONE,
        ApiError::ScannedByOther => StatusCode::CONFLICT,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A view with owned data (the borrowed [`View`] is made from it).
enum OwnedView {
    /// The sign-in form, with its error and whether the app offers sign-up.
    SignIn(Option<String>, bool),
    Approve {
        app_name: String,
        user: Box<User>,
        session: Box<QrSession>,
        network_differs: bool,
    },
    Authorized,
    Cancelled,
}

impl OwnedView {
    fn as_view(&self) -> View<'_> {
        match self {
            OwnedView::SignIn(error, signup) => View::SignIn {
                error: error.clone(),
                signup: *signup,
            },
            OwnedView::Approve {
                app_name,
                user,
                session,
                network_differs,
            } => View::Approve {
                app_name,
                user,
                requester: session.requester.as_ref(),
                check_choices: &session.check_choices,
                network_differs: *network_differs,
            },
            OwnedView::Authorized => View::Authorized,
            OwnedView::Cancelled => View::Cancelled,
        }
    }
}

/// What the page shows, and the CSRF token of a signed-in page.
async fn show_view(
    state: &AppState,
    peer: SocketAddr,
    scan_id: &str,
    headers: &HeaderMap,
) -> Result<(Option<String>, OwnedView), ApiError> {
    state.limit(Kind::Poll, peer.ip())?;
    state.limit_user_code_guess(scan_id, peer.ip())?;
    // Only the public id opens the page; a handle here would let a photo of an Authing QR act.
    let session = state
        .server
        .session_by_public_id(scan_id)
        .await?
        .ok_or(ApiError::QrNotFound)?;
    let Some((user, token)) = page_user(state, headers).await? else {
        if session.status_at(now_ms()) == Status::Expired {
            return Err(ApiError::QrExpired);
        }
        let signup =
            (state.server.store().get_app(&session.app_id).await?).is_some_and(|a| a.signup);
        return Ok((None, OwnedView::SignIn(None, signup)));
    };
    // Opening the page signed in is the scan (PROTOCOL.md §4.4).
    let session = state.server.scan(&session, &user).await?;
    let csrf = Some(csrf_for_session(&token));
    let view = match session.status_at(now_ms()) {
        Status::Authorized => OwnedView::Authorized,
        Status::Cancelled => OwnedView::Cancelled,
        Status::Expired => return Err(ApiError::QrExpired),
        Status::Pending | Status::Scanned => {
            let app_name = state
                .server
                .store()
                .get_app(&session.app_id)
                .await?
                .map(|a| a.name)
                .unwrap_or_default();
            // The phone and the computer on different networks: the cheapest sign of a QR
            // relayed from an attacker's screen (Steam shows the same warning).
            let network_differs = session
                .requester
                .as_ref()
                .and_then(|r| r.ip.as_deref())
                .and_then(|ip| ip.parse().ok())
                .is_some_and(|computer| different_networks(computer, peer.ip()));
            OwnedView::Approve {
                app_name,
                user: Box::new(user),
                session: Box::new(session),
                network_differs,
            }
        }
    };
    Ok((csrf, view))
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(scan_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let (pre_csrf, cookies) = csrf_cookie(&state, &headers);
    let result = async {
        state.limit(Kind::SignIn, peer.ip())?;
        // Double submit: a foreign site cannot read our cookie to copy it into its form.
        let sent_cookie = cookie(&headers, state.csrf_cookie_name()).unwrap_or("");
        if sent_cookie.is_empty() || !constant_time_eq(&form.csrf, sent_cookie) {
            return Err(ApiError::Forbidden(Forbidden::Csrf));
        }
        let qr = state
            .server
            .session_by_public_id(&scan_id)
            .await?
            .ok_or(ApiError::QrNotFound)?;
        let user = state
            .server
            .sign_in(&form.username, &form.password, &qr.app_id, Some(peer.ip()))
            .await?;
        // The page's own approver session: the cookie, no refresh token.
        let new = NewSession {
            user: &user,
            app_id: &qr.app_id,
            kind: SessionKind::Approver,
            public_client: false,
            access_ttl_secs: PHONE_PAGE_SESSION_SECS,
            with_refresh: false,
            device: None,
            ip: Some(peer.ip()),
        };
        state.server.open_session(new, &state.public_url).await
    }
    .await;
    match result {
        Ok(ex) => {
            let target = format!("{}/s/{}", state.base_path, scan_id);
            let mut resp = Redirect::to(&target).into_response();
            let line = cookie_line(&state, SESSION_COOKIE, &ex.access.token, ex.access_ttl_secs);
            if let Ok(v) = HeaderValue::from_str(&line) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            );
            resp
        }
        Err(ApiError::BadCredentials) => {
            let signup = signup::signup_on(&state, &scan_id).await.unwrap_or(false);
            let frame = Frame {
                lang,
                base_path: &state.base_path,
                csrf: &pre_csrf,
                scan_id: &scan_id,
            };
            let html = page::render(
                &frame,
                &View::SignIn {
                    error: Some(ApiError::BadCredentials.message(lang)),
                    signup,
                },
            );
            page_response(StatusCode::UNAUTHORIZED, html, cookies)
        }
        Err(e) => error_page(&state, lang, &pre_csrf, &scan_id, &e, cookies),
    }
}

fn error_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    scan_id: &str,
    e: &ApiError,
    cookies: Vec<String>,
) -> Response {
    let frame = Frame {
        lang,
        base_path: &state.base_path,
        csrf,
        scan_id,
    };
    let html = page::render(
        &frame,
        &View::Error {
            code: e.code(),
            message: e.message(lang),
        },
    );
    let resp = page_response(error_status(e), html, cookies);
    with_retry_after(resp, e)
}

#[derive(Debug, Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// The phone signs out: the session cookie is cleared and the page shows the sign-in form
/// again. The form carries the signed-in page's CSRF token, so no other site can sign a phone
/// out. (The token itself stays valid until it expires.)
async fn sign_out(
    State(state): State<AppState>,
    Path(scan_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let signed_in = cookie(&headers, SESSION_COOKIE).map(csrf_for_session);
    if !signed_in.is_some_and(|expected| constant_time_eq(&form.csrf, &expected)) {
        let (pre_csrf, cookies) = csrf_cookie(&state, &headers);
        let e = ApiError::Forbidden(Forbidden::Csrf);
        return error_page(&state, lang, &pre_csrf, &scan_id, &e, cookies);
    }
    // End the approver session at the server, not only the cookie: a copy of the cookie taken
    // before the sign-out must not approve anything afterwards (PROTOCOL.md §4.6).
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        match state.server.sid_of_any_token(token).await {
            Ok(Some(sid)) => {
                if let Err(e) = state.server.end_session(&sid).await {
                    let (pre_csrf, cookies) = csrf_cookie(&state, &headers);
                    return error_page(&state, lang, &pre_csrf, &scan_id, &e, cookies);
                }
            }
            Ok(None) => {}
            Err(e) => {
                let (pre_csrf, cookies) = csrf_cookie(&state, &headers);
                return error_page(&state, lang, &pre_csrf, &scan_id, &e, cookies);
            }
        }
    }
    let target = format!("{}/s/{}", state.base_path, scan_id);
    let mut resp = Redirect::to(&target).into_response();
    let line = cookie_line(&state, SESSION_COOKIE, "", 0);
    if let Ok(v) = HeaderValue::from_str(&line) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    tracing::info!("phone signed out");
    resp
}
