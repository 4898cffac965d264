//! The remembered session. Its tokens stay on the Rust side, in the core's session store (the OS
//! keyring, or a file only the user can read), the same one `qrlogin-cli` uses; the webview has no
//! store permission at all.

use crate::error::AppError;
use crate::state::AppState;
use qrlogin_core::credentials::Credentials;
pub use qrlogin_core::session_store::Remembered;
use qrlogin_core::session_store::{Location, Mode, TokenStore};
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};

/// The app's token store, opened on first use in the app's data dir.
pub fn store<R: Runtime>(app: &AppHandle<R>) -> Result<Arc<TokenStore>, AppError> {
    let state = app.state::<AppState>();
    if let Some(s) = state.token_store.get() {
        return Ok(s.clone());
    }
    let dir = app.path().app_data_dir()?;
    let mode = Mode::parse(&state.config.login.token_store);
    let identifier = app.config().identifier.clone();
    Ok(state
        .token_store
        .get_or_init(|| Arc::new(TokenStore::new(mode, &dir, &identifier)))
        .clone())
}

pub fn load<R: Runtime>(app: &AppHandle<R>) -> Option<Remembered> {
    store(app).ok()?.load().session
}

pub fn save<R: Runtime>(app: &AppHandle<R>, remembered: &Remembered) -> Result<Location, AppError> {
    let (_, at) = store(app)?
        .update(|v| v.session = Some(remembered.clone()))
        .map_err(|e| AppError::Store(e.to_string()))?;
    Ok(at)
}

/// Replaces the session's credentials, unless it was signed out meanwhile (a refresh that
/// finishes after a sign-out must not bring the session back).
pub fn save_refreshed<R: Runtime>(app: &AppHandle<R>, c: &Credentials) -> Result<bool, AppError> {
    let (kept, _) = store(app)?
        .update(|v| match v.session.as_mut() {
            Some(s) => {
                *s = s.with_credentials(c);
                true
            }
            None => false,
        })
        .map_err(|e| AppError::Store(e.to_string()))?;
    Ok(kept)
}

pub fn clear<R: Runtime>(app: &AppHandle<R>) -> Result<(), AppError> {
    store(app)?
        .update(|v| v.session = None)
        .map_err(|e| AppError::Store(e.to_string()))?;
    Ok(())
}
