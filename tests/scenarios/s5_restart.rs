//! Scenario 5: Restart after a login → the profile at once from the remembered session; sign out → a fresh
//! QR; restart → a QR, not the old profile.

use std::time::{Duration, Instant};

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{App, AppConfig, AppHome, Scenario, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_remembered_session() {
    let sc = Scenario::new("s5-restart");
    let server = TestServer::start(ServerOptions::default()).await;
    let erin = server.add_user("erin", "Erin").await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, "v2", "en"));

    // First run: sign in.
    let app = App::launch(&sc, &home, &[]).await;
    let used = super::sign_in_from_phone(&app, "1", &erin).await;
    app.quit().await;

    // Second run: the profile, straight away, never a QR first.
    let started = Instant::now();
    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state_within("2-restored", "profile", Duration::from_secs(15))
        .await;
    let took = started.elapsed();
    let states: Vec<String> = app.history().await.into_iter().map(|h| h.0).collect();
    if states.iter().any(|s| s == "waiting") {
        app.fail_with(
            "2-restored",
            format!("a QR was shown before the remembered profile (states: {states:?})"),
        )
        .await;
    }
    app.assert_text("2-restored", "profile-nickname", &erin.nickname)
        .await;
    app.assert_text("2-restored", "profile-username", &erin.username)
        .await;
    app.assert_no_qr("2-restored").await;
    qrlogin_e2e::app::note(
        &sc,
        &format!(
            "restored profile {} ms after launch began (states {states:?})",
            took.as_millis()
        ),
    );

    // Sign out: a fresh QR.
    app.click("sign-out").await;
    let fresh = app.wait_qr("3-signed-out", &[&used]).await;
    assert_ne!(fresh, used);
    app.quit().await;

    // Third run: a QR, not the old profile.
    let app = App::launch(&sc, &home, &[]).await;
    app.wait_qr("4-restart-after-sign-out", &[&used, &fresh])
        .await;
    let states: Vec<String> = app.history().await.into_iter().map(|h| h.0).collect();
    if states.iter().any(|s| s == "profile") {
        app.fail_with(
            "4-restart-after-sign-out",
            format!("the signed-out profile came back after a restart (states: {states:?})"),
        )
        .await;
    }
    app.quit().await;
}
