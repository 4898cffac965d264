//! Reading requests: JSON bodies (an empty one is `{}`), long-poll parameters, headers, cookies
//! and the client credentials of an exchange.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;

use crate::errors::ApiError;
use crate::model::Status;
use crate::service::ExchangeAuth;

/// Parses a JSON body; an empty body is `{}` (Authing SDKs sometimes send none).
pub fn json_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| ApiError::BadRequest(format!("JSON body: {e}")))
}

/// `wait` and `known` of a long-poll (PROTOCOL.md §4.5); both absent means an immediate reply.
pub fn long_poll_params(q: &HashMap<String, String>) -> (Option<u64>, Option<Status>) {
    let wait = q.get("wait").and_then(|w| w.trim().parse::<u64>().ok());
    let known = q.get("known").and_then(|k| Status::parse_known(k));
    (wait, known)
}

/// `Authorization: Basic base64(appId:appSecret)`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// A header's value, trimmed; `None` when absent, empty or not text.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// How an exchange request proves it may have the user: `x-authing-app-id`, `Authorization:
/// Basic` and the PKCE verifier.
pub fn exchange_auth(headers: &HeaderMap, verifier: Option<String>) -> ExchangeAuth {
    ExchangeAuth {
        header_app_id: header_str(headers, "x-authing-app-id").map(str::to_owned),
        client: basic_credentials(headers),
        code_verifier: verifier.filter(|v| !v.is_empty()),
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
