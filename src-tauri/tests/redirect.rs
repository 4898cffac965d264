//! `after_login = "redirect"` through tauri-plugin-opener, on the mock runtime: the browser the
//! plugin launches is a stand-in `xdg-open` on PATH that writes down the URL it was given, so the
//! test sees what a real browser would be asked to open, and that the launcher was reaped.
//!
//! One test function: PATH is process-wide.

use qrlogin_app::after_login::{self, AfterLogin, Redirect};
use qrlogin_app::state::AppState;
use qrlogin_core::config::Config;
use qrlogin_core::profile::{AuthSession, Profile};
use qrlogin_core::secret::Secret;
use qrlogin_core::tips::{Lang, Tips};
use std::time::{Duration, Instant};
use tauri::test::{mock_builder, mock_context, noop_assets};

#[test]
fn the_redirect_opens_the_callback_in_the_browser_without_the_token() {
    let bin = tempfile::tempdir().unwrap();
    let seen = bin.path().join("opened.txt");
    let fake = bin.path().join("xdg-open");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", seen.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::var("PATH").unwrap_or_default();
    // SAFETY of set_var: this binary has a single test, so no other thread reads the env.
    std::env::set_var("PATH", format!("{}:{path}", bin.path().display()));

    let state = AppState::new(Config::default(), Tips::default(), Lang::En);
    let app = qrlogin_app::build_app(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("mock app builds");
    let profile = Profile {
        id: "u-42".into(),
        nickname: Some("A & B #1".into()),
        ..Profile::default()
    };
    let session = AuthSession {
        token: Secret::new("eyJ.redirect-secret.sig"),
        id_token: None,
        refresh_token: None,
        expires_at: None,
        photo_url: None,
    };
    let rt = tauri::async_runtime::handle();
    rt.block_on(async {
        after_login::run(
            app.handle(),
            AfterLogin::Redirect,
            &profile,
            &session,
            Redirect {
                url: Some("https://app.example/cb"),
                include_token: false,
            },
            "",
        );
    });

    let deadline = Instant::now() + Duration::from_secs(20);
    let opened = loop {
        if let Ok(text) = std::fs::read_to_string(&seen) {
            if !text.is_empty() {
                break text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the browser was never asked to open anything"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let url = url::Url::parse(opened.trim()).expect("a URL");
    assert_eq!(url.host_str(), Some("app.example"));
    assert_eq!(url.path(), "/cb");
    let data = url
        .query_pairs()
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v.into_owned())
        .expect("data=");
    let user: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(user["id"], "u-42");
    assert_eq!(user["nickname"], "A & B #1");
    assert!(
        !opened.contains("redirect-secret"),
        "the token went into the URL: {opened}"
    );
}
