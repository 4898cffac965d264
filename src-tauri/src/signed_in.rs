//! A signed-in session's life in the shell: remembering it, restoring it at start (refreshing
//! first when its access token is near expiry), keeping it fresh in the background, signing it out
//! (forget here at once, revoke at the server or queue that), and telling the window when the
//! server ended it.

use crate::error::AppError;
use crate::persist::{self, Remembered};
use crate::revocation_queue::{self, Current, Outcome, PendingRevocation};
use crate::state::AppState;
use qrlogin_core::credentials::Credentials;
use qrlogin_core::profile::{AuthSession, Profile};
use qrlogin_core::refresh::{KeeperEvent, SessionKeeper};
use qrlogin_core::restore::{self, Restored};
use qrlogin_core::session::{backoff, Client};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Sent to the window when the server ended the session (refused the refresh token, or the
/// remembered session is no longer valid): the window goes back to the QR and says so.
pub const SESSION_ENDED_EVENT: &str = "session-ended";
/// Sent when the background retry delivered a queued revocation: "the server will be told"
/// has happened.
pub const REVOCATION_DELIVERED_EVENT: &str = "revocation-delivered";
/// Sent after a background refresh: the profile's "session expires" moves on.
pub const SESSION_REFRESHED_EVENT: &str = "session-refreshed";

/// The longest a sign-out waits for the server before answering "will be told later".
const SIGN_OUT_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRefreshed {
    /// The new access token's expiry, ms since the Unix epoch.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEnded {
    /// The server's reason, for the log line the window may show; never a token.
    pub reason: String,
}

/// What a sign-out did at the server (contracts.md §4 `sign_out`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOutResult {
    /// `revoked`: the server confirmed; `pending`: it could not be reached, it will be told
    /// later; `localOnly`: it has no way to revoke; `null`: nobody was signed in.
    pub server: Option<Outcome>,
    /// A kiosk: the page is to reload, so that the next person gets one that never showed this
    /// one's profile; the fresh page starts the login and shows this sign-out's notice.
    pub fresh_page: bool,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// After `loggedIn`: store the session and start keeping it fresh.
pub fn remember<R: Runtime>(
    app: &AppHandle<R>,
    client: &Arc<Client>,
    embedded: bool,
    profile: &Profile,
    session: &AuthSession,
) {
    let now = now_ms();
    // The record qrlogin-cli writes too (the core's session store), so either front end sees it.
    let remembered = Remembered::of_login(client, embedded, profile, session, now);
    let creds = remembered.credentials();
    match persist::save(app, &remembered) {
        Ok(at) => tracing::info!(store = ?at, "session remembered"),
        Err(e) => tracing::error!(error = %e, "could not remember the session"),
    }
    keep(app, client.clone(), creds);
}

/// Starts (or replaces) the background refresh of the session.
pub fn keep<R: Runtime>(app: &AppHandle<R>, client: Arc<Client>, creds: Credentials) {
    let handle = app.clone();
    let keeper = SessionKeeper::start(client, creds, move |event| match event {
        KeeperEvent::Refreshed(c) => match persist::save_refreshed(&handle, &c) {
            Ok(true) => {
                let _ = handle.emit(
                    SESSION_REFRESHED_EVENT,
                    SessionRefreshed {
                        expires_at: c.expires_at,
                    },
                );
            }
            Ok(false) => tracing::info!("refreshed a session that was signed out meanwhile"),
            Err(e) => tracing::error!(error = %e, "could not store the refreshed session"),
        },
        KeeperEvent::Ended(reason) => {
            let _ = ended(&handle, &reason);
        }
    });
    app.state::<AppState>().set_keeper(Some(keeper));
}

/// The server says the session is over: forget it and tell the window.
fn ended<R: Runtime>(app: &AppHandle<R>, reason: &str) -> Result<Option<Profile>, AppError> {
    tracing::info!(reason, "the session ended");
    persist::clear(app)?;
    if let Err(e) = app.emit(
        SESSION_ENDED_EVENT,
        SessionEnded {
            reason: reason.to_string(),
        },
    ) {
        tracing::debug!(error = %e, "no window to tell that the session ended");
    }
    Ok(None)
}

/// The remembered session, if the server still takes it: the decision is the core's
/// (`qrlogin_core::restore`: refreshed first near expiry, trusted until it expires while the
/// server cannot be reached, ended only by the server); here the store follows it and the window
/// is told when the session ended.
pub async fn restore<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
) -> Result<Option<Profile>, AppError> {
    let Some(saved) = persist::load(app) else {
        return Ok(None);
    };
    let client = {
        let backend = state.backend.lock().await;
        let Some(b) = backend.as_ref() else {
            return Ok(None);
        };
        if b.app_id() != saved.app_id || (b.embedded.is_none() && b.server_url() != saved.server) {
            tracing::info!("the saved session belongs to another server or app; not restoring it");
            return Ok(None);
        }
        b.client.clone()
    };
    let (profile, creds, refreshed) =
        match restore::restore(&client, saved.credentials(), now_ms).await {
            Restored::Confirmed {
                mut profile,
                creds,
                refreshed,
            } => {
                profile.expires_at = creds.expires_at.or(profile.expires_at);
                (profile, creds, refreshed)
            }
            Restored::Trusted { creds, refreshed } => (saved.profile, creds, refreshed),
            Restored::Unreachable => return Ok(None),
            Restored::Ended(why) => return ended(app, &why),
        };
    if refreshed {
        persist::save_refreshed(app, &creds)?;
    }
    keep(app, client, creds);
    Ok(Some(profile))
}

async fn current(state: &AppState) -> Option<Current> {
    crate::backend::peek(state).await.map(|b| Current {
        client: b.client,
        embedded: b.embedded,
    })
}

/// Signs out: stops the attempt and the refresh, forgets the session here at once and queues its
/// revocation, then gives the server [`SIGN_OUT_WAIT`] to confirm. Whatever it says, the session
/// is gone from this computer when this returns.
pub async fn sign_out<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    why: &str,
) -> Result<SignOutResult, AppError> {
    state.set_keeper(None);
    state.replace_login(None);
    let store = persist::store(app)?;
    let now = now_ms();
    let (entry, _) = store
        .update(|v| {
            let session = v.session.take()?;
            let entry = PendingRevocation::of(&session, now);
            v.revocations.push(entry.clone());
            Some(entry)
        })
        .map_err(|e| AppError::Store(e.to_string()))?;
    let Some(entry) = entry else {
        tracing::info!(why, "sign out: nobody was signed in");
        return Ok(SignOutResult {
            server: None,
            fresh_page: false,
        });
    };
    let current = current(state).await;
    let outcome = match tokio::time::timeout(
        SIGN_OUT_WAIT,
        revocation_queue::drain(&store, current.as_ref(), now),
    )
    .await
    {
        Ok(outcomes) => outcomes
            .get(&entry.token)
            .copied()
            .unwrap_or(Outcome::Pending),
        Err(_) => Outcome::Pending,
    };
    if outcome == Outcome::Pending {
        spawn_retry(app);
    }
    tracing::info!(why, server = ?outcome, "signed out");
    Ok(SignOutResult {
        server: Some(outcome),
        fresh_page: false,
    })
}

/// At start, once the backend is up: send what earlier runs left in the queue.
pub fn after_start<R: Runtime>(app: &AppHandle<R>) {
    spawn_retry_after(app, Duration::ZERO);
}

/// Retries the queue in the background with back-off (5 s, 10 s, ... 5 min) until it is empty.
/// At most one such task runs.
pub fn spawn_retry<R: Runtime>(app: &AppHandle<R>) {
    spawn_retry_after(app, Duration::from_secs(5));
}

fn spawn_retry_after<R: Runtime>(app: &AppHandle<R>, first: Duration) {
    let state = app.state::<AppState>();
    if state.revoker_running.swap(true, Ordering::SeqCst) {
        return;
    }
    let handle = app.clone();
    let task = tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        let mut delay = first;
        let mut round = 0u32;
        loop {
            tokio::time::sleep(delay).await;
            let Ok(store) = persist::store(&handle) else {
                break;
            };
            let current = current(&state).await;
            let outcomes = revocation_queue::drain(&store, current.as_ref(), now_ms()).await;
            if outcomes.values().any(|o| *o == Outcome::Revoked) {
                let _ = handle.emit(REVOCATION_DELIVERED_EVENT, ());
            }
            if !outcomes.values().any(|o| *o == Outcome::Pending) {
                break;
            }
            round = round.saturating_add(1);
            delay = backoff(round, Duration::from_secs(5), Duration::from_secs(300));
        }
        state.revoker_running.store(false, Ordering::SeqCst);
    });
    state.set_revoker(Some(task));
}

/// On exit: stop refreshing and retrying (what is still queued goes out at the next start).
pub fn shutdown<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    state.set_keeper(None);
    state.set_revoker(None);
    state.revoker_running.store(false, Ordering::SeqCst);
}
