//! The window's size and position between starts (tauri-plugin-window-state), never in kiosk
//! mode (full screen; a stray resize must not be remembered). The plugin writes its file only on
//! `RunEvent::Exit`: an app ended any other way (a session logout that kills it, a crash, the
//! e2e harness's WebDriver) would forget what the person did, so the state is also written once
//! the window has stopped moving or resizing for a moment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tauri::plugin::TauriPlugin;
use tauri::{Manager, Runtime, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// What is kept: size, position and whether it was maximized (not decorations or visibility,
/// which the app sets itself).
pub const FLAGS: StateFlags = StateFlags::SIZE
    .union(StateFlags::POSITION)
    .union(StateFlags::MAXIMIZED);

/// A drag sends dozens of events; the file is written once the window is still this long.
const SETTLE: Duration = Duration::from_millis(300);

/// The plugin, restoring `FLAGS` when the window is ready. Rust-only: the page is granted none of
/// its commands (capabilities/default.json).
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    tauri_plugin_window_state::Builder::default()
        .with_state_flags(FLAGS)
        .build()
}

/// Writes the state `SETTLE` after the main window's last move or resize. Only with [`plugin`]
/// registered (its state is what is written).
pub fn save_when_settled<R: Runtime>(app: &tauri::AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let handle = app.clone();
    let last_change = Arc::new(AtomicU64::new(0));
    window.on_window_event(move |event| {
        if !matches!(event, WindowEvent::Resized(_) | WindowEvent::Moved(_)) {
            return;
        }
        let this_change = last_change.fetch_add(1, Ordering::SeqCst) + 1;
        let last_change = last_change.clone();
        let handle = handle.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SETTLE).await;
            if last_change.load(Ordering::SeqCst) != this_change {
                return; // a later change writes it
            }
            match handle.save_window_state(FLAGS) {
                Ok(()) => tracing::debug!("window size and position saved"),
                Err(e) => tracing::warn!(error = %e, "cannot save the window's size and position"),
            }
        });
    });
}
