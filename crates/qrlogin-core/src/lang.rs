//! The languages the engine speaks (`zh-CN`, `en`): parsing tags and POSIX locales, the
//! system's choice, and the names used in config, events and Authing's `x-authing-lang` header.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The languages we have texts for. Chinese is the default because it is Authing's default
/// (`lang === 'zh-CN'`); the app normally picks from the system locale with [`Lang::from_system`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The tag used in config, the UI and events: `zh-CN` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The value of Authing's `x-authing-lang` header.
    pub fn authing_header(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en-US",
        }
    }

    /// Reads a language tag or a POSIX locale: `zh-CN`, `zh`, `zh_TW.UTF-8`, `en`, `en-US`,
    /// `en_GB.UTF-8@euro`. `None` for other languages and for `C`/`POSIX`.
    pub fn from_locale(s: &str) -> Option<Lang> {
        let s = s.trim();
        // Drop the encoding and modifier: "zh_CN.UTF-8@pinyin" → "zh_CN".
        let s = s.split(['.', '@']).next().unwrap_or("");
        let primary = s
            .split(['_', '-'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Same as [`Lang::from_locale`], under the name the shell uses.
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::from_locale(s)
    }

    /// The language of the user's session, from the POSIX variables in their precedence order.
    pub fn from_system() -> Lang {
        Self::from_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`Lang::from_system`] with the environment given, for tests. A locale in another language
    /// (say `de_DE`) gets English, which more readers of such a system share than Chinese;
    /// no locale at all (`C`, unset) keeps Authing's default.
    pub fn from_env_lookup(lookup: impl Fn(&str) -> Option<String>) -> Lang {
        // LANGUAGE is a priority list ("de:en"), honoured by gettext before the others.
        if let Some(list) = lookup("LANGUAGE").filter(|v| !v.is_empty()) {
            if let Some(lang) = list.split(':').find_map(Lang::from_locale) {
                return lang;
            }
        }
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(value) = lookup(name).filter(|v| !v.trim().is_empty()) {
                let base = value.split(['.', '@']).next().unwrap_or("");
                if base == "C" || base == "POSIX" {
                    return Lang::default();
                }
                return Lang::from_locale(&value).unwrap_or(Lang::En);
            }
        }
        Lang::default()
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language tag we have no texts for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language (expected zh-CN or en) `{0}`")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::from_locale(s).ok_or_else(|| UnknownLang(s.to_owned()))
    }
}

impl Serialize for Lang {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parsing() {
        for (s, want) in [
            ("zh-CN", Some(Lang::ZhCn)),
            ("zh", Some(Lang::ZhCn)),
            ("zh_CN.UTF-8", Some(Lang::ZhCn)),
            ("zh_TW.UTF-8", Some(Lang::ZhCn)),
            ("en", Some(Lang::En)),
            ("en-US", Some(Lang::En)),
            ("en_GB.UTF-8@euro", Some(Lang::En)),
            ("EN", Some(Lang::En)),
            ("de_DE.UTF-8", None),
            ("C", None),
            ("", None),
        ] {
            assert_eq!(Lang::from_locale(s), want, "{s}");
        }
        assert_eq!(Lang::default(), Lang::ZhCn);
        assert_eq!(Lang::En.authing_header(), "en-US");
    }

    #[test]
    fn lang_from_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_env_lookup(env(&[])), Lang::ZhCn);
        assert_eq!(
            Lang::from_env_lookup(env(&[("LANG", "C.UTF-8")])),
            Lang::ZhCn
        );
        assert_eq!(
            Lang::from_env_lookup(env(&[("LANG", "en_US.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_env_lookup(env(&[("LANG", "de_DE.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_env_lookup(env(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "zh_CN.UTF-8")])),
            Lang::ZhCn
        );
        assert_eq!(
            Lang::from_env_lookup(env(&[("LANG", "zh_CN.UTF-8"), ("LANGUAGE", "fr:en")])),
            Lang::En
        );
    }
}
