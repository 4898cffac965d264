//! Paint timestamps for benchmarks: when `QRLOGIN_PAINT_LOG` names a file, each paint the page
//! reports is appended as `<what> <CLOCK_MONOTONIC ns>`, a clock the benchmark process shares.

use std::io::Write;

pub fn record(what: &str) {
    record_at(what, monotonic_ns());
}

/// Whether a paint log is being written (the page then reports its own start-up marks).
pub fn enabled() -> bool {
    std::env::var_os("QRLOGIN_PAINT_LOG").is_some()
}

/// A mark the page took `ago_ms` before it reported it (its start-up marks are sent after the
/// QR is painted, so that reporting them does not slow what they measure).
pub fn record_ago(what: &str, ago_ms: f64) {
    let ago_ns = (ago_ms.clamp(0.0, 600_000.0) * 1e6) as u128;
    record_at(what, monotonic_ns().saturating_sub(ago_ns));
}

fn record_at(what: &str, ns: u128) {
    let Ok(path) = std::env::var("QRLOGIN_PAINT_LOG") else {
        return;
    };
    let what: String = what
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    let line = format!("{what} {ns}\n");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// CLOCK_MONOTONIC in nanoseconds: `std::time::Instant` hides the raw value, and another process
/// needs a number it can compare against its own reading of the same clock.
pub fn monotonic_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}
