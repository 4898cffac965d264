//! Builds the core's login client from the resolved config, and starts login attempts. This is
//! the only module that knows how config keys map onto `qrlogin-core` types.

use crate::embedded::Embedded;
use crate::error::AppError;
use qrlogin_core::config::Config;
use qrlogin_core::dialect::DialectId;
use qrlogin_core::session::{Client, ClientOptions, SessionOptions};
use qrlogin_core::tips::{Lang, Tips};
use std::sync::Arc;

/// Where logins go: a configured server, or the embedded one.
pub struct Backend {
    pub client: Arc<Client>,
    pub embedded: Option<Embedded>,
    pub dialect: DialectId,
}

impl Backend {
    pub fn server_url(&self) -> String {
        self.client.base_url().to_string()
    }

    pub fn app_id(&self) -> String {
        self.client.app_id().to_string()
    }
}

pub fn dialect_of(config: &Config) -> DialectId {
    config.server.dialect
}

/// A client for the embedded server: its URL changes with the port and the LAN switch.
pub fn client_for_embedded(config: &Config, embedded: &Embedded, lang: Lang) -> Result<Client, AppError> {
    let opts = ClientOptions {
        base_url: embedded.base_url(),
        dialect: dialect_of(config),
        app_id: embedded.demo.app_id.clone(),
        user_pool_id: Some(embedded.demo.user_pool_id.clone()),
        app_secret: None,
        scene: config.server.scene.clone(),
        custom_data: config.server.custom_data.clone(),
        lang,
        requester: requester(),
    };
    Ok(Client::new(opts)?)
}

/// A client for a configured server (Authing or a self-hosted qrlogin-server).
pub fn client_for_remote(config: &Config, lang: Lang) -> Result<Client, AppError> {
    let opts = ClientOptions {
        base_url: config.server.url.clone(),
        dialect: dialect_of(config),
        app_id: config.server.app_id.clone(),
        user_pool_id: non_empty(&config.server.user_pool_id),
        app_secret: config.server.app_secret()?,
        scene: config.server.scene.clone(),
        custom_data: config.server.custom_data.clone(),
        lang,
        requester: requester(),
    };
    Ok(Client::new(opts)?)
}

pub fn session_options(config: &Config, tips: &Tips, lang: Lang) -> SessionOptions {
    let kiosk = config.kiosk.enabled;
    SessionOptions {
        // A kiosk screen must always show a fresh code; a desk asks after a few so that a
        // forgotten window does not mint codes forever.
        refresh_cap: if kiosk || config.login.refresh_cap == 0 {
            None
        } else {
            Some(config.login.refresh_cap)
        },
        poll_interval: (config.login.poll_interval_ms > 0)
            .then(|| std::time::Duration::from_millis(config.login.poll_interval_ms)),
        long_poll: config.login.long_poll,
        tips: tips.clone(),
        lang,
        ..SessionOptions::default()
    }
}

/// What the approval page shows the person on the phone before they confirm.
fn requester() -> qrlogin_core::session::Requester {
    qrlogin_core::session::Requester {
        device_name: hostname(),
        platform: std::env::consts::OS.to_string(),
        app_name: "qrlogin".into(),
        app_version: env!("CARGO_PKG_VERSION").into(),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this computer".into())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_string())
}
