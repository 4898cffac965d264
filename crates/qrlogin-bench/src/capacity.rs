//! Row 6: server capacity. The servers run in child processes (this executable with
//! `serve-ours <dir>` / `serve-hello`), the load comes from this process, all on 127.0.0.1.
//!
//! 1. Throughput: a fixed number of requests over K keep-alive HTTP/1.1 connections, to our
//!    `GET /api/v2/qrcode/check?random=R` (a short poll of a pending session) and to an axum
//!    hello-world `GET /hello` (same tokio runtime config), alternating, 3 rounds each; medians.
//! 2. Waiters: N sessions (one generate each), the phone opens each (scan), then N long-polls
//!    (`wait=30&known=scanned`) are held, one connection each. Server RSS before/after.
//!    Then the phone confirms them all (64 at a time): per-waiter wake-up (answer − that
//!    session's confirm returned) and first confirm → last answer.
//! 3. Fan-out: N long-polls on ONE session, one confirm authorizes them all at once: time from
//!    the confirm returning to the last answer (the example `longpoll_capacity` measures this).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::approval::{PASSWORD, USER};
use crate::util::{monotonic_ns, rss_kib, summary};

pub async fn serve_ours(dir: String) -> Result<(), String> {
    let server = Server::open(OpenOptions::new(dir))
        .await
        .map_err(|e| e.to_string())?;
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            edge: qrlogin_server::EdgeLimits::for_load_tests(),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", running.base_url());
    // Bounded: the parent kills us by PID; if it dies, we stop by ourselves.
    tokio::time::sleep(Duration::from_secs(900)).await;
    running.shutdown().await;
    Ok(())
}

pub async fn serve_hello() -> Result<(), String> {
    let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "Hello, world!" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let serve = axum::serve(listener, app);
    let _ = tokio::time::timeout(Duration::from_secs(900), serve).await;
    Ok(())
}

/// A server child process, killed by PID on drop.
struct Child {
    child: tokio::process::Child,
    pid: u32,
    base: String,
    addr: SocketAddr,
}

async fn spawn(args: &[&str]) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(exe)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id().ok_or("no pid")?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    let read = async {
        while out.read(&mut byte).await.map_err(|e| e.to_string())? == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        Ok::<_, String>(())
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .map_err(|_| "server child did not start".to_string())??;
    let base = String::from_utf8_lossy(&line).trim().to_owned();
    let addr: SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("{base}: {e}"))?;
    Ok(Child {
        child,
        pid,
        base,
        addr,
    })
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

pub struct Params {
    pub waiters: usize,
    pub requests: usize,
    pub conns: usize,
    /// Which of `throughput`, `waiters`, `fanout` to run (comma-separated; default all), so
    /// that one phase can be profiled alone (`perf record -p <server>`).
    pub phases: String,
}

pub async fn run(p: Params) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    {
        let server = Server::open(OpenOptions::new(dir.path()))
            .await
            .map_err(|e| e.to_string())?;
        server
            .add_app(NewApp {
                name: "bench".into(),
                qr_ttl_secs: Some(900),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        server
            .add_user(NewUser {
                username: USER.into(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    let dir_s = dir.path().to_string_lossy().into_owned();
    let ours = spawn(&["serve-ours", &dir_s]).await?;
    let hello = spawn(&["serve-hello"]).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|e| e.to_string())?;

    let phase = |name: &str| p.phases.split(',').any(|x| x.trim() == name);
    // ---- 1. throughput ------------------------------------------------------------------------
    let (random, _) = generate(&http, &ours.base).await?;
    let ours_path = format!("/api/v2/qrcode/check?random={random}");
    let mut ours_rps = Vec::new();
    let mut hello_rps = Vec::new();
    let rounds = if phase("throughput") { 3 } else { 0 };
    for _ in 0..rounds {
        hello_rps.push(throughput(hello.addr, "/hello", p.requests, p.conns).await?);
        ours_rps.push(throughput(ours.addr, &ours_path, p.requests, p.conns).await?);
    }
    eprintln!("throughput: ours {ours_rps:?} req/s, hello {hello_rps:?} req/s");
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let ours_med = median(&mut ours_rps.clone());
    let hello_med = median(&mut hello_rps.clone());

    // ---- 2. N sessions, N waiters -------------------------------------------------------------
    let phone = Phone::new();
    let rss_before_sessions = rss_kib(ours.pid);
    let t = Instant::now();
    let many = if phase("waiters") { p.waiters } else { 1 };
    let sessions = Arc::new(generate_many(&http, &ours.base, many).await?);
    let gen_secs = t.elapsed().as_secs_f64();
    // Sign the phone in on the first, then open (scan) all.
    let first = phone
        .open(&sessions[0].1)
        .await
        .map_err(|e| e.to_string())?;
    if first.state == PageState::SignIn {
        phone
            .sign_in(&first, USER, PASSWORD)
            .await
            .map_err(|e| e.to_string())?;
    }
    let t = Instant::now();
    let pages = open_many(&phone, &sessions).await?;
    let scan_secs = t.elapsed().as_secs_f64();
    let rss_before = rss_kib(ours.pid);
    let t = Instant::now();
    let paths: Vec<String> = sessions
        .iter()
        .map(|(r, _)| format!("/api/v2/qrcode/check?random={r}&wait=30&known=scanned"))
        .collect();
    let waiters = hold(ours.addr, paths, true).await;
    let held = waiters.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let early = waiters.iter().filter(|w| w.is_finished()).count();
    let rss_held = rss_kib(ours.pid);
    let hold_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "waiters: {held} held ({early} answered early), RSS {} → {} MiB",
        rss_before / 1024,
        rss_held / 1024
    );
    // Confirm all, 64 at a time; each confirm's return time per session.
    let first_confirm = monotonic_ns();
    let confirm_times = confirm_many(&phone, pages).await;
    let last_confirm = monotonic_ns();
    let mut wake = Vec::new();
    let mut last_answer = 0i128;
    let mut authorized = 0;
    for (i, w) in waiters.into_iter().enumerate() {
        if let Ok(Some((at, ok))) = w.await {
            if ok {
                authorized += 1;
                last_answer = last_answer.max(at);
                if let Some(Some(c)) = confirm_times.get(i) {
                    wake.push((at - c) as f64 / 1e6);
                }
            }
        }
    }
    let confirmed = confirm_times.iter().filter(|c| c.is_some()).count();
    eprintln!("confirmed {confirmed}, authorized answers {authorized}");

    // ---- 3. fan-out: N waiters on one session, one confirm ------------------------------------
    let (random, qr) = generate(&http, &ours.base).await?;
    let page = phone.open(&qr).await.map_err(|e| e.to_string())?;
    let rss_fan_before = rss_kib(ours.pid);
    let paths =
        vec![format!("/api/v2/qrcode/check?random={random}&wait=30&known=scanned"); p.waiters];
    let fan = hold(ours.addr, paths, false).await;
    let fan_held = fan.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_fan = rss_kib(ours.pid);
    if let Ok(path) = std::env::var("QRLOGIN_BENCH_FANOUT_READY") {
        // For a profile of the fan-out alone: a file says the waiters are held, the server's
        // PID in it; the confirm follows once the profiler had a second to attach.
        std::fs::write(&path, ours.pid.to_string()).map_err(|e| e.to_string())?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Timed from the confirm being sent too: the woken waiters are answered while the confirm's
    // own reply is on its way, so "after it returned" is often 0 and says little by itself.
    let fan_sent = monotonic_ns();
    phone
        .confirm(&page, None)
        .await
        .map_err(|e| e.to_string())?;
    let fan_confirmed = monotonic_ns();
    let mut fan_last = fan_confirmed;
    let mut fan_last_any = fan_sent;
    let mut fan_ok = 0;
    for w in fan {
        if let Ok(Some((at, ok))) = w.await {
            if ok {
                fan_ok += 1;
                fan_last = fan_last.max(at);
                fan_last_any = fan_last_any.max(at);
            }
        }
    }
    let fan_ms = (fan_last - fan_confirmed) as f64 / 1e6;
    eprintln!("fan-out: {fan_ok}/{fan_held} answered within {fan_ms:.0} ms of the confirm");

    drop(ours);
    drop(hello);
    Ok(json!({
        "setup": "servers in child processes (qrlogin-server library with RateLimits::unlimited; axum hello-world), load from the parent process, 127.0.0.1",
        "throughput": {
            "requests_per_round": p.requests, "connections": p.conns, "rounds": 3,
            "ours_rps": ours_rps, "hello_rps": hello_rps,
            "ours_median_rps": ours_med, "hello_median_rps": hello_med,
            "ratio": ours_med / hello_med,
        },
        "waiters": {
            "requested": p.waiters, "held": held, "answered_early": early,
            "generate_secs": gen_secs, "scan_secs": scan_secs, "hold_secs": hold_secs,
            "rss_before_sessions_kib": rss_before_sessions,
            "rss_before_waiters_kib": rss_before, "rss_held_kib": rss_held,
            "per_waiter_kib": (rss_held as f64 - rss_before as f64) / held.max(1) as f64,
            "per_session_and_waiter_kib": (rss_held as f64 - rss_before_sessions as f64) / held.max(1) as f64,
            "confirmed": confirmed, "authorized_answers": authorized,
            "confirm_span_ms": (last_confirm - first_confirm) as f64 / 1e6,
            "first_confirm_to_last_answer_ms": (last_answer - first_confirm) as f64 / 1e6,
            "wake_ms": summary(&wake),
        },
        "fanout": {
            "waiters": p.waiters, "held": fan_held, "authorized_answers": fan_ok,
            "rss_before_kib": rss_fan_before, "rss_held_kib": rss_fan,
            "confirm_to_last_answer_ms": fan_ms,
            "confirm_sent_to_last_answer_ms": (fan_last_any - fan_sent) as f64 / 1e6,
            "confirm_round_trip_ms": (fan_confirmed - fan_sent) as f64 / 1e6,
        },
    }))
}

/// `POST /api/v2/qrcode/gene` → (random, qrContent).
async fn generate(http: &reqwest::Client, base: &str) -> Result<(String, String), String> {
    let v: Value = http
        .post(format!("{base}/api/v2/qrcode/gene"))
        .json(&json!({"scene": "APP_AUTH"}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let random = v["data"]["random"].as_str().ok_or(format!("gene: {v}"))?;
    let qr = v["data"]["qrContent"]
        .as_str()
        .ok_or(format!("gene: {v}"))?;
    Ok((random.to_owned(), qr.to_owned()))
}

async fn generate_many(
    http: &reqwest::Client,
    base: &str,
    n: usize,
) -> Result<Vec<(String, String)>, String> {
    let sem = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (http, base, sem) = (http.clone(), base.to_owned(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await;
            generate(&http, &base).await
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.map_err(|e| e.to_string())??);
    }
    Ok(out)
}

async fn open_many(
    phone: &Phone,
    sessions: &Arc<Vec<(String, String)>>,
) -> Result<Vec<qrlogin_server::phone::ApprovalPage>, String> {
    let sem = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for i in 0..sessions.len() {
        let (phone, sessions, sem) = (phone.clone(), sessions.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await;
            phone.open(&sessions[i].1).await.map_err(|e| e.to_string())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        let page = t.await.map_err(|e| e.to_string())??;
        if page.state != PageState::Approve {
            return Err(format!("page in state {:?}", page.state));
        }
        out.push(page);
    }
    Ok(out)
}

/// Confirms every page (64 in flight); the monotonic time each confirm returned.
async fn confirm_many(
    phone: &Phone,
    pages: Vec<qrlogin_server::phone::ApprovalPage>,
) -> Vec<Option<i128>> {
    let sem = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for page in pages {
        let (phone, sem) = (phone.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await;
            phone
                .confirm(&page, None)
                .await
                .ok()
                .map(|_| monotonic_ns())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.ok().flatten());
    }
    out
}

/// Opens one connection per path and sends the long-poll; each task returns (answer time,
/// authorized?). With `repoll`, a waiter whose long-poll ended without the answer (30 s) asks
/// again, for at most 90 s in all.
async fn hold(
    addr: SocketAddr,
    paths: Vec<String>,
    repoll: bool,
) -> Vec<tokio::task::JoinHandle<Option<(i128, bool)>>> {
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(paths.len().max(1));
    let mut tasks = Vec::with_capacity(paths.len());
    for (i, path) in paths.into_iter().enumerate() {
        let mut ready = Some(ready_tx.clone());
        tasks.push(tokio::spawn(async move {
            let end = Instant::now() + Duration::from_secs(90);
            loop {
                let request =
                    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
                let mut s = TcpStream::connect(addr).await.ok();
                if let Some(st) = s.as_mut() {
                    if st.write_all(request.as_bytes()).await.is_err() {
                        s = None;
                    }
                }
                // Dropping the sender after the first request lets `hold` return.
                if let Some(r) = ready.take() {
                    let _ = r.send(()).await;
                }
                let mut s = s?;
                let mut buf = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(40), s.read_to_end(&mut buf)).await;
                let at = monotonic_ns();
                let text = String::from_utf8_lossy(&buf);
                let ok = text.contains("\"status\":2");
                if !ok && i == 0 && std::env::var_os("QRLOGIN_BENCH_DEBUG").is_some() {
                    eprintln!("waiter 0 answered without the authorization: {text}");
                }
                if ok || !repoll || Instant::now() > end {
                    return Some((at, ok));
                }
            }
        }));
        // Pace the connects so the listen backlog keeps up.
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    drop(ready_tx);
    while ready_rx.recv().await.is_some() {}
    tasks
}

/// Requests per second for `total` GETs of `path` over `conns` keep-alive connections.
async fn throughput(
    addr: SocketAddr,
    path: &str,
    total: usize,
    conns: usize,
) -> Result<f64, String> {
    let per = total / conns.max(1);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            s.set_nodelay(true).ok();
            let mut buf = Vec::with_capacity(8192);
            for _ in 0..per {
                s.write_all(&request).await.map_err(|e| e.to_string())?;
                let status = read_response(&mut s, &mut buf).await?;
                if status != 200 {
                    return Err(format!("HTTP {status}"));
                }
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok((per * conns) as f64 / start.elapsed().as_secs_f64())
}

/// Reads one HTTP/1.1 response with a Content-Length body; leftover bytes stay in `buf`.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<u16, String> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or("response without content-length")?;
            let need = end + 4 + len;
            while buf.len() < need {
                let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..need);
            return Ok(status);
        }
        let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
