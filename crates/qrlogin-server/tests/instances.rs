//! Several instances on one store, as behind a load balancer: they agree on the pool, apps,
//! users and signing key; of two instances racing on one session exactly one wins and the other
//! gets the documented error; the sweep runs on both at once. On PostgreSQL also: a change made
//! through one instance wakes the long-polls held by another at once (LISTEN/NOTIFY), even after
//! the LISTEN connection was lost. (On SQLite two instances share the file but not wake-ups.)

mod common;

use std::time::{Duration, Instant};

use common::*;
use qrlogin_server::phone::Phone;
use qrlogin_server::NewApp;
use serde_json::{json, Value};

const ROUNDS: usize = 50;

async fn post(ts: &TestServer, base: &str, path: &str, body: Value, token: Option<&str>) -> Value {
    let mut rb = ts
        .http
        .post(format!("{base}{path}"))
        .header("x-authing-app-id", &ts.app.app_id)
        .json(&body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON reply")
}

async fn get(ts: &TestServer, url: String) -> Value {
    ts.http
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON reply")
}

async fn token(base: &str, who: (&str, &str)) -> String {
    Phone::new()
        .sign_in_api(base, who.0, who.1)
        .await
        .expect("sign in")
}

/// A's G3 status once `settled` holds for its `status`. A change made through B reaches A's live copy through
/// PostgreSQL's NOTIFY, a few milliseconds after B answered (polls on A read no database), so a
/// read on A right after B's reply may still see the state before it; a desktop polling A sees
/// the change at its next poll. Waits at most 5 s (a lost notification would fail here).
async fn status_on_a_once(ts: &TestServer, random: &str, settled: impl Fn(i64) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = ts.g3_status(random).await;
        if s["status"].as_i64().is_some_and(&settled) || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Generates a G3 session on `base`; returns its `random`.
async fn generate(ts: &TestServer, base: &str) -> String {
    let r = post(
        ts,
        base,
        "/api/v2/qrcode/gene",
        json!({"scene": "APP_AUTH", "autoMergeQrCode": false}),
        None,
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    r["data"]["random"].as_str().expect("random").to_owned()
}

fn backend(ts: &TestServer) -> &'static str {
    if ts.db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

#[tokio::test]
async fn instances_share_pool_apps_users_and_the_signing_key() {
    let ts = start(app("Desktop")).await;
    let b = ts.another_instance().await;
    assert_eq!(b.server.user_pool_id(), ts.app.user_pool_id);
    // An app and a user added through B are there for A.
    let app2 = b.server.add_app(app("Kiosk")).await.expect("app");
    let apps = ts.server.list_apps().await.expect("apps");
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0].app_id, ts.app.app_id, "the default app differs");
    assert_eq!(apps[1].app_id, app2.app_id);
    b.server
        .add_user(qrlogin_server::NewUser {
            username: "carol".into(),
            password: "carol-pw".into(),
            ..Default::default()
        })
        .await
        .expect("user");
    let (status, jwks_a) = ts.get("/.well-known/jwks.json").await;
    assert_eq!(status, 200);
    let jwks_b = get(&ts, format!("{}/.well-known/jwks.json", b.base)).await;
    assert_eq!(jwks_a, jwks_b, "instances publish different keys");
    // A token issued by A is accepted by B, and one of B by A.
    for (issuer, verifier, who) in [
        (&ts.base, &b.base, ALICE),
        (&b.base, &ts.base, ("carol", "carol-pw")),
    ] {
        let t = token(issuer, who).await;
        let p = ts
            .http
            .get(format!("{verifier}/api/v3/get-profile"))
            .bearer_auth(&t)
            .send()
            .await
            .expect("GET")
            .json::<Value>()
            .await
            .expect("JSON");
        assert_eq!(p["data"]["username"], who.0, "{p}");
    }
}

#[tokio::test]
async fn two_instances_racing_to_scan_one_session_one_wins_the_other_gets_2245() {
    let ts = start(app("Desktop")).await;
    let b = ts.another_instance().await;
    let (alice, bob) = (token(&ts.base, ALICE).await, token(&b.base, BOB).await);
    let mut wins = [0usize; 2];
    for _ in 0..ROUNDS {
        let random = generate(&ts, &ts.base).await;
        let body = json!({"random": random});
        let (ra, rb) = tokio::join!(
            post(
                &ts,
                &ts.base,
                "/api/v2/qrcode/scanned",
                body.clone(),
                Some(&alice)
            ),
            post(&ts, &b.base, "/api/v2/qrcode/scanned", body, Some(&bob)),
        );
        let codes = (ra["code"].as_u64(), rb["code"].as_u64());
        match codes {
            (Some(200), Some(2245)) => wins[0] += 1,
            (Some(2245), Some(200)) => wins[1] += 1,
            _ => panic!("not exactly one winner: A {ra} / B {rb}"),
        }
        let s = status_on_a_once(&ts, &random, |st| st == 1).await;
        let winner = if codes.0 == Some(200) {
            "Alice A."
        } else {
            "Bob B."
        };
        assert_eq!(s["status"], 1);
        assert_eq!(s["userInfo"]["nickname"], winner, "{s}");
    }
    eprintln!(
        "{}: {ROUNDS} scan races, A won {}, B won {}",
        backend(&ts),
        wins[0],
        wins[1]
    );
}

#[tokio::test]
async fn two_instances_racing_to_confirm_and_cancel_one_wins_the_other_gets_403() {
    let ts = start(app("Desktop")).await;
    let b = ts.another_instance().await;
    let alice = token(&ts.base, ALICE).await;
    let mut confirmed = 0;
    for round in 0..ROUNDS {
        let random = generate(&ts, &b.base).await;
        let body = json!({"random": random});
        let r = post(
            &ts,
            &ts.base,
            "/api/v2/qrcode/scanned",
            body.clone(),
            Some(&alice),
        )
        .await;
        assert_eq!(r["code"], 200, "{r}");
        // Alternate which instance confirms, so both orders of arrival are tried.
        let (confirm_on, cancel_on) = if round % 2 == 0 {
            (&ts.base, &b.base)
        } else {
            (&b.base, &ts.base)
        };
        let (rc, rx) = tokio::join!(
            post(
                &ts,
                confirm_on,
                "/api/v2/qrcode/confirm",
                body.clone(),
                Some(&alice)
            ),
            post(&ts, cancel_on, "/api/v2/qrcode/cancel", body, Some(&alice)),
        );
        let s = status_on_a_once(&ts, &random, |st| st != 1).await;
        match (rc["code"].as_u64(), rx["code"].as_u64()) {
            (Some(200), Some(403)) => {
                confirmed += 1;
                assert_eq!(s["status"], 2, "{s}");
                assert!(s["ticket"].is_string(), "{s}");
            }
            (Some(403), Some(200)) => {
                assert_eq!(s["status"], 3, "{s}");
                assert!(
                    s["ticket"].is_null(),
                    "a cancelled session has a ticket: {s}"
                );
            }
            _ => panic!("not exactly one winner: confirm {rc} / cancel {rx}"),
        }
    }
    eprintln!(
        "{}: {ROUNDS} confirm/cancel races, confirm won {confirmed}, cancel won {}",
        backend(&ts),
        ROUNDS - confirmed
    );
}

#[tokio::test]
async fn two_instances_confirming_the_same_session_mint_one_ticket() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let b = ts.another_instance().await;
    let alice = token(&ts.base, ALICE).await;
    for _ in 0..ROUNDS {
        let random = generate(&ts, &ts.base).await;
        let body = json!({"random": random});
        let r = post(
            &ts,
            &b.base,
            "/api/v2/qrcode/scanned",
            body.clone(),
            Some(&alice),
        )
        .await;
        assert_eq!(r["code"], 200, "{r}");
        // A double tap that reaches two instances: both answer 200 (PROTOCOL.md: confirming
        // again as the same user is a no-op), and only one ticket exists.
        let (ra, rb) = tokio::join!(
            post(
                &ts,
                &ts.base,
                "/api/v2/qrcode/confirm",
                body.clone(),
                Some(&alice)
            ),
            post(&ts, &b.base, "/api/v2/qrcode/confirm", body, Some(&alice)),
        );
        assert_eq!(
            (ra["code"].as_u64(), rb["code"].as_u64()),
            (Some(200), Some(200)),
            "{ra} / {rb}"
        );
        let on_a = status_on_a_once(&ts, &random, |st| st == 2).await;
        let on_b = get(
            &ts,
            format!("{}/api/v2/qrcode/check?random={random}", b.base),
        )
        .await;
        assert_eq!(on_a["ticket"], on_b["data"]["ticket"], "two tickets minted");
        let ticket = on_a["ticket"].clone();
        let first = post(
            &ts,
            &b.base,
            "/api/v2/qrcode/userinfo",
            json!({"ticket": ticket}),
            None,
        )
        .await;
        assert_eq!(first["code"], 200, "{first}");
        let second = post(
            &ts,
            &ts.base,
            "/api/v2/qrcode/userinfo",
            json!({"ticket": ticket}),
            None,
        )
        .await;
        assert_eq!(second["code"], 2242, "{second}");
    }
}

#[tokio::test]
async fn two_instances_racing_to_exchange_one_ticket_one_wins_the_other_gets_2242() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let b = ts.another_instance().await;
    let alice = token(&b.base, ALICE).await;
    let mut wins = [0usize; 2];
    for _ in 0..ROUNDS {
        let random = generate(&ts, &ts.base).await;
        let body = json!({"random": random});
        for step in ["scanned", "confirm"] {
            let r = post(
                &ts,
                &b.base,
                &format!("/api/v2/qrcode/{step}"),
                body.clone(),
                Some(&alice),
            )
            .await;
            assert_eq!(r["code"], 200, "{r}");
        }
        let ticket = status_on_a_once(&ts, &random, |st| st == 2).await["ticket"].clone();
        assert!(ticket.is_string());
        let ex = json!({"ticket": ticket});
        let (ra, rb) = tokio::join!(
            post(&ts, &ts.base, "/api/v2/qrcode/userinfo", ex.clone(), None),
            post(&ts, &b.base, "/api/v2/qrcode/userinfo", ex, None),
        );
        match (ra["code"].as_u64(), rb["code"].as_u64()) {
            (Some(200), Some(2242)) => wins[0] += 1,
            (Some(2242), Some(200)) => wins[1] += 1,
            _ => panic!("not exactly one winner: A {ra} / B {rb}"),
        }
        let winner = if ra["code"] == 200 { &ra } else { &rb };
        assert_eq!(winner["data"]["username"], "alice");
        assert!(winner["data"]["token"].is_string());
    }
    let users = ts.server.list_users().await.expect("users");
    let alice_info = users.iter().find(|u| u.username == "alice").expect("alice");
    assert_eq!(
        alice_info.logins_count, ROUNDS as i64,
        "a ticket was spent twice"
    );
    eprintln!(
        "{}: {ROUNDS} exchange races, A won {}, B won {}",
        backend(&ts),
        wins[0],
        wins[1]
    );
}

#[tokio::test]
async fn the_sweep_runs_on_two_instances_at_once_and_deletes_each_ended_session_once() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let b = ts.another_instance().await;
    let short = b
        .server
        .add_app(NewApp {
            qr_ttl_secs: Some(1),
            ..app("Short")
        })
        .await
        .expect("app");
    let alice = token(&ts.base, ALICE).await;
    // Ended: 20 QRs expired unscanned, 5 whose ticket was spent.
    let mut expired = Vec::new();
    for _ in 0..20 {
        let r = ts
            .http
            .post(ts.url("/api/v2/qrcode/gene"))
            .header("x-authing-app-id", &short.app_id)
            .json(&json!({"scene": "APP_AUTH"}))
            .send()
            .await
            .expect("POST")
            .json::<Value>()
            .await
            .expect("JSON");
        expired.push(r["data"]["random"].as_str().expect("random").to_owned());
    }
    let mut spent = Vec::new();
    let mut authorized = Vec::new();
    for i in 0..10 {
        let random = generate(&ts, &ts.base).await;
        let body = json!({"random": random});
        for step in ["scanned", "confirm"] {
            post(
                &ts,
                &ts.base,
                &format!("/api/v2/qrcode/{step}"),
                body.clone(),
                Some(&alice),
            )
            .await;
        }
        if i < 5 {
            let ticket = ts.g3_status(&random).await["ticket"].clone();
            let r = post(
                &ts,
                &b.base,
                "/api/v2/qrcode/userinfo",
                json!({"ticket": ticket}),
                None,
            )
            .await;
            assert_eq!(r["code"], 200, "{r}");
            spent.push(random);
        } else {
            authorized.push(random); // ticket still valid: kept
        }
    }
    let pending = generate(&ts, &b.base).await; // still valid: kept
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let (a, bb) = tokio::join!(
        ts.server.sweep(Duration::ZERO),
        b.server.sweep(Duration::ZERO)
    );
    let (a, bb) = (a.expect("sweep on A"), bb.expect("sweep on B"));
    assert_eq!(a + bb, 25, "A deleted {a}, B deleted {bb}");
    for gone in expired.iter().chain(&spent) {
        let (_, r) = ts.get(&format!("/api/v2/qrcode/check?random={gone}")).await;
        assert_eq!(r["code"], 2241, "not swept: {r}");
    }
    for kept in authorized.iter().chain([&pending]) {
        let (_, r) = ts.get(&format!("/api/v2/qrcode/check?random={kept}")).await;
        assert_eq!(r["code"], 200, "swept too early: {r}");
    }
    // With the default retention nothing that just ended goes.
    assert_eq!(
        ts.server
            .sweep(qrlogin_server::SWEEP_KEEP)
            .await
            .expect("sweep"),
        0
    );
}

/// Holds a long-poll on `base` for `random` known as `known`; returns when it answered and what.
fn hold(
    ts: &TestServer,
    base: &str,
    random: &str,
    known: &str,
) -> tokio::task::JoinHandle<(Instant, Value)> {
    let http = ts.http.clone();
    let url = format!("{base}/api/v2/qrcode/check?random={random}&wait=25&known={known}");
    tokio::spawn(async move {
        let r: Value = http
            .get(url)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        (Instant::now(), r)
    })
}

#[tokio::test]
async fn a_scan_and_confirm_through_b_answer_a_long_poll_held_by_a_at_once() {
    let ts = start(app("Desktop")).await;
    if !ts.db.is_postgres() {
        eprintln!("SQLite: instances share no wake-ups; this test runs on PostgreSQL");
        return;
    }
    let b = ts.another_instance().await;
    let alice = token(&b.base, ALICE).await;
    let mut worst = Duration::ZERO;
    for round in 0..5 {
        let random = generate(&ts, &ts.base).await;
        let body = json!({"random": random});
        for (step, known, expected) in [("scanned", "pending", 1), ("confirm", "scanned", 2)] {
            let held = hold(&ts, &ts.base, &random, known);
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!held.is_finished(), "answered before any change");
            let r = post(
                &ts,
                &b.base,
                &format!("/api/v2/qrcode/{step}"),
                body.clone(),
                Some(&alice),
            )
            .await;
            let changed = Instant::now();
            assert_eq!(r["code"], 200, "{r}");
            let (answered, reply) = held.await.expect("poll task");
            let latency = answered.saturating_duration_since(changed);
            assert_eq!(reply["data"]["status"], expected, "{reply}");
            assert!(
                latency < Duration::from_millis(500),
                "round {round}: A answered {latency:?} after B's {step}"
            );
            worst = worst.max(latency);
        }
    }
    eprintln!("PostgreSQL: change through B answered A's long-poll within {worst:?} (worst of 10)");
}

/// B's copy of a session made on A follows A's scan and confirm from the notifications alone:
/// B read the session from the database once (its first poll), and neither its woken long-polls
/// nor its later polls read it again.
#[tokio::test]
async fn b_learns_a_scan_and_confirm_made_on_a_from_the_notification_without_a_query() {
    let ts = start(app("Desktop")).await;
    if !ts.db.is_postgres() {
        eprintln!(
            "SQLite: instances in one process share one memory; this test runs on PostgreSQL"
        );
        return;
    }
    let b = ts.another_instance().await;
    let alice = token(&ts.base, ALICE).await;
    let random = generate(&ts, &ts.base).await;
    let check = format!("{}/api/v2/qrcode/check?random={random}", b.base);
    assert_eq!(get(&ts, check.clone()).await["data"]["status"], 0);
    let (held_sessions, reads) = b.server.live_sessions();
    assert_eq!(
        (held_sessions, reads),
        (1, 1),
        "B's first poll reads the session once"
    );
    let body = json!({"random": random});
    for (step, known, expected) in [("scanned", "pending", 1), ("confirm", "scanned", 2)] {
        let held = hold(&ts, &b.base, &random, known);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = post(
            &ts,
            &ts.base,
            &format!("/api/v2/qrcode/{step}"),
            body.clone(),
            Some(&alice),
        )
        .await;
        assert_eq!(r["code"], 200, "{r}");
        let (_, reply) = held.await.expect("poll task");
        assert_eq!(reply["data"]["status"], expected, "{reply}");
    }
    let on_a = ts.g3_status(&random).await;
    let on_b = get(&ts, check).await;
    assert_eq!(on_b["data"]["status"], 2, "{on_b}");
    assert_eq!(
        on_b["data"]["ticket"], on_a["ticket"],
        "B's copy has another ticket"
    );
    assert_eq!(
        b.server.live_sessions().1,
        reads,
        "B read the session from the database on its poll path"
    );
}

#[tokio::test]
async fn after_the_listen_connection_is_lost_held_polls_still_see_the_change() {
    let ts = start(app("Desktop")).await;
    let Some(url) = ts.db.url.clone() else {
        eprintln!("SQLite: no LISTEN connection; this test runs on PostgreSQL");
        return;
    };
    let b = ts.another_instance().await;
    let alice = token(&b.base, ALICE).await;
    let random = generate(&ts, &ts.base).await;
    let held = hold(&ts, &ts.base, &random, "pending");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Cut every LISTEN connection of this database (both instances'), as a network blip would,
    // and keep them from coming back while the session changes: the NOTIFY of that change is
    // lost for good, and only the wake-up after the reconnect can answer the held poll.
    use sqlx::Connection;
    // Opened now: once the database refuses new connections, this one still makes the change.
    let mut other = sqlx::PgConnection::connect(&url).await.expect("connect");
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut other)
        .await
        .expect("name");
    // From the admin database: PostgreSQL will not close the database one is connected to.
    let admin_url = std::env::var(common::db::DATABASE_URL_ENV).expect("admin URL");
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect");
    let allow = |yes: bool| format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {yes}");
    sqlx::query(&allow(false))
        .execute(&mut admin)
        .await
        .expect("disallow");
    // The timeout argument makes each call wait until that backend has exited.
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity \
         WHERE datname = $1 AND query LIKE 'LISTEN %'",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .expect("terminate");
    assert!(
        killed >= 2,
        "found {killed} LISTEN connections, expected one per instance"
    );
    // The scan, as another instance makes it (the statement of PgStore::mark_scanned), on the
    // connection opened before: a pool could not open a new one now.
    let alice_id = ts
        .server
        .find_user_by_username(ALICE.0)
        .await
        .expect("user")
        .expect("alice")
        .id;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let changed = sqlx::query(
        "WITH changed AS (UPDATE qr_sessions SET status = 'scanned', scanned_by = $1, \
         scanned_at = $2 WHERE handle = $3 AND status = 'pending' AND expires_at > $2 \
         RETURNING handle) SELECT pg_notify('qrlogin_session', handle) FROM changed",
    )
    .bind(&alice_id)
    .bind(now)
    .bind(&random)
    .fetch_all(&mut other)
    .await
    .expect("scan");
    assert_eq!(changed.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !held.is_finished(),
        "answered although no listener could hear the change"
    );
    sqlx::query(&allow(true))
        .execute(&mut admin)
        .await
        .expect("allow");
    let back = Instant::now();
    let (answered, reply) = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the held poll missed the change made while LISTEN was down")
        .expect("poll task");
    assert_eq!(reply["data"]["status"], 1, "{reply}");
    eprintln!(
        "PostgreSQL: a change made while LISTEN was down answered the held poll {:?} after \
         the database accepted connections again",
        answered.saturating_duration_since(back)
    );
    // And wake-ups work as before once the listener is back.
    let held = hold(&ts, &ts.base, &random, "scanned");
    tokio::time::sleep(Duration::from_millis(300)).await;
    post(
        &ts,
        &b.base,
        "/api/v2/qrcode/confirm",
        json!({"random": random}),
        Some(&alice),
    )
    .await;
    let changed = Instant::now();
    let (answered, reply) = held.await.expect("poll task");
    assert_eq!(reply["data"]["status"], 2, "{reply}");
    assert!(answered.saturating_duration_since(changed) < Duration::from_millis(500));
}

/// Rotating QRs across instances: the turned code instance A's poll reports opens on instance B
/// (the key comes from the shared seed), and B refuses the photo of A's first code.
#[tokio::test]
async fn a_rotated_code_from_one_instance_works_on_another_and_the_old_one_does_not() {
    let ts = start(NewApp {
        qr_rotate_secs: Some(1),
        ..app("Desktop")
    })
    .await;
    let b = ts.another_instance().await;
    let d = ts.g3_generate(json!({})).await;
    let random = d["random"].as_str().unwrap().to_owned();
    let photo_id = d["scanId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(3_300)).await;
    let s = ts.g3_status(&random).await;
    let current_id = s["scanId"].as_str().expect("turned").to_owned();
    let old = Phone::new()
        .open(&format!("{}/s/{photo_id}", b.base))
        .await
        .unwrap();
    assert_eq!(old.error_code, Some(2244), "{} photo on B", backend(&ts));
    let url = format!("{}/s/{current_id}", b.base);
    approve(&url, ALICE, None).await;
    let s = status_on_a_once(&ts, &random, |st| st == 2).await;
    assert_eq!(s["status"], 2, "{s}");
}
