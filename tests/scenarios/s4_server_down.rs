//! Scenario 4: The server stops while the app waits → `retrying` with `failedTips`; the server comes back →
//! the QR works without restarting the app.

use std::time::Duration;

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

const FAILED_TIP: &str = "Cannot reach the sign-in server (e2e).";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_server_down_then_back() {
    let sc = Scenario::new("s4-server-down");
    let mut server = TestServer::start(ServerOptions::default()).await;
    let dave = server.add_user("dave", "Dave").await;
    let config = AppConfig::for_server(&server, "v2", "en").set("tips.en.failedTips", FAILED_TIP);
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let first = app.wait_qr("1-qr", &[]).await;
    let mark = app.history_len().await;
    server.stop().await;

    // Long-polls are answered, the next poll is refused: the window says so and retries by
    // itself (the `retrying` view: the failed tip, what went wrong, a countdown, no button).
    app.wait_state_within("2-retrying", "retrying", Duration::from_secs(40))
        .await;
    let _ = app.wait_seen("2-retrying", "retrying", mark).await;
    app.assert_text("2-retrying", "tip", FAILED_TIP).await;
    app.assert_text(
        "2-retrying",
        "failure-message",
        "The sign-in server cannot be reached.",
    )
    .await;
    let note = app
        .wait_text("3-retrying", "retry-note", "a retry countdown", |t| {
            t.contains("Retrying") || t.contains("retry")
        })
        .await;
    app.screenshot("3-retrying").await;
    // What a person (or a camera pointed at the screen) can read while it fails.
    let shown = app
        .exec("return document.body.innerText;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Still failing while the server is down (a second attempt also fails, not a hang).
    let attempt_of = |t: &str| -> u32 {
        t.split("attempt")
            .nth(1)
            .map(|r| r.chars().filter(char::is_ascii_digit).collect::<String>())
            .and_then(|d| d.parse().ok())
            .unwrap_or(0)
    };
    let first_attempt = attempt_of(&note);
    app.wait_text(
        "3-retrying-again",
        "retry-note",
        "a later retry attempt",
        |t| attempt_of(t) > first_attempt,
    )
    .await;
    app.screenshot("3-retrying-again").await;

    server.restart().await;
    // Without touching the app: a QR comes back and works.
    let qr = app
        .wait_qr_within("4-back", &[], Duration::from_secs(60))
        .await;
    phone_login(&app, &qr, &dave, &first).await;
    app.quit().await;

    // Checked last so that the recovery above is verified even while this is broken.
    // PROTOCOL.md §4.1: the requester's handle (`random`/`qrcodeId`) is never displayed: with it,
    // anyone who can see the screen could poll the session.
    for secret in ["random=", "qrcodeId=", "qrcode_id="] {
        assert!(
            !shown.contains(secret),
            "the failure view shows the session's polling handle ({secret}...) on screen: {shown:?} \
             (see {})",
            sc.driver_log().display()
        );
    }
}

async fn phone_login(app: &App, qr: &str, user: &qrlogin_e2e::TestUser, first: &str) {
    if qr == first {
        qrlogin_e2e::app::note(
            app.scenario(),
            "the app kept the first QR across the outage",
        );
    }
    let scan = phone::scan(qr, user).await;
    super::scanned_shows(app, "5", &user.nickname).await;
    super::confirm_with_window_code(app, "5", &scan).await;
    super::profile_shows(app, "5", user).await;
}
