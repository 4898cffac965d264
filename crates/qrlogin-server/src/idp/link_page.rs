//! The account-link page (`--link ask`, seed 003's 询问绑定): a mini-program sign-in whose
//! verified phone matches an existing account opens `/link/{id}` in its web-view; the user
//! types that account's password, and from then on the mini-program signs in to that account.
//! Same look as the approval page (its stylesheet, no script). The password check is a
//! password sign-in: the same per-address limit, per-account backoff and history line.
//!
//! No CSRF token: the page grants nothing through a cookie. What acts is the link id in the URL
//! (~190 bits, single use, ten minutes) together with the password typed, and a foreign site
//! has neither.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::approval::page::esc;
use crate::approval::PAGE_CSP;
use crate::errors::ApiError;
use crate::http::AppState;
use crate::i18n::Lang;
use crate::model::{now_ms, User};
use crate::ratelimit::Kind;
use crate::store::idp::PendingLink;

/// What the page shows (`data-state` on `main#qrl`).
enum View<'a> {
    Ask {
        account: &'a User,
        phone: Option<&'a str>,
        error: Option<String>,
    },
    Linked {
        account: &'a User,
    },
    Error {
        message: String,
    },
}

struct Texts {
    title: &'static str,
    ask_title: &'static str,
    ask_lead: &'static str,
    ask_phone: &'static str,
    account: &'static str,
    username: &'static str,
    password: &'static str,
    wrong_password: &'static str,
    submit: &'static str,
    note: &'static str,
    linked_title: &'static str,
    linked_lead: &'static str,
    error_title: &'static str,
    gone: &'static str,
}

fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            title: "关联账号",
            ask_title: "关联已有账号？",
            ask_lead: "你的微信手机号已属于下面这个账号。输入它的密码，以后在小程序中即可直接登录此账号。",
            ask_phone: "微信手机号",
            account: "账号",
            username: "用户名",
            password: "该账号的密码",
            wrong_password: "密码不正确",
            submit: "关联并继续",
            note: "如果这不是你的账号，请关闭此页面。",
            linked_title: "已关联",
            linked_lead: "请返回小程序重新登录。",
            error_title: "无法继续",
            gone: "此关联链接已失效，请在小程序中重新登录。",
        },
        Lang::En => Texts {
            title: "Link your account",
            ask_title: "Link to your existing account?",
            ask_lead: "Your WeChat phone number belongs to the account below. Enter its password and the mini-program signs in to this account from now on.",
            ask_phone: "WeChat phone number",
            account: "Account",
            username: "Username",
            password: "That account's password",
            wrong_password: "Wrong password for this account",
            submit: "Link and continue",
            note: "If this is not your account, close this page.",
            linked_title: "Account linked",
            linked_lead: "Return to the mini-program and sign in again.",
            error_title: "Cannot continue",
            gone: "This link has expired or was used: sign in again from the mini-program.",
        },
    }
}

fn render(lang: Lang, base_path: &str, link_id: &str, view: &View<'_>) -> String {
    let t = texts(lang);
    let bp = esc(base_path);
    let (state, body) = match view {
        View::Ask {
            account,
            phone,
            error,
        } => {
            let error = error
                .as_deref()
                .map(|e| {
                    format!(
                        "<p class=\"error\" role=\"alert\" data-field=\"error\">{}</p>\n",
                        esc(e)
                    )
                })
                .unwrap_or_default();
            let phone = phone
                .map(|p| {
                    format!(
                        "<dt>{}</dt><dd data-field=\"phone\">{}</dd>\n",
                        t.ask_phone,
                        esc(p)
                    )
                })
                .unwrap_or_default();
            (
                "link",
                format!(
                    "<h1>{title}</h1><p class=\"lead\">{lead}</p>\n\
                     <p class=\"user\"><img src=\"{bp}/avatars/{uid}.png\" alt=\"\"><span>{acc} \
                     <strong data-field=\"account\">{name}</strong></span></p>\n\
                     <dl class=\"requester\">\n{phone}<dt>{uname}</dt><dd data-field=\"username\">{username}</dd>\n</dl>\n\
                     <p class=\"reported\">{note}</p>\n\
                     {error}<form method=\"post\" action=\"{bp}/link/{id}\" id=\"link\">\n\
                     <label>{pass}<input type=\"password\" name=\"password\" \
                     autocomplete=\"current-password\" required></label>\n\
                     <input type=\"submit\" value=\"{submit}\">\n</form>",
                    title = t.ask_title,
                    lead = t.ask_lead,
                    uid = esc(&account.id),
                    acc = t.account,
                    uname = t.username,
                    name = esc(account.display_name()),
                    username = esc(&account.username),
                    id = esc(link_id),
                    pass = t.password,
                    submit = t.submit,
                    note = t.note,
                ),
            )
        }
        View::Linked { account } => (
            "linked",
            format!(
                "<h1>{}</h1><p class=\"lead\">{}</p><p class=\"user\"><span><strong data-field=\"account\">{}</strong></span></p>",
                t.linked_title,
                t.linked_lead,
                esc(account.display_name())
            ),
        ),
        View::Error { message } => (
            "error",
            format!(
                "<h1>{}</h1><p class=\"lead error\" data-field=\"error\">{}</p>",
                t.error_title,
                esc(message)
            ),
        ),
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{bp}/s/assets/phone.css\">\n</head>\n<body>\n\
         <main id=\"qrl\" data-state=\"{state}\">\n{body}\n</main>\n</body>\n</html>\n",
        lang = lang.html_lang(),
        title = t.title,
    )
}

fn page(status: StatusCode, html: String) -> Response {
    let mut resp = (status, Html(html)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    resp
}

fn error_page(
    state: &AppState,
    lang: Lang,
    id: &str,
    status: StatusCode,
    e: &ApiError,
) -> Response {
    let message = match e {
        ApiError::QrNotFound | ApiError::QrExpired => texts(lang).gone.to_owned(),
        e => e.message(lang),
    };
    let resp = page(
        status,
        render(lang, &state.base_path, id, &View::Error { message }),
    );
    crate::http::reply::with_retry_after(resp, e)
}

/// The link and its account while it can still be confirmed.
async fn open_link(state: &AppState, id: &str) -> Result<(PendingLink, User), ApiError> {
    let store = state.server.store();
    let link = store
        .get_pending_link(id)
        .await?
        .ok_or(ApiError::QrNotFound)?;
    if link.done_at.is_some() || link.expires_at <= now_ms() {
        return Err(ApiError::QrExpired);
    }
    let account = store
        .get_user(&link.user_id)
        .await?
        .ok_or(ApiError::QrNotFound)?;
    Ok((link, account))
}

fn status_of(e: &ApiError) -> StatusCode {
    match e {
        ApiError::QrNotFound => StatusCode::NOT_FOUND,
        ApiError::QrExpired => StatusCode::GONE,
        ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let r = async {
        state.limit(Kind::Poll, peer.ip())?;
        open_link(&state, &id).await
    }
    .await;
    match r {
        Ok((link, account)) => {
            let view = View::Ask {
                account: &account,
                phone: link.phone.as_deref(),
                error: None,
            };
            page(StatusCode::OK, render(lang, &state.base_path, &id, &view))
        }
        Err(e) => error_page(&state, lang, &id, status_of(&e), &e),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LinkForm {
    #[serde(default)]
    password: String,
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<LinkForm>,
) -> Response {
    let lang = Lang::from_accept_language(&headers);
    let (link, account) = match async {
        state.limit(Kind::SignIn, peer.ip())?;
        open_link(&state, &id).await
    }
    .await
    {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, &id, status_of(&e), &e),
    };
    let server = &state.server;
    // A password sign-in of that account, with everything a sign-in has (backoff, history).
    let checked = server
        .sign_in(
            &account.username,
            &form.password,
            server.user_pool_id(),
            Some(peer.ip()),
        )
        .await;
    match checked {
        Ok(_) => {}
        Err(ApiError::BadCredentials) => {
            let view = View::Ask {
                account: &account,
                phone: link.phone.as_deref(),
                error: Some(texts(lang).wrong_password.to_owned()),
            };
            return page(
                StatusCode::UNAUTHORIZED,
                render(lang, &state.base_path, &id, &view),
            );
        }
        Err(e) => return error_page(&state, lang, &id, status_of(&e), &e),
    }
    let linked = async {
        if !server.store().finish_pending_link(&id, now_ms()).await? {
            return Err(ApiError::QrExpired);
        }
        let source = server
            .store()
            .get_identity_source(&link.source_id)
            .await?
            .ok_or(ApiError::QrNotFound)?;
        server
            .bind_identity(&source, &link.subject, account.clone())
            .await
            .map_err(|e| match e {
                super::miniprogram::SignInError::Api(e) => e,
                _ => ApiError::Internal,
            })
    }
    .await;
    match linked {
        Ok(user) => {
            tracing::info!(source = %link.source_id, user_id = %user.id, "identity linked by the account's password");
            page(
                StatusCode::OK,
                render(
                    lang,
                    &state.base_path,
                    &id,
                    &View::Linked { account: &user },
                ),
            )
        }
        Err(e) => error_page(&state, lang, &id, status_of(&e), &e),
    }
}
