//! The server's edge under hostile traffic (issue 12): the client address behind a trusted proxy
//! (and spoofing from anywhere else), limits that hold across addresses, timeouts and caps of
//! connections and long-polls, input bounds, private files. Each test does what an attacker
//! would and watches what a user would notice.
mod common;

use std::time::{Duration, Instant};

use common::*;
use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{EdgeLimits, NewApp, RateLimits, ServeOptions, TrustedProxies};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn options(rate_limits: RateLimits, trusted: &str, edge: EdgeLimits) -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().expect("addr"),
        rate_limits,
        trusted_proxies: TrustedProxies::parse(trusted).expect("cidrs"),
        edge,
        ..Default::default()
    }
}

fn generate_limit(n: u32) -> RateLimits {
    RateLimits {
        generate_per_minute: Some(n),
        ..RateLimits::unlimited()
    }
}

/// A G3 generate as the client at `xff` (sent as `X-Forwarded-For`).
async fn generate_as(ts: &TestServer, xff: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({"scene": "APP_AUTH"});
    merge(&mut body, extra);
    ts.post_h(
        "/api/v2/qrcode/gene",
        body,
        &[("x-forwarded-for", xff.to_owned())],
    )
    .await
}

#[tokio::test]
async fn rotating_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit() {
    // No trusted proxy: the test client (127.0.0.1) is an ordinary client.
    let ts = start_serving(
        app("Desktop"),
        options(generate_limit(3), "", EdgeLimits::default()),
    )
    .await;
    for i in 0..3 {
        let (status, _) = generate_as(&ts, &format!("198.51.100.{i}"), json!({})).await;
        assert_eq!(status, 200);
    }
    let (status, reply) = generate_as(&ts, "198.51.100.77", json!({})).await;
    assert_eq!(
        status, 429,
        "a forged X-Forwarded-For escaped the limit: {reply}"
    );
}

#[tokio::test]
async fn from_an_untrusted_peer_the_page_shows_the_peer_not_the_forged_address() {
    let ts = start(app("Desktop")).await;
    let (_, g) = generate_as(&ts, "198.51.100.7", json!({})).await;
    let phone = Phone::new();
    let page = scan_as(&phone, g["data"]["qrContent"].as_str().expect("qr"), ALICE).await;
    assert_eq!(page.requester.ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn through_a_trusted_proxy_clients_get_their_own_buckets_and_the_page_shows_the_client() {
    let ts = start_serving(
        app("Desktop"),
        options(generate_limit(2), "127.0.0.1/32", EdgeLimits::default()),
    )
    .await;
    // Client A (a forged first hop, then what the proxy appended) empties its bucket…
    let a = "6.6.6.6, 198.51.100.7";
    let (status, first) = generate_as(&ts, a, json!({})).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(generate_as(&ts, a, json!({})).await.0, 200);
    assert_eq!(generate_as(&ts, "198.51.100.7", json!({})).await.0, 429);
    // …while client B, behind the same proxy, still has its own.
    assert_eq!(generate_as(&ts, "203.0.113.9", json!({})).await.0, 200);

    // The approval page names client A's address, not the proxy's nor the forged hop.
    let qr = first["data"]["qrContent"].as_str().expect("qr");
    let phone = Phone::forwarded_for("198.51.100.20");
    let page = scan_as(&phone, qr, ALICE).await;
    assert_eq!(page.requester.ip.as_deref(), Some("198.51.100.7"));
    // Same /24 as the computer: no warning.
    assert!(page.network_warning.is_none(), "{}", page.html);
}

#[tokio::test]
async fn exchange_records_the_client_address_as_last_ip() {
    let ts = start_serving(
        NewApp {
            allow_client_exchange: true,
            ..app("Desktop")
        },
        options(
            RateLimits::unlimited(),
            "127.0.0.0/8",
            EdgeLimits::default(),
        ),
    )
    .await;
    let (_, g) = generate_as(&ts, "198.51.100.7", json!({})).await;
    let random = g["data"]["random"].as_str().expect("random").to_owned();
    approve(g["data"]["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let s = ts.g3_status(&random).await;
    let ticket = s["ticket"].as_str().expect("ticket");
    let (_, r) = ts
        .post_h(
            "/api/v2/qrcode/userinfo",
            json!({"ticket": ticket}),
            &[("x-forwarded-for", "192.0.2.44".into())],
        )
        .await;
    assert_eq!(r["data"]["lastIp"], "192.0.2.44", "{r}");
}

#[tokio::test]
async fn the_page_warns_before_confirm_when_the_phone_is_on_another_network() {
    let ts = start_serving(
        app("Desktop"),
        options(RateLimits::unlimited(), "127.0.0.1", EdgeLimits::default()),
    )
    .await;
    let (_, g) = generate_as(
        &ts,
        "198.51.100.7",
        json!({"requester": {"deviceName": "Alice's PC", "platform": "Linux"}}),
    )
    .await;
    let qr = g["data"]["qrContent"].as_str().expect("qr");
    let phone = Phone::forwarded_for("203.0.113.50");
    let page = scan_as(&phone, qr, ALICE).await;
    let warning = page.network_warning.as_deref().expect("no network warning");
    assert!(
        warning.contains("network") || warning.contains("网络"),
        "{warning}"
    );
    // The warning comes before the Confirm button, and the computer's own claims are labelled.
    let html = &page.html;
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at("network-warning") < at("id=\"confirm\""));
    assert!(at("reported-note") < at("data-field=\"deviceName\""));
    assert_eq!(page.requester.device_name.as_deref(), Some("Alice's PC"));
}

#[tokio::test]
async fn the_phone_can_sign_out_and_only_with_the_pages_token() {
    let ts = start(app("Desktop")).await;
    let d = ts.g3_generate(json!({})).await;
    let qr = d["qrContent"].as_str().expect("qr");
    let phone = Phone::new();
    let page = scan_as(&phone, qr, ALICE).await;
    // A forged sign-out (another site cannot read the page's token) is refused.
    let mut forged = page.clone();
    forged.csrf_token = "forged".into();
    let refused = phone.sign_out(&forged).await.expect("post");
    assert_eq!(refused.http_status, 403);
    assert_eq!(
        phone.open(qr).await.expect("page").state,
        PageState::Approve
    );
    // Someone copied the phone's cookies before it signed out.
    let page_url = ts.url(&format!("/s/{}", d["scanId"].as_str().expect("scan")));
    let copied = phone
        .cookie_header(&page_url)
        .expect("the phone has cookies");
    // The real one lands on the sign-in form, and the page stays signed out.
    let after = phone.sign_out(&page).await.expect("sign out");
    assert_eq!(after.state, PageState::SignIn, "{}", after.html);
    assert_eq!(phone.open(qr).await.expect("page").state, PageState::SignIn);
    // The copy is signed out too: the session ended at the server, not only in this browser.
    let replayed = ts
        .http
        .get(&page_url)
        .header("cookie", copied)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        !replayed.contains("id=\"confirm\""),
        "a copied cookie still approves after sign-out: {replayed}"
    );
}

#[tokio::test]
async fn over_https_the_csrf_cookie_has_the_host_prefix() {
    let ts = start_serving(
        app("Desktop"),
        ServeOptions {
            public_url: Some("https://login.example.test".into()),
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        },
    )
    .await;
    let d = ts.g3_generate(json!({})).await;
    let scan = d["scanId"].as_str().expect("scan");
    let r = ts
        .http
        .get(ts.url(&format!("/s/{scan}")))
        .send()
        .await
        .expect("page");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("qrl_csrf"))
        .expect("csrf cookie")
        .to_owned();
    assert!(cookie.starts_with("__Host-qrl_csrf="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    // A cookie without the prefix (what a sibling subdomain could plant) is not accepted.
    let value = cookie["__Host-qrl_csrf=".len()..]
        .split(';')
        .next()
        .expect("value");
    let planted = ts
        .http
        .post(ts.url(&format!("/s/{scan}/signin")))
        .header("cookie", format!("qrl_csrf={value}"))
        .form(&[
            ("csrf", value),
            ("username", ALICE.0),
            ("password", ALICE.1),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(planted.status(), 403);
}

/// Sends half a request head on each of `n` connections.
async fn half_sent_heads(base: &str, n: usize) -> Vec<TcpStream> {
    let addr = base.trim_start_matches("http://");
    let mut conns = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("write");
        conns.push(s);
    }
    conns
}

/// Reads until the server closes the connection (or resets it); false if it stays open.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a 408 before closing is fine too
        }
    }
}

#[tokio::test]
async fn half_sent_request_heads_are_closed_within_the_timeout_while_healthz_answers() {
    let ts = start_serving(
        app("Desktop"),
        options(
            RateLimits::unlimited(),
            "",
            EdgeLimits {
                header_read_timeout: Duration::from_secs(1),
                ..EdgeLimits::default()
            },
        ),
    )
    .await;
    let started = Instant::now();
    let mut slow = half_sent_heads(&ts.base, 200).await;
    let (status, body) = ts.get("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    for s in slow.iter_mut() {
        assert!(
            closed_within(s, Duration::from_secs(4)).await,
            "a half-sent head was still open after {:?}",
            started.elapsed()
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once() {
    let ts = start_serving(
        app("Desktop"),
        options(
            RateLimits::unlimited(),
            "",
            EdgeLimits {
                max_connections: 20,
                ..EdgeLimits::default()
            },
        ),
    )
    .await;
    let mut held = half_sent_heads(&ts.base, 20).await;
    let mut extra = half_sent_heads(&ts.base, 1).await;
    assert!(
        closed_within(&mut extra[0], Duration::from_secs(2)).await,
        "a connection over the cap was kept"
    );
    // Giving connections back makes room again.
    held.truncate(10);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = ts.get("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn long_polls_over_the_caps_get_429_at_once_and_healthz_answers() {
    let ts = start_serving(
        app("Desktop"),
        options(
            RateLimits::unlimited(),
            "",
            EdgeLimits {
                long_polls_per_client: 6,
                long_polls_per_session: 4,
                ..EdgeLimits::default()
            },
        ),
    )
    .await;
    let hold = |random: String| {
        let http = ts.http.clone();
        let url = ts.url(&format!(
            "/api/v2/qrcode/check?random={random}&wait=20&known=0"
        ));
        tokio::spawn(async move { http.get(url).send().await.map(|r| r.status().as_u16()) })
    };
    let one = ts.g3_generate(json!({})).await["random"]
        .as_str()
        .expect("random")
        .to_owned();
    let mut waiters: Vec<_> = (0..4).map(|_| hold(one.clone())).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A fifth on the same session is refused at once.
    let started = Instant::now();
    let (status, reply) = ts
        .get(&format!(
            "/api/v2/qrcode/check?random={one}&wait=20&known=0"
        ))
        .await;
    assert_eq!(status, 429, "{reply}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Other sessions of the same client: two more fit, the third is over the client's cap.
    let two = ts.g3_generate(json!({})).await["random"]
        .as_str()
        .expect("random")
        .to_owned();
    waiters.push(hold(two.clone()));
    waiters.push(hold(two.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let three = ts.g3_generate(json!({})).await["random"]
        .as_str()
        .expect("random")
        .to_owned();
    let (status, _) = ts
        .get(&format!(
            "/api/v2/qrcode/check?random={three}&wait=20&known=0"
        ))
        .await;
    assert_eq!(status, 429);
    // A plain poll is not held and still answers, and so does /healthz.
    assert_eq!(ts.g3_status(&three).await["status"], 0);
    assert_eq!(ts.get("/healthz").await.0, 200);
    // The held ones were answered normally once the server stops.
    let mut ts = ts;
    ts.stop().await;
    for w in waiters {
        assert_eq!(w.await.expect("join").expect("held poll"), 200);
    }
}

#[tokio::test]
async fn oversized_heads_queries_and_custom_data_are_refused() {
    let ts = start(app("Desktop")).await;
    // G2 copies unknown query keys into custom data: a long query is refused before that.
    let long = "x".repeat(3000);
    let (status, _) = ts
        .get(&format!("/qrcode/gene?scene=APP_AUTH&junk={long}"))
        .await;
    assert_eq!(status, 414);
    // Custom data of a POST generate is capped.
    let (status, reply) = ts
        .post_h(
            "/api/v2/qrcode/gene",
            json!({"scene": "APP_AUTH", "customData": {"blob": "y".repeat(5000)}}),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(
        reply["code"], 200,
        "5 KB of custom data was accepted: {reply}"
    );
    assert!(reply["message"]
        .as_str()
        .unwrap_or("")
        .contains("customData"));
    // Still fine at a few hundred bytes.
    ts.g3_generate(json!({"customData": {"note": "z".repeat(300)}}))
        .await;
    // A head larger than the limit.
    let r = ts
        .http
        .get(ts.url("/healthz"))
        .header("x-padding", "p".repeat(20_000))
        .send()
        .await;
    assert!(
        r.as_ref().map_or(true, |r| r.status() == 431),
        "a 20 KB head was served: {:?}",
        r.map(|r| r.status())
    );
    assert_eq!(ts.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn requester_fields_lose_controls_and_bidi_overrides_and_are_capped() {
    let ts = start(app("Desktop")).await;
    let d = ts
        .g3_generate(json!({"requester": {
            "deviceName": "Alice\u{202E}CP s'\u{0007}",
            "platform": "L".repeat(500),
        }}))
        .await;
    let phone = Phone::new();
    let page = scan_as(&phone, d["qrContent"].as_str().expect("qr"), ALICE).await;
    assert_eq!(page.requester.device_name.as_deref(), Some("AliceCP s'"));
    assert_eq!(
        page.requester
            .platform
            .as_deref()
            .map(|p| p.chars().count()),
        Some(64)
    );
}

#[tokio::test]
async fn the_account_throttle_holds_across_many_addresses_and_does_not_tell_accounts_apart() {
    // Behind a trusted proxy every attempt comes from a new address, each with a fresh
    // per-address bucket: only the per-account backoff can stop the guessing.
    let ts = start_serving(
        app("Desktop"),
        options(RateLimits::default(), "127.0.0.1", EdgeLimits::default()),
    )
    .await;
    let attempt = |user: &'static str, password: &'static str, n: u32| {
        let http = ts.http.clone();
        let url = ts.url("/api/v3/signin");
        async move {
            let r = http
                .post(url)
                .header("x-forwarded-for", format!("198.51.{}.{}", n / 250, n % 250))
                .json(&json!({
                    "connection": "PASSWORD",
                    "passwordPayload": {"username": user, "password": password}
                }))
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            let retry = r.headers().get("retry-after").is_some();
            let body: Value = r.json().await.expect("json");
            (status, retry, body["apiCode"].clone())
        }
    };
    // Each account's sixth attempt follows its own fifth failure at once: the first wait is 1 s,
    // and on a busy machine one password verification in between (a debug build's Argon2) can
    // outlast it.
    let mut n = 0;
    let mut sixth = Vec::new();
    for (user, right_password) in [("alice", ALICE.1), ("nobody-by-this-name", "anything")] {
        for _ in 0..5 {
            n += 1;
            let (status, _, _) = attempt(user, "wrong guess", n).await;
            assert_ne!(status, 200);
            assert_ne!(status, 429, "throttled before the free failures were used");
        }
        // The sixth, from yet another address, is held back whatever the password.
        n += 1;
        sixth.push(attempt(user, right_password, n).await);
    }
    // The answer is the same for the real account and the unknown one.
    let (real, unknown) = (sixth[0].clone(), sixth[1].clone());
    assert_eq!(real.0, 429, "the right password got through the backoff");
    assert!(real.1, "no Retry-After");
    assert_eq!(
        real, unknown,
        "the throttle tells a real account from an unknown one"
    );
    // Bob is not affected.
    let (status, _, _) = attempt("bob", BOB.1, n + 1).await;
    assert_eq!(status, 200);
}

#[cfg(unix)]
#[tokio::test]
async fn a_fresh_data_dir_is_private_from_the_first_write() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("tmp");
    let dir = parent.path().join("fresh");
    let server = qrlogin_server::Server::open(qrlogin_server::OpenOptions::new(&dir))
        .await
        .expect("open");
    server
        .add_user(qrlogin_server::NewUser {
            username: "carol".into(),
            password: "pw".into(),
            ..Default::default()
        })
        .await
        .expect("a write");
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700, "data directory");
    for f in ["qrlogin.db", "qrlogin.db-wal", "qrlogin.db-shm"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn an_existing_world_readable_data_dir_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    drop(
        qrlogin_server::Server::open(qrlogin_server::OpenOptions::new(dir.path()))
            .await
            .expect("open"),
    );
    let db = dir.path().join("qrlogin.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let _server = qrlogin_server::Server::open(qrlogin_server::OpenOptions::new(dir.path()))
        .await
        .expect("reopen");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(dir.path()), 0o700);
    assert_eq!(mode(&db), 0o600);
}
