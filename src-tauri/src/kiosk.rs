//! Kiosk mode: full screen, no decorations, always on top. Closing is refused in lib.rs; idle
//! sign-out is timed by the page, the only place that sees touches and keys.

use tauri::{Runtime, WebviewWindow};

pub fn apply<R: Runtime>(window: &WebviewWindow<R>) {
    // On Linux full screen is a request to the window manager; asking again after show() is what
    // makes it stick on some of them.
    let steps: [(&str, tauri::Result<()>); 5] = [
        ("decorations", window.set_decorations(false)),
        ("always on top", window.set_always_on_top(true)),
        ("show", window.show()),
        ("fullscreen", window.set_fullscreen(true)),
        ("focus", window.set_focus()),
    ];
    for (what, result) in steps {
        if let Err(e) = result {
            tracing::warn!(error = %e, "kiosk: could not set {what}");
        }
    }
}
