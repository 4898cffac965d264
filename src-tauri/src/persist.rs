//! The remembered session. The token stays on the Rust side, in a store file that only the user
//! can read (0600); the webview has no store permission at all.

use crate::error::AppError;
use qrlogin_core::profile::Profile;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;

const STORE_FILE: &str = "session.json";
const KEY: &str = "session";

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remembered {
    /// Which server and app issued the token: a session is only restored against the same one.
    pub server: String,
    pub app_id: String,
    pub token: String,
    /// Milliseconds since the Unix epoch, when the server told us.
    pub expires_at: Option<i64>,
    pub profile: Profile,
}

impl std::fmt::Debug for Remembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remembered")
            .field("server", &self.server)
            .field("app_id", &self.app_id)
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub fn load<R: Runtime>(app: &AppHandle<R>) -> Option<Remembered> {
    let store = app.store(STORE_FILE).ok()?;
    let value = store.get(KEY)?;
    match serde_json::from_value(value) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "the saved session is unreadable; forgetting it");
            store.delete(KEY);
            let _ = store.save();
            None
        }
    }
}

pub fn save<R: Runtime>(app: &AppHandle<R>, remembered: &Remembered) -> Result<(), AppError> {
    let store = app.store(STORE_FILE)?;
    let value = serde_json::to_value(remembered).map_err(|e| AppError::Store(e.to_string()))?;
    store.set(KEY, value);
    prepare_private_file(app);
    // Flush now: autosave is debounced, and a kiosk may lose power right after a sign-in.
    store.save()?;
    Ok(())
}

pub fn clear<R: Runtime>(app: &AppHandle<R>) -> Result<(), AppError> {
    let store = app.store(STORE_FILE)?;
    store.delete(KEY);
    store.save()?;
    Ok(())
}

/// The store plugin writes with the default umask (often 0644) and the file holds a bearer
/// token, so the file is created 0600 before the first write; later writes keep the mode.
fn prepare_private_file<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(unix)]
    if let Ok(dir) = app.path().app_data_dir() {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let path = dir.join(STORE_FILE);
        let _ = std::fs::create_dir_all(&dir);
        let made = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path);
        let fixed = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        if let Err(e) = made.and(fixed) {
            tracing::warn!(error = %e, path = %path.display(), "could not make the session file private");
        }
    }
}
