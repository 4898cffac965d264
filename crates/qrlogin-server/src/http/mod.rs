//! The HTTP layer under every endpoint: the state each handler gets ([`AppState`]), the request
//! context extractor ([`Ctx`]: language, client address, rate limit, body), the one reply type
//! ([`Reply`]) rendered by each generation's envelope, request parsing, who is calling
//! (`auth`), and the OAuth error shape. It sits between the domain ([`crate::server::Server`]
//! and its flows) and the endpoints (`gen/*`, `oidc`, `device`, `approval`), and imports none
//! of the latter.

pub(crate) mod auth;
pub(crate) mod context;
pub(crate) mod oauth;
pub(crate) mod reply;
pub(crate) mod request;

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;

use crate::devicecode::{self, Pace};
use crate::errors::ApiError;
use crate::limits::{EdgeLimits, HeldPolls};
use crate::model::{App, QrSession, Status, User};
use crate::ratelimit::{Kind, Limiter};
use crate::server::Server;

pub(crate) use context::{limit, Ctx};
pub(crate) use reply::{Code, Envelope, Reply, V3};

/// What every handler gets. One `Arc`: axum clones the state into each request's handler, and
/// one reference count to bump is cheaper than one per field (issue 14's throughput profile:
/// the per-request clone and drop of a many-`Arc` state were ~8 % of a poll).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Clone)]
pub struct Shared {
    pub server: Server,
    /// Scheme, host and optional path prefix; no trailing slash.
    pub public_url: Arc<str>,
    /// The path part of `public_url` (empty or `/prefix`), for links inside pages.
    pub base_path: Arc<str>,
    pub limiter: Arc<Limiter>,
    pub shutdown: watch::Receiver<bool>,
    pub secure_cookies: bool,
    /// Long-polls held now, capped per client and per session (limits.rs).
    pub held_polls: Arc<HeldPolls>,
    /// RFC 8628 polling pace per device code (devicecode.rs).
    pub device_pace: Arc<Pace>,
    /// WeChat's API for mini-program sign-ins (`--wechat-api-base`; idp/wechat.rs).
    pub wechat: Arc<crate::idp::wechat::Wechat>,
}

impl AppState {
    pub fn new(
        server: Server,
        public_url: &str,
        limiter: Arc<Limiter>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let parsed = url::Url::parse(public_url).ok();
        let base_path = parsed
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let secure_cookies = parsed.is_some_and(|u| u.scheme() == "https");
        AppState(Arc::new(Shared {
            server,
            public_url: public_url.into(),
            base_path: base_path.into(),
            limiter,
            shutdown,
            secure_cookies,
            held_polls: HeldPolls::new(&EdgeLimits::default()),
            device_pace: Arc::default(),
            wechat: Arc::new(crate::idp::wechat::Wechat::new(
                crate::idp::wechat::DEFAULT_API_BASE,
            )),
        }))
    }

    /// Changes a setting before the state is handed to the router (it is not shared yet, so
    /// nothing is copied).
    pub fn with(mut self, change: impl FnOnce(&mut Shared)) -> Self {
        change(Arc::make_mut(&mut self.0));
        self
    }

    /// A requester's poll of `handle` for `client`; a long one takes a place under the caps
    /// of held long-polls (429 at once over them) for as long as it is held.
    pub async fn long_poll(
        &self,
        client: IpAddr,
        handle: &str,
        wait: Option<u64>,
        known: Option<Status>,
    ) -> Result<Arc<QrSession>, ApiError> {
        let _hold = match (wait, known) {
            (Some(w), Some(_)) if w > 0 => Some(self.held_polls.try_hold(client, handle)?),
            _ => None,
        };
        self.server
            .poll(handle, wait, known, self.shutdown.clone())
            .await
    }

    /// The name of the pre-sign-in CSRF cookie. Over https it carries the `__Host-` prefix
    /// (Secure, Path=/, no Domain: no sibling subdomain can plant one). A plain-http public URL
    /// (loopback, or the desktop app's LAN mode) cannot: browsers drop Secure cookies set over
    /// http, which would break sign-in, and on plain http a network attacker can read and set
    /// any cookie anyway, so the prefix would promise nothing there.
    pub fn csrf_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            auth::CSRF_COOKIE_HOST
        } else {
            auth::CSRF_COOKIE
        }
    }

    pub fn limit(&self, kind: Kind, ip: IpAddr) -> Result<(), ApiError> {
        let r = self.limiter.check(kind, ip);
        if r.is_err() {
            tracing::warn!(%ip, ?kind, "rate limited");
        }
        r
    }

    /// A user code is guessable (34 bits), so every lookup by one costs what a password try
    /// costs, in any form it is accepted in (`WDJB-MJHT`, `wdjbmjht`: see typed_code.rs).
    pub fn limit_user_code_guess(&self, id: &str, ip: IpAddr) -> Result<(), ApiError> {
        if devicecode::normalize_user_code(id).is_some() {
            self.limit(Kind::SignIn, ip)?;
        }
        Ok(())
    }

    /// For a poll reply: `qrContent` (and `scanId`, `qrcodeUrl`-style image) of a rotating QR
    /// that has turned since the generate reply (contracts.md §1); empty otherwise.
    pub async fn rotation_fields(
        &self,
        s: &QrSession,
    ) -> Result<serde_json::Map<String, Value>, ApiError> {
        let mut m = serde_json::Map::new();
        if let Some((content, id)) = self.server.rotated_qr(s, &self.public_url).await? {
            m.insert("qrContent".into(), content.into());
            m.insert("scanId".into(), id.clone().into());
            m.insert("qrImage".into(), self.qr_png_url(&id).into());
        }
        Ok(m)
    }

    /// G3 `customLogo` / G4 `customLogoUrl`: the app's logo, or `""` as Authing sends without.
    pub fn logo_url(&self, app: &App) -> String {
        match app.logo_png {
            Some(_) => format!("{}/logos/{}.png", self.public_url, app.app_id),
            None => String::new(),
        }
    }

    pub fn qr_png_url(&self, scan_id: &str) -> String {
        format!("{}/qrcode/{scan_id}.png", self.public_url)
    }

    pub fn photo_of(&self, user: &User) -> String {
        match user.photo.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => p.to_owned(),
            None => format!("{}/avatars/{}.png", self.public_url, user.id),
        }
    }
}
