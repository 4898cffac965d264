//! Loading and layering: the system file, the user's (or an explicit) file, `QRLOGIN_*`
//! environment variables and `--set key=value` overrides, merged key by key (later wins), then
//! checked as a whole.

use std::path::{Path, PathBuf};

use super::diagnostics::{did_you_mean, invalid, key_at, line_col, unknown_name_hint};
use super::schema::SYSTEM_CONFIG_FILE;
use super::{Config, ConfigError};
use crate::lang::Lang;
use crate::secret::Secret;
use crate::tips::TipKey;

/// Where the layers come from. The caller gathers them, so tests can give any environment.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// `--config PATH` or `$QRLOGIN_CONFIG`: replaces the user file and must exist.
    pub explicit: Option<PathBuf>,
    /// Usually [`SYSTEM_CONFIG_FILE`]; skipped when missing.
    pub system: Option<PathBuf>,
    /// Usually `<config dir>/qrlogin/config.toml`; skipped when missing.
    pub user: Option<PathBuf>,
    /// The environment (all of it is fine: only `QRLOGIN_*` is read).
    pub env: Vec<(String, String)>,
    /// Command-line `(dotted.key, value)` pairs, e.g. `("server.url", "https://...")`.
    pub overrides: Vec<(String, String)>,
}

impl ConfigSources {
    /// The standard layout: the system file, `<user_config_dir>/config.toml`, `$QRLOGIN_CONFIG`
    /// unless `explicit` is given, and the process environment.
    pub fn standard(
        user_config_dir: Option<&Path>,
        explicit: Option<PathBuf>,
        overrides: Vec<(String, String)>,
    ) -> Self {
        let explicit = explicit.or_else(|| {
            std::env::var_os("QRLOGIN_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        Self {
            explicit,
            system: Some(PathBuf::from(SYSTEM_CONFIG_FILE)),
            user: user_config_dir.map(|d| d.join("config.toml")),
            env: std::env::vars().collect(),
            overrides,
        }
    }
}

/// Loads the layers in order (later wins, key by key), then checks the result.
pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
    let mut merged = toml::Table::new();
    if let Some(path) = &sources.system {
        if let Some(table) = read_layer(path, false)? {
            merge(&mut merged, table);
        }
    }
    let file = sources.explicit.as_ref().map(|p| (p, true));
    let file = file.or(sources.user.as_ref().map(|p| (p, false)));
    if let Some((path, required)) = file {
        if let Some(table) = read_layer(path, required)? {
            merge(&mut merged, table);
        }
    }

    for (name, value) in &sources.env {
        if let Some(key) = env_key(name) {
            apply_override(&mut merged, &key, value, name)?;
        }
    }
    for (key, value) in &sources.overrides {
        let key = normalize_dotted(key);
        let origin = format!("--set {key}");
        if SECRET_KEYS.contains(&key.as_str()) {
            return Err(ConfigError::Override {
                origin,
                key: key.clone(),
                message: "a secret is not accepted on the command line (every user of this \
                          machine can read it in /proc and the shell history keeps it): put it \
                          in server.app_secret_file or $QRLOGIN_APP_SECRET"
                    .into(),
            });
        }
        if !is_known_key(&key) {
            let flat = all_leaf_keys();
            let known: Vec<&str> = flat.iter().map(String::as_str).collect();
            return Err(ConfigError::Override {
                origin,
                key: key.clone(),
                message: format!("unknown key{}", did_you_mean(&key, &known)),
            });
        }
        apply_override(&mut merged, &key, value, &origin)?;
    }

    let mut config: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| invalid("config", e.message().to_owned()))?;
    config.validate()?;
    if config.server.app_secret.is_empty() && !config.server.app_secret_file.trim().is_empty() {
        config.server.app_secret = read_secret_file(Path::new(&config.server.app_secret_file))?;
    }
    Ok(config)
}

pub(super) fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    // Editors and `echo` add a final newline that is not part of the secret.
    let secret = text.trim();
    if secret.is_empty() {
        return Err(invalid(
            "server.app_secret_file",
            format!("{} is empty", path.display()),
        ));
    }
    Ok(Secret::new(secret))
}

/// Reads and checks one file against the schema, so its errors carry its own name and lines.
fn read_layer(path: &Path, required: bool) -> Result<Option<toml::Table>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    parse_layer(path, &text).map(Some)
}

/// Parses one file's text; `path` is only for messages.
pub fn parse_layer(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    let parse_error = |e: toml::de::Error| {
        let (line, column, key) = match e.span() {
            Some(span) => {
                let (line, column) = line_col(text, span.start);
                (line, column, key_at(text, span.start))
            }
            None => (0, 0, String::new()),
        };
        let message = e.message().trim().to_owned();
        let hint = unknown_name_hint(&message);
        ConfigError::Parse {
            path: path.to_owned(),
            line,
            column,
            key,
            message: format!("{message}{hint}"),
        }
    };
    let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
    // The schema check: the same text as a Config, so typos and wrong types point at their line.
    toml::from_str::<Config>(text).map_err(parse_error)?;
    Ok(table)
}

/// Deep merge: tables merge key by key, anything else is replaced.
fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l))
                if key != "custom_data" && key != "context" =>
            {
                merge(b, l)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

const SECTIONS: [&str; 4] = ["server", "login", "kiosk", "network"];

/// Keys whose value is a secret: accepted from a file or the environment, never from `--set`.
pub const SECRET_KEYS: [&str; 1] = ["server.app_secret"];

/// `QRLOGIN_SERVER_URL` → `server.url`; `QRLOGIN_APP_SECRET` → `server.app_secret`. Other
/// `QRLOGIN_*` names are someone else's (the server binary, the tests) and are ignored.
fn env_key(name: &str) -> Option<String> {
    if name == "QRLOGIN_APP_SECRET" {
        return Some("server.app_secret".into());
    }
    let rest = name.strip_prefix("QRLOGIN_")?.to_ascii_lowercase();
    let (section, key) = rest.split_once('_')?;
    if !SECTIONS.contains(&section) {
        return None;
    }
    let dotted = format!("{section}.{key}");
    is_known_key(&dotted).then_some(dotted)
}

/// `tips."zh-CN".title` and `tips.zh-CN.title` are the same key.
fn normalize_dotted(key: &str) -> String {
    key.trim()
        .split('.')
        .map(|p| p.trim().trim_matches(['"', '\'']))
        .collect::<Vec<_>>()
        .join(".")
}

/// The leaf keys of the default config: `server.url`, ..., `kiosk.warn_secs`.
fn all_leaf_keys() -> Vec<String> {
    let mut keys = Vec::new();
    if let Ok(toml::Value::Table(root)) = toml::Value::try_from(Config::default()) {
        for (section, value) in root {
            if let toml::Value::Table(t) = value {
                for key in t.keys() {
                    keys.push(format!("{section}.{key}"));
                }
            }
        }
    }
    keys.push("server.app_secret".into());
    keys.sort();
    keys
}

fn is_known_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["tips", lang, tip] => Lang::from_locale(lang).is_some() && tip.parse::<TipKey>().is_ok(),
        ["server", "custom_data" | "context", _] => true,
        _ => all_leaf_keys().iter().any(|k| k == key),
    }
}

/// Sets one dotted key from a string, typed like the key's default, and checks it on its own so
/// a bad value is blamed on the variable or flag that gave it.
fn apply_override(
    root: &mut toml::Table,
    key: &str,
    raw: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    let err = |message: String| ConfigError::Override {
        origin: origin.to_owned(),
        key: key.to_owned(),
        message,
    };
    let parts: Vec<&str> = key.split('.').collect();
    let default = default_value(&parts);
    let value = match default {
        Some(toml::Value::Boolean(_)) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" | "" => toml::Value::Boolean(false),
            _ => return Err(err(format!("`{raw}` is not a boolean (true or false)"))),
        },
        Some(toml::Value::Integer(_)) => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| err(format!("`{raw}` is not a whole number")))?,
        Some(toml::Value::Table(_)) => {
            // A whole table given as inline TOML: `server.custom_data={ tenant = "a" }`.
            let doc = format!("v = {raw}");
            let mut parsed: toml::Table = toml::from_str(&doc).map_err(|e| {
                err(format!(
                    "expected an inline table like {{ key = \"value\" }}: {}",
                    e.message()
                ))
            })?;
            match parsed.remove("v") {
                Some(t @ toml::Value::Table(_)) => t,
                _ => {
                    return Err(err(
                        "expected an inline table like { key = \"value\" }".into()
                    ))
                }
            }
        }
        _ => toml::Value::String(raw.to_owned()),
    };

    let mut single = toml::Table::new();
    insert_path(&mut single, &parts, value.clone());
    toml::Value::Table(single)
        .try_into::<Config>()
        .map_err(|e| {
            let message = e.message().trim().to_owned();
            let hint = unknown_name_hint(&message);
            err(format!("{message}{hint}"))
        })?;
    insert_path(root, &parts, value);
    Ok(())
}

fn default_value(parts: &[&str]) -> Option<toml::Value> {
    let mut value = toml::Value::try_from(Config::default()).ok()?;
    for part in parts {
        value = match value {
            toml::Value::Table(mut t) => t.remove(*part)?,
            _ => return None,
        };
    }
    Some(value)
}

fn insert_path(root: &mut toml::Table, parts: &[&str], value: toml::Value) {
    match parts {
        [] => {}
        [last] => {
            root.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let entry = root
                .entry((*first).to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                insert_path(t, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(env_key("QRLOGIN_SERVER_URL").as_deref(), Some("server.url"));
        assert_eq!(
            env_key("QRLOGIN_SERVER_APP_SECRET_FILE").as_deref(),
            Some("server.app_secret_file")
        );
        assert_eq!(
            env_key("QRLOGIN_APP_SECRET").as_deref(),
            Some("server.app_secret")
        );
        assert_eq!(
            env_key("QRLOGIN_KIOSK_WARN_SECS").as_deref(),
            Some("kiosk.warn_secs")
        );
        assert_eq!(env_key("QRLOGIN_CONFIG"), None);
        assert_eq!(env_key("QRLOGIN_SERVER_DATA_DIR"), None);
        assert_eq!(env_key("HOME"), None);
    }
}
