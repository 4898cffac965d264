//! Shared helpers: the monotonic clock the app's paint log uses, percentiles, /proc readings of
//! process trees, and a guard that kills (by PID) a process tree this benchmark started.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

/// CLOCK_MONOTONIC in nanoseconds: the clock `src-tauri/src/paint_log.rs` writes.
pub fn monotonic_ns() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// Nearest-rank percentile of sorted values.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `{n, p50, p95, p99, min, max, mean}` of samples (milliseconds in, milliseconds out).
pub fn summary(samples: &[f64]) -> Value {
    let mut s: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = if s.is_empty() {
        f64::NAN
    } else {
        s.iter().sum::<f64>() / s.len() as f64
    };
    json!({
        "n": s.len(),
        "p50": pct(&s, 50.0),
        "p95": pct(&s, 95.0),
        "p99": pct(&s, 99.0),
        "min": s.first().copied().unwrap_or(f64::NAN),
        "max": s.last().copied().unwrap_or(f64::NAN),
        "mean": mean,
    })
}

pub fn write_json(path: &str, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if let Some(dir) = std::path::Path::new(path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(path, &text) {
        eprintln!("could not write {path}: {e}");
    }
    println!("{text}");
}

/// Parent of every process, from /proc.
fn parents() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return map;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(st) = stat_fields(pid) {
            if let Some(ppid) = st.get(1).and_then(|s| s.parse().ok()) {
                map.insert(pid, ppid);
            }
        }
    }
    map
}

/// Fields of /proc/<pid>/stat after the command name: index 0 is `state`, 1 is `ppid`,
/// 11 `utime`, 12 `stime` (man 5 proc, fields 3.. renumbered from 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    Some(after.split_whitespace().map(str::to_owned).collect())
}

/// `pid` and all its descendants.
pub fn tree(pid: u32) -> Vec<u32> {
    let parents = parents();
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        for (&child, &pp) in &parents {
            if pp == p && !out.contains(&child) {
                out.push(child);
            }
        }
        i += 1;
    }
    out
}

pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// Proportional set size from smaps_rollup (shared pages split between their users).
pub fn pss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    s.lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// utime + stime in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    stat_fields(pid)
        .map(|f| {
            let u: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0);
            let s: u64 = f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
            u + s
        })
        .unwrap_or(0)
}

pub fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Memory of a process tree: per process name and in total.
pub fn tree_memory(pid: u32) -> Value {
    let mut procs = Vec::new();
    let (mut rss, mut pss) = (0u64, 0u64);
    for p in tree(pid) {
        let r = rss_kib(p);
        let s = pss_kib(p).unwrap_or(r);
        rss += r;
        pss += s;
        procs.push(json!({"pid": p, "name": comm(p), "rss_kib": r, "pss_kib": s}));
    }
    json!({"rss_kib": rss, "pss_kib": pss, "processes": procs})
}

/// Kills a process tree this benchmark started, by PID, when dropped (SIGTERM, then SIGKILL).
pub struct TreeGuard {
    pub pid: u32,
    child: Option<std::process::Child>,
}

impl TreeGuard {
    pub fn new(child: std::process::Child) -> Self {
        Self {
            pid: child.id(),
            child: Some(child),
        }
    }

    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pids = tree(self.pid);
        for &p in pids.iter().rev() {
            // SAFETY: plain kill(2) on PIDs we started (the app and its WebKit children).
            unsafe { libc::kill(p as i32, libc::SIGTERM) };
        }
        let end = std::time::Instant::now() + Duration::from_secs(3);
        while std::time::Instant::now() < end {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for &p in pids.iter().rev() {
            if std::path::Path::new(&format!("/proc/{p}")).exists() {
                // SAFETY: as above.
                unsafe { libc::kill(p as i32, libc::SIGKILL) };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for TreeGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A value of `--name value` from the arguments, or the default.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn arg_str(args: &[String], name: &str, default: &str) -> String {
    arg::<String>(args, name, default.to_owned())
}
