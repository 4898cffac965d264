//! The commands the UI calls (through ui/bridge.js only). Each is thin: it asks the core or the
//! embedded server and hands back plain data. Generic over the runtime so that tests run them on
//! Tauri's mock runtime.

use crate::after_login::{self, AfterLogin};
use crate::embedded::Embedded;
use crate::error::AppError;
use crate::login::{self, Backend};
use crate::signed_in::{self, SignOutResult};
use crate::state::AppState;
use qrlogin_core::events::LoginEvent;
use qrlogin_core::profile::Profile;
use qrlogin_core::session::LoginSession;
use qrlogin_core::tips::Lang;
use serde::Serialize;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KioskInfo {
    pub enabled: bool,
    pub idle_sign_out_secs: u64,
    pub warn_secs: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub embedded: bool,
    pub lan: bool,
    pub url: String,
    pub dialect: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub lang: String,
    pub kiosk: KioskInfo,
    pub server: ServerInfo,
    pub demo: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCredentials {
    pub username: String,
    pub password: String,
}

/// Makes sure there is a backend: starts the embedded server on first use when no server is
/// configured. Lazy, so that a window can paint before the server is up.
pub async fn ensure_backend<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
) -> Result<(), AppError> {
    let mut slot = state.backend.lock().await;
    if slot.is_some() {
        return Ok(());
    }
    let config = &state.config;
    let backend = if config.server.url.trim().is_empty() {
        let data_dir = app.path().app_data_dir()?;
        let embedded = Embedded::start(&data_dir, config.server.lan, config.server.port).await?;
        crate::startup::mark("server-ready");
        let client = login::client_for_embedded(config, &embedded, state.lang())?;
        Backend {
            client: Arc::new(client),
            embedded: Some(embedded),
        }
    } else {
        let client = login::client_for_remote(config, state.lang())?;
        Backend {
            client: Arc::new(client),
            embedded: None,
        }
    };
    *slot = Some(backend);
    drop(slot);
    // Revocations that earlier runs could not deliver go out now that the server is known.
    signed_in::after_start(app);
    crate::startup::mark("backend-ready");
    Ok(())
}

async fn info_of(state: &AppState) -> AppInfo {
    let backend = state.backend.lock().await;
    let k = &state.config.kiosk;
    let (embedded, lan, url, dialect) = match backend.as_ref() {
        Some(b) => (
            b.embedded.is_some(),
            b.embedded.as_ref().map(|e| e.lan).unwrap_or(false),
            b.server_url(),
            b.dialect().as_str().to_string(),
        ),
        None => (false, false, String::new(), String::new()),
    };
    AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        lang: state.lang().as_str().into(),
        kiosk: KioskInfo {
            enabled: k.enabled,
            idle_sign_out_secs: k.idle_sign_out_secs,
            warn_secs: k.warn_secs,
        },
        server: ServerInfo {
            embedded,
            lan,
            url,
            dialect,
        },
        demo: embedded,
    }
}

#[tauri::command]
pub async fn app_info<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<AppInfo, AppError> {
    crate::startup::mark("app-info");
    ensure_backend(&app, &state).await?;
    Ok(info_of(&state).await)
}

/// The remembered session, if the server still takes it (signed_in.rs: refreshed first when
/// near expiry; a session the server ended is forgotten and the window told).
#[tauri::command]
pub async fn restore_session<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<Profile>, AppError> {
    ensure_backend(&app, &state).await?;
    signed_in::restore(&app, &state).await
}

#[tauri::command]
pub async fn start_login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    on_event: Channel<LoginEvent>,
) -> Result<(), AppError> {
    ensure_backend(&app, &state).await?;
    let (client, embedded) = {
        let backend = state.backend.lock().await;
        let b = backend
            .as_ref()
            .ok_or_else(|| AppError::Server("no server".into()))?;
        (b.client.clone(), b.embedded.is_some())
    };
    let attempt = state.next_attempt();
    let opts = login::session_options(&state.config, &state.tips, state.lang(), attempt);
    let redirecting = opts.redirecting;
    let action = AfterLogin::parse(&state.config.login.after_login);
    let command = state.config.login.command.clone();
    let redirect_url = state.config.login.redirect_url.clone();
    let include_token = state.config.login.redirect_include_token;
    let handle = app.clone();
    let issuer = client.clone();
    crate::startup::mark("login-started");
    let sink = move |event: LoginEvent| {
        if let LoginEvent::QrReady { generation: 1, .. } = &event {
            crate::startup::mark("qr-ready");
        }
        if let LoginEvent::LoggedIn {
            profile,
            session,
            redirect,
            ..
        } = &event
        {
            signed_in::remember(&handle, &issuer, embedded, profile, session);
            tracing::info!(user = %profile.id, "signed in");
            after_login::run(
                &handle,
                action,
                profile,
                session,
                after_login::Redirect {
                    // The configured callback wins; a G1 server's own `redirect` otherwise.
                    url: Some(redirect_url.as_str())
                        .filter(|u| !u.trim().is_empty())
                        .or(redirect.as_deref()),
                    include_token,
                },
                &command,
            );
        }
        crate::live_config::note_shown(&handle.state::<AppState>(), &event, redirecting);
        if let Err(e) = on_event.send(event) {
            tracing::debug!(error = %e, "the window is gone; dropping a login event");
        }
    };
    let session = LoginSession::start(client, opts, sink);
    state.replace_login(Some(session));
    Ok(())
}

#[tauri::command]
pub async fn cancel_login(state: State<'_, AppState>) -> Result<(), AppError> {
    state.replace_login(None);
    Ok(())
}

/// Signs out here at once and at the server when it answers (`reason`: `button` | `idle`, for
/// the log). The result says which (signed_in.rs).
#[tauri::command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reason: Option<String>,
) -> Result<SignOutResult, AppError> {
    let why = reason.as_deref().unwrap_or("button");
    signed_in::sign_out(&app, &state, why).await
}

#[tauri::command]
pub async fn demo_credentials(state: State<'_, AppState>) -> Result<DemoCredentials, AppError> {
    let demo = {
        let backend = state.backend.lock().await;
        backend
            .as_ref()
            .and_then(|b| b.embedded.as_ref())
            .map(|e| e.demo_account())
            .ok_or_else(|| {
                AppError::NotAvailable("the demo account exists only on the embedded server".into())
            })?
    };
    // Just after a first start the demo user may still be in the making (without the lock held).
    let demo = demo.await?;
    Ok(DemoCredentials {
        username: demo.username,
        password: demo.password,
    })
}

#[tauri::command]
pub async fn set_lan<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<AppInfo, AppError> {
    ensure_backend(&app, &state).await?;
    state.replace_login(None);
    {
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
        let moved = match embedded.set_lan(enabled, state.config.server.port).await {
            Ok(m) => m,
            Err(e) => {
                // The old listener is gone; come back on loopback so the window keeps working.
                let data_dir = app.path().app_data_dir()?;
                let fallback = Embedded::start(&data_dir, false, state.config.server.port).await?;
                let client = login::client_for_embedded(&state.config, &fallback, state.lang())?;
                *slot = Some(Backend {
                    client: Arc::new(client),
                    embedded: Some(fallback),
                });
                return Err(e);
            }
        };
        let client = login::client_for_embedded(&state.config, &moved, state.lang())?;
        *slot = Some(Backend {
            client: Arc::new(client),
            embedded: Some(moved),
        });
    }
    Ok(info_of(&state).await)
}

#[tauri::command]
pub async fn set_lang(state: State<'_, AppState>, lang: String) -> Result<(), AppError> {
    let lang = Lang::parse(&lang)
        .ok_or_else(|| AppError::Config(format!("unknown language {lang:?}: use zh-CN or en")))?;
    state.set_lang(lang);
    let mut backend = state.backend.lock().await;
    if let Some(b) = backend.as_mut() {
        b.relang(lang)?;
    }
    Ok(())
}

/// The page reports paints here so that benchmarks can measure start-to-QR and confirm-to-profile
/// on one monotonic clock; the log records them too.
#[tauri::command]
pub fn ui_painted(state: State<'_, AppState>, what: String) {
    let since_start = state.started.elapsed();
    tracing::info!(what = %what, ms = since_start.as_secs_f64() * 1000.0, "painted");
    crate::paint_log::record(&what);
}
