//! Neither the app secret nor a session key reaches a reply or the log of a mini-program
//! sign-in, on success or failure. A test binary of its own: the log capture is the process's
//! global subscriber, so every thread's events are in it and no other test's are.

mod common;

use common::wechat::{encrypt, WechatStandIn};
use common::*;
use qrlogin_server::idp::{LinkMode, NewIdentitySource};
use qrlogin_server::{RateLimits, ServeOptions};
use serde_json::{json, Value};

const APPID: &str = "wxa1b2c3d4e5f60001";
const SECRET: &str = "mini-program-app-secret-0123456789";
const SOURCE: &str = "company-wxapp";

async fn serve_with_wechat_at(base: &str) -> TestServer {
    let ts = start_serving(
        app("Desktop"),
        ServeOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            rate_limits: RateLimits::unlimited(),
            wechat_api_base: Some(base.into()),
            ..Default::default()
        },
    )
    .await;
    ts.server
        .add_wechat_miniprogram(NewIdentitySource {
            id: SOURCE.into(),
            app_id: APPID.into(),
            app_secret: SECRET.into(),
            link: LinkMode::None,
        })
        .await
        .expect("add source");
    ts
}

fn profile(openid: &str, nick: &str, watermark_appid: &str) -> Value {
    json!({"openId": openid, "nickName": nick,
           "watermark": {"timestamp": 1_700_000_000, "appid": watermark_appid}})
}

/// Neither the app secret nor a session key reaches a reply or the log, on success or failure.
#[tokio::test]
async fn no_secret_in_replies_or_logs() {
    let logs = capture_logs();
    let wx = WechatStandIn::start(APPID, SECRET).await;
    let ts = serve_with_wechat_at(&wx.base).await;
    let m = Mini { ts, wx };
    let mut replies = String::new();
    let (code, key) = m.wx.login("openid-s");
    let (data, iv) = encrypt(&key, &profile("openid-s", "S", APPID));
    let (_, ok) = m
        .sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_code",
            "wechatMiniProgramCodePayload": {"code": code, "encryptedData": data, "iv": iv},
        }))
        .await;
    replies.push_str(&ok.to_string());
    let mut keys = vec![key];
    // Failures: a tampered profile, a spent code, a watermark of another app.
    let (code, key) = m.wx.login("openid-s");
    let (data, iv) = encrypt(&key, &profile("openid-s", "S", "wxother"));
    keys.push(key);
    for body in [
        json!({"extIdpConnidentifier": SOURCE, "connection": "wechat_mini_program_code",
               "wechatMiniProgramCodePayload": {"code": code.clone(), "encryptedData": data, "iv": iv}}),
        json!({"extIdpConnidentifier": SOURCE, "connection": "wechat_mini_program_code",
               "wechatMiniProgramCodePayload": {"code": code}}),
    ] {
        let (_, r) = m.sign_in(body).await;
        replies.push_str(&r.to_string());
    }
    // WeChat answering a web page: reqwest's error would name the URL, which has the secret.
    m.wx.garble_next();
    let (code, _) = m.wx.login("openid-s");
    let (status, r) = m
        .sign_in(
            json!({"extIdpConnidentifier": SOURCE, "connection": "wechat_mini_program_code",
                        "wechatMiniProgramCodePayload": {"code": code}}),
        )
        .await;
    assert_eq!(status, 502, "{r}");
    replies.push_str(&r.to_string());
    // WeChat unreachable (a closed port): reqwest's error for a failed send names the URL.
    let cut_off = serve_with_wechat_at("http://127.0.0.1:1").await;
    let (status, r) = cut_off
        .post_h(
            "/api/v3/signin-by-mobile",
            json!({"extIdpConnidentifier": SOURCE, "connection": "wechat_mini_program_code",
                   "wechatMiniProgramCodePayload": {"code": "any"}}),
            &[],
        )
        .await;
    assert_eq!(status, 502, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{r}"
    );
    replies.push_str(&r.to_string());
    // The stand-in did get the secret (that is how WeChat wants it) ...
    assert!(m.wx.queries().iter().any(|q| q.contains(SECRET)));
    let logged = logs.text();
    assert!(
        logged.contains("mini-program sign-in refused"),
        "logs were not captured: {logged}"
    );
    // ... and nothing else did.
    for secret in std::iter::once(SECRET.to_owned()).chain(keys) {
        assert!(
            !replies.contains(&secret),
            "a reply has {secret}: {replies}"
        );
        assert!(!logged.contains(&secret), "the log has {secret}: {logged}");
    }
}

struct Mini {
    ts: TestServer,
    wx: WechatStandIn,
}

impl Mini {
    async fn sign_in(&self, body: Value) -> (u16, Value) {
        self.ts.post_h("/api/v3/signin-by-mobile", body, &[]).await
    }
}

/// Every event of the process, at every level, in a buffer.
fn capture_logs() -> LogBuffer {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    buffer
}

#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
