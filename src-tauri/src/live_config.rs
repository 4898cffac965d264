//! Tips at run time: the config files are watched, and an edit's tips reach the window at once;
//! the login in flight keeps running (its next events read the new tips too). A broken edit is
//! refused: the values in effect stay and the log and the window say why. Other changed keys
//! take effect at the next start (qrlogin_core::config::reload::LIVE_KEYS), which both say too.

use crate::state::AppState;
use notify::{RecursiveMode, Watcher};
use qrlogin_core::config::reload::{self, watched_files};
use qrlogin_core::config::{Config, ConfigSources};
use qrlogin_core::events::{LoginEvent, OnScreen, ShownTips};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Sent to the window after each edit of a config file (contracts.md §4).
pub const CONFIG_RELOADED_EVENT: &str = "config-reloaded";

/// Editors write a file in several steps (truncate, write, rename); one reload after they settle.
const SETTLE: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigReloaded {
    /// False: the edit was refused and the previous values stay.
    pub applied: bool,
    /// Why it was refused: file, line, key and what is wrong.
    pub error: Option<String>,
    /// Changed keys that take effect at the next start.
    pub restart: Vec<String>,
    /// The tips of what the window shows, worded anew (when tips changed).
    pub tips: Option<ShownTips>,
}

/// Remembers which tips the window shows, from each login event it is sent.
pub fn note_shown(state: &AppState, event: &LoginEvent, redirecting: bool) {
    if let Ok(mut slot) = state.on_screen.lock() {
        *slot = Some(event.on_screen(redirecting));
    }
}

/// Watches the config files `sources` reads, for the app's life. `current` is the config the
/// app started with. A directory that does not exist cannot be watched: a file created there
/// later is read at the next start.
pub fn watch<R: Runtime>(app: AppHandle<R>, sources: ConfigSources, current: Config) {
    let files = watched_files(&sources);
    let (tx, rx) = mpsc::channel::<()>();
    let targets = files.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if event.paths.iter().any(|p| targets.contains(p)) {
                let _ = tx.send(());
            }
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the config files; edits apply at the next start");
            return;
        }
    };
    let mut watching: Vec<PathBuf> = Vec::new();
    for dir in files.iter().filter_map(|f| f.parent()) {
        if watching.iter().any(|d| d == dir) || !dir.is_dir() {
            continue;
        }
        match watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => watching.push(dir.to_owned()),
            Err(e) => tracing::debug!(error = %e, dir = %dir.display(), "not watched"),
        }
    }
    tracing::info!(files = ?files, "watching the config files for tip edits");
    std::thread::spawn(move || {
        let _watcher = watcher; // dropped, and the watch ended, with this thread
        let mut current = current;
        while rx.recv().is_ok() {
            std::thread::sleep(SETTLE);
            while rx.try_recv().is_ok() {}
            if let Some(outcome) = apply_edit(&app, &sources, &mut current) {
                if let Err(e) = app.emit(CONFIG_RELOADED_EVENT, &outcome) {
                    tracing::debug!(error = %e, "no window to tell of the config edit");
                }
            }
        }
    });
}

/// Loads the files again and applies what can change now; `None` when nothing changed.
pub fn apply_edit<R: Runtime>(
    app: &AppHandle<R>,
    sources: &ConfigSources,
    current: &mut Config,
) -> Option<ConfigReloaded> {
    let state = app.state::<AppState>();
    match reload::reload(sources, current) {
        Ok(None) => None,
        Ok(Some(r)) => {
            if r.tips_changed() {
                state.tips.replace_from_config(&r.config.tips);
            }
            tracing::info!(applied = ?r.live, "config edited");
            if !r.restart.is_empty() {
                tracing::warn!(keys = ?r.restart, "config edited: these keys take effect at the next start");
            }
            let on_screen: Option<OnScreen> = state.on_screen.lock().ok().and_then(|s| *s);
            let tips = on_screen
                .filter(|_| r.tips_changed())
                .map(|s| s.tips_now(&state.tips, state.lang()));
            let outcome = ConfigReloaded {
                applied: true,
                error: None,
                restart: r.restart.clone(),
                tips,
            };
            *current = r.config;
            Some(outcome)
        }
        Err(e) => {
            tracing::warn!(error = %e, "config edit refused; the previous values stay");
            Some(ConfigReloaded {
                applied: false,
                error: Some(e.to_string()),
                restart: Vec::new(),
                tips: None,
            })
        }
    }
}
