//! The shell's commands on Tauri's mock runtime, against a real qrlogin-server on 127.0.0.1:
//! start, cancel, retry, sign out, and the session restored from the store.
//!
//! One test function on purpose: the app's data dir comes from $HOME / $XDG_DATA_HOME, which is
//! process-wide, so the steps share one environment and run in order.

use qrlogin_app::commands;
use qrlogin_app::state::AppState;
use qrlogin_core::config::Config;
use qrlogin_core::dialect::DialectId;
use qrlogin_core::tips::{Lang, Tips};
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::{App, Manager};

type Events = Arc<Mutex<Vec<Value>>>;

fn channel(events: &Events) -> Channel<qrlogin_core::events::LoginEvent> {
    let events = events.clone();
    Channel::new(move |body: InvokeResponseBody| {
        let value: Value = body.deserialize().unwrap_or(Value::Null);
        events.lock().unwrap().push(value);
        Ok(())
    })
}

/// Waits (on the real clock: the server is real) until an event named `name` arrives after
/// index `from`; returns it and its index.
fn wait_for(events: &Events, name: &str, from: usize, timeout: Duration) -> (Value, usize) {
    let deadline = Instant::now() + timeout;
    loop {
        {
            let got = events.lock().unwrap();
            if let Some((i, e)) = got
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, e)| e["event"] == name)
            {
                return (e.clone(), i);
            }
        }
        if Instant::now() > deadline {
            let names: Vec<String> = events
                .lock()
                .unwrap()
                .iter()
                .map(|e| e["event"].to_string())
                .collect();
            panic!("no {name} event within {timeout:?}; saw {names:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn make_app(config: Config) -> App<MockRuntime> {
    let mut ctx = mock_context(noop_assets());
    ctx.config_mut().identifier = "dev.qrlogin.shell-test".into();
    let state = AppState::new(config, Tips::default(), Lang::En);
    qrlogin_app::build_app(mock_builder(), state)
        .build(ctx)
        .expect("mock app builds")
}

#[test]
fn commands_start_cancel_retry_sign_out_and_restore() {
    let home = tempfile::tempdir().unwrap();
    // SAFETY of set_var: this binary has a single test, so no other thread reads the env.
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_DATA_HOME", home.path().join("data"));
    std::env::set_var("XDG_CONFIG_HOME", home.path().join("config"));

    let rt = tauri::async_runtime::handle();
    let server_dir = tempfile::tempdir().unwrap();
    let (server, running, creds) = rt.block_on(async {
        let server = Server::open(OpenOptions::new(server_dir.path()))
            .await
            .unwrap();
        let creds = server
            .add_app(NewApp {
                name: "Shell test".into(),
                check_code: true,
                ..Default::default()
            })
            .await
            .unwrap();
        server
            .add_user(NewUser {
                username: "alice".into(),
                password: "correct horse".into(),
                nickname: Some("Alice".into()),
                email: Some("alice@example.com".into()),
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
        (server, running, creds)
    });

    let mut config = Config::default();
    config.server.url = running.base_url().to_string();
    config.server.dialect = DialectId::G3;
    config.server.app_id = creds.app_id.clone();
    config.server.user_pool_id = creds.user_pool_id.clone();
    // The file store is what this test inspects (tests/token_store.rs covers the keyring).
    config.login.token_store = "file".into();

    let app = make_app(config.clone());
    let handle = app.handle().clone();

    // app_info names the configured server, not an embedded one.
    let info = rt
        .block_on(commands::app_info_with(&handle, &app.state(), None))
        .unwrap();
    assert!(!info.server.embedded);
    assert_eq!(info.server.url, running.base_url());
    assert_eq!(info.server.dialect, "v2");
    assert!(!info.demo, "no demo account on a configured server");
    assert!(rt
        .block_on(commands::demo_credentials(app.state()))
        .is_err());

    // Nothing remembered yet.
    assert!(rt
        .block_on(commands::restore_session(handle.clone(), app.state()))
        .unwrap()
        .is_none());

    // Start: a QR arrives. Cancel: the phone's confirm no longer reaches the window.
    let events: Events = Default::default();
    rt.block_on(commands::start_login(
        handle.clone(),
        app.state(),
        channel(&events),
    ))
    .unwrap();
    let (qr, _) = wait_for(&events, "qrReady", 0, Duration::from_secs(10));
    let first_link = qr["data"]["text"].as_str().unwrap().to_string();
    assert!(
        !qr.to_string().contains("token"),
        "no token in a UI event: {qr}"
    );
    rt.block_on(commands::cancel_login(app.state())).unwrap();
    let seen = events.lock().unwrap().len();
    let phone = Phone::new();
    rt.block_on(async {
        let page = phone.open(&first_link).await.unwrap();
        phone
            .sign_in(&page, "alice", "correct horse")
            .await
            .unwrap();
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        events.lock().unwrap().len(),
        seen,
        "a cancelled attempt sent more events"
    );

    // Retry = a new attempt with a new QR that the phone can approve.
    let events: Events = Default::default();
    rt.block_on(commands::start_login(
        handle.clone(),
        app.state(),
        channel(&events),
    ))
    .unwrap();
    let (qr, _) = wait_for(&events, "qrReady", 0, Duration::from_secs(10));
    let link = qr["data"]["text"].as_str().unwrap().to_string();
    assert_ne!(link, first_link, "a retry shows a new QR");
    let check_code = qr["data"]["checkCode"].as_str().map(str::to_string);
    assert!(check_code.is_some(), "the app has check codes on");
    rt.block_on(async {
        let page = phone.open(&link).await.unwrap();
        let page = phone
            .sign_in(&page, "alice", "correct horse")
            .await
            .unwrap_or(page);
        let page = if page.check_code_choices.is_empty() {
            phone.open(&link).await.unwrap()
        } else {
            page
        };
        assert!(page
            .check_code_choices
            .contains(check_code.as_ref().unwrap()));
        phone.confirm(&page, check_code.as_deref()).await.unwrap();
    });
    let (scanned, _) = wait_for(&events, "scanned", 0, Duration::from_secs(10));
    assert_eq!(scanned["data"]["nickname"], "Alice");
    let (logged_in, _) = wait_for(&events, "loggedIn", 0, Duration::from_secs(10));
    assert_eq!(logged_in["data"]["profile"]["username"], "alice");
    assert_eq!(logged_in["data"]["profile"]["nickname"], "Alice");
    assert!(
        logged_in["data"].get("session").is_none(),
        "the token never crosses to the UI"
    );
    assert!(
        !logged_in.to_string().to_lowercase().contains("token\""),
        "{logged_in}"
    );

    // Remembered: the store file exists, only its owner can read it, and it holds the session.
    let store = home.path().join("data/dev.qrlogin.shell-test/session.json");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !store.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&store).expect("session.json written");
    assert!(text.contains("alice"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "session.json must be private, is {mode:o}");
    }

    // A new app instance restores the profile from the store, checked against the server. Its
    // first question says so, and the QR the shell may have started meanwhile never reaches the
    // window.
    drop(app);
    let app = make_app(config.clone());
    let handle = app.handle().clone();
    let first_events: Events = Default::default();
    let info = rt
        .block_on(commands::app_info_with(
            &handle,
            &app.state(),
            Some(channel(&first_events)),
        ))
        .unwrap();
    assert!(info.remembered && !info.login_started, "{info:?}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        first_events.lock().unwrap().is_empty(),
        "a signed-in start sent login events: {:?}",
        first_events.lock().unwrap()
    );
    let restored = rt
        .block_on(commands::restore_session(handle.clone(), app.state()))
        .unwrap()
        .expect("the remembered session is restored");
    assert_eq!(restored.username.as_deref(), Some("alice"));

    // Sign out forgets it: the next start shows the QR.
    rt.block_on(commands::sign_out(
        handle.clone(),
        app.state(),
        Some("button".into()),
    ))
    .unwrap();
    assert!(rt
        .block_on(commands::restore_session(handle.clone(), app.state()))
        .unwrap()
        .is_none());
    drop(app);
    let config_for_later_start = config.clone();
    let app = make_app(config);
    assert!(rt
        .block_on(commands::restore_session(app.handle().clone(), app.state()))
        .unwrap()
        .is_none());

    // Nothing remembered: the first question with a channel starts the login on it, and the QR
    // arrives without a start_login.
    drop(app);
    let app = make_app(config_for_later_start);
    let events: Events = Default::default();
    let info = rt
        .block_on(commands::app_info_with(
            app.handle(),
            &app.state(),
            Some(channel(&events)),
        ))
        .unwrap();
    assert!(!info.remembered && info.login_started, "{info:?}");
    let (qr, _) = wait_for(&events, "qrReady", 0, Duration::from_secs(10));
    assert!(qr["data"]["svg"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg"));

    rt.block_on(running.shutdown());
    drop(server);
}
