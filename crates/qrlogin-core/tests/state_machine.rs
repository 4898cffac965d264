//! The login session's state machine against a scripted in-memory server, in paused tokio time:
//! poll pacing, expiry and refresh caps, cancel, back-off through outages, 429, timeouts,
//! malformed replies, PKCE and every generation's success path. No test sleeps for real.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use qrlogin_core::error::ErrorKind;
use qrlogin_core::failure::Problem;
use qrlogin_core::http::HttpReply;
use qrlogin_core::tips::Lang;
use qrlogin_core::{DialectId, LoginEvent};
use serde_json::json;

const LONG: Duration = Duration::from_secs(3600);

fn v2_generate(random: &str, ttl: u64) -> Scripted {
    json(
        json!({"code": 200, "data": {"random": random, "url": "http://fake.test/q.png", "expiresIn": ttl}}),
    )
}

fn v2_status(status: i64) -> Scripted {
    json(json!({"code": 200, "message": "ok", "data": {"status": status, "userInfo": {}}}))
}

fn v2_user() -> Scripted {
    json(
        json!({"code": 200, "message": "ok", "data": {"id": "u1", "username": "alice",
        "nickname": "Alice", "email": "a@x.test", "photo": null, "token": "tok-1",
        "tokenExpiredAt": "2023-11-15T00:00:00.000Z"}}),
    )
}

#[tokio::test(start_paused = true)]
async fn v2_happy_path_paces_polls_and_exchanges_with_the_secret() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R1", 120),
        "/api/v2/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => v2_status(0),
            2 | 3 => json(json!({"code": 200, "data": {"status": 1,
                "userInfo": {"nickname": "Ann", "photo": "http://fake.test/a.png"}}})),
            _ => json(
                json!({"code": 200, "data": {"status": 2, "ticket": "TICKET",
                "userInfo": {"nickname": "Ann"}}}),
            ),
        },
        "/api/v2/qrcode/userinfo" => v2_user(),
        other => panic!("unexpected {other}"),
    });
    let mut cfg = config(DialectId::G3);
    cfg.app_secret = Some("s3cret".into());
    let events = Events::default();
    let mut s = start(client(&fake, cfg), options(), &events);
    run_to_end(&mut s, LONG).await;

    assert_eq!(
        events.names(),
        ["starting", "qrReady", "scanned", "authorized", "loggedIn"],
        "one scanned event although the scan was seen twice"
    );
    let all = events.all();
    let LoginEvent::QrReady {
        text,
        svg,
        png,
        expires_at,
        ttl_ms,
        generation,
        ..
    } = &all[1]
    else {
        panic!()
    };
    // Authing gave no qrContent: the QR carries Authing's G3 JSON payload.
    let payload: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(payload["random"], "R1");
    assert_eq!(payload["scene"], "APP_AUTH");
    assert_eq!(payload["userPoolId"], "pool1");
    assert!(svg.starts_with("data:image/svg+xml") && png.starts_with("data:image/png"));
    assert_eq!((*ttl_ms, *generation), (120_000, 1));
    assert_eq!(*expires_at, EPOCH_MS + 120_000);
    let LoginEvent::Scanned {
        nickname, avatar, ..
    } = &all[2]
    else {
        panic!()
    };
    assert_eq!((nickname.as_deref(), avatar), (Some("Ann"), &None));
    let LoginEvent::LoggedIn {
        profile, session, ..
    } = &all[4]
    else {
        panic!()
    };
    assert_eq!(profile.id, "u1");
    assert_eq!(profile.username.as_deref(), Some("alice"));
    assert_eq!(session.token.expose(), "tok-1");
    assert_eq!(profile.expires_at, Some(1_700_006_400_000));

    // Sequential polls, 800 ms apart (G3 default), never two in flight.
    let checks = fake.requests("/api/v2/qrcode/check");
    assert_eq!(checks.len(), 5);
    for w in checks.windows(2) {
        assert_eq!(w[1].0 - w[0].0, Duration::from_millis(800));
    }
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1);
    assert!(
        checks.iter().all(|(_, r)| r.query("wait").is_none()),
        "no long-poll on Authing"
    );
    let ex = &fake.requests("/api/v2/qrcode/userinfo")[0].1;
    assert_eq!(ex.header("authorization"), Some("Basic YXBwMTpzM2NyZXQ="));
    assert_eq!(ex.json().unwrap()["ticket"], "TICKET");
    assert_eq!(ex.header("x-authing-app-id"), Some("app1"));
    assert!(s.is_finished());
}

#[tokio::test(start_paused = true)]
async fn expiry_refreshes_up_to_the_cap_then_stops() {
    let gens = Arc::new(AtomicU32::new(0));
    let g = gens.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate(&format!("R{}", g.fetch_add(1, Ordering::SeqCst)), 5),
        "/api/v2/qrcode/check" => {
            // Pending, then expired once the QR is 5 s old.
            let polls = 0;
            let _ = polls;
            v2_status(if req.query("random").is_some() { -1 } else { 0 })
        }
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(2),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "expired", "qrReady", "expired", "qrReady", "expired"]
    );
    let refreshing: Vec<bool> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            LoginEvent::Expired { refreshing, .. } => Some(*refreshing),
            _ => None,
        })
        .collect();
    assert_eq!(refreshing, [true, true, false]);
    let generations: Vec<u32> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            LoginEvent::QrReady { generation, .. } => Some(*generation),
            _ => None,
        })
        .collect();
    assert_eq!(generations, [1, 2, 3]);
    assert_eq!(gens.load(Ordering::SeqCst), 3);
    assert!(s.is_finished());
}

#[tokio::test(start_paused = true)]
async fn unlimited_refresh_for_kiosks() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R", 5),
        _ => v2_status(-1),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: None,
        ..options()
    };
    let s = start(client(&fake, config(DialectId::G3)), opts, &events);
    events
        .wait_for(LONG, |e| {
            matches!(e, LoginEvent::QrReady { generation: 20, .. })
        })
        .await;
    assert!(!s.is_finished());
    assert!(events.all().iter().all(|e| !e.is_terminal()));
}

#[tokio::test(start_paused = true)]
async fn local_expiry_when_the_server_never_says_so_g1() {
    // Authing's G1 never reports expiry: the client ends the QR at expiresAt + grace.
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        p if p.starts_with("/oauth/wxapp/qrcode/") => json(json!({"code": 200, "data": {
            "qrcode": "http://fake.test/q.png", "qrContent": "http://fake.test/s/abc",
            "createdAt": "2018-07-16T12:55:03.000Z", "expiredAt": "2018-07-16T12:56:03.000Z"}})),
        "/oauth/wxapp/confirm/qr" => {
            json(json!({"code": 200, "data": {"code": 500, "message": "not yet"}}))
        }
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(0),
        ..options()
    };
    let start_at = tokio::time::Instant::now();
    let mut s = start(client(&fake, config(DialectId::G1)), opts, &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(events.names(), ["starting", "qrReady", "expired"]);
    let (at, _) = events.timed()[2].clone();
    assert!(at - start_at >= Duration::from_secs(62) && at - start_at < Duration::from_secs(64));
    let polls = fake.requests("/oauth/wxapp/confirm/qr");
    for w in polls.windows(2) {
        assert_eq!(
            w[1].0 - w[0].0,
            Duration::from_millis(1500),
            "G1 polls every 1500 ms"
        );
    }
    let random = polls[0].1.query("random").unwrap();
    assert!((12..=24).contains(&random.len()) && random.chars().all(|c| c.is_ascii_alphanumeric()));
    let gene = &fake.log.lock().unwrap()[1].1;
    assert_eq!(gene.query("random").as_deref(), Some(random.as_str()));
}

#[tokio::test(start_paused = true)]
async fn cancel_from_the_phone_pauses_then_shows_a_new_qr() {
    let gens = Arc::new(AtomicU32::new(0));
    let g = gens.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => {
            let n = g.fetch_add(1, Ordering::SeqCst);
            v2_generate(&format!("R{n}"), 120)
        }
        "/api/v2/qrcode/check" => match req.query("random").as_deref() {
            Some("R0") => v2_status(3),
            _ => v2_status(0),
        },
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let _s = start(client(&fake, config(DialectId::G3)), options(), &events);
    events
        .wait_for(LONG, |e| {
            matches!(e, LoginEvent::QrReady { generation: 2, .. })
        })
        .await;
    let timed = events.timed();
    assert_eq!(
        &events.names()[..4],
        ["starting", "qrReady", "cancelled", "qrReady"]
    );
    assert!(matches!(
        timed[2].1,
        LoginEvent::Cancelled {
            refreshing: true,
            ..
        }
    ));
    assert!(
        timed[3].0 - timed[2].0 >= Duration::from_secs(2),
        "the cancelled tip shows 2 s"
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_at_the_cap_stops() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R", 120),
        _ => v2_status(3),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(0),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(events.names(), ["starting", "qrReady", "cancelled"]);
    assert!(events.all()[2].is_terminal());
}

#[tokio::test(start_paused = true)]
async fn network_errors_back_off_then_the_same_qr_continues() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R1", 120),
        "/api/v2/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            0 => v2_status(0),
            1..=4 => Scripted::NetErr,
            5 => v2_status(0),
            _ => json(
                json!({"code": 200, "data": {"status": 2, "userInfo": {"id": "u1", "token": "tok"}}}),
            ),
        },
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G3)), options(), &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        [
            "starting",
            "qrReady",
            "retrying",
            "retrying",
            "retrying",
            "retrying",
            "qrReady",
            "authorized",
            "loggedIn"
        ]
    );
    let all = events.all();
    let LoginEvent::Retrying {
        kind,
        problem,
        background,
        ..
    } = &all[2]
    else {
        panic!()
    };
    assert_eq!(
        (*kind, *problem, *background),
        (ErrorKind::Network, Problem::Unreachable, false)
    );
    let delays: Vec<(u32, u64)> = all
        .iter()
        .filter_map(|e| match e {
            LoginEvent::Retrying {
                attempt, delay_ms, ..
            } => Some((*attempt, *delay_ms)),
            _ => None,
        })
        .collect();
    for (i, (attempt, delay)) in delays.iter().enumerate() {
        let base = 1000u64 << i;
        assert_eq!(*attempt, i as u32 + 1);
        assert!(
            *delay >= base * 8 / 10 && *delay <= base * 12 / 10,
            "{delays:?}"
        );
    }
    // The same QR is shown again (generation 1), not a new one.
    assert_eq!(all[1], all[6]);
    assert_eq!(fake.requests("/api/v2/qrcode/gene").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn kiosk_retries_forever_with_backoff_capped_at_30_s() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        _ => Scripted::NetErr,
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        visible_retries: None,
        ..options()
    };
    let _s = start(client(&fake, config(DialectId::G3)), opts, &events);
    events
        .wait_for(Duration::from_secs(6 * 3600), |e| {
            matches!(e, LoginEvent::Retrying { attempt: 200, .. })
        })
        .await;
    let all = events.all();
    assert!(
        !all.iter().any(|e| e.name() == "failed"),
        "a kiosk never stops at a retry button"
    );
    for e in &all {
        if let LoginEvent::Retrying {
            delay_ms,
            background,
            ..
        } = e
        {
            assert!(*delay_ms <= 30_000 && !background);
        }
    }
    assert!(
        matches!(all.last(), Some(LoginEvent::Retrying { delay_ms, .. }) if *delay_ms >= 24_000)
    );
}

#[tokio::test(start_paused = true)]
async fn desktop_offers_retry_after_the_visible_retries_and_keeps_trying_slowly() {
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let d = down.clone();
    let fake = Fake::new(move |req| {
        if d.load(Ordering::SeqCst) {
            return Scripted::NetErr;
        }
        match req.url.path() {
            "/.well-known/qrlogin" => not_found(),
            "/api/v2/qrcode/gene" => v2_generate("R1", 120),
            _ => v2_status(0),
        }
    });
    let events = Events::default();
    let _s = start(client(&fake, config(DialectId::G3)), options(), &events);
    events
        .wait_for(LONG, |e| {
            matches!(e, LoginEvent::Retrying { attempt: 9, .. })
        })
        .await;
    let all = events.all();
    let names: Vec<&str> = all.iter().map(LoginEvent::name).collect();
    // 6 visible retries, then the retry button (one `failed`), then slow background retries.
    assert_eq!(
        names[..10],
        [
            "starting", "retrying", "retrying", "retrying", "retrying", "retrying", "retrying",
            "failed", "retrying", "retrying"
        ]
    );
    let LoginEvent::Failed {
        retryable, problem, ..
    } = &all[7]
    else {
        panic!()
    };
    assert!(*retryable);
    assert_eq!(*problem, Problem::Unreachable);
    for (i, e) in all.iter().enumerate() {
        if let LoginEvent::Retrying {
            delay_ms,
            background,
            ..
        } = e
        {
            if i < 7 {
                assert!(!background && *delay_ms <= 30_000, "{e:?}");
            } else {
                assert!(*background && (48_000..=72_000).contains(delay_ms), "{e:?}");
            }
        }
    }
    // The server comes back: the QR comes back by itself, nobody pressed Retry.
    down.store(false, Ordering::SeqCst);
    let qr = events
        .wait_for(Duration::from_secs(90), |e| e.name() == "qrReady")
        .await;
    assert!(matches!(qr, LoginEvent::QrReady { generation: 1, .. }));
}

#[tokio::test(start_paused = true)]
async fn outage_longer_than_the_qr_makes_a_new_qr_when_back() {
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gens = Arc::new(AtomicU32::new(0));
    let (d, g) = (down.clone(), gens.clone());
    let fake = Fake::new(move |req| {
        if d.load(Ordering::SeqCst) {
            return Scripted::NetErr;
        }
        match req.url.path() {
            "/.well-known/qrlogin" => not_found(),
            "/api/v2/qrcode/gene" => {
                let n = g.fetch_add(1, Ordering::SeqCst);
                v2_generate(&format!("R{n}"), 10)
            }
            "/api/v2/qrcode/check" => match req.query("random").as_deref() {
                Some("R0") => v2_status(0),
                _ => json(
                    json!({"code": 200, "data": {"status": 2, "userInfo": {"id": "u1", "token": "tok"}}}),
                ),
            },
            other => panic!("unexpected {other}"),
        }
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G3)), options(), &events);
    events.wait_for(LONG, |e| e.name() == "qrReady").await;
    down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(40)).await;
    down.store(false, Ordering::SeqCst);
    run_to_end(&mut s, LONG).await;
    let names = events.names();
    assert!(
        !names.contains(&"expired"),
        "no expired event during an outage: {names:?}"
    );
    let gens_seen: Vec<u32> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            LoginEvent::QrReady { generation, .. } => Some(*generation),
            _ => None,
        })
        .collect();
    assert_eq!(gens_seen, [1, 2]);
    assert_eq!(names.last(), Some(&"loggedIn"));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_honours_retry_after() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R1", 120),
        "/api/v2/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            0 => Scripted::Reply(HttpReply {
                status: 429,
                retry_after: Some(Duration::from_secs(7)),
                body: br#"{"code":429,"message":"too many"}"#.to_vec(),
            }),
            _ => v2_status(3),
        },
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(0),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    run_to_end(&mut s, LONG).await;
    let all = events.all();
    assert!(
        all.iter()
            .any(|e| matches!(e, LoginEvent::Retrying { delay_ms: 7000, .. })),
        "{all:?}"
    );
    let checks = fake.requests("/api/v2/qrcode/check");
    assert_eq!(checks[1].0 - checks[0].0, Duration::from_secs(7));
    assert!(matches!(
        &all[2],
        LoginEvent::Retrying {
            kind: ErrorKind::Server,
            problem: Problem::RateLimited,
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_backoff_cap_is_capped() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R1", 600),
        "/api/v2/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            0 => Scripted::Reply(HttpReply {
                status: 429,
                retry_after: Some(Duration::from_secs(3600)),
                body: br#"{"code":429,"message":"too many"}"#.to_vec(),
            }),
            _ => v2_status(3),
        },
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(0),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    run_to_end(&mut s, LONG).await;
    let checks = fake.requests("/api/v2/qrcode/check");
    assert_eq!(
        checks[1].0 - checks[0].0,
        Duration::from_secs(30),
        "an hour-long Retry-After must not leave a kiosk dark for an hour"
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_times_out_after_10_s_and_is_retried() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R1", 120),
        "/api/v2/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            0 => Scripted::Hang,
            _ => v2_status(3),
        },
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(0),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "retrying", "qrReady", "cancelled"]
    );
    let timed = events.timed();
    assert_eq!(timed[2].0 - timed[1].0, Duration::from_secs(10));
    let LoginEvent::Retrying { problem, .. } = &timed[2].1 else {
        panic!()
    };
    assert_eq!(*problem, Problem::Timeout);
}

#[tokio::test(start_paused = true)]
async fn malformed_and_oversized_replies_are_retried_then_the_login_goes_on() {
    let mut bad_utf8 = br#"{"code":200,"data":{"status":""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(br#""}}"#);
    for (body, want) in [
        (b"<html>gateway</html>".to_vec(), Problem::WebPage),
        (b"service unavailable".to_vec(), Problem::NotJson),
        (
            br#"{"code":200,"data":{"status": 1, "us"#.to_vec(),
            Problem::Truncated,
        ),
        (bad_utf8, Problem::NotText),
        (
            br#"{"code":200,"data":{"status":"weird"}}"#.to_vec(),
            Problem::Incomplete,
        ),
        (b"".to_vec(), Problem::Empty),
        (vec![b' '; 1024 * 1024 + 1], Problem::TooLarge),
    ] {
        let polls = Arc::new(AtomicU32::new(0));
        let p = polls.clone();
        let b = body.clone();
        let fake = Fake::new(move |req| match req.url.path() {
            "/.well-known/qrlogin" => not_found(),
            "/api/v2/qrcode/gene" => v2_generate("R1", 120),
            _ => match p.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Scripted::Reply(HttpReply {
                    status: 200,
                    retry_after: None,
                    body: b.clone(),
                }),
                _ => json(
                    json!({"code": 200, "data": {"status": 2, "userInfo": {"id": "u1", "token": "tok"}}}),
                ),
            },
        });
        let events = Events::default();
        let mut s = start(client(&fake, config(DialectId::G3)), options(), &events);
        run_to_end(&mut s, LONG).await;
        let all = events.all();
        assert_eq!(
            events.names(),
            [
                "starting",
                "qrReady",
                "retrying",
                "retrying",
                "retrying",
                "qrReady",
                "authorized",
                "loggedIn"
            ],
            "{want:?}"
        );
        let LoginEvent::Retrying {
            problem, message, ..
        } = &all[2]
        else {
            panic!()
        };
        assert_eq!(*problem, want);
        assert!(!message.is_empty() && !message.contains("gateway") && !message.contains("weird"));
    }
}

#[tokio::test(start_paused = true)]
async fn qr_missing_2241_means_a_new_qr() {
    let gens = Arc::new(AtomicU32::new(0));
    let g = gens.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => {
            v2_generate(&format!("R{}", g.fetch_add(1, Ordering::SeqCst)), 120)
        }
        _ => match req.query("random").as_deref() {
            Some("R0") => json(json!({"code": 2241, "message": "二维码不存在", "data": null})),
            _ => v2_status(3),
        },
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(1),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "expired", "qrReady", "cancelled"]
    );
}

#[tokio::test(start_paused = true)]
async fn other_business_errors_end_the_attempt() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => {
            json(json!({"code": 2224, "message": "用户池不存在", "data": null}))
        }
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G3)), options(), &events);
    run_to_end(&mut s, LONG).await;
    let all = events.all();
    let LoginEvent::Failed {
        kind,
        message,
        retryable,
        tip_html,
        ..
    } = &all[1]
    else {
        panic!("{all:?}")
    };
    // A definite answer: the attempt ends, saying what to fix, in our words.
    assert_eq!(*kind, ErrorKind::Config);
    assert!(
        message.contains("2224") && message.contains("server.user_pool_id"),
        "{message}"
    );
    assert!(!*retryable, "retrying does not fix a config");
    assert!(!message.contains("用户池不存在") && !tip_html.contains("用户池不存在"));
    assert_eq!(
        *tip_html,
        qrlogin_core::tips::Tips::default().get(qrlogin_core::tips::TipKey::Failed, Lang::ZhCn)
    );
}

#[tokio::test(start_paused = true)]
async fn long_poll_when_announced_with_pkce_and_requester() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => json(json!({"version": 1, "longPoll": true, "pkce": true,
            "checkCode": true, "requester": true, "scanId": true})),
        "/api/v2/qrcode/gene" => json(
            json!({"code": 200, "data": {"random": "R1", "url": "http://fake.test/q.png",
            "qrContent": "http://fake.test/s/SCAN", "scanId": "SCAN", "expiresIn": 120, "checkCode": "42"}}),
        ),
        "/api/v2/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            // The server holds the first long-poll for the whole wait.
            0 => Scripted::After(Duration::from_secs(25), Box::new(v2_status(0))),
            1 => Scripted::After(
                Duration::from_secs(3),
                Box::new(json(json!({"code": 200,
                "data": {"status": 1, "userInfo": {"nickname": "Ann"}}}))),
            ),
            _ => json(json!({"code": 200, "data": {"status": 2, "ticket": "T"}})),
        },
        "/api/v2/qrcode/userinfo" => v2_user(),
        other => panic!("unexpected {other}"),
    });
    let mut cfg = config(DialectId::G3);
    cfg.app_secret = Some("s3cret".into());
    cfg.requester = Some(qrlogin_core::dialect::Requester {
        device_name: Some("desk-7".into()),
        ..Default::default()
    });
    let events = Events::default();
    let mut s = start(client(&fake, cfg), options(), &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "scanned", "authorized", "loggedIn"]
    );
    let LoginEvent::QrReady {
        text, check_code, ..
    } = &events.all()[1]
    else {
        panic!()
    };
    assert_eq!(
        text, "http://fake.test/s/SCAN",
        "the QR carries qrContent, never the random"
    );
    assert_eq!(check_code.as_deref(), Some("42"));

    let checks = fake.requests("/api/v2/qrcode/check");
    assert_eq!(checks[0].1.query("wait").as_deref(), Some("25"));
    assert_eq!(checks[0].1.query("known"), None);
    assert_eq!(checks[1].1.query("known").as_deref(), Some("pending"));
    assert_eq!(checks[2].1.query("known").as_deref(), Some("scanned"));
    assert_eq!(
        checks[1].0 - checks[0].0,
        Duration::from_secs(25),
        "no timeout: wait + 5 s allowed"
    );
    assert_eq!(
        checks[2].0 - checks[1].0,
        Duration::from_secs(3),
        "news: poll again at once"
    );
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1);

    let gene = fake.requests("/api/v2/qrcode/gene")[0].1.json().unwrap();
    let challenge = gene["codeChallenge"].as_str().unwrap().to_owned();
    assert_eq!(gene["codeChallengeMethod"], "S256");
    assert_eq!(gene["requester"]["deviceName"], "desk-7");
    let ex = &fake.requests("/api/v2/qrcode/userinfo")[0].1;
    let verifier = ex.json().unwrap()["codeVerifier"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verifier.len(), 64);
    assert_eq!(qrlogin_core::pkce::challenge_for(&verifier), challenge);
    assert_eq!(ex.header("authorization"), None, "PKCE replaces the secret");
}

#[tokio::test(start_paused = true)]
async fn a_server_ignoring_wait_is_still_paced() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => json(json!({"version": 1, "longPoll": true})),
        "/api/v2/qrcode/gene" => v2_generate("R1", 120),
        _ => v2_status(0),
    });
    let events = Events::default();
    let _s = start(client(&fake, config(DialectId::G3)), options(), &events);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let checks = fake.requests("/api/v2/qrcode/check");
    assert!(checks.len() <= 14, "{} polls in 10 s", checks.len());
    for w in checks.windows(2).skip(1) {
        assert!(w[1].0 - w[0].0 >= Duration::from_millis(800));
    }
}

#[tokio::test(start_paused = true)]
async fn wrong_pkce_verifier_is_denied_and_not_retryable() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => json(json!({"version": 1, "pkce": true})),
        "/api/v3/gene-qrcode" => json(json!({"statusCode": 200, "message": "ok",
            "data": {"qrcodeId": "Q1", "url": "http://fake.test/q.png", "qrContent": "http://fake.test/s/x"}})),
        "/api/v3/get-qrcode-status" => {
            json(json!({"statusCode": 200, "data": {"status": "AUTHORIZED", "ticket": "T"}}))
        }
        "/api/v3/exchange-tokenset-with-qrcode-ticket" => status(
            400,
            json!({"statusCode": 400,
            "message": "code verifier mismatch", "apiCode": 2243}),
        ),
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G4)), options(), &events);
    run_to_end(&mut s, LONG).await;
    let all = events.all();
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "authorized", "failed"]
    );
    let LoginEvent::Failed {
        kind,
        retryable,
        message,
        ..
    } = &all[3]
    else {
        panic!()
    };
    assert_eq!((*kind, *retryable), (ErrorKind::Denied, false));
    assert!(message.contains("2243"));
}

#[tokio::test(start_paused = true)]
async fn v3_token_set_then_profile() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v3/gene-qrcode" => json(json!({"statusCode": 200, "message": "ok",
            "data": {"qrcodeId": "Q1", "url": "http://fake.test/q.png", "qrContent": "http://fake.test/s/x"}})),
        "/api/v3/get-qrcode-status" => {
            json(json!({"statusCode": 200, "data": {"status": "AUTHORIZED",
            "tokenSet": {"access_token": "AT", "id_token": "IT", "token_type": "bearer", "expire_in": 7200}}}))
        }
        "/api/v3/get-profile" => {
            assert_eq!(req.header("authorization"), Some("AT"));
            json(
                json!({"statusCode": 200, "data": {"userId": "u3", "username": "carol", "phone": "123"}}),
            )
        }
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G4)), options(), &events);
    run_to_end(&mut s, LONG).await;
    let all = events.all();
    let Some(LoginEvent::LoggedIn {
        profile, session, ..
    }) = all.last()
    else {
        panic!("{all:?}")
    };
    assert_eq!(profile.id, "u3");
    assert_eq!(profile.phone.as_deref(), Some("123"));
    assert_eq!(session.token.expose(), "AT");
    assert_eq!(session.id_token.as_ref().map(|t| t.expose()), Some("IT"));
    let at = session.expires_at.unwrap();
    assert!((EPOCH_MS + 7_200_000..EPOCH_MS + 7_210_000).contains(&at));
    // G4 polls every 1000 ms and uses the get-qrcode-status endpoint.
    assert_eq!(fake.requests("/api/v3/get-qrcode-status").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn g2_success_path() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/qrcode/gene" => json(
            json!({"code": 200, "message": "生成二维码成功", "data": {"qrcodeId": "Q2",
            "qrcodeUrl": "http://fake.test/q.png"}}),
        ),
        "/qrcode/check" => match p.fetch_add(1, Ordering::SeqCst) {
            0 => json(
                json!({"code": 200, "data": {"qrcodeId": "Q2", "scanned": true, "expired": false,
                "success": false, "canceled": false, "status": 0, "userInfo": {"nickname": "Dan"}}}),
            ),
            _ => json(
                json!({"code": 200, "data": {"qrcodeId": "Q2", "scanned": true, "expired": false,
                "success": true, "canceled": false, "status": 1, "userInfo": {"nickname": "Dan"}, "ticket": "T2"}}),
            ),
        },
        "/oauth/scan-qrcode/exchangeUserInfoWithTicket" => {
            json(json!({"code": 200, "data": {"_id": "u2",
            "username": "dan", "token": "tok2", "tokenExpiredAt": "2030-01-01T00:00:00.000Z"}}))
        }
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G2)), options(), &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "scanned", "authorized", "loggedIn"]
    );
    let LoginEvent::QrReady { text, .. } = &events.all()[1] else {
        panic!()
    };
    let payload: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(payload["qrcodeId"], "Q2");
    assert!(payload.get("expireAt").is_some());
    let gene = &fake.requests("/qrcode/gene")[0].1;
    assert_eq!(gene.query("userPoolId").as_deref(), Some("pool1"));
    let checks = fake.requests("/qrcode/check");
    assert_eq!(checks[1].0 - checks[0].0, Duration::from_millis(800));
}

#[tokio::test(start_paused = true)]
async fn g1_poll_returns_the_user() {
    let polls = Arc::new(AtomicU32::new(0));
    let p = polls.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/oauth/wxapp/qrcode/app1" => json(
            json!({"code": 200, "data": {"qrcode": "http://fake.test/q.png",
            "qrContent": "http://fake.test/s/x", "expiresIn": 60}}),
        ),
        "/oauth/wxapp/confirm/qr" => match p.fetch_add(1, Ordering::SeqCst) {
            0 => json(json!({"code": 200, "data": {"code": 500, "message": "not yet"}})),
            _ => json(
                json!({"code": 200, "data": {"code": 200, "message": "扫码登录成功", "data": {
                "_id": "u1", "username": "ivy", "nickname": "ivy", "token": "tok",
                "tokenExpiredAt": "Wed Aug 01 2018 15:59:42 GMT+0800 (CST)"}, "redirect": ""}}),
            ),
        },
        other => panic!("unexpected {other}"),
    });
    let events = Events::default();
    let mut s = start(client(&fake, config(DialectId::G1)), options(), &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        ["starting", "qrReady", "authorized", "loggedIn"]
    );
    let Some(LoginEvent::LoggedIn { profile, .. }) = events.all().pop() else {
        panic!()
    };
    assert_eq!(profile.username.as_deref(), Some("ivy"));
    assert_eq!(profile.expires_at, Some(1_533_110_382_000));
}

#[tokio::test(start_paused = true)]
async fn dropping_or_cancelling_stops_all_requests() {
    for use_cancel in [false, true] {
        let fake = Fake::new(move |req| match req.url.path() {
            "/.well-known/qrlogin" => not_found(),
            "/api/v2/qrcode/gene" => v2_generate("R1", 120),
            _ => v2_status(0),
        });
        let events = Events::default();
        let s = start(client(&fake, config(DialectId::G3)), options(), &events);
        tokio::time::sleep(Duration::from_secs(5)).await;
        if use_cancel {
            s.cancel();
            tokio::task::yield_now().await;
            assert!(s.is_finished());
        } else {
            drop(s);
        }
        let before = fake.count();
        let n_events = events.all().len();
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(fake.count(), before);
        assert_eq!(events.all().len(), n_events);
    }
}

#[tokio::test(start_paused = true)]
async fn tips_are_sanitized_and_read_live() {
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => v2_generate("R1", 5),
        _ => v2_status(0),
    });
    let tips = qrlogin_core::tips::Tips::default();
    tips.set(
        qrlogin_core::tips::TipKey::Title,
        None,
        "<strong>Scan</strong><script>alert(1)</script>",
    );
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        tips: tips.clone(),
        refresh_cap: Some(1),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    events.wait_for(LONG, |e| e.name() == "qrReady").await;
    tips.set(
        qrlogin_core::tips::TipKey::Title,
        None,
        "second <em>title</em>",
    );
    run_to_end(&mut s, LONG).await;
    let titles: Vec<String> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            LoginEvent::QrReady { tip_html, .. } => Some(tip_html.clone()),
            _ => None,
        })
        .collect();
    assert!(
        titles[0].contains("<strong>Scan</strong>") && !titles[0].contains("<script"),
        "{titles:?}"
    );
    assert_eq!(titles[1], "second <em>title</em>");
}

#[tokio::test(start_paused = true)]
async fn a_server_down_at_start_is_discovered_when_back() {
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let u = up.clone();
    let fake = Fake::new(move |req| {
        if !u.load(Ordering::SeqCst) {
            return Scripted::NetErr;
        }
        match req.url.path() {
            "/.well-known/qrlogin" => json(json!({"version": 1, "pkce": true, "longPoll": true})),
            "/api/v2/qrcode/gene" => v2_generate("R1", 120),
            _ => v2_status(3),
        }
    });
    let events = Events::default();
    let opts = qrlogin_core::SessionOptions {
        refresh_cap: Some(0),
        ..options()
    };
    let mut s = start(client(&fake, config(DialectId::G3)), opts, &events);
    tokio::time::sleep(Duration::from_secs(5)).await;
    up.store(true, Ordering::SeqCst);
    run_to_end(&mut s, LONG).await;
    assert_eq!(&events.names()[..3], ["starting", "retrying", "retrying"]);
    let gene = fake.requests("/api/v2/qrcode/gene");
    let body = gene.last().unwrap().1.json().unwrap();
    assert!(body.get("codeChallenge").is_some(), "{body}");
    let check = &fake.requests("/api/v2/qrcode/check")[0].1;
    assert!(check.query("wait").is_some());
}

/// A spent or expired ticket (2242) is a definite answer about that QR only: a new QR follows,
/// and the login on it works. The attempt does not stop at a retry button.
#[tokio::test(start_paused = true)]
async fn a_spent_ticket_means_a_new_qr_not_a_dead_end() {
    let gens = Arc::new(AtomicU32::new(0));
    let g = gens.clone();
    let fake = Fake::new(move |req| match req.url.path() {
        "/.well-known/qrlogin" => not_found(),
        "/api/v2/qrcode/gene" => {
            v2_generate(&format!("R{}", g.fetch_add(1, Ordering::SeqCst)), 120)
        }
        "/api/v2/qrcode/check" => json(
            json!({"code": 200, "data": {"status": 2, "ticket": format!("T-{}", req.query("random").unwrap_or_default())}}),
        ),
        "/api/v2/qrcode/userinfo" => {
            if req.json().unwrap()["ticket"] == "T-R0" {
                json(json!({"code": 2242, "message": "ticket 已过期或已被使用", "data": null}))
            } else {
                v2_user()
            }
        }
        other => panic!("unexpected {other}"),
    });
    let mut cfg = config(DialectId::G3);
    cfg.app_secret = Some("s3cret".into());
    let events = Events::default();
    let mut s = start(client(&fake, cfg), options(), &events);
    run_to_end(&mut s, LONG).await;
    assert_eq!(
        events.names(),
        [
            "starting",
            "qrReady",
            "authorized",
            "expired",
            "qrReady",
            "authorized",
            "loggedIn"
        ]
    );
}
