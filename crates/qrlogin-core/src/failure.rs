//! The one place every failure is sorted (docs/contracts.md §6): what kind of problem it was, in
//! words a person can act on, and what the engine does next. Only a definite answer from the
//! server ends an attempt; everything that may pass is retried.
//!
//! Nothing here ever quotes a reply: a message names the kind of problem and at most an HTTP
//! status or a business code, and the log line records status, length and kind.

use serde::Serialize;

use crate::error::{codes, CoreError, ErrorKind, Shape};
use crate::lang::Lang;

/// What kind of problem a failure was. The wire name (`webPage`, ...) is in `failed` and
/// `retrying` events as `problem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Problem {
    // ---- transient: the path to the server or its state; retried ----
    /// No connection: refused, reset, DNS.
    Unreachable,
    /// No complete reply within the request timeout.
    Timeout,
    /// HTTP 5xx, or a business code for an internal error.
    ServerError,
    /// HTTP 429 or business code 429.
    RateLimited,
    /// An HTML page (a proxy's error page, a captive portal, a web server's index).
    WebPage,
    /// A body that is not JSON at all.
    NotJson,
    /// An empty body where a reply was due.
    Empty,
    /// The body ends early (a JSON document cut off, or the connection closed mid-body).
    Truncated,
    /// The body is larger than the reply limit.
    TooLarge,
    /// The body is not UTF-8.
    NotText,
    /// JSON that lacks what the generation promises (no code, no data, no handle, unknown status).
    Incomplete,
    /// A redirect to another host or from https to http, which the client refuses.
    Redirected,
    /// The server speaks another scheme than `server.url` says: an `https://` URL at a plain HTTP
    /// server, or `http://` at an HTTPS one. Retried (the server may be being reconfigured), and
    /// the message says what to check.
    WrongScheme,
    /// Another HTTP status without a sign-in reply (404 from a wrong path, 401/403 from a gateway).
    UnexpectedStatus,
    /// A business code this client does not know.
    ServerCode,
    // ---- definite: the server's own answer; the attempt does not go on with this QR ----
    /// The QR is gone (unknown, expired, scanned by someone else, its ticket spent or expired):
    /// only a new QR helps.
    QrGone,
    /// The server refused us: wrong PKCE verifier or app secret, not allowed, not signed in.
    Refused,
    /// The server does not know the app (or the user pool).
    UnknownApp,
    /// The server calls the request itself invalid (code 400): a setting does not fit it.
    BadRequest,
    /// Our own configuration is missing or invalid.
    Config,
}

/// What the engine does after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait (jittered back-off) and send the same request again.
    Retry,
    /// This QR is finished: show a new one.
    NewQr,
    /// End the attempt and say what to fix.
    Stop,
}

/// One classified failure: the problem and the few facts a log line or a message may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub problem: Problem,
    /// The HTTP status, when there was a reply.
    pub status: Option<u16>,
    /// The business code, when the server gave one.
    pub code: Option<i64>,
    /// The length of the reply body read, when there was one.
    pub len: Option<usize>,
    /// Our own configuration message (only for [`Problem::Config`]; never server text).
    config: Option<String>,
    /// For [`Problem::WrongScheme`]: whether `server.url` says https (and the server is plain).
    url_is_https: bool,
}

impl Failure {
    /// Sort one error. This is the table of docs/contracts.md §6.
    pub fn of(e: &CoreError) -> Self {
        let mut f = Failure {
            problem: Problem::Incomplete,
            status: None,
            code: e.code(),
            len: None,
            config: None,
            url_is_https: false,
        };
        f.problem = match e {
            CoreError::Network(_) => Problem::Unreachable,
            CoreError::Timeout(_) => Problem::Timeout,
            CoreError::RateLimited { .. } => {
                f.status = Some(429);
                Problem::RateLimited
            }
            CoreError::Redirect { .. } => Problem::Redirected,
            CoreError::WrongScheme { url_is_https } => {
                f.url_is_https = *url_is_https;
                Problem::WrongScheme
            }
            CoreError::TooLarge { .. } => Problem::TooLarge,
            CoreError::BadReply { status, len, shape } => {
                f.status = Some(*status);
                f.len = Some(*len);
                reply_problem(*status, *shape)
            }
            CoreError::Protocol(_) => Problem::Incomplete,
            CoreError::Server { code, .. } | CoreError::Denied { code, .. } => {
                business_problem(*code)
            }
            CoreError::Config(m) => {
                f.config = Some(m.clone());
                Problem::Config
            }
        };
        f
    }

    pub fn next(&self) -> Next {
        self.problem.next()
    }

    pub fn kind(&self) -> ErrorKind {
        self.problem.kind()
    }

    /// The detail line for a person, in `lang`: what kind of problem it was and, for a definite
    /// one, what to fix. Never a reply's content.
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        let status = self.status.unwrap_or_default();
        let code = self.code.unwrap_or_default();
        let pick = |zh_text: String, en_text: String| if zh { zh_text } else { en_text };
        match self.problem {
            Problem::Unreachable => pick(
                "无法连接登录服务器。".into(),
                "The sign-in server cannot be reached.".into(),
            ),
            Problem::Timeout => pick(
                "登录服务器没有及时应答。".into(),
                "The sign-in server did not answer in time.".into(),
            ),
            Problem::ServerError => match self.status {
                Some(s) if s >= 500 => pick(
                    format!("登录服务器（或它前面的代理）出现故障（HTTP {s}）。"),
                    format!("The sign-in server (or a proxy in front of it) reported an error (HTTP {s})."),
                ),
                _ => pick(
                    format!("登录服务器出现内部错误（错误码 {code}）。"),
                    format!("The sign-in server reported an internal error (code {code})."),
                ),
            },
            Problem::RateLimited => pick(
                "登录服务器繁忙，要求稍后再试。".into(),
                "The sign-in server is busy and asked to wait.".into(),
            ),
            Problem::WebPage => pick(
                "服务器返回了一个网页，而不是登录应答。".into(),
                "The server answered with a web page instead of a sign-in reply.".into(),
            ),
            Problem::NotJson => pick(
                "服务器的应答不是登录应答（不是 JSON）。".into(),
                "The server's reply is not a sign-in reply (not JSON).".into(),
            ),
            Problem::Empty => pick(
                "服务器返回了空的应答。".into(),
                "The server sent an empty reply.".into(),
            ),
            Problem::Truncated => pick(
                "服务器的应答不完整，中途被截断。".into(),
                "The server's reply was cut off.".into(),
            ),
            Problem::TooLarge => pick(
                "服务器的应答过大。".into(),
                "The server's reply was too large.".into(),
            ),
            Problem::NotText => pick(
                "服务器的应答不是有效的文本（UTF-8 无效）。".into(),
                "The server's reply is not valid text (invalid UTF-8).".into(),
            ),
            Problem::Incomplete => pick(
                "服务器的应答缺少登录所需的内容。".into(),
                "The server's reply lacks what a sign-in reply must contain.".into(),
            ),
            Problem::WrongScheme if self.url_is_https => pick(
                "此地址的服务器使用明文 HTTP，而不是 HTTPS：请检查 server.url（改用 http://，或服务器的 HTTPS 端口）。".into(),
                "The server at this address answers in plain HTTP, not HTTPS: check server.url (http://, or the server's HTTPS port).".into(),
            ),
            Problem::WrongScheme => pick(
                "此地址的服务器使用 HTTPS：请在 server.url 中使用 https://。".into(),
                "The server at this address speaks HTTPS: use https:// in server.url.".into(),
            ),
            Problem::Redirected => pick(
                "服务器要求跳转到其他主机或非加密地址，已拒绝。".into(),
                "The server redirected to another host or to plain http, which is refused.".into(),
            ),
            Problem::UnexpectedStatus if status == 404 => pick(
                "此地址没有登录服务（HTTP 404）：请检查 server.url 和 server.dialect。".into(),
                "There is no sign-in service at this address (HTTP 404): check server.url and server.dialect.".into(),
            ),
            Problem::UnexpectedStatus => pick(
                format!("服务器返回了 HTTP {status}，而不是登录应答。"),
                format!("The server answered HTTP {status} instead of a sign-in reply."),
            ),
            Problem::ServerCode => pick(
                format!("登录服务器返回了错误码 {code}。"),
                format!("The sign-in server answered with error code {code}."),
            ),
            Problem::QrGone => pick(
                "二维码已失效。".into(),
                "The QR code is no longer valid.".into(),
            ),
            Problem::Refused => pick(
                format!("服务器拒绝了本次登录（错误码 {code}）：请检查 server.app_secret，或应用的 PKCE / 客户端换取设置。"),
                format!("The server refused this sign-in (code {code}): check server.app_secret, or the app's PKCE / client exchange setting."),
            ),
            Problem::UnknownApp => pick(
                format!("服务器不认识此应用（错误码 {code}）：请检查 server.app_id 和 server.user_pool_id。"),
                format!("The server does not know this app (code {code}): check server.app_id and server.user_pool_id."),
            ),
            Problem::BadRequest => pick(
                format!("服务器认为请求无效（错误码 {code}）：请检查 server.dialect、server.scene 和 server.custom_data。"),
                format!("The server calls the request invalid (code {code}): check server.dialect, server.scene and server.custom_data."),
            ),
            Problem::Config => {
                let m = self.config.clone().unwrap_or_default();
                pick(format!("配置有误：{m}"), format!("Configuration: {m}"))
            }
        }
    }
}

impl Problem {
    pub fn next(self) -> Next {
        match self {
            Problem::QrGone => Next::NewQr,
            Problem::Refused | Problem::UnknownApp | Problem::BadRequest | Problem::Config => {
                Next::Stop
            }
            _ => Next::Retry,
        }
    }

    /// The coarse class the UI has known since the first release (`failed.kind`).
    pub fn kind(self) -> ErrorKind {
        match self {
            Problem::Unreachable
            | Problem::Timeout
            | Problem::Redirected
            | Problem::WrongScheme => ErrorKind::Network,
            Problem::ServerError
            | Problem::RateLimited
            | Problem::UnexpectedStatus
            | Problem::ServerCode
            | Problem::QrGone => ErrorKind::Server,
            Problem::WebPage
            | Problem::NotJson
            | Problem::Empty
            | Problem::Truncated
            | Problem::TooLarge
            | Problem::NotText
            | Problem::Incomplete => ErrorKind::Protocol,
            Problem::Refused => ErrorKind::Denied,
            Problem::UnknownApp | Problem::BadRequest | Problem::Config => ErrorKind::Config,
        }
    }

    /// The wire name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Unreachable => "unreachable",
            Problem::Timeout => "timeout",
            Problem::ServerError => "serverError",
            Problem::RateLimited => "rateLimited",
            Problem::WebPage => "webPage",
            Problem::NotJson => "notJson",
            Problem::Empty => "empty",
            Problem::Truncated => "truncated",
            Problem::TooLarge => "tooLarge",
            Problem::NotText => "notText",
            Problem::Incomplete => "incomplete",
            Problem::Redirected => "redirected",
            Problem::WrongScheme => "wrongScheme",
            Problem::UnexpectedStatus => "unexpectedStatus",
            Problem::ServerCode => "serverCode",
            Problem::QrGone => "qrGone",
            Problem::Refused => "refused",
            Problem::UnknownApp => "unknownApp",
            Problem::BadRequest => "badRequest",
            Problem::Config => "config",
        }
    }
}

/// An unusable reply: the status decides first (5xx is the server's trouble whatever the body),
/// then what the body looks like.
fn reply_problem(status: u16, shape: Shape) -> Problem {
    match (status, shape) {
        (500..=599, _) => Problem::ServerError,
        (429, _) => Problem::RateLimited,
        (200..=299, Shape::WebPage) => Problem::WebPage,
        (200..=299, Shape::NotText) => Problem::NotText,
        (200..=299, Shape::NotJson) => Problem::NotJson,
        (200..=299, Shape::Empty) => Problem::Empty,
        (_, Shape::Truncated) => Problem::Truncated,
        (200..=299, Shape::Incomplete) => Problem::Incomplete,
        (404, _) => Problem::UnexpectedStatus,
        (_, Shape::WebPage) => Problem::WebPage,
        _ => Problem::UnexpectedStatus,
    }
}

/// A business code in a well-formed envelope (PROTOCOL.md §5).
fn business_problem(code: i64) -> Problem {
    match code {
        codes::QR_NOT_FOUND | codes::QR_EXPIRED | codes::QR_TAKEN | codes::TICKET_INVALID => {
            Problem::QrGone
        }
        codes::PKCE_MISMATCH | codes::FORBIDDEN | codes::NOT_SIGNED_IN | 401 => Problem::Refused,
        codes::UNKNOWN_APP | codes::UNKNOWN_USER_POOL => Problem::UnknownApp,
        codes::BAD_REQUEST => Problem::BadRequest,
        codes::TOO_MANY_REQUESTS => Problem::RateLimited,
        500..=599 | 5000 => Problem::ServerError,
        _ => Problem::ServerCode,
    }
}

/// What a body looks like, without keeping any of it.
pub fn shape_of(body: &[u8]) -> Shape {
    let start = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body)
        .trim_ascii_start();
    if start.is_empty() {
        return Shape::Empty;
    }
    if start.first() == Some(&b'<') {
        return Shape::WebPage;
    }
    if std::str::from_utf8(body).is_err() {
        return Shape::NotText;
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(_) => Shape::Incomplete,
        Err(e) if e.is_eof() => Shape::Truncated,
        Err(_) => Shape::NotJson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(shape_of(b""), Shape::Empty);
        assert_eq!(shape_of(b"  \n"), Shape::Empty);
        assert_eq!(shape_of(b"<!DOCTYPE html><p>hi"), Shape::WebPage);
        assert_eq!(shape_of(b"\xEF\xBB\xBF <html>"), Shape::WebPage);
        assert_eq!(
            shape_of(b"{\"code\":200,\"data\":{\"x\":\"\xff\"}}"),
            Shape::NotText
        );
        assert_eq!(
            shape_of(b"{\"code\":200,\"data\":{\"random\": tru"),
            Shape::Truncated
        );
        assert_eq!(shape_of(b"{\"code\":200,\"data\":"), Shape::Truncated);
        assert_eq!(shape_of(b"OK"), Shape::NotJson);
        assert_eq!(shape_of(b"{\"code\":200}"), Shape::Incomplete);
    }

    #[test]
    fn only_definite_answers_stop() {
        let stop = [
            CoreError::business(2243, "x"),
            CoreError::business(403, "x"),
            CoreError::business(2011, "x"),
            CoreError::business(400, "x"),
            CoreError::Config("server.app_id is empty".into()),
        ];
        for e in &stop {
            assert_eq!(Failure::of(e).next(), Next::Stop, "{e:?}");
        }
        for code in [2241, 2242, 2244, 2245] {
            assert_eq!(
                Failure::of(&CoreError::business(code, "x")).next(),
                Next::NewQr
            );
        }
        let retry = [
            CoreError::Network("refused".into()),
            CoreError::Timeout(std::time::Duration::from_secs(10)),
            CoreError::RateLimited { retry_after: None },
            CoreError::TooLarge { limit: 1 },
            CoreError::Redirect {
                reason: "cross-host",
            },
            CoreError::business(5000, "internal"),
            CoreError::business(1234, "who knows"),
            CoreError::Protocol(crate::error::ProtocolError::new("no data")),
        ];
        for e in &retry {
            assert_eq!(Failure::of(e).next(), Next::Retry, "{e:?}");
        }
        for status in [200, 401, 403, 404, 418, 500, 502, 503] {
            for shape in [
                Shape::WebPage,
                Shape::NotJson,
                Shape::Empty,
                Shape::Truncated,
                Shape::NotText,
                Shape::Incomplete,
            ] {
                let e = CoreError::BadReply {
                    status,
                    len: 3,
                    shape,
                };
                assert_eq!(Failure::of(&e).next(), Next::Retry, "{e:?}");
            }
        }
    }

    #[test]
    fn messages_name_the_problem_in_both_languages() {
        let page = Failure::of(&CoreError::BadReply {
            status: 200,
            len: 40,
            shape: Shape::WebPage,
        });
        assert_eq!(
            page.message(Lang::En),
            "The server answered with a web page instead of a sign-in reply."
        );
        assert_eq!(
            page.message(Lang::ZhCn),
            "服务器返回了一个网页，而不是登录应答。"
        );
        let big = Failure::of(&CoreError::TooLarge { limit: 1 << 20 });
        assert_eq!(big.message(Lang::En), "The server's reply was too large.");
        let gw = Failure::of(&CoreError::BadReply {
            status: 502,
            len: 60,
            shape: Shape::WebPage,
        });
        assert!(gw.message(Lang::En).contains("HTTP 502"));
        let app = Failure::of(&CoreError::business(2011, "应用不存在"));
        assert!(app.message(Lang::En).contains("server.app_id"));
        assert!(
            !app.message(Lang::ZhCn).contains("应用不存在"),
            "never the server's text"
        );
    }
}
