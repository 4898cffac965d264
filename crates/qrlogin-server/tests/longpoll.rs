//! Long-poll (PROTOCOL.md §4.5): held until the status changes, one change wakes every waiter at
//! once, immediate when `known` differs, bounded by `wait`, answered at shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use qrlogin_server::phone::Phone;
use serde_json::{json, Value};

fn check_url(ts: &TestServer, random: &str, q: &str) -> String {
    ts.url(&format!("/api/v2/qrcode/check?random={random}{q}"))
}

#[tokio::test]
async fn a_scan_wakes_every_held_poll_at_once() {
    // Twenty waiters on one session: above the default per-session cap (tests/edge.rs), which
    // this test is not about.
    let ts = start_serving(
        app("Desktop"),
        qrlogin_server::ServeOptions {
            rate_limits: qrlogin_server::RateLimits::unlimited(),
            edge: qrlogin_server::EdgeLimits {
                long_polls_per_session: 20,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().expect("r").to_owned();
    let mut held = Vec::new();
    for i in 0..20 {
        let url = check_url(
            &ts,
            &random,
            if i % 2 == 0 {
                "&wait=25&known=pending"
            } else {
                "&wait=25&known=0"
            },
        );
        let http = ts.http.clone();
        held.push(tokio::spawn(async move {
            let r: Value = http
                .get(url)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            (Instant::now(), r)
        }));
    }
    // They are held: none answers within half a second.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        held.iter().all(|h| !h.is_finished()),
        "a poll answered without a change"
    );
    let woke = Instant::now();
    scan_as(&Phone::new(), d["qrContent"].as_str().expect("qr"), ALICE).await;
    for h in held {
        let (at, r) = h.await.expect("task");
        assert_eq!(r["data"]["status"], 1, "{r}");
        assert!(at.duration_since(woke) < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn a_known_that_differs_answers_at_once_and_wait_bounds_the_hold() {
    let ts = start(app("Desktop")).await;
    let d = ts.g4_generate(json!({})).await;
    let id = d["qrcodeId"].as_str().expect("id");
    let t = Instant::now();
    let (_, r) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={id}&wait=20&known=SCANNED"
        ))
        .await;
    assert_eq!(r["data"]["status"], "PENDING");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "held although known differs"
    );
    let t = Instant::now();
    let (_, r) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={id}&wait=1&known=PENDING"
        ))
        .await;
    assert_eq!(r["data"]["status"], "PENDING");
    let held = t.elapsed();
    assert!(
        held >= Duration::from_millis(900) && held < Duration::from_secs(4),
        "{held:?}"
    );
}

#[tokio::test]
async fn confirm_wakes_a_g4_poll_and_g2_sees_the_same_state() {
    let ts = start(qrlogin_server::NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let d = ts.g4_generate(json!({})).await;
    let id = d["qrcodeId"].as_str().expect("id").to_owned();
    let qr = d["qrContent"].as_str().expect("qr").to_owned();
    let phone = Phone::new();
    let page = scan_as(&phone, &qr, ALICE).await;
    let url = ts.url(&format!(
        "/api/v3/get-qrcode-status?qrcodeId={id}&wait=25&known=scanned"
    ));
    let http = ts.http.clone();
    let waiter = tokio::spawn(async move {
        http.get(url)
            .send()
            .await
            .expect("get")
            .json::<Value>()
            .await
            .expect("json")
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    phone.confirm(&page, None).await.expect("confirm");
    let r = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("not woken")
        .expect("task");
    assert_eq!(r["data"]["status"], "AUTHORIZED");
    // G2 on the same session sees the same canonical state.
    let (_, r) = ts
        .get(&format!(
            "/qrcode/check?qrcodeId={id}&scene=APP_AUTH&wait=25&known=pending"
        ))
        .await;
    assert_eq!(r["data"]["success"], true);
}

#[tokio::test]
async fn shutdown_answers_held_polls() {
    let mut ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let url = check_url(
        &ts,
        d["random"].as_str().expect("r"),
        "&wait=30&known=pending",
    );
    let http = ts.http.clone();
    let waiter = tokio::spawn(async move {
        http.get(url)
            .send()
            .await
            .expect("get")
            .json::<Value>()
            .await
            .expect("json")
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    ts.stop().await;
    let r = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("held poll not answered at shutdown")
        .expect("task");
    assert_eq!(r["data"]["status"], 0);
    assert!(t.elapsed() < Duration::from_secs(5));
}
