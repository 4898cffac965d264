//! The backend's lifecycle: where logins go (the embedded qrlogin-server with a client for it, or
//! a client for a configured server), started once and as early as possible, moved between
//! loopback and the LAN, switched to another language, and shut down on exit. Commands ask this
//! module; none of them builds, moves or stops a backend itself.

use crate::embedded::Embedded;
use crate::error::AppError;
use crate::login;
use crate::state::AppState;
use qrlogin_core::config::Config;
use qrlogin_core::dialect::DialectId;
use qrlogin_core::session::Client;
use qrlogin_core::tips::Lang;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};

/// Where logins go: a configured server, or the embedded one.
pub struct Backend {
    pub client: Arc<Client>,
    pub embedded: Option<Embedded>,
}

impl Backend {
    pub fn server_url(&self) -> String {
        self.client.config().base_url.clone()
    }

    pub fn app_id(&self) -> String {
        self.client.config().app.app_id.clone()
    }

    pub fn dialect(&self) -> DialectId {
        self.client.dialect()
    }

    /// The same server in another language (tips and `x-authing-lang` follow the switch).
    pub fn relang(&mut self, lang: Lang) -> Result<(), AppError> {
        self.client = Arc::new(login::relang(&self.client, lang)?);
        Ok(())
    }
}

/// What the window and the session code need of the backend at one moment.
#[derive(Clone)]
pub struct Current {
    pub client: Arc<Client>,
    pub embedded: bool,
}

/// Starts the backend before the window exists (from `run`, ahead of GTK, the webview and
/// `setup`): the embedded server's database, migrations and key, or the configured server's
/// client, are made while Tauri builds the window. [`ensure`] takes the result over.
pub fn start_early(state: &AppState, data_dir: PathBuf) {
    let config = state.config.clone();
    let lang = state.lang();
    let task = tauri::async_runtime::spawn(async move {
        let backend = build(&config, lang, &data_dir).await?;
        Ok::<_, AppError>((data_dir, backend))
    });
    *state
        .early_backend
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(task);
}

/// The embedded server and its client, or the client for the configured server.
async fn build(config: &Config, lang: Lang, data_dir: &Path) -> Result<Backend, AppError> {
    let backend = if config.server.url.trim().is_empty() {
        let embedded = Embedded::start(data_dir, config.server.lan, config.server.port).await?;
        crate::startup::mark("server-ready");
        let client = login::client_for_embedded(config, &embedded, lang)?;
        Backend {
            client: Arc::new(client),
            embedded: Some(embedded),
        }
    } else {
        let client = login::client_for_remote(config, lang)?;
        Backend {
            client: Arc::new(client),
            embedded: None,
        }
    };
    crate::startup::mark("backend-ready");
    Ok(backend)
}

/// Makes sure there is a backend: takes over the one [`start_early`] began, or starts the
/// embedded server when no server is configured, or the client for the configured one. Called
/// from `setup` and by every command that needs it, which then waits on the same lock.
pub async fn ensure<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<(), AppError> {
    let mut slot = state.backend.lock().await;
    if slot.is_some() {
        return Ok(());
    }
    let data_dir = app.path().app_data_dir()?;
    let early = state
        .early_backend
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let early = match early {
        Some(task) => match task.await {
            Ok(result) => Some(result?),
            Err(e) => {
                tracing::warn!(error = %e, "the early backend start did not finish; starting again");
                None
            }
        },
        None => None,
    };
    let mut backend = match early {
        Some((dir, backend)) if dir == data_dir => backend,
        Some((dir, backend)) => {
            // Not where Tauri keeps this app's data (cannot happen while settings.rs and Tauri
            // agree on the directory); start over in the right place.
            tracing::warn!(early = %dir.display(), data = %data_dir.display(), "the early backend used another data dir");
            if let Some(embedded) = backend.embedded {
                embedded.shutdown().await;
            }
            build(&state.config, state.lang(), &data_dir).await?
        }
        None => build(&state.config, state.lang(), &data_dir).await?,
    };
    if backend.client.config().app.lang != state.lang() {
        backend.relang(state.lang())?;
    }
    *slot = Some(backend);
    drop(slot);
    // Revocations that earlier runs could not deliver go out now that the server is known.
    crate::signed_in::after_start(app);
    Ok(())
}

/// The client logins use now (started first if need be).
pub async fn current<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
) -> Result<Current, AppError> {
    ensure(app, state).await?;
    peek(state)
        .await
        .ok_or_else(|| AppError::Server("no server".into()))
}

/// The current backend if there is one, without starting it.
pub async fn peek(state: &AppState) -> Option<Current> {
    let backend = state.backend.lock().await;
    backend.as_ref().map(|b| Current {
        client: b.client.clone(),
        embedded: b.embedded.is_some(),
    })
}

/// Moves the embedded server between loopback and the LAN address. A failed move comes back on
/// loopback, so the window keeps working, and reports why. The attempt in flight is stopped
/// (its QR carries the old address); the caller starts a new one.
pub async fn set_lan<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    enabled: bool,
) -> Result<(), AppError> {
    ensure(app, state).await?;
    state.replace_login(None);
    let mut slot = state.backend.lock().await;
    let Some(backend) = slot.take() else {
        return Err(AppError::Server("no server".into()));
    };
    let Backend { embedded, client } = backend;
    let Some(embedded) = embedded else {
        *slot = Some(Backend {
            client,
            embedded: None,
        });
        return Err(AppError::NotAvailable(
            "the LAN switch is for the embedded server".into(),
        ));
    };
    let port = state.config.server.port;
    let (moved, result) = match embedded.set_lan(enabled, port).await {
        Ok(moved) => (moved, Ok(())),
        Err(e) => {
            // The old listener is gone; come back on loopback.
            let data_dir = app.path().app_data_dir()?;
            (Embedded::start(&data_dir, false, port).await?, Err(e))
        }
    };
    let client = login::client_for_embedded(&state.config, &moved, state.lang())?;
    *slot = Some(Backend {
        client: Arc::new(client),
        embedded: Some(moved),
    });
    result
}

/// Tips and the server's language follow the window's language from the next request on.
pub async fn set_lang(state: &AppState, lang: Lang) -> Result<(), AppError> {
    state.set_lang(lang);
    let mut backend = state.backend.lock().await;
    if let Some(b) = backend.as_mut() {
        b.relang(lang)?;
    }
    Ok(())
}

/// On exit: stop the attempt, then the embedded server, so that held long-polls are answered
/// and SQLite is closed.
pub async fn shutdown(state: &AppState) {
    state.replace_login(None);
    if let Some(backend) = state.backend.lock().await.take() {
        if let Some(embedded) = backend.embedded {
            embedded.shutdown().await;
        }
    }
}
