//! A code to type instead of scanning (issue 15 item 7, PROTOCOL.md §4.7). Every QR session of
//! generations G1 to G4 also gets an RFC 8628 style user code (`WDJB-MJHT`, drawn and checked by
//! device.rs's machinery); the generate reply carries it as `userCode` with `verificationUri`
//! (`{public-url}/s`), and the desktop shows both under "Can't scan?". `GET /s` takes the code
//! and continues at `/s/{code}`, the approval page itself, as the QR would.
//!
//! A code names its session while the session waits (pending or scanned): a code of a session
//! that expired, was cancelled or confirmed is refused. It is not a rotating QR id, so rotation
//! never breaks a typed code. Every lookup by a code costs a sign-in token
//! (`AppState::limit_user_code_guess`); the codes themselves are
//! drawn, filed and looked up in devicecode.rs: 34 bits cannot be tried at that pace.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::approval::page::esc;
use crate::devicecode::normalize_user_code;
use crate::http::{AppState, Code, Envelope};
use crate::i18n::Lang;
use crate::ratelimit::Kind;

pub fn router() -> Router<AppState> {
    Router::new().route("/s", get(enter_code))
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
        return Code::fail(lang, &e);
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
