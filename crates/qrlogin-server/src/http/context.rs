//! The request context every API handler takes: [`Ctx<E, L>`] reads the language
//! (`x-authing-lang`), the client address (set by the accept loop from the trusted-proxy rules
//! of client_addr.rs), takes a token of the rate limit `L` for that address (ratelimit.rs), and
//! holds the body for [`Ctx::json`]. What it refuses (a rate limit) it answers in the envelope
//! `E` of the endpoint, as the handler would.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{header, Extensions, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::reply::{Envelope, Reply};
use super::request::{exchange_auth, header_str, json_body};
use super::AppState;
use crate::client_addr::ClientAddr;
use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::model::App;
use crate::service::ExchangeAuth;

/// The rate limit a route is counted under, as a type: `Ctx<Code, limit::Poll>`.
pub(crate) mod limit {
    use crate::ratelimit::Kind;

    pub(crate) trait Limit: Send + 'static {
        const KIND: Option<Kind>;
    }

    macro_rules! limits {
        ($($(#[$doc:meta])* $name:ident => $kind:expr;)*) => {$(
            $(#[$doc])*
            pub(crate) struct $name;
            impl Limit for $name {
                const KIND: Option<Kind> = $kind;
            }
        )*};
    }

    limits! {
        /// QR generates (and device authorizations).
        Generate => Some(Kind::Generate);
        /// Polls, and the phone side (scan, confirm, cancel).
        Poll => Some(Kind::Poll);
        /// Ticket and token exchanges.
        Exchange => Some(Kind::Exchange);
        /// Password sign-ins.
        SignIn => Some(Kind::SignIn);
        /// No limit of its own (a token already identifies the caller).
        Unlimited => None;
    }
}

/// What a handler knows about its request, after the rate limit `L` let it through.
pub(crate) struct Ctx<E, L = limit::Unlimited> {
    pub state: AppState,
    pub lang: Lang,
    /// The client (never the proxy in front of us).
    pub ip: IpAddr,
    pub headers: HeaderMap,
    body: Bytes,
    marker: PhantomData<fn() -> (E, L)>,
}

impl<E: Envelope, L: limit::Limit> FromRequest<AppState> for Ctx<E, L> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_api_headers(req.headers());
        let ip = client_ip(req.extensions());
        // Moved, not copied: most requests are answered at once. A held long-poll keeps only
        // copies of the few headers it reads after the wait (`Ctx::detach_for_hold`).
        let mut req = req;
        let headers = std::mem::take(req.headers_mut());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(kind) = L::KIND {
            state.limit(kind, ip).map_err(|e| E::fail(lang, &e))?;
        }
        Ok(Ctx {
            state: state.clone(),
            lang,
            ip,
            headers,
            body,
            marker: PhantomData,
        })
    }
}

/// The headers a long-poll reads after its wait: the app and the client credentials of the
/// exchange a G1 poll makes once authorized, and what the device-code grant's form needs.
const READ_AFTER_HOLD: [HeaderName; 3] = [
    HeaderName::from_static("x-authing-app-id"),
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
];

/// Owned copies of the headers `keep` names. hyper's header values (and a small body) are
/// slices of the connection's 8 KiB read buffer, which a held long-poll would otherwise keep
/// alive for its whole wait, and hyper would reserve a second one meanwhile to notice the
/// client leaving: with 10 000 waiters that is most of the server's memory (BENCHMARKS.md row 6).
fn detached(headers: &HeaderMap, keep: &[HeaderName]) -> HeaderMap {
    let mut owned = HeaderMap::new();
    for name in keep {
        for value in headers.get_all(name) {
            // `from_bytes` copies; the bytes were a valid header value already.
            if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
                copy.set_sensitive(value.is_sensitive());
                owned.append(name.clone(), copy);
            }
        }
    }
    owned
}

/// The client address the accept loop (conn.rs) put into the request.
fn client_ip(ext: &Extensions) -> IpAddr {
    if let Some(ClientAddr(ip)) = ext.get::<ClientAddr>() {
        return *ip;
    }
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

impl<E, L> Ctx<E, L> {
    /// Before a long-poll is held: let go of the request's bytes (headers and body are slices
    /// of hyper's read buffer), keeping owned copies of what the handler reads afterwards.
    pub fn detach_for_hold(&mut self) {
        self.headers = detached(&self.headers, &READ_AFTER_HOLD);
        self.body = Bytes::copy_from_slice(&self.body);
    }
}

impl<E: Envelope, L> Ctx<E, L> {
    /// The body as JSON (an empty body is `{}`); a 400 in the endpoint's envelope otherwise.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        json_body(&self.body)
    }

    /// The body as it came (form-encoded token requests read it with `oauth::params`).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header_str(&self.headers, name)
    }

    /// The app `x-authing-app-id` names, or the pool's default app without one.
    pub async fn app(&self) -> Result<App, ApiError> {
        self.state
            .server
            .app_for(self.header("x-authing-app-id"))
            .await
    }

    /// The credentials an exchange presents (headers) with the body's PKCE verifier.
    pub fn exchange_auth(&self, verifier: Option<String>) -> ExchangeAuth {
        exchange_auth(&self.headers, verifier)
    }

    /// The reply, with the envelope's own success message.
    pub fn reply<T: Serialize>(&self, result: Result<T, ApiError>) -> Reply<E, T> {
        Reply::new(self.lang, None, result)
    }

    /// The reply, with the endpoint's success message (zh-CN, en-US).
    pub fn reply_saying<T: Serialize>(
        &self,
        (zh, en): (&'static str, &'static str),
        result: Result<T, ApiError>,
    ) -> Reply<E, T> {
        Reply::new(self.lang, Some(self.lang.pick(zh, en)), result)
    }
}
