//! The app's TOML config: the system file under the user's (or an explicit file), then
//! `QRLOGIN_<SECTION>_<KEY>` environment variables, then command-line `key=value` overrides.
//! A bad file or value stops the app with an error naming the file, the key and the line.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `server.url` | `""` | empty = start the embedded qrlogin-server; else the Authing app domain, oauth host or a self-hosted server |
//! | `server.dialect` | `"v2"` | `wxapp-legacy` \| `app-v1` \| `v2` \| `v3` \| `device` (RFC 8628: `server.url` is the issuer, `app_id` the client id) |
//! | `server.app_id` | `""` | required when `server.url` is set |
//! | `server.user_pool_id` | `""` | the user pool (G2 needs it) |
//! | `server.app_secret` | `""` | optional, for a server-side exchange; prefer `app_secret_file` or `$QRLOGIN_APP_SECRET`; never logged |
//! | `server.app_secret_file` | `""` | a file holding the app secret |
//! | `server.scopes` | `"openid profile offline_access"` | `device`: the scopes to ask for |
//! | `server.scene` | `"APP_AUTH"` | G2/G3 scene; for `v3` the type: `MOBILE_APP` \| `WECHAT_MINIPROGRAM` \| `WECHAT_OFFICIAL_ACCOUNT` |
//! | `server.lan` | `false` | embedded server: listen on the LAN address so a real phone can reach it |
//! | `server.port` | `0` | embedded server port (0 = pick one) |
//! | `server.custom_data` | `{}` | a table sent as `customData` / `params` |
//! | `server.allow_insecure_http` | `false` | allow plain `http://` to another machine |
//! | `server.enable_fetch_phone` | `false` | G1 `enableFetchPhone` |
//! | `server.use_self_wxapp` | `false` | G1 `useSelfWxapp` |
//! | `server.context` | `{}` | G3/G4 `context` |
//! | `server.ext_idp_conn_id` | `""` | G3/G4 `extIdpConnId` |
//! | `login.lang` | `"auto"` | `auto` (system locale) \| `zh-CN` \| `en` |
//! | `login.refresh_cap` | `5` | automatic new QRs per attempt before asking (0 = unlimited) |
//! | `login.poll_interval_ms` | `0` | 0 = the generation's default |
//! | `login.long_poll` | `true` | use long-poll when the server offers it |
//! | `login.after_login` | `"profile"` | `profile` \| `redirect` \| `print-token` \| `command` |
//! | `login.command` | `""` | for `after_login = "command"`: run with the profile in its environment |
//! | `login.redirect_include_token` | `false` | put the token in the redirect URL |
//! | `login.token_store` | `"auto"` | `auto` (OS keyring when one answers, else the 0600 file) \| `keyring` \| `file` |
//! | `tips.<lang>.<tip>` | Authing's texts | `[tips.en]` / `[tips."zh-CN"]`, tips `title scanned canceled expired success success_redirect retry failed` (or Authing's names `tips scannedTips ...`) |
//! | `kiosk.enabled` | `false` | kiosk mode |
//! | `kiosk.idle_sign_out_secs` | `120` | sign out after this long without input |
//! | `kiosk.warn_secs` | `10` | warn this long before the idle sign-out |
//! | `network.ca_file` | `""` | PEM file of CA certificates trusted on top of the OS store |
//! | `network.proxy` | `"system"` | `system` (environment) \| `none` \| `http://`, `https://`, `socks5://` URL |

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dialect::DialectId;
use crate::error::CoreError;
use crate::secret::Secret;
use crate::tips::{Lang, TipKey};

/// Where administrators put the fleet-wide file.
pub const SYSTEM_CONFIG_FILE: &str = "/etc/qrlogin/config.toml";

/// The whole configuration. `Serialize` leaves out `server.app_secret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub login: LoginConfig,
    pub tips: TipsConfig,
    pub kiosk: KioskConfig,
    pub network: NetworkConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub url: String,
    pub dialect: DialectId,
    pub app_id: String,
    pub user_pool_id: String,
    #[serde(skip_serializing)]
    pub app_secret: Secret,
    pub app_secret_file: String,
    pub scene: String,
    /// `device`: the OAuth scopes, space-separated.
    pub scopes: String,
    pub lan: bool,
    pub port: u16,
    pub custom_data: Map<String, Value>,
    /// Allow plain `http://` to a server that is not on this machine (off: https only).
    pub allow_insecure_http: bool,
    /// G1 `enableFetchPhone`: the phone approves with its phone number shared (小登录).
    pub enable_fetch_phone: bool,
    /// G1 `useSelfWxapp`: the QR opens the company's own mini-program, not 身份管家.
    pub use_self_wxapp: bool,
    /// G3/G4 pipeline `context` (empty = not sent).
    pub context: Map<String, Value>,
    /// G3/G4 `extIdpConnId` (empty = not sent).
    pub ext_idp_conn_id: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            dialect: DialectId::G3,
            app_id: String::new(),
            user_pool_id: String::new(),
            app_secret: Secret::default(),
            app_secret_file: String::new(),
            scene: "APP_AUTH".into(),
            scopes: crate::dialect::DEFAULT_SCOPE.into(),
            lan: false,
            port: 0,
            custom_data: Map::new(),
            allow_insecure_http: false,
            enable_fetch_phone: false,
            use_self_wxapp: false,
            context: Map::new(),
            ext_idp_conn_id: String::new(),
        }
    }
}

/// G4 types; G2/G3 scenes map onto them so one `scene` key serves every dialect.
const G4_TYPES: [&str; 3] = [
    "MOBILE_APP",
    "WECHAT_MINIPROGRAM",
    "WECHAT_OFFICIAL_ACCOUNT",
];

impl ServerConfig {
    /// Whether the app runs its own embedded server.
    pub fn is_embedded(&self) -> bool {
        self.url.trim().is_empty()
    }

    /// The app secret, from `app_secret` or else `app_secret_file`; `None` when neither is set.
    /// [`load`] has already read the file, so this only reads it for configs built in code.
    pub fn app_secret(&self) -> Result<Option<Secret>, CoreError> {
        if !self.app_secret.is_empty() {
            return Ok(Some(self.app_secret.clone()));
        }
        if self.app_secret_file.trim().is_empty() {
            return Ok(None);
        }
        read_secret_file(Path::new(&self.app_secret_file))
            .map(Some)
            .map_err(|e| CoreError::Config(e.to_string()))
    }

    /// The G4 `type` for the configured scene (`APP_AUTH` → `MOBILE_APP`, `WXAPP_AUTH` →
    /// `WECHAT_MINIPROGRAM`, `WECHATMP_AUTH` → `WECHAT_OFFICIAL_ACCOUNT`).
    pub fn qr_type(&self) -> &str {
        match self.scene.as_str() {
            "APP_AUTH" | "" => "MOBILE_APP",
            "WXAPP_AUTH" => "WECHAT_MINIPROGRAM",
            "WECHATMP_AUTH" => "WECHAT_OFFICIAL_ACCOUNT",
            other => other,
        }
    }

    /// Copies the generate options into `app`; each generation's request builder picks the
    /// ones it knows (G1 the two flags, G3/G4 `context` and `extIdpConnId`).
    pub fn apply_generate_options(&self, app: &mut crate::dialect::AppParams) {
        app.enable_fetch_phone = self.enable_fetch_phone;
        app.use_self_wxapp = self.use_self_wxapp;
        app.context = (!self.context.is_empty()).then(|| Value::Object(self.context.clone()));
        let conn = self.ext_idp_conn_id.trim();
        app.ext_idp_conn_id = (!conn.is_empty()).then(|| conn.to_owned());
    }

    /// The SDKs word the default title by what the phone scans with.
    pub fn title_variant(&self) -> crate::tips::TitleVariant {
        use crate::tips::TitleVariant;
        match self.dialect {
            DialectId::G1 => TitleVariant::WxappLegacy {
                fetch_phone: self.enable_fetch_phone,
            },
            _ if self.qr_type() != "MOBILE_APP" => TitleVariant::Wechat,
            _ => TitleVariant::App,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    pub lang: LangChoice,
    pub refresh_cap: u32,
    pub poll_interval_ms: u64,
    pub long_poll: bool,
    /// `profile | redirect | print-token | command` (checked by [`Config::validate`]).
    pub after_login: String,
    pub command: String,
    /// For `after_login = "redirect"`: the app's callback URL (G1 servers also send one).
    pub redirect_url: String,
    /// Put the token in the redirect URL (off: the URL carries the profile only).
    pub redirect_include_token: bool,
    /// Where the shell keeps tokens: `auto | keyring | file` (checked by [`Config::validate`]).
    pub token_store: String,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            lang: LangChoice::Auto,
            refresh_cap: 5,
            poll_interval_ms: 0,
            long_poll: true,
            after_login: "profile".into(),
            command: String::new(),
            redirect_url: String::new(),
            redirect_include_token: false,
            token_store: "auto".into(),
        }
    }
}

/// `login.token_store`: the OS keyring (Secret Service) when one answers, else the 0600 file.
pub const TOKEN_STORES: [&str; 3] = ["auto", "keyring", "file"];

pub const AFTER_LOGIN_ACTIONS: [&str; 4] = ["profile", "redirect", "print-token", "command"];

/// `login.lang`: follow the system locale, or a fixed language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LangChoice {
    #[default]
    Auto,
    Fixed(Lang),
}

impl LangChoice {
    pub fn as_str(&self) -> &'static str {
        match self {
            LangChoice::Auto => "auto",
            LangChoice::Fixed(lang) => lang.as_str(),
        }
    }

    /// The language to use now: a fixed one, or the system's.
    pub fn resolve(&self) -> Lang {
        match self {
            LangChoice::Auto => Lang::from_system(),
            LangChoice::Fixed(lang) => *lang,
        }
    }
}

impl fmt::Display for LangChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LangChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LangChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.trim() {
            "" | "auto" => Ok(LangChoice::Auto),
            other => Lang::from_locale(other)
                .map(LangChoice::Fixed)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown language `{other}`, expected `auto`, `zh-CN` or `en`"
                    ))
                }),
        }
    }
}

/// `[tips.en]`, `[tips."zh-CN"]`: overrides of the default tip texts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TipsConfig {
    #[serde(rename = "zh-CN", alias = "zh", alias = "zh_CN", alias = "zh-cn")]
    pub zh_cn: TipTexts,
    #[serde(alias = "en-US", alias = "en_US")]
    pub en: TipTexts,
}

impl TipsConfig {
    pub fn for_lang(&self, lang: Lang) -> &TipTexts {
        match lang {
            Lang::ZhCn => &self.zh_cn,
            Lang::En => &self.en,
        }
    }

    pub fn for_lang_mut(&mut self, lang: Lang) -> &mut TipTexts {
        match lang {
            Lang::ZhCn => &mut self.zh_cn,
            Lang::En => &mut self.en,
        }
    }
}

/// One language's tip overrides; each accepts our name or Authing's option name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TipTexts {
    #[serde(alias = "tips", skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(alias = "scannedTips", skip_serializing_if = "Option::is_none")]
    pub scanned: Option<String>,
    #[serde(alias = "canceledTips", skip_serializing_if = "Option::is_none")]
    pub canceled: Option<String>,
    #[serde(alias = "expiredTips", skip_serializing_if = "Option::is_none")]
    pub expired: Option<String>,
    #[serde(alias = "successTips", skip_serializing_if = "Option::is_none")]
    pub success: Option<String>,
    #[serde(alias = "successRedirectTips", skip_serializing_if = "Option::is_none")]
    pub success_redirect: Option<String>,
    #[serde(alias = "retryTips", skip_serializing_if = "Option::is_none")]
    pub retry: Option<String>,
    #[serde(alias = "failedTips", skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl TipTexts {
    pub fn get(&self, key: TipKey) -> Option<&str> {
        self.slot(key).as_deref()
    }

    fn slot(&self, key: TipKey) -> &Option<String> {
        match key {
            TipKey::Title => &self.title,
            TipKey::Scanned => &self.scanned,
            TipKey::Canceled => &self.canceled,
            TipKey::Expired => &self.expired,
            TipKey::Success => &self.success,
            TipKey::SuccessRedirect => &self.success_redirect,
            TipKey::Retry => &self.retry,
            TipKey::Failed => &self.failed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    pub enabled: bool,
    pub idle_sign_out_secs: u64,
    pub warn_secs: u64,
}

impl Default for KioskConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            idle_sign_out_secs: 120,
            warn_secs: 10,
        }
    }
}

/// How the app reaches a server: whom it trusts and which way it goes out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// A PEM file of one or more CA certificates, trusted on top of the OS store.
    pub ca_file: String,
    /// `system` | `none` | a proxy URL.
    pub proxy: String,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            ca_file: String::new(),
            proxy: "system".into(),
        }
    }
}

/// One documented key, for `--help`, the README and the tests that keep them in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDoc {
    pub key: &'static str,
    /// The default as it would be written in TOML.
    pub default: &'static str,
    pub doc: &'static str,
}

const KEY_DOCS: &[KeyDoc] = &[
    KeyDoc { key: "server.url", default: "\"\"", doc: "empty = start the embedded qrlogin-server; otherwise the Authing app domain (G3/G4), the oauth host (G1/G2) or a self-hosted qrlogin-server" },
    KeyDoc { key: "server.dialect", default: "\"v2\"", doc: "wxapp-legacy | app-v1 | v2 | v3 | device (RFC 8628 with any standard IdP: server.url is the issuer, whose /.well-known/openid-configuration names the endpoints)" },
    KeyDoc { key: "server.app_id", default: "\"\"", doc: "required when server.url is set (device: the OAuth client_id; its secret, if any, is server.app_secret)" },
    KeyDoc { key: "server.user_pool_id", default: "\"\"", doc: "the user pool id (app-v1 needs it)" },
    KeyDoc { key: "server.app_secret", default: "\"\"", doc: "optional (server-side exchange); prefer app_secret_file or $QRLOGIN_APP_SECRET; never logged" },
    KeyDoc { key: "server.app_secret_file", default: "\"\"", doc: "a file whose content is the app secret" },
    KeyDoc { key: "server.scopes", default: "\"openid profile offline_access\"", doc: "device: the scopes asked for (offline_access brings a refresh token)" },
    KeyDoc { key: "server.scene", default: "\"APP_AUTH\"", doc: "G2/G3 scene; for v3 the type: MOBILE_APP | WECHAT_MINIPROGRAM | WECHAT_OFFICIAL_ACCOUNT (APP_AUTH means MOBILE_APP)" },
    KeyDoc { key: "server.lan", default: "false", doc: "embedded server: listen on the LAN address so a real phone can reach it" },
    KeyDoc { key: "server.port", default: "0", doc: "embedded server port (0 = pick one)" },
    KeyDoc { key: "server.custom_data", default: "{}", doc: "a table passed as customData / params" },
    KeyDoc { key: "server.enable_fetch_phone", default: "false", doc: "wxapp-legacy: ask the mini-program for the user's phone number (enableFetchPhone; Authing's 小登录 mini-program); our server then includes the phone in the user" },
    KeyDoc { key: "server.use_self_wxapp", default: "false", doc: "wxapp-legacy: the QR opens your own mini-program instead of 身份管家 (useSelfWxapp)" },
    KeyDoc { key: "server.context", default: "{}", doc: "v2/v3: a table sent as the pipeline `context`" },
    KeyDoc { key: "server.ext_idp_conn_id", default: "\"\"", doc: "v2/v3: the identity-source connection id (extIdpConnId)" },
    KeyDoc { key: "server.allow_insecure_http", default: "false", doc: "allow a plain http:// server.url on another machine (the handle, ticket and token would cross the network in clear); loopback is always allowed, the embedded server is this app's own" },
    KeyDoc { key: "login.lang", default: "\"auto\"", doc: "auto (system locale) | zh-CN | en" },
    KeyDoc { key: "login.refresh_cap", default: "5", doc: "automatic new QRs per attempt before asking (0 = unlimited)" },
    KeyDoc { key: "login.poll_interval_ms", default: "0", doc: "0 = the generation's default" },
    KeyDoc { key: "login.long_poll", default: "true", doc: "long-poll when the server offers it" },
    KeyDoc { key: "login.after_login", default: "\"profile\"", doc: "profile | redirect | print-token | command" },
    KeyDoc { key: "login.command", default: "\"\"", doc: "for after_login = \"command\": run with the profile in its environment" },
    KeyDoc { key: "login.redirect_url", default: "\"\"", doc: "for after_login = \"redirect\": open `{redirect_url}?code=200&data={user JSON}` in the browser; with wxapp-legacy it may stay empty: the server's `redirect` is used" },
    KeyDoc { key: "login.redirect_include_token", default: "false", doc: "put the token in that URL's user JSON; off because a URL lands in the browser's argv (readable by every user), its history and the callback's access logs" },
    KeyDoc { key: "login.token_store", default: "\"auto\"", doc: "where tokens are kept: auto (the OS keyring when one is unlocked, else the file) | keyring | file (0600 in the app's data dir); switching moves what is stored" },
    KeyDoc { key: "tips.<lang>.<tip>", default: "Authing's texts", doc: "[tips.en] / [tips.\"zh-CN\"]; tips: title scanned canceled expired success success_redirect retry failed (Authing's names tips, scannedTips, ... work too); HTML limited to strong em b i br span" },
    KeyDoc { key: "kiosk.enabled", default: "false", doc: "kiosk mode: full screen, sign out when idle" },
    KeyDoc { key: "kiosk.idle_sign_out_secs", default: "120", doc: "sign out after this many seconds without input" },
    KeyDoc { key: "kiosk.warn_secs", default: "10", doc: "warn this many seconds before the idle sign-out" },
    KeyDoc { key: "network.ca_file", default: "\"\"", doc: "a PEM file with one or more CA certificates to trust on top of the operating system's store (a company CA that signs the server's certificate)" },
    KeyDoc { key: "network.proxy", default: "\"system\"", doc: "system (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY from the environment) | none (always direct) | a proxy URL: http://, https://, socks5:// or socks5h:// (DNS through the proxy)" },
];

impl Config {
    /// Every key with its default and meaning (the README's table is [`Config::keys_markdown`]).
    pub fn documented_keys() -> &'static [KeyDoc] {
        KEY_DOCS
    }

    /// The key table as Markdown.
    pub fn keys_markdown() -> String {
        let mut out = String::from("| key | default | meaning |\n|---|---|---|\n");
        for k in KEY_DOCS {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                k.key,
                k.default,
                k.doc.replace('|', "\\|")
            ));
        }
        out
    }

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
        if !AFTER_LOGIN_ACTIONS.contains(&l.after_login.as_str()) {
            return Err(invalid(
                "login.after_login",
                format!(
                    "unknown action `{}`, expected one of {}{}",
                    l.after_login,
                    AFTER_LOGIN_ACTIONS.join(", "),
                    did_you_mean(&l.after_login, &AFTER_LOGIN_ACTIONS)
                ),
            ));
        }
        // A G1 server sends its configured callback with the user, so wxapp-legacy may leave
        // the URL empty; other generations have nowhere else to go.
        let server_redirects = s.dialect == DialectId::G1 && l.redirect_url.trim().is_empty();
        if l.after_login == "redirect" && !server_redirects {
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
        if l.after_login == "command" && l.command.trim().is_empty() {
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

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that is not valid TOML or does not fit the schema.
    #[error("{}:{line}:{column}: {key}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Dotted key (`server.dialect`), or the section for a bad header; empty when unknown.
        key: String,
        message: String,
    },
    /// A bad environment variable or command-line value. `origin` names it, e.g.
    /// `QRLOGIN_SERVER_PORT` or `--set server.port`.
    #[error("{origin}: {key}: {message}")]
    Override {
        origin: String,
        key: String,
        message: String,
    },
    /// Keys that are each fine but do not fit together.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

impl From<ConfigError> for CoreError {
    fn from(e: ConfigError) -> Self {
        CoreError::Config(e.to_string())
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

fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
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

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// The dotted key whose line holds `offset`: the last `[section]` above it plus the text before
/// `=` on the line. Good enough for error messages; the line number is given too.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let line_end = text
        .get(offset..)
        .and_then(|s| s.find('\n'))
        .map(|i| offset + i)
        .unwrap_or(text.len());
    let line = text.get(line_start..line_end).unwrap_or("").trim();
    let header = |l: &str| -> Option<String> {
        let l = l.trim();
        let inner = l.strip_prefix('[')?.split(']').next()?;
        Some(
            inner
                .trim()
                .trim_start_matches('[')
                .replace(['"', '\''], "")
                .replace(' ', ""),
        )
    };
    if line.starts_with('[') {
        return header(line).unwrap_or_default();
    }
    let section = text
        .get(..line_start)
        .unwrap_or("")
        .lines()
        .rev()
        .find_map(|l| l.trim_start().starts_with('[').then(|| header(l)).flatten())
        .unwrap_or_default();
    let name = line
        .split('=')
        .next()
        .unwrap_or("")
        .trim()
        .replace(['"', '\''], "");
    match (section.is_empty(), name.is_empty()) {
        (true, _) => name,
        (false, true) => section,
        (false, false) => format!("{section}.{name}"),
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and "unknown variant"), suggest the
/// closest expected name.
fn unknown_name_hint(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return String::new();
    };
    let Some((given, expected)) = rest.split_once('`') else {
        return String::new();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    did_you_mean(given, &candidates)
}

/// `" (did you mean `x`?)"` when a candidate is within a small edit distance, else `""`.
fn did_you_mean(given: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| (edit_distance(given, c), *c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d > 0 && d <= (given.chars().count() / 3).max(2) => {
            format!(" (did you mean `{c}`?)")
        }
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
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
    fn edit_distance_works() {
        assert_eq!(edit_distance("urll", "url"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("dialcet", &["dialect", "url"]),
            " (did you mean `dialect`?)"
        );
        assert_eq!(did_you_mean("zzzzzz", &["url"]), "");
    }

    #[test]
    fn key_at_finds_section_and_name() {
        let text = "[server]\nurl = \"x\"\n\n[tips.\"zh-CN\"]\ntitle = 1\n";
        assert_eq!(key_at(text, text.find("url").unwrap()), "server.url");
        assert_eq!(
            key_at(text, text.find("title").unwrap() + 8),
            "tips.zh-CN.title"
        );
        assert_eq!(line_col(text, text.find("title").unwrap()), (5, 1));
    }

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
