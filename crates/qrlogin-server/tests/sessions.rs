//! Issue 11, server side: every token belongs to a server-side session that can end. Refresh
//! rotates and a reused refresh token ends the session; revocation and introspection follow
//! RFC 7009 / 7662; a desktop (QR exchange) token never approves; password change and disable
//! end sessions; tokens are delivered once; the seed G1 client signs in on a `url` app.

mod common;

use common::*;
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, QrPayload};
use serde_json::{json, Value};

/// A form POST (what the SDKs send) with optional extra headers.
async fn form(
    ts: &TestServer,
    path: &str,
    pairs: &[(&str, &str)],
    headers: &[(&str, String)],
) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut rb = ts
        .http
        .post(ts.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    for (k, v) in headers {
        rb = rb.header(*k, v);
    }
    let r = rb.send().await.expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn profile(ts: &TestServer, token: &str) -> (u16, Value) {
    let r = ts
        .http
        .get(ts.url("/api/v3/get-profile"))
        .bearer_auth(token)
        .send()
        .await
        .expect("profile");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A G4 QR login approved by alice on the phone page; the exchange uses the app secret
/// (`Basic`), or the PKCE verifier when `pkce` is set. Returns the token set.
async fn g4_login(ts: &TestServer, pkce_login: bool) -> Value {
    let (verifier, challenge) = pkce();
    let extra = if pkce_login {
        json!({"codeChallenge": challenge, "codeChallengeMethod": "S256"})
    } else {
        json!({})
    };
    let d = ts.g4_generate(extra).await;
    approve(d["qrContent"].as_str().expect("qr"), ALICE, None).await;
    let id = d["qrcodeId"].as_str().expect("id");
    let (_, s) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    let ticket = s["data"]["ticket"].as_str().expect("ticket").to_owned();
    let (code, r) = if pkce_login {
        ts.post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket, "codeVerifier": verifier}),
            &[],
        )
        .await
    } else {
        ts.post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket}),
            &[ts.basic()],
        )
        .await
    };
    assert_eq!(code, 200, "{r}");
    r["data"].clone()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

fn secret_post(ts: &TestServer) -> [(&'static str, String); 2] {
    [
        ("client_id", ts.app.app_id.clone()),
        ("client_secret", ts.app.app_secret.clone()),
    ]
}

async fn refresh(ts: &TestServer, rt: &str) -> (u16, Value) {
    let [(a, id), (b, secret)] = secret_post(ts);
    form(
        ts,
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            (a, &id),
            (b, &secret),
        ],
        &[],
    )
    .await
}

async fn introspect(ts: &TestServer, token: &str) -> Value {
    let [(a, id), (b, secret)] = secret_post(ts);
    let (code, r) = form(
        ts,
        "/oidc/token/introspection",
        &[("token", token), (a, &id), (b, &secret)],
        &[],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    r
}

#[tokio::test]
async fn a_refresh_rotates_and_a_reused_refresh_token_ends_the_whole_session() {
    let ts = start(app("Desktop")).await;
    let first = g4_login(&ts, false).await;
    let rt1 = s(&first, "refresh_token").to_owned();

    let (code, second) = refresh(&ts, &rt1).await;
    assert_eq!(code, 200, "{second}");
    let rt2 = s(&second, "refresh_token").to_owned();
    assert_ne!(rt1, rt2, "the refresh token rotates");
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 3600);
    let access2 = s(&second, "access_token").to_owned();
    assert_eq!(profile(&ts, &access2).await.0, 200);

    // An attacker replays the first refresh token: refused, and the session is over for
    // everyone, including the legitimate holder of the newer tokens.
    let (code, r) = refresh(&ts, &rt1).await;
    assert_eq!(
        (code, r["error"].clone()),
        (400, json!("invalid_grant")),
        "{r}"
    );
    let (code, p) = profile(&ts, &access2).await;
    assert_eq!(code, 401, "{p}");
    assert_eq!(p["apiCode"], 2020);
    let (code, r) = refresh(&ts, &rt2).await;
    assert_eq!(
        (code, r["error"].clone()),
        (400, json!("invalid_grant")),
        "{r}"
    );
    assert_eq!(introspect(&ts, &access2).await["active"], false);
}

#[tokio::test]
async fn revoking_either_token_ends_the_session_and_get_profile_says_not_signed_in() {
    let ts = start(app("Desktop")).await;
    for hint in ["access_token", "refresh_token"] {
        let set = g4_login(&ts, false).await;
        let access = s(&set, "access_token");
        let rt = s(&set, "refresh_token");
        assert_eq!(profile(&ts, access).await.0, 200);
        let live = introspect(&ts, access).await;
        assert_eq!(live["active"], true, "{live}");
        assert_eq!(live["username"], "alice");
        assert_eq!(live["client_id"], ts.app.app_id);
        assert_eq!(introspect(&ts, rt).await["token_type"], "refresh_token");

        let token = if hint == "access_token" { access } else { rt };
        let [(a, id), (b, secret)] = secret_post(&ts);
        let (code, r) = form(
            &ts,
            "/oidc/token/revocation",
            &[
                ("token", token),
                ("token_type_hint", hint),
                (a, &id),
                (b, &secret),
            ],
            &[],
        )
        .await;
        assert_eq!(code, 200, "{r}");
        let (code, p) = profile(&ts, access).await;
        assert_eq!(
            (code, p["apiCode"].clone()),
            (401, json!(2020)),
            "{hint}: {p}"
        );
        assert_eq!(introspect(&ts, access).await, json!({"active": false}));
        assert_eq!(introspect(&ts, rt).await, json!({"active": false}));
        assert_eq!(refresh(&ts, rt).await.1["error"], "invalid_grant");
    }
    // RFC 7009: an unknown token is 200 too; the same endpoint answers under /oauth/.
    let (code, _) = form(
        &ts,
        "/oauth/token/revocation",
        &[("token", "nonsense"), ("client_id", &ts.app.app_id)],
        &[],
    )
    .await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn client_authentication_post_basic_and_none_and_their_refusals() {
    let ts = start(app("Desktop")).await;
    let other = ts.server.add_app(app("Other")).await.expect("second app");

    // client_secret_basic.
    let set = g4_login(&ts, false).await;
    let (code, r) = form(
        &ts,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", s(&set, "refresh_token")),
        ],
        &[ts.basic()],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let rt = s(&r, "refresh_token").to_owned();

    // A wrong secret is invalid_client and spends nothing.
    let (code, r) = form(
        &ts,
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", &ts.app.app_id),
            ("client_secret", "wrong"),
        ],
        &[],
    )
    .await;
    assert_eq!(
        (code, r["error"].clone()),
        (401, json!("invalid_client")),
        "{r}"
    );
    // `none` on a session made with the secret: refused, still spends nothing.
    let (code, r) = form(
        &ts,
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", &ts.app.app_id),
        ],
        &[],
    )
    .await;
    assert_eq!(
        (code, r["error"].clone()),
        (401, json!("invalid_client")),
        "{r}"
    );
    // Another app, with its own valid secret, cannot use this app's refresh token.
    let (code, r) = form(
        &ts,
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", &other.app_id),
            ("client_secret", &other.app_secret),
        ],
        &[],
    )
    .await;
    assert_eq!(
        (code, r["error"].clone()),
        (400, json!("invalid_grant")),
        "{r}"
    );
    // None of the refusals spent it.
    assert_eq!(refresh(&ts, &rt).await.0, 200);

    // A public desktop client that used PKCE refreshes with `none`.
    let set = g4_login(&ts, true).await;
    let (code, r) = form(
        &ts,
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", s(&set, "refresh_token")),
            ("client_id", &ts.app.app_id),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    // A JSON body works as well as a form; other grants are refused clearly.
    let (code, r) = ts
        .post(
            "/oidc/token",
            json!({"grant_type": "password", "client_id": ts.app.app_id}),
        )
        .await;
    assert_eq!(
        (code, r["error"].clone()),
        (400, json!("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn openid_configuration_lists_the_endpoints() {
    let ts = start(app("Desktop")).await;
    let (code, d) = ts.get("/.well-known/openid-configuration").await;
    assert_eq!(code, 200);
    assert_eq!(d["issuer"], ts.base);
    assert_eq!(d["token_endpoint"], format!("{}/oidc/token", ts.base));
    assert_eq!(
        d["revocation_endpoint"],
        format!("{}/oidc/token/revocation", ts.base)
    );
    assert_eq!(
        d["introspection_endpoint"],
        format!("{}/oidc/token/introspection", ts.base)
    );
    assert_eq!(d["jwks_uri"], format!("{}/.well-known/jwks.json", ts.base));
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post", "client_secret_basic", "none"])
    );
    let (_, q) = ts.get("/.well-known/qrlogin").await;
    assert_eq!(q["sessions"], true);
}

/// What an attacker with a token copied off a kiosk would try: approve a new QR login of their
/// own with it, on every generation's phone endpoints and on the approval page.
#[tokio::test]
async fn a_desktop_token_cannot_scan_confirm_or_cancel_on_any_generation() {
    let ts = start(NewApp {
        allow_client_exchange: true,
        ..app("Desktop")
    })
    .await;
    let desktop = s(&g4_login(&ts, false).await, "access_token").to_owned();
    // A G3 desktop token too (a different exchange path).
    let d = ts.g3_generate(json!({})).await;
    approve(s(&d, "qrContent"), ALICE, None).await;
    let st = ts.g3_status(s(&d, "random")).await;
    let (_, ex) = ts
        .post_h(
            "/api/v2/qrcode/userinfo",
            json!({"ticket": st["ticket"]}),
            &[],
        )
        .await;
    let g3_desktop = s(&ex["data"], "token").to_owned();
    assert!(ex["data"]["refreshToken"].is_string(), "{ex}");

    for token in [&desktop, &g3_desktop] {
        let auth = [("authorization", format!("Bearer {token}"))];
        // G2 (app v1/v2)
        let d = ts.g3_generate(json!({})).await;
        let random = s(&d, "random");
        for action in ["scanned", "confirm", "cancel"] {
            let (_, r) = ts
                .post_h(
                    &format!("/oauth/scan-qrcode/{action}"),
                    json!({"qrcodeId": random}),
                    &auth,
                )
                .await;
            assert_eq!(r["code"], 403, "G2 {action}: {r}");
            assert!(
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("扫码登录获得的凭证")),
                "{r}"
            );
        }
        // G3 (v2)
        for action in ["scanned", "confirm", "cancel"] {
            let (_, r) = ts
                .post_h(
                    &format!("/api/v2/qrcode/{action}"),
                    json!({"random": random}),
                    &[auth[0].clone(), ("x-authing-lang", "en-US".into())],
                )
                .await;
            assert_eq!(r["code"], 403, "G3 {action}: {r}");
            assert!(
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("cannot scan or approve")),
                "{r}"
            );
        }
        // G4 (v3), both phone endpoints
        let g4 = ts.g4_generate(json!({})).await;
        for path in ["set-qrcode-status", "change-qrcode-status"] {
            for action in ["SCAN", "CONFIRM", "CANCEL"] {
                let (code, r) = ts
                    .post_h(
                        &format!("/api/v3/{path}"),
                        json!({"qrcodeId": g4["qrcodeId"], "action": action}),
                        &auth,
                    )
                    .await;
                assert_eq!(
                    (code, r["apiCode"].clone()),
                    (403, json!(403)),
                    "{path} {action}: {r}"
                );
            }
        }
        // Nothing was scanned by any of it.
        assert_eq!(ts.g3_status(random).await["status"], 0);
        let (_, st) = ts
            .get(&format!(
                "/api/v3/get-qrcode-status?qrcodeId={}",
                s(&g4, "qrcodeId")
            ))
            .await;
        assert_eq!(st["data"]["status"], "PENDING");

        // The approval page with the desktop token planted as its cookie: asks to sign in.
        let page = ts
            .http
            .get(format!("{}/s/{}", ts.base, s(&g4, "scanId")))
            .header("cookie", format!("qrl_session={token}"))
            .send()
            .await
            .expect("page");
        let html = page.text().await.expect("html");
        assert!(html.contains("name=\"password\""), "{html}");
        assert_eq!(st["data"]["status"], "PENDING");
    }

    // A phone sign-in token still approves (the rule confines, it does not break phones).
    let phone = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("phone token");
    let d = ts.g3_generate(json!({})).await;
    let (_, r) = ts
        .post_h(
            "/api/v2/qrcode/scanned",
            json!({"random": d["random"]}),
            &[("authorization", format!("Bearer {phone}"))],
        )
        .await;
    assert_eq!(r["code"], 200, "{r}");
}

#[tokio::test]
async fn a_password_change_and_a_disabled_user_end_sessions_at_once() {
    let ts = start(app("Desktop")).await;
    let desktop = s(&g4_login(&ts, false).await, "access_token").to_owned();
    let phone = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("phone token");
    assert_eq!(profile(&ts, &desktop).await.0, 200);
    assert_eq!(
        ts.server.user_sessions("alice").await.expect("list").len(),
        3
    );

    ts.server
        .set_password("alice", "new-password")
        .await
        .expect("passwd");
    assert_eq!(profile(&ts, &desktop).await.0, 401);
    assert_eq!(profile(&ts, &phone).await.0, 401);
    assert!(ts
        .server
        .user_sessions("alice")
        .await
        .expect("list")
        .is_empty());

    let desktop = s(
        &g4_login_as(&ts, ("alice", "new-password")).await,
        "access_token",
    )
    .to_owned();
    assert_eq!(profile(&ts, &desktop).await.0, 200);
    assert_eq!(ts.server.disable_user("alice").await.expect("disable"), 2);
    assert_eq!(profile(&ts, &desktop).await.0, 401);
    // A disabled user is told so, even with the right password.
    let err = Phone::new()
        .sign_in_api(&ts.base, "alice", "new-password")
        .await
        .expect_err("disabled");
    assert!(err.to_string().contains("停用"), "{err}");
    ts.server.enable_user("alice").await.expect("enable");
    Phone::new()
        .sign_in_api(&ts.base, "alice", "new-password")
        .await
        .expect("enabled again");
}

async fn g4_login_as(ts: &TestServer, who: (&str, &str)) -> Value {
    let d = ts.g4_generate(json!({})).await;
    approve(s(&d, "qrContent"), who, None).await;
    let (_, st) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            s(&d, "qrcodeId")
        ))
        .await;
    let (code, r) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": st["data"]["ticket"]}),
            &[ts.basic()],
        )
        .await;
    assert_eq!(code, 200, "{r}");
    r["data"].clone()
}

#[tokio::test]
async fn an_administrator_lists_and_revokes_one_session_or_all() {
    let ts = start(app("Desktop")).await;
    let a = s(&g4_login(&ts, false).await, "access_token").to_owned();
    let b = s(&g4_login(&ts, false).await, "access_token").to_owned();
    let list = ts.server.user_sessions("alice").await.expect("list");
    // Two desktop sessions and the two phone-page sessions that approved them.
    assert_eq!(
        list.iter().filter(|s| s.kind == "desktop").count(),
        2,
        "{list:?}"
    );
    assert!(list
        .iter()
        .all(|s| s.app_name.as_deref() == Some("Desktop")));
    assert!(list.iter().all(|s| s.ip.as_deref() == Some("127.0.0.1")));
    let sid_of_b = introspect(&ts, &b).await["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    assert_eq!(
        ts.server
            .revoke_sessions("alice", Some(&sid_of_b))
            .await
            .expect("revoke one"),
        1
    );
    assert_eq!(profile(&ts, &b).await.0, 401);
    assert_eq!(profile(&ts, &a).await.0, 200);
    assert!(ts
        .server
        .revoke_sessions("bob", Some(&sid_of_b))
        .await
        .is_err());
    assert!(ts.server.revoke_sessions("alice", None).await.expect("all") >= 2);
    assert_eq!(profile(&ts, &a).await.0, 401);
}

/// Seeds 000/001 alone: make `random`, GET the QR, poll `confirm/qr`. No PKCE, no secret.
#[tokio::test]
async fn the_seed_g1_client_signs_in_on_a_default_url_app() {
    let ts = start(app("Legacy")).await;
    let random = "SeedClientRandom0001";
    let (_, r) = ts
        .get(&format!(
            "/oauth/wxapp/qrcode/{}?random={random}",
            ts.app.app_id
        ))
        .await;
    assert_eq!(r["code"], 200, "{r}");
    approve(s(&r["data"], "qrContent"), ALICE, None).await;
    let (_, p) = ts
        .post(
            &format!("/oauth/wxapp/confirm/qr?random={random}"),
            json!(null),
        )
        .await;
    let inner = &p["data"];
    assert_eq!(inner["code"], 200, "{p}");
    assert_eq!(inner["data"]["username"], "alice");
    let token = s(&inner["data"], "token");
    assert!(inner["data"]["refreshToken"].is_string());
    assert!(inner["data"]["refreshTokenExpiredAt"].is_string());
    assert_eq!(profile(&ts, token).await.0, 200);
    // Delivered once.
    let (_, p) = ts
        .post(
            &format!("/oauth/wxapp/confirm/qr?random={random}"),
            json!(null),
        )
        .await;
    assert_eq!(p["data"]["code"], 2242, "{p}");
}

/// Where the QR holds the handle (`authing-json`), whoever photographs the QR has the `random`:
/// the G1 poll then needs the secret or PKCE, as any exchange does.
#[tokio::test]
async fn the_g1_poll_of_an_authing_json_app_still_needs_the_secret_or_pkce() {
    let ts = start(NewApp {
        qr_payload: QrPayload::AuthingJson,
        ..app("Legacy")
    })
    .await;
    let random = "SeedClientRandom0002";
    let (_, r) = ts
        .get(&format!(
            "/oauth/wxapp/qrcode/{}?random={random}",
            ts.app.app_id
        ))
        .await;
    let qr: Value = serde_json::from_str(s(&r["data"], "qrContent")).expect("json qr");
    assert_eq!(qr["random"], random, "the handle is in this QR");
    let token = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("phone");
    let auth = [("authorization", format!("Bearer {token}"))];
    for action in ["scanned", "confirm"] {
        let (_, r) = ts
            .post_h(
                &format!("/api/v2/qrcode/{action}"),
                json!({"random": random}),
                &auth,
            )
            .await;
        assert_eq!(r["code"], 200, "{r}");
    }
    // The photographer polls with only the random: refused, nothing handed over.
    let (_, p) = ts
        .post(
            &format!("/oauth/wxapp/confirm/qr?random={random}"),
            json!(null),
        )
        .await;
    assert_eq!(p["data"]["code"], 403, "{p}");
    assert!(p["data"]["data"].is_null());
    // The requester with the secret gets the user.
    let r = ts
        .http
        .post(ts.url(&format!("/oauth/wxapp/confirm/qr?random={random}")))
        .header(ts.basic().0, ts.basic().1)
        .send()
        .await
        .expect("poll");
    let p: Value = r.json().await.expect("json");
    assert_eq!(p["data"]["code"], 200, "{p}");
}

/// `returnFullUserInfo`: whoever polls after the first authorized reply gets no token.
#[tokio::test]
async fn return_full_user_info_delivers_the_token_once_on_every_generation() {
    let ts = start(NewApp {
        return_full_user_info: true,
        ..app("Desktop")
    })
    .await;
    // G3
    let d = ts.g3_generate(json!({})).await;
    approve(s(&d, "qrContent"), ALICE, None).await;
    let first = ts.g3_status(s(&d, "random")).await;
    assert!(first["userInfo"]["token"].is_string(), "{first}");
    assert!(first["userInfo"]["refreshToken"].is_string(), "{first}");
    let second = ts.g3_status(s(&d, "random")).await;
    assert_eq!(second["status"], 2);
    assert_eq!(second["userInfo"]["username"], "alice");
    assert!(second["userInfo"].get("token").is_none(), "{second}");
    assert!(!second.to_string().contains("eyJ"), "{second}");
    // G2
    let (_, g) = ts
        .get(&format!(
            "/qrcode/gene?userPoolId={}&scene=APP_AUTH",
            ts.app.user_pool_id
        ))
        .await;
    let g2 = &g["data"];
    approve(s(g2, "qrContent"), ALICE, None).await;
    let check = |id: String| {
        let ts = &ts;
        async move { ts.get(&format!("/qrcode/check?qrcodeId={id}")).await.1 }
    };
    let first = check(s(g2, "qrcodeId").to_owned()).await;
    assert!(first["data"]["userInfo"]["token"].is_string(), "{first}");
    let second = check(s(g2, "qrcodeId").to_owned()).await;
    assert!(!second.to_string().contains("eyJ"), "{second}");
    // G4
    let d = ts.g4_generate(json!({})).await;
    approve(s(&d, "qrContent"), ALICE, None).await;
    let path = format!("/api/v3/get-qrcode-status?qrcodeId={}", s(&d, "qrcodeId"));
    let (_, first) = ts.get(&path).await;
    assert!(
        first["data"]["tokenSet"]["access_token"].is_string(),
        "{first}"
    );
    assert!(
        first["data"]["tokenSet"]["refresh_token"].is_string(),
        "{first}"
    );
    let (_, second) = ts.get(&path).await;
    assert_eq!(second["data"]["status"], "AUTHORIZED");
    assert!(second["data"].get("tokenSet").is_none(), "{second}");
    assert!(!second.to_string().contains("eyJ"), "{second}");
}

#[tokio::test]
async fn access_tokens_live_as_long_as_the_app_says() {
    let ts = start(NewApp {
        access_ttl_secs: Some(120),
        ..app("Short")
    })
    .await;
    let set = g4_login(&ts, false).await;
    assert_eq!(set["expires_in"], 120, "{set}");
    let live = introspect(&ts, s(&set, "access_token")).await;
    let lifetime = live["exp"].as_i64().expect("exp") - live["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 120, "{live}");
    let (_, r) = refresh(&ts, s(&set, "refresh_token")).await;
    assert_eq!(r["expires_in"], 120, "{r}");
}

#[tokio::test]
async fn the_login_history_records_sign_ins_and_decisions_and_the_sdk_query_filters_it() {
    let ts = start(app("Desktop")).await;
    let set = g4_login(&ts, false).await; // a page sign-in + a confirm
                                          // A wrong password and a cancel.
    assert!(Phone::new()
        .sign_in_api(&ts.base, ALICE.0, "wrong")
        .await
        .is_err());
    let d = ts
        .g4_generate(json!({"requester": {"deviceName": "Kiosk 7"}}))
        .await;
    let phone = Phone::new();
    let page = scan_as(&phone, s(&d, "qrContent"), ALICE).await;
    phone.cancel(&page).await.expect("cancel");

    let token = s(&set, "access_token");
    let get = |q: &'static str| {
        let ts = &ts;
        async move {
            let r = ts
                .http
                .get(ts.url(&format!("/api/v3/get-my-login-history{q}")))
                .bearer_auth(token)
                .send()
                .await
                .expect("history");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.expect("json"))
        }
    };
    let (code, all) = get("?page=1&limit=10").await;
    assert_eq!(code, 200, "{all}");
    let data = &all["data"];
    // sign-in, confirm, wrong password, sign-in, cancel.
    assert_eq!(data["totalCount"], 5, "{data}");
    let list = data["list"].as_array().expect("list");
    assert_eq!(list[0]["outcome"], "cancelled");
    assert_eq!(list[0]["requesterDevice"], "Kiosk 7");
    assert_eq!(list[0]["requesterIp"], "127.0.0.1");
    assert_eq!(list[0]["approverIp"], "127.0.0.1");
    assert_eq!(list[0]["appName"], "Desktop");
    assert!(list
        .iter()
        .any(|e| e["outcome"] == "wrong-password" && e["success"] == false));
    assert!(list
        .iter()
        .any(|e| e["outcome"] == "authorized" && e["loginMethod"] == "QRCODE"));

    let (_, failed) = get("?success=false").await;
    assert_eq!(failed["data"]["totalCount"], 2, "{failed}");
    let (_, page2) = get("?page=2&limit=2").await;
    assert_eq!(page2["data"]["list"].as_array().map(Vec::len), Some(2));
    let (_, none) = get("?appId=someone-else").await;
    assert_eq!(none["data"]["totalCount"], 0);
    let (_, future) = get("?start=99999999999999").await;
    assert_eq!(future["data"]["totalCount"], 0);
    let (code, _) = get("?limit=abc").await;
    assert_eq!(code, 400);

    // Bob's token sees none of Alice's history.
    let bob = Phone::new()
        .sign_in_api(&ts.base, BOB.0, BOB.1)
        .await
        .expect("bob");
    let r: Value = ts
        .http
        .get(ts.url("/api/v3/get-my-login-history"))
        .bearer_auth(&bob)
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    assert_eq!(r["data"]["totalCount"], 1, "{r}");
    // Revoked: not signed in.
    ts.server
        .revoke_sessions("alice", None)
        .await
        .expect("revoke");
    assert_eq!(get("").await.0, 401);
    // The operator's view.
    let audit = ts
        .server
        .login_history(Some("alice"), 100)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 5);
}

/// `returnFullUserInfo` with a PKCE challenge: whoever polls without the verifier (a photo of an
/// `authing-json` QR holds the handle) gets only the ticket, which needs the verifier too.
#[tokio::test]
async fn a_full_user_poll_hands_tokens_only_to_the_verifier_when_a_challenge_was_sent() {
    let ts = start(NewApp {
        return_full_user_info: true,
        qr_payload: QrPayload::AuthingJson,
        ..app("Desktop")
    })
    .await;
    let (verifier, challenge) = pkce();
    let d = ts
        .g4_generate(json!({"codeChallenge": challenge, "codeChallengeMethod": "S256"}))
        .await;
    let id = s(&d, "qrcodeId").to_owned();
    let phone = Phone::new()
        .sign_in_api(&ts.base, ALICE.0, ALICE.1)
        .await
        .expect("phone");
    for action in ["SCAN", "CONFIRM"] {
        let (code, r) = ts
            .post_h(
                "/api/v3/set-qrcode-status",
                json!({"qrcodeId": id, "action": action}),
                &[("authorization", format!("Bearer {phone}"))],
            )
            .await;
        assert_eq!(code, 200, "{r}");
    }
    // The photographer: no verifier, no tokens; the ticket it sees is useless without it.
    let (_, thief) = ts
        .get(&format!("/api/v3/get-qrcode-status?qrcodeId={id}"))
        .await;
    assert!(thief["data"].get("tokenSet").is_none(), "{thief}");
    let ticket = s(&thief["data"], "ticket").to_owned();
    let (code, r) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket}),
            &[],
        )
        .await;
    assert_eq!((code, r["apiCode"].clone()), (400, json!(2243)), "{r}");
    // The requester, with its verifier, gets the tokens on the poll.
    let (_, mine) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={id}&codeVerifier={verifier}"
        ))
        .await;
    assert!(
        mine["data"]["tokenSet"]["access_token"].is_string(),
        "{mine}"
    );
}

/// What a copy of the database gives an attacker: refresh tokens only as SHA-256.
#[tokio::test]
async fn refresh_tokens_are_stored_only_as_their_sha256() {
    use sha2::{Digest, Sha256};
    let ts = start(app("Desktop")).await;
    let set = g4_login(&ts, false).await;
    let (_, next) = refresh(&ts, s(&set, "refresh_token")).await;
    let stored = ts.db.raw_text();
    for rt in [s(&set, "refresh_token"), s(&next, "refresh_token")] {
        let body = rt.trim_start_matches("rt_");
        assert!(
            !stored.contains(body),
            "a refresh token is stored in the clear"
        );
        assert!(stored.contains(&hex::encode(Sha256::digest(rt.as_bytes()))));
    }
    // Another app can neither end nor read this app's session.
    let other = ts.server.add_app(app("Other")).await.expect("app");
    let token = s(&next, "access_token");
    let (code, _) = form(
        &ts,
        "/oidc/token/revocation",
        &[
            ("token", token),
            ("client_id", &other.app_id),
            ("client_secret", &other.app_secret),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        profile(&ts, token).await.0,
        200,
        "another app ended the session"
    );
    let (_, r) = form(
        &ts,
        "/oidc/token/introspection",
        &[
            ("token", token),
            ("client_id", &other.app_id),
            ("client_secret", &other.app_secret),
        ],
        &[],
    )
    .await;
    assert_eq!(r, json!({"active": false}));
}

/// The history is bounded: the sweep deletes what is older than `HISTORY_KEEP` and keeps the
/// rest; ended sessions go with it.
#[tokio::test]
async fn the_sweep_bounds_the_history_and_removes_ended_sessions() {
    use qrlogin_server::store::auth::{AuthStore, LoginEvent};
    let ts = start(app("Desktop")).await;
    // The store the server runs on, opened a second time, as another instance would.
    let store: Box<dyn AuthStore> = match &ts.db.url {
        Some(url) => Box::new(
            qrlogin_server::store::PgStore::connect(url)
                .await
                .expect("pg"),
        ),
        None => Box::new(
            qrlogin_server::store::SqliteStore::open(
                &ts.db.dir.path().join(qrlogin_server::DB_FILE),
            )
            .await
            .expect("sqlite"),
        ),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let keep = qrlogin_server::HISTORY_KEEP.as_millis() as i64;
    for (id, at) in [
        ("old", now - keep - 60_000),
        ("recent", now - keep + 3_600_000),
    ] {
        store
            .insert_login_event(&LoginEvent {
                id: id.into(),
                user_id: None,
                username: "alice".into(),
                app_id: ts.app.app_id.clone(),
                event: "sign-in".into(),
                success: false,
                outcome: "wrong-password".into(),
                device: None,
                requester_ip: None,
                approver_ip: Some("10.0.0.1".into()),
                at,
            })
            .await
            .expect("insert");
    }
    let set = g4_login(&ts, false).await;
    let sid = introspect(&ts, s(&set, "access_token")).await["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    ts.server
        .revoke_sessions("alice", Some(&sid))
        .await
        .expect("revoke");
    assert!(store.get_auth_session(&sid).await.expect("get").is_some());
    // `sweep(ZERO)` deletes what ended strictly before now: let a millisecond pass.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    ts.server
        .sweep(std::time::Duration::ZERO)
        .await
        .expect("sweep");
    let history = ts.server.login_history(None, 100).await.expect("history");
    let times: Vec<&str> = history.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(history.len(), 3, "{times:?}"); // page sign-in, confirm, the recent one
    assert!(
        store.get_auth_session(&sid).await.expect("get").is_none(),
        "ended session kept"
    );
    // The refresh token went with it: unknown now, still refused.
    assert_eq!(
        refresh(&ts, s(&set, "refresh_token")).await.1["error"],
        "invalid_grant"
    );
}

/// An attacker racing the legitimate client with a copy of the same refresh token: exactly one
/// refresh succeeds, and the other one, seeing the token spent, ends the session for both.
#[tokio::test]
async fn two_refreshes_racing_with_one_token_get_one_set_and_end_the_session() {
    let ts = start(app("Desktop")).await;
    for _ in 0..5 {
        let set = g4_login(&ts, false).await;
        let rt = s(&set, "refresh_token");
        let (a, b) = tokio::join!(refresh(&ts, rt), refresh(&ts, rt));
        let mut codes = [a.0, b.0];
        codes.sort_unstable();
        assert_eq!(codes, [200, 400], "{a:?} {b:?}");
        let winner = if a.0 == 200 { &a.1 } else { &b.1 };
        assert_eq!(profile(&ts, s(winner, "access_token")).await.0, 401);
        assert_eq!(refresh(&ts, s(winner, "refresh_token")).await.0, 400);
    }
}
