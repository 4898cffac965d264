//! The config's schema: one struct per `[section]`, their defaults and the helpers that read
//! them. Loading is in `load`, cross-key checks in `validate`, the key table in `keys`.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dialect::DialectId;
use crate::error::CoreError;
use crate::lang::Lang;
use crate::secret::Secret;
pub use crate::tips::TipsConfig;

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
pub(super) const G4_TYPES: [&str; 3] = [
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
    /// [`load`](super::load()) has already read the file, so this only reads it for configs built in code.
    pub fn app_secret(&self) -> Result<Option<Secret>, CoreError> {
        if !self.app_secret.is_empty() {
            return Ok(Some(self.app_secret.clone()));
        }
        if self.app_secret_file.trim().is_empty() {
            return Ok(None);
        }
        super::load::read_secret_file(Path::new(&self.app_secret_file))
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
            // Authing's "use APP scan code login" names an app the device flow never uses.
            DialectId::Device => TitleVariant::Device,
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
    /// `profile | redirect | print-token | command`.
    pub after_login: AfterLogin,
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
            after_login: AfterLogin::Profile,
            command: String::new(),
            redirect_url: String::new(),
            redirect_include_token: false,
            token_store: "auto".into(),
        }
    }
}

/// `login.token_store`: the OS keyring (Secret Service) when one answers, else the 0600 file.
pub const TOKEN_STORES: [&str; 3] = ["auto", "keyring", "file"];

pub use crate::after_login::AfterLogin;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    pub enabled: bool,
    pub idle_sign_out_secs: u64,
    pub warn_secs: u64,
    /// At a sign-out, the page's web process is replaced by a new one once its private memory
    /// has grown this much (MiB) past what it held after its first page; 0 = at every sign-out.
    /// WebKit keeps some of what each login allocates for as long as the process lives
    /// (docs/soak/kiosk/NOTES.md), and only a new process gives it back.
    pub web_process_budget_mib: u64,
}

impl Default for KioskConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            idle_sign_out_secs: 120,
            warn_secs: 10,
            web_process_budget_mib: 64,
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
