//! Tauri 2 hello-world: one window, one page, one command. The page reports its first paint
//! through `painted`, which appends `<what> <CLOCK_MONOTONIC ns>` to `$QRLOGIN_PAINT_LOG`, exactly
//! like qrlogin's `ui_painted` (src-tauri/src/paint_log.rs).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write;

#[tauri::command]
fn painted(what: String) {
    let Ok(path) = std::env::var("QRLOGIN_PAINT_LOG") else { return };
    let what: String = what
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let ns = ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(format!("{what} {ns}\n").as_bytes());
    }
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
        .expect("error while running the hello-world");
}
