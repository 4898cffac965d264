//! Per-IP token buckets for the endpoints worth guessing at (sign-in, generate, poll, exchange),
//! so that trying passwords, ids or tickets is slow. Over the limit: HTTP 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::errors::ApiError;

/// Requests per minute per client IP, by kind; `None` means unlimited. The bucket holds a
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    SignIn,
    Generate,
    Poll,
    Exchange,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(Kind, IpAddr), Bucket>>,
}

/// Buckets kept before full ones are dropped; bounds memory under a spray of addresses.
const MAX_BUCKETS: usize = 50_000;

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_minute(&self, kind: Kind) -> Option<u32> {
        match kind {
            Kind::SignIn => self.limits.signin_per_minute,
            Kind::Generate => self.limits.generate_per_minute,
            Kind::Poll => self.limits.poll_per_minute,
            Kind::Exchange => self.limits.exchange_per_minute,
        }
    }

    /// Takes one token for `ip`, or says how many seconds until one is there.
    pub fn check(&self, kind: Kind, ip: IpAddr) -> Result<(), ApiError> {
        let Some(per_minute) = self.per_minute(kind) else {
            return Ok(());
        };
        let capacity = f64::from(per_minute.max(1));
        let refill_per_sec = capacity / 60.0;
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * refill_per_sec < capacity
            });
        }
        let bucket = buckets.entry((kind, network_of(ip))).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * refill_per_sec).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / refill_per_sec).ceil().max(1.0);
            Err(ApiError::RateLimited {
                retry_after_secs: wait as u64,
            })
        }
    }
}

/// IPv6 clients are counted per /64: one host usually owns the whole prefix.
fn network_of(ip: IpAddr) -> IpAddr {
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
    fn ipv6_counts_per_prefix() {
        let a: IpAddr = "2001:db8::1".parse().expect("ip");
        let b: IpAddr = "2001:db8::2".parse().expect("ip");
        assert_eq!(network_of(a), network_of(b));
    }
}
