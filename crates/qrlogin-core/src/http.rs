//! HTTP with the engine's limits: connect timeout 5 s, request timeout 10 s (long-poll: wait + 5 s),
//! replies over 1 MiB rejected while streaming. A [`Transport`] trait lets tests script replies.
//! The client trusts the OS certificate store plus `network.ca_file` (read at the first https
//! handshake: `trust.rs`), and goes out through `network.proxy` ([`NetworkOptions`]).

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use crate::error::CoreError;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Added to a long-poll's `wait` so the server's own answer at the end of the wait arrives in time.
pub const LONG_POLL_MARGIN: Duration = Duration::from_secs(5);
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

pub fn user_agent() -> String {
    format!(
        "qrlogin/{} (+https://github.com/qrlogin/qrlogin)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The limits every request obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub long_poll_margin: Duration,
    pub max_reply_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            long_poll_margin: LONG_POLL_MARGIN,
            max_reply_bytes: MAX_REPLY_BYTES,
        }
    }
}

impl Limits {
    /// The timeout of one request; a long-poll that may be held `wait` gets `wait + margin`.
    pub fn timeout_for(&self, long_poll_wait: Option<Duration>) -> Duration {
        match long_poll_wait {
            Some(w) => w + self.long_poll_margin,
            None => self.request_timeout,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request, ready to send.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    /// A JSON body, already serialized.
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }
}

/// Debug output hides credentials: `Authorization` headers, PKCE verifiers and the polling handle
/// (`random`, `qrcodeId`: whoever has it can poll the session, PROTOCOL.md §4.1) never reach a log.
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("authorization") {
                    (n.as_str(), "***")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        let mut url = self.url.clone();
        let pairs: Vec<(String, String)> = self
            .url
            .query_pairs()
            .map(|(n, v)| {
                let hidden = matches!(
                    n.as_ref(),
                    "codeVerifier" | "random" | "qrcodeId" | "scanId"
                );
                let v = if hidden { "***".into() } else { v };
                (n.into_owned(), v.into_owned())
            })
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &url.as_str())
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A complete reply (the body is already read, within the size limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// `Retry-After`, when the server sent one we could read.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            retry_after: None,
            body: value.to_string().into_bytes(),
        }
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one request and reads the whole reply. The engine applies the request's timeout around
/// every call too, so a transport that never answers still ends.
pub trait Transport: Send + Sync {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpReply, CoreError>>;
}

/// The production transport.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_reply_bytes: usize,
}

impl ReqwestTransport {
    pub fn new(client: reqwest::Client, limits: &Limits) -> Self {
        Self {
            client,
            max_reply_bytes: limits.max_reply_bytes,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// The engine's client with the default network: the OS store, the environment's proxy.
pub fn build_client(limits: &Limits) -> Result<reqwest::Client, CoreError> {
    build_client_with(limits, &NetworkOptions::default())
}

/// The one place the engine's reqwest client is configured.
pub fn build_client_with(
    limits: &Limits,
    network: &NetworkOptions,
) -> Result<reqwest::Client, CoreError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.request_timeout)
        .user_agent(user_agent())
        .redirect(redirect_policy())
        // The OS store plus network.ca_file, on ring; the store is read at the first https
        // handshake, not here (trust.rs).
        .tls_backend_preconfigured(crate::trust::client_config(network.extra_roots()?));
    builder = match &network.proxy {
        // reqwest reads HTTP(S)_PROXY, ALL_PROXY and NO_PROXY by default.
        ProxyChoice::System => builder,
        ProxyChoice::Direct => builder.no_proxy(),
        ProxyChoice::Url(url) => builder.proxy(
            reqwest::Proxy::all(url)
                .map_err(|e| CoreError::Config(format!("network.proxy `{url}`: {e}")))?,
        ),
    };
    builder
        .build()
        .map_err(|e| CoreError::Config(format!("cannot build the HTTP client: {e}")))
}

/// Why a redirect was refused; found again in the reqwest error's sources by [`map_reqwest`].
#[derive(Debug)]
struct RedirectRefused(&'static str);

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// Authing never redirects these calls. A redirect on the same host (a trailing slash, http to
/// https) is followed, up to 3 hops; one to another host would carry the handle, the ticket and
/// the verifier to whoever it names, and one from https to http would send them in clear.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        let last = attempt.previous().last().cloned();
        match redirect_verdict(first.as_ref(), last.as_ref(), attempt.url()) {
            Some(reason) => attempt.error(RedirectRefused(reason)),
            None if attempt.previous().len() > 3 => {
                attempt.error(RedirectRefused("too many redirects"))
            }
            None => attempt.follow(),
        }
    })
}

/// `Some(reason)` when a redirect from `last` (the chain started at `first`) to `next` is refused.
pub fn redirect_verdict(
    first: Option<&url::Url>,
    last: Option<&url::Url>,
    next: &url::Url,
) -> Option<&'static str> {
    if let Some(first) = first {
        if first.host_str() != next.host_str() {
            return Some("redirect to another host");
        }
    }
    if last.is_some_and(|l| l.scheme() == "https") && next.scheme() != "https" {
        return Some("redirect from https to http");
    }
    None
}

/// Whether `url` is plain http to a host other than this machine: the handle, the ticket and the
/// token would cross the network in clear. `localhost`, 127.0.0.0/8 and ::1 are this machine.
pub fn is_insecure_remote(url: &url::Url) -> bool {
    if url.scheme() != "http" {
        return false;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d != "localhost" && !d.ends_with(".localhost")
        }
        None => true,
    }
}

/// Whom the engine trusts and which way it goes out (`[network]` in the config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkOptions {
    /// A PEM file of one or more CA certificates trusted on top of the OS certificate store
    /// (a company CA that signs the self-hosted server's certificate).
    pub ca_file: Option<PathBuf>,
    pub proxy: ProxyChoice,
}

/// `network.proxy`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxyChoice {
    /// `"system"`: `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` from the environment.
    #[default]
    System,
    /// `"none"`: always connect directly, whatever the environment says.
    Direct,
    /// An `http://`, `https://`, `socks5://` or `socks5h://` URL, for every request.
    Url(String),
}

pub const PROXY_SCHEMES: [&str; 4] = ["http", "https", "socks5", "socks5h"];

impl ProxyChoice {
    /// Reads `network.proxy`; the error says what is accepted.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim() {
            "" | "system" => Ok(ProxyChoice::System),
            "none" => Ok(ProxyChoice::Direct),
            raw => {
                let url = url::Url::parse(raw).map_err(|e| {
                    format!("`{raw}` is not a URL ({e}); use \"system\", \"none\" or a URL like http://proxy.example:3128")
                })?;
                if !PROXY_SCHEMES.contains(&url.scheme()) {
                    return Err(format!(
                        "`{}` proxies are not supported; use \"system\", \"none\" or an http://, https://, socks5:// or socks5h:// URL",
                        url.scheme()
                    ));
                }
                if url.host().is_none() {
                    return Err(format!("`{raw}` names no proxy host"));
                }
                Ok(ProxyChoice::Url(raw.to_string()))
            }
        }
    }
}

impl NetworkOptions {
    /// From the config's `network.ca_file` and `network.proxy` strings.
    pub fn from_config(ca_file: &str, proxy: &str) -> Result<Self, CoreError> {
        let ca_file = ca_file.trim();
        Ok(Self {
            ca_file: (!ca_file.is_empty()).then(|| PathBuf::from(ca_file)),
            proxy: ProxyChoice::parse(proxy)
                .map_err(|e| CoreError::Config(format!("network.proxy: {e}")))?,
        })
    }

    /// Reads and parses `ca_file`, so that a missing or broken file is reported at start-up with
    /// the key's name, not later as a failed TLS handshake.
    pub fn extra_roots(
        &self,
    ) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, CoreError> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let Some(path) = &self.ca_file else {
            return Ok(Vec::new());
        };
        let bad =
            |why: String| CoreError::Config(format!("network.ca_file {}: {why}", path.display()));
        let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("not a PEM certificate file ({e})")))?;
        if certs.is_empty() {
            return Err(bad(
                "holds no certificate (expected one or more -----BEGIN CERTIFICATE----- blocks)"
                    .into(),
            ));
        }
        // Parsed as trust anchors now (cheap: only these), so that a damaged certificate is
        // reported here and not at the first handshake, where the OS store is read (trust.rs).
        let mut anchors = rustls::RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            anchors.add(cert.clone()).map_err(|e| {
                bad(format!(
                    "certificate {} of {} cannot be used as a CA ({e})",
                    i + 1,
                    certs.len()
                ))
            })?;
        }
        Ok(certs)
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpReply, CoreError>> {
        Box::pin(async move {
            let method = match req.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            };
            let timeout = req.timeout;
            // JSON unless the request says otherwise (RFC 8628's form posts, device.rs).
            let json_body = req.header("content-type").is_none();
            let mut builder = self.client.request(method, req.url).timeout(timeout);
            for (name, value) in &req.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(body) = req.body {
                if json_body {
                    builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json");
                }
                builder = builder.body(body);
            }
            let resp = builder.send().await.map_err(|e| map_reqwest(e, timeout))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, crate::clock::system_now_ms()));
            let body = read_capped(resp, self.max_reply_bytes, timeout).await?;
            tracing::trace!(status, len = body.len(), "reply");
            Ok(HttpReply {
                status,
                retry_after,
                body,
            })
        })
    }
}

fn map_reqwest(e: reqwest::Error, timeout: Duration) -> CoreError {
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        if let Some(r) = s.downcast_ref::<RedirectRefused>() {
            return CoreError::Redirect { reason: r.0 };
        }
        src = s.source();
    }
    if let Some(url_is_https) = scheme_mix_up(&e) {
        return CoreError::WrongScheme { url_is_https };
    }
    if e.is_timeout() {
        CoreError::Timeout(timeout)
    } else if e.is_builder() {
        CoreError::Config(format!("invalid request: {}", e.without_url()))
    } else {
        CoreError::Network(network_message(e))
    }
}

/// Whether `e` is the scheme mixed up: `Some(true)` for an https URL whose server answered in
/// plain HTTP (rustls cannot read a TLS record out of "HTTP/1.1 400"), `Some(false)` for an http
/// URL whose server answered with TLS bytes (hyper reads a TLS alert as a bad HTTP version).
fn scheme_mix_up(e: &reqwest::Error) -> Option<bool> {
    let scheme = e.url()?.scheme();
    if scheme == "https" && crate::tls::is_not_tls(e) {
        return Some(true);
    }
    if scheme == "http" {
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            if s.to_string().contains("invalid HTTP version") {
                return Some(false);
            }
            src = s.source();
        }
    }
    None
}

/// "cannot reach host:port: <the innermost cause>". The request URL is left out on purpose: a
/// poll URL carries the requester's handle (`random`, `qrcodeId`), which must never be shown or
/// logged (PROTOCOL.md §4.1), and "error sending request" alone tells a person nothing.
fn network_message(e: reqwest::Error) -> String {
    let host = e
        .url()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
    let mut innermost = None;
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        innermost = Some(s.to_string());
        src = s.source();
    }
    let cause = crate::tls::explain(&e)
        .or(innermost)
        .unwrap_or_else(|| e.without_url().to_string());
    match host {
        Some(host) => format!("cannot reach {host}: {cause}"),
        None => format!("cannot reach the server: {cause}"),
    }
}

/// Reads a body chunk by chunk and stops at `max` bytes, so a huge or endless reply costs at most
/// `max` bytes of memory. A connection that closes before the body is complete is a truncated
/// reply, not a network error: the server did answer.
pub async fn read_capped(
    mut resp: reqwest::Response,
    max: usize,
    timeout: Duration,
) -> Result<Vec<u8>, CoreError> {
    if resp.content_length().is_some_and(|len| len > max as u64) {
        return Err(CoreError::TooLarge { limit: max });
    }
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(CoreError::Timeout(timeout)),
            Err(e) if e.is_body() || e.is_decode() => {
                return Err(CoreError::BadReply {
                    status,
                    len: body.len(),
                    shape: crate::error::Shape::Truncated,
                })
            }
            Err(e) => return Err(map_reqwest(e, timeout)),
        };
        if body.len() + chunk.len() > max {
            return Err(CoreError::TooLarge { limit: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at_ms = i64::try_from(date.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some(Duration::from_millis(
        u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7", 0), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(Duration::ZERO));
        // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 s
        let now = 1_445_412_470_000;
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("-3", 0), None);
    }

    #[test]
    fn long_poll_timeout_is_wait_plus_margin() {
        let l = Limits::default();
        assert_eq!(l.timeout_for(None), Duration::from_secs(10));
        assert_eq!(
            l.timeout_for(Some(Duration::from_secs(25))),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn debug_hides_credentials() {
        let req = HttpRequest {
            method: Method::Post,
            url: url::Url::parse("http://h/x?random=abc&codeVerifier=topsecret").unwrap(),
            headers: vec![("Authorization".into(), "Basic c2VjcmV0".into())],
            body: None,
            timeout: REQUEST_TIMEOUT,
        };
        let s = format!("{req:?}");
        assert!(!s.contains("topsecret") && !s.contains("c2VjcmV0"), "{s}");
        assert!(
            !s.contains("abc"),
            "the polling handle stays out of logs: {s}"
        );
        assert!(s.contains("random=***"), "{s}");
    }

    #[test]
    fn redirects_stay_on_the_host_and_never_downgrade() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let first = u("https://a.example/api/v2/qrcode/gene");
        assert_eq!(
            redirect_verdict(
                Some(&first),
                Some(&first),
                &u("https://a.example/api/v2/qrcode/gene/")
            ),
            None
        );
        assert!(
            redirect_verdict(Some(&first), Some(&first), &u("https://evil.example/x")).is_some()
        );
        assert!(redirect_verdict(Some(&first), Some(&first), &u("http://a.example/x")).is_some());
        let plain = u("http://a.example/x");
        assert_eq!(
            redirect_verdict(Some(&plain), Some(&plain), &u("https://a.example/x")),
            None
        );
    }

    #[test]
    fn plain_http_is_insecure_only_off_this_machine() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        for local in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:1",
            "http://localhost:3000",
            "http://LOCALHOST.",
            "https://remote.example",
        ] {
            assert!(!is_insecure_remote(&u(local)), "{local}");
        }
        for remote in [
            "http://remote.example",
            "http://192.168.1.10:8080",
            "http://[2001:db8::1]",
            "http://localhost.evil.example",
        ] {
            assert!(is_insecure_remote(&u(remote)), "{remote}");
        }
    }
}
