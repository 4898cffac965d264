//! Keeps a signed-in session's access token fresh: one task per session sleeps until the refresh
//! is due ([`Credentials::refresh_due_at`]), refreshes (the server rotates the refresh token),
//! and reports the new credentials or the session's end. Dropping the [`SessionKeeper`] stops it.

use std::sync::Arc;
use std::time::Duration;

use crate::credentials::Credentials;
use crate::oauth::{self, Endpoints, OAuthError};
use crate::session::{backoff, Client};

/// After a failed refresh (server unreachable), wait 5 s, 10 s, ... up to 5 minutes.
const RETRY_INITIAL: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);

/// What the keeper reports. The credentials are for the shell's token store only.
#[derive(Debug, Clone)]
pub enum KeeperEvent {
    /// A refresh succeeded: store these (the old refresh token is spent).
    Refreshed(Credentials),
    /// The server refused the refresh token (`invalid_grant`): the session is over.
    Ended(String),
}

/// Refreshes once, asking for the endpoints first when `endpoints` is still empty.
pub async fn refresh_now(
    client: &Client,
    endpoints: &mut Option<Endpoints>,
    creds: &Credentials,
) -> Result<Credentials, OAuthError> {
    let refresh_token = creds
        .refresh_token
        .clone()
        .filter(|r| !r.is_empty())
        .ok_or(OAuthError::NoEndpoint("refresh token"))?;
    if endpoints.is_none() {
        *endpoints = Some(
            oauth::discover(client)
                .await
                .map_err(OAuthError::Unreachable)?,
        );
    }
    let eps = endpoints.as_ref().cloned().unwrap_or_default();
    let refreshed = oauth::refresh(client, &eps, &refresh_token).await?;
    Ok(creds.refreshed(refreshed, client.now_ms()))
}

/// The running keeper of one session.
#[derive(Debug)]
pub struct SessionKeeper {
    task: tokio::task::JoinHandle<()>,
}

impl SessionKeeper {
    /// Starts keeping `creds` fresh on the current tokio runtime. Sessions without a refresh
    /// token or an expiry need nothing: the task ends at once.
    pub fn start(
        client: Arc<Client>,
        creds: Credentials,
        sink: impl Fn(KeeperEvent) + Send + Sync + 'static,
    ) -> Self {
        Self {
            task: tokio::spawn(run(client, creds, sink)),
        }
    }

    pub fn stop(&self) {
        self.task.abort();
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for SessionKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(client: Arc<Client>, mut creds: Credentials, sink: impl Fn(KeeperEvent)) {
    let mut endpoints = None;
    let mut failures = 0u32;
    loop {
        if !creds.can_refresh() {
            return;
        }
        let Some(due) = creds.refresh_due_at() else {
            return;
        };
        let wait_ms = due.saturating_sub(client.now_ms()).max(0);
        tokio::time::sleep(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0))).await;
        match refresh_now(&client, &mut endpoints, &creds).await {
            Ok(next) => {
                failures = 0;
                tracing::info!("session refreshed");
                creds = next;
                sink(KeeperEvent::Refreshed(creds.clone()));
            }
            Err(OAuthError::SessionEnded(why)) => {
                tracing::info!(reason = %why, "the server ended the session");
                sink(KeeperEvent::Ended(why));
                return;
            }
            Err(e @ OAuthError::Unreachable(_)) => {
                failures = failures.saturating_add(1);
                let delay = backoff(failures, RETRY_INITIAL, RETRY_MAX);
                tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "refresh failed; trying again");
                if endpoints.as_ref().is_some_and(|e| !e.can_refresh()) {
                    endpoints = None;
                }
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                // No endpoint, or a final refusal: the token is used until it expires.
                tracing::warn!(error = %e, "cannot refresh this session");
                return;
            }
        }
    }
}
