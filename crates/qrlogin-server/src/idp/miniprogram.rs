//! A mini-program sign-in, apart from HTTP: the payloads exactly as authing-node-sdk 4.x's
//! `SignInByWechatMiniProgram…PayloadDto` define them, what WeChat vouches for (openid from
//! `jscode2session`, phone from open data or `getuserphonenumber`), and who that is here: the
//! user bound to the openid, an existing user by verified phone or email (`--link`), or a new
//! user. The identity is always the openid WeChat's server returned, never a field of the
//! client's encrypted data (CBC without a MAC lets a client alter the first block unseen).

use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use serde_json::Value;

use super::wechat::{decrypt_open_data, Phone, Secret, Wechat, WechatError};
use super::{LinkMode, LINK_TTL_SECS};
use crate::errors::{ApiError, Forbidden};
use crate::model::{now_ms, User};
use crate::server::Server;
use crate::store::idp::{IdentitySource, PendingLink};
use crate::store::StoreError;

/// `SignInByWechatMiniProgramCodePayloadDto`: a `wx.login` code, and optionally the encrypted
/// user profile (`wx.getUserInfo`'s encryptedData and iv).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodePayload {
    pub code: String,
    #[serde(default)]
    pub encrypted_data: Option<String>,
    #[serde(default)]
    pub iv: Option<String>,
}

/// `SignInByWechatMiniProgramPhonePayloadDto`: a `wx.login` code and the encrypted phone
/// (`getPhoneNumber`'s encryptedData and iv).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhonePayload {
    pub encrypted_data: String,
    pub iv: String,
    pub code: String,
}

/// `SignInByWechatMiniProgramPhoneInfoPayloadDto`: the code of a `getPhoneNumber` button.
#[derive(Debug, Deserialize)]
pub(crate) struct PhoneInfoPayload {
    pub code: String,
}

/// `SignInByWechatMiniProgramCodeAndPhonePayloadDto`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodeAndPhonePayload {
    pub wx_login_info: CodePayload,
    pub wx_phone_info: PhoneInfoPayload,
}

/// The `connection` of `SigninByMobileDto` with its payload.
#[derive(Debug)]
pub(crate) enum Connection {
    Code(CodePayload),
    Phone(PhonePayload),
    CodeAndPhone(CodeAndPhonePayload),
}

/// What WeChat vouched for.
pub(crate) struct Verified {
    pub openid: String,
    pub profile: Option<Value>,
    pub phone: Option<Phone>,
}

/// Who signed in, or the account a sign-in must first be linked to (`--link ask`).
pub(crate) enum Outcome {
    SignedIn(User),
    LinkRequired { link: PendingLink, account: User },
}

#[derive(Debug)]
pub(crate) enum SignInError {
    Api(ApiError),
    Wechat(WechatError),
    UnknownSource(String),
}

impl From<ApiError> for SignInError {
    fn from(e: ApiError) -> Self {
        SignInError::Api(e)
    }
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Api(e.into())
    }
}

impl From<WechatError> for SignInError {
    fn from(e: WechatError) -> Self {
        SignInError::Wechat(e)
    }
}

fn required(s: &str, name: &str) -> Result<(), SignInError> {
    if s.trim().is_empty() {
        return Err(SignInError::Api(ApiError::BadRequest(format!(
            "{name} must not be empty"
        ))));
    }
    Ok(())
}

impl Server {
    /// The source a client names; an unknown one is refused, never replaced by another.
    pub(crate) async fn identity_source(&self, id: &str) -> Result<IdentitySource, SignInError> {
        match self.store().get_identity_source(id.trim()).await? {
            Some(s) => Ok(s),
            None => Err(SignInError::UnknownSource(
                id.trim().chars().take(64).collect(),
            )),
        }
    }

    /// Trades the codes with WeChat and decrypts what came encrypted. Any part that fails
    /// refuses the whole sign-in: a profile that does not decrypt is tampered data, not a
    /// missing nickname.
    pub(crate) async fn verify_wechat(
        &self,
        wechat: &Wechat,
        source: &IdentitySource,
        connection: &Connection,
    ) -> Result<Verified, SignInError> {
        let secret = Secret::new(source.app_secret.clone());
        let login = match connection {
            Connection::Code(p) => p,
            Connection::CodeAndPhone(p) => &p.wx_login_info,
            Connection::Phone(p) => {
                required(&p.code, "wechatMiniProgramPhonePayload.code")?;
                let session = wechat
                    .code_to_session(&source.app_id, &secret, &p.code)
                    .await?;
                let data = decrypt_open_data(
                    &session.session_key,
                    &p.iv,
                    &p.encrypted_data,
                    &source.app_id,
                )?;
                return Ok(Verified {
                    openid: session.openid,
                    profile: None,
                    phone: Some(Phone::from_open_data(&data)?),
                });
            }
        };
        required(&login.code, "code")?;
        let session = wechat
            .code_to_session(&source.app_id, &secret, &login.code)
            .await?;
        let profile = match (&login.encrypted_data, &login.iv) {
            (Some(data), Some(iv)) if !data.trim().is_empty() => Some(decrypt_open_data(
                &session.session_key,
                iv,
                data,
                &source.app_id,
            )?),
            (Some(data), None) if !data.trim().is_empty() => {
                return Err(SignInError::Api(ApiError::BadRequest(
                    "encryptedData needs its iv".into(),
                )))
            }
            _ => None,
        };
        let phone = match connection {
            Connection::CodeAndPhone(p) => {
                required(&p.wx_phone_info.code, "wxPhoneInfo.code")?;
                Some(
                    wechat
                        .phone_number(&source.app_id, &secret, &p.wx_phone_info.code)
                        .await?,
                )
            }
            _ => None,
        };
        Ok(Verified {
            openid: session.openid,
            profile,
            phone,
        })
    }

    /// Who the verified WeChat user is here.
    pub(crate) async fn resolve_identity(
        &self,
        source: &IdentitySource,
        v: &Verified,
    ) -> Result<Outcome, SignInError> {
        let store = self.store();
        if let Some(user_id) = store.identity_user(&source.id, &v.openid).await? {
            let user = store.get_user(&user_id).await?.ok_or(ApiError::Internal)?;
            if let Some(phone) = &v.phone {
                self.bind_phone(&user, phone).await?;
            }
            return Ok(Outcome::SignedIn(self.reload(user).await?));
        }
        // Not bound yet: an existing user by verified phone or email, if the source links.
        let matched = match source.link {
            LinkMode::None => None,
            LinkMode::MatchPhone | LinkMode::Ask => match &v.phone {
                Some(p) => {
                    self.only_user(store.users_with_phone(&p.candidates()).await?)
                        .await?
                }
                None => None,
            },
            // WeChat vouches for no email; a source kind that does would match here.
            LinkMode::MatchEmail => None,
        };
        match (source.link, matched) {
            (LinkMode::Ask, Some(account)) => {
                let link = PendingLink {
                    id: crate::ids::handle(),
                    source_id: source.id.clone(),
                    subject: v.openid.clone(),
                    user_id: account.id.clone(),
                    phone: v.phone.as_ref().map(Phone::masked),
                    expires_at: now_ms() + LINK_TTL_SECS * 1000,
                    done_at: None,
                };
                store.insert_pending_link(&link).await?;
                tracing::info!(source = %source.id, user_id = %account.id, "account link asked");
                Ok(Outcome::LinkRequired { link, account })
            }
            (_, Some(account)) => {
                let user = self.bind_identity(source, &v.openid, account).await?;
                tracing::info!(source = %source.id, user_id = %user.id, "identity linked by a verified match");
                Ok(Outcome::SignedIn(user))
            }
            (_, None) => Ok(Outcome::SignedIn(self.new_wechat_user(source, v).await?)),
        }
    }

    /// One match only: a number that several users share links nobody.
    async fn only_user(&self, ids: Vec<String>) -> Result<Option<User>, SignInError> {
        match ids.as_slice() {
            [id] => Ok(self.store().get_user(id).await?),
            _ => Ok(None),
        }
    }

    /// Binds the openid to `user`; if a sign-in at the same moment bound it first, that one wins.
    pub(crate) async fn bind_identity(
        &self,
        source: &IdentitySource,
        openid: &str,
        user: User,
    ) -> Result<User, SignInError> {
        let store = self.store();
        match store
            .insert_external_identity(&source.id, openid, &user.id, now_ms())
            .await
        {
            Ok(()) => Ok(user),
            Err(StoreError::Duplicate) => {
                let id = store
                    .identity_user(&source.id, openid)
                    .await?
                    .ok_or(ApiError::Internal)?;
                Ok(store.get_user(&id).await?.ok_or(ApiError::Internal)?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The DTO's rule: the user gets the phone only if they have none and nobody else has it.
    async fn bind_phone(&self, user: &User, phone: &Phone) -> Result<bool, SignInError> {
        if user.phone.as_deref().is_some_and(|p| !p.is_empty()) {
            return Ok(false);
        }
        let bound = self
            .store()
            .bind_phone_if_free(&user.id, &phone.stored(), &phone.candidates())
            .await?;
        if bound {
            tracing::info!(user_id = %user.id, "phone bound from the mini-program");
        } else {
            tracing::info!(user_id = %user.id, "phone not bound: another user has it");
        }
        Ok(bound)
    }

    async fn reload(&self, user: User) -> Result<User, SignInError> {
        Ok(self.store().get_user(&user.id).await?.unwrap_or(user))
    }

    /// A user for a WeChat user nobody here is: no password (signs in through the source
    /// only), nickname and photo from the profile if it came, the phone if nobody has it.
    async fn new_wechat_user(
        &self,
        source: &IdentitySource,
        v: &Verified,
    ) -> Result<User, SignInError> {
        let text = |k: &str, max: usize| {
            v.profile
                .as_ref()
                .and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .map(|s| s.trim().chars().take(max).collect::<String>())
                .filter(|s| !s.is_empty())
        };
        let photo = text("avatarUrl", 512)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        let mut attempt = 0;
        let user = loop {
            let user = User {
                id: crate::ids::object_id(),
                username: format!(
                    "wx_{}",
                    Alphanumeric
                        .sample_string(&mut rand::rngs::OsRng, 10)
                        .to_lowercase()
                ),
                // Not a PHC string: no password ever verifies against it.
                password_hash: "!".into(),
                nickname: text("nickName", 64),
                email: None,
                phone: None,
                photo: photo.clone(),
                created_at: now_ms(),
                logins_count: 0,
                last_login: None,
                last_ip: None,
            };
            match self.store().insert_user(&user).await {
                Ok(()) => break user,
                Err(StoreError::Duplicate) if attempt < 3 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        };
        tracing::info!(source = %source.id, user_id = %user.id, "user added from the mini-program");
        let user = self.bind_identity(source, &v.openid, user).await?;
        if let Some(phone) = &v.phone {
            self.bind_phone(&user, phone).await?;
        }
        self.reload(user).await
    }

    /// A disabled user does not sign in; either way the history has a line (as a password
    /// sign-in has; `loginsCount` counts desktop sign-ins, as there).
    pub(crate) async fn admit(
        &self,
        user: &User,
        app_id: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<(), SignInError> {
        if self.store().user_disabled(&user.id).await? {
            self.record_sign_in(&user.username, Some(user), app_id, ip, "disabled")
                .await;
            return Err(ApiError::Forbidden(Forbidden::UserDisabled).into());
        }
        self.record_sign_in(&user.username, Some(user), app_id, ip, "signed-in")
            .await;
        Ok(())
    }
}
