//! Resolves what the app runs with, before any window exists: the config layers (system file,
//! user file, $QRLOGIN_CONFIG or --config, environment, flags), the tips and the language.

use crate::cli::Cli;
use qrlogin_core::config::{self, Config, ConfigSources};
use qrlogin_core::tips::{Lang, Tips};
use std::path::PathBuf;

/// Must match `identifier` in tauri.conf.json: Tauri derives its data and log dirs from it, and
/// qrlogin-cli finds the shared session store by it.
pub use qrlogin_core::paths::IDENTIFIER;

pub struct Settings {
    pub config: Config,
    pub tips: Tips,
    pub lang: Lang,
    pub log_dir: PathBuf,
    /// Where the config came from, to load it again after an edit (live_config.rs).
    pub sources: ConfigSources,
}

pub fn resolve(cli: &Cli) -> Result<Settings, String> {
    let sources = ConfigSources::standard(
        Some(&user_config_dir()),
        cli.config.clone(),
        cli.overrides(),
    );
    let config = config::load(&sources).map_err(|e| e.to_string())?;
    if !config.server.is_embedded() {
        crate::login::network_options(&config).map_err(|e| e.to_string())?;
    }
    let lang = config.login.lang.resolve();
    let tips = Tips::from_config(&config.tips);
    tips.set_title_variant(config.server.title_variant());
    Ok(Settings {
        config,
        tips,
        lang,
        log_dir: app_data_dir().join("logs"),
        sources,
    })
}

pub use qrlogin_core::paths::{app_data_dir, user_config_dir};
