//! Tip texts shown around the QR (Authing's `tips`, `scannedTips`, ...): defaults per language,
//! overrides from config or at run time, and the sanitizer that keeps them safe for `innerHTML`.

use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TipKey {
    Title,
    Scanned,
    Canceled,
    Expired,
    Success,
    SuccessRedirect,
    Retry,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

#[derive(Debug, Clone, Default)]
pub struct Tips {
    inner: Arc<RwLock<()>>,
}

impl Tips {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: TipKey, lang: Lang) -> String {
        let _ = (&self.inner, key, lang);
        String::new()
    }

    pub fn set(&self, key: TipKey, lang: Option<Lang>, html: &str) {
        let _ = (key, lang, html);
    }
}

pub fn sanitize(html: &str) -> String {
    ammonia::Builder::empty()
        .add_tags(["strong", "em", "b", "i", "br", "span"])
        .clean(html)
        .to_string()
}
