//! A config edited while the app runs: the layers are loaded again; a file that no longer loads
//! is refused and the values in effect stay; otherwise each changed key either applies at once
//! ([`LIVE_KEYS`]) or waits for the next start, and the caller is told which.

use std::collections::BTreeMap;

use super::{load, Config, ConfigError, ConfigSources};

/// The keys a running app takes over without a restart: the tip texts (`tips.<lang>.<tip>`),
/// which only change words on screen. Everything else (the server, its dialect, the login and
/// kiosk behaviour, the network) is fixed for the backend and the login in flight, and waits for
/// the next start.
pub const LIVE_KEYS: [&str; 1] = ["tips.<lang>.<tip>"];

/// What an edit changed, once it loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Reloaded {
    /// The new config (the caller applies its live part and keeps it for the next comparison).
    pub config: Config,
    /// Changed keys that apply now, dotted (`tips.en.title`).
    pub live: Vec<String>,
    /// Changed keys that apply at the next start.
    pub restart: Vec<String>,
}

impl Reloaded {
    pub fn tips_changed(&self) -> bool {
        !self.live.is_empty()
    }
}

/// Loads `sources` again and compares with `current`. `Ok(None)`: nothing changed (an editor
/// that saved the same text, a touch). `Err`: the edit does not load; keep `current`.
pub fn reload(sources: &ConfigSources, current: &Config) -> Result<Option<Reloaded>, ConfigError> {
    let config = load(sources)?;
    let (live, restart): (Vec<String>, Vec<String>) = changed_keys(current, &config)
        .into_iter()
        .partition(|k| is_live(k));
    if live.is_empty() && restart.is_empty() {
        return Ok(None);
    }
    Ok(Some(Reloaded {
        config,
        live,
        restart,
    }))
}

fn is_live(key: &str) -> bool {
    key.starts_with("tips.")
}

/// The dotted keys whose values differ (tables such as `server.custom_data` count as one key).
/// The app secret, which is never serialized, is compared on its own.
pub fn changed_keys(a: &Config, b: &Config) -> Vec<String> {
    let (fa, fb) = (flatten(a), flatten(b));
    let mut keys: Vec<String> = fa
        .keys()
        .chain(fb.keys())
        .filter(|k| fa.get(*k) != fb.get(*k))
        .cloned()
        .collect();
    if a.server.app_secret != b.server.app_secret {
        keys.push("server.app_secret".into());
    }
    keys.sort();
    keys.dedup();
    keys
}

fn flatten(config: &Config) -> BTreeMap<String, toml::Value> {
    let mut out = BTreeMap::new();
    if let Ok(toml::Value::Table(root)) = toml::Value::try_from(config) {
        walk("", root, &mut out);
    }
    out
}

fn walk(prefix: &str, table: toml::Table, out: &mut BTreeMap<String, toml::Value>) {
    for (key, value) in table {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(t) if key != "custom_data" && key != "context" => {
                walk(&dotted, t, out)
            }
            other => {
                out.insert(dotted, other);
            }
        }
    }
}

/// The files an edit can be made in: the system file and the user's (or the explicit) one, those
/// [`load`] reads. A file that does not exist yet is included: creating it is an edit too.
pub fn watched_files(sources: &ConfigSources) -> Vec<std::path::PathBuf> {
    let file = sources.explicit.as_ref().or(sources.user.as_ref());
    sources.system.iter().chain(file).cloned().collect()
}
