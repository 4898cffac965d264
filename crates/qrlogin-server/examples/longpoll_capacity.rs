//! Measures how many long-poll waiters one server process holds, its memory (RSS) while holding
//! them, and how long one confirm takes to answer them all. Loopback only, bounded, stops itself.
//!
//!     cargo run --release -p qrlogin-server --all-features --example longpoll_capacity -- 10000
//!
//! The server runs in a child process (this same executable with `serve-child`), so its RSS is
//! measured without the client's. The client holds each waiter on a raw HTTP/1.1 connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve-child") {
        return serve_child(args.get(2).cloned().unwrap_or_default()).await;
    }
    let waiters: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let waiters = waiters.min(15_000); // fd limit of this machine is 20 000 per process

    let dir = tempfile::tempdir()?;
    let server = Server::open(OpenOptions::new(dir.path())).await?;
    server
        .add_app(NewApp {
            name: "bench".into(),
            allow_client_exchange: true,
            ..Default::default()
        })
        .await?;
    server
        .add_user(NewUser {
            username: "alice".into(),
            password: "alice-password".into(),
            ..Default::default()
        })
        .await?;
    drop(server);

    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve-child")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or("child has no pid")?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).await? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let base = String::from_utf8(line)?.trim().to_owned();
    let addr: SocketAddr = base.trim_start_matches("http://").parse()?;
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::new();

    let gene: serde_json::Value = http
        .post(format!("{base}/api/v2/qrcode/gene"))
        .json(&serde_json::json!({"scene": "APP_AUTH"}))
        .send()
        .await?
        .json()
        .await?;
    let random = gene["data"]["random"]
        .as_str()
        .ok_or("no random")?
        .to_owned();
    let qr = gene["data"]["qrContent"]
        .as_str()
        .ok_or("no qr")?
        .to_owned();
    let rss_idle = rss_kib(pid);
    let phone = Phone::new();
    let page = phone.open(&qr).await?;
    phone.sign_in(&page, "alice", "alice-password").await?;
    let page = phone.open(&qr).await?;

    // Open the waiters, all on one session, all holding for up to 30 s.
    let request = format!(
        "GET /api/v2/qrcode/check?random={random}&wait=30&known=scanned HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(waiters);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(waiters);
    for _ in 0..waiters {
        let request = request.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.ok()?;
            s.write_all(request.as_bytes()).await.ok()?;
            let _ = ready.send(()).await;
            drop(ready); // the count below ends when every waiter has sent (or failed)
            let mut buf = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(40), s.read_to_end(&mut buf)).await;
            let text = String::from_utf8_lossy(&buf);
            if std::env::var_os("LONGPOLL_DEBUG").is_some() {
                eprintln!("{text}");
            }
            Some((Instant::now(), text.contains("\"status\":2")))
        }));
        // Pace the connects a little so the listen backlog keeps up.
        if tasks.len() % 100 == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    drop(ready_tx);
    let mut sent = 0;
    while ready_rx.recv().await.is_some() {
        sent += 1;
    }
    // Give the server a moment to park every request, then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_held = rss_kib(pid);
    let setup = started.elapsed();

    // One confirm wakes them all.
    let confirmed_at = Instant::now();
    phone.confirm(&page, None).await?;
    let mut answered = 0;
    let mut authorized = 0;
    let mut last = confirmed_at;
    for t in tasks {
        if let Ok(Some((at, ok))) = t.await {
            answered += 1;
            if ok {
                authorized += 1;
            }
            last = last.max(at);
        }
    }
    let per_waiter = (rss_held.saturating_sub(rss_idle) as f64 * 1024.0) / sent.max(1) as f64;
    println!("waiters requested:     {waiters}");
    println!(
        "waiters held:          {sent} (set up in {:.1} s)",
        setup.as_secs_f64()
    );
    println!("server RSS idle:       {} MiB", rss_idle / 1024);
    println!("server RSS holding:    {} MiB", rss_held / 1024);
    println!("per waiter:            {:.1} KiB", per_waiter / 1024.0);
    println!("answered after confirm: {answered}, saw AUTHORIZED: {authorized}");
    println!(
        "all answered within:   {} ms of the confirm",
        last.duration_since(confirmed_at).as_millis()
    );
    let _ = child.kill().await;
    Ok(())
}

async fn serve_child(dir: String) -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::open(OpenOptions::new(dir)).await?;
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
    // Bounded: the parent kills us; if it dies, we stop after two minutes.
    tokio::time::sleep(Duration::from_secs(120)).await;
    running.shutdown().await;
    Ok(())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
