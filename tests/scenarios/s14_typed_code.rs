//! Scenario 12: A code to type (issue 15 item 7). "Can't scan?" shows our server's short code and
//! the address to type it at; a phone that types it (no camera, no link) signs the window in.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s14_typed_code() {
    let sc = Scenario::new("s12-typed-code");
    let server = TestServer::start(ServerOptions::default()).await;
    let carol = server.add_user("carol", "Carol Typist").await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, "v3", "en"));
    let app = App::launch(&sc, &home, &[]).await;

    app.wait_qr("1-qr", &[]).await;
    app.click("cant-scan").await;
    let code = app
        .wait_text("2-panel", "type-code", "a code like WDJB-MJHT", |t| {
            t.len() == 9 && t.as_bytes()[4] == b'-'
        })
        .await;
    let url = app.text("type-code-url").await;
    if url != format!("{}/s", server.base_url()) {
        app.fail_with(
            "2-panel",
            format!(
                "the panel should say where to type the code ({}/s); it says {url:?}",
                server.base_url()
            ),
        )
        .await;
    }
    if !app.is_shown("type-code").await || app.is_shown("cant-scan-words").await {
        app.fail_with(
            "2-panel",
            "the code is not shown, or the words for Authing are",
        )
        .await;
    }
    app.screenshot("2-typed-code-panel").await;

    // The person reads the code off the screen and types it on the phone, in lower case.
    let scan = phone::type_code(&url, &code.to_lowercase(), &carol).await;
    super::scanned_shows(&app, "3", &carol.nickname).await;
    super::confirm_with_window_code(&app, "3", &scan).await;
    super::profile_shows(&app, "4", &carol).await;
    app.quit().await;
}
