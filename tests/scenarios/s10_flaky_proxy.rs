//! Scenario 10 (issue 19): a proxy in front of the server misbehaves. 40 s of HTTP 200 replies
//! that are not JSON, starting before the app does, then it forwards again: the window shows the
//! `retrying` view (the configured failed tip, the kind of problem in words, a countdown, no
//! button), then a scannable QR by itself, and a phone approval signs in, without a click. The
//! screen and the app's log never quote the proxy's body. A second launch records the retrying
//! view for a web page (zh-CN) and for a dead server (docs/screenshots/).

use std::time::{Duration, Instant};

use qrlogin_e2e::fault::{Fault, FaultProxy};
use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

const FAILED_TIP: &str = "The sign-in server is having trouble (e2e).";
const FAULT_FOR: Duration = Duration::from_secs(40);
/// What the proxy answers instead of JSON; it must never appear on screen or in the log.
const BODY_MARK: &str = "upstream temporarily unavailable";

/// The app pointed at the server through `proxy`; in English with our own failed tip, in
/// Chinese with the default one.
fn config_through(proxy: &FaultProxy, server: &TestServer, lang: &str) -> AppConfig {
    let config = AppConfig::for_server(server, "v2", lang).set("server.url", proxy.base_url());
    if lang == "en" {
        config.set("tips.en.failedTips", FAILED_TIP)
    } else {
        config
    }
}

async fn screen_text(app: &App) -> String {
    app.exec("return document.body.innerText;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Copies a step's screenshot into docs/screenshots/ (the evidence).
fn keep(sc: &Scenario, step: &str, name: &str, png: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("docs/screenshots");
    std::fs::write(dir.join(name), png).expect("write the screenshot");
    qrlogin_e2e::app::note(sc, &format!("{step} kept as docs/screenshots/{name}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_flaky_proxy_non_json_then_healthy_signs_in_without_a_click() {
    let sc = Scenario::new("s10-flaky-proxy");
    let server = TestServer::start(ServerOptions::default()).await;
    let erin = server.add_user("erin", "Erin").await;
    let proxy = FaultProxy::start(server_addr(&server)).await;
    proxy.set(Fault::not_json());
    let faulted_at = Instant::now();
    let home = AppHome::with_config(&config_through(&proxy, &server, "en"));
    let app = App::launch(&sc, &home, &[]).await;

    let png = app
        .wait_state_within("1-retrying", "retrying", Duration::from_secs(30))
        .await;
    app.assert_text("1-retrying", "tip", FAILED_TIP).await;
    app.assert_text(
        "1-retrying",
        "failure-message",
        "The server's reply is not a sign-in reply (not JSON).",
    )
    .await;
    app.wait_text("1-retrying", "retry-note", "a retry countdown", |t| {
        t.starts_with("Retrying in")
    })
    .await;
    if app.is_shown("retry").await {
        app.fail_with("1-retrying", "a Retry button during the visible retries")
            .await;
    }
    keep(&sc, "1-retrying", "retrying-not-json.png", &png);
    let shown_during = screen_text(&app).await;

    // Still retrying, not stopped, for the whole fault.
    while faulted_at.elapsed() < FAULT_FOR {
        let state = app.state().await;
        if state != "retrying" {
            app.fail_with(
                "2-still-retrying",
                format!("state {state:?} during the fault"),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    app.screenshot("2-still-retrying").await;
    let faulted = proxy.faulted("/");
    proxy.heal();
    qrlogin_e2e::app::note(
        &sc,
        &format!("proxy healed after {faulted} faulted replies"),
    );

    // Nobody touches the window: a QR comes back by itself and works.
    let qr = app
        .wait_qr_within("3-back", &[], Duration::from_secs(75))
        .await;
    let scan = phone::scan(&qr, &erin).await;
    super::scanned_shows(&app, "4", &erin.nickname).await;
    super::confirm_with_window_code(&app, "4", &scan).await;
    super::profile_shows(&app, "4", &erin).await;
    app.quit().await;

    assert!(faulted >= 3, "the fault was met ({faulted} replies)");
    assert!(
        !shown_during.contains(BODY_MARK),
        "the window quotes the reply body: {shown_during:?}"
    );
    let log = std::fs::read_to_string(sc.driver_log()).unwrap_or_default();
    assert!(
        log.contains("request failed; retrying"),
        "the app log records the failures (see {})",
        sc.driver_log().display()
    );
    assert!(
        !log.contains(BODY_MARK),
        "the app log quotes the reply body (see {})",
        sc.driver_log().display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_retrying_views_web_page_and_dead_server() {
    let sc = Scenario::new("s10-retrying-views");
    let server = TestServer::start(ServerOptions::default()).await;
    let proxy = FaultProxy::start(server_addr(&server)).await;
    proxy.set(Fault::web_page(200));
    let home = AppHome::with_config(&config_through(&proxy, &server, "zh-CN"));
    let app = App::launch(&sc, &home, &[]).await;

    let png = app
        .wait_state_within("1-web-page", "retrying", Duration::from_secs(30))
        .await;
    app.assert_text(
        "1-web-page",
        "failure-message",
        "服务器返回了一个网页，而不是登录应答。",
    )
    .await;
    // The main line is the configured failed tip (here Authing's default zh-CN text).
    let tip = app.text("tip").await;
    let default_tip = qrlogin_core::tips::Tips::default().get(
        qrlogin_core::tips::TipKey::Failed,
        qrlogin_core::tips::Lang::ZhCn,
    );
    if tip != default_tip {
        app.fail_with(
            "1-web-page",
            format!("#tip shows {tip:?}, not the failed tip {default_tip:?}"),
        )
        .await;
    }
    keep(&sc, "1-web-page", "retrying-web-page.png", &png);

    // The proxy (the only way to the server) dies: nothing listens on its port any more.
    drop(proxy);
    app.wait_text("2-dead", "failure-message", "the unreachable detail", |t| {
        t == "无法连接登录服务器。"
    })
    .await;
    app.wait_text("2-dead", "retry-note", "a retry countdown", |t| {
        t.contains("秒后重试")
    })
    .await;
    let png = app.screenshot("2-dead").await;
    keep(&sc, "2-dead", "retrying-dead-server.png", &png);
    app.quit().await;
}

fn server_addr(server: &TestServer) -> std::net::SocketAddr {
    server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("the server's address")
}
