//! `login.after_login`: what a front end does once someone is signed in. One typed value, read
//! from the config once; front ends match on it instead of comparing strings.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterLogin {
    /// Show the profile (the default).
    #[default]
    Profile,
    /// Open the app's callback in the system browser with the user (`login.redirect_url`).
    Redirect,
    /// Print the user JSON with the token on stdout for a script, then exit.
    PrintToken,
    /// Run `login.command` with the profile in its environment.
    Command,
}

impl AfterLogin {
    pub const ALL: [AfterLogin; 4] = [
        AfterLogin::Profile,
        AfterLogin::Redirect,
        AfterLogin::PrintToken,
        AfterLogin::Command,
    ];

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AfterLogin::Profile => "profile",
            AfterLogin::Redirect => "redirect",
            AfterLogin::PrintToken => "print-token",
            AfterLogin::Command => "command",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }
}

impl fmt::Display for AfterLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AfterLogin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AfterLogin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        AfterLogin::parse(&s).ok_or_else(|| {
            let names = Self::ALL.map(AfterLogin::as_str);
            serde::de::Error::custom(format!(
                "unknown after_login action `{s}`, expected one of {}{}",
                names.join(", "),
                crate::config::did_you_mean(&s, &names)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_as_itself_and_a_typo_is_refused_with_a_hint() {
        for a in AfterLogin::ALL {
            let v: AfterLogin = serde_json::from_value(serde_json::json!(a.as_str())).unwrap();
            assert_eq!(v, a);
        }
        let err = serde_json::from_value::<AfterLogin>(serde_json::json!("profil")).unwrap_err();
        assert!(err.to_string().contains("did you mean `profile`?"), "{err}");
    }
}
