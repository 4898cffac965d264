//! The approval page a person sees on the phone: sign-in form, who is asking, check codes,
//! Confirm/Cancel, languages, escaping, cookies and CSRF.

mod common;

use common::*;
use qrlogin_server::phone::{PageState, Phone, PhoneError};
use qrlogin_server::{NewApp, NewUser};
use serde_json::json;

#[tokio::test]
async fn the_page_shows_app_requester_ip_and_time_then_confirms() {
    let ts = start(app("Acme Desktop")).await;
    let d = ts
        .g3_generate(json!({"requester": {"deviceName": "Kiosk 7", "platform": "linux", "appName": "qrlogin", "appVersion": "0.1.0"}}))
        .await;
    let qr = d["qrContent"].as_str().expect("qr");
    let phone = Phone::new();
    let page = scan_as(&phone, qr, ALICE).await;
    assert_eq!(page.app_name.as_deref(), Some("Acme Desktop"));
    assert_eq!(page.signed_in_as.as_deref(), Some("Alice A."));
    let r = &page.requester;
    assert_eq!(r.device_name.as_deref(), Some("Kiosk 7"));
    assert_eq!(r.platform.as_deref(), Some("linux"));
    assert_eq!(r.app_name.as_deref(), Some("qrlogin"));
    assert_eq!(r.app_version.as_deref(), Some("0.1.0"));
    assert_eq!(r.ip.as_deref(), Some("127.0.0.1"));
    assert!(r.time.as_deref().is_some_and(|t| t.ends_with("UTC")));
    assert!(page.check_code_choices.is_empty());
    // Reopening is idempotent for the scanner.
    let again = phone.open(qr).await.expect("reopen");
    assert_eq!(again.state, PageState::Approve);
    phone.confirm(&again, None).await.expect("confirm");
    let done = phone.open(qr).await.expect("done page");
    assert_eq!(done.state, PageState::Authorized);
    assert!(done.html.contains("返回电脑"));
}

#[tokio::test]
async fn english_by_accept_language_and_chinese_by_default() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let qr = d["qrContent"].as_str().expect("qr");
    let en = Phone::with_accept_language("en-US,en;q=0.9")
        .open(qr)
        .await
        .expect("page");
    assert_eq!(en.lang, "en");
    assert!(en.html.contains("Sign in to continue"));
    let zh = Phone::new().open(qr).await.expect("page");
    assert_eq!(zh.lang, "zh-CN");
    assert!(zh.html.contains("登录以继续"));
}

#[tokio::test]
async fn wrong_password_keeps_the_form_and_scans_nothing() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let phone = Phone::new();
    let page = phone
        .open(d["qrContent"].as_str().expect("qr"))
        .await
        .expect("page");
    match phone.sign_in(&page, "alice", "wrong").await {
        Err(PhoneError::SignInRefused(msg)) => assert!(msg.contains("密码")),
        other => panic!("expected refusal, got {other:?}"),
    }
    assert_eq!(
        ts.g3_status(d["random"].as_str().expect("r")).await["status"],
        0
    );
}

#[tokio::test]
async fn user_strings_are_escaped_in_the_page() {
    let ts = start(app("<b>App</b>")).await;
    ts.server
        .add_user(NewUser {
            username: "mallory".into(),
            password: "mallory-pw".into(),
            nickname: Some("<script>alert(1)</script>".into()),
            ..Default::default()
        })
        .await
        .expect("user");
    let d = ts
        .g3_generate(json!({"requester": {"deviceName": "\"><img src=x onerror=alert(1)>"}}))
        .await;
    let page = scan_as(
        &Phone::new(),
        d["qrContent"].as_str().expect("qr"),
        ("mallory", "mallory-pw"),
    )
    .await;
    assert!(!page.html.contains("<script>alert"));
    assert!(!page.html.contains("<img src=x"));
    assert!(!page.html.contains("<b>App"));
    assert!(page.html.contains("&lt;script&gt;"));
    // ... and the phone reads them back as the person sees them.
    assert_eq!(
        page.signed_in_as.as_deref(),
        Some("<script>alert(1)</script>")
    );
    assert_eq!(
        page.requester.device_name.as_deref(),
        Some("\"><img src=x onerror=alert(1)>")
    );
}

#[tokio::test]
async fn a_wrong_check_code_cancels_the_session() {
    let ts = start(NewApp {
        check_code: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    let right = d["checkCode"].as_str().expect("code").to_owned();
    let phone = Phone::new();
    let page = scan_as(&phone, d["qrContent"].as_str().expect("qr"), ALICE).await;
    let wrong = page
        .check_code_choices
        .iter()
        .find(|c| **c != right)
        .expect("a decoy")
        .clone();
    match phone.confirm(&page, Some(&wrong)).await {
        Err(PhoneError::Rejected { code, .. }) => assert_eq!(code, 403),
        other => panic!("wrong code accepted: {other:?}"),
    }
    assert_eq!(
        ts.g3_status(d["random"].as_str().expect("r")).await["status"],
        3
    );
    // And the right one can no longer confirm.
    assert!(phone.confirm(&page, Some(&right)).await.is_err());
}

#[tokio::test]
async fn cookie_is_httponly_strict_and_cookie_calls_need_the_csrf_header() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let qr = d["qrContent"].as_str().expect("qr");
    let scan = d["scanId"].as_str().expect("scan");
    // Walk the form by hand to see the cookies.
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let first = http.get(qr).send().await.expect("page");
    let csrf_cookie = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("qrl_csrf="))
        .expect("csrf cookie")
        .to_owned();
    let csrf = csrf_cookie
        .trim_start_matches("qrl_csrf=")
        .split(';')
        .next()
        .expect("value")
        .to_owned();
    // A form post without the double-submitted token is refused.
    let r = http
        .post(ts.url(&format!("/s/{scan}/signin")))
        .form(&[
            ("csrf", "forged"),
            ("username", ALICE.0),
            ("password", ALICE.1),
        ])
        .header("cookie", format!("qrl_csrf={csrf}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let r = http
        .post(ts.url(&format!("/s/{scan}/signin")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", ALICE.0),
            ("password", ALICE.1),
        ])
        .header("cookie", format!("qrl_csrf={csrf}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("qrl_session="))
        .expect("session cookie")
        .to_owned();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    let value = session
        .trim_start_matches("qrl_session=")
        .split(';')
        .next()
        .expect("value")
        .to_owned();
    // With the cookie but without the CSRF header, the JSON call is refused.
    let r = http
        .post(ts.url("/api/v3/set-qrcode-status"))
        .header("cookie", format!("qrl_session={value}"))
        .json(&json!({"scanId": scan, "action": "SCAN"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(
        ts.g3_status(d["random"].as_str().expect("r")).await["status"],
        0
    );
}

#[tokio::test]
async fn unknown_scan_id_page_and_assets_and_avatars() {
    let ts = start(app("Desktop")).await;
    let page = Phone::new()
        .open(&ts.url("/s/doesnotexist"))
        .await
        .expect("page");
    assert_eq!(page.state, PageState::Error);
    assert_eq!(page.error_code, Some(2241));
    assert_eq!(page.http_status, 404);
    for (path, ty) in [
        ("/s/assets/phone.js", "text/javascript"),
        ("/s/assets/phone.css", "text/css"),
        ("/avatars/abc.png", "image/png"),
    ] {
        let r = ts.http.get(ts.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with(ty));
    }
}
