//! Scenario 8: Kiosk mode: full screen, and an idle signed-in user is signed out back to a fresh QR after a
//! visible warning with a countdown; the token the kiosk held is then dead at the server too
//! (introspection says `active: false`), the page has been reloaded (nothing of the page that showed
//! the profile is left in its JavaScript heap), and the QR screen says "Signed out.".
//!
//! Xvfb has no window manager, so "full screen" cannot be asserted through window geometry with
//! any confidence: the test asserts the kiosk chrome (`body.kiosk`, no demo/LAN extras) and only
//! logs the window rectangle against the screen.

use std::time::Duration;

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{app::note, App, AppConfig, AppHome, Scenario, TestServer};

const IDLE_SECS: i64 = 14;
const WARN_SECS: i64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s8_kiosk_idle_sign_out() {
    let sc = Scenario::new("s8-kiosk");
    let server = TestServer::start(ServerOptions::default()).await;
    let frank = server.add_user("frank", "Frank").await;
    let config = AppConfig::for_server(&server, "v2", "en")
        .set("kiosk.enabled", true)
        .set("kiosk.idle_sign_out_secs", IDLE_SECS)
        .set("kiosk.warn_secs", WARN_SECS)
        // The file store, so that the test can read the token the kiosk holds.
        .set("login.token_store", "file");
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    app.wait_state("1-waiting", "waiting").await;
    let kiosk_chrome = app
        .exec(
            r#"return { kiosk: document.body.classList.contains('kiosk'),
                        demo: !!document.getElementById('demo-area') && document.getElementById('demo-area').getClientRects().length > 0,
                        lan: !!document.getElementById('lan-area') && document.getElementById('lan-area').getClientRects().length > 0,
                        screen: [screen.width, screen.height], inner: [innerWidth, innerHeight] };"#,
            vec![],
        )
        .await;
    if kiosk_chrome["kiosk"] != true
        || kiosk_chrome["demo"] != false
        || kiosk_chrome["lan"] != false
    {
        app.fail_with("1-waiting", format!("not in kiosk chrome: {kiosk_chrome}"))
            .await;
    }
    let rect = app.window_rect().await;
    note(
        &sc,
        &format!("kiosk window rect {rect:?}; page sees {kiosk_chrome} (Xvfb has no window manager: geometry not asserted)"),
    );

    let used = super::sign_in_from_phone(&app, "2", &frank).await;
    let token = super::held_token(home.path()).await;
    let introspect = super::Introspect::new(&server).await;
    if !introspect.active(&token).await {
        app.fail_with(
            "2-3-profile",
            "the kiosk's token is not active at the server",
        )
        .await;
    }

    // A value in the JavaScript heap of the page that shows Frank's profile: the page reloads at
    // the sign-out, so it must not survive it.
    app.exec("window.__lastPerson = 'frank'; return true;", vec![])
        .await;

    // Hands off. The warning shows the countdown, then the user is signed out.
    let warn_by = Duration::from_secs((IDLE_SECS - WARN_SECS) as u64 + 20);
    let deadline = std::time::Instant::now() + warn_by;
    while !app.is_shown("kiosk-warning").await {
        if app.state().await != "profile" {
            app.fail_with(
                "3-warning",
                "left the profile before any idle warning was shown",
            )
            .await;
        }
        if std::time::Instant::now() > deadline {
            app.fail_with("3-warning", "no visible #kiosk-warning while idle")
                .await;
        }
        tokio::time::sleep(qrlogin_e2e::POLL).await;
    }
    let countdown = app
        .wait_text(
            "3-warning",
            "kiosk-countdown",
            "a countdown from the warning time",
            |t| t.parse::<i64>().is_ok_and(|n| (1..=WARN_SECS).contains(&n)),
        )
        .await;
    app.screenshot("3-warning").await;
    note(&sc, &format!("idle warning shows {countdown} s"));

    let fresh = app
        .wait_qr_within(
            "4-signed-out",
            &[&used],
            Duration::from_secs(WARN_SECS as u64 + 25),
        )
        .await;
    assert_ne!(fresh, used);
    if !app
        .exec("return document.body.classList.contains('kiosk');", vec![])
        .await
        .as_bool()
        .unwrap_or(false)
    {
        app.fail_with("4-signed-out", "body.kiosk is gone after the idle sign-out")
            .await;
    }
    if app.is_shown("kiosk-warning").await {
        app.fail_with(
            "4-signed-out",
            "the idle warning is still shown over the fresh QR",
        )
        .await;
    }
    if introspect.active(&token).await {
        app.fail_with(
            "4-signed-out",
            "the idle sign-out left the token active at the server",
        )
        .await;
    }
    let left = app.exec("return typeof window.__lastPerson;", vec![]).await;
    if left != "undefined" {
        app.fail_with(
            "4-signed-out",
            format!(
                "the page after the sign-out still holds the last person's page state ({left})"
            ),
        )
        .await;
    }
    let notice = app.text("notice").await;
    if notice != "Signed out." || !app.is_shown("notice").await {
        app.fail_with(
            "4-signed-out",
            format!("the QR screen does not say it signed out at the server: {notice:?}"),
        )
        .await;
    }
    app.quit().await;
}
