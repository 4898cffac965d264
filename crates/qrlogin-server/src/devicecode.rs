//! RFC 8628's rules, apart from HTTP: user codes (how they are drawn, shown, typed and checked),
//! the verification URIs, and the polling pace per device code. The endpoints are in device.rs;
//! the generate of a device session (service.rs) uses the user code as scan id and check code.
//! Every QR session's typed code (issue 15 item 7) is drawn and looked up here too; its page is
//! typed_code.rs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;

use crate::errors::{ApiError, Forbidden};
use crate::model::{now_ms, QrSession, Status, UserCode};
use crate::server::Server;
use crate::store::StoreError;

/// RFC 8628 §3.2's default polling interval.
pub const INTERVAL_SECS: u64 = 5;
/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_SECS: u64 = 5;
/// A poll this much early still keeps the pace (timer and network jitter).
const PACE_TOLERANCE: Duration = Duration::from_millis(250);

/// RFC 8628 §6.1: consonants only (no vowels, so no words; no 0/O, 1/I), 8 of them: 34 bits,
/// which the user-code guess limit (the sign-in limit) makes too many to try.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

/// A new user code, stored without its dash (`WDJBMJHT`).
pub(crate) fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LEN)
        .map(|_| USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect()
}

/// `WDJBMJHT` as people read it: `WDJB-MJHT`.
pub fn display_user_code(code: &str) -> String {
    if code.len() == USER_CODE_LEN {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

/// What a person typed (any case, dashes, spaces) as a stored user code, if it can be one.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    is_user_code(&code).then_some(code)
}

/// True for an id of the user-code shape (real scan ids are 24 alphanumerics).
pub fn is_user_code(id: &str) -> bool {
    id.len() == USER_CODE_LEN && id.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))
}

/// The check code of a device session when its app asks for one: the user code (as displayed)
/// among two decoys, so the phone's pick proves the person sees the device's screen.
pub(crate) fn user_code_choices(code: &str) -> (String, Vec<String>) {
    let real = display_user_code(code);
    let mut choices = vec![real.clone()];
    while choices.len() < 3 {
        let decoy = display_user_code(&new_user_code());
        if !choices.contains(&decoy) {
            choices.push(decoy);
        }
    }
    choices.shuffle(&mut rand::rngs::OsRng);
    (real, choices)
}

pub(crate) fn verification_uri(public_url: &str) -> String {
    format!("{public_url}/device")
}

pub(crate) fn verification_uri_complete(public_url: &str, code: &str) -> String {
    format!(
        "{}?user_code={}",
        verification_uri(public_url),
        display_user_code(code)
    )
}

/// Polling pace per device authorization (RFC 8628 §3.5): a poll before the interval is up gets
/// `slow_down` and 5 s more interval for good. Kept in memory: behind a load balancer each
/// instance paces the polls it sees.
#[derive(Default)]
pub struct Pace {
    slots: Mutex<HashMap<String, Slot>>,
}

struct Slot {
    next: Instant,
    interval: Duration,
}

impl Pace {
    /// Ok when this poll keeps the pace; else the new interval in seconds.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() > 10_000 {
            let hour = Duration::from_secs(3600);
            slots.retain(|_, s| s.next + hour > now);
        }
        let slot = slots.entry(key.to_owned()).or_insert(Slot {
            next: now,
            interval: Duration::from_secs(INTERVAL_SECS),
        });
        let early = now + PACE_TOLERANCE < slot.next;
        if early {
            slot.interval += Duration::from_secs(SLOW_DOWN_SECS);
        }
        slot.next = now + slot.interval;
        if early {
            Err(slot.interval.as_secs())
        } else {
            Ok(())
        }
    }

    pub(crate) fn forget(&self, key: &str) {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Where a QR session's typed code is typed (`GET /s`, typed_code.rs).
pub fn typed_code_entry_url(public_url: &str) -> String {
    format!("{public_url}/s")
}

/// Draws and files a code for a new session (its lifetime is the session's). A code another
/// live session holds, QR or device (whose scan id is its code), is drawn again.
pub(crate) async fn issue(
    server: &Server,
    session: &QrSession,
    public_url: &str,
) -> Result<UserCode, ApiError> {
    let store = server.store();
    for _ in 0..4 {
        let code = new_user_code();
        if store.session_by_scan_id(&code).await?.is_some() {
            continue;
        }
        match store
            .insert_user_code(&code, &session.scan_id, session.expires_at)
            .await
        {
            Ok(()) => {
                return Ok(UserCode {
                    code,
                    entry_url: typed_code_entry_url(public_url),
                })
            }
            Err(StoreError::Duplicate) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal)
}

/// The waiting session a typed code names; `None` when `id` is no QR session's code (it may be
/// a scan id, or a device authorization's user code, which is its scan id). The caller has
/// charged the guess (`AppState::limit_user_code_guess`).
pub(crate) async fn session_for_code(
    server: &Server,
    id: &str,
) -> Result<Option<QrSession>, ApiError> {
    // As typed or as shown (`WDJB-MJHT`): a phone app may send what the person read.
    let Some(code) = normalize_user_code(id) else {
        return Ok(None);
    };
    let now = now_ms();
    let store = server.store();
    let Some(scan_id) = store.scan_id_for_user_code(&code).await? else {
        return Ok(None);
    };
    let Some(session) = store.session_by_scan_id(&scan_id).await? else {
        return Ok(None);
    };
    match session.status_at(now) {
        Status::Pending | Status::Scanned => Ok(Some(session)),
        Status::Expired => Err(ApiError::QrExpired),
        Status::Authorized | Status::Cancelled => {
            Err(ApiError::Forbidden(Forbidden::AlreadyDecided))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_unambiguous_and_typed_forms_normalize() {
        for _ in 0..200 {
            let c = new_user_code();
            assert!(is_user_code(&c), "{c}");
            assert!(!c.contains(['A', 'E', 'I', 'O', 'U', '0', '1']));
            let shown = display_user_code(&c);
            assert_eq!(normalize_user_code(&shown.to_lowercase()), Some(c.clone()));
            assert_eq!(normalize_user_code(&shown.replace('-', " ")), Some(c));
        }
        assert_eq!(normalize_user_code("WDJB-MJH"), None);
        assert_eq!(normalize_user_code("WDJB-MJHO"), None);
        assert!(!is_user_code("aB3dE5gH7jK9mN1pQ3sT5vW7"));
    }

    #[test]
    fn polling_early_slows_down_by_five_seconds_for_good() {
        let pace = Pace::default();
        let t0 = Instant::now();
        assert_eq!(pace.check("k", t0), Ok(()));
        assert_eq!(pace.check("k", t0 + Duration::from_secs(1)), Err(10));
        // The new interval counts from the slowed-down poll.
        assert_eq!(pace.check("k", t0 + Duration::from_secs(6)), Err(15));
        assert_eq!(pace.check("k", t0 + Duration::from_secs(21)), Ok(()));
        assert_eq!(pace.check("other", t0), Ok(()));
    }
}
