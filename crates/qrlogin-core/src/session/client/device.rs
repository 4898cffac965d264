//! The `device` dialect: RFC 8628 against any standard IdP. Discovery from
//! `/.well-known/openid-configuration`; the QR holds `verification_uri_complete` (else
//! `verification_uri`) and the user code travels as the check code; the token endpoint's answers
//! map onto the engine's statuses (`authorization_pending` → pending, `access_denied` →
//! cancelled, `expired_token` → expired). The pace RFC 8628 asks for (`interval`, +5 s on
//! `slow_down`) is kept here, per device code, because it changes with each reply; the session
//! loop only adds its short default pause. On our server (`deviceLongPoll`), polls are held.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{bad_reply, is_success, Client};
use crate::dialect::{self, Authorization, GeneratedQr, PollExtras, ScanStatus, WireUser};
use crate::discovery::Extensions;
use crate::error::{CoreError, ProtocolError};
use crate::http::{self, HttpReply, HttpRequest};
use crate::pkce::Pkce;
use crate::secret::Secret;

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: the interval when the IdP names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const SLOW_DOWN: Duration = Duration::from_secs(5);

/// What the IdP's discovery document says.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub device_authorization: url::Url,
    pub token: url::Url,
    pub userinfo: Option<url::Url>,
    pub revocation: Option<url::Url>,
    pub pkce: bool,
}

/// Polling state per device code.
#[derive(Debug, Default)]
pub struct DeviceState {
    endpoints: Option<Endpoints>,
    paces: HashMap<String, Pace>,
}

#[derive(Debug, Clone, Copy)]
struct Pace {
    interval: Duration,
    next: Instant,
}

fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

fn json_object(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice(body).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn endpoint(doc: &serde_json::Map<String, Value>, key: &str) -> Option<url::Url> {
    doc.get(key)?.as_str().and_then(|s| url::Url::parse(s).ok())
}

impl Client {
    /// One request outside the base URL's paths (the IdP names its endpoints), within limits.
    async fn send_to(
        &self,
        url: url::Url,
        method: http::Method,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        long_poll_wait: Option<Duration>,
    ) -> Result<HttpReply, CoreError> {
        if http::is_insecure_remote(&url) && !self.config.allow_insecure_http {
            return Err(CoreError::Config(format!(
                "the IdP names a plain http endpoint on another machine ({}): refused",
                url.host_str().unwrap_or_default()
            )));
        }
        let timeout = self.config.limits.timeout_for(long_poll_wait);
        let req = HttpRequest {
            method,
            url,
            headers,
            body,
            timeout,
        };
        let reply = tokio::time::timeout(timeout, self.transport.send(req))
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

    async fn post_form(
        &self,
        url: url::Url,
        pairs: &[(&str, &str)],
        long_poll_wait: Option<Duration>,
    ) -> Result<HttpReply, CoreError> {
        let headers = vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        self.send_to(
            url,
            http::Method::Post,
            headers,
            Some(form_body(pairs)),
            long_poll_wait,
        )
        .await
    }

    /// The IdP's endpoints, asked once per client (again after a failure).
    pub async fn device_endpoints(&self) -> Result<Endpoints, CoreError> {
        if let Some(e) = &self.device.lock().await.endpoints {
            return Ok(e.clone());
        }
        let base = self.base.as_str().trim_end_matches('/');
        let url = url::Url::parse(&format!("{base}{DISCOVERY_PATH}"))
            .map_err(|e| CoreError::Config(format!("server.url: {e}")))?;
        let reply = self
            .send_to(url, http::Method::Get, Vec::new(), None, None)
            .await?;
        let doc = match json_object(&reply.body) {
            Some(d) if is_success(reply.status) => d,
            _ => return Err(bad_reply(&reply)),
        };
        let (Some(device_authorization), Some(token)) = (
            endpoint(&doc, "device_authorization_endpoint"),
            endpoint(&doc, "token_endpoint"),
        ) else {
            return Err(CoreError::Config(
                "the IdP's openid-configuration names no device_authorization_endpoint: it does \
                 not offer the device flow (RFC 8628)"
                    .into(),
            ));
        };
        let pkce = doc
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array)
            .is_some_and(|m| m.iter().any(|v| v == "S256"));
        let e = Endpoints {
            device_authorization,
            token,
            userinfo: endpoint(&doc, "userinfo_endpoint"),
            revocation: endpoint(&doc, "revocation_endpoint"),
            pkce,
        };
        self.device.lock().await.endpoints = Some(e.clone());
        Ok(e)
    }

    /// Discovery for `device`: the IdP's document, plus our long-poll when it is our server.
    pub(super) async fn device_discover(&self) -> Result<Extensions, CoreError> {
        let e = self.device_endpoints().await?;
        let ours = self.qrlogin_extensions().await.unwrap_or_default();
        Ok(Extensions {
            pkce: e.pkce,
            long_poll: ours.device_long_poll,
            requester: ours.requester,
            ..ours
        })
    }

    fn client_pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("client_id", self.config.app.app_id.clone())];
        if let Some(s) = self.config.app_secret.as_ref().filter(|s| !s.is_empty()) {
            p.push(("client_secret", s.expose().to_owned()));
        }
        p
    }

    /// RFC 8628 §3.1: a new device code; its user code becomes the check code.
    pub(super) async fn device_authorize(
        &self,
        pkce: Option<&Pkce>,
        ext: &Extensions,
    ) -> Result<GeneratedQr, CoreError> {
        let e = self.device_endpoints().await?;
        let mut pairs = self.client_pairs();
        let scope = self.config.app.scope.trim();
        if !scope.is_empty() {
            pairs.push(("scope", scope.to_owned()));
        }
        if let Some(p) = pkce {
            pairs.push(("code_challenge", p.challenge().to_owned()));
            pairs.push(("code_challenge_method", crate::pkce::METHOD.to_owned()));
        }
        if let (true, Some(r)) = (ext.requester, &self.config.requester) {
            for (k, v) in [
                ("device_name", &r.device_name),
                ("platform", &r.platform),
                ("app_name", &r.app_name),
                ("app_version", &r.app_version),
            ] {
                if let Some(v) = v {
                    pairs.push((k, v.clone()));
                }
            }
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = self.post_form(e.device_authorization, &pairs, None).await?;
        let Some(d) = json_object(&reply.body) else {
            return Err(bad_reply(&reply));
        };
        if !is_success(reply.status) {
            return Err(oauth_error(reply.status, &d));
        }
        let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(device_code), Some(user_code)) = (text("device_code"), text("user_code")) else {
            return Err(
                ProtocolError::new("device authorization without device_code/user_code").into(),
            );
        };
        let qr = text("verification_uri_complete")
            .or_else(|| text("verification_uri"))
            .ok_or_else(|| ProtocolError::new("device authorization without verification_uri"))?;
        let interval = d
            .get("interval")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_INTERVAL);
        let mut state = self.device.lock().await;
        state.paces.clear();
        state.paces.insert(
            device_code.clone(),
            Pace {
                interval,
                next: Instant::now() + interval,
            },
        );
        Ok(GeneratedQr {
            handle: device_code,
            qr_content: Some(qr),
            image_url: None,
            scan_id: None,
            expires_in: d.get("expires_in").and_then(Value::as_u64),
            check_code: Some(user_code.clone()),
            custom_logo_url: None,
            user_code: Some(user_code),
            verification_uri: text("verification_uri"),
        })
    }

    /// One token request for a device code (RFC 8628 §3.4), paced as §3.5 asks.
    pub(super) async fn device_poll(
        &self,
        device_code: &str,
        extras: &PollExtras,
    ) -> Result<ScanStatus, CoreError> {
        let e = self.device_endpoints().await?;
        let pace = self.device.lock().await.paces.get(device_code).copied();
        let interval = pace.map(|p| p.interval).unwrap_or(DEFAULT_INTERVAL);
        // A held request (our server) paces itself; a plain one waits its turn.
        let wait = extras.wait.filter(|w| Duration::from_secs(*w) >= interval);
        if wait.is_none() {
            if let Some(p) = pace {
                tokio::time::sleep_until(p.next).await;
            }
        }
        let mut pairs = self.client_pairs();
        pairs.push(("grant_type", GRANT.to_owned()));
        pairs.push(("device_code", device_code.to_owned()));
        if let Some(v) = &extras.code_verifier {
            pairs.push(("code_verifier", v.expose().to_owned()));
        }
        if let Some(w) = wait {
            pairs.push(("wait", w.to_string()));
            if let Some(k) = extras.known {
                pairs.push(("known", k.to_owned()));
            }
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = self
            .post_form(e.token, &pairs, wait.map(Duration::from_secs))
            .await;
        let mut interval = interval;
        let status = reply.and_then(|reply| {
            let Some(d) = json_object(&reply.body) else {
                return Err(bad_reply(&reply));
            };
            if is_success(reply.status) {
                let ts = dialect::parse_token_set(&Value::Object(d))?;
                return Ok(ScanStatus::Authorized(Authorization::TokenSet(ts)));
            }
            match d.get("error").and_then(Value::as_str) {
                Some("authorization_pending") => Ok(
                    if d.get("qrlogin_status").and_then(Value::as_str) == Some("scanned") {
                        ScanStatus::Scanned {
                            nickname: None,
                            photo: None,
                        }
                    } else {
                        ScanStatus::Pending
                    },
                ),
                Some("slow_down") => {
                    interval += SLOW_DOWN;
                    if let Some(s) = d.get("interval").and_then(Value::as_u64) {
                        interval = interval.max(Duration::from_secs(s));
                    }
                    tracing::debug!(interval_s = interval.as_secs(), "device flow: slow_down");
                    Ok(ScanStatus::Pending)
                }
                Some("access_denied") => Ok(ScanStatus::Cancelled),
                Some("expired_token") => Ok(ScanStatus::Expired),
                // Spent or unknown device code: only a new one helps.
                Some("invalid_grant") => Ok(ScanStatus::Expired),
                _ => Err(oauth_error(reply.status, &d)),
            }
        });
        let mut state = self.device.lock().await;
        if let Some(p) = state.paces.get_mut(device_code) {
            p.interval = interval;
            p.next = Instant::now() + interval;
        }
        status
    }

    /// The signed-in user: the IdP's userinfo endpoint, else the access token's claims.
    pub(super) async fn device_profile(&self, token: &Secret) -> Result<WireUser, CoreError> {
        let e = self.device_endpoints().await?;
        let claims = match e.userinfo {
            Some(url) => {
                let headers = vec![
                    (
                        "authorization".to_owned(),
                        format!("Bearer {}", token.expose()),
                    ),
                    ("accept".to_owned(), "application/json".to_owned()),
                ];
                let reply = self
                    .send_to(url, http::Method::Get, headers, None, None)
                    .await?;
                match json_object(&reply.body) {
                    Some(c) if is_success(reply.status) => Value::Object(c),
                    Some(_) if matches!(reply.status, 401 | 403) => {
                        return Err(CoreError::Denied {
                            code: i64::from(reply.status),
                            message: "the IdP no longer accepts this token".into(),
                        })
                    }
                    _ => return Err(bad_reply(&reply)),
                }
            }
            None => crate::profile::jwt_claims(token.expose()).ok_or_else(|| {
                ProtocolError::new("the IdP has no userinfo endpoint and the token is not a JWT")
            })?,
        };
        let get = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let user = WireUser {
            id: get("sub"),
            username: get("preferred_username").or_else(|| get("username")),
            nickname: get("name").or_else(|| get("nickname")),
            email: get("email"),
            phone: get("phone_number"),
            photo: get("picture"),
            token: None,
            token_expired_at: None,
            // The token set (parse_token_set) carried the refresh token; this is the profile.
            refresh_token: None,
            redirect: None,
        };
        if user.id.is_none() {
            return Err(ProtocolError::new("the IdP's user has no sub").into());
        }
        Ok(user)
    }
}

/// An RFC 6749 §5.2 error the flow cannot go on from.
fn oauth_error(status: u16, d: &serde_json::Map<String, Value>) -> CoreError {
    let error = d.get("error").and_then(Value::as_str).unwrap_or("error");
    let message = format!("the IdP refused: {error}");
    match (status, error) {
        (_, "invalid_client" | "unauthorized_client" | "invalid_scope") | (401 | 403, _) => {
            CoreError::Denied {
                code: i64::from(status),
                message,
            }
        }
        _ => ProtocolError::new(message).into(),
    }
}
