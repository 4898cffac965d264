//! G2, "APP 扫码登录" v1: `GET /qrcode/gene`, `GET /qrcode/check` with booleans and status
//! 0/1/-1, the ticket exchange, and the phone's scanned/confirm/cancel by `qrcodeId`.

mod common;

use common::*;
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, QrPayload};
use serde_json::{json, Value};

async fn check(ts: &TestServer, id: &str) -> Value {
    let (_, r) = ts
        .get(&format!("/qrcode/check?qrcodeId={id}&scene=APP_AUTH"))
        .await;
    assert_eq!(r["code"], 200, "{r}");
    r["data"].clone()
}

#[tokio::test]
async fn authing_app_flow_with_json_payload_custom_keys_and_basic_exchange() {
    let ts = start(NewApp {
        qr_payload: QrPayload::AuthingJson,
        ..app("App v1")
    })
    .await;
    let (_, r) = ts
        .get(&format!(
            "/qrcode/gene?scene=APP_AUTH&userPoolId={}&customVar1=xxx",
            ts.app.user_pool_id
        ))
        .await;
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["message"], "生成二维码成功");
    let id = r["data"]["qrcodeId"].as_str().expect("qrcodeId").to_owned();
    assert!(r["data"]["qrcodeUrl"]
        .as_str()
        .is_some_and(|u| u.ends_with(".png")));
    let payload: Value =
        serde_json::from_str(r["data"]["qrContent"].as_str().expect("qr")).expect("json payload");
    assert_eq!(payload["qrcodeId"], id);
    assert_eq!(payload["userDefinedData"]["customVar1"], "xxx");
    assert!(payload["expireAt"].is_string());

    let c = check(&ts, &id).await;
    assert_eq!(
        (
            c["scanned"].clone(),
            c["expired"].clone(),
            c["success"].clone(),
            c["canceled"].clone(),
            c["status"].clone()
        ),
        (
            json!(false),
            json!(false),
            json!(false),
            json!(false),
            json!(0)
        )
    );
    assert_eq!(c["ticket"], "");

    // An Authing app reads qrcodeId from the JSON payload and calls the phone endpoints.
    let token = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("token");
    let auth = [("authorization", token)];
    let (_, r) = ts
        .post_h("/oauth/scan-qrcode/scanned", json!({"qrcodeId": id}), &auth)
        .await;
    assert_eq!(
        (r["code"].clone(), r["data"]["status"].clone()),
        (json!(200), json!(0)),
        "{r}"
    );
    assert_eq!(r["data"]["qrcodeId"], id);
    let c = check(&ts, &id).await;
    assert_eq!(c["scanned"], true);
    assert_eq!(c["status"], 0);
    assert_eq!(c["userInfo"]["nickname"], "Alice A.");
    let (_, r) = ts
        .post_h("/oauth/scan-qrcode/confirm", json!({"qrcodeId": id}), &auth)
        .await;
    assert_eq!(r["data"]["status"], 1, "{r}");
    let c = check(&ts, &id).await;
    assert_eq!(
        (c["success"].clone(), c["status"].clone()),
        (json!(true), json!(1))
    );
    let ticket = c["ticket"].as_str().expect("ticket").to_owned();
    assert!(!ticket.is_empty());

    let (_, r) = ts
        .post_h(
            "/oauth/scan-qrcode/exchangeUserInfoWithTicket",
            json!({"ticket": ticket}),
            &[ts.basic()],
        )
        .await;
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["data"]["username"], "alice");
    assert!(r["data"]["_id"].is_string());
    assert!(r["data"].get("lastIP").is_some());
    assert!(r["data"]["token"].is_string());
}

#[tokio::test]
async fn cancel_shows_in_the_booleans() {
    let ts = start(app("App v1")).await;
    let (_, r) = ts.get("/qrcode/gene?scene=APP_AUTH").await;
    let id = r["data"]["qrcodeId"].as_str().expect("id").to_owned();
    let phone = Phone::new();
    let page = scan_as(&phone, r["data"]["qrContent"].as_str().expect("qr"), BOB).await;
    phone.cancel(&page).await.expect("cancel");
    let c = check(&ts, &id).await;
    assert_eq!(
        (c["canceled"].clone(), c["status"].clone()),
        (json!(true), json!(-1))
    );
}

// A 1 s QR only where no phone must sign in first (see g3.rs).
#[tokio::test]
async fn expiry_shows_in_the_booleans() {
    let ts = start(NewApp {
        qr_ttl_secs: Some(1),
        ..app("App v1")
    })
    .await;
    let (_, r) = ts.get("/qrcode/gene?scene=APP_AUTH").await;
    let id = r["data"]["qrcodeId"].as_str().expect("id").to_owned();
    let (_, r) = ts
        .get(&format!(
            "/qrcode/check?qrcodeId={id}&scene=APP_AUTH&wait=5&known=pending"
        ))
        .await;
    assert_eq!(r["data"]["expired"], true, "{r}");
}

#[tokio::test]
async fn wrong_scene_pool_or_id_are_errors() {
    let ts = start(app("App v1")).await;
    let (_, r) = ts.get("/qrcode/gene?scene=WXAPP_AUTH").await;
    assert_eq!(r["code"], 400);
    let (_, r) = ts.get("/qrcode/gene?scene=APP_AUTH&userPoolId=other").await;
    assert_eq!(r["code"], 400);
    let (code, r) = ts.get("/qrcode/check?qrcodeId=nope&scene=APP_AUTH").await;
    assert_eq!((code, r["code"].clone()), (200, json!(2241)));
    assert_eq!(r["message"], "二维码不存在");
}
