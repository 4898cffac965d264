//! Password guessing, limited beyond the per-address rate limit: a per-account backoff after
//! repeated failures (keyed by the name typed, so it treats unknown and real accounts the same
//! and never tells them apart), and a cap on concurrent Argon2 verifications (each takes a core
//! for tens of milliseconds; more at once than cores only queue up and starve everything else).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::errors::ApiError;

/// Failures allowed before the backoff starts.
pub const FREE_FAILURES: u32 = 5;
/// Longest backoff between attempts on one account.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// An account's failures are forgotten this long after its last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// How long a sign-in waits for a verification slot before it is answered 429.
pub const SLOT_WAIT: Duration = Duration::from_secs(2);
/// Accounts tracked before the forgotten ones are swept (bounds memory under a name spray).
const SWEEP_ABOVE: usize = 100_000;

pub struct SignInGuard {
    slots: Semaphore,
    accounts: Mutex<HashMap<String, Failures>>,
}

struct Failures {
    count: u32,
    last: Instant,
    locked_until: Instant,
}

impl Default for SignInGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SignInGuard::new(cores)
    }
}

impl SignInGuard {
    pub fn new(verification_slots: usize) -> Self {
        SignInGuard {
            slots: Semaphore::new(verification_slots.max(1)),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// The key of an account: the name as typed, trimmed and lower-cased.
    fn key(username: &str) -> String {
        username.trim().to_lowercase().chars().take(128).collect()
    }

    /// Refuses an attempt on an account that is backing off.
    pub fn check_account(&self, username: &str) -> Result<(), ApiError> {
        let Ok(accounts) = self.accounts.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        match accounts.get(&Self::key(username)) {
            Some(f) if f.locked_until > now => Err(ApiError::RateLimited {
                retry_after_secs: (f.locked_until - now).as_secs_f64().ceil().max(1.0) as u64,
            }),
            _ => Ok(()),
        }
    }

    /// Records the outcome: a success clears the account, a failure past the free ones doubles
    /// its wait (1 s, 2 s, 4 s, … up to [`MAX_BACKOFF`]).
    pub fn record(&self, username: &str, ok: bool) {
        let Ok(mut accounts) = self.accounts.lock() else {
            return;
        };
        let key = Self::key(username);
        let now = Instant::now();
        if ok {
            accounts.remove(&key);
            return;
        }
        if accounts.len() >= SWEEP_ABOVE {
            accounts.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        }
        let f = accounts.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: now,
        });
        if now.duration_since(f.last) >= FORGET_AFTER {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        if f.count >= FREE_FAILURES {
            let doublings = (f.count - FREE_FAILURES).min(16);
            let wait = Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF);
            f.locked_until = now + wait;
        }
    }

    /// A slot for one password verification; waits up to [`SLOT_WAIT`], then 429.
    pub async fn verification_slot(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(SLOT_WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                tracing::warn!("all password verification slots busy");
                Err(ApiError::RateLimited {
                    retry_after_secs: 1,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_and_a_success_clears() {
        let g = SignInGuard::new(1);
        for _ in 0..FREE_FAILURES - 1 {
            g.record("Alice", false);
            assert!(g.check_account("alice").is_ok());
        }
        g.record(" alice ", false);
        let e = g.check_account("ALICE").expect_err("not backing off");
        assert_eq!(e.retry_after(), Some(1));
        g.record("alice", true);
        assert!(g.check_account("alice").is_ok());
    }

    #[tokio::test]
    async fn verifications_beyond_the_slots_wait_then_get_429() {
        let g = SignInGuard::new(1);
        let held = g.verification_slot().await.expect("first slot");
        let started = Instant::now();
        let e = g.verification_slot().await.expect_err("second slot given");
        assert!(started.elapsed() >= SLOT_WAIT - Duration::from_millis(50));
        assert_eq!(e.retry_after(), Some(1));
        drop(held);
        assert!(g.verification_slot().await.is_ok());
    }
}
