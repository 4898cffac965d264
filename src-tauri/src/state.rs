//! What the shell keeps between commands: the resolved config, the backend (client and, when
//! used, the embedded server), the login attempt in flight and the UI language.

use crate::login::Backend;
use qrlogin_core::config::Config;
use qrlogin_core::session::LoginSession;
use qrlogin_core::tips::{Lang, Tips};
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
