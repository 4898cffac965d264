//! What a login attempt reports to its front end (contracts.md §3): one serde-tagged enum, so
//! the Tauri channel delivers `{"event": "qrReady", "data": {...}}`.

use serde::Serialize;

use crate::error::ErrorKind;
use crate::failure::Problem;
use crate::lang::Lang;
use crate::profile::{AuthSession, Profile};
use crate::tips::{TipKey, Tips};

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

    /// The tips the event carries, as (`tip_html`, `retry_tip_html`): the session picks the same
    /// ones (`redirecting`: the shell opens a callback after sign-in, so success reads
    /// `successRedirectTips`). A tip edited while the event is on screen is shown again from this.
    pub fn tip_keys(&self, redirecting: bool) -> (Option<TipKey>, Option<TipKey>) {
        match self {
            LoginEvent::Starting { .. } => (None, None),
            LoginEvent::QrReady { .. } => (Some(TipKey::Title), None),
            LoginEvent::Scanned { .. } => (Some(TipKey::Scanned), None),
            LoginEvent::Authorized { .. } | LoginEvent::LoggedIn { .. } => (
                Some(if redirecting {
                    TipKey::SuccessRedirect
                } else {
                    TipKey::Success
                }),
                None,
            ),
            LoginEvent::Cancelled { .. } => (Some(TipKey::Canceled), Some(TipKey::Retry)),
            LoginEvent::Expired { .. } => (Some(TipKey::Expired), Some(TipKey::Retry)),
            LoginEvent::Failed { .. } | LoginEvent::Retrying { .. } => {
                (Some(TipKey::Failed), Some(TipKey::Retry))
            }
        }
    }

    /// What a window shows of this event's tips, to word again after an edit.
    pub fn on_screen(&self, redirecting: bool) -> OnScreen {
        let (main, retry) = self.tip_keys(redirecting);
        OnScreen {
            event: self.name(),
            main,
            retry,
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

/// Which tips the window shows now: those of the last event it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnScreen {
    pub event: &'static str,
    pub main: Option<TipKey>,
    pub retry: Option<TipKey>,
}

impl OnScreen {
    /// Those tips as `tips` words them now, sanitized as the session sends them.
    pub fn tips_now(&self, tips: &Tips, lang: Lang) -> ShownTips {
        let get = |k: TipKey| crate::tips::sanitize(&tips.get(k, lang));
        ShownTips {
            event: self.event,
            tip_html: self.main.map(get),
            retry_tip_html: self.retry.map(get),
        }
    }
}

/// The tips of the event on screen, worded anew, for a window to show after an edit (the shell's
/// `config-reloaded` event). `event` names the event they belong to, so a window that moved on
/// meanwhile ignores them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShownTips {
    pub event: &'static str,
    pub tip_html: Option<String>,
    pub retry_tip_html: Option<String>,
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
