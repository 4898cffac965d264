//! Targets of qrlogin-core: every dialect's reply parsers, JWT claims, `Retry-After`, media
//! sniffing with data URLs and the SVG check, QR decoding, config loading, the tip sanitizer.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use qrlogin_core::dialect::{parse_exchange, parse_generate, parse_poll};
use qrlogin_core::{media, profile, qr, tips, DialectId};
use serde_json::Value;

use crate::html::{markup, Markup};

const DIALECTS: [DialectId; 4] = [DialectId::G1, DialectId::G2, DialectId::G3, DialectId::G4];

/// String values under keys that hold a handle or a token, anywhere in a JSON document; an
/// error about the reply must not quote them (the message reaches the window and the log).
fn secrets_in(body: &[u8]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let secret = matches!(
                        k.as_str(),
                        "random"
                            | "qrcodeId"
                            | "ticket"
                            | "token"
                            | "accessToken"
                            | "access_token"
                            | "idToken"
                            | "id_token"
                            | "refreshToken"
                            | "refresh_token"
                    );
                    match v {
                        // Handles and tokens look random: no spaces, some digits. (Words
                        // would match our own message texts: a false alarm, kept in
                        // regressions/dialect_poll/.)
                        Value::String(s)
                            if secret
                                && s.len() >= 8
                                && !s.contains(char::is_whitespace)
                                && s.contains(|c: char| c.is_ascii_digit()) =>
                        {
                            out.push(s.clone())
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        walk(&v, &mut out);
    }
    out
}

fn assert_no_secret(message: &str, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(
            !message.contains(s.as_str()),
            "{what}: the error message quotes a handle/token: {message:?}"
        );
    }
}

pub fn dialect_generate(data: &[u8]) {
    let secrets = secrets_in(data);
    for id in DIALECTS {
        for sent in [None, Some("fuzz-sent-random")] {
            if let Err(e) = parse_generate(id, data, sent) {
                assert_no_secret(&e.to_string(), &secrets, "generate");
            }
        }
    }
}

pub fn dialect_poll(data: &[u8]) {
    let secrets = secrets_in(data);
    for id in DIALECTS {
        match parse_poll(id, data) {
            Err(e) => assert_no_secret(&e.to_string(), &secrets, "poll"),
            Ok(status) => {
                // A business failure's message is shown to the user as well.
                let text = format!("{status:?}");
                if text.starts_with("Failed") {
                    assert_no_secret(&text, &secrets, "poll failure");
                }
            }
        }
    }
}

pub fn dialect_exchange(data: &[u8]) {
    let secrets = secrets_in(data);
    for id in DIALECTS {
        if let Err(e) = parse_exchange(id, data) {
            assert_no_secret(&e.to_string(), &secrets, "exchange");
        }
    }
}

pub fn dialect_profile(data: &[u8]) {
    let secrets = secrets_in(data);
    if let Err(e) = qrlogin_core::dialect::parse_profile(data) {
        assert_no_secret(&e.to_string(), &secrets, "profile");
    }
}

/// The input is a JWT (or anything); also the payload alone, made into a token.
pub fn jwt_claims(data: &[u8]) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let text = String::from_utf8_lossy(data);
    let made = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(data));
    for token in [text.as_ref(), made.as_str()] {
        let claims = profile::jwt_claims(token);
        let expiry = profile::jwt_expiry_ms(token);
        if let Some(c) = &claims {
            let exp = c.get("exp").and_then(Value::as_i64);
            assert_eq!(
                expiry,
                exp.and_then(|e| e.checked_mul(1000)),
                "expiry of {c}"
            );
            if let Some(p) = profile::profile_from_claims(c) {
                assert!(!p.id.is_empty(), "a profile without an id");
                assert_eq!(p.expires_at, expiry);
            }
        } else {
            assert_eq!(expiry, None);
        }
    }
    let _ = profile::parse_token_expiry(&text);
}

pub fn retry_after(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for now in [0, 1_700_000_000_000, i64::MAX, i64::MIN] {
        let got = qrlogin_core::http::parse_retry_after(&text, now);
        if let Ok(secs) = text.trim().parse::<u64>() {
            assert_eq!(got, Some(std::time::Duration::from_secs(secs)));
        }
    }
}

/// The bytes as an image, and as a data URL (the input text itself and the bytes wrapped).
pub fn media(data: &[u8]) {
    use qrlogin_core::media::{check_svg, decode_data_url};
    let sniffed = media::sniff(data);
    if let Ok(img) = media::check_image(data.to_vec()) {
        assert_eq!(Some(img.mime), sniffed, "check_image and sniff disagree");
        if img.mime == "image/svg+xml" {
            let lower = String::from_utf8_lossy(data).to_ascii_lowercase();
            assert!(!lower.contains("<script"), "an SVG with a script passed");
        }
        let url = media::data_url(&img);
        let back = decode_data_url(&url, usize::MAX).expect("our own data URL decodes");
        assert_eq!(back, img.bytes, "data URL round trip");
    }
    let _ = check_svg(data);
    let text = String::from_utf8_lossy(data);
    for max in [0, 64, 1 << 20] {
        if let Ok(bytes) = decode_data_url(&text, max) {
            assert!(
                bytes.len() <= max,
                "data URL over its limit: {}",
                bytes.len()
            );
        }
    }
}

pub fn qr_decode(data: &[u8]) {
    let _ = qr::decode_image(data);
}

/// `file TOML \0 KEY=VALUE lines (overrides) \0 NAME=VALUE lines (environment)`.
pub fn config_load(data: &[u8]) {
    use qrlogin_core::config::{load, ConfigSources};
    static FILE: OnceLock<Mutex<tempfile::NamedTempFile>> = OnceLock::new();
    let p = crate::parts(data, 3);
    let file = FILE.get_or_init(|| Mutex::new(tempfile::NamedTempFile::new().expect("temp file")));
    let file = file.lock().unwrap_or_else(|e| e.into_inner());
    let path = file.path().to_path_buf();
    {
        let mut f = std::fs::File::create(&path).expect("rewrite the temp file");
        let _ = f.write_all(p[0].as_bytes());
    }
    let pairs = |s: Option<&String>| -> Vec<(String, String)> {
        s.map(|s| {
            s.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
    };
    let sources = ConfigSources {
        explicit: Some(path),
        system: None,
        user: None,
        env: pairs(p.get(2)),
        overrides: pairs(p.get(1)),
    };
    if let Ok(config) = load(&sources) {
        // What loads is valid, and every override given was applied or refused, never ignored.
        assert!(config.validate().is_ok(), "load returned an invalid config");
    }
}

/// Differential: html5ever re-reads the sanitizer's output; only the allowed tags may be in
/// it, without a single attribute, and no comment or doctype.
pub fn tips_sanitize(data: &[u8]) {
    const ALLOWED: [&str; 6] = ["strong", "em", "b", "i", "br", "span"];
    let text = String::from_utf8_lossy(data);
    let clean = tips::sanitize(&text);
    for m in markup(&clean) {
        match m {
            Markup::Start { name, attrs } => {
                assert!(
                    ALLOWED.contains(&name.as_str()),
                    "tag <{name}> in {clean:?}"
                );
                assert!(
                    attrs.is_empty(),
                    "attributes {attrs:?} on <{name}> in {clean:?}"
                );
            }
            Markup::End { name } => {
                assert!(
                    ALLOWED.contains(&name.as_str()),
                    "tag </{name}> in {clean:?}"
                )
            }
            Markup::Comment | Markup::Doctype => panic!("{m:?} in {clean:?}"),
        }
    }
}
