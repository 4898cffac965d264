//! Start-up milestones, so that a slow start can be taken apart: each is logged once (`startup`,
//! with the milliseconds since `main`) and, when `QRLOGIN_PAINT_LOG` is set, appended to the paint
//! log as `startup-<what> <CLOCK_MONOTONIC ns>` for `make bench` (row 3's breakdown).
//!
//! The milestones: `main`; then, side by side, the window (`setup`: it exists; `page-loaded`:
//! the webview finished loading ui/; `app-info`: the page's script asked its first question),
//! the token store (`store-read`: it said whether a session is remembered; asked from `main` on)
//! and the backend (`server-ready`: embedded server serving; `backend-ready`: login client made;
//! both started from `main` on); `login-started` (the shell's own first attempt, before the page
//! asks), `qr-ready` (the first QR was generated and rendered), then the page's own `qr` paint.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

fn since() -> &'static Instant {
    static MAIN: OnceLock<Instant> = OnceLock::new();
    MAIN.get_or_init(Instant::now)
}

/// Records `what` the first time it is reached; later calls are ignored (a retried login or a
/// second window does not move a start-up milestone).
pub fn mark(what: &'static str) {
    static SEEN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let since = since();
    {
        let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(&what) {
            return;
        }
        seen.push(what);
    }
    let ms = since.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(milestone = what, ms = format!("{ms:.1}"), "startup");
    crate::paint_log::record(&format!("startup-{what}"));
}

/// The page has painted its first QR or profile (`ui_painted`), or `wait` has passed: what a
/// first start can leave until then (the demo user's Argon2 hash, embedded.rs) waits here, so that
/// it does not take a core from the webview while the window is still coming up.
pub async fn first_paint_or(wait: std::time::Duration) {
    let mut painted = first_paint().subscribe();
    let _ = tokio::time::timeout(wait, painted.wait_for(|p| *p)).await;
}

/// Called when the page reports a paint.
pub fn painted() {
    first_paint().send_if_modified(|p| !std::mem::replace(p, true));
}

fn first_paint() -> &'static tokio::sync::watch::Sender<bool> {
    static PAINTED: OnceLock<tokio::sync::watch::Sender<bool>> = OnceLock::new();
    PAINTED.get_or_init(|| tokio::sync::watch::channel(false).0)
}
