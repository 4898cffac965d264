//! Whether this start has a session to restore, asked once in the background as the window opens.
//!
//! The token store may be the OS keyring over D-Bus, whose first call can start gnome-keyring
//! (hundreds of milliseconds on a session where it is not running yet). So the store is read on a
//! thread of its own from the start of `run` on (before the window exists), beside GTK's start,
//! the webview's load and the backend's start, and no step of the first QR waits for it: the shell starts the first attempt when the backend is
//! ready and withdraws it if a session turns up (attempts.rs). Only the page's first `app_info`
//! waits for the answer, because a window must not offer a code to someone who is signed in;
//! by then the answer has nearly always come.

use crate::state::AppState;
use qrlogin_core::session_store::{Mode, TokenStore};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};

/// Starts the read before the window exists (from `run`): opens the app's token store in
/// `data_dir` (the one `persist::store` then uses) and reads it on its own thread.
pub fn start_early(state: &AppState, data_dir: &Path, identifier: &str) {
    let mode = Mode::parse(&state.config.login.token_store);
    let store = state
        .token_store
        .get_or_init(|| Arc::new(TokenStore::new(mode, data_dir, identifier)))
        .clone();
    read_on_a_thread(state, move || store.load().session.is_some());
}

/// From `setup`: starts the read if [`start_early`] did not (tests build the app without `run`),
/// and withdraws the shell's first attempt if the answer is "remembered".
pub fn spawn_read<R: Runtime>(app: &AppHandle<R>) {
    read_through(app);
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        if wait(&handle).await {
            crate::attempts::withdraw_prestart(&handle.state::<AppState>());
        }
    });
}

/// Starts the read through the app's own store, unless it was started already.
fn read_through<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let handle = app.clone();
    read_on_a_thread(&state, move || crate::persist::load(&handle).is_some());
}

/// Runs `read` once per start on a thread of its own (the keyring blocks) and publishes what it
/// says. A read that panics counts as "maybe remembered": the page then asks `restore_session`,
/// which finds nothing and starts a login, rather than waiting forever.
fn read_on_a_thread(state: &AppState, read: impl FnOnce() -> bool + Send + 'static) {
    if state.store_read_started.swap(true, Ordering::SeqCst) {
        return;
    }
    let answer = state.remembered_at_start.clone();
    std::thread::spawn(move || {
        let remembered =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or(true);
        crate::startup::mark("store-read");
        answer.send_replace(Some(remembered));
    });
}

/// The answer if it has come.
pub fn known(state: &AppState) -> Option<bool> {
    *state.remembered_at_start.borrow()
}

/// Waits for the answer (starting the read if nothing has: an app built without `run` and
/// without `setup`, as in the shell's tests, still gets one).
pub async fn wait<R: Runtime>(app: &AppHandle<R>) -> bool {
    read_through(app);
    let mut answer = app.state::<AppState>().remembered_at_start.subscribe();
    let remembered = answer
        .wait_for(Option::is_some)
        .await
        .map(|v| v.unwrap_or(true));
    remembered.unwrap_or(true)
}

/// Whether a session is remembered now (a later question than the first of a start, e.g. after
/// the page was reloaded): read again, off the async workers (the keyring blocks).
pub async fn now<R: Runtime>(app: &AppHandle<R>) -> bool {
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || crate::persist::load(&handle).is_some())
        .await
        .unwrap_or(true)
}
