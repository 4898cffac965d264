//! Sign-up on the phone page (issue 15 item 4, seed 003's 登录模式): when the QR's app has
//! `signup` on (`app add|set --signup`), a person without an account registers here (username,
//! password, nickname) and goes on signed in, as after the sign-in form. Off by default: the
//! page then only signs existing users in, and these endpoints refuse.
//!
//! `GET /s/{scanId}/signup` shows the form; `POST` makes the user (argon2id, as every user) and
//! the page's approver session. A POST costs a sign-in token (`ratelimit`), so accounts cannot
//! be made, or usernames probed, faster than passwords can be tried.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::esc;
use super::{cookie_line, csrf_cookie, error_page, page_response, PAGE_CSP};
use crate::crypto::constant_time_eq;
use crate::errors::{ApiError, Error, Forbidden};
use crate::http::auth::SESSION_COOKIE;
use crate::http::request::cookie;
use crate::http::AppState;
use crate::i18n::Lang;
use crate::ratelimit::Kind;
use crate::server::NewUser;
use crate::sessions::{NewSession, PHONE_PAGE_SESSION_SECS};
use crate::store::auth::SessionKind;

const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
const NICKNAME_CHARS: usize = 32;

/// Why a sign-up was not done; each says what to change, in the page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The app is login only.
    Off,
    UsernameLength,
    UsernameChars,
    UsernameTaken,
    PasswordLength,
    PasswordIsUsername,
    PasswordsDiffer,
    NicknameLength,
    NicknameChars,
}

impl Problem {
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            Problem::Off => lang.pick(
                "此应用未开放注册：请向管理员申请账号。",
                "This app does not offer sign-up: ask your administrator for an account.",
            ),
            Problem::UsernameLength => lang.pick(
                "用户名需为 3 到 32 个字符。",
                "The username must be 3 to 32 characters long.",
            ),
            Problem::UsernameChars => lang.pick(
                "用户名只能包含英文字母、数字和 _ . - @。",
                "The username may only contain letters a-z, digits and _ . - @.",
            ),
            Problem::UsernameTaken => lang.pick(
                "该用户名已被使用，请换一个。",
                "This username is taken: choose another one.",
            ),
            Problem::PasswordLength => lang.pick(
                "密码需为 8 到 128 个字符。",
                "The password must be 8 to 128 characters long.",
            ),
            Problem::PasswordIsUsername => lang.pick(
                "密码不能与用户名相同。",
                "The password must not be the username.",
            ),
            Problem::PasswordsDiffer => lang.pick(
                "两次输入的密码不一致。",
                "The two passwords do not match.",
            ),
            Problem::NicknameLength => lang.pick(
                "昵称最多 32 个字符。",
                "The nickname may be at most 32 characters long.",
            ),
            Problem::NicknameChars => lang.pick(
                "昵称含有无法显示的字符（控制字符或方向控制符）。",
                "The nickname contains characters that cannot be shown (control or direction marks).",
            ),
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Problem::Off => StatusCode::FORBIDDEN,
            Problem::UsernameTaken => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

/// A valid sign-up: the trimmed username, the password, the nickname (if any).
pub(crate) fn validate(f: &SignUpForm) -> Result<NewUser, Problem> {
    let username = f.username.trim();
    if !USERNAME_CHARS.contains(&username.chars().count()) {
        return Err(Problem::UsernameLength);
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-@".contains(c))
    {
        return Err(Problem::UsernameChars);
    }
    if !PASSWORD_CHARS.contains(&f.password.chars().count()) {
        return Err(Problem::PasswordLength);
    }
    if f.password.trim().eq_ignore_ascii_case(username) {
        return Err(Problem::PasswordIsUsername);
    }
    if f.password != f.password2 {
        return Err(Problem::PasswordsDiffer);
    }
    let nickname = f.nickname.trim();
    if nickname.chars().count() > NICKNAME_CHARS {
        return Err(Problem::NicknameLength);
    }
    if crate::limits::clean_field(nickname) != nickname {
        return Err(Problem::NicknameChars);
    }
    Ok(NewUser {
        username: username.to_owned(),
        password: f.password.clone(),
        nickname: (!nickname.is_empty()).then(|| nickname.to_owned()),
        ..NewUser::default()
    })
}

/// Whether the app of the session `scan_id` names lets new users register.
pub(crate) async fn signup_on(state: &AppState, scan_id: &str) -> Result<bool, ApiError> {
    let session = state
        .server
        .session_by_public_id(scan_id)
        .await?
        .ok_or(ApiError::QrNotFound)?;
    Ok(state
        .server
        .store()
        .get_app(&session.app_id)
        .await?
        .is_some_and(|a| a.signup))
}

/// The link under the sign-in form, when sign-up is on.
pub(crate) fn link_html(lang: Lang, base_path: &str, scan_id: &str) -> String {
    format!(
        "<p class=\"alt\" data-field=\"signup\">{q} <a id=\"signup-link\" href=\"{bp}/s/{scan}/signup\">{a}</a></p>",
        q = lang.pick("还没有账号？", "No account yet?"),
        a = lang.pick("注册新账号", "Create one"),
        bp = esc(base_path),
        scan = esc(scan_id),
    )
}

pub(crate) async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(scan_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let (csrf, cookies) = csrf_cookie(&state, &headers);
    let on = async {
        state.limit(Kind::Poll, peer.ip())?;
        state.limit_user_code_guess(&scan_id, peer.ip())?;
        signup_on(&state, &scan_id).await
    }
    .await;
    match on {
        Ok(true) => page_response(
            StatusCode::OK,
            form_page(
                lang,
                &state.base_path,
                &csrf,
                &scan_id,
                &SignUpForm::default(),
                None,
            ),
            cookies,
        ),
        Ok(false) => off_page(lang, &state, &csrf, &scan_id, cookies),
        Err(e) => error_page(&state, lang, &csrf, &scan_id, &e, cookies),
    }
}

fn off_page(
    lang: Lang,
    state: &AppState,
    csrf: &str,
    scan_id: &str,
    cookies: Vec<String>,
) -> Response {
    let html = shell(
        lang,
        &state.base_path,
        csrf,
        "signup-off",
        &format!(
            "<h1>{}</h1><p class=\"lead error\" data-field=\"error\">{}</p>\
             <p class=\"alt\"><a href=\"{}/s/{}\">{}</a></p>",
            lang.pick("无法注册", "Sign-up is off"),
            Problem::Off.message(lang),
            esc(&state.base_path),
            esc(scan_id),
            lang.pick("返回登录", "Back to sign-in"),
        ),
    );
    page_response(Problem::Off.status(), html, cookies)
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(scan_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let (csrf, cookies) = csrf_cookie(&state, &headers);
    let again = |p: Problem, cookies: Vec<String>| {
        let html = form_page(lang, &state.base_path, &csrf, &scan_id, &form, Some(p));
        page_response(p.status(), html, cookies)
    };
    let checked = async {
        state.limit(Kind::SignIn, peer.ip())?;
        let sent_cookie = cookie(&headers, state.csrf_cookie_name()).unwrap_or("");
        if sent_cookie.is_empty() || !constant_time_eq(&form.csrf, sent_cookie) {
            return Err(ApiError::Forbidden(Forbidden::Csrf));
        }
        let session = state
            .server
            .session_by_public_id(&scan_id)
            .await?
            .ok_or(ApiError::QrNotFound)?;
        let on = state
            .server
            .store()
            .get_app(&session.app_id)
            .await?
            .is_some_and(|a| a.signup);
        Ok((on, session.app_id))
    }
    .await;
    let app_id = match checked {
        Ok((true, app_id)) => app_id,
        Ok((false, _)) => return off_page(lang, &state, &csrf, &scan_id, cookies),
        Err(e) => return error_page(&state, lang, &csrf, &scan_id, &e, cookies),
    };
    let new = match validate(&form) {
        Ok(n) => n,
        Err(p) => return again(p, cookies),
    };
    let user = match state.server.add_user(new).await {
        Ok(info) => match state.server.store().get_user(&info.id).await {
            Ok(Some(u)) => u,
            _ => return error_page(&state, lang, &csrf, &scan_id, &ApiError::Internal, cookies),
        },
        Err(Error::DuplicateUsername(_)) => return again(Problem::UsernameTaken, cookies),
        Err(e) => {
            tracing::error!(error = %e, "sign-up failed");
            return error_page(&state, lang, &csrf, &scan_id, &ApiError::Internal, cookies);
        }
    };
    tracing::info!(user_id = %user.id, %app_id, "signed up on the phone page");
    state
        .server
        .record_sign_in(
            &user.username,
            Some(&user),
            &app_id,
            Some(peer.ip()),
            "signed-in",
        )
        .await;
    // As after the sign-in form: the page's own approver session, in the cookie.
    let new = NewSession {
        user: &user,
        app_id: &app_id,
        kind: SessionKind::Approver,
        public_client: false,
        access_ttl_secs: PHONE_PAGE_SESSION_SECS,
        with_refresh: false,
        device: None,
        ip: Some(peer.ip()),
    };
    let ex = match state.server.open_session(new, &state.public_url).await {
        Ok(ex) => ex,
        Err(e) => return error_page(&state, lang, &csrf, &scan_id, &e, cookies),
    };
    let mut resp = Redirect::to(&format!("{}/s/{}", state.base_path, scan_id)).into_response();
    let line = cookie_line(&state, SESSION_COOKIE, &ex.access.token, ex.access_ttl_secs);
    if let Ok(v) = HeaderValue::from_str(&line) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    resp
}

/// The page around a body, in the approval page's look.
fn shell(lang: Lang, base_path: &str, csrf: &str, state: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang_attr}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"csrf-token\" content=\"{csrf}\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{bp}/s/assets/phone.css\">\n</head>\n<body>\n\
         <main id=\"qrl\" data-state=\"{state}\">\n{body}\n</main>\n</body>\n</html>\n",
        lang_attr = lang.html_lang(),
        csrf = esc(csrf),
        title = lang.pick("注册账号", "Create an account"),
        bp = esc(base_path),
    )
}

/// The form; after a problem it keeps what was typed (but never the passwords).
fn form_page(
    lang: Lang,
    base_path: &str,
    csrf: &str,
    scan_id: &str,
    typed: &SignUpForm,
    problem: Option<Problem>,
) -> String {
    let error = problem
        .map(|p| {
            format!(
                "<p class=\"error\" role=\"alert\" data-field=\"error\">{}</p>",
                p.message(lang)
            )
        })
        .unwrap_or_default();
    let bp = esc(base_path);
    let scan = esc(scan_id);
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>{error}\n\
         <form method=\"post\" action=\"{bp}/s/{scan}/signup\" id=\"signup\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label>{user}<input type=\"text\" name=\"username\" value=\"{username}\" \
         autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" minlength=\"3\" \
         maxlength=\"32\" required></label>\n\
         <label>{nick}<input type=\"text\" name=\"nickname\" value=\"{nickname}\" \
         autocomplete=\"nickname\" maxlength=\"32\"></label>\n\
         <label>{pass}<input type=\"password\" name=\"password\" autocomplete=\"new-password\" \
         minlength=\"8\" maxlength=\"128\" required></label>\n\
         <label>{pass2}<input type=\"password\" name=\"password2\" autocomplete=\"new-password\" \
         minlength=\"8\" maxlength=\"128\" required></label>\n\
         <input type=\"submit\" value=\"{submit}\">\n</form>\n\
         <p class=\"alt\">{have} <a href=\"{bp}/s/{scan}\">{sign_in}</a></p>",
        title = lang.pick("注册新账号", "Create an account"),
        lead = lang.pick(
            "注册后即可确认电脑上的登录请求。",
            "After signing up you can approve the sign-in on your computer."
        ),
        user = lang.pick(
            "用户名（3–32 个字母、数字或 _ . - @）",
            "Username (3–32 letters, digits or _ . - @)"
        ),
        nick = lang.pick("昵称（可选）", "Nickname (optional)"),
        pass = lang.pick("密码（至少 8 个字符）", "Password (at least 8 characters)"),
        pass2 = lang.pick("再次输入密码", "Password again"),
        submit = lang.pick("注册并继续", "Sign up and continue"),
        have = lang.pick("已有账号？", "Have an account?"),
        sign_in = lang.pick("登录", "Sign in"),
        csrf = esc(csrf),
        username = esc(typed.username.trim()),
        nickname = esc(typed.nickname.trim()),
    );
    shell(lang, base_path, csrf, "signup", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(username: &str, password: &str, password2: &str, nickname: &str) -> SignUpForm {
        SignUpForm {
            csrf: String::new(),
            username: username.into(),
            nickname: nickname.into(),
            password: password.into(),
            password2: password2.into(),
        }
    }

    #[test]
    fn validation_names_what_to_change() {
        let ok = validate(&form(
            " alice ",
            "correct horse",
            "correct horse",
            " Alice ",
        ))
        .unwrap();
        assert_eq!(ok.username, "alice");
        assert_eq!(ok.nickname.as_deref(), Some("Alice"));
        assert_eq!(
            validate(&form("alice", "correct horse", "correct horse", ""))
                .unwrap()
                .nickname,
            None
        );
        let err = |f: SignUpForm| validate(&f).unwrap_err();
        assert_eq!(
            err(form("al", "correct horse", "correct horse", "")),
            Problem::UsernameLength
        );
        assert_eq!(
            err(form("al ice", "correct horse", "correct horse", "")),
            Problem::UsernameChars
        );
        assert_eq!(
            err(form("<b>x</b>", "correct horse", "correct horse", "")),
            Problem::UsernameChars
        );
        assert_eq!(
            err(form("alice", "short", "short", "")),
            Problem::PasswordLength
        );
        assert_eq!(
            err(form("alice123", "ALICE123", "ALICE123", "")),
            Problem::PasswordIsUsername
        );
        assert_eq!(
            err(form("alice", "correct horse", "correct hors", "")),
            Problem::PasswordsDiffer
        );
        assert_eq!(
            err(form(
                "alice",
                "correct horse",
                "correct horse",
                &"x".repeat(33)
            )),
            Problem::NicknameLength
        );
        assert_eq!(
            err(form(
                "alice",
                "correct horse",
                "correct horse",
                "Bob\u{202E}gnp"
            )),
            Problem::NicknameChars
        );
        // Every message exists in both languages and differs between them.
        for p in [Problem::Off, Problem::UsernameTaken, Problem::NicknameChars] {
            assert_ne!(p.message(Lang::Zh), p.message(Lang::En));
        }
    }
}
