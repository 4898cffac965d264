//! Tauri 2 hello-world: one window, one page, one command. The page reports its first paint
//! through `painted`, which appends `<what> <CLOCK_MONOTONIC ns>` to `$QRLOGIN_PAINT_LOG`, exactly
//! like qrlogin's `ui_painted` (src-tauri/src/paint_log.rs).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write;

#[tauri::command]
fn painted(what: String) {
    let what: String = what
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    record(&what);
}

/// Appends `<what> <ns>`; also used for the same start-up milestones as qrlogin's
/// (src-tauri/src/startup.rs): `startup-main`, `startup-setup`, `startup-page-loaded`.
fn record(what: &str) {
    let Ok(path) = std::env::var("QRLOGIN_PAINT_LOG") else {
        return;
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let ns = ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(format!("{what} {ns}\n").as_bytes());
    }
}

fn main() {
    record("startup-main");
    tauri::Builder::default()
        .setup(|_app| {
            record("startup-setup");
            Ok(())
        })
        .on_page_load(|_webview, payload| {
            if matches!(payload.event(), tauri::webview::PageLoadEvent::Finished) {
                record("startup-page-loaded");
            }
        })
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
        .expect("error while running the hello-world");
}
