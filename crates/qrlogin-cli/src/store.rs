//! The remembered session, in the file the desktop app uses: `$XDG_DATA_HOME/dev.qrlogin.desktop/
//! session.json` (else `~/.local/share/…`), mode 0600, JSON `{session: {server, app_id, dialect,
//! embedded, token, id_token, refresh_token, issued_at, expires_at, profile}, revocations: []}`
//! (the app's `token_store.rs` Vault on branch h11d). The app's keyring mode is not spoken here
//! yet: the CLI reads and writes the file only. Unknown fields are kept as they are.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const IDENTIFIER: &str = "dev.qrlogin.desktop";
pub const STORE_FILE: &str = "session.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Remembered {
    pub server: String,
    pub app_id: String,
    #[serde(default)]
    pub dialect: String,
    #[serde(default)]
    pub embedded: bool,
    pub token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub profile: Value,
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(fallback)
        })
}

pub fn user_config_dir() -> PathBuf {
    xdg("XDG_CONFIG_HOME", ".config").join("qrlogin")
}

pub fn path() -> PathBuf {
    xdg("XDG_DATA_HOME", ".local/share")
        .join(IDENTIFIER)
        .join(STORE_FILE)
}

fn read_all() -> Map<String, Value> {
    std::fs::read(path())
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

pub fn load() -> Option<Remembered> {
    read_all()
        .get("session")
        .cloned()
        .and_then(|s| serde_json::from_value(s).ok())
}

/// Saves (or with `None` forgets) the session, keeping the rest of the file.
pub fn save(session: Option<&Remembered>) -> Result<(), String> {
    let mut all = read_all();
    match session {
        Some(s) => {
            all.insert(
                "session".into(),
                serde_json::to_value(s).map_err(|e| e.to_string())?,
            );
        }
        None => {
            all.insert("session".into(), Value::Null);
        }
    }
    let p = path();
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tmp = p.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(&Value::Object(all)).map_err(|e| e.to_string())?;
    write_private(&tmp, &text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &p).map_err(|e| format!("{}: {e}", p.display()))
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
