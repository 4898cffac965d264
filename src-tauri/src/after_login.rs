//! What happens once someone is signed in, for integration: show the profile (the default),
//! redirect to the app's callback in the system browser, print the token for a script, or run a
//! command with the profile in its environment.

use qrlogin_core::profile::AuthSession;
use qrlogin_core::profile::Profile;
use serde::Serialize;
use tauri::{AppHandle, Runtime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLogin {
    Profile,
    Redirect,
    PrintToken,
    Command,
}

impl AfterLogin {
    pub fn parse(s: &str) -> Self {
        match s {
            "redirect" => AfterLogin::Redirect,
            "print-token" => AfterLogin::PrintToken,
            "command" => AfterLogin::Command,
            _ => AfterLogin::Profile,
        }
    }
}

/// The user JSON a script or a redirect target gets: the profile with the server's photo URL (not
/// the UI's data URL, which is kilobytes of base64) and the token, as Authing's G1 poll returns it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserWithToken<'a> {
    id: &'a str,
    username: Option<&'a str>,
    nickname: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    photo: Option<&'a str>,
    expires_at: Option<i64>,
    token: &'a str,
}

pub fn user_json(profile: &Profile, session: &AuthSession) -> String {
    serde_json::to_string(&UserWithToken {
        id: &profile.id,
        username: profile.username.as_deref(),
        nickname: profile.nickname.as_deref(),
        email: profile.email.as_deref(),
        phone: profile.phone.as_deref(),
        photo: session.photo_url.as_deref(),
        expires_at: session.expires_at.or(profile.expires_at),
        token: session.token.expose(),
    })
    .unwrap_or_default()
}

pub fn run<R: Runtime>(
    app: &AppHandle<R>,
    action: AfterLogin,
    profile: &Profile,
    session: &AuthSession,
    redirect_url: Option<&str>,
    command: &str,
) {
    match action {
        AfterLogin::Profile => {}
        AfterLogin::PrintToken => {
            // stdout is the script's channel; the token never goes to the log.
            println!("{}", user_json(profile, session));
            app.exit(0);
        }
        AfterLogin::Redirect => match redirect_url.filter(|u| !u.is_empty()) {
            Some(base) => {
                let target = redirect_target(base, &user_json(profile, session));
                if let Err(e) = open_in_browser(&target) {
                    tracing::error!(error = %e, "could not open the browser for the redirect");
                }
            }
            None => tracing::warn!("after_login = redirect but no redirect URL is known"),
        },
        AfterLogin::Command => {
            if command.trim().is_empty() {
                tracing::warn!("after_login = command but login.command is empty");
                return;
            }
            let mut cmd = std::process::Command::new("sh");
            cmd.arg("-c").arg(command);
            // The environment, not argv: other users can read a process's argv but not its env.
            cmd.env("QRLOGIN_USER_ID", &profile.id)
                .env(
                    "QRLOGIN_USERNAME",
                    profile.username.as_deref().unwrap_or(""),
                )
                .env(
                    "QRLOGIN_NICKNAME",
                    profile.nickname.as_deref().unwrap_or(""),
                )
                .env("QRLOGIN_EMAIL", profile.email.as_deref().unwrap_or(""))
                .env("QRLOGIN_PHONE", profile.phone.as_deref().unwrap_or(""))
                .env("QRLOGIN_TOKEN", session.token.expose());
            match cmd.spawn() {
                Ok(child) => tracing::info!(pid = child.id(), "after-login command started"),
                Err(e) => tracing::error!(error = %e, "after-login command failed to start"),
            }
        }
    }
}

/// `{redirect}?code=200&data={user JSON}` as the G1 SDK does, but URL-encoded (the SDK's
/// unencoded JSON breaks on `&` and `#` in a nickname).
pub fn redirect_target(base: &str, user_json: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            u.query_pairs_mut()
                .append_pair("code", "200")
                .append_pair("data", user_json);
            u.to_string()
        }
        Err(_) => base.to_string(),
    }
}

fn open_in_browser(target: &str) -> std::io::Result<()> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(target)
        .spawn()
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_target_encodes_the_user_json() {
        let t = redirect_target("https://app.example/cb", r#"{"nickname":"a&b #c"}"#);
        assert!(t.starts_with("https://app.example/cb?code=200&data="));
        assert!(!t.contains("a&b"), "raw & would split the query: {t}");
        let parsed = url::Url::parse(&t).unwrap();
        let data = parsed.query_pairs().find(|(k, _)| k == "data").unwrap().1;
        assert_eq!(data, r#"{"nickname":"a&b #c"}"#);
    }

    #[test]
    fn user_json_has_the_photo_url_and_token_but_not_the_avatar_data() {
        let profile = Profile {
            id: "u1".into(),
            username: Some("alice".into()),
            avatar: Some("data:image/png;base64,AAAA".into()),
            ..Profile::default()
        };
        let session = AuthSession {
            token: qrlogin_core::secret::Secret::new("tok"),
            id_token: None,
            refresh_token: None,
            expires_at: Some(42),
            photo_url: Some("https://cdn.example/a.png".into()),
        };
        let v: serde_json::Value = serde_json::from_str(&user_json(&profile, &session)).unwrap();
        assert_eq!(v["token"], "tok");
        assert_eq!(v["photo"], "https://cdn.example/a.png");
        assert_eq!(v["username"], "alice");
        assert_eq!(v["expiresAt"], 42);
        assert!(!v.to_string().contains("data:image"), "{v}");
    }

    #[test]
    fn unknown_after_login_falls_back_to_profile() {
        assert_eq!(AfterLogin::parse("nonsense"), AfterLogin::Profile);
        assert_eq!(AfterLogin::parse("print-token"), AfterLogin::PrintToken);
    }
}
