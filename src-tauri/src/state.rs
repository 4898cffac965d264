//! What the shell keeps between commands: the resolved config, the backend (client and, when
//! used, the embedded server), the login attempt in flight and the UI language.

use crate::attempts::First;
use crate::backend::Backend;
use crate::revocation_queue::Outcome;
use qrlogin_core::config::Config;
use qrlogin_core::refresh::SessionKeeper;
use qrlogin_core::session::LoginSession;
use qrlogin_core::session_store::TokenStore;
use qrlogin_core::tips::{Lang, Tips};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

/// The early backend start: the data dir it used and the backend.
pub type EarlyBackend =
    tauri::async_runtime::JoinHandle<Result<(std::path::PathBuf, Backend), crate::error::AppError>>;

pub struct AppState {
    pub config: Config,
    pub tips: Tips,
    lang: RwLock<Lang>,
    /// A tokio mutex: switching to the LAN restarts the server across awaits.
    pub backend: tokio::sync::Mutex<Option<Backend>>,
    /// The backend being started before the window exists (backend::start_early), until
    /// `backend::ensure` takes it over.
    pub early_backend: Mutex<Option<EarlyBackend>>,
    /// Dropping a `LoginSession` stops its polling, so replacing it cancels the old attempt.
    login: Mutex<Option<LoginSession>>,
    /// The first attempt of this start: started by the shell ahead of the page, or not.
    pub first: Mutex<First>,
    /// Whether the token store held a session when this start read it (`None` until it
    /// answered; remembered_at_start.rs).
    pub remembered_at_start: Arc<tokio::sync::watch::Sender<Option<bool>>>,
    /// The read above was started (once per start).
    pub store_read_started: AtomicBool,
    attempts: AtomicU32,
    pub started: Instant,
    /// Where tokens are kept; opened on first use (it needs the app's data dir).
    pub token_store: OnceLock<Arc<TokenStore>>,
    /// Refreshes the signed-in session's token in the background; dropping it stops that.
    keeper: Mutex<Option<SessionKeeper>>,
    /// Whether the background retry of queued revocations is running, and that task.
    pub revoker_running: AtomicBool,
    revoker: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// Which tips the window shows now, so a tip edited meanwhile is shown again (live_config.rs).
    pub on_screen: Mutex<Option<qrlogin_core::events::OnScreen>>,
    /// A kiosk sign-out's result at the server, for the page that reloads after it: its
    /// `app_info` takes it and the QR screen says "Signed out.".
    pub signed_out_for_next_page: Mutex<Option<Outcome>>,
    /// The page's web process's size after its first page (a kiosk renews it past a budget).
    pub web_process: crate::web_process_budget::Tracker,
}

impl AppState {
    pub fn new(config: Config, tips: Tips, lang: Lang) -> Self {
        Self {
            config,
            tips,
            lang: RwLock::new(lang),
            backend: tokio::sync::Mutex::new(None),
            early_backend: Mutex::new(None),
            login: Mutex::new(None),
            first: Mutex::new(First::default()),
            remembered_at_start: Arc::new(tokio::sync::watch::channel(None).0),
            store_read_started: AtomicBool::new(false),
            attempts: AtomicU32::new(0),
            started: Instant::now(),
            token_store: OnceLock::new(),
            keeper: Mutex::new(None),
            revoker_running: AtomicBool::new(false),
            revoker: Mutex::new(None),
            on_screen: Mutex::new(None),
            signed_out_for_next_page: Mutex::new(None),
            web_process: Default::default(),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang.read().map(|l| *l).unwrap_or_default()
    }

    pub fn set_lang(&self, lang: Lang) {
        if let Ok(mut l) = self.lang.write() {
            *l = lang;
        }
    }

    /// Numbers login attempts from 1 over the app's life (a retry is a new attempt).
    pub fn next_attempt(&self) -> u32 {
        self.attempts.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Installs a new attempt, dropping (and so cancelling) the previous one.
    pub fn replace_login(&self, next: Option<LoginSession>) {
        let old = match self.login.lock() {
            Ok(mut slot) => std::mem::replace(&mut *slot, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        };
        if let Some(old) = old {
            old.cancel();
        }
    }

    /// Whether an attempt is installed and still running.
    pub fn login_running(&self) -> bool {
        let slot = self.login.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().is_some_and(|s| !s.is_finished())
    }

    /// Installs the keeper of a new session (or none), stopping the previous one.
    pub fn set_keeper(&self, next: Option<SessionKeeper>) {
        let old = match self.keeper.lock() {
            Ok(mut slot) => std::mem::replace(&mut *slot, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        };
        drop(old);
    }

    /// Remembers the background revocation task (or none), aborting the previous one.
    pub fn set_revoker(&self, next: Option<tauri::async_runtime::JoinHandle<()>>) {
        let old = match self.revoker.lock() {
            Ok(mut slot) => std::mem::replace(&mut *slot, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        };
        if let Some(task) = old {
            task.abort();
        }
    }
}
