//! The security rules of the issue, one test per rule, named after it. Each fails if its rule
//! is broken.

mod common;

use common::*;
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, QrPayload, RateLimits};
use serde_json::json;

#[tokio::test]
async fn qr_in_url_mode_never_contains_the_handle_and_scan_id_cannot_poll_or_exchange() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let g3 = ts.g3_generate(json!({})).await;
    let g4 = ts.g4_generate(json!({})).await;
    for (d, handle) in [(&g3, "random"), (&g4, "qrcodeId")] {
        let qr = d["qrContent"].as_str().expect("qr");
        let h = d[handle].as_str().expect("handle");
        assert!(!qr.contains(h), "QR {qr} carries the handle");
        let png = ts
            .http
            .get(d["url"].as_str().expect("url"))
            .send()
            .await
            .expect("png")
            .bytes()
            .await
            .expect("bytes");
        let img = image::load_from_memory(&png).expect("png").to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let (_, decoded) = prepared.detect_grids()[0].decode().expect("decode");
        assert!(!decoded.contains(h), "QR image carries the handle");
    }
    // A photo of the QR (the scanId) cannot poll in any generation.
    let scan = g3["scanId"].as_str().expect("scanId");
    let (_, r) = ts.get(&format!("/api/v2/qrcode/check?random={scan}")).await;
    assert_eq!(r["code"], 2241, "{r}");
    let (status, r) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={scan}"))
        .await;
    assert_eq!((status, r["apiCode"].clone()), (404, json!(2241)));
    let (_, r) = ts
        .get(&format!("/qrcode/check?qrcodeId={scan}&scene=APP_AUTH"))
        .await;
    assert_eq!(r["code"], 2241);
    let (_, r) = ts
        .post(&format!("/oauth/wxapp/confirm/qr?random={scan}"), json!({}))
        .await;
    assert_eq!(r["data"]["code"], 2241);
    // ... nor exchange, even after the session is authorized.
    approve(g3["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let (_, r) = ts
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": scan}), &[])
        .await;
    assert_eq!(r["code"], 2242, "{r}");
}

#[tokio::test]
async fn authing_json_payload_carries_the_authing_fields() {
    let ts = start(NewApp {
        qr_payload: QrPayload::AuthingJson,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({"params": {"k": "v"}})).await;
    let payload: serde_json::Value =
        serde_json::from_str(d["qrContent"].as_str().expect("qr")).expect("JSON payload");
    assert_eq!(payload["scene"], "APP_AUTH");
    assert_eq!(payload["random"], d["random"]);
    assert_eq!(payload["userPoolId"], ts.app.user_pool_id);
    assert_eq!(payload["customData"]["k"], "v");
}

#[tokio::test]
async fn tickets_are_single_use_and_a_second_exchange_fails_with_2242() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let ticket = ts.g3_status(d["random"].as_str().expect("r")).await["ticket"].clone();
    let (_, first) = ts
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert_eq!(first["code"], 200, "{first}");
    let (_, second) = ts
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert_eq!(second["code"], 2242, "{second}");
    assert!(second["data"].is_null());
}

#[tokio::test]
async fn tickets_expire() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ticket_ttl_secs: Some(1),
        ..app("Desktop")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let ticket = ts.g3_status(d["random"].as_str().expect("r")).await["ticket"].clone();
    // The ticket lives 1 s; wait it out in a bounded loop rather than a guessed sleep.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, r) = ts
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert!(std::time::Instant::now() < deadline);
    assert_eq!(r["code"], 2242, "expired ticket accepted: {r}");
}

#[tokio::test]
async fn pkce_exchange_without_the_right_verifier_fails_with_2243_and_leaves_the_ticket_usable() {
    let ts = start(app("Desktop")).await;
    let (verifier, challenge) = pkce();
    let d = ts
        .g4_generate(json!({"codeChallenge": challenge, "codeChallengeMethod": "S256"}))
        .await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let (_, s) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            d["qrcodeId"].as_str().expect("id")
        ))
        .await;
    let ticket = s["data"]["ticket"].clone();
    let path = "/api/v3/exchange-tokenset-with-qrcode-ticket";
    let (status, r) = ts.post_h(path, json!({"ticket": ticket}), &[]).await;
    assert_eq!((status, r["apiCode"].clone()), (400, json!(2243)), "{r}");
    let (wrong, _) = pkce();
    let (_, r) = ts
        .post_h(path, json!({"ticket": ticket, "codeVerifier": wrong}), &[])
        .await;
    assert_eq!(r["apiCode"], 2243, "{r}");
    // Even the app secret does not replace the verifier of a bound ticket.
    let (_, r) = ts
        .post_h(
            path,
            json!({"ticket": ticket, "client_id": ts.app.app_id, "client_secret": ts.app.app_secret}),
            &[],
        )
        .await;
    assert_eq!(r["apiCode"], 2243, "{r}");
    // The owner still can.
    let (status, r) = ts
        .post_h(
            path,
            json!({"ticket": ticket, "codeVerifier": verifier}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert!(r["data"]["access_token"].is_string());
}

#[tokio::test]
async fn exchange_with_neither_verifier_nor_secret_fails_unless_the_app_allows_client_exchange() {
    let strict = start(app("Strict")).await;
    let d = strict.g3_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let ticket = strict.g3_status(d["random"].as_str().expect("r")).await["ticket"].clone();
    let (_, r) = strict
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert_eq!(r["code"], 403, "{r}");
    // The refusal spent nothing: with the secret it works.
    let (_, r) = strict
        .post_h(
            "/api/v2/qrcode/userinfo",
            json!({"ticket": ticket}),
            &[strict.basic()],
        )
        .await;
    assert_eq!(r["code"], 200, "{r}");

    let lenient = start(NewApp {
        allow_client_exchange: true,
        ..app("Lenient")
    })
    .await;
    let d = lenient.g3_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let ticket = lenient.g3_status(d["random"].as_str().expect("r")).await["ticket"].clone();
    let (_, r) = lenient
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert_eq!(r["code"], 200, "{r}");
}

#[tokio::test]
async fn a_ticket_of_app_a_cannot_be_exchanged_by_app_b() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("A")
    })
    .await;
    let b = ts
        .server
        .add_app(NewApp {
            allow_client_exchange: true,
            ..app("B")
        })
        .await
        .expect("app B");
    let d = ts.g3_generate(json!({})).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let ticket = ts.g3_status(d["random"].as_str().expect("r")).await["ticket"].clone();
    let b_header = [("x-authing-app-id", b.app_id.clone())];
    let r: serde_json::Value = ts
        .http
        .post(ts.url("/api/v2/qrcode/userinfo"))
        .header(b_header[0].0, &b_header[0].1)
        .json(&json!({"ticket": ticket}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(r["code"], 403, "{r}");
    let (_, r) = ts
        .post(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket, "client_id": b.app_id, "client_secret": b.app_secret}),
        )
        .await;
    assert_eq!(r["apiCode"], 403, "{r}");
    // A's own exchange still works.
    let (_, r) = ts
        .post_h("/api/v2/qrcode/userinfo", json!({"ticket": ticket}), &[])
        .await;
    assert_eq!(r["code"], 200, "{r}");
}

#[tokio::test]
async fn only_a_signed_in_user_can_scan() {
    let ts = start(app("Desktop")).await;
    let d = ts.g4_generate(json!({})).await;
    let (status, r) = ts
        .post(
            "/api/v3/set-qrcode-status",
            json!({"qrcodeId": d["qrcodeId"], "action": "SCAN"}),
        )
        .await;
    assert_eq!((status, r["apiCode"].clone()), (401, json!(2020)), "{r}");
    // Opening the page without signing in shows the sign-in form and scans nothing.
    let page = Phone::new()
        .open(d["qrContent"].as_str().expect("qr"))
        .await
        .expect("page");
    assert_eq!(page.state, PageState::SignIn);
    let (_, s) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            d["qrcodeId"].as_str().expect("id")
        ))
        .await;
    assert_eq!(s["data"]["status"], "PENDING");
}

#[tokio::test]
async fn a_second_user_scanning_the_same_qr_gets_2245() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let qr = d["qrContent"].as_str().expect("qr");
    scan_as(&Phone::new(), qr, ALICE).await;
    let bob = Phone::new();
    let page = bob.open(qr).await.expect("page");
    let page = bob.sign_in(&page, BOB.0, BOB.1).await.expect("sign in");
    assert_eq!(page.state, PageState::Error);
    assert_eq!(page.error_code, Some(2245));
    let token = bob
        .sign_in_api(&ts.base, BOB.0, BOB.1)
        .await
        .expect("token");
    let (_, r) = ts
        .post_h(
            "/api/v2/qrcode/scanned",
            json!({"random": d["random"]}),
            &[("authorization", token)],
        )
        .await;
    assert_eq!(r["code"], 2245, "{r}");
}

#[tokio::test]
async fn only_the_scanner_can_confirm_or_cancel() {
    let ts = start(app("Desktop")).await;
    let d = ts.g4_generate(json!({})).await;
    scan_as(&Phone::new(), d["qrContent"].as_str().expect("qr"), ALICE).await;
    let bob = Phone::new()
        .sign_in_api(&ts.base, BOB.0, BOB.1)
        .await
        .expect("token");
    for action in ["CONFIRM", "CANCEL"] {
        let (status, r) = ts
            .post_h(
                "/api/v3/set-qrcode-status",
                json!({"qrcodeId": d["qrcodeId"], "action": action}),
                &[("authorization", bob.clone())],
            )
            .await;
        assert_eq!(status, 409, "{action}: {r}");
        assert_eq!(r["apiCode"], 2245);
    }
    let (_, s) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            d["qrcodeId"].as_str().expect("id")
        ))
        .await;
    assert_eq!(s["data"]["status"], "SCANNED");
}

#[tokio::test]
async fn nothing_changes_after_expiry_2244() {
    // 4 s: the phone signs in and scans first (an Argon2 check in a debug build on a loaded
    // machine); the long-poll below then answers the moment the QR expires.
    let ts = start(NewApp {
        qr_ttl_secs: Some(4),
        ..app("Desktop")
    })
    .await;
    let d = ts.g4_generate(json!({})).await;
    let qr = d["qrContent"].as_str().expect("qr");
    let id = d["qrcodeId"].as_str().expect("id");
    let phone = Phone::new();
    let page = scan_as(&phone, qr, ALICE).await;
    // Wait for the expiry with a long-poll (answers the moment it happens).
    let (_, s) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={id}&wait=10&known=SCANNED"
        ))
        .await;
    assert_eq!(s["data"]["status"], "EXPIRED");
    match phone.confirm(&page, None).await {
        Err(qrlogin_server::phone::PhoneError::Rejected { code, .. }) => assert_eq!(code, 2244),
        other => panic!("confirm after expiry: {other:?}"),
    }
    let token = phone
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("token");
    let (_, r) = ts
        .post_h(
            "/api/v3/set-qrcode-status",
            json!({"qrcodeId": id, "action": "CANCEL"}),
            &[("authorization", token)],
        )
        .await;
    assert_eq!(r["apiCode"], 2244, "{r}");
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    assert_eq!(s["data"]["status"], "EXPIRED");
}

#[tokio::test]
async fn before_authorization_a_poll_reveals_at_most_nickname_and_photo_and_never_a_token() {
    let ts = start(app("Desktop")).await;
    let g3 = ts.g3_generate(json!({})).await;
    let g4 = ts.g4_generate(json!({})).await;
    let g2 = ts.get("/qrcode/gene?scene=APP_AUTH").await.1["data"].clone();
    for qr in [&g3, &g4, &g2] {
        scan_as(&Phone::new(), qr["qrContent"].as_str().expect("qr"), ALICE).await;
    }
    let s3 = ts.g3_status(g3["random"].as_str().expect("r")).await;
    let keys: Vec<_> = s3["userInfo"]
        .as_object()
        .expect("obj")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["nickname", "photo"]);
    assert!(s3["scannedUserId"].is_null());
    let (_, s4) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            g4["qrcodeId"].as_str().expect("id")
        ))
        .await;
    let keys: Vec<_> = s4["data"]["briefUserInfo"]
        .as_object()
        .expect("obj")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["displayName", "photo"]);
    assert!(s4["data"].get("ticket").is_none() && s4["data"].get("tokenSet").is_none());
    let (_, s2) = ts
        .get(&format!(
            "/qrcode/check?qrcodeId={}&scene=APP_AUTH",
            g2["qrcodeId"].as_str().expect("id")
        ))
        .await;
    let keys: Vec<_> = s2["data"]["userInfo"]
        .as_object()
        .expect("obj")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["nickname", "photo"]);
    for s in [&s3, &s4, &s2] {
        let text = s.to_string();
        assert!(
            !text.contains("alice@example.com") && !text.contains("eyJ"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn with_return_full_user_info_off_an_authorized_poll_never_reveals_a_token() {
    let ts = start(app("Desktop")).await;
    let g3 = ts.g3_generate(json!({})).await;
    let g4 = ts.g4_generate(json!({})).await;
    for qr in [&g3, &g4] {
        approve(qr["qrContent"].as_str().expect("qr"), ALICE, None).await;
    }
    let s3 = ts.g3_status(g3["random"].as_str().expect("r")).await;
    assert_eq!(s3["status"], 2);
    let (_, s4) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            g4["qrcodeId"].as_str().expect("id")
        ))
        .await;
    assert_eq!(s4["data"]["status"], "AUTHORIZED");
    assert!(s4["data"].get("tokenSet").is_none());
    for s in [s3.to_string(), s4.to_string()] {
        assert!(!s.contains("eyJ"), "a JWT in the poll: {s}");
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_on_signin_generate_poll_and_exchange() {
    let ts = start_with(
        app("Desktop"),
        RateLimits {
            signin_per_minute: Some(2),
            generate_per_minute: Some(2),
            poll_per_minute: Some(3),
            exchange_per_minute: Some(2),
        },
    )
    .await;
    async fn burst(
        ts: &TestServer,
        n: usize,
        req: impl Fn() -> reqwest::RequestBuilder,
    ) -> reqwest::Response {
        let _ = ts;
        let mut last = None;
        for _ in 0..n {
            last = Some(req().send().await.expect("send"));
        }
        last.expect("one request")
    }
    let signin = || {
        ts.http.post(ts.url("/api/v3/signin")).json(&json!({
            "connection": "PASSWORD",
            "passwordPayload": {"username": "alice", "password": "guess"}
        }))
    };
    let generate = || {
        ts.http
            .post(ts.url("/api/v2/qrcode/gene"))
            .json(&json!({"scene": "APP_AUTH"}))
    };
    let poll = || ts.http.get(ts.url("/api/v2/qrcode/check?random=guess"));
    let exchange = || {
        ts.http
            .post(ts.url("/api/v2/qrcode/userinfo"))
            .json(&json!({"ticket": "guess"}))
    };
    for (name, n, resp) in [
        ("signin", 3, burst(&ts, 3, signin).await),
        ("generate", 3, burst(&ts, 3, generate).await),
        ("poll", 4, burst(&ts, 4, poll).await),
        ("exchange", 3, burst(&ts, 3, exchange).await),
    ] {
        assert_eq!(resp.status(), 429, "{name} after {n}");
        let retry: u64 = resp.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(retry >= 1, "{name}");
    }
    // The approval page's sign-in form is limited too (same sign-in bucket).
    let d = ts.get("/qrcode/gene?scene=APP_AUTH").await; // generate bucket is empty: 429
    assert_eq!(d.0, 429);
}

#[tokio::test]
async fn passwords_are_hashed_with_argon2id() {
    let ts = start(app("Desktop")).await;
    // All that is stored (on SQLite: the file and its write-ahead log, where recent writes live).
    let text = ts.db.raw_text();
    assert!(text.contains("$argon2id$"), "no argon2id hash stored");
    assert!(!text.contains(ALICE.1), "plain password stored");
    // Wrong password and unknown user answer the same.
    let (_, wrong) = ts
        .post(
            "/api/v3/signin",
            json!({"connection": "PASSWORD", "passwordPayload": {"username": "alice", "password": "nope"}}),
        )
        .await;
    let (_, unknown) = ts
        .post(
            "/api/v3/signin",
            json!({"connection": "PASSWORD", "passwordPayload": {"username": "nobody", "password": "nope"}}),
        )
        .await;
    assert_eq!(wrong["apiCode"], unknown["apiCode"]);
    assert_eq!(wrong["message"], unknown["message"]);
}

#[tokio::test]
async fn responses_carry_no_store_and_the_page_a_strict_csp_and_deny_framing() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    for path in [
        "/healthz".to_owned(),
        format!(
            "/api/v2/qrcode/check?random={}",
            d["random"].as_str().expect("r")
        ),
        "/.well-known/jwks.json".to_owned(),
    ] {
        let r = ts.http.get(ts.url(&path)).send().await.expect("get");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    let r = ts
        .http
        .get(d["qrContent"].as_str().expect("qr"))
        .send()
        .await
        .expect("page");
    let h = r.headers();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-frame-options"], "DENY");
    let csp = h["content-security-policy"].to_str().expect("csp");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    let html = r.text().await.expect("html");
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "inline script or style"
    );
}
