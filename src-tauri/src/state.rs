//! What the shell keeps between commands: the resolved config, the backend (client and, when
//! used, the embedded server), the login attempt in flight and the UI language.

use crate::login::Backend;
use qrlogin_core::config::Config;
use qrlogin_core::session::LoginSession;
use qrlogin_core::tips::{Lang, Tips};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

pub struct AppState {
    pub config: Config,
    pub tips: Tips,
    lang: RwLock<Lang>,
    /// A tokio mutex: switching to the LAN restarts the server across awaits.
    pub backend: tokio::sync::Mutex<Option<Backend>>,
    /// Dropping a `LoginSession` stops its polling, so replacing it cancels the old attempt.
    login: Mutex<Option<LoginSession>>,
    attempts: AtomicU32,
    pub started: Instant,
}

impl AppState {
    pub fn new(config: Config, tips: Tips, lang: Lang) -> Self {
        Self {
            config,
            tips,
            lang: RwLock::new(lang),
            backend: tokio::sync::Mutex::new(None),
            login: Mutex::new(None),
            attempts: AtomicU32::new(0),
            started: Instant::now(),
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
}
