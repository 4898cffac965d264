//! Scenario 7: Each of the four API generations, chosen by config, completes a login against the same
//! server.

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{App, AppConfig, AppHome, Scenario, TestServer};

const DIALECTS: [&str; 4] = ["wxapp-legacy", "app-v1", "v2", "v3"];

async fn login_with(dialect: &str) {
    let sc = Scenario::new(&format!("s7-generation-{dialect}"));
    let server = TestServer::start(ServerOptions::default()).await;
    let user = server
        .add_user(
            &format!("gen{}", dialect.replace('-', "")),
            &format!("User of {dialect}"),
        )
        .await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, dialect, "en"));
    let app = App::launch(&sc, &home, &[]).await;
    super::sign_in_from_phone(&app, "1", &user).await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_generation_wxapp_legacy() {
    login_with(DIALECTS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_generation_app_v1() {
    login_with(DIALECTS[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_generation_v2() {
    login_with(DIALECTS[2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_generation_v3() {
    login_with(DIALECTS[3]).await;
}
