//! Login attempts in the shell: each one starts with what happens after sign-in attached
//! (remember the session, the after-login action), and its events go to the window's channel.
//!
//! The first attempt of a start does not wait for the page: when nothing is remembered, `setup`
//! starts it as soon as the backend is ready, while the webview is still loading, and its events
//! wait in a [`Relay`] until the page hands over a channel (with its first question, `app_info`,
//! or `start_login`). The page then gets the QR that was made in the meantime at once, instead of
//! asking the server only after its scripts ran and waiting for the answer. Whether a session is
//! remembered is not waited for (remembered_at_start.rs): the attempt is withdrawn if one is.

use crate::after_login::{self, Redirect};
use crate::backend::Current;
use crate::login;
use crate::signed_in;
use crate::state::AppState;
use qrlogin_core::events::LoginEvent;
use qrlogin_core::session::LoginSession;
use std::sync::Mutex;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};

/// Where the first attempt stands (one value per start, in `AppState`).
#[derive(Default)]
pub enum First {
    /// Nobody started an attempt yet.
    #[default]
    Unclaimed,
    /// Started by the shell; its events wait here for the page's channel.
    Prestarted(std::sync::Arc<Relay>),
    /// The page has its channel (or started its own attempt): later attempts are the page's.
    Claimed,
}

/// Events of an attempt whose window has not asked yet, then the window's channel.
#[derive(Default)]
pub struct Relay {
    inner: Mutex<RelayInner>,
}

#[derive(Default)]
struct RelayInner {
    waiting: Vec<LoginEvent>,
    channel: Option<Channel<LoginEvent>>,
}

impl Relay {
    /// Sends `event` to the window, or keeps it until the window hands over its channel. Only the
    /// events since the last QR are kept: the page folds them into its view, and older ones would
    /// only be undone by the newer.
    pub fn send(&self, event: LoginEvent) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match &inner.channel {
            Some(channel) => deliver(channel, event),
            None => {
                if matches!(event, LoginEvent::QrReady { .. }) {
                    // Keep `starting` (it carries the attempt number), drop what the new QR ends.
                    inner.waiting.truncate(1);
                }
                inner.waiting.push(event);
            }
        }
    }

    /// Hands the waiting events to `channel`, in order, and sends the next ones straight to it.
    /// Under the lock, so that no event overtakes the waiting ones.
    pub fn attach(&self, channel: Channel<LoginEvent>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for event in std::mem::take(&mut inner.waiting) {
            deliver(&channel, event);
        }
        inner.channel = Some(channel);
    }
}

/// What the window gets of an event. The window shows the SVG; the PNG of the same code (for
/// front ends that cannot show SVG) is dropped, which also keeps a QR under the size that Tauri's
/// channel delivers in one step (larger payloads need a second round trip from the page).
fn for_window(event: LoginEvent) -> LoginEvent {
    match event {
        LoginEvent::QrReady {
            svg,
            png,
            text,
            expires_at,
            ttl_ms,
            check_code,
            generation,
            tip_html,
            cant_scan,
        } => LoginEvent::QrReady {
            png: if svg.is_empty() { png } else { String::new() },
            svg,
            text,
            expires_at,
            ttl_ms,
            check_code,
            generation,
            tip_html,
            cant_scan,
        },
        other => other,
    }
}

fn deliver(channel: &Channel<LoginEvent>, event: LoginEvent) {
    if let Err(e) = channel.send(for_window(event)) {
        tracing::debug!(error = %e, "the window is gone; dropping a login event");
    }
}

/// Starts an attempt on `backend` whose events go to `window`, with the sign-in actions
/// attached, and installs it in `state` (cancelling the one before).
fn start<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    backend: Current,
    window: impl Fn(LoginEvent) + Send + Sync + 'static,
) {
    let attempt = state.next_attempt();
    let config = &state.config;
    let opts = login::session_options(config, &state.tips, state.lang(), attempt);
    let redirecting = opts.redirecting;
    let action = config.login.after_login;
    let command = config.login.command.clone();
    let redirect_url = config.login.redirect_url.clone();
    let include_token = config.login.redirect_include_token;
    let handle = app.clone();
    let Current { client, embedded } = backend;
    let issuer = client.clone();
    crate::startup::mark("login-started");
    let sink = move |event: LoginEvent| {
        if let LoginEvent::QrReady { generation: 1, .. } = &event {
            crate::startup::mark("qr-ready");
        }
        if let LoginEvent::LoggedIn {
            profile,
            session,
            redirect,
            ..
        } = &event
        {
            signed_in::remember(&handle, &issuer, embedded, profile, session);
            tracing::info!(user = %profile.id, "signed in");
            after_login::run(
                &handle,
                action,
                profile,
                session,
                Redirect {
                    // The configured callback wins; a G1 server's own `redirect` otherwise.
                    url: Some(redirect_url.as_str())
                        .filter(|u| !u.trim().is_empty())
                        .or(redirect.as_deref()),
                    include_token,
                },
                &command,
            );
        }
        crate::live_config::note_shown(&handle.state::<AppState>(), &event, redirecting);
        window(event);
    };
    state.replace_login(Some(LoginSession::start(client, opts, sink)));
}

/// The page's `start_login` (or its first `app_info` with a channel, when nothing is remembered):
/// the first call takes over the attempt the shell started ahead of it, if any; every other call
/// starts a new attempt (cancelling the one in flight).
pub fn start_for_page<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    backend: Current,
    channel: Channel<LoginEvent>,
) {
    let mut first = state.first.lock().unwrap_or_else(|p| p.into_inner());
    if let First::Prestarted(relay) = std::mem::replace(&mut *first, First::Claimed) {
        if state.login_running() {
            relay.attach(channel);
            return;
        }
    }
    start(app, state, backend, move |event| deliver(&channel, event));
}

/// At start-up, once the backend is ready: starts the first attempt unless the page was faster
/// or the token store has already said that a session is remembered. It does not wait for the
/// store (remembered_at_start.rs): if a session turns up later, [`withdraw_prestart`] stops it.
pub async fn prestart<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if crate::remembered_at_start::known(&state) == Some(true) {
        return;
    }
    let Some(backend) = crate::backend::peek(&state).await else {
        return;
    };
    let mut first = state.first.lock().unwrap_or_else(|p| p.into_inner());
    // Checked again under the lock: the store's answer may have come meanwhile, and its
    // withdrawal takes this lock too, so one of the two always sees the other.
    if !matches!(*first, First::Unclaimed)
        || crate::remembered_at_start::known(&state) == Some(true)
    {
        return;
    }
    let relay = std::sync::Arc::new(Relay::default());
    let to_relay = relay.clone();
    start(app, &state, backend, move |event| to_relay.send(event));
    *first = First::Prestarted(relay);
}

/// A session is remembered after all: the attempt the shell started ahead of the page is
/// stopped before any window saw its code (the page restores the session instead).
pub fn withdraw_prestart(state: &AppState) {
    let mut first = state.first.lock().unwrap_or_else(|p| p.into_inner());
    if matches!(*first, First::Prestarted(_)) {
        *first = First::Unclaimed;
        state.replace_login(None);
        tracing::info!("a session is remembered: the first attempt is withdrawn");
    }
}

/// Whether the page has asked its first question of this start (`app_info`) or taken an
/// attempt already. Until then `app_info` answers from the store's reading at start.
pub fn page_has_asked(state: &AppState) -> bool {
    let first = state.first.lock().unwrap_or_else(|p| p.into_inner());
    matches!(*first, First::Claimed)
}

/// The page asked its first question and a session is remembered: no attempt now (the page
/// restores the session); the next `start_login` starts a fresh one.
pub fn claim_for_restore(state: &AppState) {
    let mut first = state.first.lock().unwrap_or_else(|p| p.into_inner());
    if let First::Prestarted(_) = std::mem::replace(&mut *first, First::Claimed) {
        state.replace_login(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qr(svg: &str, png: &str) -> LoginEvent {
        LoginEvent::QrReady {
            svg: svg.into(),
            png: png.into(),
            text: "http://127.0.0.1/s/x".into(),
            expires_at: 0,
            ttl_ms: 1,
            check_code: None,
            generation: 1,
            tip_html: String::new(),
            cant_scan: qrlogin_core::cant_scan::CantScan::Link,
        }
    }

    #[test]
    fn the_window_gets_the_svg_and_the_png_only_when_there_is_no_svg() {
        let LoginEvent::QrReady { svg, png, .. } = for_window(qr("data:svg", "data:png")) else {
            unreachable!()
        };
        assert_eq!((svg.as_str(), png.as_str()), ("data:svg", ""));
        let LoginEvent::QrReady { png, .. } = for_window(qr("", "data:png")) else {
            unreachable!()
        };
        assert_eq!(png, "data:png");
    }

    /// What the window gets for a QR of the embedded server (the longest URL it makes, with a
    /// LAN address) must fit Tauri's one-step channel delivery (a JSON payload under 8192 bytes);
    /// with the PNG it does not, and the page would need a second round trip to fetch it.
    #[test]
    fn a_qr_for_the_window_fits_the_channels_one_step_delivery() {
        let text = "http://192.168.100.200:65000/s/2Yx9f3kQp7LmN4vR8sT1wZ";
        let rendered = qrlogin_core::qr::render(text, &Default::default()).unwrap();
        let event = LoginEvent::QrReady {
            svg: rendered.svg_data_url.clone(),
            png: rendered.png_data_url.clone(),
            text: text.into(),
            expires_at: 1_764_633_600_000,
            ttl_ms: 120_000,
            check_code: Some("42".into()),
            generation: 1,
            tip_html: "Open the app on your phone and scan".into(),
            // Our server's typed code: the longest "Can't scan?" there is.
            cant_scan: qrlogin_core::cant_scan::CantScan::Code {
                code: "WDJB-MJHT".into(),
                url: "http://192.168.100.200:65000/s".into(),
            },
        };
        let full = serde_json::to_string(&event).unwrap().len();
        let sent = serde_json::to_string(&for_window(event)).unwrap().len();
        assert!(sent < 8192, "{sent} bytes go to the window");
        assert!(
            full >= 8192,
            "{full} bytes with the PNG: the test no longer shows the point"
        );
    }
}
