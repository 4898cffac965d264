//! How much the page's web process has grown since its first page, for a kiosk's sign-out
//! (`kiosk.web_process_budget_mib`). WebKit keeps part of what each login allocates (glibc heap
//! in the web process, not the page's DOM or JavaScript heap: docs/soak/kiosk/NOTES.md) for as
//! long as the process lives; a kiosk signing people in all day would grow without end. At a
//! sign-out, nobody is looking, so that is when the shell may start the page over in a new
//! process (web_process.rs) once the old one holds more than its budget.
//!
//! WebKitGTK does not tell its embedder the web process's PID, so it is found in /proc: the
//! app's own descendants named `WebKitWebProcess` (the kernel cuts names to 15 bytes). The
//! window has one page, hence one web process.

use std::path::Path;
use std::sync::Mutex;

/// A web process and its private memory (kiB) when it had just painted its first QR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Baseline {
    pid: i32,
    anon_kib: u64,
}

/// The budget's bookkeeping: the current web process's size after its first page.
#[derive(Debug, Default)]
pub struct Tracker {
    baseline: Mutex<Option<Baseline>>,
}

/// Why a sign-out renews the web process: it grew `grown_kib` past its first page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget {
    pub pid: i32,
    pub grown_kib: u64,
}

impl Tracker {
    /// A QR was painted: the first paint of a web process sets its baseline.
    /// Later paints of the same process (every new QR) only look up its PID.
    pub fn painted(&self) {
        let Some(pid) = current_web_process() else {
            return;
        };
        let mut baseline = self.baseline.lock().unwrap_or_else(|p| p.into_inner());
        if baseline.map(|b| b.pid) != Some(pid) {
            if let Some(anon_kib) = anonymous_kib_of(pid) {
                *baseline = Some(Baseline { pid, anon_kib });
            }
        }
    }

    /// At a sign-out: is the web process past `budget_mib` over its baseline? A process with no
    /// baseline yet (its page never painted a QR) is measured from zero, so budget 0 always
    /// renews.
    pub fn over_budget(&self, budget_mib: u64) -> Option<OverBudget> {
        let (pid, anon_kib) = measure()?;
        let baseline = *self.baseline.lock().unwrap_or_else(|p| p.into_inner());
        let from = baseline.filter(|b| b.pid == pid).map_or(0, |b| b.anon_kib);
        let grown_kib = anon_kib.saturating_sub(from);
        (grown_kib >= budget_mib * 1024).then_some(OverBudget { pid, grown_kib })
    }
}

/// The web process's PID and its private (anonymous) memory in kiB.
fn measure() -> Option<(i32, u64)> {
    let pid = current_web_process()?;
    Some((pid, anonymous_kib_of(pid)?))
}

fn current_web_process() -> Option<i32> {
    web_process_of(std::process::id() as i32, Path::new("/proc"))
}

fn anonymous_kib_of(pid: i32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    anonymous_kib(&rollup)
}

/// The first live `WebKitWebProcess` among `root`'s descendants under `proc`.
fn web_process_of(root: i32, proc: &Path) -> Option<i32> {
    let mut procs: Vec<(i32, i32, String)> = Vec::new();
    for entry in std::fs::read_dir(proc).ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) {
            if let Some((comm, state, ppid)) = parse_stat(&stat) {
                if state != 'Z' {
                    procs.push((pid, ppid, comm));
                }
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    procs
        .iter()
        .filter(|p| tree[1..].contains(&p.0) && p.2.starts_with("WebKitWebProces"))
        .map(|p| p.0)
        .min()
}

/// `(comm, state, ppid)` of a /proc/<pid>/stat line. The name is in parentheses and may itself
/// hold spaces and parentheses, so the fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(String, char, i32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, state, ppid))
}

/// The `Anonymous:` line of /proc/<pid>/smaps_rollup, in kiB.
fn anonymous_kib(rollup: &str) -> Option<u64> {
    rollup.lines().find_map(|l| {
        let v = l.strip_prefix("Anonymous:")?;
        v.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_a_hostile_name_still_parses() {
        let line = "4242 (Web) (x) S) R 17 4242 4242 0 -1 4194560 1 0 0 0";
        assert_eq!(parse_stat(line), Some(("Web) (x) S".into(), 'R', 17)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn the_anonymous_line_is_read_in_kib() {
        let rollup = "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss: 200 kB\nPss: 150 kB\n\
                      Anonymous:         123456 kB\nSwap: 0 kB\n";
        assert_eq!(anonymous_kib(rollup), Some(123_456));
        assert_eq!(anonymous_kib("Rss: 1 kB\n"), None);
    }

    /// A fake /proc: the app (10), its web process (12, under a helper 11), a web process of
    /// another program (21) and a dead one of ours (13).
    #[test]
    fn only_a_live_web_process_of_this_app_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let procs = [
            (10, "qrlogin", 'S', 1),
            (11, "bwrap", 'S', 10),
            (12, "WebKitWebProces", 'S', 11),
            (13, "WebKitWebProces", 'Z', 10),
            (20, "other", 'S', 1),
            (21, "WebKitWebProces", 'S', 20),
        ];
        for (pid, comm, state, ppid) in procs {
            let d = dir.path().join(pid.to_string());
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("stat"), format!("{pid} ({comm}) {state} {ppid} 0 0")).unwrap();
        }
        std::fs::create_dir(dir.path().join("self")).unwrap();
        assert_eq!(web_process_of(10, dir.path()), Some(12));
        assert_eq!(web_process_of(20, dir.path()), Some(21));
        assert_eq!(web_process_of(11, dir.path()), Some(12));
        assert_eq!(
            web_process_of(1, dir.path()),
            Some(12),
            "the lowest PID is taken"
        );
        assert_eq!(web_process_of(12, dir.path()), None);
    }

    #[test]
    fn a_process_without_a_baseline_is_measured_from_zero() {
        // No web process in a unit test: nothing is over any budget, nothing panics.
        let t = Tracker::default();
        t.painted();
        assert_eq!(t.over_budget(0), None);
    }
}
