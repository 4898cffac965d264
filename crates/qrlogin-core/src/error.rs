//! The crate's one error type: every failure the engine can meet, sorted into the five kinds the
//! UI distinguishes (`network | server | protocol | config | denied`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::failure::{Failure, Next};

/// The coarse class of an error, as the UI shows it (contracts.md §3 `failed.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    Network,
    Server,
    Protocol,
    Config,
    Denied,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Network => "network",
            ErrorKind::Server => "server",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Config => "config",
            ErrorKind::Denied => "denied",
        }
    }
}

/// A reply that could not be understood: not JSON, a missing field, a value of the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

impl ProtocolError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// Business codes of PROTOCOL.md §5 that the engine reacts to.
pub mod codes {
    /// The QR session does not exist (unknown or purged): make a new QR.
    pub const QR_NOT_FOUND: i64 = 2241;
    /// The ticket expired or was already used.
    pub const TICKET_INVALID: i64 = 2242;
    /// The PKCE verifier does not match the challenge sent with generate.
    pub const PKCE_MISMATCH: i64 = 2243;
    /// The QR expired.
    pub const QR_EXPIRED: i64 = 2244;
    /// The QR was already scanned by someone else.
    pub const QR_TAKEN: i64 = 2245;
    /// Not signed in.
    pub const NOT_SIGNED_IN: i64 = 2020;
    /// The app id is unknown to the server (qrlogin-server; G4 sends it with HTTP 404).
    pub const UNKNOWN_APP: i64 = 2011;
    /// The user pool does not exist (Authing).
    pub const UNKNOWN_USER_POOL: i64 = 2224;
    /// The request itself is invalid (a parameter the server rejects).
    pub const BAD_REQUEST: i64 = 400;
    pub const FORBIDDEN: i64 = 403;
    pub const TOO_MANY_REQUESTS: i64 = 429;
}

/// What an unusable reply body looked like; its content is never kept (PROTOCOL.md §4.1: a body
/// may carry the polling handle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Empty,
    /// Starts with `<`: an HTML (or XML) page.
    WebPage,
    /// Not UTF-8.
    NotText,
    /// Not JSON.
    NotJson,
    /// JSON (or a body) that ends early.
    Truncated,
    /// JSON, but not what the generation promises.
    Incomplete,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Empty => "empty",
            Shape::WebPage => "web page",
            Shape::NotText => "invalid UTF-8",
            Shape::NotJson => "not JSON",
            Shape::Truncated => "truncated",
            Shape::Incomplete => "JSON without the expected fields",
        }
    }
}

/// Every failure. `Display` never includes a reply body or a server-written message, so an error
/// may be logged as is; what a person sees comes from [`crate::failure::Failure`].
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Could not connect, the connection broke, or DNS failed.
    #[error("network error: {0}")]
    Network(String),
    /// No complete reply within the request timeout.
    #[error("the server did not reply within {} s", .0.as_secs_f32())]
    Timeout(Duration),
    /// HTTP 429: the server asks us to slow down, maybe saying for how long.
    #[error("too many requests; the server asks to wait {}", retry_after_text(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// A reply that is not a sign-in reply: an error status without an envelope we know (a
    /// proxy page, a 502), or a 2xx body that is not what the generation promises.
    #[error("unusable reply: HTTP {status}, {len} bytes, {}", .shape.as_str())]
    BadReply {
        status: u16,
        len: usize,
        shape: Shape,
    },
    /// The server speaks another scheme than the URL: TLS was asked of a plain HTTP server
    /// (`url_is_https`), or plain HTTP of a TLS server.
    #[error("{}", if *.url_is_https { "the server answered in plain HTTP, not TLS (https:// at an http server?)" } else { "the server answered in TLS, not plain HTTP (http:// at an https server?)" })]
    WrongScheme { url_is_https: bool },
    /// A redirect the client refuses (to another host, or from https to http).
    #[error("redirect refused: {reason}")]
    Redirect { reason: &'static str },
    /// A business error in the generation's envelope (`code != 200`, G4 `apiCode`). `message`
    /// is the server's text: kept for callers, never displayed or logged by the engine.
    #[error("the server answered with error code {code}")]
    Server { code: i64, message: String },
    /// The server refused us: wrong PKCE verifier, wrong app secret, not allowed.
    #[error("the server refused the request (code {code})")]
    Denied { code: i64, message: String },
    /// The reply is larger than the limit (1 MiB by default).
    #[error("the server's reply is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("unexpected reply from the server: {0}")]
    Protocol(#[from] ProtocolError),
    /// Something in our own configuration is missing or invalid.
    #[error("configuration: {0}")]
    Config(String),
}

fn retry_after_text(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!("{} s", d.as_secs()),
        None => "a moment".to_owned(),
    }
}

impl CoreError {
    /// The coarse class (see [`crate::failure`] for the full sorting).
    pub fn kind(&self) -> ErrorKind {
        Failure::of(self).kind()
    }

    /// Whether trying again (a new attempt, or the retry button) may succeed. Configuration and
    /// refusals do not change by retrying.
    pub fn retryable(&self) -> bool {
        Failure::of(self).next() != Next::Stop
    }

    /// Whether the engine itself should wait and repeat the same request.
    pub fn is_transient(&self) -> bool {
        Failure::of(self).next() == Next::Retry
    }

    /// The business code, when the server gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            CoreError::Server { code, .. } | CoreError::Denied { code, .. } => Some(*code),
            CoreError::RateLimited { .. } => Some(codes::TOO_MANY_REQUESTS),
            _ => None,
        }
    }

    /// A business error from an envelope, sorted: refusals become `Denied`.
    pub fn business(code: i64, message: impl Into<String>) -> Self {
        let message = message.into();
        match code {
            codes::PKCE_MISMATCH | codes::FORBIDDEN | codes::NOT_SIGNED_IN | 401 => {
                CoreError::Denied { code, message }
            }
            _ => CoreError::Server { code, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_retry() {
        assert_eq!(CoreError::Network("x".into()).kind(), ErrorKind::Network);
        assert!(CoreError::Timeout(Duration::from_secs(10)).is_transient());
        let d = CoreError::business(2243, "verifier mismatch");
        assert_eq!(d.kind(), ErrorKind::Denied);
        assert!(!d.retryable());
        assert_eq!(d.code(), Some(2243));
        let s = CoreError::business(2241, "QR missing");
        assert_eq!(s.kind(), ErrorKind::Server);
        assert!(s.retryable() && !s.is_transient());
        let shown = CoreError::Server {
            code: 2241,
            message: "random=SECRET".into(),
        };
        assert!(!shown.to_string().contains("SECRET"), "{shown}");
        assert_eq!(CoreError::Config("x".into()).kind(), ErrorKind::Config);
        assert_eq!(
            serde_json::to_string(&ErrorKind::Protocol).unwrap(),
            "\"protocol\""
        );
    }
}
