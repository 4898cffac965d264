//! Issue 16, server side: RFC 8628 on qrlogin-server. A standard client (Python authlib) signs in
//! through the device endpoints; the user code and `verification_uri_complete` lead to the same
//! approval page; `authorization_pending`, `slow_down`, `access_denied`, `expired_token`; PKCE;
//! our long-poll extension; and user-code guessing costs what a password try costs.

mod common;

use std::time::{Duration, Instant};

use common::*;
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, RateLimits, ServeOptions};
use serde_json::Value;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn form(ts: &TestServer, path: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let r = ts
        .http
        .post(ts.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn authorize(ts: &TestServer, extra: &[(&str, &str)]) -> Value {
    let mut pairs = vec![("client_id", ts.app.app_id.as_str()), ("scope", "openid")];
    pairs.extend_from_slice(extra);
    let (status, v) = form(ts, "/oauth/device_authorization", &pairs).await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn poll(ts: &TestServer, device_code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut pairs = vec![
        ("grant_type", GRANT),
        ("device_code", device_code),
        ("client_id", ts.app.app_id.as_str()),
    ];
    pairs.extend_from_slice(extra);
    form(ts, "/oidc/token", &pairs).await
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[tokio::test]
async fn discovery_lists_the_device_endpoint_and_grant() {
    let ts = start(app("Device")).await;
    let (_, conf) = ts.get("/.well-known/openid-configuration").await;
    assert_eq!(
        s(&conf, "device_authorization_endpoint"),
        ts.url("/oidc/device_authorization")
    );
    assert!(conf["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&GRANT.into()));
    let (_, ours) = ts.get("/.well-known/qrlogin").await;
    assert_eq!(ours["deviceLongPoll"], true);
}

#[tokio::test]
async fn the_authorization_is_rfc_8628_shaped() {
    let ts = start(app("Device")).await;
    let a = authorize(&ts, &[]).await;
    let code = s(&a, "user_code");
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(&code[4..5], "-");
    assert!(code
        .chars()
        .filter(|c| *c != '-')
        .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert_eq!(s(&a, "verification_uri"), ts.url("/device"));
    assert_eq!(
        s(&a, "verification_uri_complete"),
        format!("{}?user_code={code}", ts.url("/device"))
    );
    assert_eq!(a["interval"], 5);
    assert!(a["expires_in"].as_i64().unwrap() > 60);
    assert!(s(&a, "device_code").len() >= 32);
    // The device code is the secret: it is nowhere in what the phone sees.
    assert!(!s(&a, "verification_uri_complete").contains(s(&a, "device_code")));
}

#[tokio::test]
async fn pending_then_approved_gives_a_desktop_session_with_a_refresh_token() {
    let ts = start(app("Device")).await;
    let a = authorize(&ts, &[("device_name", "build-runner-7")]).await;
    let dc = s(&a, "device_code");
    let (status, v) = poll(&ts, dc, &[]).await;
    assert_eq!((status, s(&v, "error")), (400, "authorization_pending"));
    assert_eq!(s(&v, "qrlogin_status"), "pending");

    let phone = Phone::new();
    let page = scan_as(&phone, s(&a, "verification_uri_complete"), ALICE).await;
    // Informed approval: the page names the device that asked.
    assert!(page.html.contains("build-runner-7"), "{}", page.html);
    phone.confirm(&page, None).await.expect("confirm");

    tokio::time::sleep(Duration::from_millis(5100)).await;
    let (status, t) = poll(&ts, dc, &[]).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(s(&t, "token_type"), "Bearer");
    let refresh = s(&t, "refresh_token");
    let (status, me) = ts
        .http
        .get(ts.url("/api/v3/get-profile"))
        .bearer_auth(s(&t, "access_token"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(
        me.pointer("/data/username").and_then(Value::as_str),
        Some("alice")
    );
    // The refresh grant works on it, with client authentication `none`.
    let (status, r) = form(
        &ts,
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", ts.app.app_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{r}");
    // A device code is good once.
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let (status, again) = poll(&ts, dc, &[]).await;
    assert_eq!((status, s(&again, "error")), (400, "invalid_grant"));
}

#[tokio::test]
async fn polling_faster_than_the_interval_gets_slow_down() {
    let ts = start(app("Device")).await;
    let a = authorize(&ts, &[]).await;
    let dc = s(&a, "device_code");
    let (_, first) = poll(&ts, dc, &[]).await;
    assert_eq!(s(&first, "error"), "authorization_pending");
    let (status, second) = poll(&ts, dc, &[]).await;
    assert_eq!(
        (status, s(&second, "error")),
        (400, "slow_down"),
        "{second}"
    );
    assert_eq!(second["interval"], 10);
    // Even once the old interval has passed, the new one holds.
    tokio::time::sleep(Duration::from_millis(5300)).await;
    let (_, third) = poll(&ts, dc, &[]).await;
    assert_eq!(s(&third, "error"), "slow_down", "{third}");
}

#[tokio::test]
async fn a_declined_sign_in_is_access_denied() {
    let ts = start(app("Device")).await;
    let a = authorize(&ts, &[]).await;
    let phone = Phone::new();
    let page = scan_as(&phone, s(&a, "verification_uri_complete"), BOB).await;
    phone.cancel(&page).await.expect("cancel");
    let (status, v) = poll(&ts, s(&a, "device_code"), &[]).await;
    assert_eq!((status, s(&v, "error")), (400, "access_denied"));
}

/// A user code is typed by a person from a screen that shows it once: it must not rotate away
/// like a QR's public id does on an app with `qr_rotate_secs`.
#[tokio::test]
async fn a_user_code_stays_valid_on_an_app_whose_qrs_rotate() {
    let ts = start(NewApp {
        qr_rotate_secs: Some(1),
        ..app("Device")
    })
    .await;
    let a = authorize(&ts, &[]).await;
    // Several rotation periods and the grace after a turn have passed.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let phone = Phone::new();
    let page = scan_as(&phone, s(&a, "verification_uri_complete"), ALICE).await;
    phone.confirm(&page, None).await.expect("confirm");
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let (status, t) = poll(&ts, s(&a, "device_code"), &[]).await;
    assert_eq!(status, 200, "{t}");
}

#[tokio::test]
async fn an_unused_code_runs_out_as_expired_token() {
    let ts = start(NewApp {
        qr_ttl_secs: Some(1),
        ..app("Device")
    })
    .await;
    let a = authorize(&ts, &[]).await;
    assert_eq!(a["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, v) = poll(&ts, s(&a, "device_code"), &[]).await;
    assert_eq!((status, s(&v, "error")), (400, "expired_token"));
}

#[tokio::test]
async fn the_typed_user_code_leads_to_the_same_approval_with_the_code_to_pick() {
    let ts = start(NewApp {
        check_code: true,
        ..app("Device")
    })
    .await;
    let a = authorize(&ts, &[]).await;
    let code = s(&a, "user_code");
    // Typed sloppily on the phone: lower case, a space for the dash.
    let typed = code.to_lowercase().replace('-', " ");
    let phone = Phone::new();
    let url = format!(
        "{}?user_code={}",
        ts.url("/device"),
        typed.replace(' ', "+")
    );
    let page = phone.open(&url).await.expect("open");
    assert_eq!(page.state, PageState::SignIn, "{}", page.html);
    let page = phone
        .sign_in(&page, ALICE.0, ALICE.1)
        .await
        .expect("sign in");
    assert_eq!(page.state, PageState::Approve);
    // The pick is among user codes: the one on the device, and two it does not show.
    assert_eq!(page.check_code_choices.len(), 3);
    assert!(page.check_code_choices.iter().any(|c| c == code));
    phone.confirm(&page, Some(code)).await.expect("confirm");
    let (status, t) = poll(&ts, s(&a, "device_code"), &[]).await;
    assert_eq!(status, 200, "{t}");

    // A code that cannot be one gets the form again, with a message.
    let r = ts
        .http
        .get(ts.url("/device?user_code=hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("WDJB-MJHT"));
}

#[tokio::test]
async fn a_held_token_request_returns_when_the_phone_confirms() {
    let ts = start(app("Device")).await;
    let a = authorize(&ts, &[]).await;
    let dc = s(&a, "device_code").to_owned();
    let qr = s(&a, "verification_uri_complete").to_owned();
    let approver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        approve(&qr, ALICE, None).await;
    });
    let t0 = Instant::now();
    // Pending -> scanned wakes the first hold, scanned -> authorized the second.
    let mut known = "pending".to_owned();
    let token = loop {
        let (status, v) = poll(&ts, &dc, &[("wait", "30"), ("known", &known)]).await;
        if status == 200 {
            break v;
        }
        assert_eq!(s(&v, "error"), "authorization_pending", "{v}");
        known = s(&v, "qrlogin_status").to_owned();
        assert!(t0.elapsed() < Duration::from_secs(10));
    };
    approver.await.unwrap();
    assert!(token["refresh_token"].is_string());
    // Held polls never wait out the interval nor get slow_down.
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn pkce_binds_the_code_to_its_requester() {
    let ts = start(app("Device")).await;
    let (verifier, challenge) = pkce();
    let a = authorize(
        &ts,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    approve(s(&a, "verification_uri_complete"), ALICE, None).await;
    let dc = s(&a, "device_code");
    let (status, v) = poll(&ts, dc, &[]).await;
    assert_eq!((status, s(&v, "error")), (400, "invalid_grant"), "{v}");
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let (status, t) = poll(&ts, dc, &[("code_verifier", &verifier)]).await;
    assert_eq!(status, 200, "{t}");
}

#[tokio::test]
async fn another_clients_device_code_is_unknown() {
    let ts = start(app("Device")).await;
    let other = ts.server.add_app(app("Other")).await.expect("second app");
    let a = authorize(&ts, &[]).await;
    let (status, v) = form(
        &ts,
        "/oidc/token",
        &[
            ("grant_type", GRANT),
            ("device_code", s(&a, "device_code")),
            ("client_id", &other.app_id),
        ],
    )
    .await;
    assert_eq!((status, s(&v, "error")), (400, "invalid_grant"));
}

/// Attack: guess user codes on the approval page. The 34-bit code is safe only because each
/// guess costs a sign-in token (10 a minute per client), not a poll token (600).
#[tokio::test]
async fn guessing_user_codes_is_limited_like_passwords() {
    let ts = start_serving(
        app("Device"),
        ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate_limits: RateLimits::default(),
            ..Default::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..15 {
        // Codes of the right shape that nobody was given.
        let guess = format!("BCDF{:04}", i)
            .replace('0', "G")
            .replace('1', "H")
            .replace('2', "J")
            .replace('3', "K")
            .replace('4', "L")
            .replace('5', "M")
            .replace('6', "N")
            .replace('7', "P")
            .replace('8', "Q")
            .replace('9', "R");
        let r = ts
            .http
            .get(ts.url(&format!("/s/{guess}")))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 404), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
}

/// The standard client: authlib (PyPI) does the whole RFC 8628 flow against our endpoints,
/// then refreshes; the user approves on the phone page from `verification_uri_complete`.
#[tokio::test]
async fn authlib_signs_in_through_our_device_endpoints() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let ts = start(app("Device")).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/py/authlib_device_client.py"
    );
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&ts.base)
        .arg(&ts.app.app_id)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 (scripts/install-deps.sh installs authlib)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value =
        serde_json::from_str(&lines.next_line().await.unwrap().expect("line")).expect("JSON line");
    let auth = &first["authorization"];
    approve(s(auth, "verification_uri_complete"), ALICE, None).await;
    let last = tokio::time::timeout(Duration::from_secs(40), lines.next_line())
        .await
        .expect("authlib finished")
        .unwrap()
        .expect("second line");
    let out: Value = serde_json::from_str(&last).expect("JSON");
    assert!(child.wait().await.unwrap().success(), "{out}");
    assert_eq!(out["refresh_rotated"], true, "{out}");
    let (status, _) = (
        ts.http
            .get(ts.url("/api/v3/get-profile"))
            .bearer_auth(s(&out, "refreshed_access_token"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        (),
    );
    assert_eq!(status, 200);
}
