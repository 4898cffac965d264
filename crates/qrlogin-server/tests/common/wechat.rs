//! A stand-in for WeChat's API on 127.0.0.1, as the server calls it for a mini-program sign-in:
//! `GET /sns/jscode2session` (single-use `wx.login` codes, checked app secret), `GET
//! /cgi-bin/token` and `POST /wxa/business/getuserphonenumber` (single-use phone codes). The
//! test plays the mini-program: it asks for a code as `wx.login` would, and encrypts open data
//! with that code's session key as WeChat's client would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

#[derive(Default)]
struct St {
    appid: String,
    secret: String,
    /// code → (openid, session key)
    codes: HashMap<String, (String, String)>,
    /// phone code → phone_info
    phone_codes: HashMap<String, Value>,
    access_token: String,
    calls: u32,
    /// Every query string the server sent (the secret travels there, as WeChat wants).
    queries: Vec<String>,
    /// The next jscode2session answers a web page instead of JSON (a proxy's error page).
    garble_next: bool,
}

#[derive(Clone)]
pub struct WechatStandIn {
    pub base: String,
    pub appid: String,
    pub secret: String,
    st: Arc<Mutex<St>>,
}

fn random_b64(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    STANDARD.encode(bytes)
}

impl WechatStandIn {
    pub async fn start(appid: &str, secret: &str) -> WechatStandIn {
        let st = Arc::new(Mutex::new(St {
            appid: appid.into(),
            secret: secret.into(),
            access_token: format!("ACCESS-{}", random_b64(12)),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/sns/jscode2session", get(jscode2session))
            .route("/cgi-bin/token", get(token))
            .route("/wxa/business/getuserphonenumber", post(phone_number))
            .with_state(Arc::clone(&st));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the WeChat stand-in");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WechatStandIn {
            base,
            appid: appid.into(),
            secret: secret.into(),
            st,
        }
    }

    /// What `wx.login` gives the mini-program: a fresh code for `openid`; also returns the
    /// session key WeChat will hand the server for it (the client encrypts open data with it).
    pub fn login(&self, openid: &str) -> (String, String) {
        let code = format!("code-{}", random_b64(9).replace(['+', '/', '='], "x"));
        let key = random_b64(16);
        self.st
            .lock()
            .unwrap()
            .codes
            .insert(code.clone(), (openid.into(), key.clone()));
        (code, key)
    }

    /// What a `getPhoneNumber` button gives: a code for `phone`, watermarked for `appid`.
    pub fn phone_code(&self, phone: &str, watermark_appid: &str) -> String {
        let code = format!("phone-{}", random_b64(9).replace(['+', '/', '='], "x"));
        self.st
            .lock()
            .unwrap()
            .phone_codes
            .insert(code.clone(), phone_info(phone, watermark_appid));
        code
    }

    /// The next `jscode2session` answers HTML, as a captive portal or a proxy error would.
    pub fn garble_next(&self) {
        self.st.lock().unwrap().garble_next = true;
    }

    pub fn calls(&self) -> u32 {
        self.st.lock().unwrap().calls
    }

    pub fn queries(&self) -> Vec<String> {
        self.st.lock().unwrap().queries.clone()
    }
}

/// WeChat's phone object.
pub fn phone_info(phone: &str, watermark_appid: &str) -> Value {
    json!({
        "phoneNumber": phone,
        "purePhoneNumber": phone,
        "countryCode": "86",
        "watermark": {"timestamp": 1_700_000_000, "appid": watermark_appid},
    })
}

/// Encrypts open data as WeChat does (AES-128-CBC, PKCS#7); returns (encryptedData, iv).
pub fn encrypt(session_key: &str, plain: &Value) -> (String, String) {
    let key: [u8; 16] = STANDARD.decode(session_key).unwrap().try_into().unwrap();
    let iv: [u8; 16] = rand::random();
    let data = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plain.to_string().as_bytes());
    (STANDARD.encode(data), STANDARD.encode(iv))
}

type S = State<Arc<Mutex<St>>>;

fn record(st: &mut St, q: &HashMap<String, String>) {
    st.calls += 1;
    let mut parts: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.sort();
    st.queries.push(parts.join("&"));
}

async fn jscode2session(
    State(st): S,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut st = st.lock().unwrap();
    record(&mut st, &q);
    if std::mem::take(&mut st.garble_next) {
        return axum::response::Html("<html>502 Bad Gateway</html>").into_response();
    }
    jscode2session_json(&mut st, &q).into_response()
}

fn jscode2session_json(st: &mut St, q: &HashMap<String, String>) -> Json<Value> {
    let arg = |k: &str| q.get(k).cloned().unwrap_or_default();
    if arg("appid") != st.appid || arg("secret") != st.secret {
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    if arg("grant_type") != "authorization_code" {
        return Json(json!({"errcode": 40002, "errmsg": "invalid grant_type"}));
    }
    match st.codes.remove(&arg("js_code")) {
        Some((openid, key)) => Json(json!({"openid": openid, "session_key": key})),
        None => Json(json!({"errcode": 40029, "errmsg": "invalid code"})),
    }
}

async fn token(State(st): S, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let mut st = st.lock().unwrap();
    record(&mut st, &q);
    let arg = |k: &str| q.get(k).cloned().unwrap_or_default();
    if arg("appid") != st.appid || arg("secret") != st.secret {
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    Json(json!({"access_token": st.access_token, "expires_in": 7200}))
}

async fn phone_number(
    State(st): S,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut st = st.lock().unwrap();
    record(&mut st, &q);
    if q.get("access_token") != Some(&st.access_token) {
        return Json(
            json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}),
        );
    }
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    match st.phone_codes.remove(&code) {
        Some(info) => Json(json!({"errcode": 0, "errmsg": "ok", "phone_info": info})),
        None => Json(json!({"errcode": 40029, "errmsg": "invalid code"})),
    }
}
