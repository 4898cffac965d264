//! Targets of qrlogin-server: `Authorization` (Basic, Bearer), cookies, `Accept-Language`,
//! long-poll parameters, token verification, the approval page renderer, every JSON body through
//! its real handler, and the whole router through `tower::ServiceExt::oneshot`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use qrlogin_server::fuzzing::{self as f, PageText};
use qrlogin_server::{NewApp, NewUser, OpenOptions, Server};
use tower::ServiceExt as _;

use crate::html::{markup, Markup};

/// The input is one header value, given to each header parser.
pub fn headers(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut h = HeaderMap::new();
    h.insert("authorization", value.clone());
    h.insert("cookie", value.clone());
    h.append("cookie", value.clone());
    h.insert("accept-language", value.clone());
    if let Some((id, secret)) = f::basic_credentials(&h) {
        // What it read is what was encoded.
        let v = value
            .to_str()
            .expect("basic credentials came from text")
            .trim();
        let (_, b64) = v.split_once(' ').expect("a scheme and a value");
        let decoded = STANDARD.decode(b64.trim()).expect("it decoded once");
        assert_eq!(decoded, format!("{id}:{secret}").into_bytes());
        assert!(!id.contains(':'), "the app id may not hold the separator");
    }
    for name in ["qrl_session", "qrl_csrf", "", "a b"] {
        if let Some(c) = f::cookie(&h, name) {
            assert!(!c.contains(';'), "a cookie value with a `;`: {c:?}");
            assert_eq!(c, c.trim());
            assert!(!c.is_empty());
        }
    }
    let _ = f::accept_language(&h);
    if let Ok(text) = value.to_str() {
        if let Some(t) = f::bearer(text) {
            assert!(!t.is_empty() && t == t.trim(), "bearer {t:?}");
            // With a scheme, the token is all that follows it (a space inside stays, and then
            // fails verification: the false alarm in regressions/server_headers/).
            if let Some((scheme, rest)) = text.trim().split_once(' ') {
                assert!(
                    scheme.eq_ignore_ascii_case("bearer"),
                    "scheme {scheme:?} taken"
                );
                assert_eq!(t, rest.trim());
            }
        }
    }
}

/// The input is a query string.
pub fn long_poll(data: &[u8]) {
    let q: HashMap<String, String> = url::form_urlencoded::parse(data).into_owned().collect();
    let (wait, known) = f::long_poll_params(&q);
    if let Some(w) = wait {
        assert_eq!(
            q.get("wait").map(|s| s.trim().parse::<u64>().ok()),
            Some(Some(w))
        );
    }
    if known.is_some() {
        assert!(q.contains_key("known"));
    }
}

fn keys() -> &'static f::TokenKeys {
    static KEYS: OnceLock<f::TokenKeys> = OnceLock::new();
    KEYS.get_or_init(f::TokenKeys::fixed)
}

/// The input as a token; and as a subject signed, verified, then with its signature changed.
pub fn tokens(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (verified, signed) = keys().verify(&text);
    if verified.is_some() {
        assert_eq!(
            verified, signed,
            "verify accepted what verify_signature did not"
        );
    }
    let far = 4_000_000_000;
    if let Some(token) = keys().sign(&text, far, Some(text.to_string())) {
        let (v, s) = keys().verify(&token);
        assert_eq!(
            v.as_deref(),
            Some(text.as_ref()),
            "our own token is refused"
        );
        assert_eq!(s.as_deref(), Some(text.as_ref()));
        // Flip one character of the signature: refused.
        let mut bytes = token.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(bytes).expect("ascii");
        assert_eq!(
            keys().verify(&forged).0,
            None,
            "a forged signature is accepted"
        );
    }
    if let Some(expired) = keys().sign(&text, 1, None) {
        let (v, s) = keys().verify(&expired);
        assert_eq!(v, None, "an expired token is accepted");
        assert_eq!(s.as_deref(), Some(text.as_ref()));
    }
}

/// Replaces each markup character of user text by a letter: the same length and emptiness,
/// so the page must come out with the same elements and attributes.
fn benign(s: &str) -> String {
    s.chars()
        .map(|c| if "<>&\"'`=/".contains(c) { 'x' } else { c })
        .collect()
}

/// `app \0 username \0 nickname \0 device \0 platform \0 app \0 version \0 ip \0 error \0
/// choices (comma-separated) \0 scan id \0 csrf`. User text must never create an element or an
/// attribute: the page with the text has exactly the markup of the page with harmless text.
pub fn approval_page(data: &[u8]) {
    let p = crate::parts(data, 12);
    let get = |i: usize| p.get(i).cloned().unwrap_or_default();
    let opt = |i: usize| p.get(i).filter(|s| !s.is_empty()).cloned();
    let text = PageText {
        app_name: get(0),
        username: get(1),
        nickname: opt(2),
        device_name: opt(3),
        platform: opt(4),
        requester_app: opt(5),
        app_version: opt(6),
        ip: opt(7),
        error: opt(8),
        check_choices: get(9)
            .split(',')
            .filter(|s| !s.is_empty())
            .take(5)
            .map(str::to_owned)
            .collect(),
        scan_id: get(10),
        csrf: get(11),
    };
    let harmless = PageText {
        app_name: benign(&text.app_name),
        username: benign(&text.username),
        nickname: text.nickname.as_deref().map(benign),
        device_name: text.device_name.as_deref().map(benign),
        platform: text.platform.as_deref().map(benign),
        requester_app: text.requester_app.as_deref().map(benign),
        app_version: text.app_version.as_deref().map(benign),
        ip: text.ip.as_deref().map(benign),
        error: text.error.as_deref().map(benign),
        check_choices: text.check_choices.iter().map(|s| benign(s)).collect(),
        scan_id: benign(&text.scan_id),
        csrf: benign(&text.csrf),
    };
    for en in [false, true] {
        let pages = f::render_pages(&text, en);
        let plain = f::render_pages(&harmless, en);
        for (page, want) in pages.iter().zip(&plain) {
            let got: Vec<Markup> = markup(page);
            let expected: Vec<Markup> = markup(want);
            assert_eq!(
                got, expected,
                "user text changed the page's markup:\n{page}"
            );
        }
    }
}

/// The router on a fresh data directory with one app, one user and one live QR session of G3
/// and of G4, whose handles no reply may show to a request that does not carry them.
struct World {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    app_id: String,
    app_secret: String,
    g3_random: String,
    g4_qrcode_id: String,
    scan_id: String,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temp dir");
        let (router, creds) = rt.block_on(async {
            let server = Server::open(OpenOptions::new(dir.path()))
                .await
                .expect("open the data dir");
            let creds = server
                .add_app(NewApp {
                    name: "fuzz".into(),
                    check_code: true,
                    allow_client_exchange: true,
                    ..Default::default()
                })
                .await
                .expect("add an app");
            server
                .add_user(NewUser {
                    username: "fuzz".into(),
                    password: "fuzz-password-1".into(),
                    ..Default::default()
                })
                .await
                .expect("add a user");
            (f::router(&server), creds)
        });
        let mut w = World {
            rt,
            router,
            app_id: creds.app_id,
            app_secret: creds.app_secret,
            g3_random: String::new(),
            g4_qrcode_id: String::new(),
            scan_id: String::new(),
            _dir: dir,
        };
        let g3 = w.call_json(
            Method::POST,
            &format!("/api/v2/qrcode/gene?userPoolId=x&appId={}", w.app_id),
            "{}",
        );
        w.g3_random = g3["data"]["random"].as_str().unwrap_or_default().to_owned();
        let content = g3["data"]["qrContent"].as_str().unwrap_or_default();
        w.scan_id = content.rsplit('/').next().unwrap_or_default().to_owned();
        let g4 = w.call_json(
            Method::POST,
            "/api/v3/gene-qrcode",
            r#"{"type":"MOBILE_APP"}"#,
        );
        w.g4_qrcode_id = g4["data"]["qrcodeId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            w.g3_random.len() >= 8 && w.g4_qrcode_id.len() >= 8,
            "the fuzz world has no live sessions: {g3} {g4}"
        );
        w
    })
}

impl World {
    fn call_json(&self, method: Method, path: &str, body: &str) -> serde_json::Value {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("x-authing-app-id", &self.app_id)
            .header("x-authing-userpool-id", "x")
            .body(Body::from(body.to_owned()))
            .expect("a request");
        let (_, bytes) = self.send(req);
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    fn send(&self, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        let req = f::with_peer(req, IpAddr::from([127, 0, 0, 1]));
        self.rt.block_on(async {
            let resp = self
                .router
                .clone()
                .oneshot(req)
                .await
                .expect("the router is infallible");
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default();
            (status, bytes)
        })
    }

    /// `{RANDOM}`, `{QRCODEID}`, `{SCAN}`, `{APP}`, `{BASIC}` in the input become the real
    /// values, so the fuzzer reaches past "unknown QR".
    fn expand(&self, s: &str) -> String {
        let basic = STANDARD.encode(format!("{}:{}", self.app_id, self.app_secret));
        s.replace("{RANDOM}", &self.g3_random)
            .replace("{QRCODEID}", &self.g4_qrcode_id)
            .replace("{SCAN}", &self.scan_id)
            .replace("{APP}", &self.app_id)
            .replace("{BASIC}", &basic)
    }

    /// Sends the request and checks the reply: not a 5xx, and neither live handle in it unless
    /// the request carried that handle.
    fn check(&self, method: &[u8], target: &str, headers: &[(String, String)], body: Vec<u8>) {
        let Ok(method) = Method::from_bytes(method) else {
            return;
        };
        let mut b = Request::builder().method(method).uri(target);
        let mut carried = target.to_owned();
        for (n, v) in headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(n.as_bytes()),
                HeaderValue::from_bytes(v.as_bytes()),
            ) {
                carried.push_str(v.to_str().unwrap_or_default());
                b = b.header(n, v);
            }
        }
        carried.push_str(&String::from_utf8_lossy(&body));
        let Ok(req) = b.body(Body::from(body)) else {
            return;
        };
        let (status, reply) = self.send(req);
        assert!(
            !status.is_server_error(),
            "{status} for {target}: {}",
            String::from_utf8_lossy(&reply)
        );
        let reply = String::from_utf8_lossy(&reply);
        for handle in [&self.g3_random, &self.g4_qrcode_id] {
            if !carried.contains(handle.as_str()) {
                assert!(
                    !reply.contains(handle.as_str()),
                    "a reply to {target} shows a live handle it was not sent"
                );
            }
        }
    }
}

/// An HTTP request as text: `METHOD TARGET` line, header lines, an empty line, the body.
pub fn router(data: &[u8]) {
    let w = world();
    let text = String::from_utf8_lossy(data);
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h.to_owned(), b.as_bytes().to_vec()),
        None => (text.to_string(), Vec::new()),
    };
    let head = w.expand(&head);
    let body = w.expand(&String::from_utf8_lossy(&body)).into_bytes();
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, target) = first.split_once(' ').unwrap_or(("GET", first));
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    w.check(method.as_bytes(), &target, &headers, body);
}

/// Endpoints that read a JSON (or form) body; the first byte picks one, the rest is the body.
const BODY_ENDPOINTS: &[&str] = &[
    "/oauth/wxapp/confirm/qr",
    "/api/v2/qrcode/gene",
    "/api/v2/qrcode/userinfo",
    "/api/v2/qrcode/scanned",
    "/api/v2/qrcode/confirm",
    "/api/v2/qrcode/cancel",
    "/oauth/scan-qrcode/exchangeUserInfoWithTicket",
    "/oauth/scan-qrcode/scanned",
    "/oauth/scan-qrcode/confirm",
    "/oauth/scan-qrcode/cancel",
    "/api/v3/gene-qrcode",
    "/api/v3/exchange-tokenset-with-qrcode-ticket",
    "/api/v3/set-qrcode-status",
    "/api/v3/change-qrcode-status",
    "/api/v3/signin",
    "/s/{SCAN}/signin",
    "/s/{SCAN}/signout",
    "/oidc/token",
    "/oidc/token/revocation",
    "/oidc/token/introspection",
];

pub fn json_bodies(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let w = world();
    let path = w.expand(BODY_ENDPOINTS[pick as usize % BODY_ENDPOINTS.len()]);
    let body = w.expand(&String::from_utf8_lossy(body)).into_bytes();
    let form = pick & 0x80 != 0;
    let headers = vec![
        (
            "content-type".to_owned(),
            if form {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            }
            .to_owned(),
        ),
        ("x-authing-app-id".to_owned(), w.app_id.clone()),
        (
            "authorization".to_owned(),
            format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", w.app_id, w.app_secret))
            ),
        ),
    ];
    w.check(b"POST", &path, &headers, body);
    let _ = f::json_body_value(data);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_world_has_live_sessions() {
        let w = super::world();
        assert!(!w.scan_id.is_empty());
    }
}
