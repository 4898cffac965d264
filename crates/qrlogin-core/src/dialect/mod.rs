//! The four Authing QR-login generations (PROTOCOL.md §2): for each, how to build the generate,
//! poll and exchange requests, and pure functions turning each reply into one engine type.
//!
//! Parsing never panics and never trusts types: numbers may come as strings, objects as `null`.
//!
//! What each generation cannot express (and what the engine does instead):
//! - G1 `wxapp-legacy`: Authing reports only "logged in" (inner code 200) or "not yet"; no
//!   scanned, cancelled or expired (expiry is local: `expiredAt` + grace). Our server's inner
//!   `status` extension is read when present. No exchange step, so PKCE rides on the poll.
//! - G2 `app-v1`: no lifetime in the generate reply (120 s assumed); `scanned` carries only
//!   nickname/photo; the generate names only the user pool (we add `x-authing-app-id`).
//! - G3 `v2`: Guard's status 4 (MFA) and 5 (error) become `Failed` (MFA is not supported).
//! - G4 `v3`: no `expiresIn` in the generate DTO (120 s assumed unless our server adds it);
//!   `ERROR` becomes `Failed`; only an image URL for the QR unless our server adds `qrContent`.

mod wire;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{codes, CoreError, ProtocolError};
use crate::http::Method;
use crate::lang::Lang;
use crate::secret::Secret;

pub use wire::{parse_profile, parse_token_set, parse_user};

/// The first bytes of a reply, printable, for error messages.
pub fn preview_body(body: &[u8]) -> String {
    wire::preview(body)
}

/// The `device` dialect's default scopes: the user, and a refresh token.
pub const DEFAULT_SCOPE: &str = "openid profile offline_access";

/// Which generation the server speaks. Config names: `wxapp-legacy`, `app-v1`, `v2`, `v3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DialectId {
    /// G1: WeChat mini-program scan, `/oauth/wxapp/*`; the poll returns the user.
    #[serde(rename = "wxapp-legacy")]
    G1,
    /// G2: APP scan v1 on the oauth host, `/qrcode/gene`, `/qrcode/check`.
    #[serde(rename = "app-v1")]
    G2,
    /// G3: `/api/v2/qrcode/*` (authing-js-sdk 4.x, Guard).
    #[default]
    #[serde(rename = "v2")]
    G3,
    /// G4: `/api/v3/*` (v5 SDKs).
    #[serde(rename = "v3")]
    G4,
    /// RFC 8628 device authorization against any standard IdP (`session/client/device.rs`);
    /// none of the Authing builders and parsers here apply to it.
    #[serde(rename = "device")]
    Device,
}

impl DialectId {
    /// The four Authing generations (the builders and parsers of this module); `Device` is the
    /// fifth dialect, spoken by the client's device module.
    pub const ALL: [DialectId; 4] = [DialectId::G1, DialectId::G2, DialectId::G3, DialectId::G4];

    pub fn as_str(self) -> &'static str {
        match self {
            DialectId::G1 => "wxapp-legacy",
            DialectId::G2 => "app-v1",
            DialectId::G3 => "v2",
            DialectId::G4 => "v3",
            DialectId::Device => "device",
        }
    }

    /// The pause between polls that the generation's own SDK keeps (PROTOCOL.md §2).
    pub fn default_poll_interval(self) -> Duration {
        match self {
            DialectId::G1 => Duration::from_millis(1500),
            DialectId::G2 | DialectId::G3 => Duration::from_millis(800),
            DialectId::G4 => Duration::from_millis(1000),
            // The IdP's `interval` is kept by the device client; this is only the loop's pause.
            DialectId::Device => Duration::from_millis(1000),
        }
    }

    /// G1 has no exchange: the poll itself carries the user and token.
    pub fn has_exchange(self) -> bool {
        self != DialectId::G1
    }
}

impl fmt::Display for DialectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DialectId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DialectId::ALL
            .into_iter()
            .chain([DialectId::Device])
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                CoreError::Config(format!(
                    "unknown dialect {s:?}; use wxapp-legacy, app-v1, v2, v3 or device"
                ))
            })
    }
}

/// Who we are to the server and what we ask for; the generation picks the fields it knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppParams {
    pub app_id: String,
    pub user_pool_id: Option<String>,
    /// G2/G3 `scene`: `APP_AUTH` (default), `WXAPP_AUTH`, `WECHATMP_AUTH`.
    pub scene: String,
    /// G4 `type`: `MOBILE_APP` (default), `WECHAT_MINIPROGRAM`, `WECHAT_OFFICIAL_ACCOUNT`.
    pub qr_type: String,
    /// G2 extra query keys, G3 `params`, G4 `customData`.
    pub custom_data: Map<String, Value>,
    /// G3/G4 pipeline `context`.
    pub context: Option<Value>,
    pub ext_idp_conn_id: Option<String>,
    /// G1 `useSelfWxapp`.
    pub use_self_wxapp: bool,
    /// G1 `enableFetchPhone`.
    pub enable_fetch_phone: bool,
    /// `device`: the OAuth scopes to ask for (space-separated).
    pub scope: String,
    #[serde(skip)]
    pub lang: Lang,
}

impl Default for AppParams {
    fn default() -> Self {
        Self {
            app_id: String::new(),
            user_pool_id: None,
            scene: "APP_AUTH".into(),
            qr_type: "MOBILE_APP".into(),
            custom_data: Map::new(),
            context: None,
            ext_idp_conn_id: None,
            use_self_wxapp: false,
            enable_fetch_phone: false,
            scope: DEFAULT_SCOPE.into(),
            lang: Lang::default(),
        }
    }
}

/// The requester's details shown on the approval page (PROTOCOL.md §4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Requester {
    pub device_name: Option<String>,
    pub platform: Option<String>,
    pub app_name: Option<String>,
    pub app_version: Option<String>,
}

impl Requester {
    /// This machine: its host name, the OS, and the given app name and version.
    pub fn this_machine(app_name: &str, app_version: &str) -> Self {
        Self {
            device_name: host_name(),
            platform: Some(std::env::consts::OS.to_owned()),
            app_name: Some(app_name.to_owned()),
            app_version: Some(app_version.to_owned()),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("deviceName", &self.device_name),
            ("platform", &self.platform),
            ("appName", &self.app_name),
            ("appVersion", &self.app_version),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// The host name, read without a C call: Windows sets `COMPUTERNAME`, Linux publishes it in
/// `/proc`, other Unixes usually in `/etc/hostname` (`HOSTNAME` is rarely exported).
fn host_name() -> Option<String> {
    let clean = |s: String| {
        let s = s.trim().to_owned();
        (!s.is_empty() && s.len() <= 255).then_some(s)
    };
    std::env::var("COMPUTERNAME")
        .ok()
        .and_then(clean)
        .or_else(|| {
            ["/proc/sys/kernel/hostname", "/etc/hostname"]
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok().and_then(clean))
        })
        .or_else(|| std::env::var("HOSTNAME").ok().and_then(clean))
}

/// What the engine adds to a generate beyond the app's own parameters.
#[derive(Debug, Clone, Default)]
pub struct GenerateExtras {
    /// G1 only: the client-made `random`.
    pub random: Option<String>,
    /// PKCE challenge, when the server announced `pkce`.
    pub code_challenge: Option<String>,
    /// Requester details, when the server announced `requester`.
    pub requester: Option<Requester>,
}

/// Long-poll and PKCE parameters of one poll.
#[derive(Debug, Clone, Default)]
pub struct PollExtras {
    pub wait: Option<u64>,
    pub known: Option<&'static str>,
    /// G1 only: the poll is the exchange, so it carries the verifier.
    pub code_verifier: Option<Secret>,
}

/// How the exchange proves it may spend the ticket.
#[derive(Debug, Clone, Default)]
pub enum ExchangeAuth {
    /// The server allows a plain exchange (`allowClientExchange`, or Authing's browser setting).
    #[default]
    None,
    /// Our server, with the verifier of the challenge sent at generate.
    Pkce(Secret),
    /// Server-side use: `Basic base64(appId:appSecret)` (G4 also `client_id`/`client_secret`).
    AppSecret(Secret),
}

/// A request described independently of the HTTP client: path relative to the base URL.
#[derive(Clone, PartialEq)]
pub struct WireRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub json: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for WireRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies and headers may hold the secret or the verifier: show only their names.
        let headers: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        let query: Vec<&str> = self.query.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("WireRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &headers)
            .field("has_body", &self.json.is_some())
            .finish()
    }
}

impl WireRequest {
    fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            query: Vec::new(),
            json: None,
            headers: Vec::new(),
        }
    }

    fn post(path: impl Into<String>, json: Option<Value>) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            query: Vec::new(),
            json,
            headers: Vec::new(),
        }
    }

    fn q(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_owned(), v.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A generated QR, whatever the generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedQr {
    /// `random` (G1, G3) or `qrcodeId` (G2, G4): ours to poll with, never displayed.
    pub handle: String,
    /// What to encode, when the server says (our server: `qrContent`).
    pub qr_content: Option<String>,
    /// The server's QR image (G1 `qrcode`, G2 `qrcodeUrl`, G3/G4 `url`).
    pub image_url: Option<String>,
    pub scan_id: Option<String>,
    /// Lifetime in seconds, when the reply tells it.
    pub expires_in: Option<u64>,
    pub check_code: Option<String>,
    /// G3 `customLogo`, G4 `customLogoUrl`.
    pub custom_logo_url: Option<String>,
    /// A code to type instead of scanning (our server's `userCode`, PROTOCOL.md §4.7; the
    /// device dialect's `user_code`), and where to type it (`verificationUri`).
    pub user_code: Option<String>,
    pub verification_uri: Option<String>,
}

/// A user object (G1 poll, G2/G3 poll with full info or exchange, get-profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireUser {
    pub id: Option<String>,
    pub username: Option<String>,
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub photo: Option<String>,
    pub token: Option<Secret>,
    /// As the server wrote it: RFC 3339 on current servers, a JS `Date` string on G1.
    pub token_expired_at: Option<String>,
    /// qrlogin-server's extra `refreshToken` (PROTOCOL §4.6); Authing's G1–G3 have none.
    pub refresh_token: Option<Secret>,
    /// G1: the callback the server's console configured (`redirect` beside the user).
    pub redirect: Option<String>,
}

/// A G4 token set. `expire_in` is Authing's spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: Secret,
    pub id_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub token_type: Option<String>,
    pub expire_in: Option<u64>,
    pub scope: Option<String>,
}

/// What an authorized poll carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// Exchange this ticket (G2, G3, G4 by default).
    Ticket {
        ticket: Secret,
        nickname: Option<String>,
        photo: Option<String>,
    },
    /// The poll returned the user with a token (G1; G2/G3 with "return full user info").
    User(WireUser),
    /// The poll returned a token set (G4 with the full-info switch on).
    TokenSet(TokenSet),
}

/// One poll's answer, the same for every generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanStatus {
    Pending,
    Scanned {
        nickname: Option<String>,
        photo: Option<String>,
    },
    Authorized(Authorization),
    Cancelled,
    Expired,
    /// A business error in the envelope, or a state we cannot handle (G3 MFA `4`, error `5`,
    /// G4 `ERROR`).
    Failed {
        code: i64,
        message: String,
    },
}

impl ScanStatus {
    /// The canonical name for long-poll `known` (contracts.md §1).
    pub fn known_name(&self) -> Option<&'static str> {
        Some(match self {
            ScanStatus::Pending => "pending",
            ScanStatus::Scanned { .. } => "scanned",
            ScanStatus::Authorized(_) => "authorized",
            ScanStatus::Cancelled => "cancelled",
            ScanStatus::Expired => "expired",
            ScanStatus::Failed { .. } => return None,
        })
    }
}

/// What an exchange returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchanged {
    User(WireUser),
    TokenSet(TokenSet),
}

/// G3 status 4: Guard's "MFA required", which this client cannot complete.
pub const CODE_MFA_REQUIRED: i64 = -4;
/// G3 status 5 / G4 `ERROR`: the server reports an error on the QR session.
pub const CODE_QR_ERROR: i64 = -5;

/// A G1 `random`: 12 to 24 alphanumerics (we use 20, like the third-party clients).
pub fn new_random() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The Authing headers of reference §1.3. G1/G2 SDKs send none; we still name the app on G2
/// because our server (PROTOCOL.md §2) otherwise picks the pool's default app.
fn authing_headers(id: DialectId, app: &AppParams) -> Vec<(String, String)> {
    let mut h = Vec::new();
    match id {
        DialectId::G1 | DialectId::Device => {}
        DialectId::G2 => {
            if !app.app_id.is_empty() {
                h.push(("x-authing-app-id".into(), app.app_id.clone()));
            }
        }
        DialectId::G3 | DialectId::G4 => {
            if !app.app_id.is_empty() {
                h.push(("x-authing-app-id".into(), app.app_id.clone()));
            }
            if let Some(pool) = app.user_pool_id.as_deref().filter(|p| !p.is_empty()) {
                h.push(("x-authing-userpool-id".into(), pool.to_owned()));
            }
            h.push((
                "x-authing-request-from".into(),
                format!("qrlogin@{}", env!("CARGO_PKG_VERSION")),
            ));
            h.push((
                "x-authing-sdk-version".into(),
                format!("rust:{}", env!("CARGO_PKG_VERSION")),
            ));
            h.push(("x-authing-lang".into(), app.lang.authing_header().into()));
        }
    }
    h
}

fn basic_auth(app_id: &str, secret: &Secret) -> String {
    let raw = format!("{app_id}:{}", secret.expose());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn scalar_to_query(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The generate request (PROTOCOL.md §2, contracts.md §1 for the extensions).
pub fn build_generate(
    id: DialectId,
    app: &AppParams,
    extras: &GenerateExtras,
) -> Result<WireRequest, CoreError> {
    let mut req = match id {
        DialectId::Device => return Err(not_authing()),
        DialectId::G1 => {
            if app.app_id.is_empty() {
                return Err(CoreError::Config(
                    "wxapp-legacy needs the app id (it is part of the path)".into(),
                ));
            }
            let random = extras.random.clone().ok_or_else(|| {
                CoreError::Config("wxapp-legacy generate needs a client random".into())
            })?;
            let path = format!(
                "/oauth/wxapp/qrcode/{}",
                url::form_urlencoded::byte_serialize(app.app_id.as_bytes()).collect::<String>()
            );
            WireRequest::get(path)
                .q("random", random)
                .q("useSelfWxapp", app.use_self_wxapp.to_string())
                .q("enableFetchPhone", app.enable_fetch_phone.to_string())
        }
        DialectId::G2 => {
            let pool = app
                .user_pool_id
                .as_deref()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    CoreError::Config("app-v1 needs the user pool id (userPoolId)".into())
                })?;
            let mut r = WireRequest::get("/qrcode/gene")
                .q("scene", app.scene.clone())
                .q("userPoolId", pool);
            for (k, v) in &app.custom_data {
                // Reserved keys would change the request's meaning; custom data never may.
                if matches!(k.as_str(), "scene" | "userPoolId" | "qrcodeId") {
                    continue;
                }
                r = r.q(k, scalar_to_query(v));
            }
            r
        }
        DialectId::G3 => {
            let mut body = json!({
                "autoMergeQrCode": false,
                "scene": app.scene,
                "withCustomData": false,
            });
            if let Some(ctx) = &app.context {
                body["context"] = ctx.clone();
            }
            if !app.custom_data.is_empty() {
                body["params"] = Value::Object(app.custom_data.clone());
            }
            if let Some(c) = &app.ext_idp_conn_id {
                body["extIdpConnId"] = json!(c);
            }
            WireRequest::post("/api/v2/qrcode/gene", Some(body))
        }
        DialectId::G4 => {
            let mut body = json!({
                "type": app.qr_type,
                "autoMergeQrCode": false,
            });
            if !app.custom_data.is_empty() {
                body["customData"] = Value::Object(app.custom_data.clone());
            }
            if let Some(ctx) = &app.context {
                body["context"] = ctx.clone();
            }
            if let Some(c) = &app.ext_idp_conn_id {
                body["extIdpConnId"] = json!(c);
            }
            WireRequest::post("/api/v3/gene-qrcode", Some(body))
        }
    };
    // Extensions: query parameters on GET generates, body fields on POST ones (contracts.md §1).
    match req.method {
        Method::Get => {
            if let Some(ch) = &extras.code_challenge {
                req = req
                    .q("codeChallenge", ch.clone())
                    .q("codeChallengeMethod", crate::pkce::METHOD);
            }
            if let Some(r) = &extras.requester {
                for (k, v) in r.pairs() {
                    req = req.q(k, v);
                }
            }
        }
        Method::Post => {
            if let Some(Value::Object(body)) = req.json.as_mut() {
                if let Some(ch) = &extras.code_challenge {
                    body.insert("codeChallenge".into(), json!(ch));
                    body.insert("codeChallengeMethod".into(), json!(crate::pkce::METHOD));
                }
                if let Some(r) = &extras.requester {
                    body.insert("requester".into(), json!(r));
                }
            }
        }
    }
    req.headers = authing_headers(id, app);
    Ok(req)
}

/// The poll request for `handle`.
pub fn build_poll(
    id: DialectId,
    app: &AppParams,
    handle: &str,
    extras: &PollExtras,
) -> WireRequest {
    let mut req = match id {
        DialectId::G1 => {
            let mut r = WireRequest::post("/oauth/wxapp/confirm/qr", None)
                .q("random", handle)
                .q("useSelfWxapp", app.use_self_wxapp.to_string());
            if let Some(v) = &extras.code_verifier {
                r = r.q("codeVerifier", v.expose());
            }
            r
        }
        DialectId::G2 => WireRequest::get("/qrcode/check")
            .q("qrcodeId", handle)
            .q("scene", app.scene.clone()),
        DialectId::G3 => WireRequest::get("/api/v2/qrcode/check").q("random", handle),
        DialectId::G4 => WireRequest::get("/api/v3/get-qrcode-status").q("qrcodeId", handle),
        // Never sent: `Client::poll` hands `device` to the device client. The IdP's document
        // is the one harmless request there is.
        DialectId::Device => WireRequest::get("/.well-known/openid-configuration"),
    };
    if let Some(wait) = extras.wait {
        req = req.q("wait", wait.min(30).to_string());
        if let Some(k) = extras.known {
            req = req.q("known", k);
        }
    }
    req.headers = authing_headers(id, app);
    req
}

/// The ticket exchange. G1 has none (its poll returns the user).
pub fn build_exchange(
    id: DialectId,
    app: &AppParams,
    ticket: &Secret,
    auth: &ExchangeAuth,
) -> Result<WireRequest, CoreError> {
    let path = match id {
        DialectId::G1 => {
            return Err(CoreError::Config(
                "wxapp-legacy has no ticket exchange: its poll returns the user".into(),
            ))
        }
        DialectId::Device => return Err(not_authing()),
        DialectId::G2 => "/oauth/scan-qrcode/exchangeUserInfoWithTicket",
        DialectId::G3 => "/api/v2/qrcode/userinfo",
        DialectId::G4 => "/api/v3/exchange-tokenset-with-qrcode-ticket",
    };
    let mut body = Map::new();
    body.insert("ticket".into(), json!(ticket.expose()));
    let mut headers = authing_headers(id, app);
    match auth {
        ExchangeAuth::None => {}
        ExchangeAuth::Pkce(v) => {
            body.insert("codeVerifier".into(), json!(v.expose()));
        }
        ExchangeAuth::AppSecret(s) => {
            headers.push(("authorization".into(), basic_auth(&app.app_id, s)));
            if id == DialectId::G4 {
                body.insert("client_id".into(), json!(app.app_id));
                body.insert("client_secret".into(), json!(s.expose()));
            }
        }
    }
    let mut req = WireRequest::post(path, Some(Value::Object(body)));
    req.headers = headers;
    Ok(req)
}

/// `GET /api/v3/get-profile` with the token as the v5 SDKs send it (no `Bearer `; our server
/// accepts both).
pub fn build_get_profile(app: &AppParams, token: &Secret) -> WireRequest {
    let mut req = WireRequest::get("/api/v3/get-profile");
    req.headers = authing_headers(DialectId::G4, app);
    req.headers
        .push(("authorization".into(), token.expose().to_owned()));
    req
}

/// The QR text Authing's own apps expect when the server gives no `qrContent` (reference §3.1,
/// §4.1). G1 and G4 publish only an image, so they have none.
pub fn authing_payload(
    id: DialectId,
    app: &AppParams,
    handle: &str,
    created_at_ms: i64,
    ttl: Duration,
) -> Option<String> {
    let created = rfc3339_ms(created_at_ms);
    let pool = app.user_pool_id.clone().unwrap_or_default();
    let v = match id {
        DialectId::G2 => {
            let expire_ms = created_at_ms
                .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2));
            json!({
                "scene": app.scene,
                "qrcodeId": handle,
                "userPoolId": pool,
                "createdAt": created,
                "expireAt": rfc3339_ms(expire_ms),
                "userDefinedData": app.custom_data,
            })
        }
        DialectId::G3 => json!({
            "scene": app.scene,
            "random": handle,
            "userPoolId": pool,
            "createdAt": created,
            "expiresIn": ttl.as_secs(),
            "customData": app.custom_data,
        }),
        DialectId::G1 | DialectId::G4 | DialectId::Device => return None,
    };
    Some(v.to_string())
}

fn rfc3339_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let t = t
        .replace_nanosecond((ms.rem_euclid(1000) as u32) * 1_000_000)
        .unwrap_or(t);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// Parse a generate reply. `sent_random` is the G1 random we made (the server may echo it).
pub fn parse_generate(
    id: DialectId,
    body: &[u8],
    sent_random: Option<&str>,
) -> Result<GeneratedQr, CoreError> {
    if id == DialectId::Device {
        return Err(not_authing());
    }
    let v = wire::object(body)?;
    let data = wire::envelope_data(id, &v)?;
    let handle_key = match id {
        DialectId::G1 | DialectId::G3 => "random",
        DialectId::G2 | DialectId::G4 | DialectId::Device => "qrcodeId",
    };
    let handle = match (wire::string(data, handle_key), sent_random) {
        (Some(h), _) => h,
        (None, Some(r)) if id == DialectId::G1 => r.to_owned(),
        _ => {
            return Err(
                ProtocolError::new(format!("generate reply has no data.{handle_key}")).into(),
            )
        }
    };
    let image_key = match id {
        DialectId::G1 => "qrcode",
        DialectId::G2 => "qrcodeUrl",
        DialectId::G3 | DialectId::G4 | DialectId::Device => "url",
    };
    let expires_in = wire::u64_field(data, "expiresIn").or_else(|| {
        // G1 states its lifetime only as two dates (60 s in the docs example).
        let exp = wire::date_ms(data.get("expiredAt")?)?;
        let created = wire::date_ms(data.get("createdAt")?)?;
        u64::try_from(exp.checked_sub(created)? / 1000).ok()
    });
    let qr = GeneratedQr {
        handle,
        qr_content: wire::string(data, "qrContent"),
        image_url: wire::string(data, image_key),
        scan_id: wire::string(data, "scanId"),
        expires_in,
        check_code: wire::check_code(data.get("checkCode")),
        custom_logo_url: wire::string(data, "customLogoUrl")
            .or_else(|| wire::string(data, "customLogo")),
        user_code: wire::string(data, "userCode"),
        verification_uri: wire::string(data, "verificationUri"),
    };
    if qr.qr_content.is_none() && qr.image_url.is_none() && authing_payload_possible(id) {
        return Ok(qr);
    }
    if qr.qr_content.is_none() && qr.image_url.is_none() {
        return Err(ProtocolError::new("generate reply has neither a QR text nor an image").into());
    }
    Ok(qr)
}

fn authing_payload_possible(id: DialectId) -> bool {
    matches!(id, DialectId::G2 | DialectId::G3)
}

/// Parse a poll reply. Business errors become [`ScanStatus::Failed`]; only an unreadable reply
/// is an error.
pub fn parse_poll(id: DialectId, body: &[u8]) -> Result<ScanStatus, ProtocolError> {
    let v = wire::object(body)?;
    match id {
        DialectId::G1 => wire::poll_g1(&v),
        DialectId::G2 => wire::poll_g2(&v),
        DialectId::G3 => wire::poll_g3(&v),
        DialectId::G4 => wire::poll_g4(&v),
        DialectId::Device => Err(ProtocolError::new(
            "the device dialect is not an Authing poll",
        )),
    }
}

/// A rotating QR's current text in a poll reply (`data.qrContent`, contracts.md §1), in every
/// generation's envelope; `None` from servers that do not rotate.
pub fn rotated_qr_content(body: &[u8]) -> Option<String> {
    let v = wire::object(body).ok()?;
    wire::string(v.get("data")?, "qrContent")
}

/// Parse an exchange reply.
pub fn parse_exchange(id: DialectId, body: &[u8]) -> Result<Exchanged, CoreError> {
    let v = wire::object(body)?;
    let data = wire::envelope_data(id, &v)?;
    match id {
        DialectId::G1 => Err(CoreError::Config(
            "wxapp-legacy has no ticket exchange".into(),
        )),
        DialectId::G2 | DialectId::G3 => {
            let user = parse_user(data);
            if user.token.is_none() {
                return Err(ProtocolError::new("exchange reply has no user token").into());
            }
            Ok(Exchanged::User(user))
        }
        DialectId::G4 => Ok(Exchanged::TokenSet(parse_token_set(data)?)),
        DialectId::Device => Err(not_authing()),
    }
}

/// `device` is RFC 8628, spoken by the client's device module, not by these builders.
fn not_authing() -> CoreError {
    CoreError::Config("the device dialect has no Authing requests (RFC 8628 instead)".into())
}

/// Is this business code "the QR is gone", after which only a new QR helps?
pub fn is_qr_gone(code: i64) -> bool {
    matches!(code, codes::QR_NOT_FOUND | codes::QR_EXPIRED)
}
