//! Per-client token buckets for the endpoints worth guessing at (sign-in, generate, poll,
//! exchange), so that trying passwords, ids or tickets is slow. Over the limit: HTTP 429 with
//! `Retry-After`. One keyed `governor` limiter per kind: each kind is judged by its own quota,
//! and a check costs one sharded map lookup however many clients there are.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::errors::ApiError;

/// Requests per minute per client address, by kind; `None` means unlimited. The bucket holds a
/// minute's worth, so short bursts pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Password sign-ins (`/api/v3/signin` and the approval page's form).
    pub signin_per_minute: Option<u32>,
    /// QR generates of every generation.
    pub generate_per_minute: Option<u32>,
    /// Polls of every generation, and the phone side (approval page, scan/confirm/cancel).
    pub poll_per_minute: Option<u32>,
    /// Ticket exchanges.
    pub exchange_per_minute: Option<u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            signin_per_minute: Some(10),
            generate_per_minute: Some(60),
            poll_per_minute: Some(600),
            exchange_per_minute: Some(30),
        }
    }
}

impl RateLimits {
    /// No limits at all: for tests and benchmarks that send bursts.
    pub fn unlimited() -> Self {
        RateLimits {
            signin_per_minute: None,
            generate_per_minute: None,
            poll_per_minute: None,
            exchange_per_minute: None,
        }
    }
}

/// What a request is doing, for its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    SignIn,
    Generate,
    Poll,
    Exchange,
}

/// The limiter of one server: a keyed `governor` limiter per limited kind.
pub struct Limiter {
    signin: Option<DefaultKeyedRateLimiter<IpAddr>>,
    generate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    poll: Option<DefaultKeyedRateLimiter<IpAddr>>,
    exchange: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
}

/// Every this many checks, buckets that are full again are dropped (`retain_recent`), so a
/// spray of addresses costs memory only for as long as their buckets take to refill.
const RETAIN_EVERY: u64 = 1 << 16;

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        let keyed = |per_minute: Option<u32>| {
            per_minute.map(|n| {
                let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
                RateLimiter::keyed(Quota::per_minute(n))
            })
        };
        Limiter {
            signin: keyed(limits.signin_per_minute),
            generate: keyed(limits.generate_per_minute),
            poll: keyed(limits.poll_per_minute),
            exchange: keyed(limits.exchange_per_minute),
            checks: AtomicU64::new(0),
        }
    }

    fn of(&self, kind: Kind) -> Option<&DefaultKeyedRateLimiter<IpAddr>> {
        match kind {
            Kind::SignIn => self.signin.as_ref(),
            Kind::Generate => self.generate.as_ref(),
            Kind::Poll => self.poll.as_ref(),
            Kind::Exchange => self.exchange.as_ref(),
        }
    }

    /// Takes one token for the client at `ip`, or says how many seconds until one is there.
    pub fn check(&self, kind: Kind, ip: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = self.of(kind) else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.forget_idle();
        }
        limiter.check_key(&network_of(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }

    /// Drops the state of clients whose buckets are full again (they are as if never seen).
    pub fn forget_idle(&self) {
        for l in [&self.signin, &self.generate, &self.poll, &self.exchange]
            .into_iter()
            .flatten()
        {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Clients with state, over all kinds (for tests and benchmarks).
    pub fn tracked(&self) -> usize {
        [&self.signin, &self.generate, &self.poll, &self.exchange]
            .into_iter()
            .flatten()
            .map(|l| l.len())
            .sum()
    }
}

/// IPv6 clients are counted per /64: one host usually owns the whole prefix.
pub(crate) fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_empties_and_says_when_to_retry() {
        let limiter = Limiter::new(RateLimits {
            signin_per_minute: Some(3),
            ..RateLimits::unlimited()
        });
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        for _ in 0..3 {
            assert!(limiter.check(Kind::SignIn, ip).is_ok());
        }
        let err = limiter
            .check(Kind::SignIn, ip)
            .expect_err("4th sign-in passed");
        assert!(err.retry_after().is_some_and(|s| (1..=20).contains(&s)));
        assert!(
            limiter.check(Kind::SignIn, other).is_ok(),
            "limit is per IP"
        );
        assert!(limiter.check(Kind::Poll, ip).is_ok(), "unlimited kind");
    }

    #[test]
    fn each_kind_is_judged_by_its_own_quota() {
        // The old limiter judged every bucket by the capacity of the kind being checked.
        let limiter = Limiter::new(RateLimits {
            signin_per_minute: Some(2),
            poll_per_minute: Some(100),
            ..RateLimits::unlimited()
        });
        let ip: IpAddr = "10.0.0.9".parse().expect("ip");
        for _ in 0..100 {
            assert!(limiter.check(Kind::Poll, ip).is_ok());
        }
        assert!(limiter.check(Kind::SignIn, ip).is_ok());
        assert!(limiter.check(Kind::SignIn, ip).is_ok());
        assert!(limiter.check(Kind::SignIn, ip).is_err());
        assert!(limiter.check(Kind::Poll, ip).is_err());
    }

    #[test]
    fn ipv6_counts_per_prefix() {
        let a: IpAddr = "2001:db8::1".parse().expect("ip");
        let b: IpAddr = "2001:db8::2".parse().expect("ip");
        assert_eq!(network_of(a), network_of(b));
    }
}
