//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, off by default): thin
//! wrappers over private parsers and the approval page renderer, and the whole router without a
//! socket. Not a stable API; nothing here is used by the server itself.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use axum::Router;

use crate::client_addr::{ClientAddr, PeerAddr};
use crate::model::{Requester, User};
use crate::tokens::{Claims, Keys};
use crate::{Limiter, RateLimits, Server};

pub use crate::approval::page::esc;
pub use crate::http::request::{basic_credentials, cookie};
pub use crate::tokens::bearer;

/// `Accept-Language` → `zh-CN` or `en`.
pub fn accept_language(headers: &HeaderMap) -> &'static str {
    match crate::i18n::Lang::from_accept_language(headers) {
        crate::i18n::Lang::Zh => "zh-CN",
        crate::i18n::Lang::En => "en",
    }
}

/// `wait` and `known` of a long-poll query, as text.
pub fn long_poll_params(query: &HashMap<String, String>) -> (Option<u64>, Option<String>) {
    let (wait, known) = crate::http::request::long_poll_params(query);
    (wait, known.map(|s| format!("{s:?}")))
}

/// Parses `bytes` as every JSON body the server reads; `Err` is the 400 the client would get.
pub fn json_body_value(bytes: &[u8]) -> Result<serde_json::Value, String> {
    crate::http::request::json_body::<serde_json::Value>(&Bytes::copy_from_slice(bytes))
        .map_err(|e| e.to_string())
}

/// A signing key from a fixed seed, to verify arbitrary tokens and sign arbitrary claims.
pub struct TokenKeys(Keys);

impl TokenKeys {
    pub fn fixed() -> TokenKeys {
        TokenKeys(Keys::from_seed(&"A".repeat(43)).expect("a 32-byte seed"))
    }

    /// `(verify, verify_signature)` each as the subject it accepted.
    pub fn verify(&self, token: &str) -> (Option<String>, Option<String>) {
        (
            self.0.verify(token).map(|c| c.sub),
            self.0.verify_signature(token).map(|c| c.sub),
        )
    }

    /// Signs claims with these fields; `None` when signing refuses.
    pub fn sign(&self, sub: &str, exp: i64, nickname: Option<String>) -> Option<String> {
        self.0
            .sign(&Claims {
                sub: sub.to_owned(),
                iss: "fuzz".into(),
                aud: "fuzz".into(),
                iat: 0,
                exp,
                nickname,
                typ: "access".into(),
                sid: None,
            })
            .ok()
    }
}

/// Text a phone page may show that comes from users and requesters.
#[derive(Debug, Clone, Default)]
pub struct PageText {
    pub app_name: String,
    pub username: String,
    pub nickname: Option<String>,
    pub device_name: Option<String>,
    pub platform: Option<String>,
    pub requester_app: Option<String>,
    pub app_version: Option<String>,
    pub ip: Option<String>,
    pub error: Option<String>,
    pub check_choices: Vec<String>,
    pub scan_id: String,
    pub csrf: String,
}

/// Renders every screen of the approval page with `text`; `en` picks the language.
pub fn render_pages(text: &PageText, en: bool) -> Vec<String> {
    use crate::approval::page::{render, Frame, View};
    let lang = if en {
        crate::i18n::Lang::En
    } else {
        crate::i18n::Lang::Zh
    };
    let frame = Frame {
        lang,
        base_path: "",
        csrf: &text.csrf,
        scan_id: &text.scan_id,
    };
    let user = User {
        id: "u1".into(),
        username: text.username.clone(),
        password_hash: String::new(),
        nickname: text.nickname.clone(),
        email: None,
        phone: None,
        photo: None,
        created_at: 0,
        logins_count: 0,
        last_login: None,
        last_ip: None,
    };
    let requester = Requester {
        device_name: text.device_name.clone(),
        platform: text.platform.clone(),
        app_name: text.requester_app.clone(),
        app_version: text.app_version.clone(),
        ip: text.ip.clone(),
        time: 1_700_000_000_000,
    };
    let views = [
        View::SignIn {
            error: text.error.clone(),
            signup: true,
        },
        View::Approve {
            app_name: &text.app_name,
            user: &user,
            requester: Some(&requester),
            check_choices: &text.check_choices,
            network_differs: true,
        },
        View::Authorized,
        View::Cancelled,
        View::Error {
            code: 2241,
            message: text.error.clone().unwrap_or_default(),
        },
    ];
    views.iter().map(|v| render(&frame, v)).collect()
}

/// The whole router on a fresh data directory, as `serve` builds it (rate limits off).
pub fn router(server: &Server) -> Router {
    let (_tx, rx) = tokio::sync::watch::channel(false);
    // The sender is dropped, which `stopped()` takes as a shutdown: a long-poll answers at once
    // instead of holding the fuzzer for its `wait`.
    let state = crate::http::AppState::new(
        server.clone(),
        "http://127.0.0.1:9",
        Arc::new(Limiter::new(RateLimits::unlimited())),
        rx,
    );
    crate::routes::router(state)
}

/// Adds the extensions the accept loop puts on every request (`conn.rs`).
pub fn with_peer<B>(mut req: Request<B>, ip: IpAddr) -> Request<B> {
    let ext = req.extensions_mut();
    ext.insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    ext.insert(ClientAddr(ip));
    ext.insert(PeerAddr(SocketAddr::new(ip, 40000)));
    req
}
