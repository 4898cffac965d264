//! The one error type of the shell. It crosses the IPC boundary as `{kind, message}`, so the UI
//! can show a message without ever seeing internals (paths are fine, secrets never are).

use serde::ser::SerializeStruct;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("configuration error: {0}")]
    Config(String),
    #[error("the embedded server could not start: {0}")]
    Server(String),
    #[error("{0}")]
    Login(#[from] qrlogin_core::error::CoreError),
    #[error("could not read or write the saved session: {0}")]
    Store(String),
    #[error("{0}")]
    NotAvailable(String),
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
}

impl AppError {
    /// A stable, machine-readable kind for the UI and for tests.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Config(_) => "config",
            AppError::Server(_) => "server",
            AppError::Login(e) => e.kind().as_str(),
            AppError::Store(_) => "store",
            AppError::NotAvailable(_) => "notAvailable",
            AppError::Tauri(_) => "internal",
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("AppError", 2)?;
        s.serialize_field("kind", self.kind())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

impl From<tauri_plugin_store::Error> for AppError {
    fn from(e: tauri_plugin_store::Error) -> Self {
        AppError::Store(e.to_string())
    }
}
