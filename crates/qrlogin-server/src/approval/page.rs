//! The approval page's HTML, server-rendered in zh-CN or en. Every user-controlled string goes
//! through [`esc`]. Machine-readable `data-*` attributes let tests (and the phone client) read
//! what a person sees without depending on the wording.

use crate::i18n::Lang;
use crate::model::{Requester, User};

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Everything a page needs besides its body.
pub struct Frame<'a> {
    pub lang: Lang,
    pub base_path: &'a str,
    pub csrf: &'a str,
    pub scan_id: &'a str,
}

/// Which screen the page shows (`data-state` on `main#qrl`).
pub enum View<'a> {
    SignIn {
        error: Option<String>,
        /// The app lets new users register (`signup`): link to its form.
        signup: bool,
    },
    Approve {
        app_name: &'a str,
        user: &'a User,
        requester: Option<&'a Requester>,
        check_choices: &'a [String],
        /// The phone's network differs from the computer's (IPv4 /24, IPv6 /48).
        network_differs: bool,
    },
    Authorized,
    Cancelled,
    Error {
        code: u32,
        message: String,
    },
}

struct Texts {
    title: &'static str,
    sign_in_title: &'static str,
    sign_in_lead: &'static str,
    username: &'static str,
    password: &'static str,
    sign_in: &'static str,
    approve_title: &'static str,
    approve_lead: &'static str,
    signed_in_as: &'static str,
    app: &'static str,
    device: &'static str,
    platform: &'static str,
    client: &'static str,
    version: &'static str,
    ip: &'static str,
    time: &'static str,
    reported: &'static str,
    network_warning: &'static str,
    sign_out: &'static str,
    pick_code: &'static str,
    confirm: &'static str,
    cancel: &'static str,
    confirmed_title: &'static str,
    confirmed_lead: &'static str,
    cancelled_title: &'static str,
    cancelled_lead: &'static str,
    wrong_code_title: &'static str,
    wrong_code_lead: &'static str,
    error_title: &'static str,
    error_text: &'static str,
    network_text: &'static str,
}

fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            title: "扫码登录",
            sign_in_title: "登录以继续",
            sign_in_lead: "登录后即可确认电脑上的登录请求。",
            username: "用户名",
            password: "密码",
            sign_in: "登录",
            approve_title: "确认在电脑上登录？",
            approve_lead: "请核对以下信息，确认是你本人正在登录。",
            signed_in_as: "当前账号",
            app: "应用",
            device: "设备",
            platform: "平台",
            client: "客户端",
            version: "版本",
            ip: "电脑的 IP 地址（服务器所见）",
            time: "时间",
            reported: "以下设备信息由电脑自行上报，未经核实：",
            network_warning: "注意：这台手机与发起登录的电脑不在同一网络。如果你眼前没有这台电脑，或二维码不是你自己打开的，请点“取消”——可能有人在转发二维码，骗你登录他的电脑。",
            sign_out: "退出此账号",
            pick_code: "请选择电脑上显示的数字",
            confirm: "确认登录",
            cancel: "取消",
            confirmed_title: "已确认登录",
            confirmed_lead: "请返回电脑继续操作。",
            cancelled_title: "已取消登录",
            cancelled_lead: "电脑上的登录请求已被拒绝。你可以关闭此页面。",
            wrong_code_title: "数字不匹配，已取消登录",
            wrong_code_lead: "为保护你的账号，本次登录已取消。请返回电脑刷新二维码后重试。",
            error_title: "无法继续",
            error_text: "操作失败，请返回电脑重试。",
            network_text: "网络错误，请重试。",
        },
        Lang::En => Texts {
            title: "Scan to sign in",
            sign_in_title: "Sign in to continue",
            sign_in_lead: "Sign in to approve the sign-in on your computer.",
            username: "Username",
            password: "Password",
            sign_in: "Sign in",
            approve_title: "Sign in on your computer?",
            approve_lead: "Check the details below and make sure it is you signing in.",
            signed_in_as: "Signed in as",
            app: "App",
            device: "Device",
            platform: "Platform",
            client: "Client",
            version: "Version",
            ip: "Computer's IP address (as the server sees it)",
            time: "Time",
            reported: "As reported by the computer (not verified):",
            network_warning: "Warning: this phone is not on the same network as the computer that asks to sign in. If that computer is not in front of you, or you did not open this QR code yourself, tap Cancel: someone may be relaying the QR code to sign you in on their computer.",
            sign_out: "Sign out of this account",
            pick_code: "Pick the number shown on your computer",
            confirm: "Confirm sign-in",
            cancel: "Cancel",
            confirmed_title: "Sign-in confirmed",
            confirmed_lead: "Return to your computer to continue.",
            cancelled_title: "Sign-in cancelled",
            cancelled_lead: "The sign-in on your computer was refused. You can close this page.",
            wrong_code_title: "Wrong number: sign-in cancelled",
            wrong_code_lead: "To protect your account this sign-in was cancelled. Refresh the QR code on your computer and try again.",
            error_title: "Cannot continue",
            error_text: "Something went wrong. Try again from your computer.",
            network_text: "Network error, please try again.",
        },
    }
}

pub fn render(frame: &Frame<'_>, view: &View<'_>) -> String {
    let t = texts(frame.lang);
    let bp = esc(frame.base_path);
    let scan = esc(frame.scan_id);
    let (state, body) = match view {
        View::SignIn { error, signup } => {
            let mut body = sign_in(frame, &t, error.as_deref());
            if *signup {
                body.push_str(&super::signup::link_html(
                    frame.lang,
                    frame.base_path,
                    frame.scan_id,
                ));
            }
            ("signin", body)
        }
        View::Approve {
            app_name,
            user,
            requester,
            check_choices,
            network_differs,
        } => (
            "approve",
            approve(
                frame,
                &t,
                app_name,
                user,
                *requester,
                check_choices,
                *network_differs,
            ),
        ),
        View::Authorized => (
            "authorized",
            format!(
                "<h1>{}</h1><p class=\"lead\">{}</p>",
                t.confirmed_title, t.confirmed_lead
            ),
        ),
        View::Cancelled => (
            "cancelled",
            format!(
                "<h1>{}</h1><p class=\"lead\">{}</p>",
                t.cancelled_title, t.cancelled_lead
            ),
        ),
        View::Error { message, .. } => (
            "error",
            format!(
                "<h1>{}</h1><p class=\"lead error\" data-field=\"error\">{}</p>",
                t.error_title,
                esc(message)
            ),
        ),
    };
    let code = match view {
        View::Error { code, .. } => code.to_string(),
        _ => String::new(),
    };
    // The result screens the script reveals after Confirm or Cancel. Each is a `main` of its own
    // (only one is ever not hidden), so the result is inside a landmark like the rest.
    let done = if matches!(view, View::Approve { .. }) {
        format!(
            "<main class=\"done\" id=\"done-confirmed\" data-state=\"authorized\" hidden><h1>{}</h1><p class=\"lead\">{}</p></main>\n\
             <main class=\"done\" id=\"done-cancelled\" data-state=\"cancelled\" hidden><h1>{}</h1><p class=\"lead\">{}</p></main>\n\
             <main class=\"done\" id=\"done-wrong-code\" data-state=\"cancelled\" hidden><h1>{}</h1><p class=\"lead\">{}</p></main>\n",
            t.confirmed_title,
            t.confirmed_lead,
            t.cancelled_title,
            t.cancelled_lead,
            t.wrong_code_title,
            t.wrong_code_lead
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"csrf-token\" content=\"{csrf}\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{bp}/s/assets/phone.css\">\n\
         <script src=\"{bp}/s/assets/phone.js\" defer></script>\n</head>\n<body>\n\
         <main id=\"qrl\" data-state=\"{state}\" data-code=\"{code}\" data-scan-id=\"{scan}\" \
         data-action-url=\"{bp}/api/v3/set-qrcode-status\" data-error-text=\"{err}\" \
         data-network-text=\"{net}\">\n{body}\n</main>\n{done}</body>\n</html>\n",
        lang = frame.lang.html_lang(),
        csrf = esc(frame.csrf),
        title = t.title,
        err = esc(t.error_text),
        net = esc(t.network_text),
    )
}

fn sign_in(frame: &Frame<'_>, t: &Texts, error: Option<&str>) -> String {
    let bp = esc(frame.base_path);
    let scan = esc(frame.scan_id);
    let error = error
        .map(|e| {
            format!(
                "<p class=\"error\" role=\"alert\" data-field=\"error\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default();
    format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>{error}\n\
         <form method=\"post\" action=\"{bp}/s/{scan}/signin\" id=\"signin\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label>{user}<input type=\"text\" name=\"username\" autocomplete=\"username\" \
         autocapitalize=\"none\" required></label>\n\
         <label>{pass}<input type=\"password\" name=\"password\" autocomplete=\"current-password\" \
         required></label>\n<input type=\"submit\" value=\"{submit}\">\n</form>",
        title = t.sign_in_title,
        lead = t.sign_in_lead,
        csrf = esc(frame.csrf),
        user = t.username,
        pass = t.password,
        submit = t.sign_in,
    )
}

#[allow(clippy::too_many_arguments)]
fn approve(
    frame: &Frame<'_>,
    t: &Texts,
    app_name: &str,
    user: &User,
    requester: Option<&Requester>,
    check_choices: &[String],
    network_differs: bool,
) -> String {
    let bp = esc(frame.base_path);
    let row = |rows: &mut String, label: &str, field: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            rows.push_str(&format!(
                "<dt>{label}</dt><dd data-field=\"{field}\">{}</dd>\n",
                esc(v)
            ));
        }
    };
    // What the server knows (the app, the address it saw, the time) apart from what the
    // computer says about itself, which anyone can make up.
    let mut rows = String::new();
    let mut reported = String::new();
    row(&mut rows, t.app, "app", Some(app_name));
    if let Some(r) = requester {
        row(
            &mut reported,
            t.device,
            "deviceName",
            r.device_name.as_deref(),
        );
        row(&mut reported, t.platform, "platform", r.platform.as_deref());
        row(&mut reported, t.client, "appName", r.app_name.as_deref());
        row(
            &mut reported,
            t.version,
            "appVersion",
            r.app_version.as_deref(),
        );
        row(&mut rows, t.ip, "ip", r.ip.as_deref());
        let when = crate::model::rfc3339(r.time)
            .replace('T', " ")
            .replace('Z', " UTC");
        row(
            &mut rows,
            t.time,
            "time",
            (r.time > 0).then_some(when.as_str()),
        );
    }
    let reported = if reported.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"reported\" data-field=\"reported-note\">{}</p>\n<dl class=\"requester reported\">\n{reported}</dl>\n",
            t.reported
        )
    };
    let warning = if network_differs {
        format!(
            "<p class=\"warning\" role=\"alert\" data-field=\"network-warning\">{}</p>\n",
            t.network_warning
        )
    } else {
        String::new()
    };
    let codes = if check_choices.is_empty() {
        String::new()
    } else {
        let buttons: String = check_choices
            .iter()
            .map(|c| {
                format!(
                    "<button type=\"button\" class=\"code\" data-code=\"{c}\" aria-pressed=\"false\">{c}</button>",
                    c = esc(c)
                )
            })
            .collect();
        format!(
            "<section id=\"check\"><p id=\"pick-code\">{}</p><div class=\"codes\" role=\"group\" aria-labelledby=\"pick-code\">{buttons}</div></section>\n",
            t.pick_code
        )
    };
    let disabled = if check_choices.is_empty() {
        ""
    } else {
        " disabled"
    };
    format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>\n\
         <p class=\"user\"><img src=\"{bp}/avatars/{uid}.png\" alt=\"\"><span>{as_label} \
         <strong data-field=\"user\">{name}</strong></span></p>\n\
         <dl class=\"requester\">\n{rows}</dl>\n{reported}{warning}{codes}\
         <div class=\"actions\"><button type=\"button\" id=\"confirm\" class=\"primary\"{disabled}>{confirm}</button>\
         <button type=\"button\" id=\"cancel\">{cancel}</button></div>\n\
         <p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\n\
         <form method=\"post\" action=\"{bp}/s/{scan}/signout\" id=\"signout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"link\">{sign_out}</button></form>",
        title = t.approve_title,
        lead = t.approve_lead,
        uid = esc(&user.id),
        as_label = t.signed_in_as,
        name = esc(user.display_name()),
        confirm = t.confirm,
        cancel = t.cancel,
        scan = esc(frame.scan_id),
        csrf = esc(frame.csrf),
        sign_out = t.sign_out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<img src=x onerror=\"a('b')\">&"),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }
}
