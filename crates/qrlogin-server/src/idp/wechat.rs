//! WeChat's side of a mini-program sign-in: `jscode2session` (a `wx.login` code for the user's
//! openid and session key), the access token and `getuserphonenumber` (a phone code for the
//! number), and the open-data decryption (AES-128-CBC, PKCS#7, the session key as key), whose
//! watermark must name our AppID. The app secret and the session key never reach a log, an
//! error or a reply: they are held in [`Secret`], and reqwest's errors are stripped of the URL
//! (which carries the secret in WeChat's query string).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

/// WeChat's API, the default of `--wechat-api-base`.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";
/// How long a call to WeChat may take before the sign-in is answered with an error.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A value that must never be printed (app secret, session key).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why WeChat's part failed; every message is safe to show (no secret, no key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    /// WeChat answered with an `errcode` (40029 invalid code, 40163 code used, 45011 limit, …).
    #[error("WeChat refused it (errcode {code}: {message})")]
    Refused { code: i64, message: String },
    #[error("WeChat could not be reached: {0}")]
    Unreachable(String),
    #[error("WeChat's reply was not understood: {0}")]
    BadReply(String),
    /// The open data did not decrypt: wrong key (another `wx.login`), wrong iv, or tampered.
    #[error("encryptedData does not decrypt with this sign-in's session key (tampered, or from another wx.login): {0}")]
    Decrypt(&'static str),
    /// The open data decrypted but its watermark names another mini-program.
    #[error("the data's watermark names another mini-program (appid {0:?})")]
    Watermark(String),
}

/// What `jscode2session` returns.
#[derive(Debug, Clone)]
pub struct CodeSession {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: Secret,
}

/// A verified phone number (open data or `getuserphonenumber`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// Without the country code.
    pub pure: String,
    pub country_code: String,
}

impl Phone {
    /// What the user record keeps: the bare number in China (+86), `+CC` and the number elsewhere.
    pub fn stored(&self) -> String {
        if self.country_code.is_empty() || self.country_code == "86" {
            self.pure.clone()
        } else {
            format!("+{}{}", self.country_code, self.pure)
        }
    }

    /// The forms the same number may have in a user record typed by an administrator.
    pub fn candidates(&self) -> [String; 3] {
        let cc = if self.country_code.is_empty() {
            "86"
        } else {
            &self.country_code
        };
        [
            self.stored(),
            format!("+{cc}{}", self.pure),
            format!("{cc}{}", self.pure),
        ]
    }

    /// For a page: `138****6666`.
    pub fn masked(&self) -> String {
        mask_phone(&self.pure)
    }

    /// From WeChat's phone object (`phoneNumber`, `purePhoneNumber`, `countryCode`).
    pub fn from_open_data(v: &Value) -> Result<Phone, WechatError> {
        let pure = v
            .get("purePhoneNumber")
            .or_else(|| v.get("phoneNumber"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '+'))
            .ok_or(WechatError::BadReply("no phone number in the data".into()))?;
        let country_code = match v.get("countryCode") {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        Ok(Phone {
            pure: pure.trim_start_matches('+').to_owned(),
            country_code,
        })
    }
}

/// `138****6666`: enough for the owner to recognise, too little for anyone else.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 {
        return "****".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Decrypts WeChat open data and checks its watermark (WeChat's open-data documentation,
/// "加密数据解密算法": AES-128-CBC, PKCS#7, key = base64(session_key), iv from the client).
pub fn decrypt_open_data(
    session_key: &Secret,
    iv_b64: &str,
    encrypted_b64: &str,
    expected_appid: &str,
) -> Result<Value, WechatError> {
    let key = STANDARD
        .decode(session_key.expose().trim())
        .map_err(|_| WechatError::Decrypt("the session key is not base64"))?;
    let iv = STANDARD
        .decode(strip_ws(iv_b64))
        .map_err(|_| WechatError::Decrypt("iv is not base64"))?;
    let data = STANDARD
        .decode(strip_ws(encrypted_b64))
        .map_err(|_| WechatError::Decrypt("encryptedData is not base64"))?;
    let key: [u8; 16] = key
        .try_into()
        .map_err(|_| WechatError::Decrypt("the session key is not 16 bytes"))?;
    let iv: [u8; 16] = iv
        .try_into()
        .map_err(|_| WechatError::Decrypt("iv is not 16 bytes"))?;
    let plain = cbc::Decryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&data)
        .map_err(|_| WechatError::Decrypt("bad padding"))?;
    let value: Value = serde_json::from_slice(&plain)
        .map_err(|_| WechatError::Decrypt("the plaintext is not JSON"))?;
    if !value.is_object() {
        return Err(WechatError::Decrypt("the plaintext is not a JSON object"));
    }
    check_watermark(&value, expected_appid)?;
    Ok(value)
}

/// The watermark's appid must be ours: data decrypted for another mini-program (whose session
/// key an attacker holds) must not sign anyone in here.
pub fn check_watermark(value: &Value, expected_appid: &str) -> Result<(), WechatError> {
    let appid = value
        .pointer("/watermark/appid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if appid != expected_appid {
        return Err(WechatError::Watermark(appid.to_owned()));
    }
    Ok(())
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A client of WeChat's API at one base URL, with the access tokens it fetched (they last two
/// hours and WeChat caps how often they may be fetched).
pub struct Wechat {
    base: String,
    http: reqwest::Client,
    access_tokens: Mutex<HashMap<String, (Secret, Instant)>>,
}

#[derive(Deserialize)]
struct ErrReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl Wechat {
    pub fn new(base: &str) -> Wechat {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .unwrap_or_default();
        Wechat {
            base: base.trim_end_matches('/').to_owned(),
            http,
            access_tokens: Mutex::new(HashMap::new()),
        }
    }

    async fn get_json(&self, req: reqwest::RequestBuilder) -> Result<Value, WechatError> {
        // `without_url`: the URL carries the app secret (jscode2session, token).
        let reply = req
            .send()
            .await
            .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?;
        let status = reply.status();
        let body: Value = reply
            .json()
            .await
            .map_err(|e| WechatError::BadReply(format!("HTTP {status}: {}", e.without_url())))?;
        let err: ErrReply = serde_json::from_value(body.clone()).unwrap_or(ErrReply {
            errcode: 0,
            errmsg: String::new(),
        });
        if err.errcode != 0 {
            return Err(WechatError::Refused {
                code: err.errcode,
                message: err.errmsg.chars().take(200).collect(),
            });
        }
        if !status.is_success() {
            return Err(WechatError::BadReply(format!("HTTP {status}")));
        }
        Ok(body)
    }

    /// `GET /sns/jscode2session`: the code of one `wx.login`, for the user's openid and key.
    pub async fn code_to_session(
        &self,
        appid: &str,
        secret: &Secret,
        code: &str,
    ) -> Result<CodeSession, WechatError> {
        let req = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", appid),
                ("secret", secret.expose()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ]);
        let body = self.get_json(req).await?;
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        Ok(CodeSession {
            openid: text("openid").ok_or(WechatError::BadReply("no openid".into()))?,
            unionid: text("unionid"),
            session_key: Secret::new(
                text("session_key").ok_or(WechatError::BadReply("no session_key".into()))?,
            ),
        })
    }

    /// `GET /cgi-bin/token`, kept until five minutes before it expires.
    async fn access_token(&self, appid: &str, secret: &Secret) -> Result<Secret, WechatError> {
        if let Ok(cache) = self.access_tokens.lock() {
            if let Some((t, until)) = cache.get(appid) {
                if *until > Instant::now() {
                    return Ok(t.clone());
                }
            }
        }
        let req = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", appid),
                ("secret", secret.expose()),
            ]);
        let body = self.get_json(req).await?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or(WechatError::BadReply("no access_token".into()))?;
        let secs = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(7200);
        let token = Secret::new(token);
        if let Ok(mut cache) = self.access_tokens.lock() {
            let until = Instant::now() + Duration::from_secs(secs.saturating_sub(300));
            cache.insert(appid.to_owned(), (token.clone(), until));
        }
        Ok(token)
    }

    /// `POST /wxa/business/getuserphonenumber`: the code of a `getPhoneNumber` button for the
    /// number, which WeChat's own server vouches for (watermark checked as for open data).
    pub async fn phone_number(
        &self,
        appid: &str,
        secret: &Secret,
        phone_code: &str,
    ) -> Result<Phone, WechatError> {
        let token = self.access_token(appid, secret).await?;
        let req = self
            .http
            .post(format!("{}/wxa/business/getuserphonenumber", self.base))
            .query(&[("access_token", token.expose())])
            .json(&serde_json::json!({ "code": phone_code }));
        let body = self.get_json(req).await?;
        let info = body
            .get("phone_info")
            .ok_or(WechatError::BadReply("no phone_info".into()))?;
        check_watermark(info, appid)?;
        Phone::from_open_data(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // WeChat's own sample, from the demo code its open-data documentation links
    // ("开放数据校验与解密", developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html).
    const APPID: &str = "wx4f4bc4dec97d474b";
    const SESSION_KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
    const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
    const ENCRYPTED: &str = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZM
        QmRzooG2xrDcvSnxIMXFufNstNGTyaGS
        9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+
        3hVbJSRgv+4lGOETKUQz6OYStslQ142d
        NCuabNPGBzlooOmB231qMM85d2/fV6Ch
        evvXvQP8Hkue1poOFtnEtpyxVLW1zAo6
        /1Xx1COxFvrc2d7UL/lmHInNlxuacJXw
        u0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn
        /Hz7saL8xz+W//FRAUid1OksQaQx4CMs
        8LOddcQhULW4ucetDf96JcR3g0gfRK4P
        C7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB
        6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns
        /8wR2SiRS7MNACwTyrGvt9ts8p12PKFd
        lqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYV
        oKlaRv85IfVunYzO0IKXsyl7JCUjCpoG
        20f0a04COwfneQAGGwd5oa+T8yO5hzuy
        Db/XcxxmK01EpqOyuxINew==";

    #[test]
    fn wechats_documented_sample_decrypts_to_its_user() {
        let v = decrypt_open_data(&Secret::new(SESSION_KEY), IV, ENCRYPTED, APPID).expect("ok");
        assert_eq!(v["openId"], "oGZUI0egBJY1zhBYw2KhdUfwVJJE");
        assert_eq!(v["nickName"], "Band");
        assert_eq!(v["unionId"], "ocMvos6NjeKLIBqg5Mr9QjxrP1FA");
        assert_eq!(v["watermark"]["timestamp"], 1477314187);
    }

    #[test]
    fn the_sample_is_refused_for_another_mini_program() {
        let e = decrypt_open_data(&Secret::new(SESSION_KEY), IV, ENCRYPTED, "wxOTHER").unwrap_err();
        assert_eq!(e, WechatError::Watermark(APPID.into()));
    }

    #[test]
    fn a_tampered_sample_is_refused_with_a_clear_error() {
        let mut bytes = STANDARD.decode(strip_ws(ENCRYPTED)).unwrap();
        let n = bytes.len();
        bytes[n - 20] ^= 0x01;
        let tampered = STANDARD.encode(bytes);
        let e = decrypt_open_data(&Secret::new(SESSION_KEY), IV, &tampered, APPID).unwrap_err();
        assert!(matches!(e, WechatError::Decrypt(_)), "{e:?}");
        assert!(e.to_string().contains("does not decrypt"), "{e}");
        // The wrong key is the same error, and neither names the key.
        let e = decrypt_open_data(
            &Secret::new("AAAAAAAAAAAAAAAAAAAAAA=="),
            IV,
            ENCRYPTED,
            APPID,
        )
        .unwrap_err();
        assert!(matches!(e, WechatError::Decrypt(_)));
        assert!(!format!("{e} {e:?}").contains(SESSION_KEY));
    }

    #[test]
    fn phones_are_stored_bare_in_china_and_matched_in_every_form() {
        let p = Phone::from_open_data(&serde_json::json!({
            "phoneNumber": "13580006666", "purePhoneNumber": "13580006666", "countryCode": "86"
        }))
        .unwrap();
        assert_eq!(p.stored(), "13580006666");
        assert_eq!(p.candidates()[1], "+8613580006666");
        assert_eq!(p.masked(), "135****6666");
        let us = Phone::from_open_data(&serde_json::json!({
            "purePhoneNumber": "2025550100", "countryCode": 1
        }))
        .unwrap();
        assert_eq!(us.stored(), "+12025550100");
        assert!(format!("{:?}", Secret::new("s3cret"))
            .find("s3cret")
            .is_none());
    }
}
