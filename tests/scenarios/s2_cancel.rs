//! Scenario 2: Cancel on the phone → `canceledTips`, then a fresh QR that decodes to a different link.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

/// The custom canceled tip this scenario configures (the default texts are tested in s9).
const CANCELED_TIP: &str = "Cancelled on your phone. A new code is on its way.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_cancel_on_phone() {
    let sc = Scenario::new("s2-cancel");
    let server = TestServer::start(ServerOptions::default()).await;
    let bob = server.add_user("bob", "Bob").await;
    let config =
        AppConfig::for_server(&server, "v2", "en").set("tips.en.canceledTips", CANCELED_TIP);
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let first = app.wait_qr("1-qr", &[]).await;
    let scan = phone::scan(&first, &bob).await;
    super::scanned_shows(&app, "2", &bob.nickname).await;

    let mark = app.history_len().await;
    scan.cancel().await;
    let tip = app.wait_seen("3-cancelled", "cancelled", mark).await;
    assert_eq!(
        tip, CANCELED_TIP,
        "while cancelled the window should show the canceledTips text"
    );

    let second = app.wait_qr("4-new-qr", &[&first]).await;
    assert_ne!(second, first);
    assert!(
        second.starts_with(&format!("{}/s/", server.base_url())),
        "the new QR should hold a link to the approval page, it holds {second:?}"
    );
    // The old link is dead for the phone; the new one works: a full login with it.
    let scan = phone::scan(&second, &bob).await;
    super::scanned_shows(&app, "5", &bob.nickname).await;
    super::confirm_with_window_code(&app, "5", &scan).await;
    super::profile_shows(&app, "5", &bob).await;
    app.quit().await;
}
