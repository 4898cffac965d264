//! Scenario 16: the page's web process ends, and the window does not stay blank.
//!
//! - It dies (a crash, the OOM killer on a small kiosk): the shell loads the page again in a new
//!   web process and the page paints a fresh QR (src-tauri/src/web_process.rs); a page that dies
//!   again and again is reloaded at most five times a minute, then left with a line in the log.
//! - A kiosk's sign-out ends it on purpose once it has grown past `kiosk.web_process_budget_mib`
//!   (0 here: at every sign-out): the next person's page runs in a new process, which returns
//!   what WebKit kept of the last login, and that is no crash (it does not use up the reloads).
//!
//! WebKitWebDriver ends its session when the page's process dies, so this scenario drives the app
//! without it (qrlogin_e2e::bare): the paint log says what the window painted, the phone reads
//! the QR off the X screen.

use std::time::Duration;

use qrlogin_e2e::app::note;
use qrlogin_e2e::bare::BareApp;
use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, AppConfig, AppHome, Scenario, TestServer};

const RELOADS_A_MINUTE: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_a_killed_web_process_is_replaced_and_paints_a_qr() {
    let sc = Scenario::new("s16-web-process");
    let server = TestServer::start(ServerOptions::default()).await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, "v2", "en"));
    let app = BareApp::launch(&home);
    let mut painted = app.wait_paints("qr", 1, Duration::from_secs(60)).await;
    // Each death is followed by a new process and a new QR painted, up to the limit.
    for death in 1..=RELOADS_A_MINUTE {
        let killed = app.kill_web_process();
        painted = app
            .wait_paints("qr", painted + 1, Duration::from_secs(30))
            .await
            .max(painted + 1);
        let now = app.web_processes();
        assert!(
            !now.contains(&killed) && !now.is_empty(),
            "death {death}: web processes {now:?} after {killed} was killed"
        );
        note(
            &sc,
            &format!("death {death}: killed {killed}, QR painted again by {now:?}"),
        );
    }
    // One more within the minute: the window is left alone, and the log says why.
    app.kill_web_process();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        app.paints("qr"),
        painted,
        "the page was reloaded a sixth time within a minute"
    );
    let log = app.log();
    assert!(
        log.contains("not reloading"),
        "the log does not say the page is no longer reloaded: {}",
        log.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
    );
}

/// More sign-outs than the crash limit allows reloads: each one is a new process, the next QR
/// is painted in it and a phone can sign in again.
const KIOSK_CYCLES: usize = RELOADS_A_MINUTE + 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_a_kiosk_sign_out_past_the_budget_starts_the_page_in_a_new_process() {
    let sc = Scenario::new("s16-kiosk-renewal");
    let server = TestServer::start(ServerOptions {
        check_code: false,
        ..ServerOptions::default()
    })
    .await;
    let kim = server.add_user("kim", "Kim").await;
    let config = AppConfig::for_server(&server, "v2", "en")
        .set("kiosk.enabled", true)
        .set("kiosk.idle_sign_out_secs", 3)
        .set("kiosk.warn_secs", 1)
        .set("kiosk.web_process_budget_mib", 0);
    let home = AppHome::with_config(&config);
    let app = BareApp::launch(&home);
    let mut last_qr = String::new();
    for cycle in 1..=KIOSK_CYCLES {
        app.wait_paints("qr", cycle, Duration::from_secs(60)).await;
        let before = app.web_processes();
        assert_eq!(before.len(), 1, "cycle {cycle}: web processes {before:?}");
        let qr = app.wait_qr(&last_qr, Duration::from_secs(30)).await;
        let scan = phone::scan(&qr, &kim).await;
        scan.confirm(None).await;
        app.wait_paints("profile", cycle, Duration::from_secs(30))
            .await;
        // Nobody touches it: the idle sign-out ends this process and the next QR comes from a
        // new one.
        app.wait_paints("qr", cycle + 1, Duration::from_secs(30))
            .await;
        let after = app.web_processes();
        assert!(
            after.len() == 1 && after != before,
            "cycle {cycle}: the sign-out left web processes {after:?} (before {before:?})"
        );
        note(
            &sc,
            &format!("cycle {cycle}: signed in, signed out, web process {before:?} -> {after:?}"),
        );
        last_qr = qr;
    }
    let log = app.log();
    let renewed = log.matches("renewed the page's web process").count();
    assert_eq!(
        renewed, KIOSK_CYCLES,
        "the log names {renewed} renewals for {KIOSK_CYCLES} sign-outs"
    );
    assert!(
        !log.contains("not reloading"),
        "renewals were counted as crashes"
    );
}
