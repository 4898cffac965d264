//! The CLI's signed-in session, in the store the desktop app uses
//! ([`qrlogin_core::session_store`]): the same file or keyring entry, picked by the same
//! `login.token_store`, so signing in with one front end is seen by the other.

use qrlogin_core::config::Config;
use qrlogin_core::profile::{AuthSession, Profile};
use qrlogin_core::session::Client;
use qrlogin_core::session_store::{Mode, PendingRevocation, Remembered, TokenStore};

/// The shared store, as `login.token_store` says.
pub fn store(config: &Config) -> TokenStore {
    TokenStore::standard(Mode::parse(&config.login.token_store))
}

/// After `loggedIn`: remember the session (replacing any other front end's).
pub fn remember(
    config: &Config,
    client: &Client,
    profile: &Profile,
    session: &AuthSession,
    now: i64,
) -> Result<Remembered, String> {
    let remembered = Remembered::of_login(client, false, profile, session, now);
    save(config, &remembered)?;
    Ok(remembered)
}

/// The remembered session, whichever front end signed in.
pub fn load(config: &Config) -> Option<Remembered> {
    store(config).load().session
}

pub fn save(config: &Config, remembered: &Remembered) -> Result<(), String> {
    store(config)
        .update(|v| v.session = Some(remembered.clone()))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Forgets the session here. `unrevoked`: the server could not be told, so the revocation is
/// queued where the app sends it at its next start (as `qrlogin --sign-out` does).
pub fn forget(config: &Config, unrevoked: Option<PendingRevocation>) -> Result<(), String> {
    store(config)
        .update(|v| {
            v.session = None;
            v.revocations.extend(unrevoked);
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
}
