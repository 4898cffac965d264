//! The caps of the server's edge, their defaults (README "Limits and timeouts" says why), and
//! the cap on held long-polls per client address and per QR session: a long-poll over a cap is
//! answered at once with 429, so one address cannot pin hundreds of requests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::errors::ApiError;
use crate::ratelimit::network_of;

/// Connection and request limits of `serve` (every field has a default; see README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeLimits {
    /// Open TCP connections at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Time to send a whole request head. hyper runs the same timer while a keep-alive
    /// connection waits for its next request, so it is also the idle keep-alive timeout.
    pub header_read_timeout: Duration,
    /// Time from a complete head to the response head; above the 30 s long-poll hold.
    pub request_timeout: Duration,
    /// Long-polls held at once per client address (IPv6: per /64).
    pub long_polls_per_client: usize,
    /// Long-polls held at once on one QR session.
    pub long_polls_per_session: usize,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(45),
            long_polls_per_client: 32,
            long_polls_per_session: 4,
        }
    }
}

impl EdgeLimits {
    /// Caps high enough for load tests on one machine (timeouts stay).
    pub fn for_load_tests() -> Self {
        EdgeLimits {
            max_connections: 1 << 20,
            long_polls_per_client: usize::MAX,
            long_polls_per_session: usize::MAX,
            ..EdgeLimits::default()
        }
    }
}

/// Longest request head (request line and headers); hyper answers 431 above it.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Longest query string; G2's generate copies unknown query keys into the QR's custom data.
pub const MAX_QUERY_BYTES: usize = 2048;
/// Largest custom data of a QR (its JSON), of every generation.
pub const MAX_CUSTOM_DATA_BYTES: usize = 4096;
/// Longest requester field (device name, platform, app name, version), in characters.
pub const MAX_REQUESTER_FIELD_CHARS: usize = 64;

/// The long-polls being held, counted per client network and per session.
pub struct HeldPolls {
    per_client: usize,
    per_session: usize,
    held: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    clients: HashMap<IpAddr, usize>,
    sessions: HashMap<String, usize>,
}

/// One held long-poll; gives its place back when dropped.
pub struct Hold {
    polls: Arc<HeldPolls>,
    client: IpAddr,
    session: String,
}

impl HeldPolls {
    pub fn new(limits: &EdgeLimits) -> Arc<Self> {
        Arc::new(HeldPolls {
            per_client: limits.long_polls_per_client,
            per_session: limits.long_polls_per_session,
            held: Mutex::new(Counts::default()),
        })
    }

    /// Long-polls held right now, over all clients.
    pub fn held(&self) -> usize {
        self.held
            .lock()
            .map(|h| h.clients.values().sum())
            .unwrap_or(0)
    }

    /// A place for one more long-poll of `client` on `session`, or 429 at once.
    pub fn try_hold(self: &Arc<Self>, client: IpAddr, session: &str) -> Result<Hold, ApiError> {
        let client = network_of(client);
        let mut held = self.held.lock().map_err(|_| ApiError::Internal)?;
        let by_client = held.clients.get(&client).copied().unwrap_or(0);
        let by_session = held.sessions.get(session).copied().unwrap_or(0);
        if by_client >= self.per_client || by_session >= self.per_session {
            tracing::warn!(%client, by_client, by_session, "long-poll cap reached");
            return Err(ApiError::RateLimited {
                retry_after_secs: 1,
            });
        }
        *held.clients.entry(client).or_default() += 1;
        *held.sessions.entry(session.to_owned()).or_default() += 1;
        Ok(Hold {
            polls: Arc::clone(self),
            client,
            session: session.to_owned(),
        })
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let Ok(mut held) = self.polls.held.lock() else {
            return;
        };
        release(&mut held.clients, &self.client);
        release(&mut held.sessions, &self.session);
    }
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

/// A requester field as the approval page may show it: control and bidirectional-formatting
/// characters removed (they can make "Alice's laptop" read as something else), trimmed,
/// at most [`MAX_REQUESTER_FIELD_CHARS`] characters.
pub fn clean_field(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !is_bidi_or_invisible(*c))
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_REQUESTER_FIELD_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_capped_per_client_and_per_session_and_given_back() {
        let polls = HeldPolls::new(&EdgeLimits {
            long_polls_per_client: 2,
            long_polls_per_session: 1,
            ..EdgeLimits::default()
        });
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let h1 = polls.try_hold(a, "s1").expect("first");
        assert!(polls.try_hold(b, "s1").is_err(), "second on one session");
        let _h2 = polls.try_hold(a, "s2").expect("second session");
        assert!(polls.try_hold(a, "s3").is_err(), "third of one client");
        drop(h1);
        assert!(polls.try_hold(a, "s3").is_ok(), "place not given back");
    }

    #[test]
    fn fields_lose_controls_and_bidi_overrides() {
        assert_eq!(clean_field("  Ali\u{202E}ce\u{0007}'s PC \n"), "Alice's PC");
        assert_eq!(clean_field(&"x".repeat(500)).chars().count(), 64);
        assert_eq!(clean_field("\u{2066}\u{200B}"), "");
    }
}
