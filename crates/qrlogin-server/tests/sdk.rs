//! Authing's own client libraries log in against this server: authing-js-sdk 4.x (G3) and
//! authing-node-sdk (G4), run by Node on tests/sdk/login.mjs, while this test plays the phone;
//! and authing-node-sdk as a company's own mini-program (signInByMobile against a local WeChat
//! stand-in) that approves a desktop's QR.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use qrlogin_server::NewApp;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Node and the SDK packages must be there; say how to get them if not.
fn require_node_and(packages: &[&str]) {
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the SDK test needs Node.js 18+ on PATH (scripts/install-deps.sh installs it): {node:?}"
    );
    for p in packages {
        let dir = repo_root().join("node_modules").join(p);
        assert!(
            dir.is_dir(),
            "{} is missing: run `npm ci` at the repository root (it is a devDependency)",
            dir.display()
        );
    }
}

/// Runs the script, approves its QR as alice when it prints it, and returns its RESULT.
async fn run_sdk(args: &[String]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/login.mjs");
    let mut child = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let run = async {
        while let Some(line) = lines.next_line().await.expect("read") {
            if let Some(qr) = line.strip_prefix("QR ") {
                approve(qr, ALICE, None).await;
            } else if let Some(result) = line.strip_prefix("RESULT ") {
                return serde_json::from_str::<Value>(result).expect("RESULT json");
            } else if line.starts_with("ERROR ") {
                panic!("the SDK failed: {line}");
            }
        }
        panic!("node ended without a RESULT");
    };
    tokio::time::timeout(Duration::from_secs(40), run)
        .await
        .expect("SDK login timed out")
}

#[tokio::test]
async fn authing_js_sdk_4_logs_in_with_g3() {
    require_node_and(&["authing-js-sdk"]);
    // authing-js-sdk's exchangeUserInfo sends no secret (a browser SDK): the app allows it.
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("JS SDK")
    })
    .await;
    let r = run_sdk(&["g3".into(), ts.base.clone(), ts.app.app_id.clone()]).await;
    assert_eq!(r["status"], 2);
    assert_eq!(r["scannedNickname"], "Alice A.");
    assert_eq!(r["username"], "alice");
    let token = r["token"].as_str().expect("token");
    let (_, p) = ts.get("/healthz").await;
    assert_eq!(p["status"], "ok");
    let profile: Value = ts
        .http
        .get(ts.url("/api/v3/get-profile"))
        .bearer_auth(token)
        .send()
        .await
        .expect("profile")
        .json()
        .await
        .expect("json");
    assert_eq!(profile["data"]["username"], "alice");
}

#[tokio::test]
async fn authing_node_sdk_v5_logs_in_with_g4() {
    require_node_and(&["authing-node-sdk"]);
    let ts = start(app("Node SDK")).await;
    let r = run_sdk(&[
        "g4".into(),
        ts.base.clone(),
        ts.app.app_id.clone(),
        ts.app.app_secret.clone(),
    ])
    .await;
    assert_eq!(r["status"], "AUTHORIZED");
    assert_eq!(r["scannedNickname"], "Alice A.");
    assert_eq!(r["username"], "alice");
    assert!(r["expireIn"].as_i64().is_some_and(|s| s > 0));
}

/// Refresh, introspect and revoke with authing-node-sdk's own calls, once per client
/// authentication method it offers.
#[tokio::test]
async fn authing_node_sdk_v5_refreshes_introspects_and_revokes() {
    require_node_and(&["authing-node-sdk"]);
    for method in ["client_secret_post", "client_secret_basic", "none"] {
        // `none` is a public client: its app lets clients exchange without the secret.
        let ts = start(NewApp {
            allow_client_exchange: method == "none",
            ..app("Node SDK")
        })
        .await;
        let secret = if method == "none" {
            "-".to_owned()
        } else {
            ts.app.app_secret.clone()
        };
        let r = run_sdk(&[
            "tokens".into(),
            ts.base.clone(),
            ts.app.app_id.clone(),
            secret,
            method.into(),
        ])
        .await;
        assert_eq!(r["firstHasRefresh"], true, "{method}: {r}");
        assert_eq!(r["rotated"], true, "{method}: {r}");
        assert_eq!(r["refreshedExpiresIn"], 3600, "{method}: {r}");
        assert_eq!(r["live"]["active"], true, "{method}: {r}");
        assert_eq!(r["live"]["username"], "alice", "{method}: {r}");
        assert_eq!(r["live"]["client_id"], ts.app.app_id, "{method}: {r}");
        assert_eq!(
            r["liveRefresh"]["token_type"], "refresh_token",
            "{method}: {r}"
        );
        assert_eq!(r["profileBefore"], "alice", "{method}: {r}");
        assert_eq!(r["revoked"], true, "{method}: {r}");
        assert_eq!(
            r["afterRevoke"],
            serde_json::json!({"active": false}),
            "{method}: {r}"
        );
        assert_eq!(r["profileAfter"]["status"], 401, "{method}: {r}");
        assert_eq!(r["profileAfter"]["body"]["apiCode"], 2020, "{method}: {r}");
        assert_eq!(r["reuse"]["status"], 400, "{method}: {r}");
        assert_eq!(
            r["reuse"]["body"]["error"], "invalid_grant",
            "{method}: {r}"
        );
    }
}

/// Seed 004 end to end: authing-node-sdk's `signInByMobile` with the
/// `wechat_mini_program_code_and_phone` connection (against the local WeChat stand-in) signs a
/// new user in with their verified phone, and that token scans and confirms the desktop's QR;
/// the desktop then signs in as the same user.
#[tokio::test]
async fn authing_node_sdk_signs_in_a_mini_program_that_approves_a_desktop_qr() {
    require_node_and(&["authing-node-sdk"]);
    let wx = common::wechat::WechatStandIn::start("wxsdk0000000001", "sdk-test-secret").await;
    let ts = start_serving(
        app("Desktop"),
        qrlogin_server::ServeOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            rate_limits: qrlogin_server::RateLimits::unlimited(),
            wechat_api_base: Some(wx.base.clone()),
            ..Default::default()
        },
    )
    .await;
    ts.server
        .add_wechat_miniprogram(qrlogin_server::idp::NewIdentitySource {
            id: "company-wxapp".into(),
            app_id: "wxsdk0000000001".into(),
            app_secret: "sdk-test-secret".into(),
            ..Default::default()
        })
        .await
        .expect("source");
    let gene = ts.g4_generate(serde_json::json!({})).await;
    let scan_id = gene["qrContent"]
        .as_str()
        .and_then(|c| c.rsplit('/').next())
        .expect("scan id")
        .to_owned();
    let (code, _) = wx.login("openid-sdk-user");
    let phone_code = wx.phone_code("13600001234", "wxsdk0000000001");
    let r = run_sdk(&[
        "miniprogram".into(),
        ts.base.clone(),
        ts.app.app_id.clone(),
        "company-wxapp".into(),
        code,
        phone_code,
        scan_id,
    ])
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(r["hasRefresh"], true, "{r}");
    assert_eq!(r["phone"], "13600001234", "{r}");
    assert_eq!(r["scan"], 200, "{r}");
    assert_eq!(r["confirm"], 200, "{r}");
    let username = r["username"].as_str().expect("username");
    assert!(username.starts_with("wx_"), "{r}");

    // The desktop's side: authorized by the mini-program's user, and signed in as them.
    let (_, polled) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            gene["qrcodeId"].as_str().expect("qrcodeId")
        ))
        .await;
    assert_eq!(polled["data"]["status"], "AUTHORIZED", "{polled}");
    let (status, tokens) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            serde_json::json!({"ticket": polled["data"]["ticket"]}),
            &[ts.basic()],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let profile: Value = ts
        .http
        .get(ts.url("/api/v3/get-profile"))
        .bearer_auth(tokens["data"]["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("profile")
        .json()
        .await
        .expect("json");
    assert_eq!(profile["data"]["username"], username);
}
