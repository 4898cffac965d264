//! Resolves what the app runs with, before any window exists: the config layers (system file,
//! user file, $QRLOGIN_CONFIG or --config, environment, flags), the tips and the language.

use crate::cli::Cli;
use qrlogin_core::config::{self, Config, ConfigSources};
use qrlogin_core::tips::{Lang, Tips};
use std::path::PathBuf;

/// Must match `identifier` in tauri.conf.json: Tauri derives its data and log dirs from it.
pub const IDENTIFIER: &str = "dev.qrlogin.desktop";

pub struct Settings {
    pub config: Config,
    pub tips: Tips,
    pub lang: Lang,
    pub log_dir: PathBuf,
}

pub fn resolve(cli: &Cli) -> Result<Settings, String> {
    let sources = ConfigSources {
        explicit: cli.config.clone().or_else(|| std::env::var_os("QRLOGIN_CONFIG").map(PathBuf::from)),
        system: Some(PathBuf::from("/etc/qrlogin/config.toml")),
        user: Some(user_config_dir().join("config.toml")),
        env: std::env::vars().collect(),
        overrides: cli.overrides(),
    };
    let config = config::load(&sources).map_err(|e| e.to_string())?;
    let lang = match config.login.lang.as_str() {
        "" | "auto" => system_lang(),
        other => Lang::parse(other).ok_or_else(|| format!("login.lang: unknown language {other:?} (use auto, zh-CN or en)"))?,
    };
    let tips = Tips::from_config(&config.tips);
    Ok(Settings { config, tips, lang, log_dir: data_dir().join(IDENTIFIER).join("logs") })
}

/// The language of the desktop session: LC_ALL, then LC_MESSAGES, then LANG (POSIX order).
pub fn system_lang() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .and_then(|v| Lang::parse(&v))
        .unwrap_or(Lang::En)
}

pub fn user_config_dir() -> PathBuf {
    xdg("XDG_CONFIG_HOME", ".config").join("qrlogin")
}

fn data_dir() -> PathBuf {
    xdg("XDG_DATA_HOME", ".local/share")
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| {
            std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp")).join(fallback)
        })
}
