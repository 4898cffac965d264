//! Builds the core's login client from the resolved config, and the options of each attempt.
//! This is the only module that knows how config keys map onto `qrlogin-core` types.

use crate::embedded::Embedded;
use crate::error::AppError;
use qrlogin_core::config::Config;
use qrlogin_core::dialect::Requester;
use qrlogin_core::http::{self, NetworkOptions, ProxyChoice, ReqwestTransport};
use qrlogin_core::session::SessionOptions;
use qrlogin_core::session::{Client, ClientConfig};
use qrlogin_core::tips::{Lang, Tips};
use std::sync::Arc;

/// The same server in another language (tips and `x-authing-lang` follow the switch), over the
/// same HTTP client: same trust, same proxy, same open connections.
pub fn relang(client: &Client, lang: Lang) -> Result<Client, AppError> {
    let mut config = client.config().clone();
    config.app.lang = lang;
    Ok(over(config, client.http().clone())?)
}

/// A client for the embedded server: its URL changes with the port and the LAN switch.
pub fn client_for_embedded(
    config: &Config,
    embedded: &Embedded,
    lang: Lang,
) -> Result<Client, AppError> {
    let mut cc = base_config(config, embedded.base_url(), lang);
    // The embedded server is this process's own. On loopback plain http is allowed anyway; in
    // LAN mode its address is this machine's LAN address, which the phone reaches over plain
    // http too: LAN mode is for trying qrlogin out on a trusted network (README), a fleet uses
    // a remote https server.
    cc.allow_insecure_http = true;
    cc.app.app_id = embedded.demo.app_id.clone();
    cc.app.user_pool_id = Some(embedded.demo.user_pool_id.clone());
    // This machine or its LAN, never through a proxy; its plain-HTTP URL needs no CA.
    let direct = NetworkOptions {
        ca_file: None,
        proxy: ProxyChoice::Direct,
    };
    let http = http::build_client_with(&cc.limits, &direct)?;
    Ok(over(cc, http)?)
}

/// A client for a configured server (Authing or a self-hosted qrlogin-server).
pub fn client_for_remote(config: &Config, lang: Lang) -> Result<Client, AppError> {
    let mut cc = base_config(config, config.server.url.trim().to_string(), lang);
    cc.app.app_id = config.server.app_id.trim().to_string();
    cc.app.user_pool_id = non_empty(&config.server.user_pool_id);
    cc.app_secret = config.server.app_secret()?;
    let http = http::build_client_with(&cc.limits, &network_options(config)?)?;
    Ok(over(cc, http)?)
}

/// `[network]` as the core's HTTP options; also run at start-up so that a bad CA file or proxy
/// stops the app with the key's name before a window opens.
pub fn network_options(config: &Config) -> Result<NetworkOptions, AppError> {
    let n = &config.network;
    let options = NetworkOptions::from_config(&n.ca_file, &n.proxy)?;
    options.extra_roots()?;
    Ok(options)
}

/// The core's client over `http` (its trust store and proxy already set).
fn over(cc: ClientConfig, http: reqwest::Client) -> Result<Client, qrlogin_core::error::CoreError> {
    let transport = Arc::new(ReqwestTransport::new(http.clone(), &cc.limits));
    Client::with_transport(cc, transport, http)
}

fn base_config(config: &Config, base_url: String, lang: Lang) -> ClientConfig {
    let server = &config.server;
    let mut cc = ClientConfig::new(base_url, server.dialect, String::new());
    cc.app.scene = server.scene.clone();
    cc.app.qr_type = server.qr_type().to_string();
    cc.app.custom_data = server.custom_data.clone();
    cc.app.scope = server.scopes.clone();
    server.apply_generate_options(&mut cc.app);
    cc.app.lang = lang;
    cc.allow_insecure_http = server.allow_insecure_http;
    // What the approval page shows the person on the phone before they confirm.
    cc.requester = Some(Requester::this_machine(
        "qrlogin",
        env!("CARGO_PKG_VERSION"),
    ));
    cc
}

pub fn session_options(config: &Config, tips: &Tips, lang: Lang, attempt: u32) -> SessionOptions {
    let kiosk = config.kiosk.enabled;
    SessionOptions {
        attempt,
        // A kiosk must always show a fresh code; a desk asks after a few, so that a forgotten
        // window does not mint codes forever.
        refresh_cap: if kiosk || config.login.refresh_cap == 0 {
            None
        } else {
            Some(config.login.refresh_cap)
        },
        poll_interval: (config.login.poll_interval_ms > 0)
            .then(|| std::time::Duration::from_millis(config.login.poll_interval_ms)),
        long_poll: config.login.long_poll,
        // Nobody is at a kiosk to press Retry: it shows `retrying` for as long as it takes. A
        // desk offers the button after the visible retries and keeps trying slowly behind it.
        visible_retries: if kiosk {
            None
        } else {
            SessionOptions::default().visible_retries
        },
        tips: tips.clone(),
        lang,
        redirecting: config.login.after_login == qrlogin_core::config::AfterLogin::Redirect,
        ..SessionOptions::default()
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kiosk_retries_visibly_forever_and_a_desk_offers_retry_after_a_while() {
        let mut config = Config::default();
        let tips = Tips::default();
        let desk = session_options(&config, &tips, Lang::En, 1);
        assert_eq!(desk.visible_retries, Some(6));
        config.kiosk.enabled = true;
        let kiosk = session_options(&config, &tips, Lang::En, 1);
        assert_eq!(
            kiosk.visible_retries, None,
            "nobody is at a kiosk to press Retry"
        );
        assert_eq!(kiosk.refresh_cap, None);
    }

    #[test]
    fn plain_http_follows_the_config_key_for_remote_servers() {
        let mut config = Config::default();
        config.server.url = "http://login.example.com".into();
        config.server.app_id = "app1".into();
        assert!(client_for_remote(&config, Lang::En).is_err());
        config.server.allow_insecure_http = true;
        assert!(client_for_remote(&config, Lang::En).is_ok());
    }
}
