//! G3 `/api/v2/qrcode/*`: generate, check through every status, userinfo exchange, the phone's
//! scanned/confirm/cancel with a token, messages in both languages, and the QR PNG.

mod common;

use common::*;
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use serde_json::json;

#[tokio::test]
async fn generate_returns_authing_fields_and_our_extensions() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().expect("random");
    assert!(random.len() >= 30);
    assert_eq!(d["expiresIn"], 120);
    let scan_id = d["scanId"].as_str().expect("scanId");
    assert_eq!(d["qrContent"], format!("{}/s/{scan_id}", ts.base));
    assert!(d.get("checkCode").is_none(), "check code off by default");
    // `url` is a PNG of the same QR content.
    let png = ts
        .http
        .get(d["url"].as_str().expect("url"))
        .send()
        .await
        .expect("png");
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.expect("bytes");
    let img = image::load_from_memory(&bytes).expect("png").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().expect("decode");
    assert_eq!(content, d["qrContent"].as_str().expect("qrContent"));
}

#[tokio::test]
async fn check_walks_pending_scanned_authorized_and_userinfo_exchanges() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().expect("random");
    let qr = d["qrContent"].as_str().expect("qr");

    let s = ts.g3_status(random).await;
    assert_eq!(s["status"], 0);
    assert_eq!(s["userInfo"], json!({}));
    assert!(s["ticket"].is_null());

    let phone = Phone::new();
    let page = scan_as(&phone, qr, ALICE).await;
    let s = ts.g3_status(random).await;
    assert_eq!(s["status"], 1);
    assert_eq!(s["userInfo"]["nickname"], "Alice A.");
    assert!(s["userInfo"]["photo"]
        .as_str()
        .is_some_and(|p| p.contains("/avatars/")));
    assert!(s["userInfo"].get("token").is_none());

    phone.confirm(&page, None).await.expect("confirm");
    let s = ts.g3_status(random).await;
    assert_eq!(s["status"], 2);
    let ticket = s["ticket"].as_str().expect("ticket").to_owned();
    assert!(s["userInfo"].get("token").is_none(), "token leaked on poll");

    let (_, r) = ts
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["data"]["username"], "alice");
    assert_eq!(r["data"]["email"], "alice@example.com");
    assert!(r["data"]["id"].is_string());
    assert!(r["data"]["lastIp"].is_string());
    let token = r["data"]["token"].as_str().expect("token");
    // The token opens the profile.
    let p = ts
        .http
        .get(ts.url("/api/v3/get-profile"))
        .bearer_auth(token)
        .send()
        .await
        .expect("profile")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(p["data"]["username"], "alice");
    assert_eq!(p["data"]["loginsCount"], 1);
}

#[tokio::test]
async fn cancel_gives_status_3() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let phone = Phone::new();
    let page = scan_as(&phone, d["qrContent"].as_str().expect("qr"), ALICE).await;
    phone.cancel(&page).await.expect("cancel");
    assert_eq!(
        ts.g3_status(d["random"].as_str().expect("r")).await["status"],
        3
    );
}

// A 1 s QR only where nothing else must happen first: a phone signing in (an Argon2 check in a
// debug build, on a loaded machine) can take longer than that.
#[tokio::test]
async fn expiry_gives_minus_1() {
    let ts = start(NewApp {
        qr_ttl_secs: Some(1),
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().expect("r");
    // Long-poll until the derived expiry shows (no fixed sleep).
    let (_, r) = ts
        .get(&format!(
            "/api/v2/qrcode/check?random={random}&wait=5&known=0"
        ))
        .await;
    assert_eq!(r["data"]["status"], -1, "{r}");
}

#[tokio::test]
async fn unknown_random_is_2241_on_http_200_in_both_languages() {
    let ts = start(app("Desktop")).await;
    let (status, r) = ts.get("/api/v2/qrcode/check?random=doesnotexist").await;
    assert_eq!(status, 200);
    assert_eq!(r["code"], 2241);
    assert_eq!(r["message"], "二维码不存在");
    let r: serde_json::Value = ts
        .http
        .get(ts.url("/api/v2/qrcode/check?random=doesnotexist"))
        .header("x-authing-lang", "en-US")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(r["code"], 2241);
    assert_eq!(r["message"], "QR code does not exist");
}

#[tokio::test]
async fn phone_endpoints_with_a_token_scan_confirm_and_echo_random() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().expect("r");
    let token = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("token");
    let auth = [("authorization", format!("Bearer {token}"))];
    let (_, r) = ts
        .post_h("/api/v2/qrcode/scanned", json!({"random": random}), &auth)
        .await;
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["data"]["status"], 0);
    assert_eq!(r["data"]["random"], random);
    // By scanId the reply does not carry the handle.
    let (_, r) = ts
        .post_h(
            "/api/v2/qrcode/confirm",
            json!({"scanId": d["scanId"]}),
            &auth,
        )
        .await;
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["data"]["status"], 1);
    assert!(r["data"].get("random").is_none());
    assert!(!r.to_string().contains(random));
    assert_eq!(ts.g3_status(random).await["status"], 2);
    // cancel after authorization is refused
    let (_, r) = ts
        .post_h("/api/v2/qrcode/cancel", json!({"random": random}), &auth)
        .await;
    assert_eq!(r["code"], 403, "{r}");
}

#[tokio::test]
async fn phone_endpoint_without_sign_in_is_2020() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let (_, r) = ts
        .post_h(
            "/api/v2/qrcode/scanned",
            json!({"random": d["random"]}),
            &[],
        )
        .await;
    assert_eq!(r["code"], 2020);
    let (_, r) = ts
        .post_h(
            "/api/v2/qrcode/scanned",
            json!({"random": d["random"]}),
            &[("authorization", "Bearer not-a-token".into())],
        )
        .await;
    assert_eq!(r["code"], 2020);
    assert_eq!(
        ts.g3_status(d["random"].as_str().expect("r")).await["status"],
        0
    );
}

#[tokio::test]
async fn return_full_user_info_puts_the_user_and_token_in_the_authorized_poll() {
    let ts = start(NewApp {
        return_full_user_info: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let s = ts.g3_status(d["random"].as_str().expect("r")).await;
    assert_eq!(s["status"], 2);
    assert_eq!(s["userInfo"]["username"], "alice");
    assert!(s["userInfo"]["token"]
        .as_str()
        .is_some_and(|t| t.len() > 20));
}

#[tokio::test]
async fn check_code_is_returned_and_offered_among_three() {
    let ts = start(NewApp {
        check_code: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    let code = d["checkCode"].as_str().expect("checkCode").to_owned();
    assert_eq!(code.len(), 2);
    let phone = Phone::new();
    let page = scan_as(&phone, d["qrContent"].as_str().expect("qr"), ALICE).await;
    assert_eq!(page.check_code_choices.len(), 3);
    assert!(page.check_code_choices.contains(&code));
    phone.confirm(&page, Some(&code)).await.expect("confirm");
    assert_eq!(
        ts.g3_status(d["random"].as_str().expect("r")).await["status"],
        2
    );
}
