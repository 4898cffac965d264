//! The restore decision, for any front end that remembers a session between starts: is the
//! remembered session still good? Near expiry it is refreshed first; the server is asked about
//! the token; a server that cannot be reached right now is no reason to sign someone out, so the
//! token is trusted until it expires (a kiosk on a flaky network keeps its session). Only what
//! the server says ends a session. Storage and telling the person are the front end's business.

use crate::credentials::{Credentials, RestorePlan};
use crate::oauth::{Endpoints, OAuthError};
use crate::profile::Profile;
use crate::refresh;
use crate::session::Client;

/// What became of a remembered session.
#[derive(Debug)]
pub enum Restored {
    /// The server took the token (perhaps after a refresh): its current profile.
    Confirmed {
        profile: Profile,
        creds: Credentials,
        /// The credentials changed: store them.
        refreshed: bool,
    },
    /// The server could not be reached and the token has time left: use the remembered profile
    /// until it expires (the keeper refreshes it once the server is back).
    Trusted { creds: Credentials, refreshed: bool },
    /// The server could not be reached and the token expired meanwhile: not signed in now, but
    /// the session is kept, since the server did not end it.
    Unreachable,
    /// The server ended the session (refused the token or the refresh), or it expired with
    /// nothing to refresh it with: forget it. The reason is for the log and the window.
    Ended(String),
}

/// Decides about `creds` against `client`; `now_ms` is the wall clock in ms since the epoch.
pub async fn restore(
    client: &Client,
    mut creds: Credentials,
    now_ms: impl Fn() -> i64,
) -> Restored {
    let mut endpoints: Option<Endpoints> = None;
    let mut refreshed = false;
    match creds.restore_plan(now_ms()) {
        RestorePlan::Expired => return Restored::Ended("the session expired".into()),
        RestorePlan::RefreshFirst => {
            match refresh::refresh_now(client, &mut endpoints, &creds).await {
                Ok(next) => {
                    creds = next;
                    refreshed = true;
                }
                Err(OAuthError::SessionEnded(why)) => return Restored::Ended(why),
                Err(e) => {
                    tracing::warn!(error = %e, "could not refresh the saved session; checking it as it is")
                }
            }
        }
        RestorePlan::Check => {}
    }
    // One refresh at most: `tried_refresh` is set by a refresh that worked or was tried here.
    let mut tried_refresh = refreshed;
    loop {
        match client.check_token(&creds.access_token).await {
            Ok(profile) => {
                return Restored::Confirmed {
                    profile,
                    creds,
                    refreshed,
                }
            }
            Err(e) if e.retryable() => {
                if creds.is_expired(now_ms()) {
                    return Restored::Unreachable;
                }
                tracing::warn!(error = %e, "server unreachable; trusting the saved session until it expires");
                return Restored::Trusted { creds, refreshed };
            }
            // Refused: the access token may have expired by the server's clock while the
            // refresh token is still good. One refresh, then give up.
            Err(e) if !tried_refresh && creds.can_refresh() => {
                tracing::info!(error = %e, "the saved access token was refused; refreshing");
                tried_refresh = true;
                match refresh::refresh_now(client, &mut endpoints, &creds).await {
                    Ok(next) => {
                        creds = next;
                        refreshed = true;
                    }
                    Err(OAuthError::SessionEnded(why)) => return Restored::Ended(why),
                    Err(_) => return Restored::Ended(e.to_string()),
                }
            }
            Err(e) => return Restored::Ended(e.to_string()),
        }
    }
}
