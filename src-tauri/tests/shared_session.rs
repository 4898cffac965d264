//! One session store for both front ends (issue 16): signing in with `qrlogin-cli`'s code path is
//! seen by the app (its `restore_session` gives the profile back), and signing in with the app is
//! seen by the CLI (its `token` / `status` read the app's session); signing out with one signs out
//! the other. Against a real qrlogin-server on 127.0.0.1, the phone played by
//! qrlogin_server::phone, on Tauri's mock runtime; with the 0600 file and then with the OS keyring
//! (gnome-keyring on a private D-Bus session bus, as tests/token_store.rs starts it).
//!
//! One test function on purpose: the data dir comes from $XDG_DATA_HOME, which is process-wide.

use qrlogin_app::commands;
use qrlogin_app::persist;
use qrlogin_app::state::AppState;
use qrlogin_core::config::Config;
use qrlogin_core::dialect::DialectId;
use qrlogin_core::paths::{app_data_dir, IDENTIFIER};
use qrlogin_core::tips::{Lang, Tips};
use qrlogin_core::{Client, ClientConfig, LoginEvent, LoginSession, SessionOptions};
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::{App, Manager};

const PASSWORD: &str = "correct horse";
const INNER: &str = "QRLOGIN_SHARED_SESSION_KEYRING";

fn make_app(config: Config) -> App<MockRuntime> {
    let mut ctx = mock_context(noop_assets());
    ctx.config_mut().identifier = IDENTIFIER.into();
    let state = AppState::new(config, Tips::default(), Lang::En);
    qrlogin_app::build_app(mock_builder(), state)
        .build(ctx)
        .expect("mock app builds")
}

/// The phone scans the QR in `link` and confirms, as user `alice`.
async fn phone_confirms(link: &str) {
    let phone = Phone::new();
    let page = phone.open(link).await.unwrap();
    let page = phone.sign_in(&page, "alice", PASSWORD).await.unwrap();
    phone.confirm(&page, None).await.unwrap();
}

/// A login the way `qrlogin-cli login` does it: the engine's session, then the CLI's `remember`.
fn cli_signs_in(config: &Config) -> String {
    tauri::async_runtime::block_on(async {
        let s = &config.server;
        let client = Arc::new(
            Client::new(ClientConfig::new(s.url.trim(), s.dialect, s.app_id.trim())).unwrap(),
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _session = LoginSession::start(client.clone(), SessionOptions::default(), move |e| {
            let _ = tx.send(e);
        });
        loop {
            let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("an event in time")
                .expect("the session runs");
            match e {
                LoginEvent::QrReady { text, .. } => phone_confirms(&text).await,
                LoginEvent::LoggedIn {
                    profile, session, ..
                } => {
                    let r = qrlogin_cli::session::remember(
                        config,
                        &client,
                        &profile,
                        &session,
                        client.now_ms(),
                    )
                    .expect("the CLI stores the session");
                    return r.token;
                }
                LoginEvent::Failed { message, .. } => panic!("the CLI's login failed: {message}"),
                _ => {}
            }
        }
    })
}

/// A login through the app's `start_login` command; returns the token it stored (in place of
/// `previous`).
fn app_signs_in(app: &App<MockRuntime>, previous: &str) -> String {
    let events: Arc<Mutex<Vec<Value>>> = Default::default();
    let sink = events.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        sink.lock()
            .unwrap()
            .push(body.deserialize().unwrap_or(Value::Null));
        Ok(())
    });
    let rt = tauri::async_runtime::handle();
    rt.block_on(commands::start_login(
        app.handle().clone(),
        app.state(),
        channel,
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let link = loop {
        let qr = events
            .lock()
            .unwrap()
            .iter()
            .find(|e| e["event"] == "qrReady")
            .cloned();
        if let Some(qr) = qr {
            break qr["data"]["text"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no QR in the app");
        std::thread::sleep(Duration::from_millis(20));
    };
    rt.block_on(phone_confirms(&link));
    loop {
        if let Some(r) = persist::load(app.handle()).filter(|r| r.token != previous) {
            return r.token;
        }
        assert!(
            Instant::now() < deadline,
            "the app did not store its session"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Both directions with `login.token_store = store`.
fn both_directions(store: &str) {
    let rt = tauri::async_runtime::handle();
    let server_dir = tempfile::tempdir().unwrap();
    let (running, creds) = rt.block_on(async {
        let server = Server::open(OpenOptions::new(server_dir.path()))
            .await
            .unwrap();
        let creds = server
            .add_app(NewApp {
                name: "Shared session".into(),
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
        let running = server
            .serve(ServeOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                public_url: None,
                rate_limits: RateLimits::unlimited(),
                ..Default::default()
            })
            .await
            .unwrap();
        (running, creds)
    });
    let mut config = Config::default();
    config.server.url = running.base_url().to_string();
    config.server.dialect = DialectId::G3;
    config.server.app_id = creds.app_id.clone();
    config.login.token_store = store.into();
    let file = app_data_dir().join("session.json");

    // The CLI signs in; the app (a later start) restores that session without a QR.
    let cli_token = cli_signs_in(&config);
    assert_eq!(
        file.exists(),
        store == "file",
        "{store}: the session file {}",
        if file.exists() {
            "exists"
        } else {
            "is missing"
        }
    );
    let app = make_app(config.clone());
    let restored = rt
        .block_on(commands::restore_session(app.handle().clone(), app.state()))
        .unwrap()
        .expect("the app restores the CLI's session");
    assert_eq!(restored.nickname.as_deref(), Some("Alice"));
    assert_eq!(persist::load(app.handle()).unwrap().token, cli_token);

    // The app signs in again; the CLI's `token` and `status` read the app's session.
    let app_token = app_signs_in(&app, &cli_token);
    let seen = qrlogin_cli::session::load(&config).expect("the CLI sees the app's session");
    assert_eq!(seen.token, app_token);
    assert_eq!(seen.profile.nickname.as_deref(), Some("Alice"));

    // Signing out with the CLI signs the app out.
    qrlogin_cli::session::forget(&config, None).unwrap();
    assert!(persist::load(&app.handle().clone()).is_none());
    drop(app);
}

#[test]
fn one_session_for_the_cli_and_the_app() {
    if std::env::var_os(INNER).is_some() {
        return both_directions("keyring");
    }
    let home = tempfile::tempdir().unwrap();
    // SAFETY of set_var: this binary has a single test, so no other thread reads the env.
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_DATA_HOME", home.path().join("data"));
    std::env::set_var("XDG_CONFIG_HOME", home.path().join("config"));
    both_directions("file");

    // The same through the OS keyring: this binary again, on a private bus with gnome-keyring.
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let script = r#"printf 'test-password' | gnome-keyring-daemon --unlock >/dev/null &&
gnome-keyring-daemon --start --components=secrets >/dev/null && exec "$@""#;
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script, "sh"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "one_session_for_the_cli_and_the_app",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .expect("dbus-run-session runs (scripts/install-deps.sh installs dbus, gnome-keyring)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the keyring half failed:\n{stdout}\n{stderr}"
    );
}
