//! The crate's errors: [`Error`] for operations (open, add, serve) and [`ApiError`] for what a
//! client sees on the wire, with its Authing code and a message in zh-CN or en-US.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::i18n::Lang;

/// What can go wrong when opening, managing or starting a server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("data directory {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("cannot listen on {addr}: the address is already in use (choose another port with --listen)")]
    AddrInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("a user named {0:?} already exists")]
    DuplicateUsername(String),
    #[error("no user named {0:?}")]
    UnknownUser(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error("storage: {0}")]
    Store(String),
    #[error("signing key: {0}")]
    Key(String),
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Store(e.to_string())
    }
}

/// A business error as the protocol encodes it (PROTOCOL.md §5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("QR does not exist")]
    QrNotFound,
    #[error("ticket expired or already used")]
    TicketInvalid,
    #[error("PKCE verifier mismatch")]
    PkceMismatch,
    #[error("QR expired")]
    QrExpired,
    /// A rotating QR's earlier code (a photo): expired like any old QR, with a hint.
    #[error("QR code changed")]
    QrRotated,
    #[error("QR already scanned by someone else")]
    ScannedByOther,
    #[error("not signed in")]
    NotSignedIn,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("not allowed: {0}")]
    Forbidden(Forbidden),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("invalid QR")]
    InvalidQr,
    #[error("app does not exist")]
    UnknownApp,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal error")]
    Internal,
}

/// Why a request was refused with 403; each has its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// Exchange without secret or verifier while the app does not allow client exchange.
    ClientExchange,
    /// The ticket or session belongs to another app, or the secret is wrong.
    WrongApp,
    /// Confirm or cancel by someone other than the scanner, or before a scan.
    NotScanner,
    /// The session is already decided.
    AlreadyDecided,
    /// The picked check code was wrong: the session is now cancelled.
    CheckCode,
    /// A cookie-authenticated call without the CSRF header.
    Csrf,
    /// Scan, confirm or cancel with a token from a QR exchange (PROTOCOL.md §4.6).
    NotApprover,
    /// The user is disabled by the administrator.
    UserDisabled,
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message(Lang::En))
    }
}

impl Forbidden {
    fn message(self, lang: Lang) -> &'static str {
        match self {
            Forbidden::ClientExchange => lang.pick(
                "此应用不允许在客户端换取用户信息，请使用应用密钥或 PKCE",
                "This app does not allow client-side exchange: use the app secret or PKCE",
            ),
            Forbidden::WrongApp => lang.pick(
                "应用身份校验失败",
                "The app credentials do not match this ticket",
            ),
            Forbidden::NotScanner => lang.pick(
                "只有扫码的用户可以确认或取消",
                "Only the user who scanned this QR can confirm or cancel it",
            ),
            Forbidden::AlreadyDecided => lang.pick(
                "此二维码已被确认或取消",
                "This QR has already been confirmed or cancelled",
            ),
            Forbidden::CheckCode => lang.pick(
                "校验码不正确，本次登录已取消",
                "Wrong check code: this sign-in was cancelled",
            ),
            Forbidden::Csrf => lang.pick("请求校验失败", "Request verification failed"),
            Forbidden::NotApprover => lang.pick(
                "扫码登录获得的凭证不能用于扫码或确认登录，请在手机上用账号密码登录",
                "A token from a QR sign-in cannot scan or approve sign-ins: sign in on the phone with your password",
            ),
            Forbidden::UserDisabled => lang.pick(
                "此账号已被管理员停用",
                "This account has been disabled by the administrator",
            ),
        }
    }
}

impl ApiError {
    /// The number G2/G3 put in `code` and G4 in `apiCode`.
    pub fn code(&self) -> u32 {
        match self {
            ApiError::QrNotFound => 2241,
            ApiError::TicketInvalid => 2242,
            ApiError::PkceMismatch => 2243,
            ApiError::QrExpired | ApiError::QrRotated => 2244,
            ApiError::ScannedByOther => 2245,
            ApiError::NotSignedIn => 2020,
            ApiError::BadCredentials => 2333,
            ApiError::Forbidden(_) => 403,
            ApiError::RateLimited { .. } => 429,
            ApiError::InvalidQr => 500,
            ApiError::UnknownApp => 2011,
            ApiError::BadRequest(_) => 400,
            ApiError::Internal => 5000,
        }
    }

    /// The HTTP status on G4 (and `statusCode` in its body). G1-G3 answer 200 except for 429.
    pub fn g4_http_status(&self) -> u16 {
        match self {
            ApiError::QrNotFound | ApiError::UnknownApp => 404,
            ApiError::TicketInvalid | ApiError::PkceMismatch | ApiError::BadRequest(_) => 400,
            ApiError::InvalidQr => 400,
            ApiError::QrExpired | ApiError::QrRotated => 410,
            ApiError::ScannedByOther => 409,
            ApiError::NotSignedIn | ApiError::BadCredentials => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::RateLimited { .. } => 429,
            ApiError::Internal => 500,
        }
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let s = match self {
            ApiError::QrNotFound => lang.pick("二维码不存在", "QR code does not exist"),
            ApiError::TicketInvalid => lang.pick(
                "ticket 已过期或已被使用",
                "The ticket has expired or was already used",
            ),
            ApiError::PkceMismatch => lang.pick("code_verifier 校验失败", "PKCE verifier mismatch"),
            ApiError::QrExpired => lang.pick("二维码已过期", "QR code has expired"),
            ApiError::QrRotated => lang.pick(
                "二维码已过期，请扫描屏幕上的新二维码",
                "This QR code has expired: scan the new one on the screen",
            ),
            ApiError::ScannedByOther => lang.pick(
                "二维码已被其他用户扫描",
                "This QR code was already scanned by someone else",
            ),
            ApiError::NotSignedIn => {
                lang.pick("尚未登录，无权限访问此请求", "Not signed in: sign in first")
            }
            ApiError::BadCredentials => lang.pick("用户名或密码错误", "Wrong username or password"),
            ApiError::Forbidden(f) => f.message(lang),
            ApiError::RateLimited { .. } => lang.pick(
                "请求过于频繁，请稍后再试",
                "Too many requests, try again later",
            ),
            ApiError::InvalidQr => lang.pick("无效二维码", "Invalid QR code"),
            ApiError::UnknownApp => lang.pick("应用不存在", "App does not exist"),
            ApiError::BadRequest(detail) => {
                return match lang {
                    Lang::Zh => format!("请求参数错误：{detail}"),
                    Lang::En => format!("Bad request: {detail}"),
                }
            }
            ApiError::Internal => lang.pick("服务器内部错误", "Internal server error"),
        };
        s.to_owned()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        // The detail goes to the log, never to the client.
        tracing::error!(error = %e, "storage error");
        ApiError::Internal
    }
}
