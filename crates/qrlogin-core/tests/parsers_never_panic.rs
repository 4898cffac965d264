//! No server input can panic a parser: random bytes, random JSON, and random JSON inside each
//! generation's valid envelope (so the fuzzing reaches the fields, not just the first check).

use proptest::prelude::*;
use qrlogin_core::dialect::{self, DialectId};
use qrlogin_core::{discovery, http, profile};
use serde_json::{json, Map, Value};

const KEYS: &[&str] = &[
    "code",
    "message",
    "data",
    "status",
    "statusCode",
    "apiCode",
    "ticket",
    "userInfo",
    "briefUserInfo",
    "tokenSet",
    "random",
    "qrcodeId",
    "qrcode",
    "qrcodeUrl",
    "url",
    "qrContent",
    "scanId",
    "expiresIn",
    "expiredAt",
    "createdAt",
    "checkCode",
    "customLogo",
    "customLogoUrl",
    "scanned",
    "expired",
    "success",
    "canceled",
    "token",
    "tokenExpiredAt",
    "access_token",
    "expire_in",
    "id",
    "_id",
    "userId",
    "nickname",
    "photo",
    "scannedResult",
    "version",
    "longPoll",
    "pkce",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just(200i64),
            Just(0),
            Just(1),
            Just(2),
            Just(3),
            Just(-1),
            Just(4),
            Just(5),
            Just(2241)
        ]
        .prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("PENDING"),
            Just("SCANNED"),
            Just("AUTHORIZED"),
            Just("CANCELLED"),
            Just("EXPIRED"),
            Just("ERROR"),
            Just("200"),
            Just("scanned"),
            Just("expired"),
            Just("2018-07-16T12:56:03.000Z"),
            Just("Wed Aug 01 2018 15:59:42 GMT+0800 (CST)"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,8}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn every_parser(bytes: &[u8]) {
    for id in DialectId::ALL {
        let _ = dialect::parse_poll(id, bytes);
        let _ = dialect::parse_generate(id, bytes, Some("r12345678901"));
        let _ = dialect::parse_generate(id, bytes, None);
        let _ = dialect::parse_exchange(id, bytes);
    }
    let _ = dialect::parse_profile(bytes);
    let _ = discovery::parse(200, bytes);
    let _ = discovery::parse(404, bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        let _ = profile::jwt_claims(s);
        let _ = profile::jwt_expiry_ms(s);
        let _ = profile::parse_token_expiry(s);
        let _ = http::parse_retry_after(s, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        every_parser(&bytes);
    }

    #[test]
    fn random_json(v in any_json()) {
        every_parser(v.to_string().as_bytes());
    }

    #[test]
    fn random_json_in_valid_envelopes(data in any_json(), inner in any_json(), status in leaf()) {
        let bodies = [
            json!({"code": 200, "message": "ok", "data": data}),
            json!({"statusCode": 200, "message": "ok", "data": data}),
            json!({"code": 200, "data": {"status": status, "userInfo": data, "ticket": inner}}),
            json!({"statusCode": 200, "data": {"status": status, "briefUserInfo": data, "tokenSet": inner}}),
            json!({"code": 200, "data": {"code": status, "data": data, "status": inner}}),
            json!({"code": 200, "data": {"code": 200, "data": data}}),
            json!({"code": 200, "data": {"success": status, "scanned": inner, "userInfo": data}}),
        ];
        for b in bodies {
            every_parser(b.to_string().as_bytes());
        }
    }

    #[test]
    fn random_text_in_jwts(a in ".{0,40}", b in prop::collection::vec(any::<u8>(), 0..80)) {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&b);
        let _ = profile::jwt_claims(&format!("{a}.{payload}.sig"));
        let _ = profile::jwt_expiry_ms(&format!("h.{payload}.s"));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    every_parser(deep.as_bytes());
    let deep_obj = format!("{}{}", r#"{"data":"#.repeat(50_000), "1");
    every_parser(deep_obj.as_bytes());
}
