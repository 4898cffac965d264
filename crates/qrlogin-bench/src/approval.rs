//! Row 1: approval latency, from the moment the phone's confirm call returns to the moment the
//! engine emits `LoggedIn` (ticket exchanged, profile fetched).
//!
//! In one process and one tokio runtime: the reference server (SQLite in a temp dir, rate limits
//! off, 127.0.0.1), the engine (`LoginSession`, dialect v2 = G3 `/api/v2/qrcode/*`) and the
//! `Phone`. The three modes run at the same time (each with `concurrency` logins in flight), so
//! noise hits them alike. Each login: QR shown → the phone opens it (scan) → the engine sees
//! `scanned` → a random pause of 0–1.6 s (a person reading the approval page; it also spreads
//! the confirm over the polling phase) → confirm → `LoggedIn`.

use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::session::{Client, ClientConfig, LoginSession, SessionOptions};
use qrlogin_core::{DialectId, LoginEvent};
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::util::{monotonic_ns, summary};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "alice-bench-password";

struct Mode {
    name: &'static str,
    long_poll: bool,
    interval: Option<Duration>,
}

pub async fn run(logins: usize, concurrency: usize, deadline: Duration) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = Server::open(OpenOptions::new(dir.path()))
        .await
        .map_err(|e| e.to_string())?;
    let creds = server
        .add_app(NewApp {
            name: "bench".into(),
            qr_ttl_secs: Some(600),
            check_code: false,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    server
        .add_user(NewUser {
            username: USER.into(),
            password: PASSWORD.into(),
            nickname: Some("Alice".into()),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let base = running.base_url().to_owned();

    let modes = [
        Mode {
            name: "long-poll",
            long_poll: true,
            interval: None,
        },
        Mode {
            name: "poll-800ms",
            long_poll: false,
            interval: Some(Duration::from_millis(800)),
        },
        Mode {
            name: "poll-1500ms",
            long_poll: false,
            interval: Some(Duration::from_millis(1500)),
        },
    ];

    let phone = Phone::new();
    let end = tokio::time::Instant::now() + deadline;
    let mut handles = Vec::new();
    for mode in &modes {
        let mut cc = ClientConfig::new(base.clone(), DialectId::G3, creds.app_id.clone());
        cc.app.user_pool_id = Some(creds.user_pool_id.clone());
        let client = Arc::new(Client::new(cc).map_err(|e| e.to_string())?);
        let opts = SessionOptions {
            long_poll: mode.long_poll,
            poll_interval: mode.interval,
            ..SessionOptions::default()
        };
        // One unmeasured login per mode first: signs the phone in, warms connections.
        one_login(&client, &opts, &phone).await?;
        let per_worker = logins.div_ceil(concurrency.max(1));
        let mut workers = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (client, opts, phone) = (client.clone(), opts.clone(), phone.clone());
            workers.push(tokio::spawn(async move {
                let mut out = Vec::new();
                let mut errors = Vec::new();
                for _ in 0..per_worker {
                    if tokio::time::Instant::now() > end {
                        break;
                    }
                    match one_login(&client, &opts, &phone).await {
                        Ok(ms) => out.push(ms),
                        Err(e) => errors.push(e),
                    }
                }
                (out, errors)
            }));
        }
        handles.push((mode.name, mode.interval, workers));
    }

    let mut result = serde_json::Map::new();
    for (name, interval, workers) in handles {
        let mut samples = Vec::new();
        let mut errors = Vec::new();
        for w in workers {
            let (s, e) = w.await.map_err(|e| e.to_string())?;
            samples.extend(s);
            errors.extend(e);
        }
        samples.truncate(logins);
        let mut s = summary(&samples);
        s["errors"] = json!(errors.len());
        s["first_errors"] = json!(errors.iter().take(3).collect::<Vec<_>>());
        s["interval_ms"] = json!(interval.map(|d| d.as_millis() as u64));
        eprintln!("approval {name}: {s}");
        result.insert(name.to_owned(), s);
    }
    running.shutdown().await;
    Ok(json!({
        "setup": "in-process: server + engine + Phone in one tokio runtime (multi-thread), 127.0.0.1",
        "concurrency_per_mode": concurrency,
        "modes": result,
    }))
}

/// One login; returns confirm-returned → `LoggedIn` in milliseconds.
async fn one_login(
    client: &Arc<Client>,
    opts: &SessionOptions,
    phone: &Phone,
) -> Result<f64, String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(i128, LoginEvent)>();
    let session = LoginSession::start(client.clone(), opts.clone(), move |e| {
        let _ = tx.send((monotonic_ns(), e));
    });
    let text = loop {
        match next(&mut rx, 20).await? {
            (_, LoginEvent::QrReady { text, .. }) => break text,
            (_, LoginEvent::Failed { message, .. }) => return Err(format!("failed: {message}")),
            _ => {}
        }
    };
    let mut page = phone.open(&text).await.map_err(|e| e.to_string())?;
    if page.state == PageState::SignIn {
        page = phone
            .sign_in(&page, USER, PASSWORD)
            .await
            .map_err(|e| e.to_string())?;
        if page.state != PageState::Approve {
            page = phone.open(&text).await.map_err(|e| e.to_string())?;
        }
    }
    if page.state != PageState::Approve {
        return Err(format!("approval page in state {:?}", page.state));
    }
    loop {
        match next(&mut rx, 20).await? {
            (_, LoginEvent::Scanned { .. }) => break,
            (_, LoginEvent::Failed { message, .. }) => return Err(format!("failed: {message}")),
            _ => {}
        }
    }
    let pause = rand::thread_rng().gen_range(0..1600);
    tokio::time::sleep(Duration::from_millis(pause)).await;
    phone
        .confirm(&page, None)
        .await
        .map_err(|e| e.to_string())?;
    let confirmed = monotonic_ns();
    let logged_in = loop {
        match next(&mut rx, 20).await? {
            (t, LoginEvent::LoggedIn { .. }) => break t,
            (_, LoginEvent::Failed { message, .. }) => return Err(format!("failed: {message}")),
            _ => {}
        }
    };
    drop(session);
    Ok((logged_in - confirmed) as f64 / 1e6)
}

async fn next(
    rx: &mut mpsc::UnboundedReceiver<(i128, LoginEvent)>,
    secs: u64,
) -> Result<(i128, LoginEvent), String> {
    match tokio::time::timeout(Duration::from_secs(secs), rx.recv()).await {
        Ok(Some(e)) => Ok(e),
        Ok(None) => Err("the session ended".into()),
        Err(_) => Err(format!("no event within {secs} s")),
    }
}
