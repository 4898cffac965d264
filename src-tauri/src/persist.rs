//! The remembered session. Its tokens stay on the Rust side, in the token store (the OS keyring,
//! or a file only the user can read); the webview has no store permission at all.

use crate::error::AppError;
use crate::state::AppState;
use crate::token_store::{Location, Mode, TokenStore};
use qrlogin_core::credentials::Credentials;
use qrlogin_core::profile::Profile;
use qrlogin_core::secret::Secret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remembered {
    /// Which server and app issued the token: a session is only restored against the same one.
    pub server: String,
    pub app_id: String,
    /// The API generation, so that a queued revocation can be sent after the config changed.
    #[serde(default)]
    pub dialect: String,
    /// Issued by the embedded server (its URL changes with the port; the app id identifies it).
    #[serde(default)]
    pub embedded: bool,
    pub token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    /// Never leaves Rust: not in events, logs or the webview.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Milliseconds since the Unix epoch: when the access token was issued (0 when unknown,
    /// sessions saved by earlier versions) and when it expires, when the server told us.
    #[serde(default)]
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub profile: Profile,
}

impl Remembered {
    pub fn credentials(&self) -> Credentials {
        let secret = |s: &Option<String>| s.as_deref().filter(|t| !t.is_empty()).map(Secret::new);
        Credentials {
            access_token: Secret::new(self.token.clone()),
            id_token: secret(&self.id_token),
            refresh_token: secret(&self.refresh_token),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }

    /// The same session with refreshed credentials.
    pub fn with_credentials(&self, c: &Credentials) -> Remembered {
        Remembered {
            token: c.access_token.expose().to_string(),
            id_token: c.id_token.as_ref().map(|s| s.expose().to_string()),
            refresh_token: c.refresh_token.as_ref().map(|s| s.expose().to_string()),
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            profile: Profile {
                expires_at: c.expires_at,
                ..self.profile.clone()
            },
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for Remembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remembered")
            .field("server", &self.server)
            .field("app_id", &self.app_id)
            .field("embedded", &self.embedded)
            .field("token", &"***")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

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
