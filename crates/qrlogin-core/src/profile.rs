//! The signed-in user as the UI shows it, the session (tokens) that only Rust sees, and reading a
//! JWT's claims without verifying them (for restoring a remembered session on Authing).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::dialect::WireUser;
use crate::secret::Secret;

/// contracts.md §3 `loggedIn.profile`. `avatar` is a data URL (the webview loads no remote
/// images); `expires_at` is when the session ends, in ms since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub username: Option<String>,
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub avatar: Option<String>,
    pub expires_at: Option<i64>,
}

impl Profile {
    /// A profile from a wire user; the avatar is filled in once fetched.
    pub fn from_user(user: &WireUser, expires_at: Option<i64>) -> Self {
        Self {
            id: user.id.clone().unwrap_or_default(),
            username: user.username.clone(),
            nickname: user.nickname.clone(),
            email: user.email.clone(),
            phone: user.phone.clone(),
            avatar: None,
            expires_at,
        }
    }
}

/// The tokens of a login. Never serialized: the shell stores the token itself, the UI never
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    /// The token to present: G1–G3 the user's `token`, G4 the `access_token`.
    pub token: Secret,
    pub id_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub expires_at: Option<i64>,
    /// The photo URL as the server gave it (the profile holds the fetched data URL).
    pub photo_url: Option<String>,
}

/// The claims of a JWT, decoded but NOT verified. Only for deciding how long to trust a token we
/// were given by the server ourselves.
pub fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let mut parts = token.trim().split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.is_object().then_some(v)
}

/// A JWT's `exp` in ms since the epoch, unverified.
pub fn jwt_expiry_ms(token: &str) -> Option<i64> {
    let exp = jwt_claims(token)?.get("exp")?.as_i64()?;
    exp.checked_mul(1000)
}

/// A time the server wrote (a fresh token's expiry, ms) on this computer's clock. A fresh token's
/// `iat` is what the server's clock read when it issued it, i.e. just now: the difference is the
/// server's clock error, and taking it off keeps the lifetime the server meant. Without the
/// correction a server an hour behind hands out one-hour sessions that are over when they begin
/// (the app would sign out or refresh at once), and one an hour ahead gets trusted an hour past
/// the end it will enforce. Differences under [`CLOCK_SLACK_MS`] are latency, left alone; a token
/// without `iat` is taken as it is. Only for tokens issued by the reply being read: an old token's
/// `iat` says nothing about the clock.
pub fn server_time_to_local(server_ms: i64, fresh_token: &str, now_ms: i64) -> i64 {
    let Some(iat_ms) = jwt_claims(fresh_token)
        .and_then(|c| c.get("iat")?.as_i64())
        .and_then(|s| s.checked_mul(1000))
    else {
        return server_ms;
    };
    let server_ahead_by = iat_ms.saturating_sub(now_ms);
    if server_ahead_by.abs() < CLOCK_SLACK_MS {
        return server_ms;
    }
    server_ms.saturating_sub(server_ahead_by)
}

/// Clock differences below this are network latency and rounding (`iat` is in seconds).
pub const CLOCK_SLACK_MS: i64 = 5_000;

/// A freshly issued JWT's `exp` on this computer's clock ([`server_time_to_local`]).
pub fn fresh_jwt_expiry_ms(token: &str, now_ms: i64) -> Option<i64> {
    jwt_expiry_ms(token).map(|exp| server_time_to_local(exp, token, now_ms))
}

/// The profile a token's own claims describe: `sub` (or Authing's old `data.id`), `email`, ...
pub fn profile_from_claims(claims: &serde_json::Value) -> Option<Profile> {
    let data = claims.get("data").filter(|d| d.is_object());
    let get = |k: &str| -> Option<String> {
        claims
            .get(k)
            .or_else(|| data.and_then(|d| d.get(k)))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let id = get("sub").or_else(|| get("id")).or_else(|| get("_id"))?;
    Some(Profile {
        id,
        username: get("username").or_else(|| get("preferred_username")),
        nickname: get("nickname").or_else(|| get("name")),
        email: get("email"),
        phone: get("phone").or_else(|| get("phone_number")),
        avatar: None,
        expires_at: claims
            .get("exp")
            .and_then(|e| e.as_i64())
            .and_then(|e| e.checked_mul(1000)),
    })
}

/// `tokenExpiredAt` as servers write it: RFC 3339, or (G1) a JS `Date.toString()` such as
/// `Wed Aug 01 2018 15:59:42 GMT+0800 (CST)`.
pub fn parse_token_expiry(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    // "Wed Aug 01 2018 15:59:42 GMT+0800 (CST)": drop the zone name, then parse.
    let core = s.split(" (").next().unwrap_or(s);
    let f = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [year] [hour]:[minute]:[second] GMT[offset_hour sign:mandatory][offset_minute]"
    );
    let t = time::OffsetDateTime::parse(core, &f).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.sig",
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn a_fresh_tokens_expiry_is_moved_onto_this_clock_by_its_iat() {
        let now = 1_800_000_000_000;
        let h = 3_600_000;
        // The server an hour behind: iat an hour ago, exp now.
        let behind = jwt(&format!(
            r#"{{"sub":"u","iat":{},"exp":{}}}"#,
            (now - h) / 1000,
            now / 1000
        ));
        assert_eq!(fresh_jwt_expiry_ms(&behind, now), Some(now + h));
        assert_eq!(server_time_to_local(now + 5 * h, &behind, now), now + 6 * h);
        // An hour ahead.
        let ahead = jwt(&format!(
            r#"{{"sub":"u","iat":{},"exp":{}}}"#,
            (now + h) / 1000,
            (now + 2 * h) / 1000
        ));
        assert_eq!(fresh_jwt_expiry_ms(&ahead, now), Some(now + h));
        // Latency and a token without iat: as written.
        let close = jwt(&format!(
            r#"{{"iat":{},"exp":{}}}"#,
            (now - 2000) / 1000,
            (now + h) / 1000
        ));
        assert_eq!(fresh_jwt_expiry_ms(&close, now), Some(now + h));
        let no_iat = jwt(&format!(r#"{{"exp":{}}}"#, (now + h) / 1000));
        assert_eq!(fresh_jwt_expiry_ms(&no_iat, now), Some(now + h));
        assert_eq!(server_time_to_local(7, "not a jwt", now), 7);
    }

    #[test]
    fn claims_and_expiry() {
        let t = jwt(r#"{"sub":"u1","exp":1700000000,"email":"a@b.c"}"#);
        assert_eq!(jwt_expiry_ms(&t), Some(1_700_000_000_000));
        let p = profile_from_claims(&jwt_claims(&t).unwrap()).unwrap();
        assert_eq!(p.id, "u1");
        assert_eq!(p.email.as_deref(), Some("a@b.c"));
        assert_eq!(jwt_claims("not a jwt"), None);
        assert_eq!(jwt_claims("a.!!!.c"), None);
    }

    #[test]
    fn old_authing_token_claims() {
        // Shape of the G1 seed's token: {"data":{"email":null,"unionid":..,"id":..,"clientId":..},"iat","exp"}
        let t = jwt(
            r#"{"data":{"email":null,"id":"5b4d5f37f5bca40001c1206f","clientId":"x"},"iat":1557967687,"exp":1559263687}"#,
        );
        let p = profile_from_claims(&jwt_claims(&t).unwrap()).unwrap();
        assert_eq!(p.id, "5b4d5f37f5bca40001c1206f");
        assert_eq!(p.expires_at, Some(1_559_263_687_000));
    }

    #[test]
    fn token_expiry_formats() {
        assert_eq!(
            parse_token_expiry("2020-01-11T08:08:18.000Z"),
            Some(1_578_730_098_000)
        );
        assert_eq!(
            parse_token_expiry("Wed Aug 01 2018 15:59:42 GMT+0800 (CST)"),
            Some(1_533_110_382_000)
        );
        assert_eq!(parse_token_expiry("soon"), None);
    }

    #[test]
    fn profile_json_is_camel_case() {
        let p = Profile {
            id: "1".into(),
            expires_at: Some(5),
            ..Default::default()
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["expiresAt"], 5);
        assert!(v.get("avatar").is_some());
    }
}
