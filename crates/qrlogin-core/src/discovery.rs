//! `GET /.well-known/qrlogin` (PROTOCOL.md §4): which of our extensions the server offers.
//! Authing has no such document; any answer but a JSON object means "plain protocol".

use serde::{Deserialize, Serialize};

/// The extensions a server announced. `Default` is plain Authing: none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Extensions {
    pub version: u32,
    pub long_poll: bool,
    pub pkce: bool,
    pub check_code: bool,
    pub requester: bool,
    pub scan_id: bool,
    /// The device-code grant's token request may be held (`wait`/`known`), issue 16.
    pub device_long_poll: bool,
}

impl Extensions {
    /// Whether this is our reference server (it also serves `GET /api/v3/get-profile` for every
    /// generation's tokens).
    pub fn is_qrlogin_server(&self) -> bool {
        self.version >= 1
    }
}

pub const PATH: &str = "/.well-known/qrlogin";

/// Read a discovery reply: `Some` for a definite answer (a document, or a clear absence), `None`
/// when the answer says nothing (a 5xx, a rate limit) and discovery should be asked again later.
pub fn parse(status: u16, body: &[u8]) -> Option<Extensions> {
    match status {
        200..=299 => Some(
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .filter(serde_json::Value::is_object)
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default(),
        ),
        429 | 500..=599 => None,
        // 404 (Authing), 401/403 (a gateway): no extensions.
        _ => Some(Extensions::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_document() {
        let e = parse(
            200,
            br#"{"version":1,"longPoll":true,"pkce":true,"checkCode":true,"requester":true,"scanId":true}"#,
        )
        .unwrap();
        assert!(e.long_poll && e.pkce && e.check_code && e.requester && e.scan_id);
        assert!(e.is_qrlogin_server());
    }

    #[test]
    fn absence_is_plain() {
        assert_eq!(parse(404, b"Not Found"), Some(Extensions::default()));
        assert_eq!(parse(200, b"<html>"), Some(Extensions::default()));
        assert_eq!(parse(200, b"[1,2]"), Some(Extensions::default()));
        assert_eq!(
            parse(200, br#"{"pkce":"yes"}"#),
            Some(Extensions::default())
        );
        assert_eq!(parse(503, b""), None);
        let partial = parse(200, br#"{"version":1,"pkce":true,"extra":1}"#).unwrap();
        assert!(partial.pkce && !partial.long_poll);
    }
}
