//! What a login attempt reports to its front end (contracts.md §3): one serde-tagged enum, so
//! the Tauri channel delivers `{"event": "qrReady", "data": {...}}`.

use serde::Serialize;

use crate::error::ErrorKind;
use crate::failure::Problem;
use crate::profile::{AuthSession, Profile};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "event",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum LoginEvent {
    /// The attempt began; the first QR is on its way.
    Starting { attempt: u32 },
    /// A QR to show. `svg`/`png` are data URLs of the same code; `generation` counts QRs in this
    /// attempt from 1.
    QrReady {
        svg: String,
        png: String,
        text: String,
        expires_at: i64,
        ttl_ms: u64,
        check_code: Option<String>,
        generation: u32,
        tip_html: String,
        /// What "Can't scan?" offers: a code to type, the link, or words (cant_scan.rs).
        cant_scan: crate::cant_scan::CantScan,
    },
    /// Someone scanned; `avatar` is a data URL or null.
    Scanned {
        nickname: Option<String>,
        avatar: Option<String>,
        tip_html: String,
    },
    /// The phone confirmed; the ticket is being exchanged.
    Authorized { tip_html: String },
    /// Done. `session` holds the tokens for the Rust shell and is never serialized.
    LoggedIn {
        profile: Profile,
        tip_html: String,
        #[serde(skip)]
        session: AuthSession,
        /// G1: the callback the server returned with the user, for `after_login = "redirect"`
        /// without a configured `login.redirect_url`. The shell's business, not the window's.
        #[serde(skip)]
        redirect: Option<String>,
    },
    /// The phone cancelled; when `refreshing`, a new QR follows by itself.
    Cancelled {
        tip_html: String,
        retry_tip_html: String,
        refreshing: bool,
    },
    /// The QR expired; when `refreshing`, a new QR follows by itself.
    Expired {
        tip_html: String,
        retry_tip_html: String,
        refreshing: bool,
    },
    /// The attempt stopped, or (desktop) the visible retries are used up. `tip_html` is the
    /// configured failed tip; `message` says in words what kind of problem it was (never a
    /// reply's content). With `retryable` the UI offers a retry button; when `retrying` events
    /// follow (`background`), the engine keeps trying slowly by itself.
    Failed {
        kind: ErrorKind,
        problem: Problem,
        message: String,
        retryable: bool,
        tip_html: String,
        retry_tip_html: String,
    },
    /// A failure that may pass: the engine waits `delay_ms` before its `attempt`-th retry. Not
    /// `background`: the UI shows the `retrying` view (failed tip, `message`, a countdown, no
    /// button). `background`: it follows a `failed` and the retry button stays.
    Retrying {
        attempt: u32,
        delay_ms: u64,
        kind: ErrorKind,
        problem: Problem,
        message: String,
        background: bool,
        tip_html: String,
        retry_tip_html: String,
    },
}

impl LoginEvent {
    /// The event's wire name (`qrReady`, ...), for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            LoginEvent::Starting { .. } => "starting",
            LoginEvent::QrReady { .. } => "qrReady",
            LoginEvent::Scanned { .. } => "scanned",
            LoginEvent::Authorized { .. } => "authorized",
            LoginEvent::LoggedIn { .. } => "loggedIn",
            LoginEvent::Cancelled { .. } => "cancelled",
            LoginEvent::Expired { .. } => "expired",
            LoginEvent::Failed { .. } => "failed",
            LoginEvent::Retrying { .. } => "retrying",
        }
    }

    /// Whether the attempt ends with this event (no new QR follows by itself).
    pub fn is_terminal(&self) -> bool {
        match self {
            LoginEvent::LoggedIn { .. } => true,
            LoginEvent::Cancelled { refreshing, .. } | LoginEvent::Expired { refreshing, .. } => {
                !refreshing
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use serde_json::json;

    #[test]
    fn wire_shape_matches_contracts() {
        let e = LoginEvent::QrReady {
            svg: "data:image/svg+xml;base64,AA".into(),
            png: "data:image/png;base64,AA".into(),
            text: "http://x/s/1".into(),
            expires_at: 10,
            ttl_ms: 120_000,
            check_code: Some("42".into()),
            generation: 1,
            tip_html: "<strong>APP</strong>".into(),
            cant_scan: crate::cant_scan::CantScan::Code {
                code: "WDJB-MJHT".into(),
                url: "http://x/s".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"event": "qrReady", "data": {
                "svg": "data:image/svg+xml;base64,AA", "png": "data:image/png;base64,AA",
                "text": "http://x/s/1", "expiresAt": 10, "ttlMs": 120000, "checkCode": "42",
                "generation": 1, "tipHtml": "<strong>APP</strong>",
                "cantScan": {"kind": "code", "code": "WDJB-MJHT", "url": "http://x/s"}}})
        );
        let f = LoginEvent::Failed {
            kind: ErrorKind::Network,
            problem: Problem::Unreachable,
            message: "m".into(),
            retryable: true,
            tip_html: "t".into(),
            retry_tip_html: "r".into(),
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"event": "failed", "data": {"kind": "network", "problem": "unreachable",
                "message": "m", "retryable": true, "tipHtml": "t", "retryTipHtml": "r"}})
        );
        let r = LoginEvent::Retrying {
            attempt: 2,
            delay_ms: 2000,
            kind: ErrorKind::Protocol,
            problem: Problem::WebPage,
            message: "m".into(),
            background: false,
            tip_html: "t".into(),
            retry_tip_html: "r".into(),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"event": "retrying", "data": {"attempt": 2, "delayMs": 2000,
                "kind": "protocol", "problem": "webPage", "message": "m", "background": false,
                "tipHtml": "t", "retryTipHtml": "r"}})
        );
    }

    #[test]
    fn logged_in_never_serializes_the_token() {
        let e = LoginEvent::LoggedIn {
            profile: Profile {
                id: "u".into(),
                ..Default::default()
            },
            tip_html: "ok".into(),
            session: AuthSession {
                token: Secret::new("eyJ.secret.token"),
                id_token: None,
                refresh_token: None,
                expires_at: None,
                photo_url: None,
            },
            redirect: None,
        };
        let s = serde_json::to_string(&e).unwrap();
        assert!(!s.contains("secret"), "{s}");
        assert!(s.contains(r#""event":"loggedIn""#));
        assert!(!format!("{e:?}").contains("secret.token"));
    }
}
