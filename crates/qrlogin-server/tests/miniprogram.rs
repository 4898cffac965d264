//! A company's own WeChat mini-program signs its users in (`POST /api/v3/signin-by-mobile`,
//! `decrypt-wechat-miniprogram-data`) against a local WeChat stand-in, binds phones as
//! authing-node-sdk's DTO comment says, links accounts (`--link`), and then approves desktop QRs.
//! Each attack test does what an attacker would.

mod common;

use common::wechat::{encrypt, phone_info, WechatStandIn};
use common::*;
use qrlogin_server::idp::{LinkMode, NewIdentitySource};
use qrlogin_server::{RateLimits, ServeOptions};
use serde_json::{json, Value};

const APPID: &str = "wxa1b2c3d4e5f60001";
const SECRET: &str = "mini-program-app-secret-0123456789";
const SOURCE: &str = "company-wxapp";
const PHONE: &str = "13580006666";

struct Mini {
    ts: TestServer,
    wx: WechatStandIn,
}

async fn setup(link: LinkMode) -> Mini {
    setup_with(link, RateLimits::unlimited()).await
}

async fn setup_with(link: LinkMode, rate_limits: RateLimits) -> Mini {
    let wx = WechatStandIn::start(APPID, SECRET).await;
    let ts = start_serving(
        app("Desktop"),
        ServeOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            rate_limits,
            wechat_api_base: Some(wx.base.clone()),
            ..Default::default()
        },
    )
    .await;
    ts.server
        .add_wechat_miniprogram(NewIdentitySource {
            id: SOURCE.into(),
            app_id: APPID.into(),
            app_secret: SECRET.into(),
            link,
        })
        .await
        .expect("add source");
    Mini { ts, wx }
}

impl Mini {
    async fn sign_in(&self, body: Value) -> (u16, Value) {
        self.ts.post_h("/api/v3/signin-by-mobile", body, &[]).await
    }

    /// `wechat_mini_program_code` with the encrypted profile of `nick`.
    async fn sign_in_code(&self, openid: &str, nick: &str) -> (u16, Value) {
        let (code, key) = self.wx.login(openid);
        let (data, iv) = encrypt(&key, &profile(openid, nick, APPID));
        self.sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_code",
            "wechatMiniProgramCodePayload": {"code": code, "encryptedData": data, "iv": iv},
        }))
        .await
    }

    /// `wechat_mini_program_code_and_phone` with a phone code for `phone`.
    async fn sign_in_code_and_phone(&self, openid: &str, phone: &str) -> (u16, Value) {
        let (code, _) = self.wx.login(openid);
        let phone_code = self.wx.phone_code(phone, APPID);
        self.sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_code_and_phone",
            "wechatMiniProgramCodeAndPhonePayload": {
                "wxLoginInfo": {"code": code},
                "wxPhoneInfo": {"code": phone_code},
            },
        }))
        .await
    }

    async fn profile_of(&self, token: &str) -> Value {
        let r: Value = self
            .ts
            .http
            .get(self.ts.url("/api/v3/get-profile"))
            .bearer_auth(token)
            .send()
            .await
            .expect("profile")
            .json()
            .await
            .expect("json");
        r["data"].clone()
    }

    async fn user_count(&self) -> usize {
        self.ts.server.list_users().await.expect("users").len()
    }
}

fn profile(openid: &str, nick: &str, watermark_appid: &str) -> Value {
    json!({
        "openId": openid, "nickName": nick, "gender": 0, "language": "zh_CN",
        "avatarUrl": "https://thirdwx.qlogo.cn/mmopen/vi_32/x/132",
        "watermark": {"timestamp": 1_700_000_000, "appid": watermark_appid},
    })
}

fn token_of(reply: &Value) -> String {
    reply["data"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {reply}"))
        .to_owned()
}

/// The mini-program as the phone: scan and confirm a desktop's G4 QR with its token.
async fn approve_with_token(ts: &TestServer, token: &str, qr_content: &str) -> (u16, Value) {
    let scan_id = qr_content.rsplit('/').next().expect("scan id").to_owned();
    for action in ["SCAN", "CONFIRM"] {
        let (status, reply) = ts
            .post_h(
                "/api/v3/set-qrcode-status",
                json!({"scanId": scan_id, "action": action}),
                &[("authorization", format!("Bearer {token}"))],
            )
            .await;
        if status != 200 {
            return (status, reply);
        }
    }
    (200, Value::Null)
}

/// The desktop's side: a G4 QR, approved by `token`, exchanged for the desktop's own tokens.
async fn desktop_login_approved_by(ts: &TestServer, token: &str) -> Value {
    let gene = ts.g4_generate(json!({})).await;
    let (status, reply) =
        approve_with_token(ts, token, gene["qrContent"].as_str().expect("qrContent")).await;
    assert_eq!(status, 200, "approve: {reply}");
    let (_, polled) = ts
        .get(&format!(
            "/api/v3/get-qrcode-status?qrcodeId={}",
            gene["qrcodeId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(polled["data"]["status"], "AUTHORIZED", "{polled}");
    let ticket = polled["data"]["ticket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    let (status, tokens) = ts
        .post_h(
            "/api/v3/exchange-tokenset-with-qrcode-ticket",
            json!({"ticket": ticket}),
            &[ts.basic()],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    tokens["data"].clone()
}

#[tokio::test]
async fn a_mini_program_sign_in_is_an_approver_that_confirms_a_desktop_qr() {
    let m = setup(LinkMode::None).await;
    let (status, reply) = m.sign_in_code("openid-zhang", "张三").await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["statusCode"], 200);
    let token = token_of(&reply);
    assert!(reply["data"]["refresh_token"].is_string(), "{reply}");
    let me = m.profile_of(&token).await;
    assert_eq!(me["nickname"], "张三", "{me}");
    assert_eq!(
        me["photo"], "https://thirdwx.qlogo.cn/mmopen/vi_32/x/132",
        "{me}"
    );
    let username = me["username"].as_str().expect("username").to_owned();

    // The same WeChat user again is the same user, not a second one.
    let (_, again) = m.sign_in_code("openid-zhang", "张三").await;
    assert_eq!(
        m.profile_of(&token_of(&again)).await["id"],
        me["id"],
        "{again}"
    );

    // The mini-program approves a desktop's QR; the desktop signs in as that user.
    let desktop = desktop_login_approved_by(&m.ts, &token).await;
    let desktop_token = desktop["access_token"].as_str().expect("desktop token");
    assert_eq!(m.profile_of(desktop_token).await["username"], username);

    // Listed as a phone-side session, which is what lets it approve.
    let kinds: Vec<String> =
        m.ts.server
            .user_sessions(&username)
            .await
            .expect("sessions")
            .into_iter()
            .map(|s| s.kind)
            .collect();
    assert!(kinds.contains(&"approver".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"desktop".to_owned()), "{kinds:?}");
}

/// Attack: the desktop's token, got from a QR the mini-program approved, is no approver: a
/// leaked desktop token cannot approve (and so mint) new desktop sessions.
#[tokio::test]
async fn the_desktop_token_of_a_mini_program_approval_cannot_approve() {
    let m = setup(LinkMode::None).await;
    let (_, reply) = m.sign_in_code("openid-li", "李四").await;
    let desktop = desktop_login_approved_by(&m.ts, &token_of(&reply)).await;
    let gene = m.ts.g4_generate(json!({})).await;
    let (status, refused) = approve_with_token(
        &m.ts,
        desktop["access_token"].as_str().unwrap(),
        gene["qrContent"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["apiCode"], 403, "{refused}");
}

#[tokio::test]
async fn a_new_user_gets_the_verified_phone_and_an_existing_one_without_a_phone_too() {
    let m = setup(LinkMode::None).await;
    let (status, reply) = m.sign_in_code_and_phone("openid-new", PHONE).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(m.profile_of(&token_of(&reply)).await["phone"], PHONE);

    // Signed up without a phone first, then signs in with one: it is bound.
    let (_, first) = m.sign_in_code("openid-later", "Later").await;
    assert_eq!(m.profile_of(&token_of(&first)).await["phone"], Value::Null);
    let (status, second) = m
        .sign_in_code_and_phone("openid-later", "13900001111")
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        m.profile_of(&token_of(&second)).await["phone"],
        "13900001111"
    );

    // The old form (`wechat_mini_program_phone`: encrypted with the session key) binds too.
    let (code, key) = m.wx.login("openid-old-form");
    let (data, iv) = encrypt(&key, &phone_info("13700002222", APPID));
    let (status, old) = m
        .sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_phone",
            "wechatMiniProgramPhonePayload": {"code": code, "encryptedData": data, "iv": iv},
        }))
        .await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(m.profile_of(&token_of(&old)).await["phone"], "13700002222");
}

/// Attack: a WeChat user verifies a number that already belongs to carol; neither a new user
/// nor an existing one without a phone takes it from her (and nobody signs in as her).
#[tokio::test]
async fn a_phone_bound_to_another_user_is_not_bound_again() {
    let m = setup(LinkMode::None).await;
    // carol's number, as the operator typed it (with the country code).
    let carol = add_carol(&m, "+8613580006666").await;

    let (status, reply) = m.sign_in_code_and_phone("openid-mallory", PHONE).await;
    assert_eq!(status, 200, "{reply}");
    let me = m.profile_of(&token_of(&reply)).await;
    assert_ne!(me["id"], carol.id, "signed in as carol: {me}");
    assert_eq!(
        me["phone"],
        Value::Null,
        "the new user took carol's phone: {me}"
    );

    let (status, again) = m.sign_in_code_and_phone("openid-mallory", PHONE).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(m.profile_of(&token_of(&again)).await["phone"], Value::Null);
    let holders: Vec<_> =
        m.ts.server
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.phone.as_deref().is_some_and(|p| p.ends_with(PHONE)))
            .collect();
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert_eq!(holders[0].id, carol.id);
}

/// Carol, added by the operator with a phone number typed as given.
const CAROL: (&str, &str) = ("carol", "carol-password");

async fn add_carol(m: &Mini, phone: &str) -> qrlogin_server::UserInfo {
    m.ts.server
        .add_user(qrlogin_server::NewUser {
            username: CAROL.0.into(),
            password: CAROL.1.into(),
            nickname: Some("Carol C.".into()),
            phone: Some(phone.into()),
            ..Default::default()
        })
        .await
        .expect("add carol")
}

/// Attack: data decrypted for another mini-program (its watermark names another AppID) does not
/// sign in here, in either endpoint.
#[tokio::test]
async fn open_data_watermarked_for_another_app_is_refused() {
    let m = setup(LinkMode::None).await;
    let before = m.user_count().await;
    let (code, key) = m.wx.login("openid-w");
    let (data, iv) = encrypt(&key, &phone_info(PHONE, "wxsomeoneelse0000"));
    let (status, reply) = m
        .sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_phone",
            "wechatMiniProgramPhonePayload": {"code": code, "encryptedData": data, "iv": iv},
        }))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["apiCode"], 2263, "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("watermark"),
        "{reply}"
    );
    assert!(reply["data"].is_null());
    assert_eq!(m.user_count().await, before, "a user was made");

    let (code, key) = m.wx.login("openid-w");
    let (data, iv) = encrypt(&key, &profile("openid-w", "W", "wxsomeoneelse0000"));
    let (status, reply) =
        m.ts.post_h(
            "/api/v3/decrypt-wechat-miniprogram-data",
            json!({"code": code, "iv": iv, "encryptedData": data, "extIdpConnidentifier": SOURCE}),
            &[],
        )
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply["data"].is_null(), "{reply}");
}

#[tokio::test]
async fn decrypt_returns_the_open_data_of_our_mini_program() {
    let m = setup(LinkMode::None).await;
    let (code, key) = m.wx.login("openid-d");
    let (data, iv) = encrypt(&key, &profile("openid-d", "Dee", APPID));
    let (status, reply) =
        m.ts.post_h(
            "/api/v3/decrypt-wechat-miniprogram-data",
            json!({"code": code, "iv": iv, "encryptedData": data, "extIdpConnidentifier": SOURCE}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["data"]["nickName"], "Dee");
    assert_eq!(reply["data"]["watermark"]["appid"], APPID);
    assert!(!reply.to_string().contains(&key), "the session key leaked");
}

/// Attack: an altered encryptedData (the optional profile of `wechat_mini_program_code`) fails
/// the whole sign-in with a clear error instead of signing in without a profile.
#[tokio::test]
async fn tampered_encrypted_data_is_refused_with_a_clear_error() {
    let m = setup(LinkMode::None).await;
    let before = m.user_count().await;
    let (code, key) = m.wx.login("openid-t");
    let (data, iv) = encrypt(&key, &profile("openid-t", "T", APPID));
    let mut bytes = base64_decode(&data);
    let n = bytes.len();
    bytes[n - 20] ^= 0x5a;
    let (status, reply) = m
        .sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_code",
            "wechatMiniProgramCodePayload": {"code": code, "encryptedData": base64_encode(&bytes), "iv": iv},
        }))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["apiCode"], 2263, "{reply}");
    let message = reply["message"].as_str().unwrap();
    assert!(
        message.contains("encryptedData does not decrypt"),
        "{message}"
    );
    assert!(reply["data"].is_null(), "{reply}");
    assert_eq!(m.user_count().await, before, "a user was made");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Attack: a source nobody added is refused before WeChat is asked, and never stands in for
/// the one that exists.
#[tokio::test]
async fn an_unknown_ext_idp_connidentifier_is_refused() {
    let m = setup(LinkMode::None).await;
    let (code, _) = m.wx.login("openid-u");
    let (status, reply) = m
        .sign_in(json!({
            "extIdpConnidentifier": "someone-elses",
            "connection": "wechat_mini_program_code",
            "wechatMiniProgramCodePayload": {"code": code},
        }))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["apiCode"], 2262, "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("someone-elses"),
        "{reply}"
    );
    assert_eq!(m.wx.calls(), 0, "WeChat was asked about an unknown source");
    // And the code was not spent: the real source still takes it.
    let (status, ok) = m
        .sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_code",
            "wechatMiniProgramCodePayload": {"code": code},
        }))
        .await;
    assert_eq!(status, 200, "{ok}");
}

#[tokio::test]
async fn bad_requests_say_what_is_wrong() {
    let m = setup(LinkMode::None).await;
    let (status, reply) = m
        .sign_in(json!({"extIdpConnidentifier": SOURCE, "connection": "wechat_mini_program_code"}))
        .await;
    assert_eq!(status, 400);
    assert!(reply["message"]
        .as_str()
        .unwrap()
        .contains("wechatMiniProgramCodePayload"));
    let (_, reply) = m
        .sign_in(json!({"extIdpConnidentifier": SOURCE, "connection": "apple", "applePayload": {}}))
        .await;
    assert!(
        reply["message"].as_str().unwrap().contains("not offered"),
        "{reply}"
    );
    // A code WeChat does not know (or already spent) is WeChat's refusal, passed on.
    let (status, reply) = m
        .sign_in(json!({
            "extIdpConnidentifier": SOURCE,
            "connection": "wechat_mini_program_code",
            "wechatMiniProgramCodePayload": {"code": "never-issued"},
        }))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("40029"),
        "{reply}"
    );
}

#[tokio::test]
async fn match_phone_signs_in_to_the_user_with_that_phone() {
    let m = setup(LinkMode::MatchPhone).await;
    add_carol(&m, PHONE).await;
    let (status, reply) = m.sign_in_code_and_phone("openid-carol", PHONE).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(m.profile_of(&token_of(&reply)).await["username"], CAROL.0);
    // Bound now: a code-only sign-in of the same WeChat user is carol too.
    let (_, again) = m.sign_in_code("openid-carol", "whatever").await;
    assert_eq!(m.profile_of(&token_of(&again)).await["username"], CAROL.0);
    // With `none`, the same phone would have made a new user (the default).
    m.ts.server
        .set_identity_source_link(SOURCE, LinkMode::None)
        .await
        .unwrap();
    let (_, other) = m.sign_in_code_and_phone("openid-someone", PHONE).await;
    assert_ne!(m.profile_of(&token_of(&other)).await["username"], CAROL.0);
}

/// `--link ask`: the reply points to the link page; only carol's password links, it is rate
/// limited like a sign-in, and a link works once.
#[tokio::test]
async fn ask_links_only_with_the_accounts_password() {
    let m = setup(LinkMode::Ask).await;
    add_carol(&m, PHONE).await;
    let (status, reply) = m.sign_in_code_and_phone("openid-carol", PHONE).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(reply["apiCode"], 2261, "{reply}");
    assert!(
        reply["data"]["access_token"].is_null(),
        "signed in without the password"
    );
    assert_eq!(reply["data"]["account"], "Carol C.");
    assert_eq!(reply["data"]["phone"], "135****6666");
    let link = reply["data"]["linkUrl"]
        .as_str()
        .expect("linkUrl")
        .to_owned();
    assert!(link.starts_with(&format!("{}/link/", m.ts.base)), "{link}");

    let page = m.ts.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-state=\"link\""), "{html}");
    assert!(html.contains("Carol C."));

    // The wrong password links nothing.
    let wrong =
        m.ts.http
            .post(&link)
            .form(&[("password", "guess")])
            .send()
            .await
            .unwrap();
    assert_eq!(wrong.status(), 401);
    let (status, still) = m.sign_in_code_and_phone("openid-carol", PHONE).await;
    assert_eq!(status, 409, "linked by a wrong password: {still}");

    // Hers does; from then on the mini-program signs in as carol.
    let right =
        m.ts.http
            .post(&link)
            .form(&[("password", CAROL.1)])
            .send()
            .await
            .unwrap();
    assert_eq!(right.status(), 200);
    assert!(right
        .text()
        .await
        .unwrap()
        .contains("data-state=\"linked\""));
    let (status, signed) = m.sign_in_code("openid-carol", "x").await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(m.profile_of(&token_of(&signed)).await["username"], CAROL.0);

    // Spent: the same link does not bind again.
    let again =
        m.ts.http
            .post(&link)
            .form(&[("password", CAROL.1)])
            .send()
            .await
            .unwrap();
    assert_eq!(again.status(), 410);
}

/// Attack: guessing the account's password on the link page is limited like a sign-in.
#[tokio::test]
async fn guessing_the_password_on_the_link_page_is_rate_limited() {
    let limits = RateLimits {
        signin_per_minute: Some(3),
        ..RateLimits::unlimited()
    };
    let m = setup_with(LinkMode::Ask, limits).await;
    add_carol(&m, PHONE).await;
    let (_, reply) = m.sign_in_code_and_phone("openid-carol", PHONE).await;
    let link = reply["data"]["linkUrl"]
        .as_str()
        .expect("linkUrl")
        .to_owned();
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r =
            m.ts.http
                .post(&link)
                .form(&[("password", format!("guess-{i}"))])
                .send()
                .await
                .unwrap();
        statuses.push(r.status().as_u16());
    }
    // One sign-in went to the mini-program's own request; two guesses, then 429.
    assert_eq!(statuses, [401, 401, 429, 429], "{statuses:?}");
}
