//! State survives a restart: a QR session authorized before the server stopped can still be
//! exchanged after it starts again on the same storage; tokens stay valid.

mod common;

use common::*;
use qrlogin_server::{RateLimits, ServeOptions, Server};
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
