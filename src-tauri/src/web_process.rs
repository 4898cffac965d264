//! The webview's web process (WebKitGTK runs the page in a process of its own) is brought back
//! when it dies. wry does not handle WebKit's `web-process-terminated`: when the page's process
//! crashes or is killed (the OOM killer on a small kiosk), the window stays blank until someone
//! restarts the app, and a kiosk has nobody to do that. The window reloads its page instead: the
//! page starts over as at launch (app_info, then a fresh QR or the remembered profile). A page
//! that dies again and again is reloaded at most [`MAX_RELOADS`] times in [`RELOAD_WINDOW`]; after
//! that the window is left as it is and the log says why, instead of spinning.
//!
//! A kiosk's sign-out may also end the process on purpose ([`renew`]), once it has grown past its
//! budget (web_process_budget.rs): the page is loaded again in a new process in the same way, and
//! that does not count as a crash.

use tauri::{Runtime, WebviewWindow};

/// At most this many reloads after a crash within [`RELOAD_WINDOW`].
pub const MAX_RELOADS: usize = 5;
pub const RELOAD_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// Reloads the page whenever its web process ends (Linux; other platforms' webviews are left as
/// they are).
pub fn watch<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let result = window.with_webview(|webview| {
            use std::cell::RefCell;
            use std::collections::VecDeque;
            use std::time::Instant;
            use webkit2gtk::WebViewExt;
            let crashes: RefCell<VecDeque<Instant>> = RefCell::new(VecDeque::new());
            webview
                .inner()
                .connect_web_process_terminated(move |view, why| {
                    if why == webkit2gtk::WebProcessTerminationReason::TerminatedByApi {
                        // `renew` ended it: a new process, not a crash.
                        view.reload();
                        return;
                    }
                    let mut crashes = crashes.borrow_mut();
                    let now = Instant::now();
                    crashes.retain(|t| now.duration_since(*t) < RELOAD_WINDOW);
                    if crashes.len() >= MAX_RELOADS {
                        tracing::error!(
                            reason = ?why,
                            "the page's web process ended again; {MAX_RELOADS} reloads in \
                             {}s already, not reloading (restart the app)",
                            RELOAD_WINDOW.as_secs()
                        );
                        return;
                    }
                    crashes.push_back(now);
                    tracing::warn!(reason = ?why, "the page's web process ended; reloading the page");
                    view.reload();
                });
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot watch the webview's web process");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// Ends the page's web process so that the page starts over in a new one (the watcher above
/// reloads it). Returns once WebKit has done it, `false` where it cannot (another platform, or
/// the window is gone): then the caller's page reloads itself, in the same process.
pub async fn renew<R: Runtime>(window: &WebviewWindow<R>) -> bool {
    #[cfg(target_os = "linux")]
    {
        let (done, ended) = tokio::sync::oneshot::channel();
        let sent = window.with_webview(move |webview| {
            use webkit2gtk::WebViewExt;
            webview.inner().terminate_web_process();
            let _ = done.send(());
        });
        sent.is_ok()
            && tokio::time::timeout(std::time::Duration::from_secs(5), ended)
                .await
                .is_ok_and(|r| r.is_ok())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = window;
        false
    }
}
