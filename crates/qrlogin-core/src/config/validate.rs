//! Checks across keys that types alone cannot express (a URL needs an app id, a redirect needs
//! a URL, ...), each naming the key to fix.

use super::diagnostics::{did_you_mean, invalid};
use super::schema::{AfterLogin, G4_TYPES, TOKEN_STORES};
use super::{Config, ConfigError};
use crate::dialect::DialectId;

impl Config {
    /// Checks across keys that types alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if !s.is_embedded() {
            match url::Url::parse(s.url.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => {
                    return Err(invalid(
                        "server.url",
                        format!(
                        "`{}` is not an http(s) URL (leave it empty to use the embedded server)",
                        s.url
                    ),
                    ))
                }
            }
            if let Ok(u) = url::Url::parse(s.url.trim()) {
                if crate::http::is_insecure_remote(&u) && !s.allow_insecure_http {
                    return Err(invalid(
                        "server.url",
                        format!(
                            "`{}` is plain http to another machine: the sign-in would cross the \
                             network in clear. Use https, or set server.allow_insecure_http = true",
                            s.url
                        ),
                    ));
                }
            }
            if s.app_id.trim().is_empty() {
                return Err(invalid(
                    "server.app_id",
                    "required when server.url is set (the app id from the Authing console or `qrlogin-server app add`)",
                ));
            }
        }
        if !s.app_secret.is_empty() && !s.app_secret_file.trim().is_empty() {
            return Err(invalid(
                "server.app_secret_file",
                "set either server.app_secret or server.app_secret_file, not both",
            ));
        }
        if s.scene.trim().is_empty() {
            return Err(invalid(
                "server.scene",
                "must not be empty (default APP_AUTH)",
            ));
        }
        if s.dialect == DialectId::G4 && !G4_TYPES.contains(&s.qr_type()) {
            return Err(invalid(
                "server.scene",
                format!(
                    "`{}` is not a v3 QR type; use one of {}",
                    s.scene,
                    G4_TYPES.join(", ")
                ),
            ));
        }
        let l = &self.login;
        // A G1 server sends its configured callback with the user, so wxapp-legacy may leave
        // the URL empty; other generations have nowhere else to go.
        let server_redirects = s.dialect == DialectId::G1 && l.redirect_url.trim().is_empty();
        if l.after_login == AfterLogin::Redirect && !server_redirects {
            if let Err(e) = url::Url::parse(l.redirect_url.trim()) {
                return Err(invalid(
                    "login.redirect_url",
                    format!("required when login.after_login = \"redirect\" ({e})"),
                ));
            }
        }
        if !TOKEN_STORES.contains(&l.token_store.as_str()) {
            return Err(invalid(
                "login.token_store",
                format!(
                    "unknown store `{}`, expected one of {}{}",
                    l.token_store,
                    TOKEN_STORES.join(", "),
                    did_you_mean(&l.token_store, &TOKEN_STORES)
                ),
            ));
        }
        if l.after_login == AfterLogin::Command && l.command.trim().is_empty() {
            return Err(invalid(
                "login.command",
                "required when login.after_login = \"command\"",
            ));
        }
        if let Err(e) = crate::http::ProxyChoice::parse(&self.network.proxy) {
            return Err(invalid("network.proxy", e));
        }
        let k = &self.kiosk;
        if k.enabled {
            if k.idle_sign_out_secs == 0 {
                return Err(invalid("kiosk.idle_sign_out_secs", "must be more than 0"));
            }
            if k.warn_secs >= k.idle_sign_out_secs {
                return Err(invalid(
                    "kiosk.warn_secs",
                    format!(
                        "must be less than kiosk.idle_sign_out_secs ({})",
                        k.idle_sign_out_secs
                    ),
                ));
            }
        }
        Ok(())
    }
}
