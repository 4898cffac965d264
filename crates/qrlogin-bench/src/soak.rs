//! `make soak`: the reference server in a child process (this executable, `soak-server <dir>`),
//! driven for a given time by simulated desktops (the real engine, long-poll and polling) and
//! phones (the approval page's own endpoints), all on 127.0.0.1. Every `--sample-secs` it
//! records the server's RSS, open file descriptors, database and WAL size, held long-polls,
//! rate-limiter entries, p99 approval latency of the window, 5xx answers and engine failures;
//! at the end it writes `samples.csv`, `summary.json`, SVG charts and `report.md` to `--out-dir`.
//! With `--check` it exits non-zero when a bound of [`Bounds`] is broken (the 2-minute CI run).
//!
//! Half the desktops (every second group of four) reach the server through the fault-injecting
//! proxy of `crates/qrlogin-core/tests/common/fault.rs`; once a minute it answers with one fault
//! of [`FAULTS`] for [`FAULT_FOR`], then forwards again. Their failures while a fault is on are
//! counted apart (`proxy_errors`); the run checks that they keep signing in afterwards.
//!
//! Each desktop login rolls a die: 5 % the phone cancels, 5 % the phone picks a wrong check code,
//! 3 % nobody scans and the short-lived QR expires, the rest are approved after a 0–1.5 s pause.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qrlogin_core::session::{Client, ClientConfig, LoginSession, SessionOptions};
use qrlogin_core::{DialectId, LoginEvent};
use qrlogin_server::phone::{PageState, Phone, PhoneError};
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use rand::Rng;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::fault::{Fault, FaultProxy};
use crate::svg::{line_chart, Series};
use crate::util::{monotonic_ns, pct};

const USER: &str = "soak";
const PASSWORD: &str = "soak-password-long-enough";
/// The QR lifetime of the soak's app: short, so expiry and refresh happen all the time.
const QR_TTL_SECS: u32 = 20;
/// The soak server sweeps ended sessions this often, keeping them this long: production keeps
/// them an hour ([`qrlogin_server::SWEEP_KEEP`]), which a one-hour run would never see level off.
const SOAK_SWEEP_EVERY: Duration = Duration::from_secs(30);
const SOAK_SWEEP_KEEP: Duration = Duration::from_secs(60);

/// How long each minute's fault lasts.
const FAULT_FOR: Duration = Duration::from_secs(8);

/// The proxy's faults, one per minute in turn.
fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("502 HTML page", Fault::web_page(502)),
        ("200 not JSON", Fault::not_json()),
        ("503 HTML page", Fault::web_page(503)),
        ("truncated JSON", Fault::truncated_json()),
        ("invalid UTF-8", Fault::invalid_utf8()),
        ("429 Retry-After 2", Fault::rate_limited(2)),
        ("connection closed", Fault::Close),
        ("1 MiB + 1 body", Fault::oversized((1 << 20) + 1)),
        (
            "body cut off",
            Fault::CutOff {
                declared: 200,
                body: br#"{"code":200,"#.to_vec(),
            },
        ),
        ("silent (hang)", Fault::Hang),
    ]
}

pub struct Params {
    pub duration: Duration,
    pub desktops: usize,
    pub sample_every: Duration,
    pub out_dir: PathBuf,
    pub check: bool,
}

/// What the CI run (`--check`) fails on. Growth is measured from the warm-up sample (the one at
/// a quarter of the run) to the median of the last three samples, so start-up allocation
/// (SQLite's page cache, tokio's worker stacks, the argon2 buffers) does not count.
pub struct Bounds {
    pub rss_growth_factor: f64,
    pub rss_growth_slack_mib: f64,
    pub fd_growth: i64,
    pub db_plus_wal_mib: f64,
    pub p99_ms: f64,
}

pub const BOUNDS: Bounds = Bounds {
    rss_growth_factor: 1.5,
    rss_growth_slack_mib: 16.0,
    fd_growth: 16,
    db_plus_wal_mib: 64.0,
    p99_ms: 2500.0,
};

/// The child: serves `dir`, prints its base URL, then one JSON line of gauges per second.
pub async fn serve(dir: String) -> Result<(), String> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter("warn")
        .try_init();
    let server = Server::open(OpenOptions::new(dir))
        .await
        .map_err(|e| e.to_string())?;
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            // Keyed limits (so the limiter holds state) high enough for the load of one address.
            rate_limits: RateLimits {
                signin_per_minute: Some(10_000),
                generate_per_minute: Some(100_000),
                poll_per_minute: Some(1_000_000),
                exchange_per_minute: Some(100_000),
            },
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", running.base_url());
    let mut last_sweep = Instant::now();
    // Bounded: the parent kills us by PID; if it dies, we stop by ourselves within 4 hours.
    let end = Instant::now() + Duration::from_secs(4 * 3600);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if last_sweep.elapsed() >= SOAK_SWEEP_EVERY {
            last_sweep = Instant::now();
            if let Err(e) = server.sweep(SOAK_SWEEP_KEEP).await {
                eprintln!("soak sweep failed: {e}");
            }
        }
        println!(
            "{}",
            json!({"held": running.held_long_polls(), "limiter": running.limiter_tracked()})
        );
    }
    running.shutdown().await;
    Ok(())
}

#[derive(Default)]
struct Counters {
    logins: AtomicU64,
    cancels: AtomicU64,
    wrong_codes: AtomicU64,
    wrong_code_accepted: AtomicU64,
    expiries: AtomicU64,
    failed_events: AtomicU64,
    retrying_events: AtomicU64,
    http_5xx: AtomicU64,
    server_error_logs: AtomicU64,
    errors: AtomicU64,
    proxy_logins: AtomicU64,
    proxy_errors: AtomicU64,
    faults_injected: AtomicU64,
    /// `proxy_logins` when the last fault was healed.
    proxy_logins_at_last_heal: AtomicU64,
}

#[derive(Default)]
struct Shared {
    counters: Counters,
    /// Approval latencies (ms) since the last sample.
    window: Mutex<Vec<f64>>,
    all_latencies: Mutex<Vec<f64>>,
    first_errors: Mutex<Vec<String>>,
    /// Distinct messages of proxied logins that ended while a fault was on.
    first_proxy_errors: Mutex<Vec<String>>,
    /// The child's last gauges line.
    gauges: Mutex<(u64, u64)>,
}

impl Shared {
    fn error(&self, e: String, via_proxy: bool) {
        if via_proxy && !is_5xx_text(&e) {
            self.counters.proxy_errors.fetch_add(1, Ordering::Relaxed);
            let mut f = self.first_proxy_errors.lock().unwrap();
            if f.len() < 10 && !f.contains(&e) {
                f.push(e);
            }
            return;
        }
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        if is_5xx_text(&e) {
            self.counters.http_5xx.fetch_add(1, Ordering::Relaxed);
        }
        let mut f = self.first_errors.lock().unwrap();
        if f.len() < 10 {
            f.push(e);
        }
    }
}

/// `phone_err` marks a phone call answered with a 5xx (or the API's internal error 5000).
fn is_5xx_text(e: &str) -> bool {
    e.starts_with("phone 5xx")
}

#[derive(Debug, Clone, serde::Serialize)]
struct Sample {
    t_secs: f64,
    rss_mib: f64,
    fds: u64,
    db_kib: f64,
    wal_kib: f64,
    held: u64,
    limiter: u64,
    logins: u64,
    p99_ms: f64,
    http_5xx: u64,
    failed: u64,
    server_error_logs: u64,
}

pub async fn run(p: Params) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let creds = {
        let server = Server::open(OpenOptions::new(dir.path()))
            .await
            .map_err(|e| e.to_string())?;
        server
            .add_user(NewUser {
                username: USER.into(),
                password: PASSWORD.into(),
                nickname: Some("Soak".into()),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        server
            .add_app(NewApp {
                name: "soak".into(),
                qr_ttl_secs: Some(QR_TTL_SECS),
                check_code: true,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?
    };
    let dir_s = dir.path().to_string_lossy().into_owned();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(exe)
        .args(["soak-server", &dir_s])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id().ok_or("no pid")?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .map_err(|_| "soak server did not start".to_string())?
        .map_err(|e| e.to_string())?
        .ok_or("soak server ended")?;
    let shared = Arc::new(Shared::default());
    {
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&l) {
                    let held = v["held"].as_u64().unwrap_or(0);
                    let lim = v["limiter"].as_u64().unwrap_or(0);
                    *shared.gauges.lock().unwrap() = (held, lim);
                }
            }
        });
    }
    let log_path = p.out_dir.join("server.log");
    let _ = std::fs::create_dir_all(&p.out_dir);
    {
        let shared = shared.clone();
        let mut err_lines = BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
        let mut log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            use std::io::Write;
            while let Ok(Some(l)) = err_lines.next_line().await {
                if l.contains("ERROR") {
                    shared
                        .counters
                        .server_error_logs
                        .fetch_add(1, Ordering::Relaxed);
                }
                let _ = writeln!(log, "{l}");
            }
        });
    }
    eprintln!("soak: server pid {pid} at {base}, {} desktops", p.desktops);

    let upstream: std::net::SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("{base}: {e}"))?;
    let proxy = Arc::new(FaultProxy::start(upstream).await);
    let started = Instant::now();
    let end = tokio::time::Instant::now() + p.duration;
    let mut workers = Vec::new();
    {
        // A fault every minute, at :30 of it, for FAULT_FOR; never in the last minute, so the
        // run can see the proxied desktops recover.
        let (proxy, shared) = (proxy.clone(), shared.clone());
        workers.push(tokio::spawn(async move {
            let faults = faults();
            let mut k = 0usize;
            loop {
                let at = tokio::time::Instant::from_std(started)
                    + Duration::from_secs(60 * k as u64 + 30);
                if at + Duration::from_secs(60) > end {
                    break;
                }
                tokio::time::sleep_until(at).await;
                let (name, fault) = &faults[k % faults.len()];
                proxy.set(fault.clone());
                shared
                    .counters
                    .faults_injected
                    .fetch_add(1, Ordering::Relaxed);
                eprintln!("soak: fault {name} for {} s", FAULT_FOR.as_secs());
                tokio::time::sleep(FAULT_FOR).await;
                proxy.heal();
                proxy.forget_seen();
                shared.counters.proxy_logins_at_last_heal.store(
                    shared.counters.proxy_logins.load(Ordering::Relaxed),
                    Ordering::Relaxed,
                );
                k += 1;
            }
        }));
    }
    for i in 0..p.desktops.max(1) {
        let (dialect, long_poll) = match i % 4 {
            0 => (DialectId::G3, true),
            1 => (DialectId::G3, false),
            2 => (DialectId::G4, true),
            _ => (DialectId::G4, false),
        };
        let via_proxy = (i / 4) % 2 == 1;
        let url = if via_proxy {
            proxy.base_url()
        } else {
            base.clone()
        };
        let mut cc = ClientConfig::new(url, dialect, creds.app_id.clone());
        cc.app.user_pool_id = Some(creds.user_pool_id.clone());
        let client = Arc::new(Client::new(cc).map_err(|e| e.to_string())?);
        let opts = SessionOptions {
            long_poll,
            poll_interval: if long_poll {
                None
            } else {
                Some(Duration::from_millis(1000))
            },
            ..SessionOptions::default()
        };
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            let phone = Phone::new();
            while tokio::time::Instant::now() < end {
                match one_login(&client, &opts, &phone, &shared, via_proxy).await {
                    Ok(true) if via_proxy => {
                        shared.counters.proxy_logins.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        shared.error(e, via_proxy);
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        }));
    }
    // Raw requests that must never be a 5xx: unknown handles, broken bodies, unknown paths.
    {
        let shared = shared.clone();
        let base = base.clone();
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while tokio::time::Instant::now() < end {
                for req in [
                    http.get(format!("{base}/api/v2/qrcode/check?random=nope")),
                    http.post(format!("{base}/api/v2/qrcode/check"))
                        .header("content-type", "application/json")
                        .body("{\"random\":"),
                    http.get(format!("{base}/s/unknown-scan")),
                    http.get(format!("{base}/no/such/path")),
                ] {
                    if let Ok(r) = req.send().await {
                        if r.status().is_server_error() {
                            shared.counters.http_5xx.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                // A poll from one of 127.0.0.2–254: the limiter keeps state per address and
                // must drop it again once the bucket is full (`Limiter::forget_idle`).
                let ip = std::net::IpAddr::from([127, 0, 0, rand::thread_rng().gen_range(2..=254)]);
                if let Ok(other) = reqwest::Client::builder().local_address(ip).build() {
                    if let Ok(r) = other
                        .get(format!("{base}/api/v2/qrcode/check?random=nope"))
                        .send()
                        .await
                    {
                        if r.status().is_server_error() {
                            shared.counters.http_5xx.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }

    let mut samples = Vec::new();
    let mut next = tokio::time::Instant::now();
    while tokio::time::Instant::now() < end {
        next += p.sample_every;
        tokio::time::sleep_until(next.min(end)).await;
        let s = sample(&shared, pid, dir.path(), started, true);
        if samples.len() % 30 == 0 {
            eprintln!("soak: {}", serde_json::to_string(&s).unwrap_or_default());
        }
        samples.push(s);
    }
    for w in workers {
        let _ = tokio::time::timeout(Duration::from_secs(60), w).await;
    }
    // The clients are gone: every held long-poll must be given back, at the latest when its
    // wait (at most the server's 30 s) ends: a client that gave up mid-wait (a worker past the
    // 60 s join above) is answered then, into a closed socket. A leaked one never is.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let drain_by = tokio::time::Instant::now() + Duration::from_secs(35);
    while shared.gauges.lock().unwrap().0 != 0 && tokio::time::Instant::now() < drain_by {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let drained = sample(&shared, pid, dir.path(), started, false);
    samples.push(drained.clone());
    let _ = child.start_kill();
    let _ = child.wait().await;

    let summary = summarize(&p, &shared, &samples, &drained);
    write_outputs(&p.out_dir, &samples, &summary)?;
    let violations: Vec<String> = summary["violations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if p.check && !violations.is_empty() {
        return Err(format!("soak bounds broken: {}", violations.join("; ")));
    }
    Ok(summary)
}

fn sample(shared: &Shared, pid: u32, dir: &Path, started: Instant, take_window: bool) -> Sample {
    let window: Vec<f64> = if take_window {
        std::mem::take(&mut *shared.window.lock().unwrap())
    } else {
        Vec::new()
    };
    let mut w = window;
    w.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (held, limiter) = *shared.gauges.lock().unwrap();
    let size = |name: &str| {
        std::fs::metadata(dir.join(name))
            .map(|m| m.len() as f64 / 1024.0)
            .unwrap_or(0.0)
    };
    let c = &shared.counters;
    Sample {
        t_secs: started.elapsed().as_secs_f64(),
        rss_mib: crate::util::rss_kib(pid) as f64 / 1024.0,
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count() as u64)
            .unwrap_or(0),
        db_kib: size("qrlogin.db"),
        wal_kib: size("qrlogin.db-wal"),
        held,
        limiter,
        logins: c.logins.load(Ordering::Relaxed),
        p99_ms: pct(&w, 99.0),
        http_5xx: c.http_5xx.load(Ordering::Relaxed),
        failed: c.failed_events.load(Ordering::Relaxed),
        server_error_logs: c.server_error_logs.load(Ordering::Relaxed),
    }
}

/// One desktop login with its phone; the die decides how it ends. `Ok(true)`: signed in.
/// Approval latency (phone's confirm returned → `LoggedIn`) is kept for direct desktops only.
async fn one_login(
    client: &Arc<Client>,
    opts: &SessionOptions,
    phone: &Phone,
    shared: &Shared,
    via_proxy: bool,
) -> Result<bool, String> {
    let c = &shared.counters;
    let (tx, mut rx) = mpsc::unbounded_channel::<(i128, LoginEvent)>();
    let session = LoginSession::start(client.clone(), opts.clone(), move |e| {
        let _ = tx.send((monotonic_ns(), e));
    });
    let mut events = Events {
        rx: &mut rx,
        shared,
    };
    let (text, code) = loop {
        match events.next(30).await? {
            LoginEvent::QrReady {
                text, check_code, ..
            } => break (text, check_code),
            other => events.unexpected(other)?,
        }
    };
    let die = rand::thread_rng().gen_range(0..100);
    if die < 3 {
        // Nobody scans: the short-lived QR expires and the engine shows the next one.
        loop {
            match events.next(QR_TTL_SECS as u64 + 30).await? {
                LoginEvent::Expired { .. } => break,
                other => events.unexpected(other)?,
            }
        }
        c.expiries.fetch_add(1, Ordering::Relaxed);
        drop(session);
        return Ok(false);
    }
    let mut page = phone.open(&text).await.map_err(phone_err)?;
    if page.state == PageState::SignIn {
        page = phone
            .sign_in(&page, USER, PASSWORD)
            .await
            .map_err(phone_err)?;
        if page.state != PageState::Approve {
            page = phone.open(&text).await.map_err(phone_err)?;
        }
    }
    if page.state != PageState::Approve {
        return Err(format!("approval page in state {:?}", page.state));
    }
    loop {
        match events.next(30).await? {
            LoginEvent::Scanned { .. } => break,
            other => events.unexpected(other)?,
        }
    }
    let pause = rand::thread_rng().gen_range(0..1500);
    tokio::time::sleep(Duration::from_millis(pause)).await;
    if die < 8 {
        phone.cancel(&page).await.map_err(phone_err)?;
        loop {
            match events.next(30).await? {
                LoginEvent::Cancelled { .. } => break,
                other => events.unexpected(other)?,
            }
        }
        c.cancels.fetch_add(1, Ordering::Relaxed);
        return Ok(false);
    }
    if die < 13 {
        let wrong = page
            .check_code_choices
            .iter()
            .find(|x| Some(x.as_str()) != code.as_deref())
            .cloned()
            .unwrap_or_else(|| "000".into());
        let _ = phone.confirm(&page, Some(&wrong)).await;
        c.wrong_codes.fetch_add(1, Ordering::Relaxed);
        // The desktop must not sign in; give it a moment to (wrongly) do so.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while let Ok(Some((_, e))) = tokio::time::timeout_at(deadline, events.rx.recv()).await {
            if matches!(e, LoginEvent::LoggedIn { .. }) {
                c.wrong_code_accepted.fetch_add(1, Ordering::Relaxed);
            }
            events.count(&e);
        }
        return Ok(false);
    }
    phone
        .confirm(&page, code.as_deref())
        .await
        .map_err(phone_err)?;
    let confirmed = monotonic_ns();
    let logged_in = loop {
        match tokio::time::timeout(Duration::from_secs(30), events.rx.recv()).await {
            Ok(Some((t, LoginEvent::LoggedIn { .. }))) => break t,
            Ok(Some((_, other))) => events.unexpected(other)?,
            Ok(None) => return Err("the session ended".into()),
            Err(_) => return Err("no LoggedIn within 30 s of the confirm".into()),
        }
    };
    drop(session);
    let ms = (logged_in - confirmed) as f64 / 1e6;
    c.logins.fetch_add(1, Ordering::Relaxed);
    // Latency is the server's: a proxied login may have waited out a fault.
    if !via_proxy {
        shared.window.lock().unwrap().push(ms);
        shared.all_latencies.lock().unwrap().push(ms);
    }
    Ok(true)
}

fn phone_err(e: PhoneError) -> String {
    let server_error = match &e {
        PhoneError::NotAPage { status, .. } => *status >= 500,
        PhoneError::Rejected { code, .. } => (500..600).contains(code) || *code == 5000,
        _ => false,
    };
    if server_error {
        format!("phone 5xx: {e}")
    } else {
        format!("phone: {e}")
    }
}

struct Events<'a> {
    rx: &'a mut mpsc::UnboundedReceiver<(i128, LoginEvent)>,
    shared: &'a Shared,
}

impl Events<'_> {
    async fn next(&mut self, secs: u64) -> Result<LoginEvent, String> {
        match tokio::time::timeout(Duration::from_secs(secs), self.rx.recv()).await {
            Ok(Some((_, e))) => Ok(e),
            Ok(None) => Err("the session ended".into()),
            Err(_) => Err(format!("no event within {secs} s")),
        }
    }

    fn count(&self, e: &LoginEvent) {
        match e {
            LoginEvent::Failed { .. } => {
                self.shared
                    .counters
                    .failed_events
                    .fetch_add(1, Ordering::Relaxed);
            }
            LoginEvent::Retrying { .. } => {
                self.shared
                    .counters
                    .retrying_events
                    .fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Events on the way (Starting, Expired+refresh, Authorized) are fine; Failed ends the login.
    fn unexpected(&self, e: LoginEvent) -> Result<(), String> {
        self.count(&e);
        match e {
            LoginEvent::Failed { message, .. } => Err(format!("engine failed: {message}")),
            _ => Ok(()),
        }
    }
}

fn median_of_last(samples: &[Sample], n: usize, f: impl Fn(&Sample) -> f64) -> f64 {
    let mut v: Vec<f64> = samples.iter().rev().take(n).map(f).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn summarize(p: &Params, shared: &Shared, samples: &[Sample], drained: &Sample) -> Value {
    let live = &samples[..samples.len().saturating_sub(1)];
    let warm = &live[(live.len() / 4).min(live.len().saturating_sub(1))];
    let first = live.first().unwrap_or(drained);
    let end_rss = median_of_last(live, 3, |s| s.rss_mib);
    let end_fds = median_of_last(live, 3, |s| s.fds as f64);
    let max_db = live
        .iter()
        .map(|s| (s.db_kib + s.wal_kib) / 1024.0)
        .fold(0.0, f64::max);
    let mut all = shared.all_latencies.lock().unwrap().clone();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let c = &shared.counters;
    let b = &BOUNDS;
    let mut violations = Vec::new();
    let rss_bound = warm.rss_mib * b.rss_growth_factor + b.rss_growth_slack_mib;
    if end_rss > rss_bound {
        violations.push(format!(
            "RSS {end_rss:.1} MiB at the end > {rss_bound:.1} MiB (warm-up {:.1} MiB × {} + {} MiB)",
            warm.rss_mib, b.rss_growth_factor, b.rss_growth_slack_mib
        ));
    }
    if end_fds as i64 > warm.fds as i64 + b.fd_growth {
        violations.push(format!(
            "open fds {end_fds} at the end > warm-up {} + {}",
            warm.fds, b.fd_growth
        ));
    }
    if max_db > b.db_plus_wal_mib {
        violations.push(format!(
            "database + WAL reached {max_db:.1} MiB > {} MiB",
            b.db_plus_wal_mib
        ));
    }
    if drained.held != 0 {
        violations.push(format!(
            "{} long-polls still held after the clients stopped",
            drained.held
        ));
    }
    let p99 = pct(&all, 99.0);
    if p99.is_nan() || p99 > b.p99_ms {
        violations.push(format!(
            "p99 approval latency {p99:.0} ms > {} ms",
            b.p99_ms
        ));
    }
    let n5xx = c.http_5xx.load(Ordering::Relaxed);
    if n5xx > 0 {
        violations.push(format!("{n5xx} answers were 5xx"));
    }
    let nerr = c.server_error_logs.load(Ordering::Relaxed);
    if nerr > 0 {
        violations.push(format!("the server logged {nerr} ERROR lines"));
    }
    let accepted = c.wrong_code_accepted.load(Ordering::Relaxed);
    if accepted > 0 {
        violations.push(format!("{accepted} wrong check codes signed in"));
    }
    let logins = c.logins.load(Ordering::Relaxed);
    if logins == 0 {
        violations.push("no login succeeded".into());
    }
    let nerrors = c.errors.load(Ordering::Relaxed);
    if nerrors > 0 {
        violations.push(format!(
            "{nerrors} logins of desktops without the proxy went wrong"
        ));
    }
    let faults_injected = c.faults_injected.load(Ordering::Relaxed);
    let proxy_logins = c.proxy_logins.load(Ordering::Relaxed);
    let after_heal = proxy_logins - c.proxy_logins_at_last_heal.load(Ordering::Relaxed);
    if p.desktops > 4 && after_heal == 0 {
        violations
            .push("the desktops behind the proxy did not sign in after the last fault".into());
    }
    json!({
        "duration_secs": p.duration.as_secs(),
        "desktops": p.desktops,
        "qr_ttl_secs": QR_TTL_SECS,
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "logins": logins,
        "cancels": c.cancels.load(Ordering::Relaxed),
        "wrong_codes": c.wrong_codes.load(Ordering::Relaxed),
        "wrong_code_accepted": accepted,
        "expiries": c.expiries.load(Ordering::Relaxed),
        "failed_events": c.failed_events.load(Ordering::Relaxed),
        "retrying_events": c.retrying_events.load(Ordering::Relaxed),
        "client_errors": nerrors,
        "faults_injected": faults_injected,
        "proxy_logins": proxy_logins,
        "proxy_logins_after_last_fault": after_heal,
        "proxy_errors": c.proxy_errors.load(Ordering::Relaxed),
        "first_errors": *shared.first_errors.lock().unwrap(),
        "first_proxy_errors": *shared.first_proxy_errors.lock().unwrap(),
        "http_5xx": n5xx,
        "server_error_logs": nerr,
        "rss_mib": {"first": first.rss_mib, "warm": warm.rss_mib, "end": end_rss,
                     "max": live.iter().map(|s| s.rss_mib).fold(0.0, f64::max)},
        "fds": {"first": first.fds, "warm": warm.fds, "end": end_fds,
                "max": live.iter().map(|s| s.fds).max().unwrap_or(0)},
        "db_kib": {"first": first.db_kib, "end": drained.db_kib,
                   "max": live.iter().map(|s| s.db_kib).fold(0.0, f64::max)},
        "wal_kib": {"first": first.wal_kib, "end": drained.wal_kib,
                    "max": live.iter().map(|s| s.wal_kib).fold(0.0, f64::max)},
        "held": {"max": live.iter().map(|s| s.held).max().unwrap_or(0), "after_stop": drained.held},
        "limiter": {"max": live.iter().map(|s| s.limiter).max().unwrap_or(0), "end": drained.limiter},
        "latency_ms": {"n": all.len(), "p50": pct(&all, 50.0), "p99": p99,
                       "max": all.last().copied().unwrap_or(f64::NAN)},
        "bounds": {
            "rss": format!("end ≤ warm-up × {} + {} MiB", b.rss_growth_factor, b.rss_growth_slack_mib),
            "fds": format!("end ≤ warm-up + {}", b.fd_growth),
            "db_plus_wal_mib": b.db_plus_wal_mib,
            "p99_ms": b.p99_ms,
            "held_after_stop": 0, "http_5xx": 0, "server_error_logs": 0,
        },
        "violations": violations,
    })
}

fn write_outputs(dir: &Path, samples: &[Sample], summary: &Value) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut csv = String::from(
        "t_secs,rss_mib,fds,db_kib,wal_kib,held,limiter,logins,p99_ms,http_5xx,failed,server_error_logs\n",
    );
    for s in samples {
        csv.push_str(&format!(
            "{:.1},{:.2},{},{:.1},{:.1},{},{},{},{:.1},{},{},{}\n",
            s.t_secs,
            s.rss_mib,
            s.fds,
            s.db_kib,
            s.wal_kib,
            s.held,
            s.limiter,
            s.logins,
            s.p99_ms,
            s.http_5xx,
            s.failed,
            s.server_error_logs
        ));
    }
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write("samples.csv", &csv)?;
    write(
        "summary.json",
        &serde_json::to_string_pretty(summary).unwrap_or_default(),
    )?;
    let mins = |s: &Sample| s.t_secs / 60.0;
    let xy = |f: &dyn Fn(&Sample) -> f64| -> Vec<(f64, f64)> {
        samples
            .iter()
            .map(|s| (mins(s), f(s)))
            .filter(|p| p.1.is_finite())
            .collect()
    };
    let charts: [(&str, &str, &str, Vec<Series>); 6] = [
        (
            "rss.svg",
            "Server RSS",
            "MiB",
            vec![Series::new("RSS", xy(&|s| s.rss_mib))],
        ),
        (
            "fds.svg",
            "Server open file descriptors",
            "fds",
            vec![Series::new("open fds", xy(&|s| s.fds as f64))],
        ),
        (
            "db.svg",
            "Database and WAL size",
            "KiB",
            vec![
                Series::new("qrlogin.db", xy(&|s| s.db_kib)),
                Series::new("qrlogin.db-wal", xy(&|s| s.wal_kib)),
            ],
        ),
        (
            "held.svg",
            "Held long-polls and rate-limiter entries",
            "count",
            vec![
                Series::new("held long-polls", xy(&|s| s.held as f64)),
                Series::new("limiter entries", xy(&|s| s.limiter as f64)),
            ],
        ),
        (
            "latency.svg",
            "p99 approval latency per sample window",
            "ms",
            vec![Series::new("p99", xy(&|s| s.p99_ms))],
        ),
        (
            "errors.svg",
            "Logins, 5xx answers and engine failures (cumulative)",
            "count",
            vec![
                Series::new("logins", xy(&|s| s.logins as f64)),
                Series::new("5xx", xy(&|s| s.http_5xx as f64)),
                Series::new("failed events", xy(&|s| s.failed as f64)),
            ],
        ),
    ];
    let mut md = format!(
        "# Soak report\n\n`qrlogin-bench soak` ({} build): {} s, {} simulated desktops (G3 and G4, \
         long-poll and 1 s polling) with their phones, QR lifetime {} s, on 127.0.0.1. \
         Produced by `make soak`.\n\n",
        summary["build"].as_str().unwrap_or("?"),
        summary["duration_secs"],
        summary["desktops"],
        QR_TTL_SECS
    );
    md.push_str(&report_table(summary));
    let violations = summary["violations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if violations.is_empty() {
        md.push_str("\n**Bounds:** all held.\n");
    } else {
        md.push_str("\n**Bounds broken:**\n\n");
        for v in violations {
            md.push_str(&format!("- {}\n", v.as_str().unwrap_or("")));
        }
    }
    md.push('\n');
    for (file, title, unit, series) in charts {
        write(file, &line_chart(title, "minutes", unit, &series))?;
        md.push_str(&format!("## {title}\n\n![{title}]({file})\n\n"));
    }
    write("report.md", &md)?;
    Ok(())
}

fn report_table(s: &Value) -> String {
    let f = |v: &Value| match v.as_f64() {
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
        None => v.to_string(),
    };
    let mut rows: VecDeque<(String, String)> = VecDeque::new();
    rows.push_back((
        "logins / cancels / wrong codes / expiries".into(),
        format!(
            "{} / {} / {} / {}",
            s["logins"], s["cancels"], s["wrong_codes"], s["expiries"]
        ),
    ));
    rows.push_back((
        "wrong check codes that signed in".into(),
        s["wrong_code_accepted"].to_string(),
    ));
    for (name, key) in [
        ("server RSS MiB", "rss_mib"),
        ("open fds", "fds"),
        ("database KiB", "db_kib"),
        ("WAL KiB", "wal_kib"),
    ] {
        let o = &s[key];
        rows.push_back((
            format!("{name} (first / end / max)"),
            format!("{} / {} / {}", f(&o["first"]), f(&o["end"]), f(&o["max"])),
        ));
    }
    rows.push_back((
        "held long-polls (max / after the clients stopped)".into(),
        format!("{} / {}", s["held"]["max"], s["held"]["after_stop"]),
    ));
    rows.push_back((
        "rate-limiter entries (max / end)".into(),
        format!("{} / {}", s["limiter"]["max"], s["limiter"]["end"]),
    ));
    let l = &s["latency_ms"];
    rows.push_back((
        "approval latency ms, direct desktops (p50 / p99 / max)".into(),
        format!("{} / {} / {}", f(&l["p50"]), f(&l["p99"]), f(&l["max"])),
    ));
    rows.push_back(("5xx answers".into(), s["http_5xx"].to_string()));
    rows.push_back((
        "server ERROR log lines".into(),
        s["server_error_logs"].to_string(),
    ));
    rows.push_back((
        "engine failed / retrying events".into(),
        format!("{} / {}", s["failed_events"], s["retrying_events"]),
    ));
    rows.push_back((
        "desktops without the proxy: logins that went wrong".into(),
        s["client_errors"].to_string(),
    ));
    rows.push_back((
        "proxy faults injected / proxied logins / after the last fault / proxied failures".into(),
        format!(
            "{} / {} / {} / {}",
            s["faults_injected"],
            s["proxy_logins"],
            s["proxy_logins_after_last_fault"],
            s["proxy_errors"]
        ),
    ));
    let mut t = String::from("| measure | value |\n|---|---|\n");
    for (k, v) in rows {
        t.push_str(&format!("| {k} | {v} |\n"));
    }
    for (key, title) in [
        ("first_errors", "First errors of desktops without the proxy"),
        (
            "first_proxy_errors",
            "What the proxied desktops saw during faults (distinct, first ten)",
        ),
    ] {
        if let Some(e) = s[key].as_array().filter(|a| !a.is_empty()) {
            t.push_str(&format!("\n{title}:\n\n"));
            for x in e {
                t.push_str(&format!(
                    "- `{}`\n",
                    x.as_str().unwrap_or("").replace('`', "'")
                ));
            }
        }
    }
    t
}
