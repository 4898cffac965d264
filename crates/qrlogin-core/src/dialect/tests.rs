//! Every JSON example of reference/authing-protocol.md and seeds/ through the parsers, plus the
//! request shapes of reference §1.3 and §2–§5.

use serde_json::json;

use super::*;

const G1_GENERATE: &str = r#"{
    "data": {
        "_id": "*********************",
        "client": "*********************",
        "oauth": "*********************",
        "oauthWithApplication": "*********************",
        "qrcode": "https://usercontents.authing.cn/wxapp/qrcode/SweuVjfoPwSUTVEUv.png",
        "expiredAt": "2018-07-16T12:56:03.000Z",
        "__v": 0,
        "createdAt": "2018-07-16T12:55:03.302Z",
        "redirect": "",
        "success": false,
        "used": false
    },
    "code": 200
}"#;

const G1_LOGGED_IN: &str = r#"{
    "data": {
        "code": 200,
        "message": "扫码登录成功",
        "data": {
            "_id": "*********************",
            "email": null,
            "emailVerified": false,
            "username": "ivy",
            "nickname": "ivy",
            "company": "",
            "photo": "https://wx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTLkQc7PfrbBqFMib6lkPUxaA5UsMiadibfWQtKv0CBcKnH2khXicvUB9WB2ibYxN6GRTaTsQfPtlsAafBg/132",
            "browser": "",
            "token": "******************************************.*********************.*********************",
            "tokenExpiredAt": "Wed Aug 01 2018 15:59:42 GMT+0800 (CST)",
            "loginsCount": 14,
            "lastLogin": "Tue Jul 17 2018 15:59:42 GMT+0800 (CST)",
            "lastIP": "*********************",
            "signedUp": "Tue Jul 17 2018 11:15:03 GMT+0800 (CST)",
            "blocked": false,
            "isDeleted": false,
            "__typename": "ExtendUser"
        },
        "redirect": "http://sample.authing.cn/#/redirect"
    },
    "code": 200
}"#;

const G2_GENERATE: &str = r#"{
    "code": 200,
    "message": "生成二维码成功",
    "data": {
        "qrcodeId": "5e061366445c9985e5bf890a",
        "qrcodeUrl": "https://usercontents.authing.co/qrcode/5e061366445c9985e5bf890a.png"
    }
}"#;

const G2_CHECK_PENDING: &str = r#"{
  "code": 200,
  "message": "查询二维码状态成功",
  "data": {
    "qrcodeId": "5e061489445c9985e5bf890d",
    "scanned": false,
    "expired": false,
    "success": false,
    "canceled": false,
    "status": 0,
    "userInfo": {},
    "ticket": "",
    "description": "二维码还没有被扫描"
  }
}"#;

/// seeds/002 `onResult` example.
const G2_ON_RESULT: &str = r#"{ "code": 200, "message": "查询二维码状态成功", "data": { "qrcodeId": "5e05f6027fde537d950f7da9", "scanned": false, "expired": false, "success": false, "canceled": false, "status": 0, "userInfo": {}, "description": "二维码还没有被扫描" }}"#;

const G2_EXCHANGE: &str = r#"{
   "code":200,
   "message":"换取用户信息成功",
   "data":{
      "_id":"5e05bbf2d51b3761d5c71070",
      "email":"983132@qq.com",
      "emailVerified":false,
      "oauth":"",
      "registerMethod":"default:username-password",
      "username":"983132@qq.com",
      "nickname":"",
      "company":"",
      "photo":"https://usercontents.authing.co/authing-avatar.png",
      "token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7ImVtYWlsIjoiOTgzMTMyQHFxLmNvbSIsImlxxxxxxxxx",
      "phone":"",
      "tokenExpiredAt":"2020-01-11T08:08:18.000Z",
      "loginsCount":1,
      "lastIP":"::1",
      "signedUp":"2019-12-27T08:08:18.115Z",
      "blocked":false,
      "isDeleted":false
   }
}"#;

const QR_MISSING: &str = r#"{"code": 2241, "message": "二维码不存在", "data": null}"#;

const G3_GENERATE: &str = r#"{
  "code": 200,
  "data": {
    "random": "SzZrszCJNCFfVBDUCKLDtAYNBR96SK",
    "expiresIn": 120,
    "url": "https://files.authing.co/user-contentsqrcode/5fae2648201cfd526f0ec354/SzZrszCJNCFfVBDUCKLDtAYNBR96SK.png"
  }
}"#;

const G3_CHECK_PENDING: &str = r#"{
  "code": 200,
  "message": "查询二维码状态成功！",
  "data": {
    "random": "SzZrszCJNCFfVBDUCKLDtAYNBR96SK",
    "userInfo": {},
    "status": 0,
    "ticket": null,
    "scannedUserId": null
  }
}"#;

const G3_EXCHANGE: &str = r#"{
  "code": 200,
  "message": "换取用户信息成功",
  "data": {
    "id": "5e05bbf2d51b3761d5c71070",
    "email": "983132@qq.com",
    "emailVerified": false,
    "oauth": "",
    "username": "983132@qq.com",
    "nickname": "",
    "company": "",
    "photo": "https://usercontents.authing.co/authing-avatar.png",
    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7ImVtYWlsIjoiOTgzMTMyQHFxLmNvbSIsImlxxxxxxxxx",
    "phone": "",
    "tokenExpiredAt": "2020-01-11T08:08:18.000Z",
    "loginsCount": 1,
    "lastIp": "::1",
    "signedUp": "2019-12-27T08:08:18.115Z",
    "blocked": false,
    "isDeleted": false
  }
}"#;

const G4_GENERATE: &str = r#"{
  "statusCode": 200,
  "message": "操作成功",
  "requestId": "934108e5-9fbf-4d24-8da1-c330328abd6c",
  "data": {
    "qrcodeId": "gQE-8TwAAAAAAAAAAS5odHRwOi8vd2VpeGluLnFxLmNvbS9xLzAyMGJjX",
    "url": "https://files.authing.co/user-contentsqrcode/59f86b4832eb28071bdd9214/gQE-8TwAAAAAAAAAAS5odHRwOi8vd2VpeGluLnFxLmNvbS9xLzAyMGJjX1ZhOFNiM1UxV29GVTF5MWMAAgQY4_RiAwSAxhMA.png",
    "customLogoUrl": "https://files.authing.co/authing-console/social-connections/wechatMiniLogin.svg"
  }
}"#;

const G4_STATUS: &str = r#"{
  "statusCode": 200,
  "message": "操作成功",
  "requestId": "934108e5-9fbf-4d24-8da1-c330328abd6c",
  "data": {
    "status": "PENDING",
    "ticket": "only when AUTHORIZED and full-info switch is off",
    "briefUserInfo": { "displayName": "...", "photo": "https://..." },
    "tokenSet": {
      "scope": "openid profile",
      "access_token": "eyJhbGciOiJSxxxxx",
      "id_token": "eyJhbGxxxx",
      "refresh_token": "WPsGJbvpBjqXz6IJIr1UHKyrdVF",
      "token_type": "bearer",
      "expire_in": 7200
    }
  }
}"#;

const G4_EXCHANGE: &str = r#"{
  "statusCode": 200,
  "message": "操作成功",
  "requestId": "934108e5-9fbf-4d24-8da1-c330328abd6c",
  "data": {
    "scope": "openid profile",
    "access_token": "eyJhbGciOiJSxxxxx",
    "id_token": "eyJhbGxxxx",
    "refresh_token": "WPsGJbvpBjqXz6IJIr1UHKyrdVF",
    "token_type": "bearer",
    "expire_in": 7200
  }
}"#;

const G4_ERROR_DOCS: &str = r#"{"uniqueId": "...", "statusCode": 499, "message": "应用不存在", "apiCode": "2011", "data": null}"#;

fn app() -> AppParams {
    AppParams {
        app_id: "app1".into(),
        user_pool_id: Some("pool1".into()),
        ..AppParams::default()
    }
}

// ---- G1 ----

#[test]
fn g1_generate_example() {
    let qr = parse_generate(
        DialectId::G1,
        G1_GENERATE.as_bytes(),
        Some("UaJe6j5S47pRTLo7"),
    )
    .unwrap();
    assert_eq!(qr.handle, "UaJe6j5S47pRTLo7");
    assert_eq!(
        qr.image_url.as_deref(),
        Some("https://usercontents.authing.cn/wxapp/qrcode/SweuVjfoPwSUTVEUv.png")
    );
    // expiredAt - createdAt = 59.698 s
    assert_eq!(qr.expires_in, Some(59));
    assert_eq!(qr.qr_content, None);
}

#[test]
fn g1_generate_echoed_random_and_extensions() {
    let body = json!({"code": 200, "data": {"random": "Srv12345678901", "qrcode": "http://x/q.png",
        "qrContent": "http://x/s/abc", "scanId": "abc", "expiresIn": 120, "checkCode": 7}});
    let qr = parse_generate(DialectId::G1, body.to_string().as_bytes(), Some("mine")).unwrap();
    assert_eq!(qr.handle, "Srv12345678901");
    assert_eq!(qr.qr_content.as_deref(), Some("http://x/s/abc"));
    assert_eq!(qr.scan_id.as_deref(), Some("abc"));
    assert_eq!(qr.expires_in, Some(120));
    assert_eq!(qr.check_code.as_deref(), Some("07"));
}

#[test]
fn g1_generate_failure() {
    let e = parse_generate(
        DialectId::G1,
        br#"{"code": 500, "message": "no such app"}"#,
        Some("r"),
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(500));
}

#[test]
fn g1_logged_in_example() {
    let s = parse_poll(DialectId::G1, G1_LOGGED_IN.as_bytes()).unwrap();
    let ScanStatus::Authorized(Authorization::User(u)) = s else {
        panic!("{s:?}")
    };
    assert_eq!(u.username.as_deref(), Some("ivy"));
    assert_eq!(u.nickname.as_deref(), Some("ivy"));
    assert_eq!(u.email, None);
    assert!(u.token.is_some());
    assert_eq!(
        crate::profile::parse_token_expiry(u.token_expired_at.as_deref().unwrap()),
        Some(1_533_110_382_000)
    );
}

#[test]
fn g1_not_yet_and_codes() {
    let pending = br#"{"code":200,"data":{"code":500,"message":"not yet","data":null}}"#;
    assert_eq!(
        parse_poll(DialectId::G1, pending).unwrap(),
        ScanStatus::Pending
    );
    let wrong = br#"{"code":200,"data":{"code":2243,"message":"verifier"}}"#;
    assert_eq!(
        parse_poll(DialectId::G1, wrong).unwrap(),
        ScanStatus::Failed {
            code: 2243,
            message: "verifier".into()
        }
    );
    let outer = br#"{"code":429,"message":"slow down"}"#;
    assert!(matches!(
        parse_poll(DialectId::G1, outer).unwrap(),
        ScanStatus::Failed { code: 429, .. }
    ));
    assert!(parse_poll(DialectId::G1, br#"{"code":200,"data":{"code":200}}"#).is_err());
}

#[test]
fn g1_our_server_status_extension() {
    let scanned = br#"{"code":200,"data":{"code":500,"message":"scanned","status":"scanned",
        "data":{"nickname":"Ann","photo":"http://p"},"redirect":null}}"#;
    assert_eq!(
        parse_poll(DialectId::G1, scanned).unwrap(),
        ScanStatus::Scanned {
            nickname: Some("Ann".into()),
            photo: Some("http://p".into())
        }
    );
    let c = br#"{"code":200,"data":{"code":500,"status":"cancelled","data":null}}"#;
    assert_eq!(parse_poll(DialectId::G1, c).unwrap(), ScanStatus::Cancelled);
    let e = br#"{"code":200,"data":{"code":2244,"status":"expired","data":null}}"#;
    assert_eq!(parse_poll(DialectId::G1, e).unwrap(), ScanStatus::Expired);
    let p = br#"{"code":200,"data":{"code":500,"status":"pending","data":null}}"#;
    assert_eq!(parse_poll(DialectId::G1, p).unwrap(), ScanStatus::Pending);
}

#[test]
fn g1_requests() {
    let extras = GenerateExtras {
        random: Some("R1234567890ab".into()),
        code_challenge: Some("CH".into()),
        requester: Some(Requester {
            device_name: Some("desk".into()),
            ..Default::default()
        }),
    };
    let g = build_generate(DialectId::G1, &app(), &extras).unwrap();
    assert_eq!(g.method, Method::Get);
    assert_eq!(g.path, "/oauth/wxapp/qrcode/app1");
    assert_eq!(g.query_value("random"), Some("R1234567890ab"));
    assert_eq!(g.query_value("useSelfWxapp"), Some("false"));
    assert_eq!(g.query_value("enableFetchPhone"), Some("false"));
    assert_eq!(g.query_value("codeChallenge"), Some("CH"));
    assert_eq!(g.query_value("codeChallengeMethod"), Some("S256"));
    assert_eq!(g.query_value("deviceName"), Some("desk"));
    assert!(g.headers.is_empty(), "G1 sends no Authing headers");
    let p = build_poll(
        DialectId::G1,
        &app(),
        "R1234567890ab",
        &PollExtras {
            wait: Some(25),
            known: Some("pending"),
            code_verifier: Some(Secret::new("V")),
        },
    );
    assert_eq!(
        (p.method, p.path.as_str()),
        (Method::Post, "/oauth/wxapp/confirm/qr")
    );
    assert_eq!(p.query_value("random"), Some("R1234567890ab"));
    assert_eq!(p.query_value("codeVerifier"), Some("V"));
    assert_eq!(p.query_value("wait"), Some("25"));
    assert_eq!(p.query_value("known"), Some("pending"));
    assert!(p.json.is_none());
    assert!(build_exchange(
        DialectId::G1,
        &app(),
        &Secret::new("t"),
        &ExchangeAuth::None
    )
    .is_err());
}

#[test]
fn g1_random_shape() {
    for _ in 0..50 {
        let r = new_random();
        assert!((12..=24).contains(&r.len()));
        assert!(r.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}

// ---- G2 ----

#[test]
fn g2_generate_example() {
    let qr = parse_generate(DialectId::G2, G2_GENERATE.as_bytes(), None).unwrap();
    assert_eq!(qr.handle, "5e061366445c9985e5bf890a");
    assert_eq!(
        qr.image_url.as_deref(),
        Some("https://usercontents.authing.co/qrcode/5e061366445c9985e5bf890a.png")
    );
    assert_eq!(qr.expires_in, None);
}

#[test]
fn g2_check_examples() {
    assert_eq!(
        parse_poll(DialectId::G2, G2_CHECK_PENDING.as_bytes()).unwrap(),
        ScanStatus::Pending
    );
    assert_eq!(
        parse_poll(DialectId::G2, G2_ON_RESULT.as_bytes()).unwrap(),
        ScanStatus::Pending
    );
    assert_eq!(
        parse_poll(DialectId::G2, QR_MISSING.as_bytes()).unwrap(),
        ScanStatus::Failed {
            code: 2241,
            message: "二维码不存在".into()
        }
    );
}

#[test]
fn g2_every_state() {
    let d = |data: serde_json::Value| {
        parse_poll(
            DialectId::G2,
            json!({"code": 200, "message": "ok", "data": data})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(
        d(
            json!({"scanned": true, "expired": false, "success": false, "canceled": false, "status": 0,
            "userInfo": {"nickname": "Ann", "photo": "http://p/a.png"}})
        ),
        ScanStatus::Scanned {
            nickname: Some("Ann".into()),
            photo: Some("http://p/a.png".into())
        }
    );
    let ok = d(
        json!({"scanned": true, "success": true, "status": 1, "userInfo": {"nickname": "Ann"}, "ticket": "T1"}),
    );
    assert_eq!(
        ok,
        ScanStatus::Authorized(Authorization::Ticket {
            ticket: Secret::new("T1"),
            nickname: Some("Ann".into()),
            photo: None
        })
    );
    let full = d(json!({"success": true, "status": 1, "ticket": "T1",
        "userInfo": {"_id": "u1", "nickname": "Ann", "token": "eyJ.x.y"}}));
    assert!(
        matches!(full, ScanStatus::Authorized(Authorization::User(ref u)) if u.id.as_deref() == Some("u1"))
    );
    assert_eq!(
        d(json!({"scanned": true, "canceled": true, "status": -1})),
        ScanStatus::Cancelled
    );
    assert_eq!(
        d(json!({"expired": true, "status": 0})),
        ScanStatus::Expired
    );
    assert!(parse_poll(
        DialectId::G2,
        br#"{"code":200,"data":{"success":true,"status":1}}"#
    )
    .is_err());
}

#[test]
fn g2_phone_side_examples_do_not_panic() {
    // reference §3.4: these are phone replies, not polls; they must only not crash a parser.
    for body in [
        r#"{"code":200,"message":"二维码扫描确认成功","data":{"qrcodeId":"x","status":0,"description":"d"}}"#,
        r#"{"code":200,"message":"授权登录成功","data":{"qrcodeId":"x","status":1,"description":"d"}}"#,
        r#"{"code":200,"message":"取消授权成功","data":{"qrcodeId":"x","status":-1,"description":"d"}}"#,
    ] {
        for id in DialectId::ALL {
            let _ = parse_poll(id, body.as_bytes());
        }
    }
}

#[test]
fn g2_exchange_example() {
    let Exchanged::User(u) = parse_exchange(DialectId::G2, G2_EXCHANGE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(u.id.as_deref(), Some("5e05bbf2d51b3761d5c71070"));
    assert_eq!(u.email.as_deref(), Some("983132@qq.com"));
    assert_eq!(u.nickname, None, "empty strings are absent");
    assert!(u.token.is_some());
    assert_eq!(
        u.token_expired_at.as_deref(),
        Some("2020-01-11T08:08:18.000Z")
    );
    let e = parse_exchange(
        DialectId::G2,
        br#"{"code":2242,"message":"ticket used","data":null}"#,
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(2242));
}

#[test]
fn g2_requests() {
    let mut a = app();
    a.custom_data.insert("customVar1".into(), json!("xxx"));
    a.custom_data.insert("n".into(), json!(3));
    let g = build_generate(DialectId::G2, &a, &GenerateExtras::default()).unwrap();
    assert_eq!((g.method, g.path.as_str()), (Method::Get, "/qrcode/gene"));
    assert_eq!(g.query_value("scene"), Some("APP_AUTH"));
    assert_eq!(g.query_value("userPoolId"), Some("pool1"));
    assert_eq!(g.query_value("customVar1"), Some("xxx"));
    assert_eq!(g.query_value("n"), Some("3"));
    let no_pool = AppParams {
        user_pool_id: None,
        ..app()
    };
    assert!(matches!(
        build_generate(DialectId::G2, &no_pool, &GenerateExtras::default()),
        Err(CoreError::Config(_))
    ));
    let p = build_poll(DialectId::G2, &a, "Q1", &PollExtras::default());
    assert_eq!((p.method, p.path.as_str()), (Method::Get, "/qrcode/check"));
    assert_eq!(p.query_value("qrcodeId"), Some("Q1"));
    assert_eq!(p.query_value("scene"), Some("APP_AUTH"));
    assert_eq!(p.query_value("wait"), None);
    let x = build_exchange(
        DialectId::G2,
        &a,
        &Secret::new("T"),
        &ExchangeAuth::AppSecret(Secret::new("s3")),
    )
    .unwrap();
    assert_eq!(x.path, "/oauth/scan-qrcode/exchangeUserInfoWithTicket");
    assert_eq!(x.json, Some(json!({"ticket": "T"})));
    assert_eq!(x.header("authorization"), Some("Basic YXBwMTpzMw=="));
}

#[test]
fn g2_payload_matches_reference_keys() {
    let mut a = app();
    a.custom_data.insert("customVar1".into(), json!("xxx"));
    let p = authing_payload(
        DialectId::G2,
        &a,
        "5e06c47da6b47a9433f8b3be",
        1_577_501_821_697,
        Duration::from_secs(120),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&p).unwrap();
    assert_eq!(
        v,
        json!({"scene": "APP_AUTH", "qrcodeId": "5e06c47da6b47a9433f8b3be", "userPoolId": "pool1",
            "createdAt": "2019-12-28T02:57:01.697Z", "expireAt": "2019-12-28T02:59:01.697Z",
            "userDefinedData": {"customVar1": "xxx"}})
    );
}

// ---- G3 ----

#[test]
fn g3_generate_example() {
    let qr = parse_generate(DialectId::G3, G3_GENERATE.as_bytes(), None).unwrap();
    assert_eq!(qr.handle, "SzZrszCJNCFfVBDUCKLDtAYNBR96SK");
    assert_eq!(qr.expires_in, Some(120));
    assert!(qr
        .image_url
        .unwrap()
        .ends_with("SzZrszCJNCFfVBDUCKLDtAYNBR96SK.png"));
    let with_logo =
        br#"{"code":200,"data":{"random":"r","url":"u","customLogo":"http://l/logo.png"}}"#;
    assert_eq!(
        parse_generate(DialectId::G3, with_logo, None)
            .unwrap()
            .custom_logo_url
            .as_deref(),
        Some("http://l/logo.png")
    );
}

#[test]
fn g3_check_examples_and_states() {
    assert_eq!(
        parse_poll(DialectId::G3, G3_CHECK_PENDING.as_bytes()).unwrap(),
        ScanStatus::Pending
    );
    assert!(matches!(
        parse_poll(DialectId::G3, QR_MISSING.as_bytes()).unwrap(),
        ScanStatus::Failed { code: 2241, .. }
    ));
    assert!(matches!(
        parse_poll(
            DialectId::G3,
            br#"{"code": 2241, "message": "\u4e8c\u7ef4\u7801\u4e0d\u5b58\u5728"}"#
        )
        .unwrap(),
        ScanStatus::Failed { code: 2241, .. }
    ));
    let d = |data: serde_json::Value| {
        parse_poll(
            DialectId::G3,
            json!({"code": 200, "data": data}).to_string().as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(
        d(json!({"status": 1, "userInfo": {"nickname": "Bo", "photo": "p"}})),
        ScanStatus::Scanned {
            nickname: Some("Bo".into()),
            photo: Some("p".into())
        }
    );
    assert!(
        matches!(d(json!({"status": 2, "ticket": "T", "userInfo": {"nickname": "Bo"}})),
        ScanStatus::Authorized(Authorization::Ticket { ref ticket, .. }) if ticket.expose() == "T")
    );
    assert!(matches!(
        d(json!({"status": "2", "ticket": "T", "userInfo": {"id": "u", "token": "tok"}})),
        ScanStatus::Authorized(Authorization::User(_))
    ));
    assert_eq!(d(json!({"status": 3})), ScanStatus::Cancelled);
    assert_eq!(d(json!({"status": -1})), ScanStatus::Expired);
    assert!(matches!(
        d(json!({"status": 4, "scannedResult": {}})),
        ScanStatus::Failed {
            code: CODE_MFA_REQUIRED,
            ..
        }
    ));
    assert_eq!(
        d(json!({"status": 5, "scannedResult": {"message": "boom"}})),
        ScanStatus::Failed {
            code: CODE_QR_ERROR,
            message: "boom".into()
        }
    );
    assert!(parse_poll(DialectId::G3, br#"{"code":200,"data":{"status":9}}"#).is_err());
    assert!(parse_poll(DialectId::G3, br#"{"code":200,"data":{}}"#).is_err());
}

#[test]
fn g3_exchange_example() {
    let Exchanged::User(u) = parse_exchange(DialectId::G3, G3_EXCHANGE.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(u.id.as_deref(), Some("5e05bbf2d51b3761d5c71070"));
    assert_eq!(u.username.as_deref(), Some("983132@qq.com"));
    assert_eq!(
        u.photo.as_deref(),
        Some("https://usercontents.authing.co/authing-avatar.png")
    );
}

#[test]
fn g3_requests_and_headers() {
    let mut a = app();
    a.lang = Lang::En;
    a.custom_data.insert("k".into(), json!("v"));
    let extras = GenerateExtras {
        random: None,
        code_challenge: Some("CH".into()),
        requester: Some(Requester {
            device_name: Some("desk".into()),
            platform: Some("linux".into()),
            app_name: None,
            app_version: None,
        }),
    };
    let g = build_generate(DialectId::G3, &a, &extras).unwrap();
    assert_eq!(
        (g.method, g.path.as_str()),
        (Method::Post, "/api/v2/qrcode/gene")
    );
    assert_eq!(
        g.json,
        Some(
            json!({"autoMergeQrCode": false, "scene": "APP_AUTH", "withCustomData": false,
            "params": {"k": "v"}, "codeChallenge": "CH", "codeChallengeMethod": "S256",
            "requester": {"deviceName": "desk", "platform": "linux", "appName": null, "appVersion": null}})
        )
    );
    assert_eq!(g.header("x-authing-app-id"), Some("app1"));
    assert_eq!(g.header("x-authing-userpool-id"), Some("pool1"));
    assert_eq!(g.header("x-authing-lang"), Some("en-US"));
    assert!(g.header("x-authing-request-from").is_some());
    assert!(g
        .header("x-authing-sdk-version")
        .unwrap()
        .starts_with("rust:"));
    let no_pool = AppParams {
        user_pool_id: None,
        ..app()
    };
    let g = build_generate(DialectId::G3, &no_pool, &GenerateExtras::default()).unwrap();
    assert_eq!(
        g.header("x-authing-userpool-id"),
        None,
        "sent only when known"
    );
    assert_eq!(g.header("x-authing-lang"), Some("zh-CN"));
    let p = build_poll(
        DialectId::G3,
        &a,
        "R",
        &PollExtras {
            wait: Some(99),
            known: Some("scanned"),
            code_verifier: None,
        },
    );
    assert_eq!(p.path, "/api/v2/qrcode/check");
    assert_eq!(p.query_value("random"), Some("R"));
    assert_eq!(p.query_value("wait"), Some("30"), "capped at 30");
    let x = build_exchange(
        DialectId::G3,
        &a,
        &Secret::new("T"),
        &ExchangeAuth::Pkce(Secret::new("VER")),
    )
    .unwrap();
    assert_eq!(x.path, "/api/v2/qrcode/userinfo");
    assert_eq!(x.json, Some(json!({"ticket": "T", "codeVerifier": "VER"})));
    assert_eq!(x.header("authorization"), None);
    assert!(!format!("{x:?}").contains("VER"));
}

#[test]
fn g3_payload_matches_reference_keys() {
    let p = authing_payload(
        DialectId::G3,
        &app(),
        "SzZr",
        1_605_248_605_396,
        Duration::from_secs(120),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&p).unwrap();
    assert_eq!(
        v,
        json!({"scene": "APP_AUTH", "random": "SzZr", "userPoolId": "pool1",
            "createdAt": "2020-11-13T06:23:25.396Z", "expiresIn": 120, "customData": {}})
    );
    assert_eq!(
        authing_payload(DialectId::G4, &app(), "x", 0, Duration::from_secs(1)),
        None
    );
    assert_eq!(
        authing_payload(DialectId::G1, &app(), "x", 0, Duration::from_secs(1)),
        None
    );
}

// ---- G4 ----

#[test]
fn g4_generate_example() {
    let qr = parse_generate(DialectId::G4, G4_GENERATE.as_bytes(), None).unwrap();
    assert_eq!(
        qr.handle,
        "gQE-8TwAAAAAAAAAAS5odHRwOi8vd2VpeGluLnFxLmNvbS9xLzAyMGJjX"
    );
    assert!(qr.image_url.unwrap().ends_with("AgQY4_RiAwSAxhMA.png"));
    assert_eq!(
        qr.custom_logo_url.as_deref(),
        Some("https://files.authing.co/authing-console/social-connections/wechatMiniLogin.svg")
    );
    assert_eq!(qr.expires_in, None, "no expiresIn in the v3 DTO");
}

#[test]
fn g4_status_example_and_states() {
    assert_eq!(
        parse_poll(DialectId::G4, G4_STATUS.as_bytes()).unwrap(),
        ScanStatus::Pending
    );
    let d = |data: serde_json::Value| {
        parse_poll(
            DialectId::G4,
            json!({"statusCode": 200, "message": "操作成功", "data": data})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(
        d(json!({"status": "SCANNED", "briefUserInfo": {"displayName": "Cy", "photo": "p"}})),
        ScanStatus::Scanned {
            nickname: Some("Cy".into()),
            photo: Some("p".into())
        }
    );
    // The docs example puts a description string in briefUserInfo.
    assert_eq!(
        d(json!({"status": "SCANNED", "briefUserInfo": "用户简要信息"})),
        ScanStatus::Scanned {
            nickname: None,
            photo: None
        }
    );
    assert!(matches!(d(json!({"status": "AUTHORIZED", "ticket": "T"})),
        ScanStatus::Authorized(Authorization::Ticket { ref ticket, .. }) if ticket.expose() == "T"));
    let mut with_tokens: serde_json::Value = serde_json::from_str(G4_STATUS).unwrap();
    with_tokens["data"]["status"] = json!("AUTHORIZED");
    let s = parse_poll(DialectId::G4, with_tokens.to_string().as_bytes()).unwrap();
    let ScanStatus::Authorized(Authorization::TokenSet(ts)) = s else {
        panic!("{s:?}")
    };
    assert_eq!(ts.access_token.expose(), "eyJhbGciOiJSxxxxx");
    assert_eq!(ts.expire_in, Some(7200));
    assert_eq!(d(json!({"status": "CANCELLED"})), ScanStatus::Cancelled);
    assert_eq!(d(json!({"status": "EXPIRED"})), ScanStatus::Expired);
    assert!(matches!(
        d(json!({"status": "ERROR"})),
        ScanStatus::Failed {
            code: CODE_QR_ERROR,
            ..
        }
    ));
    assert!(parse_poll(
        DialectId::G4,
        br#"{"statusCode":200,"data":{"status":"CONFIRMED"}}"#
    )
    .is_err());
    assert!(matches!(
        parse_poll(DialectId::G4, G4_ERROR_DOCS.as_bytes()).unwrap(),
        ScanStatus::Failed { code: 2011, .. }
    ));
    assert!(matches!(
        parse_poll(
            DialectId::G4,
            br#"{"statusCode":400,"message":"missing","apiCode":2241}"#
        )
        .unwrap(),
        ScanStatus::Failed { code: 2241, .. }
    ));
}

#[test]
fn g4_exchange_example_and_errors() {
    let Exchanged::TokenSet(ts) = parse_exchange(DialectId::G4, G4_EXCHANGE.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(ts.token_type.as_deref(), Some("bearer"));
    assert_eq!(
        ts.refresh_token.unwrap().expose(),
        "WPsGJbvpBjqXz6IJIr1UHKyrdVF"
    );
    assert_eq!(ts.scope.as_deref(), Some("openid profile"));
    let e = parse_exchange(DialectId::G4, G4_ERROR_DOCS.as_bytes()).unwrap_err();
    assert_eq!(e.code(), Some(2011));
    let e = parse_exchange(
        DialectId::G4,
        br#"{"statusCode":400,"message":"bad verifier","apiCode":2243}"#,
    )
    .unwrap_err();
    assert!(matches!(e, CoreError::Denied { code: 2243, .. }));
}

#[test]
fn g4_requests() {
    let mut a = app();
    a.custom_data.insert("school".into(), json!("hust"));
    a.context = Some(json!({"source": "utm"}));
    let g = build_generate(DialectId::G4, &a, &GenerateExtras::default()).unwrap();
    assert_eq!(
        (g.method, g.path.as_str()),
        (Method::Post, "/api/v3/gene-qrcode")
    );
    assert_eq!(
        g.json,
        Some(json!({"type": "MOBILE_APP", "autoMergeQrCode": false,
            "customData": {"school": "hust"}, "context": {"source": "utm"}}))
    );
    assert_eq!(g.header("x-authing-app-id"), Some("app1"));
    let p = build_poll(DialectId::G4, &a, "Q", &PollExtras::default());
    assert_eq!(p.path, "/api/v3/get-qrcode-status");
    assert_eq!(p.query_value("qrcodeId"), Some("Q"));
    let x = build_exchange(
        DialectId::G4,
        &a,
        &Secret::new("T"),
        &ExchangeAuth::AppSecret(Secret::new("s3")),
    )
    .unwrap();
    assert_eq!(x.path, "/api/v3/exchange-tokenset-with-qrcode-ticket");
    assert_eq!(
        x.json,
        Some(json!({"ticket": "T", "client_id": "app1", "client_secret": "s3"}))
    );
    assert_eq!(x.header("authorization"), Some("Basic YXBwMTpzMw=="));
    let prof = build_get_profile(&a, &Secret::new("tok"));
    assert_eq!(prof.path, "/api/v3/get-profile");
    assert_eq!(prof.header("authorization"), Some("tok"));
}

#[test]
fn profile_reply() {
    let u = parse_profile(
        br#"{"statusCode":200,"message":"ok","data":{"userId":"u9","username":"alice","nickname":"Alice",
        "email":"a@x","phone":null,"photo":"http://p","loginsCount":3}}"#,
    )
    .unwrap();
    assert_eq!(u.id.as_deref(), Some("u9"));
    assert_eq!(u.phone, None);
    let e = parse_profile(br#"{"statusCode":401,"message":"not signed in","apiCode":2020}"#)
        .unwrap_err();
    assert!(matches!(e, CoreError::Denied { code: 2020, .. }));
}

// ---- all ----

#[test]
fn dialect_names() {
    for id in DialectId::ALL {
        assert_eq!(id.as_str().parse::<DialectId>().unwrap(), id);
        assert_eq!(serde_json::to_value(id).unwrap(), json!(id.as_str()));
    }
    assert_eq!(DialectId::default(), DialectId::G3);
    assert!("v4".parse::<DialectId>().is_err());
    assert_eq!(
        DialectId::G1.default_poll_interval(),
        Duration::from_millis(1500)
    );
    assert_eq!(
        DialectId::G2.default_poll_interval(),
        Duration::from_millis(800)
    );
    assert_eq!(
        DialectId::G4.default_poll_interval(),
        Duration::from_millis(1000)
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for id in DialectId::ALL {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"<html>502</html>",
            b"{}",
            b"{\"code\":\"abc\"}",
            b"\xff\xfe",
        ] {
            assert!(parse_poll(id, body).is_err(), "{id} {body:?}");
            assert!(parse_generate(id, body, Some("r")).is_err());
            assert!(parse_exchange(id, body).is_err());
        }
    }
}
