//! Two instances on PostgreSQL against one on SQLite: poll throughput and approval latency.
//!
//!     scripts/pg-test.sh cargo run --release -p qrlogin-server --all-features --example scale_bench
//!     ... --example scale_bench -- --requests 20000 --conns 32 --logins 200 --concurrency 20 --json out.json
//!
//! PostgreSQL comes from `QRLOGIN_TEST_DATABASE_URL` (scripts/pg-test.sh starts a throw-away
//! cluster and sets it) or `QRLOGIN_DATABASE_URL`: an admin URL; the benchmark makes a database of
//! its own there and drops it afterwards. Without one, only the SQLite row is measured.
//!
//! Each instance is its own process (this executable with `serve-child`), on 127.0.0.1, rate
//! limits off. The client is this process; it spreads its connections over the instances as a
//! round-robin load balancer would.
//! - Poll throughput: short polls (`GET /api/v2/qrcode/check?random=R`, no `wait`) of 64 pending
//!   sessions over `conns` keep-alive connections; requests per second, median of 3 rounds.
//! - Approval latency: generate on instance A; the phone scans and confirms through instance B
//!   (the other instance on PostgreSQL, the same one on SQLite) while the requester holds a
//!   long-poll on A (`wait=25&known=scanned`); from the confirm call returning to (1) A's
//!   long-poll answering and (2) the ticket exchanged on A.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USER: (&str, &str) = ("alice", "alice-bench-password");
const SESSIONS: usize = 64;

struct Params {
    requests: usize,
    conns: usize,
    logins: usize,
    concurrency: usize,
    json: Option<String>,
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve-child") {
        let target = args.get(2).cloned().unwrap_or_default();
        return serve_child(&target).await;
    }
    let p = Params {
        requests: arg(&args, "--requests", 20_000),
        conns: arg(&args, "--conns", 32).max(1),
        logins: arg(&args, "--logins", 200),
        concurrency: arg(&args, "--concurrency", 20).max(1),
        json: args
            .iter()
            .position(|a| a == "--json")
            .and_then(|i| args.get(i + 1).cloned()),
    };

    let mut rows = Vec::new();
    let dir = tempfile::tempdir()?;
    let sqlite_target = dir.path().display().to_string();
    let opened = Server::open(OpenOptions::new(dir.path())).await?;
    rows.push(measure("1 instance, SQLite", &opened, &[&sqlite_target], &p).await?);
    drop(opened);

    let admin = std::env::var("QRLOGIN_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("QRLOGIN_DATABASE_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    match admin {
        None => eprintln!(
            "no PostgreSQL (set QRLOGIN_TEST_DATABASE_URL or run through scripts/pg-test.sh): \
             SQLite row only"
        ),
        Some(admin) => {
            let db = BenchDb::create(&admin).await?;
            let result = async {
                let opened =
                    Server::open(OpenOptions::new(dir.path()).database_url(&db.url)).await?;
                let row =
                    measure("2 instances, PostgreSQL", &opened, &[&db.url, &db.url], &p).await;
                drop(opened);
                row
            }
            .await;
            db.drop_it().await;
            rows.push(result?);
        }
    }

    println!(
        "\n| setup | poll throughput (req/s, median of 3) | confirm → long-poll answered p50 / p95 (ms) | confirm → ticket exchanged p50 / p95 (ms) |"
    );
    println!("|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.1} / {:.1} | {:.1} / {:.1} |",
            r["setup"].as_str().unwrap_or(""),
            r["pollThroughput"].as_f64().unwrap_or(f64::NAN),
            r["answered"]["p50"].as_f64().unwrap_or(f64::NAN),
            r["answered"]["p95"].as_f64().unwrap_or(f64::NAN),
            r["exchanged"]["p50"].as_f64().unwrap_or(f64::NAN),
            r["exchanged"]["p95"].as_f64().unwrap_or(f64::NAN),
        );
    }
    println!(
        "\n{} short polls over {} connections x 3 rounds; {} logins, {} at a time; {} cores",
        p.requests,
        p.conns,
        p.logins,
        p.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if let Some(path) = &p.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&json!({ "rows": rows }))?,
        )?;
    }
    Ok(())
}

/// Adds the app and user through `opened`, starts one child instance per target, measures.
async fn measure(
    setup: &str,
    opened: &Server,
    targets: &[&String],
    p: &Params,
) -> Result<Value, BoxError> {
    eprintln!("== {setup}");
    let creds = opened
        .add_app(NewApp {
            name: "bench".into(),
            allow_client_exchange: true,
            ..Default::default()
        })
        .await?;
    opened
        .add_user(NewUser {
            username: USER.0.into(),
            password: USER.1.into(),
            ..Default::default()
        })
        .await?;
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for t in targets {
        let (child, base) = spawn_instance(t).await?;
        children.push(child);
        bases.push(base);
    }
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .pool_max_idle_per_host(256)
        .build()?;
    let app_id = creds.app_id.clone();
    let token = sign_in(&http, &bases[bases.len() - 1]).await?;

    // ---- poll throughput
    let mut randoms = Vec::new();
    for i in 0..SESSIONS {
        randoms.push(generate(&http, &bases[i % bases.len()], &app_id).await?);
    }
    let mut rounds = Vec::new();
    for _ in 0..3 {
        rounds.push(throughput(&bases, &randoms, p.requests, p.conns).await?);
    }
    rounds.sort_by(f64::total_cmp);
    let poll_rps = rounds[1];
    eprintln!("poll throughput {rounds:?} req/s");

    // ---- approval latency
    let a = bases[0].clone();
    let b = bases[bases.len() - 1].clone();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(p.concurrency));
    let mut tasks = Vec::new();
    for _ in 0..p.logins {
        let permit = sem.clone().acquire_owned().await?;
        let (http, a, b, app_id, token) = (
            http.clone(),
            a.clone(),
            b.clone(),
            app_id.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let r = one_login(&http, &a, &b, &app_id, &token).await;
            drop(permit);
            r
        }));
    }
    let (mut answered, mut exchanged) = (Vec::new(), Vec::new());
    for t in tasks {
        let (x, y) = t.await.map_err(|e| e.to_string())??;
        answered.push(x);
        exchanged.push(y);
    }
    for c in &mut children {
        let _ = c.kill().await;
    }
    let row = json!({
        "setup": setup,
        "instances": bases.len(),
        "pollThroughput": poll_rps,
        "pollRounds": rounds,
        "answered": summary(&mut answered),
        "exchanged": summary(&mut exchanged),
    });
    eprintln!("{row}");
    Ok(row)
}

/// One login; returns (confirm → long-poll answered, confirm → exchanged) in milliseconds.
async fn one_login(
    http: &reqwest::Client,
    a: &str,
    b: &str,
    app_id: &str,
    token: &str,
) -> Result<(f64, f64), BoxError> {
    let random = generate(http, a, app_id).await?;
    let body = json!({ "random": random });
    phone(http, b, "scanned", &body, token).await?;
    let poll = {
        let (http, url) = (
            http.clone(),
            format!("{a}/api/v2/qrcode/check?random={random}&wait=25&known=scanned"),
        );
        tokio::spawn(async move {
            let r: Value = http.get(url).send().await?.json().await?;
            Ok::<_, reqwest::Error>((Instant::now(), r))
        })
    };
    // Let the long-poll reach A and be held (a person reads the page for longer than this).
    tokio::time::sleep(Duration::from_millis(50)).await;
    phone(http, b, "confirm", &body, token).await?;
    let confirmed = Instant::now();
    let (at, r) = poll.await.map_err(|e| e.to_string())??;
    if r["data"]["status"] != 2 {
        return Err(format!("long-poll answered {r}").into());
    }
    let ticket = r["data"]["ticket"].clone();
    let ex: Value = http
        .post(format!("{a}/api/v2/qrcode/userinfo"))
        .header("x-authing-app-id", app_id)
        .json(&json!({ "ticket": ticket }))
        .send()
        .await?
        .json()
        .await?;
    if ex["code"] != 200 {
        return Err(format!("exchange: {ex}").into());
    }
    let ms = |t: Instant| t.saturating_duration_since(confirmed).as_secs_f64() * 1000.0;
    Ok((ms(at), ms(Instant::now())))
}

async fn generate(http: &reqwest::Client, base: &str, app_id: &str) -> Result<String, BoxError> {
    let r: Value = http
        .post(format!("{base}/api/v2/qrcode/gene"))
        .header("x-authing-app-id", app_id)
        .json(&json!({"scene": "APP_AUTH"}))
        .send()
        .await?
        .json()
        .await?;
    r["data"]["random"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("generate: {r}").into())
}

async fn sign_in(http: &reqwest::Client, base: &str) -> Result<String, BoxError> {
    let r: Value = http
        .post(format!("{base}/api/v3/signin"))
        .json(&json!({"connection": "PASSWORD", "passwordPayload": {"username": USER.0, "password": USER.1}}))
        .send()
        .await?
        .json()
        .await?;
    r["data"]["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("sign in: {r}").into())
}

async fn phone(
    http: &reqwest::Client,
    base: &str,
    step: &str,
    body: &Value,
    token: &str,
) -> Result<(), BoxError> {
    let r: Value = http
        .post(format!("{base}/api/v2/qrcode/{step}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?
        .json()
        .await?;
    if r["code"] != 200 {
        return Err(format!("{step}: {r}").into());
    }
    Ok(())
}

/// Requests per second of short polls, connection `i` on instance `i % n` (round robin).
async fn throughput(
    bases: &[String],
    randoms: &[String],
    total: usize,
    conns: usize,
) -> Result<f64, BoxError> {
    let per = total / conns;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let addr: SocketAddr = bases[c % bases.len()]
            .trim_start_matches("http://")
            .parse()?;
        let random = randoms[c % randoms.len()].clone();
        tasks.push(tokio::spawn(async move {
            let request = format!(
                "GET /api/v2/qrcode/check?random={random} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
            );
            let mut s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let mut buf = Vec::with_capacity(8192);
            for _ in 0..per {
                s.write_all(request.as_bytes()).await?;
                let status = read_response(&mut s, &mut buf).await?;
                if status != 200 {
                    return Err::<(), BoxError>(format!("HTTP {status}").into());
                }
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok((per * conns) as f64 / start.elapsed().as_secs_f64())
}

/// Reads one HTTP/1.1 response with a Content-Length body; leftover bytes stay in `buf`.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<u16, BoxError> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
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
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err("connection closed".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..need);
            return Ok(status);
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn summary(samples: &mut [f64]) -> Value {
    samples.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
        samples[i.min(samples.len() - 1)]
    };
    json!({"n": samples.len(), "p50": pct(50.0), "p95": pct(95.0), "max": pct(100.0)})
}

/// Starts `serve-child` on a data dir or a postgres:// URL; returns it and its base URL.
async fn spawn_instance(target: &str) -> Result<(Child, String), BoxError> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve-child")
        .arg(target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).await?;
    let base = line.trim().to_owned();
    if !base.starts_with("http://") {
        return Err(format!("instance did not start: {line:?}").into());
    }
    Ok((child, base))
}

/// One instance: serves until its standard input closes (the parent exited or killed it).
async fn serve_child(target: &str) -> Result<(), BoxError> {
    let options = if target.starts_with("postgres") {
        OpenOptions::new("").database_url(target)
    } else {
        OpenOptions::new(target)
    };
    let server = Server::open(options).await?;
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse()?,
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            edge: qrlogin_server::EdgeLimits::for_load_tests(),
            ..Default::default()
        })
        .await?;
    println!("{}", running.base_url());
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 64];
        while std::io::Read::read(&mut std::io::stdin(), &mut sink).unwrap_or(0) > 0 {}
    })
    .await;
    running.shutdown().await;
    Ok(())
}

/// A database of the benchmark's own on the PostgreSQL server at `admin`.
struct BenchDb {
    admin: String,
    name: String,
    url: String,
}

impl BenchDb {
    async fn create(admin: &str) -> Result<BenchDb, BoxError> {
        use sqlx::Connection;
        let name = format!("qrlogin_bench_{}", std::process::id());
        let mut c = sqlx::PgConnection::connect(admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut c)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await?;
        let mut url = url::Url::parse(admin)?;
        url.set_path(&name);
        Ok(BenchDb {
            admin: admin.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    async fn drop_it(&self) {
        use sqlx::Connection;
        if let Ok(mut c) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c)
            .await;
        }
    }
}
