//! Scenario 1: Happy path: QR → scanned (avatar and nickname of the approving user) → profile.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer, TestUser};

/// Against a test server, with a user whose nickname and username we know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_happy_path() {
    let sc = Scenario::new("s1-happy-path");
    let server = TestServer::start(ServerOptions::default()).await;
    let alice = server.add_user("alice", "Alice Liddell").await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, "v2", "en"));
    let app = App::launch(&sc, &home, &[]).await;

    let qr = app.wait_qr("1-qr", &[]).await;
    assert!(
        qr.starts_with(&format!("{}/s/", server.base_url())),
        "the QR should hold the approval page link of our server, it holds {qr:?}"
    );
    let scan = phone::scan(&qr, &alice).await;
    super::scanned_shows(&app, "s", &alice.nickname).await;
    let dimmed = app
        .exec(
            "return document.getElementById('qr-box').classList.contains('dimmed');",
            vec![],
        )
        .await;
    if dimmed != serde_json::json!(true) {
        app.fail_with("s-2-scanned", "#qr-box is not dimmed once scanned")
            .await;
    }
    // What the phone shows the person before they decide (PROTOCOL §4.3).
    let req = scan.page().requester.clone();
    assert!(
        req.app_name.as_deref().is_some_and(|a| !a.is_empty())
            && req.platform.as_deref().is_some_and(|p| !p.is_empty())
            && req.ip.as_deref().is_some_and(|ip| ip.contains("127.0.0.1")),
        "the approval page should show the requesting app, platform and IP before the user decides; it shows {req:?}"
    );
    super::confirm_with_window_code(&app, "s", &scan).await;
    super::profile_shows(&app, "s", &alice).await;
    app.quit().await;
    // Checked last so that the rest of the flow is still verified when only this is missing.
    assert!(
        req.device_name
            .as_deref()
            .is_some_and(|d| !d.trim().is_empty()),
        "the approval page does not say which computer asks to sign in (requester.deviceName is \
         empty): the person approving cannot tell this desktop from another; it shows {req:?}"
    );
}

/// The out-of-box experience: no config at all, the embedded server, and the demo account the
/// window itself offers (`#demo-show`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_happy_path_embedded_demo() {
    let sc = Scenario::new("s1-embedded-demo");
    let home = AppHome::new();
    let app = App::launch(&sc, &home, &["--lang", "en"]).await;

    let qr = app.wait_qr("1-qr", &[]).await;
    // "Can't scan?" → "Copy link" puts the QR's link on the system clipboard (read back here from
    // the X server, as another program would), with no "press Ctrl+C" fallback.
    app.click("cant-scan").await;
    app.click("copy-link").await;
    app.wait_text("1-copied", "status", "Copied", |t| t == "Copied")
        .await;
    app.screenshot("1-copied").await;
    let pasted = tokio::task::spawn_blocking(|| arboard::Clipboard::new()?.get_text())
        .await
        .unwrap();
    match pasted {
        Ok(text) if text == qr => {}
        other => {
            app.fail_with(
                "1-copied",
                format!("the clipboard should hold the QR's link {qr:?}; it holds {other:?}"),
            )
            .await
        }
    }
    app.click("demo-show").await;
    let username = app
        .wait_text("2-demo", "demo-username", "the demo username", |t| {
            !t.is_empty()
        })
        .await;
    let password = app
        .wait_text("2-demo", "demo-password", "the demo password", |t| {
            !t.is_empty()
        })
        .await;
    app.screenshot("2-demo").await;
    let scan = phone::scan(
        &qr,
        &TestUser {
            username: username.clone(),
            password,
            nickname: String::new(),
        },
    )
    .await;
    app.wait_state("3-scanned", "scanned").await;
    let shown = app
        .wait_text("3-scanned", "scanned-name", "the demo user's name", |t| {
            !t.is_empty()
        })
        .await;
    let nickname = super::nickname_in(&shown);
    super::scanned_shows(&app, "3", &nickname).await;
    super::confirm_with_window_code(&app, "3", &scan).await;
    super::profile_shows(
        &app,
        "4",
        &TestUser {
            username,
            password: String::new(),
            nickname,
        },
    )
    .await;
    app.quit().await;
}
