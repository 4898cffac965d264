//! G4 `/api/v3/*`: gene-qrcode, get- and check-qrcode-status, the token-set exchange (basic and
//! post), set- and change-qrcode-status, signin, get-profile, JWKS, errors as HTTP statuses.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use serde_json::{json, Value};

async fn status(ts: &TestServer, path: &str, id: &str) -> Value {
    let (code, r) = ts.get(&format!("/api/v3/{path}?qrcodeId={id}")).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["statusCode"], 200);
    r["data"].clone()
}

#[tokio::test]
async fn full_login_with_both_status_endpoints_and_a_basic_exchange() {
    let ts = start(app("Desktop")).await;
    let d = ts
        .g4_generate(json!({"customData": {"school": "hust"}}))
        .await;
    let id = d["qrcodeId"].as_str().expect("qrcodeId");
    assert!(d["url"].as_str().is_some_and(|u| u.ends_with(".png")));
    assert!(d.get("customLogoUrl").is_some());
    for path in ["get-qrcode-status", "check-qrcode-status"] {
        assert_eq!(status(&ts, path, id).await["status"], "PENDING");
    }
    let phone = Phone::new();
    let page = scan_as(&phone, d["qrContent"].as_str().expect("qr"), ALICE).await;
    let s = status(&ts, "get-qrcode-status", id).await;
    assert_eq!(s["status"], "SCANNED");
    assert_eq!(s["briefUserInfo"]["displayName"], "Alice A.");
    phone.confirm(&page, None).await.expect("confirm");
    let s = status(&ts, "check-qrcode-status", id).await;
    assert_eq!(s["status"], "AUTHORIZED");
    let ticket = s["ticket"].as_str().expect("ticket");

    let (code, r) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket}),
            &[ts.basic()],
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let set = &r["data"];
    assert_eq!(set["token_type"], "Bearer");
    // Authing's `expire_in` and RFC 6749's `expires_in`: the access lifetime, 1 h by default.
    assert_eq!(set["expire_in"], 3600, "{set}");
    assert_eq!(set["expires_in"], set["expire_in"]);
    assert!(set["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() > 40 && !t.starts_with("eyJ")));
    let access = set["access_token"].as_str().expect("access_token");
    assert!(set["id_token"].is_string());

    // The token is an EdDSA JWT that the published JWKS verifies, for this app.
    let (_, jwks) = ts.get("/.well-known/jwks.json").await;
    let key = &jwks["keys"][0];
    assert_eq!(key["alg"], "EdDSA");
    let dk = DecodingKey::from_ed_components(key["x"].as_str().expect("x")).expect("key");
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_audience(&[&ts.app.app_id]);
    let claims = jsonwebtoken::decode::<Value>(access, &dk, &v).expect("verifies");
    assert_eq!(claims.claims["iss"], ts.base);
    assert!(claims.claims["sub"].is_string());

    // get-profile with and without "Bearer ".
    for auth in [format!("Bearer {access}"), access.to_owned()] {
        let r: Value = ts
            .http
            .get(ts.url("/api/v3/get-profile"))
            .header("authorization", auth)
            .send()
            .await
            .expect("profile")
            .json()
            .await
            .expect("json");
        let p = &r["data"];
        assert_eq!(p["username"], "alice");
        assert_eq!(p["nickname"], "Alice A.");
        assert_eq!(p["email"], "alice@example.com");
        for k in [
            "id",
            "phone",
            "photo",
            "loginsCount",
            "lastLogin",
            "signedUp",
        ] {
            assert!(p.get(k).is_some(), "profile lacks {k}");
        }
    }
}

#[tokio::test]
async fn client_secret_post_exchange_and_set_status_by_qrcode_id() {
    let ts = start(app("Desktop")).await;
    let d = ts.g4_generate(json!({})).await;
    let id = d["qrcodeId"].as_str().expect("id");
    let token = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("token");
    // v5 SDKs send the token without "Bearer ".
    let auth = [("authorization", token)];
    for action in ["SCAN", "CONFIRM"] {
        let (code, r) = ts
            .post_h(
                "/api/v3/set-qrcode-status",
                json!({"qrcodeId": id, "action": action}),
                &auth,
            )
            .await;
        assert_eq!(code, 200, "{r}");
        assert_eq!(r["data"]["success"], true);
    }
    let ticket = status(&ts, "get-qrcode-status", id).await["ticket"].clone();
    let (code, r) = ts
        .post(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket, "client_id": ts.app.app_id, "client_secret": ts.app.app_secret}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert!(r["data"]["access_token"].is_string());
}

#[tokio::test]
async fn change_qrcode_status_answers_without_data_and_cancel_shows_cancelled() {
    let ts = start(app("Desktop")).await;
    let d = ts.g4_generate(json!({})).await;
    let id = d["qrcodeId"].as_str().expect("id");
    let token = Phone::new()
        .sign_in_api(&ts.base, BOB.0, BOB.1)
        .await
        .expect("token");
    let auth = [("authorization", format!("Bearer {token}"))];
    for action in ["SCAN", "CANCEL"] {
        let (code, r) = ts
            .post_h(
                "/api/v3/change-qrcode-status",
                json!({"qrcodeId": id, "action": action}),
                &auth,
            )
            .await;
        assert_eq!(code, 200, "{r}");
        assert_eq!(r["statusCode"], 200);
        assert!(r.get("data").is_none());
    }
    let s = status(&ts, "get-qrcode-status", id).await;
    assert_eq!(s["status"], "CANCELLED");
    assert_eq!(s["briefUserInfo"]["displayName"], "Bob B.");
}

#[tokio::test]
async fn return_full_user_info_gives_a_token_set_instead_of_a_ticket() {
    let ts = start(NewApp {
        return_full_user_info: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g4_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let s = status(
        &ts,
        "get-qrcode-status",
        d["qrcodeId"].as_str().expect("id"),
    )
    .await;
    assert_eq!(s["status"], "AUTHORIZED");
    assert!(s.get("ticket").is_none());
    assert!(s["tokenSet"]["access_token"].is_string());
}

#[tokio::test]
async fn errors_use_http_status_and_api_code_in_the_requested_language() {
    let ts = start(app("Desktop")).await;
    let r = ts
        .http
        .get(ts.url("/api/v3/get-qrcode-status?qrcodeId=nope"))
        .header("x-authing-lang", "en-US")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["statusCode"], 404);
    assert_eq!(body["apiCode"], 2241);
    assert_eq!(body["message"], "QR code does not exist");
    let (code, body) = ts
        .post_h(
            "/api/v3/gene-qrcode",
            json!({"type": "WECHAT_OFFICIAL_ACCOUNT"}),
            &[],
        )
        .await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = ts.get("/api/v3/get-profile").await;
    assert_eq!((code, body["apiCode"].clone()), (401, json!(2020)));
    let (code, body) = ts
        .post(
            "/api/v3/signin",
            json!({"connection": "PASSWORD", "passwordPayload": {"username": "alice", "password": "wrong"}}),
        )
        .await;
    assert_eq!(code, 401, "{body}");
    assert!(body.get("data").is_some_and(Value::is_null));
}

#[tokio::test]
async fn unknown_app_id_is_refused() {
    let ts = start(app("Desktop")).await;
    let r = ts
        .http
        .post(ts.url("/api/v3/gene-qrcode"))
        .header("x-authing-app-id", "000000000000000000000000")
        .json(&json!({"type": "MOBILE_APP"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["apiCode"], 2011);
}

#[tokio::test]
async fn discovery_and_health() {
    let ts = start(app("Desktop")).await;
    let (code, d) = ts.get("/.well-known/qrlogin").await;
    assert_eq!(code, 200);
    assert_eq!(
        d,
        json!({"version":1,"longPoll":true,"pkce":true,"checkCode":true,"requester":true,"scanId":true,"sessions":true,"deviceLongPoll":true,"userCode":true})
    );
    let (code, h) = ts.get("/healthz").await;
    assert_eq!((code, h["status"].clone()), (200, json!("ok")));
}

/// Issue 15 item 3: an app's logo is stored re-encoded and served, named by G3 `customLogo` and
/// G4 `customLogoUrl`; an SVG is refused with a clear error.
#[tokio::test]
async fn the_app_logo_is_served_as_custom_logo_and_custom_logo_url() {
    let mut logo = Vec::new();
    image::RgbaImage::from_pixel(600, 600, image::Rgba([20, 120, 220, 255]))
        .write_to(
            &mut std::io::Cursor::new(&mut logo),
            image::ImageFormat::Png,
        )
        .unwrap();
    let ts = start(qrlogin_server::NewApp {
        logo: Some(logo),
        ..app("With logo")
    })
    .await;
    let r = ts.g4_generate(json!({})).await;
    let url = r["customLogoUrl"]
        .as_str()
        .expect("customLogoUrl")
        .to_owned();
    assert_eq!(url, format!("{}/logos/{}.png", ts.base, ts.app.app_id));
    let g3 = ts.g3_generate(json!({})).await;
    assert_eq!(g3["customLogo"], url);
    let resp = ts.http.get(&url).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/png");
    let served = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (served.width(), served.height()),
        (256, 256),
        "re-encoded, shrunk"
    );

    let e = ts
        .server
        .add_app(qrlogin_server::NewApp {
            logo: Some(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>".to_vec()),
            ..app("Svg")
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("SVG"), "{e}");
    // Without a logo, Authing's empty string.
    let plain = start(app("Plain")).await;
    assert_eq!(plain.g4_generate(json!({})).await["customLogoUrl"], "");
}
