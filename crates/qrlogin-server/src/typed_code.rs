//! A code to type instead of scanning (issue 15 item 7, PROTOCOL.md §4.7). Every QR session of
//! generations G1 to G4 also gets an RFC 8628 style user code (`WDJB-MJHT`, drawn and checked by
//! device.rs's machinery); the generate reply carries it as `userCode` with `verificationUri`
//! (`{public-url}/s`), and the desktop shows both under "Can't scan?". `GET /s` takes the code
//! and continues at `/s/{code}`, the approval page itself, as the QR would.
//!
//! A code names its session while the session waits (pending or scanned): a code of a session
//! that expired, was cancelled or confirmed is refused. It is not a rotating QR id, so rotation
//! never breaks a typed code. Every lookup by a code costs a sign-in token
//! (`device::limit_user_code_guess`): 34 bits cannot be tried at that pace.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::approval::page::esc;
use crate::device::{display_user_code, new_user_code, normalize_user_code};
use crate::errors::{ApiError, Forbidden};
use crate::i18n::Lang;
use crate::model::{now_ms, QrSession, Status};
use crate::ratelimit::Kind;
use crate::server::Server;
use crate::store::StoreError;
use crate::web::AppState;

/// A session's typed code as the generate reply carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode {
    /// Stored form, without the dash (`WDJBMJHT`).
    pub code: String,
    /// Where to type it: `{public-url}/s`.
    pub entry_url: String,
}

impl UserCode {
    /// `userCode` and `verificationUri` of a generate reply (RFC 8628's names).
    pub fn reply_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("userCode".into(), display_user_code(&self.code).into());
        m.insert("verificationUri".into(), self.entry_url.clone().into());
        m
    }
}

pub fn entry_url(public_url: &str) -> String {
    format!("{public_url}/s")
}

pub fn router() -> Router<AppState> {
    Router::new().route("/s", get(enter_code))
}

/// Draws and files a code for a new session (its lifetime is the session's). A code another
/// live session holds, QR or device (whose scan id is its code), is drawn again.
pub(crate) async fn issue(
    server: &Server,
    session: &QrSession,
    public_url: &str,
) -> Result<UserCode, ApiError> {
    let store = server.store();
    for _ in 0..4 {
        let code = new_user_code();
        if store.session_by_scan_id(&code).await?.is_some() {
            continue;
        }
        match store
            .insert_user_code(&code, &session.scan_id, session.expires_at)
            .await
        {
            Ok(()) => {
                return Ok(UserCode {
                    code,
                    entry_url: entry_url(public_url),
                })
            }
            Err(StoreError::Duplicate) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal)
}

/// The waiting session a typed code names; `None` when `id` is no QR session's code (it may be
/// a scan id, or a device authorization's user code, which is its scan id). The caller has
/// charged the guess (`device::limit_user_code_guess`).
pub(crate) async fn session_for_code(
    server: &Server,
    id: &str,
) -> Result<Option<QrSession>, ApiError> {
    // As typed or as shown (`WDJB-MJHT`): a phone app may send what the person read.
    let Some(code) = normalize_user_code(id) else {
        return Ok(None);
    };
    let now = now_ms();
    let store = server.store();
    let Some(scan_id) = store.scan_id_for_user_code(&code).await? else {
        return Ok(None);
    };
    let Some(session) = store.session_by_scan_id(&scan_id).await? else {
        return Ok(None);
    };
    match session.status_at(now) {
        Status::Pending | Status::Scanned => Ok(Some(session)),
        Status::Expired => Err(ApiError::QrExpired),
        Status::Authorized | Status::Cancelled => {
            Err(ApiError::Forbidden(Forbidden::AlreadyDecided))
        }
    }
}

#[derive(Deserialize)]
struct EnterQuery {
    code: Option<String>,
}

/// `GET /s`: the form for the code, or with `code` a redirect to its approval page (where the
/// guess is charged and the session's rules apply).
async fn enter_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<EnterQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    if let Err(e) = state.limit(Kind::Poll, peer.ip()) {
        return crate::web::fail(crate::web::Envelope::Code, lang, &e);
    }
    let typed = q.code.as_deref().map(str::trim).unwrap_or("");
    if let Some(code) = normalize_user_code(typed) {
        let mut resp = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("{}/s/{code}", state.base_path)) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    }
    let status = if typed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut resp = (status, Html(form_page(lang, &state.base_path, typed))).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::approval::PAGE_CSP),
    );
    resp
}

/// The code form in the approval page's look; `typed` (not a code) is shown back with why.
fn form_page(lang: Lang, base_path: &str, typed: &str) -> String {
    let error = if typed.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"error\" role=\"alert\" data-field=\"error\">{}</p>",
            lang.pick(
                "这不是有效的代码：8 个字母，例如 WDJB-MJHT。请核对电脑上显示的代码。",
                "That is not a sign-in code: 8 letters, like WDJB-MJHT. Check the code on your computer."
            )
        )
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang_attr}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{bp}/s/assets/phone.css\">\n</head>\n<body>\n\
         <main id=\"qrl\" data-state=\"enter-code\">\n<h1>{title}</h1><p class=\"lead\">{lead}</p>{error}\n\
         <form method=\"get\" action=\"{bp}/s\" id=\"enter-code\">\n\
         <label>{label}<input type=\"text\" name=\"code\" value=\"{value}\" autocomplete=\"off\" \
         autocapitalize=\"characters\" spellcheck=\"false\" inputmode=\"text\" maxlength=\"16\" \
         placeholder=\"WDJB-MJHT\" required></label>\n\
         <input type=\"submit\" value=\"{go}\">\n</form>\n</main>\n</body>\n</html>\n",
        lang_attr = lang.html_lang(),
        title = lang.pick("输入代码登录", "Sign in with a code"),
        lead = lang.pick(
            "输入电脑上“无法扫码？”下方显示的代码，然后在这台手机上确认登录。",
            "Type the code shown under “Can't scan?” on your computer, then confirm the sign-in on this phone."
        ),
        label = lang.pick("电脑上显示的代码", "The code on your computer"),
        go = lang.pick("继续", "Continue"),
        value = esc(typed),
        bp = esc(base_path),
    )
}
