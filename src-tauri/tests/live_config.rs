//! Tips at run time, the shell's half (issue 15 item 2): the app watches its config file (the
//! real watcher, on a real file); an edited tip reaches the running `Tips` and the window gets the
//! tip of the screen it shows, worded anew; a broken edit is refused, the window is told why and
//! the old tips stay; a key that needs a restart is named as such.

use qrlogin_app::live_config::{self, CONFIG_RELOADED_EVENT};
use qrlogin_app::state::AppState;
use qrlogin_core::config::{self, ConfigSources};
use qrlogin_core::events::LoginEvent;
use qrlogin_core::tips::{Lang, TipKey, Tips};
use serde_json::Value;
use std::sync::mpsc;
use std::time::Duration;
use tauri::test::{mock_builder, mock_context, noop_assets};
use tauri::{Listener, Manager};

fn qr_ready(tip: &str) -> LoginEvent {
    LoginEvent::QrReady {
        svg: String::new(),
        png: String::new(),
        text: "http://127.0.0.1/s/x".into(),
        expires_at: 0,
        ttl_ms: 0,
        check_code: None,
        generation: 1,
        tip_html: tip.into(),
        cant_scan: qrlogin_core::cant_scan::CantScan::Link,
    }
}

#[test]
fn an_edit_reaches_the_window_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "[tips.en]\ntitle = \"Scan the <b>old</b> way\"\n").unwrap();
    let sources = ConfigSources {
        user: Some(file.clone()),
        ..Default::default()
    };
    let config = config::load(&sources).unwrap();
    let tips = Tips::from_config(&config.tips);
    let state = AppState::new(config.clone(), tips, Lang::En);
    let app = qrlogin_app::build_app(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("mock app builds");
    let (tx, rx) = mpsc::channel::<Value>();
    app.listen(CONFIG_RELOADED_EVENT, move |e| {
        let _ = tx.send(serde_json::from_str(e.payload()).unwrap());
    });
    let state = app.state::<AppState>();
    // The window shows the QR with the title tip.
    live_config::note_shown(&state, &qr_ready("Scan the <b>old</b> way"), false);
    live_config::watch(app.handle().clone(), sources, config);
    let next = || {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the watcher reports the edit")
    };

    std::fs::write(
        &file,
        "[tips.en]\ntitle = \"Scan the <b>new</b> way<script>alert(1)</script>\"\n",
    )
    .unwrap();
    let got = next();
    assert_eq!(got["applied"], true, "{got}");
    assert_eq!(got["tips"]["event"], "qrReady");
    assert_eq!(
        got["tips"]["tipHtml"], "Scan the <b>new</b> way",
        "sanitized"
    );
    assert_eq!(
        state.tips.get(TipKey::Title, Lang::En),
        "Scan the <b>new</b> way"
    );

    // Broken: the window hears why, with the file's line; the tips in effect stay.
    std::fs::write(&file, "[tips.en]\ntitle = \"Scan\nscanned = 3\n").unwrap();
    let got = next();
    assert_eq!(got["applied"], false, "{got}");
    let error = got["error"].as_str().unwrap();
    assert!(error.contains("config.toml:2"), "{error}");
    assert_eq!(
        state.tips.get(TipKey::Title, Lang::En),
        "Scan the <b>new</b> way"
    );

    // A key that needs a restart is applied to nothing and named; the tip edit beside it applies.
    std::fs::write(
        &file,
        "[login]\nrefresh_cap = 1\n\n[tips.en]\ntitle = \"Third\"\n",
    )
    .unwrap();
    let got = next();
    assert_eq!(got["applied"], true, "{got}");
    assert_eq!(got["restart"], serde_json::json!(["login.refresh_cap"]));
    assert_eq!(got["tips"]["tipHtml"], "Third");
    assert_eq!(state.tips.get(TipKey::Title, Lang::En), "Third");
    assert_eq!(
        state.config.login.refresh_cap, 5,
        "the running config keeps its value"
    );
}
