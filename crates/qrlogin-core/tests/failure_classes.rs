//! Every failure class of docs/contracts.md §6 against the real `qrlogin-server` behind a
//! misbehaving proxy on 127.0.0.1 (tests/common/fault.rs), in real time. Each transient class
//! hits discovery, generate and then the poll; the session must show `retrying` with the right
//! problem, never stop, and sign in from the phone once the proxy forwards again. A class that
//! became fatal again fails its test (the session ends with `failed` before the login).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::fault::{Fault, FaultProxy};
use common::real_server::{RealServer, PASSWORD};
use qrlogin_core::failure::Problem;
use qrlogin_core::http::Limits;
use qrlogin_core::{Client, ClientConfig, DialectId, LoginEvent, LoginSession, SessionOptions};
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const WAIT: Duration = Duration::from_secs(40);
const GENERATE: &str = "/api/v2/qrcode/gene";
const POLL: &str = "/api/v2/qrcode/check";

struct Env {
    srv: RealServer,
    proxy: FaultProxy,
}

impl Env {
    async fn new() -> Env {
        // No app secret on the desktop: the exchange needs PKCE, so a dropped PKCE fails.
        let srv = RealServer::start(NewApp::default()).await;
        let proxy = FaultProxy::start(srv.running().local_addr()).await;
        Env { srv, proxy }
    }

    /// A client that talks to the server through the proxy.
    fn client(&self, limits: Limits) -> Arc<Client> {
        let mut c = self.srv.config(&self.proxy.base_url(), DialectId::G3);
        c.limits = limits;
        Arc::new(Client::new(c).unwrap())
    }
}

fn opts() -> SessionOptions {
    SessionOptions {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(300),
        // Interval polling, so a fault set on the poll path is met at once (no held long-poll).
        long_poll: false,
        fetch_avatars: false,
        ..SessionOptions::default()
    }
}

struct Watch {
    rx: UnboundedReceiver<LoginEvent>,
    seen: Vec<LoginEvent>,
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
            seen: Vec::new(),
            _session: session,
        }
    }

    /// Waits for an event `pred` accepts. Any `failed` is a failure of the test: a transient
    /// class must never stop the attempt nor, within the visible retries, offer the button.
    async fn until(&mut self, what: &str, pred: impl Fn(&LoginEvent) -> bool) -> LoginEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let e = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what}; saw {:?}", self.names()))
                .unwrap_or_else(|| panic!("the session ended before {what}; saw {:?}", self.seen));
            self.seen.push(e.clone());
            if let LoginEvent::Failed {
                problem, message, ..
            } = &e
            {
                panic!("failed ({problem:?}: {message}) while waiting for {what}; a transient class became fatal");
            }
            if pred(&e) {
                return e;
            }
        }
    }

    /// `n` more `retrying` events, each naming `want`.
    async fn retries(&mut self, n: usize, want: Problem) {
        for _ in 0..n {
            let e = self.until("retrying", |e| e.name() == "retrying").await;
            let LoginEvent::Retrying {
                problem,
                background,
                tip_html,
                ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*problem, want, "{e:?}");
            assert!(!background, "within the visible retries");
            assert!(!tip_html.is_empty(), "the failed tip is the main line");
        }
    }

    fn names(&self) -> Vec<&'static str> {
        self.seen.iter().map(LoginEvent::name).collect()
    }
}

/// The phone scans `text`, signs in as alice and confirms.
async fn approve(text: &str, check_code: Option<&str>) {
    let phone = Phone::new();
    let page = phone.open(text).await.expect("phone opens the QR");
    let page = phone
        .sign_in(&page, "alice", PASSWORD)
        .await
        .expect("phone signs in");
    let pick = (!page.check_code_choices.is_empty()).then(|| check_code.expect("a check code"));
    phone.confirm(&page, pick).await.expect("phone confirms");
}

/// The class `fault` survives everywhere: at discovery and generate, then at the poll; after
/// each, the proxy forwards again and the attempt goes on by itself to a phone sign-in.
async fn survives(fault: Fault, want: Problem, limits: Limits) {
    let env = Env::new().await;
    env.proxy.set(fault.clone());
    let mut w = Watch::start(env.client(limits), opts());
    w.retries(3, want).await;
    env.proxy.heal();
    let LoginEvent::QrReady {
        text, check_code, ..
    } = w.until("a QR", |e| e.name() == "qrReady").await
    else {
        unreachable!()
    };
    assert!(text.starts_with(env.srv.running().base_url()), "{text}");

    env.proxy.set_for(POLL, fault);
    w.retries(2, want).await;
    env.proxy.heal();
    // Back from the outage: the same QR is shown again and can be approved.
    let again = w.until("the QR again", |e| e.name() == "qrReady").await;
    assert!(matches!(&again, LoginEvent::QrReady { text: t, .. } if *t == text));
    approve(&text, check_code.as_deref()).await;
    w.until("loggedIn", |e| e.name() == "loggedIn").await;
    // Met at discovery (or, when that answer is "plain for now", at generate), then at the poll.
    let before_qr = env.proxy.faulted("/.well-known/") + env.proxy.faulted(GENERATE);
    assert!(before_qr >= 3 && env.proxy.faulted(POLL) >= 2);
}

fn fast() -> Limits {
    Limits::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_proxy_page_is_retried() {
    survives(Fault::web_page(502), Problem::ServerError, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_without_a_body_is_retried() {
    survives(
        Fault::reply(503, "text/plain", ""),
        Problem::ServerError,
        fast(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_web_page_is_retried() {
    survives(Fault::web_page(200), Problem::WebPage, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_that_is_not_json_is_retried() {
    survives(Fault::not_json(), Problem::NotJson, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_reply_cut_off_is_retried() {
    survives(Fault::truncated_json(), Problem::Truncated, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_mid_body_is_retried() {
    let fault = Fault::CutOff {
        declared: 400,
        body: br#"{"code":200,"data":{"#.to_vec(),
    };
    survives(fault, Problem::Truncated, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_1_mib_is_retried() {
    survives(Fault::oversized(2 * 1024 * 1024), Problem::TooLarge, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_with_invalid_utf8_is_retried() {
    survives(Fault::invalid_utf8(), Problem::NotText, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_without_what_the_generation_promises_is_retried() {
    survives(
        Fault::json(200, r#"{"code":200,"message":"ok","data":{}}"#),
        Problem::Incomplete,
        fast(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_business_code_is_retried() {
    survives(
        Fault::json(200, r#"{"code":1999,"message":"maintenance","data":null}"#),
        Problem::ServerCode,
        fast(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_page_is_retried() {
    survives(Fault::web_page(404), Problem::UnexpectedStatus, fast()).await;
}

/// An hour-long `Retry-After` is capped at the back-off cap (300 ms here), so this ends fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_an_hour_long_retry_after_is_retried_at_the_cap() {
    survives(Fault::rate_limited(3600), Problem::RateLimited, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_retried() {
    survives(Fault::Close, Problem::Unreachable, fast()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_and_is_retried() {
    let limits = Limits {
        request_timeout: Duration::from_millis(600),
        ..Limits::default()
    };
    survives(Fault::Hang, Problem::Timeout, limits).await;
}

/// Discovery answers 503 at first while everything else works: the session must not make a QR
/// without PKCE (this app has no secret on the desktop, so such a QR could never sign in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_discovery_is_retried_before_the_qr_so_pkce_is_kept() {
    let env = Env::new().await;
    env.proxy
        .set_for("/.well-known/qrlogin", Fault::reply(503, "text/plain", ""));
    let mut w = Watch::start(env.client(fast()), opts());
    w.retries(2, Problem::ServerError).await;
    assert_eq!(
        env.proxy
            .seen()
            .iter()
            .filter(|s| s.path == GENERATE)
            .count(),
        0,
        "no QR is made while discovery fails"
    );
    env.proxy.heal();
    let LoginEvent::QrReady {
        text, check_code, ..
    } = w.until("a QR", |e| e.name() == "qrReady").await
    else {
        unreachable!()
    };
    let generates: Vec<_> = env
        .proxy
        .seen()
        .into_iter()
        .filter(|s| s.path == GENERATE)
        .collect();
    let body = String::from_utf8_lossy(&generates[0].body).into_owned();
    assert!(
        body.contains("codeChallenge"),
        "the first QR carries the PKCE challenge: {body}"
    );
    approve(&text, check_code.as_deref()).await;
    w.until("loggedIn", |e| e.name() == "loggedIn").await;
}

/// A definite answer still ends the attempt, saying what to fix: an unknown app id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_app_stops_with_what_to_fix() {
    let env = Env::new().await;
    let mut c = ClientConfig::new(env.proxy.base_url(), DialectId::G3, "no-such-app");
    c.app.lang = qrlogin_core::tips::Lang::En;
    let mut o = opts();
    o.lang = qrlogin_core::tips::Lang::En;
    let (tx, mut rx) = unbounded_channel();
    let mut s = LoginSession::start(Arc::new(Client::new(c).unwrap()), o, move |e| {
        let _ = tx.send(e);
    });
    tokio::time::timeout(WAIT, s.finished()).await.unwrap();
    let mut last = None;
    while let Ok(e) = rx.try_recv() {
        last = Some(e);
    }
    let Some(LoginEvent::Failed {
        problem,
        message,
        retryable,
        ..
    }) = last
    else {
        panic!("{last:?}")
    };
    assert_eq!(problem, Problem::UnknownApp);
    assert!(!retryable);
    assert!(message.contains("server.app_id"), "{message}");
}

/// A misbehaving reply that carries a handle-shaped string: neither an event (what the window
/// shows) nor any log line (at TRACE) may contain it, nor the session's real handle.
#[tokio::test(flavor = "current_thread")]
async fn no_reply_content_reaches_the_window_or_the_log() {
    const PLANTED: &str = "HANDLE-7d3f9a2c4b1e8f60";
    let log = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let log = log.clone();
        move || Capture(log.clone())
    };
    // Everything in this process but the server's own log (the desktop's log is the engine's).
    // The process-wide default, not a thread's (`set_default`): tracing caches each callsite's
    // interest once, process-wide, from the thread that reaches it first, so a sibling test
    // reaching the engine's `retrying` line first from a thread with no subscriber made it
    // silent here too (seen as a flake under load). Siblings' lines land in this log as well;
    // the assertions below look only for this test's planted text and this session's handles.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "trace,qrlogin_server=off,tower_http=off,sqlx=off",
        ))
        .with_writer(writer)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber of this binary");

    let env = Env::new().await;
    let faults = [
        Fault::reply(
            502,
            "text/html",
            format!("<html><body>random={PLANTED}</body></html>"),
        ),
        Fault::reply(200, "text/html", format!("<p>{PLANTED}</p>")),
        Fault::reply(200, "text/plain", format!("random={PLANTED}")),
        Fault::json(
            200,
            &format!(r#"{{"code":200,"data":{{"random": "{PLANTED}", "status": "#),
        ),
        Fault::json(
            200,
            &format!(r#"{{"code":200,"data":{{"random":"{PLANTED}","status":"weird"}}}}"#),
        ),
        Fault::json(
            200,
            &format!(r#"{{"code":1999,"message":"random={PLANTED}","data":null}}"#),
        ),
        Fault::json(
            200,
            &format!(r#"{{"code":2224,"message":"qrcodeId={PLANTED}","data":null}}"#),
        ),
    ];
    let mut events: Vec<LoginEvent> = Vec::new();
    for fault in faults {
        let (tx, mut rx) = unbounded_channel();
        let mut o = opts();
        o.lang = qrlogin_core::tips::Lang::En;
        let s = LoginSession::start(env.client(fast()), o.clone(), move |e| {
            let _ = tx.send(e);
        });
        // Let it make a QR and poll once, then fault the poll (and everything else).
        loop {
            let e = rx.recv().await.unwrap();
            let ready = e.name() == "qrReady";
            events.push(e);
            if ready {
                break;
            }
        }
        env.proxy.set(fault);
        // Until the fault has been met (a busy machine may take a while), then a little more.
        let end = tokio::time::Instant::now() + Duration::from_secs(20);
        while let Ok(Some(e)) = tokio::time::timeout_at(end, rx.recv()).await {
            let met = matches!(e.name(), "retrying" | "failed");
            events.push(e);
            if met {
                break;
            }
        }
        let end = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Ok(Some(e)) = tokio::time::timeout_at(end, rx.recv()).await {
            events.push(e);
        }
        env.proxy.heal();
        drop(s);
    }
    assert!(
        events.iter().any(|e| e.name() == "retrying")
            && events.iter().any(|e| e.name() == "failed"),
        "the faults were met: {:?}",
        events.iter().map(LoginEvent::name).collect::<Vec<_>>()
    );
    // The session's real handles, as the proxy saw them in the poll URLs.
    let handles: Vec<String> = env
        .proxy
        .seen()
        .iter()
        .filter(|s| s.path == POLL)
        .filter_map(|s| {
            url::Url::parse(&format!("http://x{}", s.target))
                .ok()?
                .query_pairs()
                .find(|(k, _)| k == "random")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert!(!handles.is_empty());
    let shown: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let logged = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(
        logged.contains("request failed; retrying"),
        "the log has the failures"
    );
    assert!(logged.contains("problem=\"webPage\"") || logged.contains("problem=webPage"));
    for secret in std::iter::once(PLANTED.to_owned()).chain(handles) {
        assert!(!shown.contains(&secret), "an event shows {secret}: {shown}");
        assert!(!logged.contains(&secret), "the log has {secret}: {logged}");
    }
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
