//! The session's credentials against the real `qrlogin-server` (in-process, random port): every
//! generation hands the desktop a refresh token that never shows in an event, a profile or debug
//! output; refresh rotates it and a reuse ends the session; revocation makes introspection say
//! `active: false`; the keeper refreshes before expiry and reports a refused refresh.

mod common;

use common::real_server::{RealServer, PASSWORD};
use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::credentials::{Credentials, RestorePlan};
use qrlogin_core::oauth::{self, Endpoints, OAuthError, TokenKind};
use qrlogin_core::refresh::{self, KeeperEvent, SessionKeeper};
use qrlogin_core::secret::Secret;
use qrlogin_core::{Client, DialectId, LoginEvent, LoginSession, SessionOptions};
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use tokio::sync::mpsc::unbounded_channel;

/// Everything the engine logs in this test binary, at TRACE level (every test's requests).
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<std::sync::Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        struct Sink;
        impl std::io::Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                captured_logs().lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| Sink)
            .try_init();
        std::sync::Mutex::new(Vec::new())
    })
}
const WAIT: Duration = Duration::from_secs(30);

struct Env {
    srv: RealServer,
}

impl Env {
    async fn new(app: NewApp) -> Env {
        Env {
            srv: RealServer::start(app).await,
        }
    }

    fn client(&self, dialect: DialectId) -> Arc<Client> {
        let c = self.srv.config(self.srv.running().base_url(), dialect);
        Arc::new(Client::new(c).unwrap())
    }
}

/// A full login; returns every event the engine sent and the credentials it handed over.
async fn login(client: Arc<Client>) -> (Vec<LoginEvent>, Credentials) {
    let (tx, mut rx) = unbounded_channel();
    let _session = LoginSession::start(client.clone(), SessionOptions::default(), move |e| {
        let _ = tx.send(e);
    });
    let mut seen = Vec::new();
    loop {
        let e = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("an event in time")
            .expect("the session goes on");
        seen.push(e.clone());
        match &e {
            LoginEvent::QrReady {
                text, check_code, ..
            } => {
                let phone = Phone::new();
                let page = phone.open(text).await.unwrap();
                let page = phone.sign_in(&page, "alice", PASSWORD).await.unwrap();
                let pick =
                    (!page.check_code_choices.is_empty()).then(|| check_code.clone().unwrap());
                phone.confirm(&page, pick.as_deref()).await.unwrap();
            }
            LoginEvent::LoggedIn { session, .. } => {
                let creds = Credentials::from_session(session, client.now_ms());
                return (seen, creds);
            }
            LoginEvent::Failed { message, .. } => panic!("login failed: {message}"),
            _ => {}
        }
    }
}

async fn endpoints(client: &Client) -> Endpoints {
    let e = oauth::discover(client).await.expect("discovery answers");
    assert!(e.can_refresh() && e.can_revoke(), "{e:?}");
    e
}

async fn active(client: &Client, eps: &Endpoints, token: &Secret) -> bool {
    let v = oauth::introspect(client, eps, token)
        .await
        .expect("introspection answers");
    v["active"] == true
}

/// Every generation: a refresh token arrives, and it (like the access token) appears in no
/// serialized event, no serialized profile and no debug output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_leave_rust_in_any_generation() {
    captured_logs();
    for dialect in DialectId::ALL {
        let env = Env::new(NewApp::default()).await;
        let client = env.client(dialect);
        let (events, creds) = login(client).await;
        let refresh = creds
            .refresh_token
            .clone()
            .unwrap_or_else(|| panic!("{dialect}: no refresh token handed over"));
        let secrets = [creds.access_token.expose(), refresh.expose()];
        for e in &events {
            let json = serde_json::to_string(e).unwrap();
            let debug = format!("{e:?}");
            for s in secrets {
                assert!(
                    !json.contains(s),
                    "{dialect}: a token in the {} event: {json}",
                    e.name()
                );
                assert!(
                    !debug.contains(s),
                    "{dialect}: a token in {}'s debug output",
                    e.name()
                );
            }
            if let LoginEvent::LoggedIn { profile, .. } = e {
                let p = serde_json::to_string(profile).unwrap();
                for s in secrets {
                    assert!(!p.contains(s), "{dialect}: a token in the profile: {p}");
                }
            }
        }
        assert!(!format!("{creds:?}").contains(refresh.expose()));
        // A refresh and a revocation log too: still no token in the log.
        let eps = endpoints(&env.client(dialect)).await;
        let client = env.client(dialect);
        let mut cache = Some(eps.clone());
        let next = refresh::refresh_now(&client, &mut cache, &creds)
            .await
            .unwrap();
        oauth::revoke(
            &client,
            &eps,
            next.refresh_token.as_ref().unwrap(),
            TokenKind::Refresh,
        )
        .await
        .unwrap();
        let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
        assert!(logs.contains("login event"), "the log capture works");
        for s in [
            creds.access_token.expose(),
            refresh.expose(),
            next.access_token.expose(),
            next.refresh_token.as_ref().unwrap().expose(),
        ] {
            assert!(!logs.contains(s), "{dialect}: a token in the log");
        }
    }
}

/// Refresh rotates the refresh token; presenting the spent one again ends the whole session
/// (the newest tokens are dead too). Revocation makes introspection say inactive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_reuse_ends_revoke_kills() {
    let env = Env::new(NewApp::default()).await;
    let client = env.client(DialectId::G4);
    let (_, first) = login(client.clone()).await;
    let eps = endpoints(&client).await;
    assert!(active(&client, &eps, &first.access_token).await);

    let mut cache = Some(eps.clone());
    let second = refresh::refresh_now(&client, &mut cache, &first)
        .await
        .unwrap();
    // (The access token may be byte-identical when refreshed within the same second: same
    // claims, no jti. The refresh token is what must change.)
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "the refresh token rotates"
    );
    assert!(active(&client, &eps, &second.access_token).await);

    // The spent refresh token again: reuse detection ends the session.
    let reused = refresh::refresh_now(&client, &mut cache, &first).await;
    assert!(
        matches!(reused, Err(OAuthError::SessionEnded(_))),
        "{reused:?}"
    );
    assert!(
        !active(&client, &eps, &second.access_token).await,
        "a reuse must end the whole session"
    );

    // A new session, revoked by its refresh token: both tokens inactive at once.
    let (_, third) = login(client.clone()).await;
    assert!(active(&client, &eps, &third.access_token).await);
    oauth::revoke(
        &client,
        &eps,
        third.refresh_token.as_ref().unwrap(),
        TokenKind::Refresh,
    )
    .await
    .unwrap();
    assert!(!active(&client, &eps, &third.access_token).await);
    assert!(!active(&client, &eps, third.refresh_token.as_ref().unwrap()).await);
    // RFC 7009: an unknown token is fine too.
    oauth::revoke(&client, &eps, &Secret::new("nonsense"), TokenKind::Access)
        .await
        .unwrap();
    // And the revoked session cannot be refreshed.
    let mut cache = Some(eps.clone());
    assert!(matches!(
        refresh::refresh_now(&client, &mut cache, &third).await,
        Err(OAuthError::SessionEnded(_))
    ));
}

/// The keeper refreshes before expiry (an app with 62 s tokens is due after 2 s) and reports the
/// session's end when the server refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_refreshes_before_expiry_and_reports_the_end() {
    let env = Env::new(NewApp {
        access_ttl_secs: Some(62),
        ..Default::default()
    })
    .await;
    let client = env.client(DialectId::G3);
    let (_, creds) = login(client.clone()).await;
    assert_eq!(creds.restore_plan(client.now_ms()), RestorePlan::Check);
    let (tx, mut rx) = unbounded_channel();
    let _keeper = SessionKeeper::start(client.clone(), creds.clone(), move |e| {
        let _ = tx.send(e);
    });
    let next = match tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        KeeperEvent::Refreshed(c) => c,
        KeeperEvent::Ended(why) => panic!("ended: {why}"),
    };
    assert_ne!(next.access_token, creds.access_token);
    let eps = endpoints(&client).await;
    assert!(active(&client, &eps, &next.access_token).await);

    // Someone revokes the session elsewhere: the next refresh is refused, the keeper says so.
    oauth::revoke(&client, &eps, &next.access_token, TokenKind::Access)
        .await
        .unwrap();
    let ended = async {
        while let Some(event) = rx.recv().await {
            if let KeeperEvent::Ended(_) = event {
                return true;
            }
        }
        false
    };
    assert!(
        tokio::time::timeout(WAIT, ended).await.unwrap(),
        "the keeper did not report the session's end"
    );
}
