//! `qrlogin --sign-out`: signs out the remembered session without opening a window, for scripts
//! and fleet tools. Forgets it here, revokes it at the server (the embedded one is started for
//! that when it issued the session); an unreachable server is told at the app's next start.
//! Exit status 0 once the session is gone from this computer, 1 when the store cannot be written.

use crate::embedded::Embedded;
use crate::error::AppError;
use crate::login;
use crate::revocation_queue::{self, Current, Outcome, PendingRevocation};
use crate::signed_in::now_ms;
use qrlogin_core::config::Config;
use qrlogin_core::session_store::{Mode, TokenStore};
use qrlogin_core::tips::Lang;
use std::path::Path;
use std::sync::Arc;

/// What happened, as the one line printed.
pub fn describe(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        None => "not signed in",
        Some(Outcome::Revoked) => "signed out (the server ended the session)",
        Some(Outcome::Pending) => {
            "signed out on this computer; the server will be told when it can be reached"
        }
        Some(Outcome::LocalOnly) => {
            "signed out on this computer; this server cannot end sessions remotely"
        }
    }
}

/// The process entry: returns the exit status.
pub fn run(config: &Config, data_dir: &Path, service: &str, lang: Lang) -> i32 {
    match tauri::async_runtime::block_on(sign_out(config, data_dir, service, lang)) {
        Ok(outcome) => {
            println!("qrlogin: {}", describe(outcome));
            0
        }
        Err(e) => {
            eprintln!("qrlogin: could not sign out: {e}");
            1
        }
    }
}

/// Forgets the session in the token store at `data_dir`, then sends every queued revocation.
pub async fn sign_out(
    config: &Config,
    data_dir: &Path,
    service: &str,
    lang: Lang,
) -> Result<Option<Outcome>, AppError> {
    let store = TokenStore::new(Mode::parse(&config.login.token_store), data_dir, service);
    let now = now_ms();
    let (entry, _) = store
        .update(|v| {
            let session = v.session.take()?;
            let entry = PendingRevocation::of(&session, now);
            v.revocations.push(entry.clone());
            Some(entry)
        })
        .map_err(|e| AppError::Store(e.to_string()))?;
    let queue = store.load().revocations;
    if queue.is_empty() {
        return Ok(None);
    }
    // The embedded server is started only when something in the queue came from it.
    let embedded_needed = config.server.url.trim().is_empty() && queue.iter().any(|r| r.embedded);
    let (current, embedded) = if embedded_needed {
        let embedded = Embedded::start(data_dir, false, 0).await?;
        let client = login::client_for_embedded(config, &embedded, lang)?;
        (
            Some(Current {
                client: Arc::new(client),
                embedded: true,
            }),
            Some(embedded),
        )
    } else if config.server.url.trim().is_empty() {
        (None, None)
    } else {
        let client = login::client_for_remote(config, lang)?;
        (
            Some(Current {
                client: Arc::new(client),
                embedded: false,
            }),
            None,
        )
    };
    let outcomes = revocation_queue::drain(&store, current.as_ref(), now).await;
    if let Some(e) = embedded {
        e.shutdown().await;
    }
    Ok(entry.map(|e| outcomes.get(&e.token).copied().unwrap_or(Outcome::Pending)))
}
