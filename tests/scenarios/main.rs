//! End-to-end scenarios: the built app under Xvfb, driven by tauri-driver + WebKitWebDriver,
//! against a real qrlogin-server on 127.0.0.1. Run them with `make test-e2e` (scripts/e2e.sh).
//!
//! Each test plays the phone: it reads the QR off a screenshot of the window, opens its link,
//! signs in and approves over HTTP, and asserts what the window shows next, by text and by pixels.
//! Evidence: `target/e2e/<scenario>-<step>.png` and `target/e2e/<scenario>-driver.log`.

mod s10_flaky_proxy;
mod s11_offline_sign_out;
mod s12_faults_in_window;
mod s13_device_dialect;
mod s14_typed_code;
mod s15_window_state;
mod s16_web_process;
mod s1_happy_path;
mod s2_cancel;
mod s3_expiry;
mod s4_server_down;
mod s5_restart;
mod s6_hostile;
mod s7_generations;
mod s8_kiosk;
mod s9_locale;
mod s_live_tips;
mod soak_kiosk;
mod soak_probe;

use qrlogin_e2e::{phone, App, TestUser};

/// A user's sign-in from the phone: from the QR in the window to the profile view.
///
/// `step` prefixes the screenshot names. Returns the QR text the phone used.
pub async fn sign_in_from_phone(app: &App, step: &str, user: &TestUser) -> String {
    let qr = app.wait_qr(&format!("{step}-1-qr"), &[]).await;
    let scan = phone::scan(&qr, user).await;
    scanned_shows(app, step, &user.nickname).await;
    confirm_with_window_code(app, step, &scan).await;
    profile_shows(app, step, user).await;
    qr
}

/// The window in the `scanned` state shows who scanned: nickname (as text) and an avatar.
pub async fn scanned_shows(app: &App, step: &str, nickname: &str) {
    let s = format!("{step}-2-scanned");
    app.wait_state(&s, "scanned").await;
    let shown = app.text("scanned-name").await;
    if !names(&shown, nickname) {
        app.fail_with(
            &s,
            format!("#scanned-name shows {shown:?}, expected the nickname {nickname:?}"),
        )
        .await;
    }
    if !app.is_shown("scanned-user").await {
        app.fail_with(
            &s,
            "the scanned user's avatar block #scanned-user is not visible",
        )
        .await;
    }
    let avatar_shown = app
        .exec(
            r#"const box = document.querySelector('#scanned-user .avatar');
               return !!box && box.getClientRects().length > 0 && box.getBoundingClientRect().width >= 24;"#,
            vec![],
        )
        .await;
    if avatar_shown != serde_json::json!(true) {
        app.fail_with(
            &s,
            "no avatar (picture or initials) is drawn for the scanned user",
        )
        .await;
    }
}

/// Confirms on the phone with the check code a person reads off the window (if the window shows
/// one; the test app turns the check code on, so it must).
pub async fn confirm_with_window_code(app: &App, step: &str, scan: &phone::Scan) {
    let s = format!("{step}-2-scanned");
    let choices = scan.check_code_choices();
    if choices.is_empty() {
        scan.confirm(None).await;
    } else {
        let code = app.read_check_code(&s).await;
        scan.confirm(Some(&code)).await;
    }
}

/// The profile view shows the user's nickname and username, and no QR is left in the window.
pub async fn profile_shows(app: &App, step: &str, user: &TestUser) {
    let s = format!("{step}-3-profile");
    app.wait_state(&s, "profile").await;
    app.assert_text(&s, "profile-nickname", &user.nickname)
        .await;
    app.assert_text(&s, "profile-username", &user.username)
        .await;
    app.assert_no_qr(&s).await;
}

/// Whether `#scanned-name`'s text names `nickname`: the nickname itself, or the UI's sentence
/// around it ("Scanned by {name}" / "{name} 已扫码", ui/i18n.js `scannedBy`), character for
/// character (a hostile nickname must come out exactly as it went in).
pub fn names(shown: &str, nickname: &str) -> bool {
    shown == nickname
        || shown == format!("Scanned by {nickname}")
        || shown == format!("{nickname} 已扫码")
}

/// The nickname inside `#scanned-name`'s text (see [`names`]).
pub fn nickname_in(shown: &str) -> String {
    shown
        .strip_prefix("Scanned by ")
        .or_else(|| shown.strip_suffix(" 已扫码"))
        .unwrap_or(shown)
        .to_string()
}

/// The access token in the app's token store (the 0600 file in its data dir; the scenario sets
/// `login.token_store = "file"`).
pub async fn held_token(home: &std::path::Path) -> String {
    let path = home.join("data/dev.qrlogin.desktop/session.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if let Some(t) = v["session"]["token"].as_str() {
                return t.to_string();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no session in {}",
            path.display()
        );
        tokio::time::sleep(qrlogin_e2e::POLL).await;
    }
}

/// RFC 7662 introspection at the test server, as the app (a public client).
pub struct Introspect {
    client: qrlogin_core::Client,
    endpoints: qrlogin_core::oauth::Endpoints,
}

impl Introspect {
    pub async fn new(server: &qrlogin_e2e::TestServer) -> Self {
        let client = qrlogin_core::Client::new(qrlogin_core::ClientConfig::new(
            server.base_url(),
            qrlogin_core::DialectId::G3,
            server.app_id(),
        ))
        .expect("a client for the test server");
        let endpoints = qrlogin_core::oauth::discover(&client)
            .await
            .expect("the test server publishes its endpoints");
        Self { client, endpoints }
    }

    pub async fn active(&self, token: &str) -> bool {
        let v = qrlogin_core::oauth::introspect(
            &self.client,
            &self.endpoints,
            &qrlogin_core::secret::Secret::new(token),
        )
        .await
        .expect("introspection answers");
        v["active"] == true
    }
}
