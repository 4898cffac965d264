//! G1, the legacy mini-program scan: generate with the client's `random`, poll
//! `confirm/qr` until the inner code is 200 with the user, token and redirect.

mod common;

use common::*;
use qrlogin_server::NewApp;
use serde_json::{json, Value};

async fn poll(ts: &TestServer, random: &str, extra: &str) -> Value {
    let (code, r) = ts
        .post(
            &format!("/oauth/wxapp/confirm/qr?random={random}&useSelfWxapp=false{extra}"),
            json!(null),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["code"], 200, "outer envelope: {r}");
    r["data"].clone()
}

#[tokio::test]
async fn generate_then_poll_until_the_user_arrives_with_pkce() {
    let ts = start(NewApp {
        redirect_url: Some("https://example.com/cb".into()),
        ..app("Legacy")
    })
    .await;
    let random = "UaJe6j5S47pRTLo7";
    let (verifier, challenge) = pkce();
    let (_, r) = ts
        .get(&format!(
            "/oauth/wxapp/qrcode/{}?random={random}&useSelfWxapp=false&enableFetchPhone=false&codeChallenge={challenge}&codeChallengeMethod=S256&deviceName=PC",
            ts.app.app_id
        ))
        .await;
    assert_eq!(r["code"], 200, "{r}");
    let d = &r["data"];
    assert_eq!(d["random"], random);
    assert!(d["qrcode"].as_str().is_some_and(|u| u.ends_with(".png")));
    assert_eq!(d["redirect"], "https://example.com/cb");
    assert!(d["expiredAt"].is_string() && d["success"] == false);
    let qr = d["qrContent"].as_str().expect("qr");
    assert!(!qr.contains(random));

    let inner = poll(&ts, random, "").await;
    assert_eq!(inner["code"], 500);
    assert_eq!(inner["status"], "pending");

    approve(qr, ALICE, None).await;
    // Without the verifier: 2243 and nothing spent.
    let inner = poll(&ts, random, "").await;
    assert_eq!(inner["code"], 2243, "{inner}");
    let inner = poll(&ts, random, &format!("&codeVerifier={verifier}")).await;
    assert_eq!(inner["code"], 200, "{inner}");
    assert_eq!(inner["redirect"], "https://example.com/cb");
    assert_eq!(inner["data"]["username"], "alice");
    assert!(inner["data"]["_id"].is_string());
    assert!(inner["data"]["token"]
        .as_str()
        .is_some_and(|t| t.starts_with("eyJ")));
    // Single use: the next poll does not hand the user out again.
    let inner = poll(&ts, random, &format!("&codeVerifier={verifier}")).await;
    assert_eq!(inner["code"], 2242, "{inner}");
}

#[tokio::test]
async fn pool_id_in_the_path_uses_the_default_app_and_a_missing_random_is_made_for_you() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Legacy")
    })
    .await;
    let (_, r) = ts
        .get(&format!("/oauth/wxapp/qrcode/{}", ts.app.user_pool_id))
        .await;
    assert_eq!(r["code"], 200, "{r}");
    let random = r["data"]["random"].as_str().expect("random").to_owned();
    assert_eq!(r["data"]["client"], ts.app.app_id);
    approve(r["data"]["qrContent"].as_str().expect("qr"), BOB, None).await;
    let inner = poll(&ts, &random, "").await;
    assert_eq!(inner["code"], 200, "{inner}");
    assert_eq!(inner["data"]["nickname"], "Bob B.");
}

#[tokio::test]
async fn bad_and_unknown_randoms_and_unknown_apps_are_errors() {
    let ts = start(app("Legacy")).await;
    let (_, r) = ts
        .get(&format!(
            "/oauth/wxapp/qrcode/{}?random=short",
            ts.app.app_id
        ))
        .await;
    assert_eq!(r["code"], 400, "{r}");
    let (_, r) = ts
        .get("/oauth/wxapp/qrcode/nope?random=abcdefghijklmnop")
        .await;
    assert_eq!(r["code"], 2011, "{r}");
    let inner = poll(&ts, "abcdefghijklmnopq", "").await;
    assert_eq!(inner["code"], 2241);
}

/// Seeds 000/001: the phone number comes with the user only when the desktop asked for it with
/// `enableFetchPhone=true` (Authing's 小登录 mini-program); 身份管家 shares none.
#[tokio::test]
async fn the_phone_number_comes_only_with_enable_fetch_phone() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Legacy")
    })
    .await;
    ts.server
        .add_user(qrlogin_server::NewUser {
            username: "carol".into(),
            password: "carol-password".into(),
            phone: Some("+8613800000000".into()),
            ..Default::default()
        })
        .await
        .expect("add carol");
    for (fetch, phone) in [("true", json!("+8613800000000")), ("false", Value::Null)] {
        let random = format!("FetchPhone{fetch}Xyz12");
        let (_, r) = ts
            .get(&format!(
                "/oauth/wxapp/qrcode/{}?random={random}&enableFetchPhone={fetch}",
                ts.app.app_id
            ))
            .await;
        assert_eq!(r["code"], 200, "{r}");
        approve(
            r["data"]["qrContent"].as_str().expect("qr"),
            ("carol", "carol-password"),
            None,
        )
        .await;
        let inner = poll(&ts, &random, "").await;
        assert_eq!(inner["code"], 200, "{inner}");
        assert_eq!(inner["data"]["username"], "carol");
        assert_eq!(inner["data"]["phone"], phone, "enableFetchPhone={fetch}");
    }
}
