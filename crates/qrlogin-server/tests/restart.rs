//! State survives a restart: a QR session authorized before the server stopped can still be
//! exchanged after it starts again on the same storage; tokens stay valid. Also when the server
//! is killed (SIGKILL, no shutdown) in the middle of a login: every answered change was stored
//! before it was answered (the live sessions in memory are written through).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser, RateLimits, ServeOptions, Server};
use serde_json::{json, Value};

#[tokio::test]
async fn a_session_authorized_before_a_restart_is_exchanged_after_it() {
    let mut ts = start(app("Desktop")).await;
    let (verifier, challenge) = pkce();
    let d = ts
        .g4_generate(json!({"codeChallenge": challenge, "codeChallengeMethod": "S256"}))
        .await;
    let id = d["qrcodeId"].as_str().expect("id").to_owned();
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    let ticket = s["data"]["ticket"].as_str().expect("ticket").to_owned();
    let (_, jwks_before) = ts.get("/.well-known/jwks.json").await;
    ts.stop().await;

    // The server was down; it comes back on another port over the same directory.
    let server = Server::open(ts.db.open_options()).await.expect("reopen");
    assert_eq!(server.user_pool_id(), ts.app.user_pool_id);
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .expect("serve");
    let base = running.base_url().to_owned();
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::new();
    let s: Value = http
        .get(format!("{base}/api/v3/get-qrcode-status?qrcodeId={id}"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(s["data"]["status"], "AUTHORIZED");
    let r: Value = http
        .post(format!(
            "{base}/api/v3/exchange-tokenset-with-qrcode-ticket"
        ))
        .header("x-authing-app-id", &ts.app.app_id)
        .json(&json!({"ticket": ticket, "codeVerifier": verifier}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(r["statusCode"], 200, "{r}");
    let token = r["data"]["access_token"].as_str().expect("token");
    let jwks_after: Value = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        jwks_before, jwks_after,
        "signing key changed across restart"
    );
    let p: Value = http
        .get(format!("{base}/api/v3/get-profile"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(p["data"]["username"], "alice");
    assert_eq!(server.list_apps().await.expect("apps").len(), 1);
    assert_eq!(server.list_users().await.expect("users").len(), 2);
    running.shutdown().await;
}

const BIN: &str = env!("CARGO_BIN_EXE_qrlogin-server");

/// `qrlogin-server serve` in a child process on the test's storage, once `/healthz` answers.
async fn serve_child(db: &TestDb, port: u16, http: &reqwest::Client) -> std::process::Child {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(db.dir.path());
    match &db.url {
        Some(url) => c.env("QRLOGIN_DATABASE_URL", url),
        None => c.env_remove("QRLOGIN_DATABASE_URL"),
    };
    let mut child = c
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("QRLOGIN_TRUSTED_PROXIES", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn qrlogin-server serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if up {
            return child;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the server exited before serving: {status}");
        }
        assert!(Instant::now() < deadline, "no /healthz within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGKILL, as `kill -9 PID` sends it: no shutdown code runs.
fn kill_9(child: &mut std::process::Child) {
    let status = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(exit.signal(), Some(9), "{exit}");
}

/// The desktop's long-poll of `random`, held until the status leaves `known`.
fn hold(
    http: &reqwest::Client,
    base: &str,
    random: &str,
    known: &str,
) -> tokio::task::JoinHandle<Result<Value, reqwest::Error>> {
    let url = format!("{base}/api/v2/qrcode/check?random={random}&wait=25&known={known}");
    let http = http.clone();
    tokio::spawn(async move { http.get(url).send().await?.json::<Value>().await })
}

async fn status(http: &reqwest::Client, base: &str, random: &str) -> Value {
    let r: Value = http
        .get(format!("{base}/api/v2/qrcode/check?random={random}"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(r["code"], 200, "{r}");
    r["data"].clone()
}

#[tokio::test]
async fn a_server_killed_with_sigkill_mid_login_restarts_and_the_login_completes() {
    let db = TestDb::new();
    let app = {
        let server = Server::open(db.open_options()).await.expect("open");
        server
            .add_user(NewUser {
                username: ALICE.0.into(),
                password: ALICE.1.into(),
                nickname: Some("Alice A.".into()),
                ..Default::default()
            })
            .await
            .expect("user");
        server
            .add_app(NewApp {
                name: "Desktop".into(),
                allow_client_exchange: true,
                ..Default::default()
            })
            .await
            .expect("app")
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::new();
    let mut child = serve_child(&db, port, &http).await;

    let g: Value = http
        .post(format!("{base}/api/v2/qrcode/gene"))
        .header("x-authing-app-id", &app.app_id)
        .json(&json!({"scene": "APP_AUTH", "autoMergeQrCode": false}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(g["code"], 200, "{g}");
    let random = g["data"]["random"].as_str().expect("random").to_owned();
    let qr = g["data"]["qrContent"]
        .as_str()
        .expect("qrContent")
        .to_owned();

    // The phone scans; the desktop's held poll hears it.
    let held = hold(&http, &base, &random, "pending");
    let phone = Phone::new();
    let page = scan_as(&phone, &qr, ALICE).await;
    let r = held.await.expect("task").expect("poll");
    assert_eq!(r["data"]["status"], 1, "{r}");

    // Killed after the scan, before the confirm, while the desktop holds a poll.
    let held = hold(&http, &base, &random, "scanned");
    tokio::time::sleep(Duration::from_millis(200)).await;
    kill_9(&mut child);
    assert!(
        held.await.expect("task").is_err(),
        "a poll held by a killed server was answered"
    );
    let mut child = serve_child(&db, port, &http).await;
    let s = status(&http, &base, &random).await;
    assert_eq!(s["status"], 1, "the scan was lost: {s}");
    assert_eq!(s["userInfo"]["nickname"], "Alice A.", "{s}");

    // The phone confirms on the restarted server; the desktop's new poll hears it.
    let held = hold(&http, &base, &random, "scanned");
    tokio::time::sleep(Duration::from_millis(200)).await;
    phone
        .confirm(&page, None)
        .await
        .expect("confirm after the restart");
    let r = held.await.expect("task").expect("poll");
    assert_eq!(r["data"]["status"], 2, "{r}");
    let ticket = r["data"]["ticket"].as_str().expect("ticket").to_owned();

    // Killed after the confirm, before the exchange.
    kill_9(&mut child);
    let mut child = serve_child(&db, port, &http).await;
    let s = status(&http, &base, &random).await;
    assert_eq!(s["status"], 2, "the confirm was lost: {s}");
    assert_eq!(s["ticket"], ticket.as_str(), "{s}");
    let ex: Value = http
        .post(format!("{base}/api/v2/qrcode/userinfo"))
        .header("x-authing-app-id", &app.app_id)
        .json(&json!({"ticket": ticket}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ex["code"], 200, "{ex}");
    assert_eq!(ex["data"]["username"], "alice", "{ex}");
    let token = ex["data"]["token"].as_str().expect("token");
    // Spent once: a second exchange after one more kill is refused.
    kill_9(&mut child);
    let mut child = serve_child(&db, port, &http).await;
    let again: Value = http
        .post(format!("{base}/api/v2/qrcode/userinfo"))
        .header("x-authing-app-id", &app.app_id)
        .json(&json!({"ticket": ticket}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(again["code"], 2242, "the spend was lost: {again}");
    let p: Value = http
        .get(format!("{base}/api/v3/get-profile"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(p["data"]["username"], "alice", "{p}");
    kill_9(&mut child);
}
