//! The webview's privileges, through Tauri's real ACL on the mock runtime: the context is the
//! app's own (`generate_context!` reads tauri.conf.json, capabilities/ and the app manifest that
//! build.rs declares), so these are the checks a script in the real window meets. A script that
//! got into the page (or a page the window was navigated to) tries what the old `core:default`
//! grant allowed and what no capability grants; all of it must be refused, while the commands
//! ui/bridge.js uses still work.

use qrlogin_app::state::AppState;
use qrlogin_core::config::Config;
use qrlogin_core::tips::{Lang, Tips};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

/// The app's own pages are served from this origin on Linux (tauri-notes.md: the mock runtime
/// treats `http://tauri.localhost` as remote here).
const LOCAL: &str = "tauri://localhost";

fn app() -> App<MockRuntime> {
    let state = AppState::new(Config::default(), Tips::default(), Lang::En);
    qrlogin_app::build_app(mock_builder(), state)
        .build(tauri::generate_context!())
        .expect("the app builds on the mock runtime with its real capabilities")
}

/// The window tauri.conf.json declares (the mock runtime opens config windows only on `run`).
fn main_window(app: &App<MockRuntime>) -> WebviewWindow<MockRuntime> {
    WebviewWindowBuilder::new(app, "main", WebviewUrl::default())
        .build()
        .expect("the main window")
}

fn invoke(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
    url: &str,
) -> Result<Value, String> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: url.parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request)
        .map(|body| body.deserialize::<Value>().unwrap_or(Value::Null))
        .map_err(|e| e.to_string())
}

fn assert_refused(result: Result<Value, String>, what: &str) {
    match result {
        Ok(v) => panic!("{what} was allowed (answered {v}); the capability must not grant it"),
        Err(e) => assert!(
            e.contains("not allowed"),
            "{what} failed, but not because the ACL refused it: {e}"
        ),
    }
}

#[test]
fn the_window_may_call_only_the_commands_the_ui_uses() {
    let app = app();
    let main = main_window(&app);

    // What ui/bridge.js does works (a cheap command each; the others need a server).
    assert_eq!(
        invoke(&main, "ui_painted", json!({"what": "qr"}), LOCAL),
        Ok(Value::Null)
    );
    assert_eq!(
        invoke(&main, "set_lang", json!({"lang": "en"}), LOCAL),
        Ok(Value::Null)
    );

    // "Copy link" may write the clipboard (with no display in this test the write itself may
    // fail, but not because of the ACL); reading it back (someone's copied password) is refused.
    if let Err(e) = invoke(
        &main,
        "plugin:clipboard-manager|write_text",
        json!({"text": "http://127.0.0.1/s/x"}),
        LOCAL,
    ) {
        assert!(
            !e.contains("not allowed"),
            "copying the link is refused: {e}"
        );
    }
    assert_refused(
        invoke(
            &main,
            "plugin:clipboard-manager|read_text",
            json!({}),
            LOCAL,
        ),
        "clipboard.read_text",
    );

    // The window listens for the shell's session events (session ended, refreshed, revocation
    // delivered); listening may fail here for want of a real webview, but not because of the ACL.
    if let Err(e) = invoke(
        &main,
        "plugin:event|listen",
        json!({"event": "session-ended", "target": {"kind": "Any"}, "handler": 1}),
        LOCAL,
    ) {
        assert!(
            !e.contains("not allowed"),
            "listening for session events is refused: {e}"
        );
    }

    // What `core:default` used to grant the page: emitting events to Rust listeners, reading the
    // user's directories, poking at windows and the tray.
    assert_refused(
        invoke(
            &main,
            "plugin:event|emit",
            json!({"event": "x", "payload": null}),
            LOCAL,
        ),
        "event.emit",
    );
    assert_refused(
        invoke(
            &main,
            "plugin:path|resolve_directory",
            json!({"directory": 11}),
            LOCAL,
        ),
        "path.resolve_directory (the home dir)",
    );
    assert_refused(
        invoke(&main, "plugin:window|get_all_windows", json!({}), LOCAL),
        "window.get_all_windows",
    );
    assert_refused(
        invoke(&main, "plugin:app|version", json!({}), LOCAL),
        "app.version",
    );
    // The store plugin is Rust-only: the page must not read the saved session's token.
    assert_refused(
        invoke(
            &main,
            "plugin:store|load",
            json!({"path": "session.json"}),
            LOCAL,
        ),
        "store.load (the saved token)",
    );
    // The opener plugin is Rust-only too (after_login = "redirect"): a script in the page must
    // not launch programs with URLs of its choosing.
    assert_refused(
        invoke(
            &main,
            "plugin:opener|open_url",
            json!({"url": "https://evil.example/"}),
            LOCAL,
        ),
        "opener.open_url",
    );
}

#[test]
fn app_commands_are_refused_to_other_windows_and_remote_pages() {
    let app = app();
    let main = main_window(&app);

    // The window navigated to a remote page: the capability is for the app's own pages only.
    assert_refused(
        invoke(
            &main,
            "ui_painted",
            json!({"what": "qr"}),
            "https://evil.example/",
        ),
        "ui_painted from a remote page",
    );

    // Any other window (say one a future feature opens) gets no app command at all.
    let other = WebviewWindowBuilder::new(&app, "other", WebviewUrl::default())
        .build()
        .unwrap();
    assert_refused(
        invoke(&other, "demo_credentials", json!({}), LOCAL),
        "demo_credentials from a window without a capability",
    );
    assert_refused(
        invoke(&other, "sign_out", json!({}), LOCAL),
        "sign_out from a window without a capability",
    );
}
