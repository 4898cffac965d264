//! Shared by the HTTP tests: a server on 127.0.0.1:0 over the test's own storage (SQLite in a
//! temporary data directory, or a PostgreSQL database of its own when
//! `QRLOGIN_TEST_DATABASE_URL` is set: see db.rs), with one app and two users, and small helpers
//! that speak the wire like a client would.
#![allow(dead_code)]

pub mod db;
pub mod wechat;
pub use db::TestDb;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use qrlogin_server::phone::{ApprovalPage, PageState, Phone};
use qrlogin_server::{
    AppCredentials, NewApp, NewUser, RateLimits, RunningServer, ServeOptions, Server,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const ALICE: (&str, &str) = ("alice", "alice-password");
pub const BOB: (&str, &str) = ("bob", "bob-password");

pub struct TestServer {
    pub server: Server,
    pub running: Option<RunningServer>,
    pub base: String,
    pub app: AppCredentials,
    pub http: reqwest::Client,
    /// Declared last: the database is dropped after the servers that use it.
    pub db: TestDb,
}

/// One more server over the same storage, as a second instance behind a load balancer would be.
pub struct Instance {
    pub server: Server,
    pub running: RunningServer,
    pub base: String,
}

pub fn app(name: &str) -> NewApp {
    NewApp {
        name: name.into(),
        ..Default::default()
    }
}

pub async fn start(new_app: NewApp) -> TestServer {
    start_with(new_app, RateLimits::unlimited()).await
}

pub async fn start_with(new_app: NewApp, rate_limits: RateLimits) -> TestServer {
    start_serving(
        new_app,
        ServeOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            rate_limits,
            ..Default::default()
        },
    )
    .await
}

/// A test server with these serve options (trusted proxies, edge limits, public URL).
pub async fn start_serving(new_app: NewApp, options: ServeOptions) -> TestServer {
    let db = TestDb::new();
    let server = Server::open(db.open_options()).await.expect("open");
    let app = server.add_app(new_app).await.expect("add app");
    for (u, p, nick) in [(ALICE.0, ALICE.1, "Alice A."), (BOB.0, BOB.1, "Bob B.")] {
        server
            .add_user(NewUser {
                username: u.into(),
                password: p.into(),
                nickname: Some(nick.into()),
                email: Some(format!("{u}@example.com")),
                ..Default::default()
            })
            .await
            .expect("add user");
    }
    let running = server.serve(options).await.expect("serve");
    let base = running.base_url().to_owned();
    qrlogin_server::install_crypto_provider();
    TestServer {
        server,
        running: Some(running),
        base,
        app,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .build()
            .expect("client"),
        db,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A POST with the app's `x-authing-app-id` and optional extra headers.
    pub async fn post_h(
        &self,
        path: &str,
        body: Value,
        headers: &[(&str, String)],
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .post(self.url(path))
            .header("x-authing-app-id", &self.app.app_id)
            .json(&body);
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        let r = rb.send().await.expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub fn basic(&self) -> (&'static str, String) {
        let raw = format!("{}:{}", self.app.app_id, self.app.app_secret);
        (
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ),
        )
    }

    /// G3 generate with the app header; returns `data`.
    pub async fn g3_generate(&self, extra: Value) -> Value {
        let mut body = json!({"autoMergeQrCode": false, "scene": "APP_AUTH", "params": {}});
        merge(&mut body, extra);
        let (status, reply) = self.post_h("/api/v2/qrcode/gene", body, &[]).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["code"], 200, "{reply}");
        reply["data"].clone()
    }

    /// G4 generate with the app header; returns `data`.
    pub async fn g4_generate(&self, extra: Value) -> Value {
        let mut body = json!({"type": "MOBILE_APP"});
        merge(&mut body, extra);
        let (status, reply) = self.post_h("/api/v3/gene-qrcode", body, &[]).await;
        assert_eq!(status, 200, "{reply}");
        reply["data"].clone()
    }

    pub async fn g3_status(&self, random: &str) -> Value {
        let (_, reply) = self
            .get(&format!("/api/v2/qrcode/check?random={random}"))
            .await;
        assert_eq!(reply["code"], 200, "{reply}");
        reply["data"].clone()
    }

    /// Opens and serves a second instance on this test's storage (rate limits off).
    pub async fn another_instance(&self) -> Instance {
        let server = Server::open(self.db.open_options())
            .await
            .expect("open a second instance");
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
        Instance {
            server,
            running,
            base,
        }
    }

    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

pub fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(b), Value::Object(e)) = (base, extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", "x".repeat(50)) + &rand_suffix();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_suffix() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 12)
}

/// Signs a phone in on the page of `qr` (which scans it) and returns the approval page.
pub async fn scan_as(phone: &Phone, qr: &str, who: (&str, &str)) -> ApprovalPage {
    let page = phone.open(qr).await.expect("open page");
    assert_eq!(page.state, PageState::SignIn, "{}", page.html);
    let page = phone.sign_in(&page, who.0, who.1).await.expect("sign in");
    assert_eq!(page.state, PageState::Approve, "{}", page.html);
    page
}

/// A fresh phone signs in as `who`, scans and confirms `qr` (picking the right check code if any).
pub async fn approve(qr: &str, who: (&str, &str), check_code: Option<&str>) {
    let phone = Phone::new();
    let page = scan_as(&phone, qr, who).await;
    phone.confirm(&page, check_code).await.expect("confirm");
}
