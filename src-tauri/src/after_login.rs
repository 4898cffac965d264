//! What happens once someone is signed in, for integration: show the profile (the default),
//! redirect to the app's callback in the system browser (tauri-plugin-opener), print the token
//! for a script, or run a command with the profile in its environment (tokio::process). Every
//! child process is waited for (no zombies pile up on a kiosk that signs people in all day) and
//! its exit status is logged.

use qrlogin_core::profile::AuthSession;
use qrlogin_core::profile::Profile;
use serde::Serialize;
use tauri::{AppHandle, Runtime};

/// `login.after_login`, typed once when the config is read.
pub use qrlogin_core::config::AfterLogin;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

/// The user JSON with the token (for `--print-token`, where stdout is the script's channel).
pub fn user_json(profile: &Profile, session: &AuthSession) -> String {
    user_json_with(profile, session, true)
}

/// The user JSON, with the token only when `with_token`.
pub fn user_json_with(profile: &Profile, session: &AuthSession, with_token: bool) -> String {
    serde_json::to_string(&UserWithToken {
        id: &profile.id,
        username: profile.username.as_deref(),
        nickname: profile.nickname.as_deref(),
        email: profile.email.as_deref(),
        phone: profile.phone.as_deref(),
        photo: session.photo_url.as_deref(),
        expires_at: session.expires_at.or(profile.expires_at),
        token: with_token.then(|| session.token.expose()),
    })
    .unwrap_or_default()
}

pub fn run<R: Runtime>(
    app: &AppHandle<R>,
    action: AfterLogin,
    profile: &Profile,
    session: &AuthSession,
    redirect: Redirect<'_>,
    command: &str,
) {
    match action {
        AfterLogin::Profile => {}
        AfterLogin::PrintToken => {
            // stdout is the script's channel; the token never goes to the log.
            println!("{}", user_json(profile, session));
            app.exit(0);
        }
        AfterLogin::Redirect => match redirect.url.filter(|u| !u.is_empty()) {
            Some(base) => {
                // A URL lands in the browser's argv, its history and the callback's access log:
                // the token goes in only when the config says so.
                let data = user_json_with(profile, session, redirect.include_token);
                open_in_browser(app, redirect_target(base, &data));
            }
            None => tracing::warn!("after_login = redirect but no redirect URL is known"),
        },
        AfterLogin::Command => {
            if command.trim().is_empty() {
                tracing::warn!("after_login = command but login.command is empty");
                return;
            }
            let mut cmd = tokio::process::Command::new("sh");
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
            match spawn_reaped(cmd, "after-login command") {
                Ok(pid) => tracing::info!(pid, "after-login command started"),
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

/// Where `after_login = "redirect"` goes and whether the token may go with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Redirect<'a> {
    pub url: Option<&'a str>,
    /// `login.redirect_include_token`
    pub include_token: bool,
}

/// Opens `target` in the system browser through the opener plugin (xdg-open and its peers; the
/// launcher is waited for, so it leaves no zombie). Off the runtime's workers: the plugin waits
/// a moment to see whether the launcher failed. The URL is not logged: it may carry the token.
fn open_in_browser<R: Runtime>(app: &AppHandle<R>, target: String) {
    use tauri_plugin_opener::OpenerExt;
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        match handle.opener().open_url(target, None::<&str>) {
            Ok(()) => tracing::info!("redirect opened in the browser"),
            Err(e) => tracing::error!(error = %e, "could not open the browser for the redirect"),
        }
    });
}

/// Starts `cmd` and waits for it in the background, logging how it ended, so the child never
/// stays a zombie. Called from a login event, i.e. inside the app's tokio runtime; without one
/// (never in the app) a thread does the waiting.
pub fn spawn_reaped(mut cmd: tokio::process::Command, what: &'static str) -> std::io::Result<u32> {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            let _enter = rt.enter();
            let mut child = cmd.spawn()?;
            let pid = child.id().unwrap_or_default();
            rt.spawn(async move {
                match child.wait().await {
                    Ok(status) => tracing::info!(pid, %status, "{what} exited"),
                    Err(e) => tracing::warn!(pid, error = %e, "{what}: cannot wait for it"),
                }
            });
            Ok(pid)
        }
        Err(_) => {
            let mut child = cmd.as_std_mut().spawn()?;
            let pid = child.id();
            std::thread::spawn(move || match child.wait() {
                Ok(status) => tracing::info!(pid, %status, "{what} exited"),
                Err(e) => tracing::warn!(pid, error = %e, "{what}: cannot wait for it"),
            });
            Ok(pid)
        }
    }
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
    fn the_redirect_url_carries_no_token_unless_asked() {
        let profile = Profile {
            id: "u1".into(),
            ..Profile::default()
        };
        let session = AuthSession {
            token: qrlogin_core::secret::Secret::new("eyJ.redirect-tok.sig"),
            id_token: None,
            refresh_token: None,
            expires_at: None,
            photo_url: None,
        };
        let url = redirect_target(
            "https://app.example/cb",
            &user_json_with(&profile, &session, false),
        );
        assert!(!url.contains("redirect-tok"), "{url}");
        assert!(url.contains("u1"), "{url}");
        let url = redirect_target(
            "https://app.example/cb",
            &user_json_with(&profile, &session, true),
        );
        assert!(url.contains("redirect-tok"), "{url}");
    }

    /// Children of this process that have exited but were not waited for.
    fn zombie_children() -> usize {
        let me = std::process::id().to_string();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 0;
        };
        dir.filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
                let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
                let mut f = rest.split_whitespace();
                f.next() == Some("Z") && f.next() == Some(me.as_str())
            })
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_login_children_are_reaped_and_leave_no_zombies() {
        for code in 0..8 {
            let mut cmd = tokio::process::Command::new("sh");
            cmd.arg("-c").arg(format!("exit {code}"));
            spawn_reaped(cmd, "test child").unwrap();
        }
        // Give them time to exit and be reaped.
        let mut zombies = usize::MAX;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            zombies = zombie_children();
            if zombies == 0 {
                break;
            }
        }
        assert_eq!(zombies, 0, "exited children left as zombies");
    }
}
