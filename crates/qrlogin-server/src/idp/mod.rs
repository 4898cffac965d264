//! Identity sources (seed 004 in Authing's v3 form, seed 003's account linking): a company's own
//! WeChat mini-program signs its users in here (`POST /api/v3/signin-by-mobile`) and gets an
//! approver session, so it can scan and confirm desktop QRs. This module is the operator's side
//! (add, list, set the link mode); `miniprogram.rs` is the sign-in, `http.rs` the endpoints and
//! `link_page.rs` the phone page that confirms a link with the account's password.

pub mod cli;
mod http;
mod link_page;
mod miniprogram;
pub mod wechat;

use serde::Serialize;

use crate::errors::Error;
use crate::model::{now_ms, rfc3339};
use crate::server::Server;
use crate::store::idp::IdentitySource;
use crate::store::StoreError;

pub use crate::store::idp::LinkMode;
pub(crate) use http::router;

/// The kind name of a WeChat mini-program source (`idp add wechat-miniprogram`).
pub const WECHAT_MINIPROGRAM: &str = "wechat-miniprogram";
/// How long a pending account link waits for the password.
pub const LINK_TTL_SECS: i64 = 600;

/// A new identity source. The secret comes from standard input in the CLI, never an argument.
#[derive(Clone, Default)]
pub struct NewIdentitySource {
    pub id: String,
    pub app_id: String,
    pub app_secret: String,
    pub link: LinkMode,
}

/// A source as the operator sees it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySourceInfo {
    pub id: String,
    pub kind: String,
    pub app_id: String,
    pub link: String,
    pub created: String,
}

impl From<&IdentitySource> for IdentitySourceInfo {
    fn from(s: &IdentitySource) -> Self {
        IdentitySourceInfo {
            id: s.id.clone(),
            kind: s.kind.clone(),
            app_id: s.app_id.clone(),
            link: s.link.as_str().to_owned(),
            created: rfc3339(s.created_at),
        }
    }
}

/// Authing's rule for a connection identifier: lower-case letters, digits and `-`, under 32.
fn valid_source_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 32
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Server {
    /// Adds a WeChat mini-program as an identity source.
    pub async fn add_wechat_miniprogram(
        &self,
        new: NewIdentitySource,
    ) -> Result<IdentitySourceInfo, Error> {
        let id = new.id.trim();
        if !valid_source_id(id) {
            return Err(Error::InvalidInput(format!(
                "the identity source id {id:?} must be 1 to 31 lower-case letters, digits or '-'"
            )));
        }
        let app_id = new.app_id.trim();
        if app_id.is_empty() || !app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::InvalidInput(
                "--app-id must be the mini-program's AppID (letters and digits, e.g. wx1234…)"
                    .into(),
            ));
        }
        let secret = new.app_secret.trim();
        if secret.is_empty() {
            return Err(Error::InvalidInput("the AppSecret read is empty".into()));
        }
        let source = IdentitySource {
            id: id.to_owned(),
            kind: WECHAT_MINIPROGRAM.into(),
            app_id: app_id.to_owned(),
            app_secret: secret.to_owned(),
            link: new.link,
            created_at: now_ms(),
        };
        match self.store().insert_identity_source(&source).await {
            Ok(()) => {}
            Err(StoreError::Duplicate) => {
                return Err(Error::InvalidInput(format!(
                    "an identity source {id:?} exists already (see `idp list`)"
                )))
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(source = %source.id, app_id = %source.app_id, link = source.link.as_str(), "identity source added");
        Ok(IdentitySourceInfo::from(&source))
    }

    pub async fn list_identity_sources(&self) -> Result<Vec<IdentitySourceInfo>, Error> {
        Ok(self
            .store()
            .list_identity_sources()
            .await?
            .iter()
            .map(IdentitySourceInfo::from)
            .collect())
    }

    /// Changes what a source does when a sign-in matches an existing user.
    pub async fn set_identity_source_link(&self, id: &str, link: LinkMode) -> Result<(), Error> {
        if !self
            .store()
            .set_identity_source_link(id.trim(), link)
            .await?
        {
            return Err(Error::InvalidInput(format!(
                "no identity source {id:?} (see `idp list`)"
            )));
        }
        tracing::info!(source = %id.trim(), link = link.as_str(), "identity source link mode set");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::idp::PendingLink;

    /// The sweep deletes account links that expired (with its usual grace), and no live one.
    #[tokio::test]
    async fn the_sweep_deletes_expired_links_only() {
        let dir = tempfile::tempdir().expect("dir");
        let server = Server::open(crate::OpenOptions::new(dir.path()))
            .await
            .expect("open");
        let user = server
            .add_user(crate::NewUser {
                username: "ann".into(),
                password: "pw".into(),
                ..Default::default()
            })
            .await
            .expect("user");
        server
            .add_wechat_miniprogram(NewIdentitySource {
                id: "wx".into(),
                app_id: "wx1".into(),
                app_secret: "s".into(),
                link: LinkMode::Ask,
            })
            .await
            .expect("source");
        let link = |id: &str, expires_at| PendingLink {
            id: id.into(),
            source_id: "wx".into(),
            subject: "openid".into(),
            user_id: user.id.clone(),
            phone: None,
            expires_at,
            done_at: None,
        };
        let store = server.store();
        store.insert_pending_link(&link("old", 1)).await.unwrap();
        store
            .insert_pending_link(&link("live", now_ms() + 600_000))
            .await
            .unwrap();
        server
            .sweep(std::time::Duration::ZERO)
            .await
            .expect("sweep");
        assert!(store.get_pending_link("old").await.unwrap().is_none());
        assert!(store.get_pending_link("live").await.unwrap().is_some());
    }
}
