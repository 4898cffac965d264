//! Revocations the server has not confirmed yet. A sign-out forgets the session locally at once
//! and queues its revocation in the token store; the queue is sent right away, retried in the
//! background while the app runs, and again at the next start. The window never waits on it.

use qrlogin_core::dialect::DialectId;
use qrlogin_core::oauth::{self, Endpoints, OAuthError, TokenKind};
use qrlogin_core::secret::Secret;
use qrlogin_core::session::{Client, ClientConfig};
pub use qrlogin_core::session_store::PendingRevocation;
use qrlogin_core::session_store::TokenStore;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One revocation (discovery included) may take this long before it counts as "unreachable".
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);

/// What the server said about one queued token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The server confirmed: the token is dead.
    Revoked,
    /// The server could not be reached: still queued.
    Pending,
    /// The server has no revocation endpoint (or refused for good): nothing more can be done.
    LocalOnly,
}

/// The app's current server, through which queued revocations for it are sent.
#[derive(Clone)]
pub struct Current {
    pub client: Arc<Client>,
    pub embedded: bool,
}

/// Sends every queued revocation once and removes those that are settled. Returns each token's
/// outcome (in memory only).
pub async fn drain(
    store: &TokenStore,
    current: Option<&Current>,
    now: i64,
) -> HashMap<String, Outcome> {
    let queue = store.load().revocations;
    let mut outcomes = HashMap::new();
    if queue.is_empty() {
        return outcomes;
    }
    let mut endpoints: HashMap<String, Endpoints> = HashMap::new();
    for entry in &queue {
        let outcome = if entry.is_stale(now) {
            Outcome::LocalOnly
        } else if entry.embedded && current.is_none() {
            // The embedded server is not up yet: the next drain sends it.
            Outcome::Pending
        } else {
            match client_for(entry, current) {
                Some(client) => send(&client, entry, &mut endpoints).await,
                None => Outcome::LocalOnly,
            }
        };
        outcomes.insert(entry.token.clone(), outcome);
    }
    let settled: Vec<&String> = outcomes
        .iter()
        .filter(|(_, o)| **o != Outcome::Pending)
        .map(|(t, _)| t)
        .collect();
    if !settled.is_empty() {
        if let Err(e) = store.update(|v| v.revocations.retain(|r| !settled.contains(&&r.token))) {
            tracing::warn!(error = %e, "could not update the revocation queue");
        }
    }
    let pending = outcomes
        .values()
        .filter(|o| **o == Outcome::Pending)
        .count();
    tracing::info!(sent = queue.len(), pending, "revocation queue");
    outcomes
}

async fn send(
    client: &Client,
    entry: &PendingRevocation,
    cache: &mut HashMap<String, Endpoints>,
) -> Outcome {
    let key = client.config().base_url.clone();
    let attempt = async {
        let eps = match cache.get(&key) {
            Some(e) => e.clone(),
            None => {
                let e = oauth::discover(client)
                    .await
                    .map_err(OAuthError::Unreachable)?;
                cache.insert(key.clone(), e.clone());
                e
            }
        };
        let kind = if entry.refresh {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        };
        oauth::revoke(client, &eps, &Secret::new(entry.token.clone()), kind).await
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Ok(Ok(())) => Outcome::Revoked,
        Ok(Err(OAuthError::Unreachable(e))) => {
            tracing::info!(error = %e, "revocation: server unreachable; kept in the queue");
            Outcome::Pending
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "revocation not possible at this server");
            Outcome::LocalOnly
        }
        Err(_) => Outcome::Pending,
    }
}

/// The client to revoke with: the app's own when the entry is for its server and app, else a
/// public client for the server the entry names. An entry from an embedded server that is no
/// longer the current one cannot be sent anywhere.
fn client_for(entry: &PendingRevocation, current: Option<&Current>) -> Option<Arc<Client>> {
    if let Some(c) = current {
        let cfg = c.client.config();
        let same_app = cfg.app.app_id == entry.app_id;
        if same_app
            && (entry.embedded && c.embedded || !entry.embedded && cfg.base_url == entry.server)
        {
            return Some(c.client.clone());
        }
    }
    if entry.embedded {
        return None;
    }
    let dialect: DialectId = entry.dialect.parse().unwrap_or_default();
    Client::new(ClientConfig::new(
        entry.server.clone(),
        dialect,
        entry.app_id.clone(),
    ))
    .ok()
    .map(Arc::new)
}
