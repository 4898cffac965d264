//! The `device` dialect (RFC 8628) end to end, real time: against our qrlogin-server (the phone
//! approves from the QR's `verification_uri_complete`, our long-poll holds the token request)
//! and against an independent implementation, authlib's device-code grant under Flask
//! (tests/py/authlib_device_server.py, from PyPI, on 127.0.0.1): sign-in, `slow_down` (+5 s),
//! `access_denied` (→ cancelled, new code), `expired_token` (→ expired, new code).

use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::{
    Client, ClientConfig, DialectId, ErrorKind, LoginEvent, LoginSession, SessionOptions,
};
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const WAIT: Duration = Duration::from_secs(40);

struct Watch {
    rx: UnboundedReceiver<LoginEvent>,
    seen: Vec<&'static str>,
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

    async fn next(&mut self, name: &str) -> LoginEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let e = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {name}; saw {:?}", self.seen))
                .unwrap_or_else(|| panic!("ended before {name}; saw {:?}", self.seen));
            self.seen.push(e.name());
            if e.name() == name {
                return e;
            }
            if let LoginEvent::Failed { kind, message, .. } = &e {
                if *kind != ErrorKind::Network {
                    panic!("failed while waiting for {name}: {message}");
                }
            }
        }
    }
}

fn opts() -> SessionOptions {
    SessionOptions {
        cancel_pause: Duration::from_millis(200),
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        fetch_avatars: false,
        ..SessionOptions::default()
    }
}

/// (text, user code, generation) of a `qrReady`.
fn qr(e: &LoginEvent) -> (String, String, u32) {
    match e {
        LoginEvent::QrReady {
            text,
            check_code,
            generation,
            ..
        } => (
            text.clone(),
            check_code
                .clone()
                .expect("the user code rides as the check code"),
            *generation,
        ),
        other => panic!("not qrReady: {other:?}"),
    }
}

fn device_client(base: &str, client_id: &str) -> Arc<Client> {
    Arc::new(Client::new(ClientConfig::new(base, DialectId::Device, client_id)).unwrap())
}

#[tokio::test]
async fn signs_in_through_our_server_with_a_refresh_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(OpenOptions::new(dir.path())).await.unwrap();
    let creds = server
        .add_app(NewApp {
            name: "Terminal".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    server
        .add_user(NewUser {
            username: "alice".into(),
            password: "alice-password".into(),
            nickname: Some("Alice".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .unwrap();
    let base = running.base_url().to_owned();
    let mut w = Watch::start(device_client(&base, &creds.app_id), opts());
    let (text, user_code, _) = qr(&w.next("qrReady").await);
    assert_eq!(text, format!("{base}/device?user_code={user_code}"));
    let started = std::time::Instant::now();
    let phone = Phone::new();
    let page = phone.open(&text).await.unwrap();
    let page = phone
        .sign_in(&page, "alice", "alice-password")
        .await
        .unwrap();
    // The computer's name reached the approval page (our requester extension).
    assert!(page.html.contains("qrlogin"), "{}", page.html);
    w.next("scanned").await;
    phone.confirm(&page, None).await.unwrap();
    let LoginEvent::LoggedIn {
        profile, session, ..
    } = w.next("loggedIn").await
    else {
        unreachable!()
    };
    // Held token requests: no 5 s interval waited out.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(profile.username.as_deref(), Some("alice"));
    assert_eq!(profile.nickname.as_deref(), Some("Alice"));
    assert!(session.refresh_token.is_some());
}

/// The authlib server, its base URL, and a way to call its test controls.
struct Idp {
    _child: tokio::process::Child,
    base: String,
    http: reqwest::Client,
}

impl Idp {
    async fn start(advertised: u64, enforced: f64, expires_in: u64) -> Idp {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/authlib_device_server.py"
        );
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(advertised.to_string())
            .arg(enforced.to_string())
            .arg(expires_in.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with authlib and flask (scripts/install-deps.sh)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the authlib server starts")
            .unwrap()
            .expect("its address");
        qrlogin_core::trust::install_crypto_provider();
        Idp {
            _child: child,
            base,
            http: reqwest::Client::new(),
        }
    }

    fn client(&self) -> Arc<Client> {
        device_client(&self.base, "qrlogin-test-device")
    }

    async fn user(&self, action: &str, user_code: &str) {
        let r = self
            .http
            .post(format!("{}/test/{action}", self.base))
            .query(&[("user_code", user_code)])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    async fn polls(&self) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/test/polls", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn signs_in_with_authlibs_device_grant() {
    let idp = Idp::start(1, 0.5, 60).await;
    let mut w = Watch::start(idp.client(), opts());
    let (text, user_code, _) = qr(&w.next("qrReady").await);
    assert_eq!(text, format!("{}/activate?user_code={user_code}", idp.base));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    idp.user("approve", &user_code).await;
    let LoggedIn { profile, session } = logged_in(w.next("loggedIn").await);
    assert_eq!(profile.id, "u-1");
    assert_eq!(profile.nickname.as_deref(), Some("Dora Device"));
    assert!(session.refresh_token.is_some());
    let polls = idp.polls().await;
    assert!(polls.len() >= 2, "{polls:?}");
    assert!(polls.iter().all(|p| p["content_type"]
        .as_str()
        .unwrap_or_default()
        .starts_with("application/x-www-form-urlencoded")));
    assert_eq!(polls[0]["error"], "authorization_pending");
}

struct LoggedIn {
    profile: qrlogin_core::Profile,
    session: qrlogin_core::AuthSession,
}

fn logged_in(e: LoginEvent) -> LoggedIn {
    match e {
        LoginEvent::LoggedIn {
            profile, session, ..
        } => LoggedIn { profile, session },
        other => panic!("not loggedIn: {other:?}"),
    }
}

/// The IdP names a 1 s interval but enforces 3 s: its first `slow_down` must make us add 5 s
/// for good, so it never has to say it twice.
#[tokio::test]
async fn slow_down_adds_five_seconds_for_good() {
    let idp = Idp::start(1, 3.0, 60).await;
    let mut w = Watch::start(idp.client(), opts());
    let (_, user_code, _) = qr(&w.next("qrReady").await);
    // Long enough for a slow_down and two polls at the slowed pace.
    tokio::time::sleep(Duration::from_secs(15)).await;
    idp.user("approve", &user_code).await;
    logged_in(w.next("loggedIn").await);
    let polls = idp.polls().await;
    let slow: Vec<usize> = (0..polls.len())
        .filter(|i| polls[*i]["error"] == "slow_down")
        .collect();
    assert_eq!(slow.len(), 1, "{polls:?}");
    let t = |i: usize| polls[i]["t"].as_f64().unwrap();
    let after: Vec<f64> = (slow[0] + 1..polls.len())
        .map(|i| t(i) - t(i - 1))
        .collect();
    assert!(after.len() >= 2, "{polls:?}");
    assert!(
        after.iter().all(|gap| *gap >= 5.8),
        "gaps after slow_down: {after:?}"
    );
}

#[tokio::test]
async fn access_denied_is_cancelled_and_a_new_code_follows() {
    let idp = Idp::start(1, 0.5, 60).await;
    let mut w = Watch::start(idp.client(), opts());
    let (_, first, _) = qr(&w.next("qrReady").await);
    idp.user("deny", &first).await;
    let LoginEvent::Cancelled { refreshing, .. } = w.next("cancelled").await else {
        unreachable!()
    };
    assert!(refreshing);
    let (_, second, generation) = qr(&w.next("qrReady").await);
    assert_eq!(generation, 2);
    assert_ne!(first, second);
    idp.user("approve", &second).await;
    logged_in(w.next("loggedIn").await);
}

#[tokio::test]
async fn expired_token_is_expired_and_a_new_code_follows() {
    let idp = Idp::start(1, 0.5, 3).await;
    let mut w = Watch::start(idp.client(), opts());
    let (_, first, _) = qr(&w.next("qrReady").await);
    let LoginEvent::Expired { refreshing, .. } = w.next("expired").await else {
        unreachable!()
    };
    assert!(refreshing);
    let (_, second, generation) = qr(&w.next("qrReady").await);
    assert_eq!(generation, 2);
    assert_ne!(first, second);
    // The IdP said so itself (the client did not only count the seconds).
    assert!(idp
        .polls()
        .await
        .iter()
        .any(|p| p["error"] == "expired_token"));
}
