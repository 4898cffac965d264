//! The shell's session life against a real qrlogin-server on 127.0.0.1, on Tauri's mock runtime:
//! the Sign out button, the kiosk's idle sign-out and `qrlogin --sign-out` each leave the token
//! inactive at the server (introspection says so); Sign out with the server down completes at
//! once and revokes at the next start; a near-expiry session is refreshed on restore, and a
//! refused refresh ends it with the window told.
//!
//! One test function on purpose: the app's data dir comes from $HOME / $XDG_DATA_HOME, which is
//! process-wide, so the steps share one environment and run in order.

use qrlogin_app::commands;
use qrlogin_app::persist::{self, Remembered};
use qrlogin_app::revocation_queue::Outcome;
use qrlogin_app::signed_in::SESSION_ENDED_EVENT;
use qrlogin_app::state::AppState;
use qrlogin_core::config::Config;
use qrlogin_core::dialect::DialectId;
use qrlogin_core::oauth::{self, Endpoints};
use qrlogin_core::secret::Secret;
use qrlogin_core::session::{Client, ClientConfig};
use qrlogin_core::tips::{Lang, Tips};
use qrlogin_server::phone::Phone;
use qrlogin_server::{
    NewApp, NewUser, OpenOptions, RateLimits, RunningServer, ServeOptions, Server,
};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::{App, Listener, Manager};

/// The real app's identifier, so that `qrlogin --sign-out` finds the store this test writes.
const IDENTIFIER: &str = "dev.qrlogin.desktop";
const PASSWORD: &str = "correct horse";

type Events = Arc<Mutex<Vec<Value>>>;

fn channel(events: &Events) -> Channel<qrlogin_core::events::LoginEvent> {
    let events = events.clone();
    Channel::new(move |body: InvokeResponseBody| {
        let value: Value = body.deserialize().unwrap_or(Value::Null);
        events.lock().unwrap().push(value);
        Ok(())
    })
}

fn wait_for(events: &Events, name: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(e) = events.lock().unwrap().iter().find(|e| e["event"] == name) {
            return e.clone();
        }
        if Instant::now() > deadline {
            panic!(
                "no {name} event within {timeout:?}; saw {:?}",
                events.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn make_app(config: Config) -> App<MockRuntime> {
    let mut ctx = mock_context(noop_assets());
    ctx.config_mut().identifier = IDENTIFIER.into();
    let state = AppState::new(config, Tips::default(), Lang::En);
    qrlogin_app::build_app(mock_builder(), state)
        .build(ctx)
        .expect("mock app builds")
}

async fn serve(server: &Server, listen: SocketAddr) -> RunningServer {
    server
        .serve(ServeOptions {
            listen,
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// A QR login through the shell's commands, the phone played by qrlogin_server::phone. Returns
/// what the shell stored and every event the window received.
fn sign_in(app: &App<MockRuntime>) -> (Remembered, Events) {
    let rt = tauri::async_runtime::handle();
    let events: Events = Default::default();
    rt.block_on(commands::start_login(
        app.handle().clone(),
        app.state(),
        channel(&events),
    ))
    .unwrap();
    let qr = wait_for(&events, "qrReady", Duration::from_secs(10));
    let link = qr["data"]["text"].as_str().unwrap().to_string();
    rt.block_on(async {
        let phone = Phone::new();
        let page = phone.open(&link).await.unwrap();
        let page = phone.sign_in(&page, "alice", PASSWORD).await.unwrap();
        phone.confirm(&page, None).await.unwrap();
    });
    wait_for(&events, "loggedIn", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(r) = persist::load(app.handle()) {
            return (r, events);
        }
        assert!(Instant::now() < deadline, "the session was not stored");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Introspector {
    client: Client,
    endpoints: Endpoints,
}

impl Introspector {
    fn new(base_url: &str, app_id: &str) -> Self {
        let client = Client::new(ClientConfig::new(base_url, DialectId::G3, app_id)).unwrap();
        let endpoints = tauri::async_runtime::block_on(oauth::discover(&client)).unwrap();
        Self { client, endpoints }
    }

    fn active(&self, token: &str) -> bool {
        let v = tauri::async_runtime::block_on(oauth::introspect(
            &self.client,
            &self.endpoints,
            &Secret::new(token),
        ))
        .expect("introspection answers");
        v["active"] == true
    }
}

fn sign_out(app: &App<MockRuntime>, reason: &str) -> (Option<Outcome>, Duration) {
    let started = Instant::now();
    let result = tauri::async_runtime::block_on(commands::sign_out(
        app.handle().clone(),
        app.state(),
        Some(reason.into()),
    ))
    .unwrap();
    (result.server, started.elapsed())
}

fn store_text(data: &Path) -> String {
    std::fs::read_to_string(data.join(IDENTIFIER).join("session.json")).unwrap_or_default()
}

#[test]
fn sign_out_revokes_at_the_server_and_refresh_keeps_sessions_alive() {
    let home = tempfile::tempdir().unwrap();
    // SAFETY of set_var: this binary has a single test, so no other thread reads the env.
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_DATA_HOME", home.path().join("data"));
    std::env::set_var("XDG_CONFIG_HOME", home.path().join("config"));
    let data = home.path().join("data");

    let rt = tauri::async_runtime::handle();
    let server_dir = tempfile::tempdir().unwrap();
    let (server, running, creds) = rt.block_on(async {
        let server = Server::open(OpenOptions::new(server_dir.path()))
            .await
            .unwrap();
        let creds = server
            .add_app(NewApp {
                name: "Sessions test".into(),
                check_code: false,
                ..Default::default()
            })
            .await
            .unwrap();
        server
            .add_user(NewUser {
                username: "alice".into(),
                password: PASSWORD.into(),
                nickname: Some("Alice".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let short = server
            .add_app(NewApp {
                name: "Short tokens".into(),
                check_code: false,
                // 62 s: the refresh is due when a minute is left, i.e. 2 s after each issue.
                access_ttl_secs: Some(62),
                ..Default::default()
            })
            .await
            .unwrap();
        let running = serve(&server, "127.0.0.1:0".parse().unwrap()).await;
        (server, running, (creds, short))
    });
    let (creds, short) = creds;
    let base_url = running.base_url().to_string();
    let addr: SocketAddr = base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();

    let mut config = Config::default();
    config.server.url = base_url.clone();
    config.server.dialect = DialectId::G3;
    config.server.app_id = creds.app_id.clone();
    config.login.token_store = "file".into();
    let introspect = Introspector::new(&base_url, &creds.app_id);

    // ---- the Sign out button -----------------------------------------------------------------
    let app = make_app(config.clone());
    let (session, events) = sign_in(&app);
    let refresh = session
        .refresh_token
        .clone()
        .expect("the server hands the desktop a refresh token");
    for e in events.lock().unwrap().iter() {
        let text = e.to_string();
        assert!(
            !text.contains(&session.token) && !text.contains(&refresh),
            "a token reached the window: {text}"
        );
    }
    assert!(introspect.active(&session.token));
    let (outcome, _) = sign_out(&app, "button");
    assert_eq!(outcome, Some(Outcome::Revoked));
    assert!(
        !introspect.active(&session.token),
        "Sign out left the access token active"
    );
    assert!(
        !introspect.active(&refresh),
        "Sign out left the refresh token active"
    );
    assert!(persist::load(app.handle()).is_none());
    assert!(
        !store_text(&data).contains(&refresh),
        "the spent token stayed queued"
    );
    drop(app);

    // ---- the kiosk's idle sign-out -----------------------------------------------------------
    let mut kiosk = config.clone();
    kiosk.kiosk.enabled = true;
    kiosk.kiosk.idle_sign_out_secs = 30;
    let app = make_app(kiosk);
    let (session, _) = sign_in(&app);
    assert!(introspect.active(&session.token));
    let (outcome, _) = sign_out(&app, "idle");
    assert_eq!(outcome, Some(Outcome::Revoked));
    assert!(
        !introspect.active(&session.token),
        "the idle sign-out left the token active"
    );
    drop(app);

    // ---- qrlogin --sign-out ------------------------------------------------------------------
    let app = make_app(config.clone());
    let (session, _) = sign_in(&app);
    drop(app);
    assert!(introspect.active(&session.token));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qrlogin"))
        .args([
            "--sign-out",
            "--server-url",
            &base_url,
            "--app-id",
            &creds.app_id,
        ])
        .args(["--dialect", "v2", "--set", "login.token_store=file"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &data)
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("qrlogin runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "--sign-out exited {:?}: {stdout} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("signed out (the server ended the session)"),
        "{stdout}"
    );
    assert!(
        !introspect.active(&session.token),
        "--sign-out left the token active"
    );
    assert!(!store_text(&data).contains(&session.token));
    // Nobody signed in: still 0, and it says so.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_qrlogin"))
        .args([
            "--sign-out",
            "--server-url",
            &base_url,
            "--app-id",
            &creds.app_id,
        ])
        .args(["--set", "login.token_store=file"])
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("not signed in"));

    // ---- Sign out with the server down: at once, and revoked at the next start ---------------
    let app = make_app(config.clone());
    let (session, _) = sign_in(&app);
    let refresh = session.refresh_token.clone().unwrap();
    rt.block_on(running.shutdown());
    let (outcome, took) = sign_out(&app, "button");
    assert_eq!(outcome, Some(Outcome::Pending));
    assert!(
        took < Duration::from_secs(1),
        "sign out waited {took:?} on a dead server"
    );
    assert!(
        persist::load(app.handle()).is_none(),
        "forgotten here at once"
    );
    assert!(
        store_text(&data).contains(&refresh),
        "the revocation is queued in the store"
    );
    // The app exits (what RunEvent::Exit does): its background retry ends with it, so only the
    // next start can deliver the revocation.
    qrlogin_app::signed_in::shutdown(app.handle());
    drop(app);
    let running = rt.block_on(serve(&server, addr));
    let introspect = Introspector::new(&base_url, &creds.app_id);
    assert!(introspect.active(&refresh), "nothing told the server yet");
    let app = make_app(config.clone());
    rt.block_on(commands::app_info_with(app.handle(), &app.state(), None))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while introspect.active(&refresh) {
        assert!(
            Instant::now() < deadline,
            "the next start did not revoke the queued session"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while store_text(&data).contains(&refresh) {
        assert!(
            Instant::now() < deadline,
            "the delivered revocation stayed queued"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // ---- restore: near expiry it is refreshed first ------------------------------------------
    let (session, _) = sign_in(&app);
    drop(app);
    let mut near = session.clone();
    near.expires_at = Some(qrlogin_app::signed_in::now_ms() + 5_000);
    let app = make_app(config.clone());
    persist::save(app.handle(), &near).unwrap();
    let profile = rt
        .block_on(commands::restore_session(app.handle().clone(), app.state()))
        .unwrap()
        .expect("a near-expiry session is restored");
    assert_eq!(profile.username.as_deref(), Some("alice"));
    let now = persist::load(app.handle()).unwrap();
    assert!(
        now.refresh_token != session.refresh_token,
        "restore did not refresh (rotate) it"
    );
    assert!(introspect.active(&now.token));
    assert!(
        !introspect.active(session.refresh_token.as_deref().unwrap()),
        "the old refresh token is spent"
    );

    // ---- a refused refresh ends the session and tells the window -----------------------------
    // The spent refresh token comes back (a copy taken off this machine, say): the server sees
    // the reuse and ends the whole session.
    drop(app);
    let app = make_app(config.clone());
    let ended = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = ended.clone();
    app.listen(SESSION_ENDED_EVENT, move |e| {
        seen.lock().unwrap().push(e.payload().to_string())
    });
    persist::save(app.handle(), &near).unwrap();
    let restored = rt
        .block_on(commands::restore_session(app.handle().clone(), app.state()))
        .unwrap();
    assert!(
        restored.is_none(),
        "a refused refresh must not restore the session"
    );
    assert!(
        persist::load(app.handle()).is_none(),
        "the ended session is forgotten"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while ended.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the window was not told that the session ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!ended.lock().unwrap()[0].contains(&near.token));
    assert!(
        !introspect.active(&now.token),
        "the reuse ended the session at the server"
    );
    drop(app);

    // ---- signed in: refreshed before expiry; a revocation elsewhere ends it here ----------------
    let mut config = config.clone();
    config.server.app_id = short.app_id.clone();
    let introspect = Introspector::new(&base_url, &short.app_id);
    let app = make_app(config);
    let ended = Arc::new(Mutex::new(0usize));
    let seen = ended.clone();
    app.listen(SESSION_ENDED_EVENT, move |_| *seen.lock().unwrap() += 1);
    let told = Arc::new(Mutex::new(Vec::<String>::new()));
    let heard = told.clone();
    app.listen(qrlogin_app::signed_in::SESSION_REFRESHED_EVENT, move |e| {
        heard.lock().unwrap().push(e.payload().to_string())
    });
    let (first, _) = sign_in(&app);
    let deadline = Instant::now() + Duration::from_secs(15);
    let refreshed = loop {
        let now = persist::load(app.handle()).expect("still signed in");
        if now.refresh_token != first.refresh_token {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "no refresh before the access token expired"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        refreshed.expires_at > first.expires_at,
        "the refreshed session lasts longer"
    );
    assert!(introspect.active(&refreshed.token));
    let deadline = Instant::now() + Duration::from_secs(2);
    while told.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the window was not told of the refresh"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let payload = told.lock().unwrap()[0].clone();
    assert!(payload.contains("expiresAt"), "{payload}");
    assert!(
        !payload.contains(&refreshed.token)
            && !payload.contains(refreshed.refresh_token.as_deref().unwrap())
    );
    // An administrator (or a sign-out elsewhere) ends the session: the next refresh is refused,
    // the shell forgets the session and tells the window.
    rt.block_on(oauth::revoke(
        &introspect.client,
        &introspect.endpoints,
        &Secret::new(refreshed.token.clone()),
        oauth::TokenKind::Access,
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while *ended.lock().unwrap() == 0 {
        assert!(
            Instant::now() < deadline,
            "the window was not told the session ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        persist::load(app.handle()).is_none(),
        "the ended session is forgotten"
    );

    drop(app);
    rt.block_on(running.shutdown());
    drop(server);
}
