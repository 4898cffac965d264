//! The standard endpoints behind a signed-in session: where they are (`/.well-known/
//! openid-configuration`), refreshing a token set (RFC 6749 §6) and revoking it (RFC 7009).
//! Bodies are form-encoded, as the RFCs and Authing's v5 SDKs send them; replies are capped at
//! the client's reply limit like every other request.

use std::time::Duration;

use serde_json::Value;

use crate::dialect::DialectId;
use crate::error::CoreError;
use crate::http;
use crate::secret::Secret;
use crate::session::Client;

/// The two discovery documents we try, in order: the contract's (server root) and Authing's
/// (under `/oidc`, where its app domains publish it).
const DISCOVERY_PATHS: [&str; 2] = [
    "/.well-known/openid-configuration",
    "/oidc/.well-known/openid-configuration",
];

/// Where a server refreshes and revokes tokens. `None`: the server has no such endpoint, so a
/// sign-out there can only be local and a token lives until it expires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub token: Option<url::Url>,
    pub revocation: Option<url::Url>,
    pub introspection: Option<url::Url>,
}

impl Endpoints {
    /// The endpoints a discovery document names. An endpoint on another origin than the server
    /// we signed in at is ignored: the refresh token would otherwise be sent to whoever the
    /// document (or someone who altered it in transit) names.
    pub fn from_document(base: &url::Url, doc: &Value) -> Self {
        let pick = |key: &str| -> Option<url::Url> {
            let raw = doc.get(key)?.as_str()?;
            let url = base.join(raw.trim()).ok()?;
            if url.origin() == base.origin() {
                Some(url)
            } else {
                tracing::warn!(
                    key,
                    "the discovery document points at another origin; not using it"
                );
                None
            }
        };
        Self {
            token: pick("token_endpoint"),
            revocation: pick("revocation_endpoint"),
            introspection: pick("introspection_endpoint"),
        }
    }

    /// Without a discovery document: the v3 dialect (Authing's OIDC app) has the standard paths;
    /// the older generations have none.
    pub fn fallback(base: &url::Url, dialect: DialectId) -> Self {
        if dialect != DialectId::G4 {
            return Self::default();
        }
        let at = |p: &str| join_path(base, p);
        Self {
            token: at("/oidc/token"),
            revocation: at("/oidc/token/revocation"),
            introspection: at("/oidc/token/introspection"),
        }
    }

    pub fn can_refresh(&self) -> bool {
        self.token.is_some()
    }

    pub fn can_revoke(&self) -> bool {
        self.revocation.is_some()
    }
}

fn join_path(base: &url::Url, path: &str) -> Option<url::Url> {
    let root = base.as_str().trim_end_matches('/');
    url::Url::parse(&format!("{root}{path}")).ok()
}

/// Asks the server where its endpoints are. A transient failure (network, 5xx, 429) is an
/// error so that the caller asks again later; a clear absence (404, not JSON) is the fallback.
pub async fn discover(client: &Client) -> Result<Endpoints, CoreError> {
    let base = base_url(client)?;
    for path in DISCOVERY_PATHS {
        let Some(url) = join_path(&base, path) else {
            continue;
        };
        let reply = send(client, reqwest::Method::GET, url, None).await?;
        match reply.status {
            200..=299 => {
                if let Some(doc) = json_object(&reply.body) {
                    return Ok(Endpoints::from_document(&base, &doc));
                }
            }
            429 => return Err(CoreError::RateLimited { retry_after: None }),
            500..=599 => return Err(bad_reply(&reply)),
            _ => {}
        }
    }
    Ok(Endpoints::fallback(&base, client.dialect()))
}

/// A fresh token set from the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub access_token: Secret,
    pub id_token: Option<Secret>,
    /// The rotated refresh token; `None` when the server keeps the old one valid.
    pub refresh_token: Option<Secret>,
    /// Access-token lifetime in seconds (`expires_in`, Authing also writes `expire_in`).
    pub expires_in: Option<u64>,
}

/// Why a refresh or a revocation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_grant`: the refresh token is spent, revoked or expired: the session is over.
    #[error("the session ended: {0}")]
    SessionEnded(String),
    /// The server could not be asked (network, timeout, 5xx, 429): try again later.
    #[error("the server could not be reached: {0}")]
    Unreachable(CoreError),
    /// Any other refusal (`invalid_client`, `unsupported_token_type`, a 404): asking again
    /// will not help.
    #[error("the server refused: {0}")]
    Refused(String),
    /// The server has no such endpoint.
    #[error("the server offers no {0} endpoint")]
    NoEndpoint(&'static str),
}

impl OAuthError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, OAuthError::Unreachable(_))
    }
}

/// `grant_type=refresh_token` at the token endpoint.
pub async fn refresh(
    client: &Client,
    endpoints: &Endpoints,
    refresh_token: &Secret,
) -> Result<Refreshed, OAuthError> {
    let url = endpoints
        .token
        .clone()
        .ok_or(OAuthError::NoEndpoint("token"))?;
    let mut form = vec![
        ("grant_type", "refresh_token".to_string()),
        ("refresh_token", refresh_token.expose().to_string()),
    ];
    form.extend(client_auth(client));
    let reply = send_form(client, url, &form).await?;
    if !(200..300).contains(&reply.status) {
        return Err(refusal(&reply));
    }
    let doc = json_object(&reply.body)
        .ok_or_else(|| OAuthError::Refused("the token endpoint did not answer JSON".into()))?;
    let secret = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    };
    let access_token = secret("access_token")
        .ok_or_else(|| OAuthError::Refused("the token endpoint gave no access_token".into()))?;
    let expires_in = ["expires_in", "expire_in"].iter().find_map(|k| {
        doc.get(*k)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
    });
    Ok(Refreshed {
        access_token,
        id_token: secret("id_token"),
        refresh_token: secret("refresh_token"),
        expires_in,
    })
}

/// Which kind of token is revoked (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Refresh,
    Access,
}

impl TokenKind {
    pub fn hint(self) -> &'static str {
        match self {
            TokenKind::Refresh => "refresh_token",
            TokenKind::Access => "access_token",
        }
    }
}

/// RFC 7009 revocation. `Ok` also for a token the server does not know (it answers 200).
pub async fn revoke(
    client: &Client,
    endpoints: &Endpoints,
    token: &Secret,
    kind: TokenKind,
) -> Result<(), OAuthError> {
    let url = endpoints
        .revocation
        .clone()
        .ok_or(OAuthError::NoEndpoint("revocation"))?;
    let mut form = vec![
        ("token", token.expose().to_string()),
        ("token_type_hint", kind.hint().to_string()),
    ];
    form.extend(client_auth(client));
    let reply = send_form(client, url, &form).await?;
    if (200..300).contains(&reply.status) {
        Ok(())
    } else {
        Err(refusal(&reply))
    }
}

/// RFC 7662 introspection: whether the server still takes `token`. For tools and tests; the
/// app itself never needs to ask.
pub async fn introspect(
    client: &Client,
    endpoints: &Endpoints,
    token: &Secret,
) -> Result<Value, OAuthError> {
    let url = endpoints
        .introspection
        .clone()
        .ok_or(OAuthError::NoEndpoint("introspection"))?;
    let mut form = vec![("token", token.expose().to_string())];
    form.extend(client_auth(client));
    let reply = send_form(client, url, &form).await?;
    if !(200..300).contains(&reply.status) {
        return Err(refusal(&reply));
    }
    json_object(&reply.body).ok_or_else(|| OAuthError::Refused("introspection: not JSON".into()))
}

/// `client_id`, and `client_secret` when the app has one (`client_secret_post`); a public
/// desktop client sends only its id (`none`).
fn client_auth(client: &Client) -> Vec<(&'static str, String)> {
    let config = client.config();
    let mut out = vec![("client_id", config.app.app_id.clone())];
    if let Some(secret) = config.app_secret.as_ref().filter(|s| !s.is_empty()) {
        out.push(("client_secret", secret.expose().to_string()));
    }
    out
}

/// An error reply as RFC 6749 §5.2 writes it (`{error, error_description}`). 5xx and 429 are
/// "try later"; `invalid_grant` ends the session; the rest is final.
fn refusal(reply: &http::HttpReply) -> OAuthError {
    if reply.status == 429 || reply.status >= 500 {
        return OAuthError::Unreachable(bad_reply(reply));
    }
    let doc = json_object(&reply.body);
    let field = |k: &str| {
        doc.as_ref()
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (error, description) = (field("error"), field("error_description"));
    let text = match (error.is_empty(), description.is_empty()) {
        (true, _) => format!("HTTP {}", reply.status),
        (false, true) => error.clone(),
        (false, false) => format!("{error}: {description}"),
    };
    if error == "invalid_grant" {
        OAuthError::SessionEnded(text)
    } else {
        OAuthError::Refused(text)
    }
}

/// A 5xx or 429 as the engine's error: its size and shape, never its text.
fn bad_reply(reply: &http::HttpReply) -> CoreError {
    CoreError::BadReply {
        status: reply.status,
        len: reply.body.len(),
        shape: crate::failure::shape_of(&reply.body),
    }
}

fn json_object(body: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
}

fn base_url(client: &Client) -> Result<url::Url, CoreError> {
    url::Url::parse(client.config().base_url.trim())
        .map_err(|e| CoreError::Config(format!("server URL: {e}")))
}

async fn send_form(
    client: &Client,
    url: url::Url,
    form: &[(&str, String)],
) -> Result<http::HttpReply, OAuthError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    send(client, reqwest::Method::POST, url, Some(body))
        .await
        .map_err(OAuthError::Unreachable)
}

/// One request within the client's limits. The URL never carries a token (they travel in the
/// body), so it may appear in an error message.
async fn send(
    client: &Client,
    method: reqwest::Method,
    url: url::Url,
    form_body: Option<String>,
) -> Result<http::HttpReply, CoreError> {
    let limits = client.config().limits;
    let timeout: Duration = limits.request_timeout;
    let mut builder = client
        .http()
        .request(method, url.clone())
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(body) = form_body {
        builder = builder
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
    }
    let resp = builder.send().await.map_err(|e| {
        if e.is_timeout() {
            CoreError::Timeout(timeout)
        } else {
            let host = url.host_str().unwrap_or("the server");
            let port = url.port_or_known_default().unwrap_or(0);
            CoreError::Network(format!(
                "cannot reach {host}:{port}: {}",
                innermost(&e).unwrap_or_else(|| e.without_url().to_string())
            ))
        }
    })?;
    let status = resp.status().as_u16();
    let body = http::read_capped(resp, limits.max_reply_bytes, timeout).await?;
    Ok(http::HttpReply {
        status,
        retry_after: None,
        body,
    })
}

fn innermost(e: &reqwest::Error) -> Option<String> {
    let mut last = None;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> url::Url {
        url::Url::parse("https://login.example.com").unwrap()
    }

    #[test]
    fn document_endpoints_on_the_same_origin() {
        let doc = json!({
            "issuer": "https://login.example.com/oidc",
            "token_endpoint": "https://login.example.com/oidc/token",
            "revocation_endpoint": "/oidc/token/revocation",
            "introspection_endpoint": "https://login.example.com/oidc/token/introspection",
        });
        let e = Endpoints::from_document(&base(), &doc);
        assert_eq!(
            e.token.unwrap().as_str(),
            "https://login.example.com/oidc/token"
        );
        assert_eq!(
            e.revocation.unwrap().as_str(),
            "https://login.example.com/oidc/token/revocation"
        );
        assert!(e.introspection.is_some());
    }

    /// An attacker who can change the document (or a server that was told a wrong public URL)
    /// must not receive the refresh token: endpoints on another origin are dropped.
    #[test]
    fn document_pointing_elsewhere_is_not_followed() {
        let doc = json!({
            "token_endpoint": "https://evil.example.net/oidc/token",
            "revocation_endpoint": "http://login.example.com/oidc/token/revocation",
            "introspection_endpoint": "https://login.example.com:8443/x",
        });
        let e = Endpoints::from_document(&base(), &doc);
        assert_eq!(e, Endpoints::default(), "{e:?}");
    }

    #[test]
    fn fallback_only_for_v3() {
        let e = Endpoints::fallback(&base(), DialectId::G4);
        assert_eq!(
            e.revocation.unwrap().as_str(),
            "https://login.example.com/oidc/token/revocation"
        );
        assert_eq!(
            Endpoints::fallback(&base(), DialectId::G3),
            Endpoints::default()
        );
        let prefixed = url::Url::parse("https://x.example.com/auth/").unwrap();
        assert_eq!(
            Endpoints::fallback(&prefixed, DialectId::G4)
                .token
                .unwrap()
                .as_str(),
            "https://x.example.com/auth/oidc/token"
        );
    }

    fn reply(status: u16, body: Value) -> http::HttpReply {
        http::HttpReply::json(status, &body)
    }

    #[test]
    fn refusals_sorted_by_what_helps() {
        assert!(matches!(
            refusal(&reply(
                400,
                json!({"error": "invalid_grant", "error_description": "reused"})
            )),
            OAuthError::SessionEnded(m) if m.contains("reused")
        ));
        assert!(matches!(
            refusal(&reply(401, json!({"error": "invalid_client"}))),
            OAuthError::Refused(m) if m == "invalid_client"
        ));
        assert!(refusal(&reply(503, json!({}))).is_unreachable());
        assert!(refusal(&reply(429, json!({}))).is_unreachable());
        assert!(matches!(
            refusal(&reply(404, json!("nope"))),
            OAuthError::Refused(m) if m == "HTTP 404"
        ));
    }
}
