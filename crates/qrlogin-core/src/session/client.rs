//! `Client`: one configured server (base URL, dialect, app) with its HTTP transport and the
//! extensions it announced. It performs single protocol steps; `LoginSession` strings them.

mod device;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{SystemClock, WallClock};
use crate::dialect::{
    self, AppParams, DialectId, ExchangeAuth, Exchanged, GenerateExtras, GeneratedQr, PollExtras,
    Requester, ScanStatus, WireRequest, WireUser,
};
use crate::discovery::{self, Extensions};
use crate::error::{CoreError, ProtocolError, Shape};
use crate::http::{self, HttpReply, HttpRequest, Limits, ReqwestTransport, Transport};
use crate::media;
use crate::pkce::Pkce;
use crate::profile::{self, Profile};
use crate::qr::{self, QrOptions, RenderedQr};
use crate::secret::Secret;

/// QR lifetime when the server does not say (PROTOCOL.md §2, Authing's console default).
pub const DEFAULT_QR_TTL: Duration = Duration::from_secs(120);

/// Everything needed to talk to one server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http(s)://host[:port][/prefix]`, no trailing slash needed.
    pub base_url: String,
    pub dialect: DialectId,
    pub app: AppParams,
    /// For server-side use only: Basic auth on the exchange when no PKCE binding is possible.
    pub app_secret: Option<Secret>,
    /// Sent when the server announces `requester` (PROTOCOL.md §4.3). `ClientConfig::new` fills
    /// in this machine (host name, OS) and "qrlogin"; the shell may name itself instead.
    pub requester: Option<Requester>,
    pub limits: Limits,
    /// Ask `/.well-known/qrlogin`; off = always the plain Authing protocol.
    pub discover: bool,
    /// Allow plain `http://` to a host other than this machine (`server.allow_insecure_http`).
    /// Loopback is always allowed.
    pub allow_insecure_http: bool,
    /// Source of `expiresAt` and of "now" for token expiry.
    pub clock: Arc<dyn WallClock>,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, dialect: DialectId, app_id: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            dialect,
            app: AppParams {
                app_id: app_id.into(),
                ..AppParams::default()
            },
            app_secret: None,
            requester: Some(Requester::this_machine(
                "qrlogin",
                env!("CARGO_PKG_VERSION"),
            )),
            limits: Limits::default(),
            discover: true,
            allow_insecure_http: false,
            clock: Arc::new(SystemClock),
        }
    }
}

/// A QR ready to show: the server's answer, the picture, and its lifetime.
#[derive(Debug, Clone)]
pub struct ShownQr {
    pub qr: GeneratedQr,
    pub rendered: RenderedQr,
    /// The text the QR encodes.
    pub text: String,
    pub ttl: Duration,
    pub created_at_ms: i64,
}

pub struct Client {
    config: ClientConfig,
    base: url::Url,
    transport: Arc<dyn Transport>,
    http: reqwest::Client,
    /// A definite discovery answer, once we have one.
    extensions: tokio::sync::Mutex<Option<Extensions>>,
    /// The `device` dialect's endpoints and polling pace (device.rs).
    device: tokio::sync::Mutex<device::DeviceState>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the production transport (reqwest with the limits of `config.limits`).
    pub fn new(config: ClientConfig) -> Result<Self, CoreError> {
        let http = http::build_client(&config.limits)?;
        let transport = Arc::new(ReqwestTransport::new(http.clone(), &config.limits));
        Self::with_transport(config, transport, http)
    }

    /// A client over another transport (tests script the server this way). `http` still serves
    /// image downloads (avatars, server QR images).
    pub fn with_transport(
        config: ClientConfig,
        transport: Arc<dyn Transport>,
        http: reqwest::Client,
    ) -> Result<Self, CoreError> {
        let base = url::Url::parse(config.base_url.trim())
            .map_err(|e| CoreError::Config(format!("server URL {:?}: {e}", config.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(CoreError::Config(format!(
                "server URL {:?} must be http(s)://host",
                config.base_url
            )));
        }
        if http::is_insecure_remote(&base) && !config.allow_insecure_http {
            return Err(CoreError::Config(format!(
                "server.url {:?} is plain http to another machine: the sign-in would cross the \
                 network in clear. Use https, or set server.allow_insecure_http = true",
                config.base_url
            )));
        }
        Ok(Self {
            config,
            base,
            transport,
            http,
            extensions: tokio::sync::Mutex::new(None),
            device: tokio::sync::Mutex::default(),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn dialect(&self) -> DialectId {
        self.config.dialect
    }

    /// The reqwest client (same limits) for downloads outside the protocol.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// The server's extensions, best effort: a failed request means none for now (the next call
    /// asks again). The login session uses [`Client::discover`] instead, which retries.
    pub async fn extensions(&self) -> Extensions {
        self.discover().await.unwrap_or_default()
    }

    /// The server's extensions. A definite answer is remembered for the client's life: our
    /// document (`version` ≥ 1), or Authing's "not found" (404/410, not a page: a proxy's 404
    /// page may pass). A web page, a JSON object
    /// that is not our document, or another 4xx means "no extensions for now" and is asked again
    /// with the next QR (an Authing domain may serve its login page there; so may a captive
    /// portal or a gateway in front of our server). Anything that may pass — the network, a 5xx,
    /// a 429, a body that is not JSON, cut off or not UTF-8 — is an error: the session retries it
    /// before making a QR, so an outage never silently drops PKCE.
    pub async fn discover(&self) -> Result<Extensions, CoreError> {
        if self.dialect() == DialectId::Device {
            return self.device_discover().await;
        }
        self.qrlogin_extensions().await
    }

    /// `/.well-known/qrlogin`, as [`Client::discover`] describes.
    async fn qrlogin_extensions(&self) -> Result<Extensions, CoreError> {
        if !self.config.discover {
            return Ok(Extensions::default());
        }
        let mut cached = self.extensions.lock().await;
        if let Some(e) = *cached {
            return Ok(e);
        }
        let req = WireRequest {
            method: http::Method::Get,
            path: discovery::PATH.into(),
            query: Vec::new(),
            json: None,
            headers: Vec::new(),
        };
        let reply = self.send(&req, None).await?;
        if is_success(reply.status)
            && !matches!(
                crate::failure::shape_of(&reply.body),
                Shape::WebPage | Shape::Incomplete
            )
        {
            return Err(bad_reply(&reply));
        }
        let Some(ext) = discovery::parse(reply.status, &reply.body) else {
            return Err(bad_reply(&reply));
        };
        tracing::debug!(extensions = ?ext, status = reply.status, "discovery");
        let not_found = matches!(reply.status, 404 | 410)
            && crate::failure::shape_of(&reply.body) != Shape::WebPage;
        if ext.is_qrlogin_server() || not_found {
            *cached = Some(ext);
        }
        Ok(ext)
    }

    fn url_for(&self, req: &WireRequest) -> Result<url::Url, CoreError> {
        let base = self.base.as_str().trim_end_matches('/');
        let mut url = url::Url::parse(&format!("{base}{}", req.path))
            .map_err(|e| CoreError::Config(format!("bad request path {}: {e}", req.path)))?;
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter());
        }
        Ok(url)
    }

    /// Send one request within the limits. HTTP 429 becomes [`CoreError::RateLimited`]; every
    /// other status is returned for the dialect to read (G4 errors are JSON with a 4xx status).
    pub async fn send(
        &self,
        req: &WireRequest,
        long_poll_wait: Option<Duration>,
    ) -> Result<HttpReply, CoreError> {
        let timeout = self.config.limits.timeout_for(long_poll_wait);
        let body = match &req.json {
            Some(v) => Some(
                serde_json::to_vec(v)
                    .map_err(|e| CoreError::Config(format!("cannot encode body: {e}")))?,
            ),
            None => None,
        };
        let http_req = HttpRequest {
            method: req.method,
            url: self.url_for(req)?,
            headers: req.headers.clone(),
            body,
            timeout,
        };
        tracing::trace!(request = ?http_req, "send");
        // The transport applies its own timeouts too; this one also bounds a transport that
        // never answers.
        let reply = tokio::time::timeout(timeout, self.transport.send(http_req))
            .await
            .map_err(|_| CoreError::Timeout(timeout))??;
        if reply.body.len() > self.config.limits.max_reply_bytes {
            return Err(CoreError::TooLarge {
                limit: self.config.limits.max_reply_bytes,
            });
        }
        if reply.status == 429 {
            return Err(CoreError::RateLimited {
                retry_after: reply.retry_after,
            });
        }
        Ok(reply)
    }

    /// The exchange proof to use: our verifier when we sent a challenge, else the app secret
    /// when configured, else none.
    pub fn exchange_auth(&self, pkce: Option<&Pkce>) -> ExchangeAuth {
        match (pkce, &self.config.app_secret) {
            (Some(p), _) => ExchangeAuth::Pkce(p.verifier().clone()),
            (None, Some(s)) if !s.is_empty() => ExchangeAuth::AppSecret(s.clone()),
            _ => ExchangeAuth::None,
        }
    }

    /// Generate a QR. `pkce` is sent as the challenge when given.
    pub async fn generate(&self, pkce: Option<&Pkce>) -> Result<GeneratedQr, CoreError> {
        let ext = self.extensions().await;
        self.generate_for(pkce, &ext).await
    }

    /// Generate a QR for a server whose extensions are `ext`.
    pub async fn generate_for(
        &self,
        pkce: Option<&Pkce>,
        ext: &Extensions,
    ) -> Result<GeneratedQr, CoreError> {
        if self.dialect() == DialectId::Device {
            return self.device_authorize(pkce, ext).await;
        }
        let random = (self.dialect() == DialectId::G1).then(dialect::new_random);
        let extras = GenerateExtras {
            random: random.clone(),
            code_challenge: pkce.map(|p| p.challenge().to_owned()),
            requester: if ext.requester {
                self.config.requester.clone()
            } else {
                None
            },
        };
        let req = dialect::build_generate(self.dialect(), &self.config.app, &extras)?;
        let reply = self.send(&req, None).await?;
        let dialect = self.dialect();
        decode(&reply, |b| {
            dialect::parse_generate(dialect, b, random.as_deref())
        })
    }

    /// Generate and render a QR for display, for a server whose extensions are `ext`.
    pub async fn new_qr(
        &self,
        pkce: Option<&Pkce>,
        ext: &Extensions,
        opts: &QrOptions,
    ) -> Result<ShownQr, CoreError> {
        let qr = self.generate_for(pkce, ext).await?;
        let created_at_ms = self.now_ms();
        let ttl = qr
            .expires_in
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_QR_TTL);
        let text = qr.qr_content.clone().or_else(|| {
            dialect::authing_payload(
                self.dialect(),
                &self.config.app,
                &qr.handle,
                created_at_ms,
                ttl,
            )
        });
        let rendered = match (&text, &qr.image_url) {
            (Some(t), _) => match &qr.custom_logo_url {
                Some(l) => {
                    let logo = self.absolute(l)?;
                    qr::render_with_logo_url(&self.http, t, logo.as_str(), opts)
                        .await
                        .map_err(qr_error)?
                }
                None => qr::render(t, opts).map_err(qr_error)?,
            },
            (None, Some(img)) => {
                let img = self.absolute(img)?;
                let logo = match &qr.custom_logo_url {
                    Some(l) => Some(self.absolute(l)?.to_string()),
                    None => None,
                };
                qr::from_image(&self.http, img.as_str(), logo.as_deref())
                    .await
                    .map_err(qr_error)?
            }
            (None, None) => {
                return Err(ProtocolError::new("the server gave no QR to show").into());
            }
        };
        let text = text
            .or_else(|| rendered.text.clone())
            .or_else(|| qr.image_url.clone())
            .unwrap_or_default();
        Ok(ShownQr {
            qr,
            rendered,
            text,
            ttl,
            created_at_ms,
        })
    }

    /// One poll.
    pub async fn poll(&self, handle: &str, extras: &PollExtras) -> Result<ScanStatus, CoreError> {
        Ok(self.poll_qr(handle, extras).await?.0)
    }

    /// One poll, with the new QR text when a rotating QR (our server, contracts.md §1) has
    /// changed its code since the generate reply.
    pub async fn poll_qr(
        &self,
        handle: &str,
        extras: &PollExtras,
    ) -> Result<(ScanStatus, Option<String>), CoreError> {
        if self.dialect() == DialectId::Device {
            return Ok((self.device_poll(handle, extras).await?, None));
        }
        let req = dialect::build_poll(self.dialect(), &self.config.app, handle, extras);
        let reply = self
            .send(&req, extras.wait.map(Duration::from_secs))
            .await?;
        match dialect::parse_poll(self.dialect(), &reply.body) {
            Ok(s) if is_success(reply.status) || matches!(s, ScanStatus::Failed { .. }) => {
                Ok((s, dialect::rotated_qr_content(&reply.body)))
            }
            _ => Err(bad_reply(&reply)),
        }
    }

    /// Exchange a ticket (G2, G3, G4).
    pub async fn exchange(
        &self,
        ticket: &Secret,
        auth: &ExchangeAuth,
    ) -> Result<Exchanged, CoreError> {
        let req = dialect::build_exchange(self.dialect(), &self.config.app, ticket, auth)?;
        let reply = self.send(&req, None).await?;
        let dialect = self.dialect();
        decode(&reply, |b| dialect::parse_exchange(dialect, b))
    }

    /// `GET /api/v3/get-profile` with a token.
    pub async fn get_profile(&self, token: &Secret) -> Result<WireUser, CoreError> {
        if self.dialect() == DialectId::Device {
            return self.device_profile(token).await;
        }
        let req = dialect::build_get_profile(&self.config.app, token);
        let reply = self.send(&req, None).await?;
        decode(&reply, dialect::parse_profile)
    }

    /// Download an image as a data URL, or `None` (an avatar is never worth failing a login).
    pub async fn image_data_url(&self, url: &str) -> Option<String> {
        if url.starts_with("data:image/") {
            return Some(url.to_owned());
        }
        let url = self.absolute(url).ok()?;
        match media::fetch_image_data_url(&self.http, url.as_str(), media::FetchLimits::default())
            .await
        {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::debug!(error = %e, "image not shown");
                None
            }
        }
    }

    fn absolute(&self, url: &str) -> Result<url::Url, CoreError> {
        self.base
            .join(url)
            .map_err(|e| ProtocolError::new(format!("bad URL {url:?}: {e}")).into())
    }

    /// Check a remembered token and return the profile it belongs to. Servers with
    /// `get-profile` (ours, and G4 Authing) are asked; otherwise the JWT's `exp` is read without
    /// verification and trusted until then.
    pub async fn check_token(&self, token: &Secret) -> Result<Profile, CoreError> {
        let ext = self.extensions().await;
        let expires_at = profile::jwt_expiry_ms(token.expose());
        if ext.is_qrlogin_server() || matches!(self.dialect(), DialectId::G4 | DialectId::Device) {
            let user = self.get_profile(token).await?;
            let mut p = Profile::from_user(&user, expires_at);
            if let Some(photo) = &user.photo {
                p.avatar = self.image_data_url(photo).await;
            }
            return Ok(p);
        }
        let claims = profile::jwt_claims(token.expose()).ok_or_else(|| CoreError::Denied {
            code: 401,
            message: "the remembered token is not a JWT".into(),
        })?;
        let p = profile::profile_from_claims(&claims).ok_or_else(|| CoreError::Denied {
            code: 401,
            message: "the remembered token names no user".into(),
        })?;
        match p.expires_at {
            Some(exp) if exp > self.now_ms() => Ok(p),
            _ => Err(CoreError::Denied {
                code: 401,
                message: "the remembered session has expired".into(),
            }),
        }
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// An unusable reply, described by its status, length and shape; none of its content is kept.
fn bad_reply(reply: &HttpReply) -> CoreError {
    CoreError::BadReply {
        status: reply.status,
        len: reply.body.len(),
        shape: crate::failure::shape_of(&reply.body),
    }
}

/// Read a reply with a dialect parser. A readable business error is kept whatever the status
/// (G4 sends 4xx with `apiCode`); anything else unreadable becomes [`CoreError::BadReply`].
fn decode<T>(
    reply: &HttpReply,
    parse: impl FnOnce(&[u8]) -> Result<T, CoreError>,
) -> Result<T, CoreError> {
    match parse(&reply.body) {
        Ok(v) if is_success(reply.status) => Ok(v),
        Err(e @ (CoreError::Server { .. } | CoreError::Denied { .. } | CoreError::Config(_))) => {
            Err(e)
        }
        _ => Err(bad_reply(reply)),
    }
}

fn qr_error(e: qr::QrError) -> CoreError {
    match e {
        qr::QrError::Media(media::MediaError::Http(m)) => {
            CoreError::Network(format!("QR image: {m}"))
        }
        qr::QrError::Media(media::MediaError::Timeout) => CoreError::Timeout(http::REQUEST_TIMEOUT),
        other => ProtocolError::new(format!("QR code: {other}")).into(),
    }
}
