//! The cost of the per-request session check (issue 11), before and after, in one run:
//!
//!     cargo build --release -p qrlogin-server --all-features --bins --examples
//!     target/release/examples/session_cost --before /path/to/qrlogin-server-before \
//!         [--requests 20000] [--conns 16] [--rounds 3]
//!
//! `--before` is a `qrlogin-server` binary built from a commit without sessions; the "after" one
//! is this build's (`target/release/qrlogin-server`). Each runs as its own process on its own
//! SQLite data directory, with one app and one user, rate limits off, on 127.0.0.1. Round by
//! round, alternating between the two so that machine load falls on both alike, this measures
//! keep-alive throughput (requests per second over `conns` connections) of:
//! - poll: `GET /api/v2/qrcode/check?random=R` of a pending QR (carries no token);
//! - profile: `GET /api/v3/get-profile` with the phone's token. Before: signature, then the user
//!   row. After: signature, then the session row joined with its user (one indexed query).
//!
//! Prints the median of the rounds per row and the after/before ratio. Without `--before`, only
//! this build is measured.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One server process under test, with what the client needs from it.
struct Target {
    label: &'static str,
    child: Child,
    addr: SocketAddr,
    token: String,
    random: String,
    _dir: tempfile::TempDir,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let requests: usize = arg(&args, "--requests", 20_000);
    let conns: usize = arg(&args, "--conns", 16);
    let rounds: usize = arg(&args, "--rounds", 3);
    let before: Option<PathBuf> = args
        .iter()
        .position(|a| a == "--before")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let after = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("qrlogin-server"))
        .ok_or("cannot find target/release/qrlogin-server")?;

    let mut targets = Vec::new();
    if let Some(b) = &before {
        targets.push(start("before", b).await?);
    }
    targets.push(start("after", &after).await?);

    let mut results: Vec<(String, &'static str, Vec<f64>)> = Vec::new();
    for (kind, _) in ROWS {
        for t in &targets {
            results.push((kind.to_string(), t.label, Vec::new()));
        }
    }
    for round in 0..rounds {
        for (kind, path) in ROWS {
            for t in &targets {
                let path = path.replace("{random}", &t.random);
                let auth = if kind == "profile" {
                    format!("Authorization: Bearer {}\r\n", t.token)
                } else {
                    String::new()
                };
                let rps = throughput(t.addr, &path, &auth, requests, conns).await?;
                eprintln!("round {round} {kind:>7} {:>6}: {rps:.0} req/s", t.label);
                if let Some(r) = results
                    .iter_mut()
                    .find(|(k, l, _)| k == kind && *l == t.label)
                {
                    r.2.push(rps);
                }
            }
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("| Request | before (req/s) | after (req/s) | after/before |");
    println!("|---|---|---|---|");
    let mut out = Vec::new();
    for (kind, _) in ROWS {
        let get = |label: &str| {
            results
                .iter()
                .find(|(k, l, _)| k == kind && *l == label)
                .map(|(_, _, v)| median(v))
        };
        let (b, a) = (get("before"), get("after"));
        let ratio = match (b, a) {
            (Some(b), Some(a)) => format!("{:.2}×", a / b),
            _ => "—".into(),
        };
        let fmt = |x: Option<f64>| x.map(|x| format!("{x:.0}")).unwrap_or_else(|| "—".into());
        println!("| {kind} | {} | {} | {ratio} |", fmt(b), fmt(a));
        out.push(json!({"request": kind, "before": b, "after": a}));
    }
    println!(
        "({rounds} rounds, {requests} requests over {conns} keep-alive connections each, median)"
    );
    eprintln!("{}", Value::Array(out));
    for mut t in targets {
        let _ = t.child.kill().await;
    }
    Ok(())
}

const ROWS: [(&str, &str); 2] = [
    ("poll", "/api/v2/qrcode/check?random={random}"),
    ("profile", "/api/v3/get-profile"),
];

/// Sets a data directory up with the binary's own CLI, serves it, signs a phone in, makes a QR.
async fn start(label: &'static str, bin: &Path) -> Result<Target, BoxError> {
    let dir = tempfile::tempdir()?;
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut c = std::process::Command::new(bin);
        c.arg("--data-dir").arg(dir.path()).args(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .ok_or("stdin")?
                .write_all(input.as_bytes())?;
        }
        drop(child.stdin.take());
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err::<Vec<u8>, BoxError>(
                String::from_utf8_lossy(&out.stderr).into_owned().into(),
            );
        }
        Ok(out.stdout)
    };
    let app: Value =
        serde_json::from_slice(&cli(&["app", "add", "--name", "Bench", "--json"], None)?)?;
    cli(
        &[
            "user",
            "add",
            "--username",
            "alice",
            "--password-stdin",
            "--json",
        ],
        Some("alice-bench-pw"),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut child = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", &addr.to_string(), "--no-rate-limits"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(l) = lines.next_line().await? {
            if l.contains("listening on") {
                return Ok::<(), BoxError>(());
            }
        }
        Err("the server ended".into())
    })
    .await??;
    let base = format!("http://{addr}");
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::new();
    let signin: Value = http
        .post(format!("{base}/api/v3/signin"))
        .json(&json!({"connection": "PASSWORD",
            "passwordPayload": {"username": "alice", "password": "alice-bench-pw"}}))
        .send()
        .await?
        .json()
        .await?;
    let token = signin["data"]["access_token"]
        .as_str()
        .ok_or_else(|| format!("sign-in: {signin}"))?
        .to_owned();
    let gene: Value = http
        .post(format!("{base}/api/v2/qrcode/gene"))
        .header(
            "x-authing-app-id",
            app["appId"].as_str().unwrap_or_default(),
        )
        .json(&json!({"autoMergeQrCode": false, "scene": "APP_AUTH", "params": {}}))
        .send()
        .await?
        .json()
        .await?;
    let random = gene["data"]["random"]
        .as_str()
        .ok_or_else(|| format!("generate: {gene}"))?
        .to_owned();
    Ok(Target {
        label,
        child,
        addr,
        token,
        random,
        _dir: dir,
    })
}

async fn throughput(
    addr: SocketAddr,
    path: &str,
    extra_headers: &str,
    total: usize,
    conns: usize,
) -> Result<f64, BoxError> {
    let per = total / conns;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}\r\n");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
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
