//! The four Authing generations (PROTOCOL.md §2), one router each, and what they share. A
//! generation module holds only what is its own: paths, field names, status encodings and its
//! envelope ([`crate::http::reply`]); the request context, the rate limits and the replies come
//! from the HTTP layer, the operations from the domain (`service`).

pub mod g1;
pub mod g2;
pub mod g3;
pub mod g4;
pub mod history;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::crypto::pkce_matches;
use crate::devicecode::display_user_code;
use crate::errors::ApiError;
use crate::http::auth::phone_user;
use crate::http::request::long_poll_params;
use crate::http::{AppState, Ctx, Envelope};
use crate::i18n::Lang;
use crate::model::{now_ms, rfc3339, App, Generation, QrSession, Requester, Status, User};
use crate::service::{Exchanged, GenerateRequest};

/// A query string, as the handlers read it.
pub(crate) type Params = HashMap<String, String>;

// ---------------------------------------------------------------------------------------------
// Generate

/// Extension fields of a POST generate (G3, G4).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateExtensions {
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub requester: Option<Requester>,
}

impl GenerateExtensions {
    pub fn request(self, custom_data: Option<Value>) -> GenerateRequest {
        GenerateRequest {
            code_challenge: self.code_challenge,
            code_challenge_method: self.code_challenge_method,
            requester: self.requester,
            custom_data,
            ..GenerateRequest::default()
        }
    }
}

/// Extension fields of a GET generate (G1, G2), as query parameters.
pub(crate) const QUERY_EXTENSIONS: [&str; 6] = [
    "codeChallenge",
    "codeChallengeMethod",
    "deviceName",
    "platform",
    "appName",
    "appVersion",
];

/// The request of a GET generate (G1, G2): its extensions as query parameters.
pub(crate) fn query_request(
    q: &HashMap<String, String>,
    custom_data: Option<Value>,
) -> GenerateRequest {
    let get = |k: &str| q.get(k).cloned().filter(|v| !v.trim().is_empty());
    let r = Requester {
        device_name: get("deviceName"),
        platform: get("platform"),
        app_name: get("appName"),
        app_version: get("appVersion"),
        ip: None,
        time: 0,
    };
    GenerateRequest {
        code_challenge: q.get("codeChallenge").cloned(),
        code_challenge_method: q.get("codeChallengeMethod").cloned(),
        requester: (r != Requester::default()).then_some(r),
        custom_data,
        ..GenerateRequest::default()
    }
}

/// Makes the session of a generate from the client at `ctx.ip`.
pub(crate) async fn generate<E: Envelope, L>(
    ctx: &Ctx<E, L>,
    generation: Generation,
    app: &App,
    req: GenerateRequest,
) -> Result<QrSession, ApiError> {
    let req = GenerateRequest {
        ip: Some(ctx.ip),
        ..req
    };
    let state = &ctx.state;
    state
        .server
        .generate(generation, app, req, &state.public_url)
        .await
}

/// A generate reply: the generation's own fields plus ours (contracts.md §1).
pub(crate) fn with_generate_extras(data: Value, session: &QrSession) -> Value {
    let mut m = Map::new();
    m.insert("qrContent".into(), session.qr_content.clone().into());
    m.insert("scanId".into(), session.scan_id.clone().into());
    m.insert("expiresIn".into(), session.expires_in_secs(now_ms()).into());
    if let Some(code) = &session.check_code {
        m.insert("checkCode".into(), code.clone().into());
    }
    if let Some(code) = &session.user_code {
        // RFC 8628's names, the code as people read it (`WDJB-MJHT`).
        m.insert("userCode".into(), display_user_code(&code.code).into());
        m.insert("verificationUri".into(), code.entry_url.clone().into());
    }
    merged(data, m)
}

/// `data` (an object) with the fields of `extra` added.
pub(crate) fn merged(mut data: Value, extra: Map<String, Value>) -> Value {
    if let Value::Object(m) = &mut data {
        m.extend(extra);
    }
    data
}

// ---------------------------------------------------------------------------------------------
// Poll

/// A requester's poll of the session whose handle is the query parameter `param` (`random` or
/// `qrcodeId`), held while `wait`/`known` say so (PROTOCOL.md §4.5).
pub(crate) async fn poll<E: Envelope, L>(
    ctx: &mut Ctx<E, L>,
    q: &HashMap<String, String>,
    param: &str,
) -> Result<Arc<QrSession>, ApiError> {
    let handle = q
        .get(param)
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .ok_or(ApiError::QrNotFound)?;
    let (wait, known) = long_poll_params(q);
    if wait.is_some_and(|w| w > 0) && known.is_some() {
        ctx.detach_for_hold();
    }
    ctx.state.long_poll(ctx.ip, handle, wait, known).await
}

/// A poll reply with the fields of a rotating QR that turned since the generate.
pub(crate) async fn with_rotation(
    state: &AppState,
    data: Value,
    s: &QrSession,
) -> Result<Value, ApiError> {
    Ok(merged(data, state.rotation_fields(s).await?))
}

/// The user who scanned, if any (a recent copy shared, not copied: polls read no database).
pub(crate) async fn scanner(
    state: &AppState,
    s: &QrSession,
) -> Result<Option<Arc<User>>, ApiError> {
    Ok(state.server.scanner_of(s).await?)
}

/// What a `returnFullUserInfo` poll carries once authorized.
pub(crate) enum PollUser {
    /// The first authorized poll: the user and the session's tokens.
    Delivered(Box<Exchanged>),
    /// Every later poll: the user, without a token (PROTOCOL.md §4.2, delivered once).
    Already(Arc<User>),
}

/// With `returnFullUserInfo` on, the first authorized poll carries the user with tokens. When
/// the requester sent a PKCE challenge, only a poll with its `codeVerifier` does: any other
/// gets the ticket, which in turn needs the verifier (PROTOCOL.md §4.2), so a photo of an
/// `authing-json` QR cannot collect the tokens first.
pub(crate) async fn full_user_on_poll<E: Envelope, L>(
    ctx: &Ctx<E, L>,
    s: &QrSession,
    q: &HashMap<String, String>,
) -> Result<Option<PollUser>, ApiError> {
    let state = &ctx.state;
    if s.status_at(now_ms()) != Status::Authorized {
        return Ok(None);
    }
    if let Some(challenge) = &s.code_challenge {
        let verifier = q.get("codeVerifier").map(String::as_str);
        if !pkce_matches(verifier.unwrap_or(""), challenge) {
            return Ok(None);
        }
    }
    let Some(app) = state.server.app_copy(&s.app_id).await? else {
        return Ok(None);
    };
    if !app.return_full_user_info {
        return Ok(None);
    }
    if let Some(ex) = state
        .server
        .deliver_on_poll(s, &app, Some(ctx.ip), &state.public_url)
        .await?
    {
        return Ok(Some(PollUser::Delivered(Box::new(ex))));
    }
    Ok(scanner(state, s).await?.map(PollUser::Already))
}

/// A generation's user object with a token: `(state, user, token, token expiry)`.
pub(crate) type UserView = fn(&AppState, &User, &str, i64) -> Value;

/// `userInfo` of a G2/G3 poll: the user with tokens on the first authorized poll, without them
/// on later ones, before that the scanner's nickname and photo, or `{}` before a scan.
pub(crate) async fn poll_user_info<E: Envelope, L>(
    ctx: &Ctx<E, L>,
    s: &QrSession,
    q: &HashMap<String, String>,
    view: UserView,
) -> Result<Value, ApiError> {
    let state = &ctx.state;
    Ok(match full_user_on_poll(ctx, s, q).await? {
        Some(PollUser::Delivered(ex)) => with_tokens(
            view(state, &ex.user, &ex.access.token, ex.access.expires_at),
            &ex,
        ),
        Some(PollUser::Already(user)) => without_tokens(view(state, &user, "", 0)),
        None => match scanner(state, s).await? {
            Some(user) => brief_user(state, &user),
            None => json!({}),
        },
    })
}

pub(crate) fn status_description(status: Status, lang: Lang) -> &'static str {
    match status {
        Status::Pending => lang.pick("二维码还没有被扫描", "The QR code has not been scanned"),
        Status::Scanned => lang.pick("用户已扫码，等待确认", "Scanned, waiting for confirmation"),
        Status::Authorized => lang.pick("用户已授权", "The user authorized the sign-in"),
        Status::Cancelled => lang.pick("用户取消授权", "The user cancelled"),
        Status::Expired => lang.pick("二维码已过期", "The QR code has expired"),
    }
}

// ---------------------------------------------------------------------------------------------
// Exchange

/// The body of a ticket exchange (G2, G3; G4 adds client credentials).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TicketBody {
    #[serde(default)]
    pub ticket: String,
    #[serde(default)]
    pub code_verifier: Option<String>,
}

/// G2/G3's exchange: the ticket of the body for the user object `view` with its tokens.
pub(crate) async fn exchange_for_user<E: Envelope, L>(
    ctx: &Ctx<E, L>,
    view: UserView,
) -> Result<Value, ApiError> {
    let b: TicketBody = ctx.json()?;
    let auth = ctx.exchange_auth(b.code_verifier);
    let state = &ctx.state;
    let ex = state
        .server
        .exchange(&b.ticket, &auth, Some(ctx.ip), &state.public_url)
        .await?;
    Ok(with_tokens(
        view(state, &ex.user, &ex.access.token, ex.access.expires_at),
        &ex,
    ))
}

// ---------------------------------------------------------------------------------------------
// The phone side

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhoneAction {
    Scan,
    Confirm,
    Cancel,
}

impl PhoneAction {
    /// G4's `action` field.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "SCAN" | "SCANNED" => Some(PhoneAction::Scan),
            "CONFIRM" => Some(PhoneAction::Confirm),
            "CANCEL" => Some(PhoneAction::Cancel),
            _ => None,
        }
    }

    /// G2/G3's last path segment, with the success message of each.
    pub fn from_path(s: &str) -> Option<(Self, (&'static str, &'static str))> {
        match s {
            "scanned" => Some((PhoneAction::Scan, ("二维码扫描确认成功", "QR code scanned"))),
            "confirm" => Some((PhoneAction::Confirm, ("授权登录成功", "Sign-in authorized"))),
            "cancel" => Some((PhoneAction::Cancel, ("取消授权成功", "Sign-in cancelled"))),
            _ => None,
        }
    }
}

/// The identifier a phone request named the session by, echoed only if it was the handle.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneBody {
    #[serde(default)]
    pub qrcode_id: Option<String>,
    #[serde(default)]
    pub random: Option<String>,
    #[serde(default)]
    pub scan_id: Option<String>,
    #[serde(default)]
    pub check_code: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}

impl PhoneBody {
    pub fn id(&self) -> Option<&str> {
        self.scan_id
            .as_deref()
            .or(self.qrcode_id.as_deref())
            .or(self.random.as_deref())
    }
}

/// The phone side shared by G2, G3 and G4: sign-in required, then scan, confirm or cancel the
/// session named by `scanId` or by the handle of an Authing QR.
pub(crate) async fn phone_action<E: Envelope, L>(
    ctx: &Ctx<E, L>,
    b: &PhoneBody,
    action: PhoneAction,
) -> Result<QrSession, ApiError> {
    let state = &ctx.state;
    let user = phone_user(state, &ctx.headers).await?;
    let id = b
        .id()
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .ok_or(ApiError::InvalidQr)?;
    state.limit_user_code_guess(id, ctx.ip)?;
    let session = state.server.session_for_phone(id).await?;
    let check_code = b.check_code.as_deref();
    let (result, confirm) = match action {
        PhoneAction::Scan => return state.server.scan(&session, &user).await,
        PhoneAction::Confirm => (
            state.server.confirm(&session, &user, check_code).await,
            true,
        ),
        PhoneAction::Cancel => (state.server.cancel(&session, &user).await, false),
    };
    state
        .server
        .record_decision(&session, &user, ctx.ip, confirm, &result)
        .await;
    result
}

/// G2/G3's phone reply: the phone-side `status` (0, 1 agreed, -1 cancelled) and description,
/// and the handle echoed under `echo` (`qrcodeId` or `random`) when the request named the
/// session by it (PROTOCOL.md §4.4).
pub(crate) async fn phone_status<E: Envelope, L>(
    ctx: &Ctx<E, L>,
    action: PhoneAction,
    echo: &str,
) -> Result<Value, ApiError> {
    let b: PhoneBody = ctx.json()?;
    let s = phone_action(ctx, &b, action).await?;
    let status = s.status_at(now_ms());
    let mut data = json!({
        "status": match status {
            Status::Authorized => 1,
            Status::Cancelled => -1,
            _ => 0,
        },
        "description": status_description(status, ctx.lang),
    });
    let echoed = match echo {
        "qrcodeId" => b.qrcode_id,
        _ => b.random,
    };
    if let (Some(id), Value::Object(m)) = (echoed, &mut data) {
        m.insert(echo.into(), id.into());
    }
    Ok(data)
}

// ---------------------------------------------------------------------------------------------
// User objects of G1-G3

/// What a poll may show before authorization: nickname and photo only.
pub(crate) fn brief_user(state: &AppState, user: &User) -> Value {
    json!({"nickname": user.display_name(), "photo": state.photo_of(user)})
}

/// A user object of an exchange: the user with its access token, plus the refresh token as
/// extra fields (`refreshToken`, `refreshTokenExpiredAt`; docs/contracts.md §1).
pub(crate) fn with_tokens(mut user: Value, ex: &Exchanged) -> Value {
    if let Value::Object(m) = &mut user {
        m.insert("token".into(), ex.access.token.clone().into());
        m.insert(
            "tokenExpiredAt".into(),
            rfc3339(ex.access.expires_at).into(),
        );
        if let Some(r) = &ex.refresh {
            m.insert("refreshToken".into(), r.token.clone().into());
            m.insert("refreshTokenExpiredAt".into(), rfc3339(r.expires_at).into());
        }
    }
    user
}

/// A user object whose token was already delivered: the same fields, without any token.
pub(crate) fn without_tokens(mut user: Value) -> Value {
    if let Value::Object(m) = &mut user {
        m.remove("token");
        m.remove("tokenExpiredAt");
    }
    user
}

/// G1 and G2 user objects (`_id`, `lastIP`), with a token.
pub(crate) fn user_legacy(
    state: &AppState,
    user: &User,
    token: &str,
    token_expires_at: i64,
) -> Value {
    json!({
        "_id": user.id,
        "id": user.id,
        "email": user.email,
        "emailVerified": false,
        "oauth": "",
        "registerMethod": "default:username-password",
        "username": user.username,
        "nickname": user.display_name(),
        "company": "",
        "photo": state.photo_of(user),
        "browser": "",
        "phone": user.phone,
        "token": token,
        "tokenExpiredAt": rfc3339(token_expires_at),
        "loginsCount": user.logins_count,
        "lastLogin": user.last_login.map(rfc3339),
        "lastIP": user.last_ip,
        "signedUp": rfc3339(user.created_at),
        "blocked": false,
        "isDeleted": false,
    })
}
