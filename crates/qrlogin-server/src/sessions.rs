//! Server-side sessions (PROTOCOL.md §4.6): every phone sign-in (kind `approver`) and every QR
//! exchange (kind `desktop`) is a row; its tokens carry the row's id as `sid`, and a token counts
//! only while its row is live (not revoked, not expired, user not disabled). Desktop sessions get
//! an opaque refresh token, stored as its SHA-256, that rotates on every use; presenting a spent
//! one ends the session (OAuth 2.1 rotation with reuse detection).

use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::crypto::token_hash;
use crate::errors::{ApiError, Error, Forbidden};
use crate::ids;
use crate::model::{now_ms, rfc3339, App, Millis, User};
use crate::server::{AppCredentials, Server};
use crate::store::auth::{AuthSession, SessionKind};
use crate::tokens::{Claims, Minted};

/// A refresh token unused this long expires, and with it the session (idle timeout). Authing's
/// default token lifetime, so a kiosk signed in on Monday still is next Monday.
pub const REFRESH_TTL_SECS: i64 = 14 * 24 * 3600;
/// No session outlives this, however often it refreshes: the user signs in again monthly.
pub const SESSION_MAX_SECS: i64 = 30 * 24 * 3600;
/// The approval page's cookie session (no refresh token): a working day on one phone.
pub const PHONE_PAGE_SESSION_SECS: i64 = 12 * 3600;

/// What a new session is.
pub(crate) struct NewSession<'a> {
    pub user: &'a User,
    pub app_id: &'a str,
    pub kind: SessionKind,
    /// Made without the app secret: may later refresh with client authentication `none`.
    pub public_client: bool,
    pub access_ttl_secs: i64,
    /// Desktop and API sign-ins get a refresh token; the approval page's cookie does not.
    pub with_refresh: bool,
    pub device: Option<String>,
    pub ip: Option<IpAddr>,
}

/// The tokens of a session: what an exchange, a sign-in or a refresh hands out.
pub struct Exchanged {
    pub user: User,
    /// The session id (`sid` of its tokens).
    pub sid: String,
    pub access: Minted,
    pub access_ttl_secs: i64,
    pub id_token: String,
    pub refresh: Option<Minted>,
}

/// A session as the operator sees it (`user sessions list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub id: String,
    pub kind: String,
    pub app_id: String,
    pub app_name: Option<String>,
    pub device: Option<String>,
    pub ip: Option<String>,
    pub created: String,
    pub last_used: String,
    pub expires: String,
}

/// A new opaque refresh token: 256 bits, base64url, with a prefix that tells it from a JWT.
fn new_refresh_token() -> String {
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    format!("rt_{}", URL_SAFE_NO_PAD.encode(b))
}

impl Server {
    /// Starts a session for `new.user` and mints its tokens.
    pub(crate) async fn open_session(
        &self,
        new: NewSession<'_>,
        issuer: &str,
    ) -> Result<Exchanged, ApiError> {
        let now = now_ms();
        let lifetime = if new.with_refresh {
            REFRESH_TTL_SECS
        } else {
            new.access_ttl_secs
        };
        let session = AuthSession {
            id: ids::object_id(),
            user_id: new.user.id.clone(),
            app_id: new.app_id.to_owned(),
            kind: new.kind,
            public_client: new.public_client,
            created_at: now,
            last_used_at: now,
            expires_at: now + lifetime * 1000,
            revoked_at: None,
            device: new.device,
            ip: new.ip.map(|ip| ip.to_string()),
        };
        self.store().insert_auth_session(&session).await?;
        let refresh = if new.with_refresh {
            Some(self.issue_refresh(&session.id, session.expires_at).await?)
        } else {
            None
        };
        tracing::info!(
            sid = %session.id,
            kind = session.kind.as_str(),
            app_id = %session.app_id,
            user_id = %new.user.id,
            "session started"
        );
        self.session_tokens(
            new.user.clone(),
            &session,
            new.access_ttl_secs,
            refresh,
            issuer,
        )
    }

    async fn issue_refresh(&self, sid: &str, expires_at: Millis) -> Result<Minted, ApiError> {
        let token = new_refresh_token();
        self.store()
            .insert_refresh_token(&token_hash(&token), sid, expires_at)
            .await?;
        Ok(Minted { token, expires_at })
    }

    /// Access and id token of a session; the access token never outlives the session.
    fn session_tokens(
        &self,
        user: User,
        session: &AuthSession,
        access_ttl_secs: i64,
        refresh: Option<Minted>,
        issuer: &str,
    ) -> Result<Exchanged, ApiError> {
        let iat = now_ms() / 1000;
        let exp = (iat + access_ttl_secs).min(session.expires_at / 1000);
        let sign = |typ: &str| {
            let claims = Claims {
                sub: user.id.clone(),
                iss: issuer.to_owned(),
                aud: session.app_id.clone(),
                iat,
                exp,
                nickname: (typ == "id").then(|| user.display_name().to_owned()),
                typ: typ.to_owned(),
                sid: Some(session.id.clone()),
            };
            self.inner.keys.sign(&claims).map_err(|e| {
                tracing::error!(error = %e, "signing a token failed");
                ApiError::Internal
            })
        };
        let access = sign("access")?;
        let id_token = sign("id")?;
        Ok(Exchanged {
            sid: session.id.clone(),
            access: Minted {
                token: access,
                expires_at: exp * 1000,
            },
            access_ttl_secs: exp - iat,
            id_token,
            refresh,
            user,
        })
    }

    /// Signature and expiry of one of our JWTs (no session check).
    pub(crate) fn verify_token(&self, token: &str) -> Option<Claims> {
        self.inner.keys.verify(token)
    }

    /// The live session a token belongs to, with its user: signature, expiry, then the row.
    pub(crate) async fn session_for_token(
        &self,
        token: &str,
    ) -> Result<Option<(AuthSession, User)>, ApiError> {
        let Some(sid) = self.inner.keys.verify(token).and_then(|c| c.sid) else {
            return Ok(None);
        };
        let now = now_ms();
        let Some((session, user)) = self.store().live_auth_session(&sid, now).await? else {
            return Ok(None);
        };
        // Only a stale `last_used_at` costs a write.
        if now - session.last_used_at > 60_000 {
            self.store().touch_auth_session(&sid, now).await?;
        }
        Ok(Some((session, user)))
    }

    /// The user a token belongs to, if the token is ours, unexpired and its session live.
    pub(crate) async fn user_for_token(&self, token: &str) -> Result<Option<User>, ApiError> {
        Ok(self.session_for_token(token).await?.map(|(_, u)| u))
    }

    /// The user of a credential that may scan, confirm or cancel: a phone-side session only. A
    /// token from a QR exchange is refused, or one leaked token would mint itself new ones.
    pub(crate) async fn approver_for_token(&self, token: &str) -> Result<User, ApiError> {
        match self.session_for_token(token).await? {
            None => Err(ApiError::NotSignedIn),
            Some((s, _)) if s.kind != SessionKind::Approver => {
                tracing::warn!(sid = %s.id, "a desktop session tried to approve a QR login");
                Err(ApiError::Forbidden(Forbidden::NotApprover))
            }
            Some((_, user)) => Ok(user),
        }
    }

    /// The session id a token names, whatever kind of token it is (access, id, or refresh).
    pub(crate) async fn sid_of_any_token(&self, token: &str) -> Result<Option<String>, ApiError> {
        if let Some(claims) = self.inner.keys.verify_signature(token) {
            return Ok(claims.sid);
        }
        Ok(self
            .store()
            .refresh_token(&token_hash(token))
            .await?
            .map(|r| r.session_id))
    }

    /// Ends the session of a token (sign-out). True when a live session ended.
    pub(crate) async fn end_session(&self, sid: &str) -> Result<bool, ApiError> {
        let ended = self.store().revoke_auth_session(sid, now_ms()).await?;
        if ended {
            tracing::info!(%sid, "session ended");
        }
        Ok(ended)
    }

    /// Rotates a refresh token: checks, spends it (once), and issues the session's next tokens.
    /// A spent token presented again ends the whole session.
    pub(crate) async fn refresh_session(
        &self,
        refresh_token: &str,
        app: &App,
        secret_ok: bool,
        issuer: &str,
    ) -> Result<Exchanged, RefreshError> {
        let store = self.store();
        let now = now_ms();
        let hash = token_hash(refresh_token);
        let row = store
            .refresh_token(&hash)
            .await?
            .ok_or(RefreshError::Grant("unknown refresh token"))?;
        if row.spent_at.is_some() {
            self.reuse_detected(&row.session_id).await?;
            return Err(RefreshError::Grant(
                "refresh token already used: the session has ended",
            ));
        }
        if row.expires_at <= now {
            return Err(RefreshError::Grant("refresh token expired"));
        }
        let (session, user) = store
            .live_auth_session(&row.session_id, now)
            .await?
            .ok_or(RefreshError::Grant("the session has ended"))?;
        if session.app_id != app.app_id {
            return Err(RefreshError::Grant(
                "the refresh token was issued to another client",
            ));
        }
        if !secret_ok && !session.public_client && !app.allow_client_exchange {
            return Err(RefreshError::Client);
        }
        if !store.spend_refresh_token(&hash, now).await? {
            // Another request spent it between our read and now: a copy is in use.
            self.reuse_detected(&row.session_id).await?;
            return Err(RefreshError::Grant(
                "refresh token already used: the session has ended",
            ));
        }
        let expires_at =
            (now + REFRESH_TTL_SECS * 1000).min(session.created_at + SESSION_MAX_SECS * 1000);
        if expires_at <= now {
            self.end_session(&session.id).await?;
            return Err(RefreshError::Grant("the session reached its maximum age"));
        }
        store.extend_auth_session(&session.id, expires_at).await?;
        store.touch_auth_session(&session.id, now).await?;
        let refresh = self.issue_refresh(&session.id, expires_at).await?;
        let session = AuthSession {
            expires_at,
            ..session
        };
        tracing::info!(sid = %session.id, "session refreshed");
        Ok(self.session_tokens(
            user,
            &session,
            i64::from(app.access_ttl_secs),
            Some(refresh),
            issuer,
        )?)
    }

    async fn reuse_detected(&self, sid: &str) -> Result<(), ApiError> {
        tracing::warn!(%sid, "a spent refresh token was presented again: session ended");
        self.end_session(sid).await?;
        Ok(())
    }

    // -- Administration (CLI) -----------------------------------------------------------------

    async fn user_named(&self, username: &str) -> Result<User, Error> {
        self.store()
            .find_user_by_username(username.trim())
            .await?
            .ok_or_else(|| Error::UnknownUser(username.to_owned()))
    }

    /// Ends every session of a user; returns how many were live.
    pub(crate) async fn end_user_sessions(&self, user_id: &str) -> Result<u64, Error> {
        let n = self.store().revoke_user_sessions(user_id, now_ms()).await?;
        tracing::info!(%user_id, ended = n, "sessions of a user ended");
        Ok(n)
    }

    /// The user's live sessions, newest first.
    pub async fn user_sessions(&self, username: &str) -> Result<Vec<SessionInfo>, Error> {
        let user = self.user_named(username).await?;
        let apps = self.store().list_apps().await?;
        let sessions = self.store().user_sessions(&user.id, now_ms()).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionInfo {
                app_name: apps
                    .iter()
                    .find(|a| a.app_id == s.app_id)
                    .map(|a| a.name.clone()),
                id: s.id,
                kind: s.kind.as_str().to_owned(),
                app_id: s.app_id,
                device: s.device,
                ip: s.ip,
                created: rfc3339(s.created_at),
                last_used: rfc3339(s.last_used_at),
                expires: rfc3339(s.expires_at),
            })
            .collect())
    }

    /// Ends one session of the user (`session`), or all of them; returns how many ended.
    pub async fn revoke_sessions(
        &self,
        username: &str,
        session: Option<&str>,
    ) -> Result<u64, Error> {
        let user = self.user_named(username).await?;
        let Some(sid) = session else {
            return self.end_user_sessions(&user.id).await;
        };
        match self.store().get_auth_session(sid.trim()).await? {
            Some(s) if s.user_id == user.id => Ok(u64::from(
                self.store().revoke_auth_session(&s.id, now_ms()).await?,
            )),
            _ => Err(Error::InvalidInput(format!(
                "{username} has no session {sid:?} (see `user sessions list --username {username}`)"
            ))),
        }
    }

    /// Disables a user: no sign-in, and every session ends at once.
    pub async fn disable_user(&self, username: &str) -> Result<u64, Error> {
        let user = self.user_named(username).await?;
        self.store()
            .set_user_disabled(&user.id, Some(now_ms()))
            .await?;
        tracing::info!(user_id = %user.id, "user disabled");
        self.end_user_sessions(&user.id).await
    }

    pub async fn enable_user(&self, username: &str) -> Result<(), Error> {
        let user = self.user_named(username).await?;
        self.store().set_user_disabled(&user.id, None).await?;
        tracing::info!(user_id = %user.id, "user enabled");
        Ok(())
    }

    /// Replaces an app's secret; the old one stops working at once. Sessions stay: they belong
    /// to users, and `user sessions revoke` ends them.
    pub async fn rotate_app_secret(&self, app_id: &str) -> Result<AppCredentials, Error> {
        let secret = ids::secret();
        if !self.store().set_app_secret(app_id.trim(), &secret).await? {
            return Err(Error::InvalidInput(format!(
                "no app {app_id:?} (see `app list`)"
            )));
        }
        self.inner.apps.forget(app_id.trim());
        tracing::info!(%app_id, "app secret rotated");
        Ok(AppCredentials {
            app_id: app_id.trim().to_owned(),
            app_secret: secret,
            user_pool_id: self.user_pool_id().to_owned(),
        })
    }
}

/// Why a refresh failed, in RFC 6749's terms.
#[derive(Debug)]
pub(crate) enum RefreshError {
    /// `invalid_grant` (400).
    Grant(&'static str),
    /// `invalid_client` (401): the app's sessions need its secret.
    Client,
    Api(ApiError),
}

impl From<ApiError> for RefreshError {
    fn from(e: ApiError) -> Self {
        RefreshError::Api(e)
    }
}

impl From<crate::store::StoreError> for RefreshError {
    fn from(e: crate::store::StoreError) -> Self {
        RefreshError::Api(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_long_random_and_stored_only_as_a_hash() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        assert!(a.len() >= 46, "{a}");
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&a[3..]));
    }

    /// A token signed with our key but naming no session (as every token minted before
    /// sessions existed) is not signed in; one of a live session is, until the session ends.
    #[tokio::test]
    async fn a_token_counts_only_while_its_session_is_live() {
        let dir = tempfile::tempdir().expect("dir");
        let server = Server::open(crate::OpenOptions::new(dir.path()))
            .await
            .expect("open");
        server
            .add_user(crate::NewUser {
                username: "ann".into(),
                password: "pw".into(),
                ..Default::default()
            })
            .await
            .expect("user");
        let user = server
            .store()
            .find_user_by_username("ann")
            .await
            .expect("find")
            .expect("ann");
        let now = now_ms() / 1000;
        let legacy = Claims {
            sub: user.id.clone(),
            iss: "http://x".into(),
            aud: "app".into(),
            iat: now,
            exp: now + 3600,
            nickname: None,
            typ: "access".into(),
            sid: None,
        };
        let token = server.inner.keys.sign(&legacy).expect("sign");
        assert!(server
            .user_for_token(&token)
            .await
            .expect("check")
            .is_none());

        let ex = server
            .open_session(
                NewSession {
                    user: &user,
                    app_id: "app",
                    kind: SessionKind::Desktop,
                    public_client: false,
                    access_ttl_secs: 60,
                    with_refresh: true,
                    device: None,
                    ip: None,
                },
                "http://x",
            )
            .await
            .expect("session");
        assert!(server
            .user_for_token(&ex.access.token)
            .await
            .expect("check")
            .is_some());
        assert_eq!(
            server.approver_for_token(&ex.access.token).await,
            Err(ApiError::Forbidden(Forbidden::NotApprover))
        );
        assert!(server.end_session(&ex.sid).await.expect("end"));
        assert!(server
            .user_for_token(&ex.access.token)
            .await
            .expect("check")
            .is_none());
        assert!(server
            .user_for_token(&ex.id_token)
            .await
            .expect("check")
            .is_none());
    }
}
