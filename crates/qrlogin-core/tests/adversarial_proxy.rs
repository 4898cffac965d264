//! The issue-13 faults of the proxy (tests/common/fault.rs) that failure_classes.rs does not
//! cover, against the real server on 127.0.0.1, in real time: delays just under and just over
//! the request timeout and the long-poll wait + margin, a body dripped at 1 byte/s, resets mid
//! head and mid body, 1 MiB + 1 without Content-Length, an endless chunked body, a BOM,
//! duplicate keys and `1e400`, 429 with absurd and past `Retry-After`, a 307 to another host,
//! a 502 page during a held long-poll. Each must end in `retrying` (or `failed`) with a readable
//! message that quotes no handle, and the session must sign in once the proxy forwards again.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::fault::{Fault, FaultProxy};
use common::real_server::{RealServer, PASSWORD};
use qrlogin_core::http::Limits;
use qrlogin_core::{Client, DialectId, LoginEvent, LoginSession, SessionOptions};
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const POLL: &str = "/api/v2/qrcode/check";
/// The request timeout of these clients: short, so "just over" costs seconds.
const TIMEOUT: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(40);

struct Env {
    srv: RealServer,
    proxy: FaultProxy,
}

impl Env {
    async fn new() -> Env {
        let srv = RealServer::start(NewApp::default()).await;
        let proxy = FaultProxy::start(srv.running().local_addr()).await;
        Env { srv, proxy }
    }

    fn client(&self) -> Arc<Client> {
        let mut c = self.srv.config(&self.proxy.base_url(), DialectId::G3);
        c.limits = Limits {
            request_timeout: TIMEOUT,
            long_poll_margin: TIMEOUT,
            ..Limits::default()
        };
        Arc::new(Client::new(c).unwrap())
    }

    /// The handle the desktop polls with, as the proxy saw it.
    fn handle(&self) -> Option<String> {
        self.proxy.seen().iter().find_map(|s| {
            let q = s.target.split_once("random=")?.1;
            Some(q.split('&').next()?.to_owned())
        })
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

async fn next(rx: &mut UnboundedReceiver<LoginEvent>, what: &str) -> LoginEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no event while waiting for {what}"))
        .unwrap_or_else(|| panic!("the session ended while waiting for {what}"))
}

/// How a fault on the poll path ended: the first `retrying` or `failed`, or none (the reply
/// came through in time).
#[derive(Debug)]
enum Outcome {
    Retried(String),
    Failed(String),
    SignedIn,
}

/// A session polls through `fault`; the phone scans at once. Returns what the desktop saw, and
/// checks: the message is readable and quotes no handle; after a heal the session (or, after
/// `failed`, a new one) signs in.
async fn through(fault: Fault, long_poll: bool, wait: Duration) -> Outcome {
    let env = Env::new().await;
    let client = env.client();
    let (tx, mut rx) = unbounded_channel();
    let session = LoginSession::start(client.clone(), opts(long_poll, wait), move |e| {
        let _ = tx.send(e);
    });
    let (text, code) = loop {
        if let LoginEvent::QrReady {
            text, check_code, ..
        } = next(&mut rx, "a QR").await
        {
            break (text, check_code);
        }
    };
    env.proxy.set_for(POLL, fault);
    let phone = Phone::new();
    let page = phone.open(&text).await.expect("open");
    let page = phone
        .sign_in(&page, "alice", PASSWORD)
        .await
        .expect("sign in");
    let pick = (!page.check_code_choices.is_empty()).then(|| code.clone().expect("code"));
    phone
        .confirm(&page, pick.as_deref())
        .await
        .expect("confirm");
    let outcome = loop {
        match next(&mut rx, "retrying, failed or loggedIn").await {
            LoginEvent::Retrying { message, .. } => break Outcome::Retried(message),
            LoginEvent::Failed { message, .. } => break Outcome::Failed(message),
            LoginEvent::LoggedIn { .. } => break Outcome::SignedIn,
            _ => {}
        }
    };
    let handle = env.handle().expect("the desktop polled");
    if let Outcome::Retried(m) | Outcome::Failed(m) = &outcome {
        assert!(
            m.len() > 10 && m.chars().any(char::is_alphabetic),
            "not readable: {m:?}"
        );
        assert!(!m.contains(&handle), "the message quotes the handle: {m}");
        assert!(m.len() < 400, "a message quoting the reply? {m}");
    }
    env.proxy.heal();
    match &outcome {
        Outcome::Retried(_) => loop {
            match next(&mut rx, "loggedIn after the heal").await {
                LoginEvent::LoggedIn { .. } => break,
                LoginEvent::Failed { message, .. } => {
                    panic!("failed after the heal: {message} (first: {outcome:?})")
                }
                _ => {}
            }
        },
        Outcome::Failed(_) => {
            drop(session);
            // The retry button: a new attempt signs in.
            let (tx, mut rx) = unbounded_channel();
            let _again = LoginSession::start(client, opts(long_poll, wait), move |e| {
                let _ = tx.send(e);
            });
            let (text, code) = loop {
                if let LoginEvent::QrReady {
                    text, check_code, ..
                } = next(&mut rx, "a new QR").await
                {
                    break (text, check_code);
                }
            };
            let page = phone.open(&text).await.expect("open");
            let pick = (!page.check_code_choices.is_empty()).then(|| code.expect("code"));
            phone
                .confirm(&page, pick.as_deref())
                .await
                .expect("confirm");
            while !matches!(next(&mut rx, "loggedIn").await, LoginEvent::LoggedIn { .. }) {}
        }
        Outcome::SignedIn => {}
    }
    assert!(text.starts_with(env.srv.running().base_url()));
    outcome
}

fn must_retry(o: Outcome, what: &str) -> String {
    match o {
        Outcome::Retried(m) => m,
        Outcome::Failed(m) => panic!("{what}: failed instead of retrying: {m}"),
        Outcome::SignedIn => panic!("{what}: signed in through the fault"),
    }
}

fn just(by: Duration, then: Fault) -> Fault {
    Fault::Delay {
        by,
        then: Box::new(then),
    }
}

fn status_reply() -> Fault {
    Fault::json(
        200,
        r#"{"code":200,"message":"","data":{"status":"PENDING"}}"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_just_under_the_request_timeout_is_taken() {
    // A pending status 300 ms before the timeout: no retry, and the confirm then signs in.
    let o = through(
        just(TIMEOUT - Duration::from_millis(300), Fault::Forward),
        false,
        Duration::ZERO,
    )
    .await;
    assert!(
        matches!(o, Outcome::SignedIn),
        "a slow but timely reply was refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_just_over_the_request_timeout_is_retried() {
    let m = must_retry(
        through(
            just(TIMEOUT + Duration::from_millis(500), status_reply()),
            false,
            Duration::ZERO,
        )
        .await,
        "over the timeout",
    );
    assert!(m.to_lowercase().contains("time"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_held_past_wait_plus_margin_is_retried() {
    // wait 1 s + margin 2 s: an answer after 3.5 s is too late, one after 2.5 s is not.
    let wait = Duration::from_secs(1);
    let late = wait + TIMEOUT + Duration::from_millis(500);
    must_retry(
        through(just(late, status_reply()), true, wait).await,
        "past the long-poll's wait + margin",
    );
    let timely = wait + TIMEOUT - Duration::from_millis(500);
    let o = through(just(timely, Fault::Forward), true, wait).await;
    assert!(
        matches!(o, Outcome::SignedIn),
        "a long-poll answered in time was refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dripped_at_one_byte_a_second_is_retried() {
    let body = br#"{"code":200,"message":"","data":{"status":"PENDING"}}"#.to_vec();
    must_retry(
        through(
            Fault::Drip {
                body,
                every: Duration::from_secs(1),
            },
            false,
            Duration::ZERO,
        )
        .await,
        "drip",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_mid_head_and_mid_body_are_retried() {
    must_retry(
        through(Fault::ResetMidHead, false, Duration::ZERO).await,
        "reset mid head",
    );
    must_retry(
        through(
            Fault::ResetMidBody {
                declared: 400,
                sent: br#"{"code":200,"data":{"#.to_vec(),
            },
            false,
            Duration::ZERO,
        )
        .await,
        "reset mid body",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_mib_without_a_length_and_an_endless_chunked_body_are_retried() {
    let mut body = br#"{"code":200,"message":""#.to_vec();
    body.resize((1 << 20) + 1 - 2, b'x');
    body.extend_from_slice(br#""}"#);
    let m = must_retry(
        through(Fault::Unframed { body }, false, Duration::ZERO).await,
        "1 MiB + 1 without Content-Length",
    );
    assert!(
        m.contains("MiB") || m.to_lowercase().contains("large"),
        "{m}"
    );
    must_retry(
        through(Fault::EndlessChunked, false, Duration::ZERO).await,
        "endless chunked",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bom_duplicate_keys_and_1e400_do_not_panic_and_end_readably() {
    for (name, body) in [
        (
            "BOM",
            "\u{feff}{\"code\":200,\"message\":\"\",\"data\":{\"status\":\"PENDING\"}}",
        ),
        (
            "1e400",
            r#"{"code":200,"message":"","data":{"status":"PENDING","expiresIn":1e400}}"#,
        ),
    ] {
        let o = through(Fault::json(200, body), false, Duration::ZERO).await;
        assert!(!matches!(o, Outcome::SignedIn), "{name}");
    }
    // Duplicate keys: the last one wins (serde_json), here a status nobody knows.
    let dup = r#"{"code":200,"message":"","data":{"status":"PENDING","status":"WHATEVER"}}"#;
    let o = through(Fault::json(200, dup), false, Duration::ZERO).await;
    assert!(!matches!(o, Outcome::SignedIn), "duplicate keys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_absurd_or_past_retry_after_is_retried() {
    for value in [
        "99999999999999999999999",
        "-5",
        "Mon, 01 Jan 1990 00:00:00 GMT",
        "soon",
    ] {
        must_retry(
            through(Fault::retry_after(value), false, Duration::ZERO).await,
            value,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_307_to_another_host_is_not_followed() {
    let o = through(
        Fault::redirect(307, "http://127.0.0.2:9/api/v2/qrcode/check"),
        false,
        Duration::ZERO,
    )
    .await;
    assert!(!matches!(o, Outcome::SignedIn));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_page_during_a_held_long_poll_is_retried() {
    must_retry(
        through(
            just(Duration::from_millis(800), Fault::web_page(502)),
            true,
            Duration::from_secs(5),
        )
        .await,
        "502 during a long-poll",
    );
}
