//! Where every front end finds the user's config and the app's data on Linux, as the desktop
//! (Tauri) derives them: `$XDG_CONFIG_HOME/qrlogin` and `$XDG_DATA_HOME/<identifier>`.

use std::path::PathBuf;

/// The app's identifier: Tauri's `identifier` (tauri.conf.json), the data dir's name and the
/// keyring entry's service.
pub const IDENTIFIER: &str = "dev.qrlogin.desktop";

/// `<config dir>/qrlogin`: the user's `config.toml` is in here.
pub fn user_config_dir() -> PathBuf {
    xdg("XDG_CONFIG_HOME", ".config").join("qrlogin")
}

/// `<data dir>/dev.qrlogin.desktop`: the session file, the embedded server's database, logs.
pub fn app_data_dir() -> PathBuf {
    xdg("XDG_DATA_HOME", ".local/share").join(IDENTIFIER)
}

/// An XDG base directory: the variable when it holds an absolute path (the spec says to ignore
/// a relative one), else `$HOME/<fallback>`.
fn xdg(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp"))
                .join(fallback)
        })
}
