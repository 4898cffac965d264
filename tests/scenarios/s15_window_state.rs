//! Scenario 15: the window comes back where and at the size it was left (tauri-plugin-window-state;
//! the state is written once the window has settled, src-tauri/src/window_state.rs, so an app
//! ended by its WebDriver session, a crash or a logout keeps it too), and a kiosk does not take
//! it: a kiosk is full screen and must not remember a stray resize.
//!
//! Xvfb runs no window manager here. X then carries out a client's own move and resize requests
//! as asked (nothing redirects them, nothing adds a frame), so position and size are both exact.

use std::path::Path;
use std::time::{Duration, Instant};

use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{app::note, App, AppConfig, AppHome, Scenario, TestServer};

/// Where and how big the person leaves the window: other than tauri.conf.json's 460x800 and
/// wherever the first start puts it.
const X: u64 = 210;
const Y: u64 = 130;
const W: u64 = 540;
const H: u64 = 700;

/// The plugin's file under the test HOME's XDG_CONFIG_HOME (app identifier, default file name).
fn state_file(home: &AppHome) -> std::path::PathBuf {
    home.path()
        .join("config/dev.qrlogin.desktop/.window-state.json")
}

/// The saved `main` window as (x, y, width, height), once the file holds one.
fn saved(path: &Path) -> Option<(i64, i64, u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let m = &v["main"];
    Some((
        m["x"].as_i64()?,
        m["y"].as_i64()?,
        m["width"].as_u64()?,
        m["height"].as_u64()?,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s15_window_size_and_position_are_restored_except_in_kiosk_mode() {
    let sc = Scenario::new("s15-window-state");
    let server = TestServer::start(ServerOptions::default()).await;
    let config = AppConfig::for_server(&server, "v2", "en");
    let mut home = AppHome::with_config(&config);
    let file = state_file(&home);

    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state("1-waiting", "waiting").await;
    let first = app.window_rect().await;
    assert_ne!(
        first,
        (X, Y, W, H),
        "pick a test rect other than the first start's"
    );
    app.set_window_rect(X as u32, Y as u32, W as u32, H as u32)
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.window_rect().await != (X, Y, W, H) {
        if Instant::now() > deadline {
            let now = app.window_rect().await;
            app.fail_with(
                "1-moved",
                format!("the window did not take {X},{Y} {W}x{H}: {now:?}"),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.screenshot("1-moved").await;
    // What the next start reads, written while the app still runs (the plugin alone writes it only
    // at a clean exit, which a WebDriver session's end is not).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let on_disk = saved(&file);
        if on_disk.is_some_and(|(_, _, w, h)| (w, h) == (W, H)) {
            note(&sc, &format!("saved while running: {on_disk:?}"));
            break;
        }
        if Instant::now() > deadline {
            app.fail_with(
                "1-moved",
                format!("{} still says {on_disk:?}, not {W}x{H}", file.display()),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.quit().await;

    // Started again: where and how big it was left, not tauri.conf.json's size.
    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state("2-restored", "waiting").await;
    let restored = app.window_rect().await;
    note(
        &sc,
        &format!("first start {first:?}, left at {X},{Y} {W}x{H}, restored {restored:?}"),
    );
    if restored != (X, Y, W, H) {
        app.fail_with(
            "2-restored",
            format!("the window came back at {restored:?}, not the {X},{Y} {W}x{H} it was left at"),
        )
        .await;
    }
    app.screenshot("2-restored").await;
    app.quit().await;

    // A kiosk on the same account: the remembered rect is not applied.
    home.write_config(&config.clone().set("kiosk.enabled", true));
    let app = App::launch(&sc, &home, &[]).await;
    app.wait_state("3-kiosk", "waiting").await;
    let kiosk = app.window_rect().await;
    note(&sc, &format!("kiosk window {kiosk:?}"));
    if (kiosk.2, kiosk.3) == (W, H) {
        app.fail_with(
            "3-kiosk",
            format!("the kiosk took the remembered desk size {kiosk:?}"),
        )
        .await;
    }
    app.quit().await;
}
