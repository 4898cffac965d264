//! The endpoints of the mini-program: `POST /api/v3/signin-by-mobile` (authing-node-sdk's
//! `signInByMobile`, the three `wechat_mini_program_*` connections) and
//! `POST /api/v3/decrypt-wechat-miniprogram-data`, plus the account-link page's routes. Both
//! endpoints are rate limited like a password sign-in: each costs a call to WeChat.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::miniprogram::{
    CodeAndPhonePayload, CodePayload, Connection, Outcome, PhonePayload, SignInError,
};
use super::wechat::{decrypt_open_data, Secret, WechatError};
use super::{link_page, WECHAT_MINIPROGRAM};
use crate::errors::ApiError;
use crate::http::oauth::token_set;
use crate::http::{limit, AppState, Ctx, Envelope, V3};
use crate::i18n::Lang;
use crate::sessions::NewSession;
use crate::store::auth::SessionKind;

/// `apiCode` of a sign-in that needs the account's password first (`--link ask`).
pub const LINK_REQUIRED: u32 = 2261;
/// `apiCode` of an unknown `extIdpConnidentifier`.
pub const UNKNOWN_SOURCE: u32 = 2262;
/// `apiCode` of a refusal by WeChat or of open data that does not decrypt or is not ours.
pub const WECHAT_FAILED: u32 = 2263;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v3/signin-by-mobile", post(sign_in_by_mobile))
        .route(
            "/api/v3/decrypt-wechat-miniprogram-data",
            post(decrypt_data),
        )
        .route("/link/{id}", get(link_page::show).post(link_page::confirm))
}

/// `SigninByMobileDto`, the fields of the WeChat mini-program connections.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInByMobileBody {
    #[serde(default)]
    ext_idp_connidentifier: String,
    #[serde(default)]
    connection: String,
    #[serde(default)]
    wechat_mini_program_code_payload: Option<CodePayload>,
    #[serde(default)]
    wechat_mini_program_phone_payload: Option<PhonePayload>,
    #[serde(default)]
    wechat_mini_program_code_and_phone_payload: Option<CodeAndPhonePayload>,
}

fn connection_of(b: SignInByMobileBody) -> Result<Connection, ApiError> {
    let missing = |field: &str, c: &str| {
        ApiError::BadRequest(format!("{field} is required when connection is {c}"))
    };
    // The SDK's doc strings carry a trailing space after two of the names: accept it.
    match b.connection.trim() {
        c @ "wechat_mini_program_code" => b
            .wechat_mini_program_code_payload
            .map(Connection::Code)
            .ok_or_else(|| missing("wechatMiniProgramCodePayload", c)),
        c @ "wechat_mini_program_phone" => b
            .wechat_mini_program_phone_payload
            .map(Connection::Phone)
            .ok_or_else(|| missing("wechatMiniProgramPhonePayload", c)),
        c @ "wechat_mini_program_code_and_phone" => b
            .wechat_mini_program_code_and_phone_payload
            .map(Connection::CodeAndPhone)
            .ok_or_else(|| missing("wechatMiniProgramCodeAndPhonePayload", c)),
        "" => Err(ApiError::BadRequest("connection is required".into())),
        other => Err(ApiError::BadRequest(format!(
            "connection {:?} is not offered by this server (wechat_mini_program_code, \
             wechat_mini_program_phone, wechat_mini_program_code_and_phone)",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// A G4 error with our own `apiCode` and, for a link, the data the client needs.
fn v3_error(status: StatusCode, api_code: u32, message: String, data: Value) -> Response {
    (
        status,
        Json(json!({
            "statusCode": status.as_u16(),
            "message": message,
            "apiCode": api_code,
            "requestId": crate::ids::object_id(),
            "data": data,
        })),
    )
        .into_response()
}

fn sign_in_failure(lang: Lang, source: &str, e: SignInError) -> Response {
    match e {
        SignInError::Api(e) => V3::fail(lang, &e),
        SignInError::UnknownSource(id) => v3_error(
            StatusCode::BAD_REQUEST,
            UNKNOWN_SOURCE,
            match lang {
                Lang::Zh => format!("身份源 {id:?} 不存在（extIdpConnidentifier）"),
                Lang::En => format!(
                    "no identity source {id:?} on this server (extIdpConnidentifier; the \
                     operator lists them with `qrlogin-server idp list`)"
                ),
            },
            Value::Null,
        ),
        SignInError::Wechat(e) => {
            // The message names no secret and no key (wechat.rs); it is safe in the log too.
            tracing::warn!(%source, error = %e, "mini-program sign-in refused");
            let status = match e {
                WechatError::Unreachable(_) | WechatError::BadReply(_) => StatusCode::BAD_GATEWAY,
                _ => StatusCode::BAD_REQUEST,
            };
            let message = match lang {
                Lang::Zh => format!("微信小程序登录失败：{e}"),
                Lang::En => format!("Mini-program sign-in failed: {e}"),
            };
            v3_error(status, WECHAT_FAILED, message, Value::Null)
        }
    }
}

async fn sign_in_by_mobile(ctx: Ctx<V3, limit::SignIn>) -> Response {
    let (state, lang) = (&ctx.state, ctx.lang);
    let mut source_id = String::new();
    let r: Result<Response, SignInError> = async {
        let b: SignInByMobileBody = ctx.json()?;
        source_id = b.ext_idp_connidentifier.trim().chars().take(64).collect();
        if source_id.is_empty() {
            return Err(ApiError::BadRequest("extIdpConnidentifier is required".into()).into());
        }
        let connection = connection_of(b)?;
        let app = ctx.app().await?;
        let source = state.server.identity_source(&source_id).await?;
        if source.kind != WECHAT_MINIPROGRAM {
            return Err(SignInError::UnknownSource(source_id.clone()));
        }
        let verified = state
            .server
            .verify_wechat(&state.wechat, &source, &connection)
            .await?;
        let user = match state.server.resolve_identity(&source, &verified).await? {
            Outcome::SignedIn(user) => user,
            Outcome::LinkRequired { link, account } => {
                let message = lang.pick(
                    "此手机号已属于一个账号：请在打开的页面输入该账号的密码以关联",
                    "An account has this phone number: open linkUrl and enter that account's \
                     password to link it, then sign in again",
                );
                return Ok(v3_error(
                    StatusCode::CONFLICT,
                    LINK_REQUIRED,
                    message.into(),
                    json!({
                        "linkUrl": format!("{}/link/{}", state.public_url, link.id),
                        "account": account.display_name(),
                        "phone": link.phone,
                        "expiresIn": super::LINK_TTL_SECS,
                    }),
                ));
            }
        };
        state.server.admit(&user, &app.app_id, Some(ctx.ip)).await?;
        // The mini-program is the phone: an approver session, which may scan and confirm.
        let new = NewSession {
            user: &user,
            app_id: &app.app_id,
            kind: SessionKind::Approver,
            public_client: true,
            access_ttl_secs: i64::from(app.access_ttl_secs),
            with_refresh: true,
            device: Some("WeChat mini-program".into()),
            ip: Some(ctx.ip),
        };
        let ex = state.server.open_session(new, &state.public_url).await?;
        Ok(V3::ok(lang, None, token_set(&ex)))
    }
    .await;
    r.unwrap_or_else(|e| sign_in_failure(lang, &source_id, e))
}

/// `DecryptWechatMiniProgramDataDto`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecryptBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    iv: String,
    #[serde(default)]
    encrypted_data: String,
    #[serde(default)]
    ext_idp_connidentifier: String,
}

/// Decrypts open data for the mini-program with the session key of its `code` (the key itself
/// stays here). Checked like a sign-in's: the watermark must name this source's AppID.
async fn decrypt_data(ctx: Ctx<V3, limit::SignIn>) -> Response {
    let (state, lang) = (&ctx.state, ctx.lang);
    let mut source_id = String::new();
    let r: Result<Response, SignInError> = async {
        let b: DecryptBody = ctx.json()?;
        source_id = b.ext_idp_connidentifier.trim().chars().take(64).collect();
        for (value, name) in [
            (&b.code, "code"),
            (&b.iv, "iv"),
            (&b.encrypted_data, "encryptedData"),
            (&b.ext_idp_connidentifier, "extIdpConnidentifier"),
        ] {
            if value.trim().is_empty() {
                return Err(ApiError::BadRequest(format!("{name} is required")).into());
            }
        }
        let source = state.server.identity_source(&source_id).await?;
        if source.kind != WECHAT_MINIPROGRAM {
            return Err(SignInError::UnknownSource(source_id.clone()));
        }
        let secret = Secret::new(source.app_secret.clone());
        let session = state
            .wechat
            .code_to_session(&source.app_id, &secret, &b.code)
            .await?;
        let data = decrypt_open_data(
            &session.session_key,
            &b.iv,
            &b.encrypted_data,
            &source.app_id,
        )?;
        Ok(V3::ok(lang, None, data))
    }
    .await;
    r.unwrap_or_else(|e| sign_in_failure(lang, &source_id, e))
}
