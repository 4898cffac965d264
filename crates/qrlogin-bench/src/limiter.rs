//! Row 8: the rate limiter with many distinct clients. The server's governor-based limiter
//! against the hand-written one it replaced (kept here, and only here, for this comparison),
//! in the same run: every client checked twice on the sign-in kind, from two threads at once.
//! A limiter that cannot finish within the time budget is reported with what it did.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use qrlogin_server::{LimitKind, Limiter, RateLimits};
use serde_json::{json, Value};

use crate::util::summary;

pub struct Params {
    pub clients: usize,
    pub threads: usize,
    pub budget: Duration,
}

pub async fn run(p: Params) -> Result<Value, String> {
    let limits = RateLimits::default();
    let ours = Limiter::new(limits);
    let ours_result = measure(&p, |ip| ours.check(LimitKind::SignIn, ip).is_ok());
    let old = old::Limiter::new(limits);
    let old_result = measure(&p, |ip| old.check(old::Kind::SignIn, ip).is_ok());
    let ratio = ours_result["checks_per_sec"].as_f64().unwrap_or(f64::NAN)
        / old_result["checks_per_sec"].as_f64().unwrap_or(f64::NAN);
    Ok(json!({
        "setup": format!(
            "{} distinct IPv4 clients, each checked twice (sign-in kind, 10/min), {} threads, \
             {} s budget per limiter; latency per check in µs",
            p.clients, p.threads, p.budget.as_secs()
        ),
        "clients": p.clients,
        "ours": ours_result,
        "old": old_result,
        "ratio": ratio,
    }))
}

/// Runs 2 × clients checks split over the threads; per-check latencies in µs.
fn measure(p: &Params, check: impl Fn(IpAddr) -> bool + Sync) -> Value {
    let started = Instant::now();
    let deadline = started + p.budget;
    let per_thread = p.clients.div_ceil(p.threads);
    let results: Vec<(Vec<f64>, usize, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..p.threads)
            .map(|t| {
                let check = &check;
                scope.spawn(move || {
                    let first = t * per_thread;
                    let last = ((t + 1) * per_thread).min(p.clients);
                    let mut lat = Vec::with_capacity(2 * (last - first));
                    let mut allowed = 0;
                    for _ in 0..2 {
                        for i in first..last {
                            if i % 256 == 0 && Instant::now() > deadline {
                                return (lat, allowed, false);
                            }
                            let ip = IpAddr::V4(Ipv4Addr::from(0x0A00_0000u32 + i as u32));
                            let t0 = Instant::now();
                            if check(ip) {
                                allowed += 1;
                            }
                            lat.push(t0.elapsed().as_secs_f64() * 1e6);
                        }
                    }
                    (lat, allowed, true)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let mut all = Vec::new();
    let mut allowed = 0;
    let mut completed = true;
    for (lat, a, done) in results {
        all.extend(lat);
        allowed += a;
        completed &= done;
    }
    let checks = all.len();
    json!({
        "checks": checks,
        "allowed": allowed,
        "secs": secs,
        "checks_per_sec": checks as f64 / secs,
        "completed": completed,
        "latency_us": summary(&all),
    })
}

/// The limiter the server used before governor, verbatim but for its error type: one global
/// lock, and above 50 000 buckets every check scans all of them, judging each by the capacity
/// of the kind being checked.
mod old {
    use std::collections::HashMap;
    use std::net::IpAddr;
    use std::sync::Mutex;
    use std::time::Instant;

    use qrlogin_server::RateLimits;

    // Verbatim: the bench checks one kind, the others stay as they were.
    #[allow(dead_code)]
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

        /// `Err(seconds)` over the limit.
        pub fn check(&self, kind: Kind, ip: IpAddr) -> Result<(), u64> {
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
            let bucket = buckets.entry((kind, ip)).or_insert(Bucket {
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
                Err(wait as u64)
            }
        }
    }
}
