//! A phone for tests and benchmarks (feature `phone-client`): it opens the QR's URL like a phone
//! camera, reads the approval page the way a person would see it, signs in with the page's form
//! and confirms or cancels with exactly the call the page's script makes. It keeps its own
//! cookie jar, so each `Phone` is one browser.
//!
//! ```no_run
//! # async fn demo(qr_text: &str) -> Result<(), qrlogin_server::phone::PhoneError> {
//! use qrlogin_server::phone::{PageState, Phone};
//! let phone = Phone::new();
//! let page = phone.open(qr_text).await?;          // the sign-in form
//! phone.sign_in(&page, "alice", "secret").await?; // signs in; the session is now scanned
//! let page = phone.open(qr_text).await?;          // who is asking, check code choices
//! assert_eq!(page.state, PageState::Approve);
//! phone.confirm(&page, page.check_code_choices.first().map(String::as_str)).await?;
//! # Ok(()) }
//! ```

use serde_json::{json, Value};

/// What can go wrong while playing the phone.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("not an approval page URL: {0:?}")]
    NotAnApprovalUrl(String),
    #[error("the reply is not an approval page ({status}): {snippet}")]
    NotAPage { status: u16, snippet: String },
    #[error("sign-in refused: {0}")]
    SignInRefused(String),
    #[error("the page is in state {0:?}, which offers no such action")]
    WrongState(PageState),
    #[error("server refused with code {code}: {message}")]
    Rejected { code: u32, message: String },
}

/// The screen the approval page shows (`data-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    /// The sign-in form.
    SignIn,
    /// Who is asking, the check code choices, Confirm and Cancel.
    Approve,
    /// "Return to your computer": this session was confirmed.
    Authorized,
    /// This session was cancelled.
    Cancelled,
    /// An error page; see `error_code` (2241 unknown, 2244 expired, 2245 someone else's...).
    Error,
    /// `{public-url}/s`: the form for a typed code (issue 15 item 7).
    EnterCode,
    /// The sign-up form (the app has `signup` on).
    SignUp,
    /// The app is login only: sign-up refused, in words.
    SignUpOff,
}

/// The requester details the page shows (PROTOCOL.md §4.3); `None` when not shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequester {
    pub device_name: Option<String>,
    pub platform: Option<String>,
    pub app_name: Option<String>,
    pub app_version: Option<String>,
    pub ip: Option<String>,
    pub time: Option<String>,
}

/// One load of the approval page, parsed.
#[derive(Debug, Clone)]
pub struct ApprovalPage {
    /// The URL that was opened.
    pub url: String,
    /// The HTTP status of the page.
    pub http_status: u16,
    pub state: PageState,
    pub scan_id: String,
    /// The protocol code of an error page.
    pub error_code: Option<u32>,
    /// The message shown on an error page or under the sign-in form.
    pub error_message: Option<String>,
    /// The app asking for the sign-in (name as configured on the server).
    pub app_name: Option<String>,
    /// The display name of the signed-in phone user.
    pub signed_in_as: Option<String>,
    pub requester: PageRequester,
    /// The three numbers offered when the app has check codes on; empty otherwise.
    pub check_code_choices: Vec<String>,
    /// The page's CSRF token (meta tag).
    pub csrf_token: String,
    /// `<html lang>`: `zh-CN` or `en`.
    pub lang: String,
    /// The raw HTML, for assertions on what else the page shows.
    pub html: String,
    /// The warning shown before Confirm when the phone's network differs from the computer's.
    pub network_warning: Option<String>,
    action_url: String,
    sign_in_url: Option<String>,
    sign_out_url: Option<String>,
    sign_up_url: Option<String>,
    /// "No account yet? Create one" under the sign-in form, when the app offers sign-up.
    pub sign_up_link: Option<String>,
}

/// A phone browser with its own cookie jar.
#[derive(Clone)]
pub struct Phone {
    client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    accept_language: Option<String>,
}

impl Default for Phone {
    fn default() -> Self {
        Phone::new()
    }
}

impl Phone {
    pub fn new() -> Phone {
        Phone::with_headers(reqwest::header::HeaderMap::new())
    }

    fn with_headers(headers: reqwest::header::HeaderMap) -> Phone {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Phone {
            client,
            jar,
            accept_language: None,
        }
    }

    /// The `Cookie` header this phone's browser would send to `url`: what someone who copied
    /// the phone's cookies would hold (for tests that replay them).
    pub fn cookie_header(&self, url: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = url::Url::parse(url).ok()?;
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    }

    /// A phone reaching the server through a proxy that names it in `X-Forwarded-For` (for
    /// tests of `--trusted-proxy`).
    pub fn forwarded_for(ip: &str) -> Phone {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(ip) {
            headers.insert("x-forwarded-for", v);
        }
        Phone::with_headers(headers)
    }

    /// Taps "Sign out" on an approval page; returns the page it lands on (the sign-in form).
    pub async fn sign_out(&self, page: &ApprovalPage) -> Result<ApprovalPage, PhoneError> {
        let target = page
            .sign_out_url
            .as_deref()
            .ok_or(PhoneError::WrongState(page.state))?;
        let rb = self
            .client
            .post(target)
            .form(&[("csrf", page.csrf_token.as_str())]);
        page_from(rb.send().await?).await
    }

    /// A phone whose browser asks for this language (`Accept-Language`), e.g. `"en-US,en;q=0.9"`.
    pub fn with_accept_language(lang: &str) -> Phone {
        Phone {
            accept_language: Some(lang.to_owned()),
            ..Phone::new()
        }
    }

    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        let rb = self.client.get(url);
        match &self.accept_language {
            Some(l) => rb.header("accept-language", l),
            None => rb,
        }
    }

    /// Opens the QR's text as a phone camera would (`GET /s/{scanId}`). Signed in, this is the scan.
    pub async fn open(&self, qr_text: &str) -> Result<ApprovalPage, PhoneError> {
        let url = url::Url::parse(qr_text.trim())
            .map_err(|_| PhoneError::NotAnApprovalUrl(qr_text.to_owned()))?;
        // `/device?user_code=` (RFC 8628's verification_uri_complete) redirects to `/s/`.
        if !url.path().contains("/s/") && !url.path().ends_with("/device") {
            return Err(PhoneError::NotAnApprovalUrl(qr_text.to_owned()));
        }
        let resp = self.get(url.as_str()).send().await?;
        page_from(resp).await
    }

    /// Types `code` on the page at `entry_url` (`{public-url}/s`, shown under "Can't scan?")
    /// and submits it, as a person would: the page the server continues with.
    pub async fn type_code(&self, entry_url: &str, code: &str) -> Result<ApprovalPage, PhoneError> {
        let mut url = url::Url::parse(entry_url.trim())
            .map_err(|_| PhoneError::NotAnApprovalUrl(entry_url.to_owned()))?;
        url.query_pairs_mut().append_pair("code", code);
        page_from(self.get(url.as_str()).send().await?).await
    }

    /// Follows "Create one" under the sign-in form.
    pub async fn open_sign_up(&self, page: &ApprovalPage) -> Result<ApprovalPage, PhoneError> {
        let link = page
            .sign_up_link
            .as_deref()
            .ok_or(PhoneError::WrongState(page.state))?;
        page_from(self.get(link).send().await?).await
    }

    /// Submits the sign-up form (the password typed twice, as the form asks). Returns the page
    /// the server continues with: the approval screen when the account was made, else the form
    /// again with its error.
    pub async fn sign_up(
        &self,
        page: &ApprovalPage,
        username: &str,
        password: &str,
        nickname: &str,
    ) -> Result<ApprovalPage, PhoneError> {
        let target = page
            .sign_up_url
            .as_deref()
            .ok_or(PhoneError::WrongState(page.state))?;
        let mut rb = self.client.post(target).form(&[
            ("csrf", page.csrf_token.as_str()),
            ("username", username),
            ("nickname", nickname),
            ("password", password),
            ("password2", password),
        ]);
        if let Some(l) = &self.accept_language {
            rb = rb.header("accept-language", l);
        }
        page_from(rb.send().await?).await
    }

    /// Submits the page's sign-in form; the server then marks the session scanned by this user
    /// and redirects back to the page. Returns that page (usually the approval screen).
    pub async fn sign_in(
        &self,
        page: &ApprovalPage,
        username: &str,
        password: &str,
    ) -> Result<ApprovalPage, PhoneError> {
        let target = page
            .sign_in_url
            .as_deref()
            .ok_or(PhoneError::WrongState(page.state))?;
        let mut rb = self.client.post(target).form(&[
            ("csrf", page.csrf_token.as_str()),
            ("username", username),
            ("password", password),
        ]);
        if let Some(l) = &self.accept_language {
            rb = rb.header("accept-language", l);
        }
        let after = page_from(rb.send().await?).await?;
        match after.state {
            PageState::SignIn => Err(PhoneError::SignInRefused(
                after.error_message.unwrap_or_default(),
            )),
            PageState::Error if after.http_status == 429 => Err(PhoneError::Rejected {
                code: 429,
                message: after.error_message.unwrap_or_default(),
            }),
            _ => Ok(after),
        }
    }

    /// Taps Confirm (with the picked check code, when the page offers them).
    pub async fn confirm(
        &self,
        page: &ApprovalPage,
        check_code: Option<&str>,
    ) -> Result<(), PhoneError> {
        let mut body = json!({"scanId": page.scan_id, "action": "CONFIRM"});
        if let (Some(code), Value::Object(m)) = (check_code, &mut body) {
            m.insert("checkCode".into(), code.into());
        }
        self.act(page, body).await
    }

    /// Taps Cancel.
    pub async fn cancel(&self, page: &ApprovalPage) -> Result<(), PhoneError> {
        self.act(page, json!({"scanId": page.scan_id, "action": "CANCEL"}))
            .await
    }

    /// The call `phone.js` makes: session cookie plus the page's CSRF token in a header.
    async fn act(&self, page: &ApprovalPage, body: Value) -> Result<(), PhoneError> {
        if page.state != PageState::Approve {
            return Err(PhoneError::WrongState(page.state));
        }
        let resp = self
            .client
            .post(&page.action_url)
            .header("x-csrf-token", &page.csrf_token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let reply: Value = resp.json().await.unwrap_or(Value::Null);
        if reply.get("statusCode").and_then(Value::as_u64) == Some(200) {
            return Ok(());
        }
        Err(PhoneError::Rejected {
            code: reply
                .get("apiCode")
                .and_then(Value::as_u64)
                .map(|c| c as u32)
                .unwrap_or(u32::from(status)),
            message: reply
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Signs in through `POST /api/v3/signin` (what a phone app does) and returns the access
    /// token, for calling the JSON phone endpoints of G2, G3 and G4 directly.
    pub async fn sign_in_api(
        &self,
        base_url: &str,
        username: &str,
        password: &str,
    ) -> Result<String, PhoneError> {
        let resp = self
            .client
            .post(format!("{}/api/v3/signin", base_url.trim_end_matches('/')))
            .json(&json!({
                "connection": "PASSWORD",
                "passwordPayload": {"username": username, "password": password},
            }))
            .send()
            .await?;
        let reply: Value = resp.json().await?;
        match reply.pointer("/data/access_token").and_then(Value::as_str) {
            Some(t) => Ok(t.to_owned()),
            None => Err(PhoneError::SignInRefused(
                reply
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )),
        }
    }
}

async fn page_from(resp: reqwest::Response) -> Result<ApprovalPage, PhoneError> {
    let status = resp.status().as_u16();
    let url = resp.url().clone();
    let html = resp.text().await?;
    parse_page(&url, status, html)
}

fn parse_page(url: &url::Url, status: u16, html: String) -> Result<ApprovalPage, PhoneError> {
    let not_a_page = || PhoneError::NotAPage {
        status,
        snippet: html.chars().take(200).collect(),
    };
    let main_tag = tag_after(&html, "<main id=\"qrl\"").ok_or_else(not_a_page)?;
    let state = match attr(main_tag, "data-state").as_deref() {
        Some("signin") => PageState::SignIn,
        Some("approve") => PageState::Approve,
        Some("authorized") => PageState::Authorized,
        Some("cancelled") => PageState::Cancelled,
        Some("error") => PageState::Error,
        Some("enter-code") => PageState::EnterCode,
        Some("signup") => PageState::SignUp,
        Some("signup-off") => PageState::SignUpOff,
        _ => return Err(not_a_page()),
    };
    let resolve = |href: &str| url.join(href).map(|u| u.to_string()).ok();
    let action_url = attr(main_tag, "data-action-url")
        .and_then(|h| resolve(&h))
        .unwrap_or_default();
    let form_url = |id: &str| {
        html.match_indices("<form method=\"post\"")
            .filter_map(|(i, _)| tag_after(&html[i..], "<form"))
            .find(|t| attr(t, "id").as_deref() == Some(id))
            .and_then(|t| attr(t, "action"))
            .and_then(|h| resolve(&h))
    };
    let sign_in_url = form_url("signin");
    let sign_out_url = form_url("signout");
    let sign_up_url = form_url("signup");
    let sign_up_link = tag_after(&html, "<a id=\"signup-link\"")
        .and_then(|t| attr(t, "href"))
        .and_then(|h| resolve(&h));
    let csrf_token = tag_after(&html, "<meta name=\"csrf-token\"")
        .and_then(|t| attr(t, "content"))
        .unwrap_or_default();
    let lang = tag_after(&html, "<html")
        .and_then(|t| attr(t, "lang"))
        .unwrap_or_default();
    let check_code_choices = html
        .match_indices("<button type=\"button\" class=\"code\"")
        .filter_map(|(i, _)| {
            let rest = &html[i..];
            rest.find('>')
                .and_then(|end| attr(&rest[..end], "data-code"))
        })
        .collect();
    Ok(ApprovalPage {
        url: url.to_string(),
        http_status: status,
        state,
        scan_id: attr(main_tag, "data-scan-id").unwrap_or_default(),
        error_code: attr(main_tag, "data-code").and_then(|c| c.parse().ok()),
        error_message: field(&html, "error"),
        app_name: field(&html, "app"),
        signed_in_as: field(&html, "user"),
        requester: PageRequester {
            device_name: field(&html, "deviceName"),
            platform: field(&html, "platform"),
            app_name: field(&html, "appName"),
            app_version: field(&html, "appVersion"),
            ip: field(&html, "ip"),
            time: field(&html, "time"),
        },
        check_code_choices,
        csrf_token,
        lang,
        network_warning: field(&html, "network-warning"),
        html,
        action_url,
        sign_in_url,
        sign_out_url,
        sign_up_url,
        sign_up_link,
    })
}

/// The attributes of the tag that starts with `start` (up to its `>`).
fn tag_after<'a>(html: &'a str, start: &str) -> Option<&'a str> {
    let i = html.find(start)?;
    let rest = &html[i..];
    let end = rest.find('>')?;
    Some(&rest[..end])
}

/// `name="value"` inside a tag, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let i = tag.find(&needle)? + needle.len();
    let rest = &tag[i..];
    let end = rest.find('"')?;
    Some(unescape(&rest[..end]))
}

/// The text of the element carrying `data-field="name"`.
fn field(html: &str, name: &str) -> Option<String> {
    let needle = format!("data-field=\"{name}\"");
    let i = html.find(&needle)?;
    let rest = &html[i..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    let text = unescape(rest[start..end].trim());
    (!text.is_empty()).then_some(text)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_unescapes() {
        let html = r#"<!doctype html><html lang="en"><head><meta name="csrf-token" content="abc"></head>
<main id="qrl" data-state="approve" data-code="" data-scan-id="S1" data-action-url="/api/v3/set-qrcode-status">
<dd data-field="deviceName">&lt;b&gt;PC&amp;</dd><dd data-field="app">Demo</dd>
<button type="button" class="code" data-code="12" aria-pressed="false">12</button>
<button type="button" class="code" data-code="34" aria-pressed="false">34</button></main>"#;
        let url = url::Url::parse("http://h:1/s/S1").expect("url");
        let p = parse_page(&url, 200, html.into()).expect("page");
        assert_eq!(p.state, PageState::Approve);
        assert_eq!(p.requester.device_name.as_deref(), Some("<b>PC&"));
        assert_eq!(p.app_name.as_deref(), Some("Demo"));
        assert_eq!(p.check_code_choices, vec!["12", "34"]);
        assert_eq!(p.csrf_token, "abc");
        assert_eq!(p.action_url, "http://h:1/api/v3/set-qrcode-status");
        assert_eq!(p.lang, "en");
        assert!(p.requester.platform.is_none());
    }
}
