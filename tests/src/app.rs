//! The app under test: its isolated home, `tauri-driver` (and the WebKitWebDriver and app it
//! starts) as a process tree we own, and the WebDriver session that looks at the window.

use std::fs::{self, OpenOptions};
use std::future::Future;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::config::AppConfig;
use crate::scenario::{self, Scenario};
use crate::{qr, POLL, STATE_TIMEOUT};

/// Must match `identifier` in src-tauri/tauri.conf.json (Tauri's data and log dirs use it).
const IDENTIFIER: &str = "dev.qrlogin.desktop";

/// A fresh HOME (and XDG dirs) for the app: remembered sessions, the embedded server's data and
/// logs live here and nowhere else. Keep one across launches to test "restart the app".
pub struct AppHome {
    dir: tempfile::TempDir,
    config: Option<PathBuf>,
}

impl AppHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("qrlogin-e2e-home-")
            .tempdir()
            .expect("temp dir for the app's home");
        for sub in ["config", "data", "cache", "state"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create the app's XDG dirs");
        }
        AppHome { dir, config: None }
    }

    /// A home whose `$QRLOGIN_CONFIG` is `config`.
    pub fn with_config(config: &AppConfig) -> Self {
        let mut home = Self::new();
        home.write_config(config);
        home
    }

    /// Writes (or replaces) the config file the next launch reads.
    pub fn write_config(&mut self, config: &AppConfig) {
        let path = self.dir.path().join("qrlogin-e2e.toml");
        fs::write(&path, config.to_toml()).expect("write the app's config file");
        self.config = Some(path);
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the app writes its daily-rotated log files.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir().join(IDENTIFIER).join("logs")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let p = |s: &str| self.dir.path().join(s).to_string_lossy().into_owned();
        let mut env = vec![
            (
                "HOME".to_string(),
                self.dir.path().to_string_lossy().into_owned(),
            ),
            ("XDG_CONFIG_HOME".to_string(), p("config")),
            ("XDG_DATA_HOME".to_string(), p("data")),
            ("XDG_CACHE_HOME".to_string(), p("cache")),
            ("XDG_STATE_HOME".to_string(), p("state")),
        ];
        if let Some(cfg) = &self.config {
            env.push((
                "QRLOGIN_CONFIG".to_string(),
                cfg.to_string_lossy().into_owned(),
            ));
        }
        env
    }

    /// The config file's text (for the log), if any.
    fn config_text(&self) -> Option<String> {
        self.config
            .as_ref()
            .and_then(|p| fs::read_to_string(p).ok())
    }
}

impl Default for AppHome {
    fn default() -> Self {
        Self::new()
    }
}

/// `tauri-driver`, the WebKitWebDriver it starts, and the app that one starts, killed by PID
/// when dropped (also on a panic), their output in the scenario's driver log.
struct Driver {
    child: Child,
    log: PathBuf,
    app_data: PathBuf,
    reaped: bool,
}

impl Driver {
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Ends the whole tree: descendants are listed first (they get re-parented once their parent
    /// dies), asked to stop, and killed if they are still there after a few seconds.
    fn stop(&mut self) {
        if self.reaped {
            return;
        }
        self.reaped = true;
        let root = self.pid();
        let mut tree = descendants(root);
        tree.push(root);
        for &pid in &tree {
            // SAFETY: plain kill(2) on PIDs of processes this harness started (or their children).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && tree.iter().any(|&p| alive(p)) {
            let _ = self.child.try_wait();
            std::thread::sleep(Duration::from_millis(50));
        }
        for &pid in &tree {
            if alive(pid) {
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && tree.iter().any(|&p| alive(p)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.append_app_logs();
    }

    /// The app's own log files (tracing, daily-rotated under its data dir) go into the driver log.
    fn append_app_logs(&self) {
        let Ok(mut log) = OpenOptions::new().append(true).open(&self.log) else {
            return;
        };
        let logs = self.app_data.join(IDENTIFIER).join("logs");
        let Ok(entries) = fs::read_dir(&logs) else {
            let _ = writeln!(log, "--- (no app log files in {})", logs.display());
            return;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let _ = writeln!(log, "--- app log file {} ---", f.display());
            if let Ok(text) = fs::read_to_string(&f) {
                let _ = log.write_all(text.as_bytes());
            }
        }
        // Each launch appends; avoid copying the same lines again after the next launch.
        let _ = fs::remove_dir_all(&logs);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Every process whose parent chain leads to `root` (read from /proc).
fn descendants(root: i32) -> Vec<i32> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            if let Some((_, rest)) = stat.rsplit_once(')') {
                let mut fields = rest.split_whitespace();
                let _state = fields.next();
                if let Some(ppid) = fields.next().and_then(|s| s.parse::<i32>().ok()) {
                    parent_of.push((pid, ppid));
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parent_of {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    // Deepest first is not needed for SIGTERM, but keeps the app before its driver in the list.
    out.reverse();
    out
}

/// The processes under `root` (see [`App::process_tree`]).
pub fn process_tree(root: i32) -> Vec<Proc> {
    descendants(root)
        .into_iter()
        .filter_map(Proc::read)
        .collect()
}

/// One process as /proc shows it.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub comm: String,
    /// `R`, `S`, `Z` (a zombie: exited, not reaped), ...
    pub state: char,
    pub rss_kib: u64,
    /// Proportional set size (shared pages split among their users), `None` if unreadable.
    pub pss_kib: Option<u64>,
}

impl Proc {
    fn read(pid: i32) -> Option<Proc> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_string();
        let state = rest.trim_start().chars().next()?;
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        };
        let rss_kib = kib(&status, "VmRSS:").unwrap_or(0);
        let pss_kib = fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|t| kib(&t, "Pss:"));
        Some(Proc {
            pid,
            comm,
            state,
            rss_kib,
            pss_kib,
        })
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// The running app, seen through WebDriver.
pub struct App {
    scenario: Scenario,
    client: Option<Client>,
    driver: Driver,
}

/// What the window shows, for failure messages.
pub type Snapshot = Value;

impl App {
    /// Starts `tauri-driver`, which starts WebKitWebDriver, which starts the app with `args`, in
    /// `home`. Returns once the WebDriver session exists (the window is open).
    pub async fn launch(scenario: &Scenario, home: &AppHome, args: &[&str]) -> App {
        let app = scenario::app_binary();
        let driver_bin = scenario::tauri_driver();
        let launch = scenario.next_launch();
        let log_path = scenario.driver_log();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open the driver log");
        let (port, native_port) = (free_port(), free_port());
        let _ = writeln!(
            log,
            "=== launch {launch} of {}: {} --port {port} --native-port {native_port}; app {} {args:?}; home {}",
            scenario.name(),
            driver_bin.display(),
            app.display(),
            home.path().display()
        );
        if let Some(cfg) = home.config_text() {
            let _ = writeln!(log, "--- QRLOGIN_CONFIG ---\n{cfg}--- end of config ---");
        }
        let _ = log.flush();

        let mut cmd = Command::new(&driver_bin);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .envs(home.env())
            // The measured Xvfb setup (tauri-notes §2.3); harmless where not needed.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("NO_AT_BRIDGE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log.try_clone().expect("clone the log handle"))
            // Its own process group, so that a Ctrl-C on the test run does not race our cleanup.
            .process_group(0);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (scripts/install-deps.sh installs it: cargo install tauri-driver --locked)",
                driver_bin.display()
            )
        });
        let mut driver = Driver {
            child,
            log: log_path.clone(),
            app_data: home.data_dir(),
            reaped: false,
        };

        // Wait until tauri-driver listens (it starts WebKitWebDriver first).
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!(
                    "tauri-driver exited with {status} before listening; see {}",
                    log_path.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {addr} within 30 s; see {}",
                log_path.display()
            );
            tokio::time::sleep(POLL).await;
        }

        // Only tauri:options: a browserName would have to match what WebKitGTK reports.
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".to_string(),
            json!({ "application": app, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let mut last_err = String::new();
        let mut client = None;
        // WebKitWebDriver may still be starting when tauri-driver already listens.
        for attempt in 1..=3 {
            let connect = async {
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await
            };
            match tokio::time::timeout(Duration::from_secs(60), connect).await {
                Ok(Ok(c)) => {
                    client = Some(c);
                    break;
                }
                Ok(Err(e)) => last_err = format!("attempt {attempt}: {e}"),
                Err(_) => {
                    // A hung session is not helped by asking again (e.g. the app exited at start:
                    // WebKitWebDriver then waits for a browser that never connects).
                    last_err = format!(
                        "attempt {attempt}: no session within 60 s (did the app exit at start? its stderr is in the log)"
                    );
                    let _ = writeln!(log, "[e2e] session not created: {last_err}");
                    break;
                }
            }
            let _ = writeln!(log, "[e2e] session not created: {last_err}");
            if driver.child.try_wait().ok().flatten().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let Some(client) = client else {
            driver.stop();
            panic!(
                "no WebDriver session with the app ({last_err}); see {}",
                log_path.display()
            );
        };
        let _ = writeln!(
            log,
            "[e2e] session created in {} ms",
            started.elapsed().as_millis()
        );
        let app = App {
            scenario: scenario.clone(),
            client: Some(client),
            driver,
        };
        app.install_recorder().await;
        app
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// One WebDriver command, bounded: a hung webview fails the test instead of hanging it.
    async fn wd<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> T {
        match tokio::time::timeout(Duration::from_secs(30), fut).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => panic!(
                "WebDriver {what} failed: {e}; see {}",
                self.scenario.driver_log().display()
            ),
            Err(_) => panic!(
                "WebDriver {what} took over 30 s; see {}",
                self.scenario.driver_log().display()
            ),
        }
    }

    /// Runs JavaScript in the page (`return ...;`).
    pub async fn exec(&self, script: &str, args: Vec<Value>) -> Value {
        self.wd("execute", self.client().execute(script, args))
            .await
    }

    /// `body[data-state]`, or "" before the body exists.
    pub async fn state(&self) -> String {
        self.exec(
            "return document.body ? (document.body.dataset.state || '') : '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Takes a screenshot. WebKitGTK answers one only after its next rendering update; with
    /// compositing off (the Xvfb setup) a page that is perfectly still (no countdown ticking,
    /// e.g. the scanned or profile view) never has one, and the screenshot hangs. So, for a
    /// moment, a 1-pixel mark in the bottom-right corner alternates between two almost
    /// transparent shades: the page repaints, nothing a person (or a QR decoder) would notice.
    async fn grab(&self) -> Vec<u8> {
        self.wd("repaint mark", self.client().execute(REPAINT_JS, vec![]))
            .await;
        self.wd("screenshot", self.client().screenshot()).await
    }

    /// A PNG of the window, also written to `target/e2e/<scenario>-<step>.png`.
    pub async fn screenshot(&self, step: &str) -> Vec<u8> {
        let png = self.grab().await;
        let path = self.scenario.screenshot_path(step);
        fs::write(&path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        png
    }

    /// A PNG of the window, not written anywhere (for polling).
    pub async fn screenshot_unsaved(&self) -> Vec<u8> {
        self.grab().await
    }

    /// What a failure message should say about the window.
    pub async fn snapshot(&self) -> Snapshot {
        let script = r#"
            const ids = ['tip','status','check-code','failure-message','retry-note','scanned-name',
                         'profile-nickname','profile-username','retry','kiosk-warning','kiosk-countdown'];
            const out = { state: document.body ? document.body.dataset.state : null,
                          bodyClass: document.body ? document.body.className : null };
            for (const id of ids) {
              const el = document.getElementById(id);
              out[id] = el ? { text: el.textContent.trim(), shown: el.getClientRects().length > 0 } : null;
            }
            return out;"#;
        match tokio::time::timeout(
            Duration::from_secs(10),
            self.client().execute(script, vec![]),
        )
        .await
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => json!({ "snapshotError": e.to_string() }),
            Err(_) => json!({ "snapshotError": "timed out" }),
        }
    }

    async fn fail(&self, step: &str, msg: String) -> ! {
        let shot = format!("{step}-FAILED");
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            let _ = self.client().execute(REPAINT_JS, vec![]).await;
            if let Ok(png) = self.client().screenshot().await {
                let _ = fs::write(self.scenario.screenshot_path(&shot), png);
            }
        })
        .await;
        let snap = self.snapshot().await;
        panic!(
            "[{}] {step}: {msg}\n  window: {snap}\n  screenshot: {}\n  driver log: {}",
            self.scenario.name(),
            self.scenario.screenshot_path(&shot).display(),
            self.scenario.driver_log().display()
        );
    }

    /// Waits (up to 3 s) until no finite CSS transition or animation is running, so that a
    /// screenshot shows the state as a person sees it once the fade is over.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let busy = self
                .exec(
                    r#"if (!document.getAnimations) return 0;
                       return document.getAnimations().filter(a => a.playState === 'running'
                         && a.effect && a.effect.getTiming().iterations !== Infinity).length;"#,
                    vec![],
                )
                .await
                .as_u64()
                .unwrap_or(0);
            if busy == 0 || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `body[data-state]` is `want`, then screenshots it as `step`.
    pub async fn wait_state(&self, step: &str, want: &str) -> Vec<u8> {
        self.wait_state_within(step, want, STATE_TIMEOUT).await
    }

    pub async fn wait_state_within(&self, step: &str, want: &str, timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::<String>::new();
        loop {
            let state = self.state().await;
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            if state == want {
                self.settle().await;
                return self.screenshot(step).await;
            }
            if Instant::now() >= deadline {
                self.fail(
                    step,
                    format!(
                        "body[data-state] is not {want:?} after {} s (states seen: {seen:?})",
                        timeout.as_secs()
                    ),
                )
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Records every `body[data-state]` change (with the `#tip` and `#status` texts last shown in
    /// it) in `window.__e2e.states`, so that short states (a cancel or an expiry followed at once
    /// by a new QR) are not missed between two polls. Idempotent; `launch` calls it.
    pub async fn install_recorder(&self) {
        let script = r#"
            if (!window.__e2e) {
              const e2e = window.__e2e = { states: [] };
              const text = (id) => { const el = document.getElementById(id); return el ? el.textContent.trim() : ''; };
              const rec = () => {
                if (!document.body) return;
                const entry = { state: document.body.dataset.state || '', tip: text('tip'),
                                status: text('status'), t: Date.now() };
                const last = e2e.states[e2e.states.length - 1];
                if (last && last.state === entry.state) {
                  if (entry.tip) last.tip = entry.tip;
                  if (entry.status) last.status = entry.status;
                } else {
                  e2e.states.push(entry);
                }
              };
              // Kept, so that a long run (the kiosk soak) can stop it: `__e2e.observer.disconnect()`.
              e2e.observer = new MutationObserver(rec);
              e2e.observer.observe(document.documentElement,
                { attributes: true, childList: true, characterData: true, subtree: true });
              rec();
            }
            return window.__e2e.states.length;"#;
        self.exec(script, vec![]).await;
    }

    /// The recorded states since the recorder was installed: (state, tip, status).
    pub async fn history(&self) -> Vec<(String, String, String)> {
        self.install_recorder().await;
        let v = self.exec("return window.__e2e.states;", vec![]).await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let f = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                        (f("state"), f("tip"), f("status"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until the recorder has seen `want` at index `since` or later (it may be over by
    /// now); returns the `#tip` text it showed then. Screenshots the window as `step` if it is
    /// still in that state.
    pub async fn wait_seen(&self, step: &str, want: &str, since: usize) -> String {
        let deadline = Instant::now() + STATE_TIMEOUT;
        loop {
            let h = self.history().await;
            if let Some((_, tip, _)) = h.iter().skip(since).find(|(s, _, _)| s == want) {
                let tip = tip.clone();
                let png = self.screenshot_unsaved().await;
                if self.state().await == want {
                    let path = self.scenario.screenshot_path(step);
                    let _ = fs::write(path, png);
                } else {
                    note(
                        &self.scenario,
                        &format!(
                            "{step}: state {want} was too short to screenshot (recorded: {h:?})"
                        ),
                    );
                }
                return tip;
            }
            if Instant::now() >= deadline {
                let states: Vec<&str> = h.iter().map(|(s, _, _)| s.as_str()).collect();
                self.fail(
                    step,
                    format!(
                        "the window never showed state {want:?} (states since launch: {states:?})"
                    ),
                )
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// How many state changes the recorder has seen (a marker for `wait_seen`).
    pub async fn history_len(&self) -> usize {
        self.history().await.len()
    }

    /// Waits for a QR in the `waiting` state that decodes from a screenshot of the window to one
    /// text not in `not` (an earlier QR's), screenshots it as `step`, and returns its text.
    pub async fn wait_qr(&self, step: &str, not: &[&str]) -> String {
        self.wait_qr_within(step, not, STATE_TIMEOUT).await
    }

    pub async fn wait_qr_within(&self, step: &str, not: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            let state = self.state().await;
            if state == "waiting" {
                let png = self.screenshot_unsaved().await;
                let found = qr::decode(&png);
                let mut distinct = found.clone();
                distinct.sort();
                distinct.dedup();
                match distinct.as_slice() {
                    [one] if !not.contains(&one.as_str()) => {
                        // Confirm on a second frame, then keep that one as the evidence.
                        let png = self.screenshot(step).await;
                        if qr::decode(&png).iter().any(|t| t == one) {
                            return one.clone();
                        }
                        last = "the QR changed between two screenshots".to_string();
                    }
                    [one] => last = format!("still the old QR {one}"),
                    [] => last = "no QR decodes from the screenshot".to_string(),
                    many => last = format!("several QRs at once (a cross-fade?): {many:?}"),
                }
            } else {
                last = format!("state {state:?}");
            }
            if Instant::now() >= deadline {
                self.fail(
                    step,
                    format!(
                        "no new QR in the window after {} s (last: {last})",
                        timeout.as_secs()
                    ),
                )
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asserts that no QR code can be read off the window now (screenshot saved as `step`).
    pub async fn assert_no_qr(&self, step: &str) {
        let png = self.screenshot(step).await;
        let found = qr::decode(&png);
        if !found.is_empty() {
            self.fail(
                step,
                format!("a QR code is still readable in the window: {found:?}"),
            )
            .await;
        }
    }

    /// `textContent` of `#id`, trimmed ("" if there is no such element).
    pub async fn text(&self, id: &str) -> String {
        self.exec(
            "const el = document.getElementById(arguments[0]); return el ? el.textContent.trim() : '';",
            vec![json!(id)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The rendered text of `#id` as WebDriver sees it ("" when hidden): what a person can read.
    pub async fn shown_text(&self, id: &str) -> String {
        let el = self
            .wd("find element", self.client().find(Locator::Id(id)))
            .await;
        self.wd("element text", el.text()).await.trim().to_string()
    }

    /// Whether `#id` is laid out on screen (not `hidden`, not `display: none`, not invisible).
    pub async fn is_shown(&self, id: &str) -> bool {
        self.exec(
            r#"const el = document.getElementById(arguments[0]);
               if (!el || el.getClientRects().length === 0) return false;
               const cs = getComputedStyle(el);
               return cs.visibility !== 'hidden' && parseFloat(cs.opacity || '1') > 0.05;"#,
            vec![json!(id)],
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    /// Waits until `#id` is shown and its trimmed `textContent` satisfies `ok`; returns it.
    pub async fn wait_text(
        &self,
        step: &str,
        id: &str,
        what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + STATE_TIMEOUT;
        loop {
            let text = self.text(id).await;
            if ok(&text) && self.is_shown(id).await {
                return text;
            }
            if Instant::now() >= deadline {
                self.fail(
                    step,
                    format!("#{id} does not show {what} (it shows {text:?})"),
                )
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asserts `#id`'s trimmed `textContent` equals `want` and the element is shown.
    pub async fn assert_text(&self, step: &str, id: &str, want: &str) {
        let got = self.text(id).await;
        if got != want {
            self.fail(step, format!("#{id} shows {got:?}, expected {want:?}"))
                .await;
        }
        if !self.is_shown(id).await {
            self.fail(step, format!("#{id} holds {want:?} but is not visible"))
                .await;
        }
    }

    /// Clicks `#id` the way a person would (WebDriver element click).
    pub async fn click(&self, id: &str) {
        let el = self
            .wd("find element", self.client().find(Locator::Id(id)))
            .await;
        self.wd("click", el.click()).await;
    }

    /// The check code a person reads off the window (`#check-code`: the two digits in it).
    pub async fn read_check_code(&self, step: &str) -> String {
        let text = self
            .wait_text(step, "check-code", "a two-digit check code", |t| {
                digits(t).len() == 2
            })
            .await;
        digits(&text)
    }

    /// The window's outer rectangle (x, y, width, height) as WebDriver reports it.
    pub async fn window_rect(&self) -> (u64, u64, u64, u64) {
        self.wd("window rect", self.client().get_window_rect())
            .await
    }

    /// Resizes the window as a person dragging its corner would (WebDriver "set window rect").
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.wd(
            "set window size",
            self.client().set_window_size(width, height),
        )
        .await
    }

    /// Moves and resizes the window at once, as a person dragging its title bar and corner would
    /// (WebDriver "set window rect").
    pub async fn set_window_rect(&self, x: u32, y: u32, width: u32, height: u32) {
        self.wd(
            "set window rect",
            self.client().set_window_rect(x, y, width, height),
        )
        .await
    }

    /// Fails the test with the window's state and a screenshot, from scenario code.
    pub async fn fail_with(&self, step: &str, msg: impl Into<String>) -> ! {
        self.fail(step, msg.into()).await
    }

    /// Ends the WebDriver session (closes the app window) and stops the driver tree.
    pub async fn quit(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), client.close()).await;
        }
        self.driver.stop();
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The processes under the driver right now (WebKitWebDriver, the app, its WebKit web and
    /// network processes), as /proc shows them: for the kiosk soak's memory and zombie count.
    pub fn process_tree(&self) -> Vec<Proc> {
        process_tree(self.tree_root())
    }

    /// The PID the process tree hangs from (tauri-driver's), for a sampler on another thread.
    pub fn tree_root(&self) -> i32 {
        self.driver.pid()
    }

    pub fn driver_log(&self) -> PathBuf {
        self.driver.log.clone()
    }
}

/// See [`App::grab`].
const REPAINT_JS: &str = r#"let m = document.getElementById('__e2e_repaint');
               if (!m) {
                 m = document.createElement('div');
                 m.id = '__e2e_repaint';
                 m.setAttribute('aria-hidden', 'true');
                 m.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
                 document.documentElement.appendChild(m);
               }
               clearInterval(window.__e2eRepaint);
               let n = 0;
               const flip = () => { m.style.background = (n++ % 2) ? 'rgba(0,0,0,0.01)' : 'rgba(0,0,0,0.02)';
                                    if (n > 40) clearInterval(window.__e2eRepaint); };
               flip();
               window.__e2eRepaint = setInterval(flip, 50);
               return true;"#;

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Appends a line to the scenario's driver log (what the test did, for reading the log later).
pub fn note(scenario: &Scenario, line: &str) {
    if let Ok(mut f) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(scenario.driver_log())
    {
        let _ = writeln!(f, "[e2e] {line}");
    }
    eprintln!("[e2e] {}: {line}", scenario.name());
}
