//! Scenario 12: the window comes back at the size it was left at (tauri-plugin-window-state), and
//! a kiosk does not take that size: it is full screen and must not remember a stray resize.
//!
//! Xvfb has no window manager, so only the size is asserted (no WM places or decorates windows;
//! the position is what the plugin restores too, but nothing here moves it).

use std::time::{Duration, Instant};

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{app::note, App, AppConfig, AppHome, Scenario, TestServer};

const W: u64 = 540;
const H: u64 = 700;

async fn size(app: &App) -> (u64, u64) {
    let (_, _, w, h) = app.window_rect().await;
    (w, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fails today: after a WebDriver close the next start is at tauri.conf.json's 460x800, \
            not the 540x700 it was left at (the plugin writes its file only on RunEvent::Exit; \
            whether the harness's quit reaches it is not yet known); run with --ignored"]
async fn s15_window_size_is_restored_except_in_kiosk_mode() {
    let sc = Scenario::new("s12-window-state");
    let server = TestServer::start(ServerOptions::default()).await;
    let config = AppConfig::for_server(&server, "v2", "en");
    let mut home = AppHome::with_config(&config);

    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state("1-waiting", "waiting").await;
    let first = size(&app).await;
    assert_ne!(first, (W, H), "pick a test size other than the default");
    app.set_window_size(W as u32, H as u32).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while size(&app).await != (W, H) {
        if Instant::now() > deadline {
            let now = size(&app).await;
            app.fail_with(
                "1-resized",
                format!("the window did not take {W}x{H}: {now:?}"),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.screenshot("1-resized").await;
    app.quit().await;

    // Started again: the size it was left at, not tauri.conf.json's.
    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state("2-restored", "waiting").await;
    let restored = size(&app).await;
    note(
        &sc,
        &format!("default {first:?}, left at {W}x{H}, restored {restored:?}"),
    );
    if restored != (W, H) {
        app.fail_with(
            "2-restored",
            format!("the window came back at {restored:?}, not the {W}x{H} it was left at"),
        )
        .await;
    }
    app.quit().await;

    // A kiosk on the same account: the remembered size is not applied.
    home.write_config(&config.clone().set("kiosk.enabled", true));
    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state("3-kiosk", "waiting").await;
    let kiosk = size(&app).await;
    note(&sc, &format!("kiosk window {kiosk:?}"));
    if kiosk == (W, H) {
        app.fail_with(
            "3-kiosk",
            format!("the kiosk took the remembered desk size {kiosk:?}"),
        )
        .await;
    }
    app.quit().await;
}
