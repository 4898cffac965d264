//! The app's config file for one scenario (`$QRLOGIN_CONFIG`), built key by key and written as
//! TOML. Keys are the dotted names of `qrlogin_core::config` (`server.url`, `login.refresh_cap`,
//! `kiosk.enabled`, `tips.en.tips`, ...).

use crate::server::TestServer;

#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    root: toml::Table,
}

impl AppConfig {
    pub fn new() -> Self {
        Self::default()
    }

    /// Points the app at `server` with its test app, speaking `dialect`, in language `lang`.
    pub fn for_server(server: &TestServer, dialect: &str, lang: &str) -> Self {
        Self::new()
            .set("server.url", server.base_url())
            .set("server.dialect", dialect)
            .set("server.app_id", server.app_id())
            .set("server.user_pool_id", server.user_pool_id())
            .set("login.lang", lang)
    }

    /// Sets a dotted key (`a.b.c`; a segment may itself contain no dots, so `tips.zh-CN.tips` works).
    pub fn set(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        let mut parts: Vec<&str> = key.split('.').collect();
        let last = parts.pop().expect("a non-empty key");
        let mut table = &mut self.root;
        for p in parts {
            table = table
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap_or_else(|| panic!("config key {key}: {p} is not a table"));
        }
        table.insert(last.to_string(), value.into());
        self
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(&self.root).expect("a TOML table always serializes")
    }
}
