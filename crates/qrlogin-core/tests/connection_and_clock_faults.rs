//! The issue-13 faults that are states of the server rather than bad replies, against the real
//! server on 127.0.0.1 in real time: a half-open server (it keeps every TCP connection, reads,
//! and never answers again, also not the long-poll it holds), the scheme mixed up (an `https://`
//! client meeting a plain HTTP server and an `http://` client meeting an HTTPS one), and the
//! server's clock an hour behind or ahead.
//!
//! The first two must end in `retrying` with a readable message that quotes no handle, hold no
//! pile of sockets, and sign in once the fault stops. A wrong server clock is not an outage: the
//! sign-in must simply work, and the session must last as long as the server meant it to (its
//! token's lifetime, counted on this computer's clock), so the app neither signs out at once nor
//! refreshes in a loop nor trusts a token an hour after the server stopped accepting it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::fault::FaultProxy;
use common::real_server::{RealServer, PASSWORD};
use common::tls_front::TlsFront;
use qrlogin_core::credentials::{Credentials, RestorePlan};
use qrlogin_core::http::{
    build_client_with, Limits, NetworkOptions, ProxyChoice, ReqwestTransport,
};
use qrlogin_core::{AuthSession, Client, DialectId, LoginEvent, LoginSession, SessionOptions};
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const TIMEOUT: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(40);
const HOUR: i64 = 3600;

struct Env {
    srv: RealServer,
}

impl Env {
    async fn new() -> Env {
        Env {
            srv: RealServer::start(NewApp::default()).await,
        }
    }

    /// A client of `dialect` (by its config name) for `base_url`, trusting `ca` when given.
    fn client(&self, base_url: &str, dialect: &str, ca: Option<&str>) -> Arc<Client> {
        let dialect: DialectId = dialect.parse().expect("a dialect name");
        let mut c = self.srv.config(base_url, dialect);
        c.limits = Limits {
            request_timeout: TIMEOUT,
            long_poll_margin: TIMEOUT,
            ..Limits::default()
        };
        let ca_file = ca.map(|pem| {
            let path = self.srv.dir.path().join("front-ca.pem");
            std::fs::write(&path, pem).unwrap();
            path
        });
        let network = NetworkOptions {
            ca_file,
            proxy: ProxyChoice::Direct,
        };
        let http = build_client_with(&c.limits, &network).expect("a client");
        let transport = Arc::new(ReqwestTransport::new(http.clone(), &c.limits));
        Arc::new(Client::with_transport(c, transport, http).unwrap())
    }
}

fn opts(long_poll: bool, wait: Duration) -> SessionOptions {
    SessionOptions {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(300),
        long_poll,
        long_poll_wait: wait,
        fetch_avatars: false,
        lang: qrlogin_core::tips::Lang::En,
        ..SessionOptions::default()
    }
}

struct Watch {
    rx: UnboundedReceiver<LoginEvent>,
    _session: LoginSession,
}

impl Watch {
    fn start(client: Arc<Client>, opts: SessionOptions) -> Watch {
        let (tx, rx) = unbounded_channel();
        let session = LoginSession::start(client, opts, move |e| {
            let _ = tx.send(e);
        });
        Watch {
            rx,
            _session: session,
        }
    }

    async fn next(&mut self, what: &str) -> LoginEvent {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no event while waiting for {what}"))
            .unwrap_or_else(|| panic!("the session ended while waiting for {what}"))
    }

    /// The next QR (text, check code); any `failed` on the way fails the test.
    async fn qr(&mut self) -> (String, Option<String>, i64, u64) {
        loop {
            match self.next("a QR").await {
                LoginEvent::QrReady {
                    text,
                    check_code,
                    expires_at,
                    ttl_ms,
                    ..
                } => return (text, check_code, expires_at, ttl_ms),
                LoginEvent::Failed { message, .. } => panic!("failed before a QR: {message}"),
                _ => {}
            }
        }
    }

    /// The first `retrying` message; any `failed` or a login first fails the test.
    async fn retrying(&mut self) -> String {
        loop {
            match self.next("retrying").await {
                LoginEvent::Retrying { message, .. } => return message,
                LoginEvent::Failed { message, .. } => {
                    panic!("failed instead of retrying: {message}")
                }
                e @ (LoginEvent::LoggedIn { .. } | LoginEvent::QrReady { .. }) => {
                    panic!("{} through the fault", e.name())
                }
                _ => {}
            }
        }
    }

    /// Until `loggedIn`; no `expired` nor `failed` may come first.
    async fn logged_in(&mut self) -> AuthSession {
        loop {
            match self.next("loggedIn").await {
                LoginEvent::LoggedIn { session, .. } => return session,
                LoginEvent::Failed { message, .. } => panic!("failed: {message}"),
                LoginEvent::Expired { .. } => panic!("the QR expired before the login"),
                _ => {}
            }
        }
    }
}

async fn approve(text: &str, check_code: Option<&str>) {
    let phone = Phone::new();
    let page = phone.open(text).await.expect("open");
    let page = phone
        .sign_in(&page, "alice", PASSWORD)
        .await
        .expect("sign in");
    let pick = (!page.check_code_choices.is_empty()).then(|| check_code.expect("a check code"));
    phone.confirm(&page, pick).await.expect("confirm");
}

fn readable(m: &str, handles: &[String]) {
    assert!(
        m.len() > 10 && m.len() < 400 && m.chars().any(char::is_alphabetic),
        "not readable: {m:?}"
    );
    for h in handles {
        assert!(
            !m.contains(h.as_str()),
            "the message quotes the handle: {m}"
        );
    }
}

fn poll_handles(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .seen()
        .iter()
        .filter_map(|s| {
            let q = s.target.split_once("random=")?.1;
            Some(q.split('&').next()?.to_owned())
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_server_is_retried_without_piling_up_sockets_and_signs_in_after() {
    let env = Env::new().await;
    let proxy = FaultProxy::start(env.srv.running().local_addr()).await;
    let client = env.client(&proxy.base_url(), "v2", None);
    // A 3 s long-poll: the server holds it, then goes half-open while it does.
    let mut w = Watch::start(client, opts(true, Duration::from_secs(3)));
    let (text, code, _, _) = w.qr().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.set_half_open(true);
    // The server sees the approval and answers the held poll; the answer never arrives.
    approve(&text, code.as_deref()).await;
    let message = w.retrying().await;
    readable(&message, &poll_handles(&proxy));
    assert!(message.to_lowercase().contains("time"), "{message}");

    // Three more rounds against the silent server: each attempt's socket is given up.
    let mut most_held = 0;
    for _ in 0..3 {
        let m = w.retrying().await;
        readable(&m, &poll_handles(&proxy));
        most_held = most_held.max(proxy.held_open());
    }
    assert!(
        (1..=2).contains(&most_held),
        "the client should hold at most its current attempt (and one closing) open, held {most_held}"
    );
    proxy.heal();
    w.logged_in().await;
    // Connections that timed out were closed by the client, none are left half-open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        proxy.held_open(),
        0,
        "sockets left open to the silent server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_client_at_a_plain_http_server_is_retried_and_says_so() {
    let env = Env::new().await;
    let front = TlsFront::start(env.srv.running().local_addr()).await;
    front.set_tls(false);
    let client = env.client(
        &format!("https://localhost:{}", front.port()),
        "v2",
        Some(front.ca_pem()),
    );
    let mut w = Watch::start(client, opts(false, Duration::ZERO));
    let message = w.retrying().await;
    readable(&message, &[]);
    assert!(
        message.contains("plain HTTP") && message.contains("server.url"),
        "should say the server speaks plain HTTP and what to fix: {message}"
    );
    front.set_tls(true);
    let (text, code, _, _) = w.qr().await;
    approve(&text, code.as_deref()).await;
    w.logged_in().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_client_at_an_https_server_is_retried_and_says_so() {
    let env = Env::new().await;
    let front = TlsFront::start(env.srv.running().local_addr()).await;
    let client = env.client(&format!("http://127.0.0.1:{}", front.port()), "v2", None);
    let mut w = Watch::start(client, opts(false, Duration::ZERO));
    let message = w.retrying().await;
    readable(&message, &[]);
    assert!(
        message.contains("https://") && message.contains("server.url"),
        "should suggest https:// in server.url: {message}"
    );
    front.set_tls(false);
    let (text, code, _, _) = w.qr().await;
    approve(&text, code.as_deref()).await;
    w.logged_in().await;
}

/// One login through a proxy whose server clock is `skew` seconds off: returns how long the
/// session is good for, as this computer counts (ms), after checking the QR was not born
/// expired and the server still accepts the token the client got.
async fn lifetime_with_skew(env: &Env, dialect: &str, skew: i64) -> (i64, Credentials) {
    let proxy = FaultProxy::start(env.srv.running().local_addr()).await;
    proxy.set_clock_skew(skew);
    let client = env.client(&proxy.base_url(), dialect, None);
    let mut w = Watch::start(client.clone(), opts(false, Duration::ZERO));
    let (text, code, expires_at, ttl_ms) = w.qr().await;
    let now = now_ms();
    assert!(
        (expires_at - now - ttl_ms as i64).abs() < 10_000 && ttl_ms >= 30_000,
        "{dialect} skew {skew}: the QR's expiry is off: expires in {} ms, ttl {ttl_ms}",
        expires_at - now
    );
    approve(&text, code.as_deref()).await;
    let session = w.logged_in().await;
    let now = now_ms();
    let creds = Credentials::from_session(&session, now);
    let expires = creds
        .expires_at
        .unwrap_or_else(|| panic!("{dialect}: no expiry"));
    // The server still takes the token (the proxy gives it back its own): no wrong sign-out.
    client
        .check_token(&session.token)
        .await
        .unwrap_or_else(|e| panic!("{dialect} skew {skew}: the token was refused: {e}"));
    (expires - now, creds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_clock_an_hour_off_neither_signs_out_nor_overstays() {
    let env = Env::new().await;
    for dialect in ["wxapp-legacy", "v2", "v3"] {
        let (true_life, _) = lifetime_with_skew(&env, dialect, 0).await;
        assert!(
            true_life > 10 * 60_000,
            "{dialect}: lifetime {true_life} ms"
        );
        for skew in [-HOUR, HOUR] {
            let (life, creds) = lifetime_with_skew(&env, dialect, skew).await;
            assert!(
                (life - true_life).abs() < 60_000,
                "{dialect}, server clock {skew:+} s: the session is good for {} min here, \
                 the server meant {} min",
                life / 60_000,
                true_life / 60_000
            );
            let now = now_ms();
            assert_eq!(
                creds.restore_plan(now),
                RestorePlan::Check,
                "{dialect} skew {skew}: a restart right now would not keep the session"
            );
            let due = creds.refresh_due_at().expect("an expiry");
            assert!(
                due - now > true_life / 2,
                "{dialect} skew {skew}: a refresh is due in {} s",
                (due - now) / 1000
            );
        }
    }
}
