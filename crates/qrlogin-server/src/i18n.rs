//! The two languages of every human message: zh-CN (Authing's default) and en-US, chosen by
//! `x-authing-lang` on the API and by `Accept-Language` on the approval page.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// `x-authing-lang: en-US` (or any `en*`) selects English; anything else is zh-CN.
    pub fn from_api_headers(headers: &HeaderMap) -> Lang {
        match headers.get("x-authing-lang").and_then(|v| v.to_str().ok()) {
            Some(v) if v.trim().to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The first language of `Accept-Language` that we speak, by its q-value; zh-CN without one.
    pub fn from_accept_language(headers: &HeaderMap) -> Lang {
        let Some(value) = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::Zh;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag.starts_with("zh") {
                Lang::Zh
            } else if tag.starts_with("en") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }

    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, axum::http::HeaderValue::from_static(value));
        h
    }

    #[test]
    fn accept_language_follows_q_values() {
        let h = headers("accept-language", "fr;q=1, en-GB;q=0.8, zh-CN;q=0.5");
        assert_eq!(Lang::from_accept_language(&h), Lang::En);
        let h = headers("accept-language", "zh-TW, en;q=0.9");
        assert_eq!(Lang::from_accept_language(&h), Lang::Zh);
        assert_eq!(Lang::from_accept_language(&HeaderMap::new()), Lang::Zh);
    }

    #[test]
    fn api_lang_defaults_to_chinese() {
        assert_eq!(Lang::from_api_headers(&HeaderMap::new()), Lang::Zh);
        let h = headers("x-authing-lang", "en-US");
        assert_eq!(Lang::from_api_headers(&h), Lang::En);
    }
}
