//! The commands the UI calls (through ui/bridge.js only). Each is thin: it hands the work to the
//! module that owns it (backend.rs: the server's lifecycle; attempts.rs: login attempts;
//! signed_in.rs: the session) and gives back plain data. Generic over the runtime so that tests run them on
//! Tauri's mock runtime.

use crate::attempts;
use crate::backend;
use crate::error::AppError;
use crate::remembered_at_start;
use crate::revocation_queue::Outcome;
use crate::signed_in::{self, SignOutResult};
use crate::state::AppState;
use qrlogin_core::events::LoginEvent;
use qrlogin_core::profile::Profile;
use qrlogin_core::tips::Lang;
use serde::Serialize;
use tauri::ipc::{Channel, JavaScriptChannelId};
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
    /// A session is remembered, so `restore_session` has something to check. `false`: the page
    /// goes to the QR (`start_login`, unless `login_started`).
    pub remembered: bool,
    /// Nothing is remembered and the call brought a channel (`onEvent`): the first attempt's
    /// events go to it, as after `start_login` (the QR the shell made while the page loaded comes
    /// at once), so the page needs no second call before the QR.
    pub login_started: bool,
    /// This page replaced one that a kiosk sign-out reloaded: what that sign-out did at the
    /// server (`revoked` | `pending` | `localOnly`), for the QR screen's notice; else null.
    pub signed_out: Option<Outcome>,
    /// A benchmark writes a paint log (`QRLOGIN_PAINT_LOG`): the page reports its start-up marks
    /// after its first QR paint.
    pub paint_log: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCredentials {
    pub username: String,
    pub password: String,
}

async fn info_of(state: &AppState, remembered: bool, login_started: bool) -> AppInfo {
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
    drop(backend);
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
        remembered,
        login_started,
        signed_out: None,
        paint_log: crate::paint_log::enabled(),
    }
}

/// The page's first question. With `onEvent` (a Channel) and nothing remembered, it also starts
/// the login on that channel (see [`app_info_with`]).
#[tauri::command]
pub async fn app_info<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    webview: tauri::Webview<R>,
    on_event: Option<JavaScriptChannelId>,
) -> Result<AppInfo, AppError> {
    let channel = on_event.map(|id| id.channel_on(webview));
    app_info_with(&app, &state, channel).await
}

/// `app_info`: the first question of a start is answered from the token store's reading at start
/// (waiting for it if need be, remembered_at_start.rs); a later one (a reloaded page) reads the
/// store again. With nothing remembered and a `channel`, the first attempt (the one the shell
/// started while the page loaded) is handed to it: one round trip from the page's script to its
/// QR. With a session remembered, the attempt the shell may have started is withdrawn.
pub async fn app_info_with<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    channel: Option<Channel<LoginEvent>>,
) -> Result<AppInfo, AppError> {
    crate::startup::mark("app-info");
    backend::ensure(app, state).await?;
    let remembered = if attempts::page_has_asked(state) {
        remembered_at_start::now(app).await
    } else {
        remembered_at_start::wait(app).await
    };
    let login_started = if remembered {
        attempts::claim_for_restore(state);
        false
    } else if let Some(channel) = channel {
        let current = backend::current(app, state).await?;
        attempts::start_for_page(app, state, current, channel);
        true
    } else {
        false
    };
    let mut info = info_of(state, remembered, login_started).await;
    info.signed_out = state
        .signed_out_for_next_page
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    Ok(info)
}

/// The remembered session, if the server still takes it (signed_in.rs: refreshed first when
/// near expiry; a session the server ended is forgotten and the window told).
#[tauri::command]
pub async fn restore_session<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<Profile>, AppError> {
    backend::ensure(&app, &state).await?;
    signed_in::restore(&app, &state).await
}

/// Starts an attempt whose events go to `on_event`; the first call of a start takes over the
/// attempt the shell began before the page asked (attempts.rs).
#[tauri::command]
pub async fn start_login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    on_event: Channel<LoginEvent>,
) -> Result<(), AppError> {
    let current = backend::current(&app, &state).await?;
    attempts::start_for_page(&app, &state, current, on_event);
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
    let mut result = signed_in::sign_out(&app, &state, why).await?;
    if state.config.kiosk.enabled && result.server.is_some() {
        // The next person gets a page that never showed this one's profile: the page reloads,
        // and the new one says how this sign-out went.
        *state
            .signed_out_for_next_page
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = result.server;
        result.fresh_page = true;
        renew_web_process_past_budget(&app).await;
    }
    Ok(result)
}

/// A kiosk's sign-out: the page's web process is replaced once it has grown past
/// `kiosk.web_process_budget_mib` (web_process_budget.rs). The page then starts over in the new
/// process and never reads this command's answer; if the process cannot be ended, the page
/// reloads itself on `freshPage` as usual.
async fn renew_web_process_past_budget<R: Runtime>(app: &AppHandle<R>) {
    let budget = app.state::<AppState>().config.kiosk.web_process_budget_mib;
    let handle = app.clone();
    let over = tauri::async_runtime::spawn_blocking(move || {
        handle.state::<AppState>().web_process.over_budget(budget)
    })
    .await
    .ok()
    .flatten();
    let (Some(over), Some(window)) = (over, app.get_webview_window("main")) else {
        return;
    };
    if crate::web_process::renew(&window).await {
        tracing::info!(
            pid = over.pid,
            grown_mib = over.grown_kib / 1024,
            budget_mib = budget,
            "renewed the page's web process at the sign-out: it had grown past its budget"
        );
    }
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

/// Moves the embedded server to the LAN address or back; the page starts a new attempt after
/// (the QR must carry the new address).
#[tauri::command]
pub async fn set_lan<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<AppInfo, AppError> {
    backend::set_lan(&app, &state, enabled).await?;
    let remembered = remembered_at_start::now(&app).await;
    Ok(info_of(&state, remembered, false).await)
}

#[tauri::command]
pub async fn set_lang(state: State<'_, AppState>, lang: String) -> Result<(), AppError> {
    let lang = Lang::parse(&lang)
        .ok_or_else(|| AppError::Config(format!("unknown language {lang:?}: use zh-CN or en")))?;
    backend::set_lang(&state, lang).await
}

/// The page reports paints here so that benchmarks can measure start-to-QR and confirm-to-profile
/// on one monotonic clock; the log records them too.
#[tauri::command]
pub fn ui_painted<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    what: String,
    ago_ms: Option<f64>,
) {
    if let Some(ago) = ago_ms {
        // One of the page's start-up marks, sent after the QR was painted (app.js).
        crate::paint_log::record_ago(&format!("startup-page-{what}"), ago);
        return;
    }
    crate::startup::painted();
    if state.config.kiosk.enabled && what == "qr" {
        // The web process's size after its first page, the kiosk's budget's baseline; off the
        // UI thread (this command runs on it), /proc is read there.
        tauri::async_runtime::spawn_blocking(move || app.state::<AppState>().web_process.painted());
    }
    let since_start = state.started.elapsed();
    tracing::info!(what = %what, ms = since_start.as_secs_f64() * 1000.0, "painted");
    crate::paint_log::record(&what);
}
