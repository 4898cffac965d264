//! Keeps WebKitGTK's web process from hoarding what the page no longer shows. Every login attempt
//! brings a new QR as a new `data:image/svg+xml` URL; with WebKitGTK's default cache model (a web
//! browser's) each of them stays in the web process's memory cache after the page replaced it,
//! about 180 kiB apiece (an SVG image is a whole document), and the cache's cap counts only a few
//! kiB of each. A kiosk signing in all day would add hundreds of MiB (the kiosk soak,
//! docs/soak/kiosk/). The page is one local document that never navigates and has nothing worth
//! caching, so the "document viewer" model fits it: the memory cache keeps no dead resources and
//! there is no back/forward cache.

use tauri::{Runtime, WebviewWindow};

/// Sets the document-viewer cache model on the window's web context (Linux; other platforms'
/// webviews have no such switch and are left alone).
pub fn apply<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let result = window.with_webview(|webview| {
            use webkit2gtk::{CacheModel, WebContextExt, WebViewExt};
            if let Some(context) = webview.inner().context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not set the webview's cache model");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
