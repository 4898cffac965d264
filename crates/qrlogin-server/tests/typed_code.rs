//! A code to type instead of scanning (issue 15 item 7): every QR session has a user code
//! (`WDJB-MJHT`) that `{public-url}/s` takes and continues with as the QR would. Attacks: guessing
//! codes is rate-limited (page and QR image), a code of an ended session is refused, and a typed
//! code does not let a desktop token approve.

mod common;

use std::time::Duration;

use common::*;
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, RateLimits};
use serde_json::{json, Value};

/// The `userCode` and `verificationUri` of a generate reply's `data`.
fn typed(d: &Value) -> (String, String) {
    let code = d["userCode"]
        .as_str()
        .unwrap_or_else(|| panic!("userCode in {d}"));
    let url = d["verificationUri"]
        .as_str()
        .unwrap_or_else(|| panic!("verificationUri in {d}"));
    (code.to_owned(), url.to_owned())
}

fn looks_like_a_user_code(code: &str) {
    let (a, b) = code.split_once('-').unwrap_or_else(|| panic!("{code}"));
    assert_eq!((a.len(), b.len()), (4, 4), "{code}");
    assert!(
        code.chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "unambiguous consonants only: {code}"
    );
}

/// Finds `key` anywhere in a reply (the G1 and G2 envelopes differ).
fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key).or_else(|| m.values().find_map(|x| find(x, key))),
        _ => None,
    }
}

#[tokio::test]
async fn every_generation_hands_out_a_code_and_the_typed_code_signs_in() {
    let ts = start(app("Typed")).await;
    // G1 and G2 replies carry it too.
    let (_, g1) = ts
        .get(&format!(
            "/oauth/wxapp/qrcode/{}?random=abcdefghijklmnop",
            ts.app.app_id
        ))
        .await;
    looks_like_a_user_code(
        find(&g1, "userCode")
            .and_then(Value::as_str)
            .expect("G1 userCode"),
    );
    let (_, g2) = ts
        .get(&format!(
            "/qrcode/gene?scene=APP_AUTH&userPoolId={}",
            ts.app.user_pool_id
        ))
        .await;
    looks_like_a_user_code(
        find(&g2, "userCode")
            .and_then(Value::as_str)
            .expect("G2 userCode"),
    );
    let (_, discovery) = ts.get("/.well-known/qrlogin").await;
    assert_eq!(discovery["userCode"], true, "{discovery}");

    let d = ts
        .g4_generate(json!({"requester": {"deviceName": "Alice's laptop"}}))
        .await;
    let (code, url) = typed(&d);
    looks_like_a_user_code(&code);
    assert_eq!(url, format!("{}/s", ts.base));
    let id = d["qrcodeId"].as_str().unwrap().to_owned();

    // The form at /s, then the code as a person types it: lower case, a space for the dash.
    let phone = Phone::new();
    let form = phone.type_code(&url, "").await.expect("the form");
    assert_eq!(form.state, PageState::EnterCode);
    let sloppy = code.to_lowercase().replace('-', " ");
    let page = phone.type_code(&url, &sloppy).await.expect("the page");
    assert_eq!(page.state, PageState::SignIn, "{}", page.html);
    let page = phone
        .sign_in(&page, ALICE.0, ALICE.1)
        .await
        .expect("sign in");
    // The same informed approval as a QR's.
    assert_eq!(page.state, PageState::Approve, "{}", page.html);
    assert_eq!(
        page.requester.device_name.as_deref(),
        Some("Alice's laptop")
    );
    assert_eq!(page.app_name.as_deref(), Some("Typed"));
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    assert_eq!(s["data"]["status"], "SCANNED", "{s}");
    phone.confirm(&page, None).await.expect("confirm");
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    assert_eq!(s["data"]["status"], "AUTHORIZED", "{s}");
    let ticket = s["data"]["ticket"].as_str().expect("ticket");
    let (status, set) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket}),
            &[ts.basic()],
        )
        .await;
    assert_eq!(status, 200, "{set}");
    assert!(set["data"]["access_token"].as_str().is_some(), "{set}");

    // Not a code at all: the form again, saying why, with what was typed.
    let bad = phone.type_code(&url, "WDJB-MJH").await.expect("the form");
    assert_eq!(bad.state, PageState::EnterCode);
    assert_eq!(bad.http_status, 400);
    assert!(bad
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("WDJB-MJHT")));
}

#[tokio::test]
async fn rotation_does_not_break_a_typed_code_while_the_session_waits() {
    let ts = start(NewApp {
        qr_rotate_secs: Some(1),
        ..app("Rotating")
    })
    .await;
    let d = ts.g3_generate(json!({})).await;
    let (code, url) = typed(&d);
    let random = d["random"].as_str().unwrap().to_owned();
    // Several turns later (and past the grace): the QR changed, the code did not.
    tokio::time::sleep(Duration::from_millis(3_300)).await;
    let s = ts.g3_status(&random).await;
    assert!(s["qrContent"].as_str().is_some(), "the QR turned: {s}");
    let phone = Phone::new();
    let page = phone.type_code(&url, &code).await.expect("page");
    assert_eq!(page.state, PageState::SignIn, "{}", page.html);
    let page = phone
        .sign_in(&page, ALICE.0, ALICE.1)
        .await
        .expect("sign in");
    assert_eq!(page.state, PageState::Approve, "{}", page.html);
    phone.confirm(&page, None).await.expect("confirm");
    assert_eq!(ts.g3_status(&random).await["status"], 2);
}

#[tokio::test]
async fn a_code_of_a_confirmed_cancelled_or_expired_session_is_refused() {
    let ts = start(app("Ended")).await;
    let (_, url) = typed(&ts.g3_generate(json!({})).await);

    // Confirmed by alice; then someone types its code.
    let d = ts.g3_generate(json!({})).await;
    let (confirmed, _) = typed(&d);
    let phone = Phone::new();
    let page = phone.type_code(&url, &confirmed).await.unwrap();
    let page = phone.sign_in(&page, ALICE.0, ALICE.1).await.unwrap();
    phone.confirm(&page, None).await.unwrap();
    let late = Phone::new().type_code(&url, &confirmed).await.unwrap();
    assert_eq!(late.state, PageState::Error, "{}", late.html);
    assert_eq!(late.http_status, 403);

    // Cancelled by alice.
    let d = ts.g3_generate(json!({})).await;
    let (cancelled, _) = typed(&d);
    let page = phone.type_code(&url, &cancelled).await.unwrap();
    assert_eq!(
        page.state,
        PageState::Approve,
        "signed in already: {}",
        page.html
    );
    phone.cancel(&page).await.unwrap();
    let late = Phone::new().type_code(&url, &cancelled).await.unwrap();
    assert_eq!(late.state, PageState::Error, "{}", late.html);

    // Expired (a 1 s QR).
    let short = start(NewApp {
        qr_ttl_secs: Some(1),
        ..app("Short")
    })
    .await;
    let (expired, url) = typed(&short.g3_generate(json!({})).await);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let late = Phone::new().type_code(&url, &expired).await.unwrap();
    assert_eq!(late.state, PageState::Error, "{}", late.html);
    assert_eq!(late.error_code, Some(2244), "{}", late.html);
}

#[tokio::test]
async fn guessing_codes_is_rate_limited_on_the_page_and_the_qr_image() {
    let limits = RateLimits {
        signin_per_minute: Some(5),
        ..RateLimits::unlimited()
    };
    let ts = start_with(app("Guess"), limits).await;
    let (real, url) = typed(&ts.g3_generate(json!({})).await);
    let attacker = Phone::new();
    let mut statuses = Vec::new();
    for i in 0..8 {
        // Well-formed guesses that name no session.
        let guess = format!(
            "BCDF-GH{}",
            ["JK", "JL", "JM", "JN", "JP", "JQ", "JR", "JS"][i]
        );
        let page = attacker.type_code(&url, &guess).await.expect("a page");
        statuses.push(page.http_status);
    }
    assert_eq!(&statuses[..5], &[404; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    // Over the limit even the right code waits: a lucky guess cannot be told apart.
    let page = attacker.type_code(&url, &real).await.unwrap();
    assert_eq!(page.http_status, 429);

    // The QR image of a code is charged too (else it would be a free oracle).
    let other = start_with(app("Guess2"), limits).await;
    let (real, _) = typed(&other.g3_generate(json!({})).await);
    let mut codes = Vec::new();
    for _ in 0..6 {
        let r = other
            .http
            .get(other.url(&format!("/qrcode/{}.png", real.replace('-', ""))))
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes.last(), Some(&429), "{codes:?}");
}

#[tokio::test]
async fn a_typed_code_does_not_let_a_desktop_token_approve() {
    let ts = start(app("Approvers")).await;
    // A desktop signed in through a QR: its token must never approve (PROTOCOL.md §4.6).
    let d = ts.g4_generate(json!({})).await;
    approve(d["qrContent"].as_str().unwrap(), ALICE, None).await;
    let id = d["qrcodeId"].as_str().unwrap();
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    let ticket = s["data"]["ticket"].as_str().unwrap();
    let (_, set) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket}),
            &[ts.basic()],
        )
        .await;
    let desktop = set["data"]["access_token"].as_str().unwrap().to_owned();

    let d = ts.g4_generate(json!({})).await;
    let (code, url) = typed(&d);
    let victim = d["qrcodeId"].as_str().unwrap().to_owned();
    let auth = [("authorization", format!("Bearer {desktop}"))];
    for action in ["SCAN", "CONFIRM"] {
        let (status, r) = ts
            .post_h(
                "/api/v3/set-qrcode-status",
                json!({"scanId": code, "action": action}),
                &auth,
            )
            .await;
        assert_eq!(status, 403, "{action}: {r}");
    }
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={victim}"))
        .await;
    assert_eq!(s["data"]["status"], "PENDING", "{s}");
    // The same call with a phone session's token and the code as shown does scan (so the
    // refusal above is the approver rule, not an unknown code).
    let d2 = ts.g4_generate(json!({})).await;
    let (code2, _) = typed(&d2);
    let alice_token = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .unwrap();
    let (status, r) = ts
        .post_h(
            "/api/v3/set-qrcode-status",
            json!({"scanId": code2, "action": "SCAN"}),
            &[("authorization", format!("Bearer {alice_token}"))],
        )
        .await;
    assert_eq!(status, 200, "{r}");

    // Scanned by alice through the code: bob, typing it too, can neither take it nor confirm.
    let alice = Phone::new();
    let page = alice.type_code(&url, &code).await.unwrap();
    let page = alice.sign_in(&page, ALICE.0, ALICE.1).await.unwrap();
    assert_eq!(page.state, PageState::Approve);
    let bob = Phone::new();
    let page = bob.type_code(&url, &code).await.unwrap();
    let bobs = bob.sign_in(&page, BOB.0, BOB.1).await.unwrap();
    assert_eq!(bobs.state, PageState::Error, "{}", bobs.html);
    assert_eq!(bobs.error_code, Some(2245));
    let bob_token = Phone::new()
        .sign_in_api(&ts.base, BOB.0, BOB.1)
        .await
        .unwrap();
    let (_, r) = ts
        .post_h(
            "/api/v3/set-qrcode-status",
            json!({"scanId": code, "action": "CONFIRM"}),
            &[("authorization", format!("Bearer {bob_token}"))],
        )
        .await;
    assert_eq!(r["apiCode"], 2245, "only the scanner decides: {r}");
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={victim}"))
        .await;
    assert_eq!(s["data"]["status"], "SCANNED", "{s}");
}
