//! Rotating QRs (issue 15 item 8): while a session waits for a scan, the public id its QR
//! carries changes every `qr_rotate_secs` of the app, so a photo of the code stops working at
//! the next turn (Telegram's behaviour). The requester's handle never changes.
//!
//! Nothing is stored per turn: turn `n` (counted from the session's creation) has the public id
//! `{scan_id}.{n}.{tag}` with `tag` a keyed hash of `scan_id` and `n`, turn 0 the plain scan id.
//! The key comes from the pool's signing seed, which every instance sharing a database reads, so
//! any instance recognises any instance's ids. Knowing a past id (the photo) gives the base scan
//! id but not the next tag.

use sha2::{Digest, Sha256};

use crate::model::{App, Generation, Millis, QrPayload, QrSession, Status};

/// A scan that started from the previous code this long after the turn still counts: the phone
/// read the QR a moment before it changed.
pub const GRACE_MS: Millis = 2_000;

/// Hex digits of the tag: 64 bits, guessed online only (rate-limited like every public id).
const TAG_LEN: usize = 16;

#[derive(Clone)]
pub struct Rotation {
    key: [u8; 32],
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rotation(..)")
    }
}

/// What a presented public id says about its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicId<'a> {
    pub scan_id: &'a str,
    pub turn: u64,
}

impl Rotation {
    /// A key of its own, derived from the signing seed (never the seed itself).
    pub fn from_seed(seed: &str) -> Rotation {
        let mut h = Sha256::new();
        h.update(b"qrlogin qr-rotation v1\0");
        h.update(seed.as_bytes());
        Rotation {
            key: h.finalize().into(),
        }
    }

    /// Keyed hash over a fixed layout, truncated: a length-extension needs the full state and
    /// would add bytes that are not `scan_id` characters.
    fn tag(&self, scan_id: &str, turn: u64) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(scan_id.as_bytes());
        h.update(b"\0");
        h.update(turn.to_be_bytes());
        let mut t = hex::encode(h.finalize());
        t.truncate(TAG_LEN);
        t
    }

    /// The id the QR carries during `turn`.
    pub fn public_id(&self, scan_id: &str, turn: u64) -> String {
        if turn == 0 {
            return scan_id.to_owned();
        }
        format!("{scan_id}.{turn}.{}", self.tag(scan_id, turn))
    }

    /// Reads a presented id; `None` when its tag is wrong (treated as an unknown id).
    pub fn parse<'a>(&self, id: &'a str) -> Option<PublicId<'a>> {
        let mut parts = id.split('.');
        let scan_id = parts.next()?;
        let (Some(turn), Some(tag), None) = (parts.next(), parts.next(), parts.next()) else {
            return (!id.contains('.')).then_some(PublicId { scan_id, turn: 0 });
        };
        let turn: u64 = turn.parse().ok().filter(|t| *t > 0)?;
        crate::crypto::constant_time_eq(tag, &self.tag(scan_id, turn))
            .then_some(PublicId { scan_id, turn })
    }
}

/// The turn in force at `now` (0 when the app does not rotate).
pub fn turn_at(app: &App, s: &QrSession, now: Millis) -> u64 {
    match period_ms(app, s) {
        Some(p) => ((now - s.created_at).max(0) / p) as u64,
        None => 0,
    }
}

/// When the next turn starts, while the session is still pending.
pub fn next_turn_at(app: &App, s: &QrSession, now: Millis) -> Option<Millis> {
    let p = period_ms(app, s)?;
    if s.status_at(now) != Status::Pending {
        return None;
    }
    let next = s.created_at + (turn_at(app, s, now) as i64 + 1) * p;
    (next < s.expires_at).then_some(next)
}

/// Whether a code of `turn` may still act on the session at `now`. Only a pending session
/// rotates: once scanned, the scanner's own session decides who may go on.
pub fn is_current(app: &App, s: &QrSession, turn: u64, now: Millis) -> bool {
    let Some(p) = period_ms(app, s) else {
        return true;
    };
    if s.status_at(now) != Status::Pending {
        return true;
    }
    let current = turn_at(app, s, now);
    let since_turn = now - (s.created_at + current as i64 * p);
    turn == current || (turn + 1 == current && since_turn < GRACE_MS)
}

/// Only a URL QR rotates. An Authing-JSON QR carries the handle, which never changes; an RFC 8628
/// user code is typed by a person from a screen or a terminal that shows it once, so it must
/// stay the same for the whole life of the device authorization.
fn period_ms(app: &App, s: &QrSession) -> Option<Millis> {
    let rotates = app.qr_rotate_secs > 0
        && app.qr_payload == QrPayload::Url
        && s.generation != Generation::Device;
    rotates.then(|| i64::from(app.qr_rotate_secs) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_a_forged_turn_is_unknown() {
        let r = Rotation::from_seed("seed");
        assert_eq!(r.public_id("abc", 0), "abc");
        let id = r.public_id("abc", 3);
        assert_eq!(
            r.parse(&id),
            Some(PublicId {
                scan_id: "abc",
                turn: 3
            })
        );
        // The photo's id with the next turn number but its own tag: refused.
        let forged = id.replacen(".3.", ".4.", 1);
        assert_eq!(r.parse(&forged), None);
        assert_eq!(Rotation::from_seed("other").parse(&id), None);
        assert_eq!(r.parse("abc.0.00"), None);
    }
}
