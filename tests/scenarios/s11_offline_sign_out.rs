//! Scenario 11: Sign out while the server is down → the window returns to the sign-in screen at
//! once and says "signed out on this computer; the server will be told when it can be reached";
//! the server comes back → the running app delivers the queued revocation by itself and the token
//! the window held is dead at the server (introspection says `active: false`), and the notice
//! then says "Signed out.".

use std::time::{Duration, Instant};

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{App, AppConfig, AppHome, Scenario, TestServer};

const PENDING: &str =
    "Signed out on this computer; the server will be told when it can be reached.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s11_sign_out_with_the_server_down() {
    let sc = Scenario::new("s11-offline-sign-out");
    let mut server = TestServer::start(ServerOptions::default()).await;
    let gina = server.add_user("gina", "Gina").await;
    let config = AppConfig::for_server(&server, "v2", "en").set("login.token_store", "file");
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let used = super::sign_in_from_phone(&app, "1", &gina).await;
    let token = super::held_token(home.path()).await;
    let introspect = super::Introspect::new(&server).await;
    assert!(
        introspect.active(&token).await,
        "the window's token is live"
    );

    server.stop().await;
    let clicked = Instant::now();
    app.click("sign-out").await;
    let notice = app
        .wait_text(
            "2-signed-out-offline",
            "notice",
            "the offline sign-out notice",
            |t| t == PENDING,
        )
        .await;
    let took = clicked.elapsed();
    app.screenshot("2-signed-out-offline").await;
    if app.state().await == "profile" {
        app.fail_with("2-signed-out-offline", "still showing the profile")
            .await;
    }
    if took > Duration::from_secs(5) {
        app.fail_with(
            "2-signed-out-offline",
            format!("the sign-out waited {took:?} on a dead server"),
        )
        .await;
    }
    qrlogin_e2e::app::note(
        &sc,
        &format!(
            "offline sign-out shown {} ms after the click: {notice:?}",
            took.as_millis()
        ),
    );

    // Back: a working QR, and the revocation goes out without a restart.
    server.restart().await;
    app.wait_qr("3-back", &[&used]).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while introspect.active(&token).await {
        if Instant::now() > deadline {
            app.fail_with("3-back", "the queued revocation never reached the server")
                .await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    qrlogin_e2e::app::note(
        &sc,
        "the queued revocation reached the server once it was back",
    );
    app.wait_text(
        "4-told",
        "notice",
        "\"Signed out.\" once the server was told",
        |t| t == "Signed out.",
    )
    .await;
    app.screenshot("4-told").await;
    app.quit().await;
}
