//! Scenario 3: Expiry: a short QR lifetime on the server → a new QR by itself; once the refresh cap is
//! reached → `expiredTips` and a retry button that brings a new QR.

use std::time::Duration;

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestServer};

const QR_TTL_SECS: u32 = 6;
const REFRESH_CAP: i64 = 1;
const EXPIRED_TIP: &str = "This code has expired (e2e).";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_expiry_refresh_then_cap() {
    let sc = Scenario::new("s3-expiry");
    let server = TestServer::start(ServerOptions {
        qr_ttl_secs: QR_TTL_SECS,
        ..Default::default()
    })
    .await;
    let carol = server.add_user("carol", "Carol").await;
    let config = AppConfig::for_server(&server, "v2", "en")
        .set("login.refresh_cap", REFRESH_CAP)
        .set("tips.en.expiredTips", EXPIRED_TIP);
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;
    // A QR lives QR_TTL_SECS; allow that plus a loaded machine's slack for each new one.
    let per_qr = Duration::from_secs(u64::from(QR_TTL_SECS) + 20);

    // The first QR, then REFRESH_CAP new ones that come by themselves, without a click.
    let mut seen = vec![app.wait_qr("1-qr", &[]).await];
    for i in 1..=REFRESH_CAP {
        let not: Vec<&str> = seen.iter().map(String::as_str).collect();
        let next = app
            .wait_qr_within(&format!("2-refreshed-{i}"), &not, per_qr)
            .await;
        seen.push(next);
    }
    assert_eq!(seen.len() as i64, REFRESH_CAP + 1);

    // The cap is reached: the last one expires and stays expired, with a retry button.
    app.wait_state_within("3-expired", "expired", per_qr).await;
    app.assert_text("3-expired", "tip", EXPIRED_TIP).await;
    if !app.is_shown("retry").await {
        app.fail_with(
            "3-expired",
            "no visible #retry button once the refresh cap is reached",
        )
        .await;
    }
    // It stays expired: no new QR arrives by itself.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = app.state().await;
    if still != "expired" {
        app.fail_with(
            "3-expired-stays",
            format!("after the cap the window left `expired` by itself (now {still:?})"),
        )
        .await;
    }

    app.click("retry").await;
    let not: Vec<&str> = seen.iter().map(String::as_str).collect();
    let fresh = app.wait_qr("4-after-retry", &not).await;

    // And that QR works.
    let scan = phone::scan(&fresh, &carol).await;
    super::scanned_shows(&app, "5", &carol.nickname).await;
    super::confirm_with_window_code(&app, "5", &scan).await;
    super::profile_shows(&app, "5", &carol).await;
    app.quit().await;
}
