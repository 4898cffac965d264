//! Scenario 12 (issue 13): three proxy faults met by the real window while it long-polls, one
//! after the other in one launch: a reset in the middle of a long-poll's reply body, a 503 HTML
//! page at the end of a held long-poll, and a 429 whose `Retry-After` is absurd. Each time the
//! window shows the `retrying` view (its problem in words, a countdown, no button), never
//! `failed`; once the proxy forwards again it shows a scannable QR by itself, and after the third
//! fault a phone approval signs in. The 429's countdown stays within the engine's cap (30 s), not
//! the 10^23 seconds the server asked for.

use std::time::Duration;

use qrlogin_e2e::fault::{Fault, FaultProxy};
use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{App, AppConfig, AppHome, Scenario, TestServer};

const POLL: &str = "/api/v2/qrcode/check";
/// A fault takes effect from the next poll: the one held when it is set ends within the
/// long-poll wait (25 s); then the window must show it.
const MEET_WITHIN: Duration = Duration::from_secs(45);
/// Once healed, the first poll that goes through (after at most one back-off, 30 s at the cap,
/// and one held long-poll, 25 s) brings the QR back.
const BACK_WITHIN: Duration = Duration::from_secs(75);

/// The faults, the text the window must show for each, and a name for the screenshots.
fn faults() -> Vec<(&'static str, Fault, &'static str)> {
    let held = |then: Fault| Fault::Delay {
        by: Duration::from_secs(2),
        then: Box::new(then),
    };
    vec![
        (
            "reset-mid-body",
            held(Fault::ResetMidBody {
                declared: 400,
                sent: br#"{"code":200,"message":"","data":{"stat"#.to_vec(),
            }),
            "The server's reply was cut off.",
        ),
        (
            "503-page",
            held(Fault::web_page(503)),
            "The sign-in server (or a proxy in front of it) reported an error (HTTP 503).",
        ),
        (
            "429-absurd-retry-after",
            Fault::retry_after("99999999999999999999999"),
            "The sign-in server is busy and asked to wait.",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s12_faults_during_long_polls_show_retrying_then_recover_and_sign_in() {
    let sc = Scenario::new("s12-faults-in-window");
    let server = TestServer::start(ServerOptions::default()).await;
    let gina = server.add_user("gina", "Gina").await;
    let proxy = FaultProxy::start(server_addr(&server)).await;
    let config = AppConfig::for_server(&server, "v2", "en").set("server.url", proxy.base_url());
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    let mut qr = app.wait_qr("0-qr", &[]).await;
    for (i, (name, fault, shown)) in faults().into_iter().enumerate() {
        let step = format!("{}-{name}", i + 1);
        proxy.forget_seen();
        proxy.set_for(POLL, fault);
        app.wait_state_within(&format!("{step}-a-retrying"), "retrying", MEET_WITHIN)
            .await;
        app.assert_text(&format!("{step}-a-retrying"), "failure-message", shown)
            .await;
        let note = app
            .wait_text(
                &format!("{step}-a-retrying"),
                "retry-note",
                "a retry countdown",
                |t| t.starts_with("Retrying in"),
            )
            .await;
        let secs: u64 = note
            .trim_start_matches("Retrying in ")
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX);
        if secs > 30 {
            app.fail_with(
                &format!("{step}-a-retrying"),
                format!("the countdown is past the 30 s cap: {note:?}"),
            )
            .await;
        }
        if app.is_shown("retry").await {
            app.fail_with(
                &format!("{step}-a-retrying"),
                "a Retry button during the visible retries",
            )
            .await;
        }
        let screen = app
            .exec("return document.body.innerText;", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if screen.contains("\"code\"") || screen.contains("nginx") {
            app.fail_with(
                &format!("{step}-a-retrying"),
                format!("the window quotes the reply: {screen:?}"),
            )
            .await;
        }
        app.screenshot(&format!("{step}-b-retrying-shown")).await;
        let met = proxy.faulted(POLL);
        assert!(met >= 1, "{name}: the fault was met");
        qrlogin_e2e::app::note(
            &sc,
            &format!("{name}: {met} faulted polls; countdown {note:?}"),
        );
        proxy.heal();
        // Nobody touches the window: the QR comes back by itself.
        qr = app
            .wait_qr_within(&format!("{step}-c-back"), &[], BACK_WITHIN)
            .await;
        let state = app.state().await;
        assert_eq!(state, "waiting", "{name}: back to the QR");
    }
    let _ = qr;
    super::sign_in_from_phone(&app, "4-sign-in", &gina).await;
    app.quit().await;
}

fn server_addr(server: &TestServer) -> std::net::SocketAddr {
    server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("the server's address")
}
