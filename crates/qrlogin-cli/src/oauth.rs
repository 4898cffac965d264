//! Refresh (RFC 6749 §6) and revocation (RFC 7009) of the remembered session: at the IdP's
//! discovered endpoints for `device`, else at qrlogin-server's `/oidc/token` and
//! `/oidc/token/revocation` (the paths Authing's v5 SDKs call).

use qrlogin_core::config::Config;
use qrlogin_core::DialectId;
use serde_json::Value;

use qrlogin_core::session_store::Remembered;

struct Endpoints {
    token: String,
    revocation: Option<String>,
}

async fn endpoints(config: &Config) -> Result<Endpoints, String> {
    if config.server.dialect == DialectId::Device {
        let c = crate::client(config)?;
        let e = c.device_endpoints().await.map_err(|e| e.to_string())?;
        return Ok(Endpoints {
            token: e.token.to_string(),
            revocation: e.revocation.map(|u| u.to_string()),
        });
    }
    let base = config.server.url.trim().trim_end_matches('/');
    Ok(Endpoints {
        token: format!("{base}/oidc/token"),
        revocation: Some(format!("{base}/oidc/token/revocation")),
    })
}

fn client_pairs(config: &Config) -> Result<Vec<(&'static str, String)>, String> {
    let mut p = vec![("client_id", config.server.app_id.trim().to_owned())];
    if let Some(s) = config.server.app_secret().map_err(|e| e.to_string())? {
        if !s.is_empty() {
            p.push(("client_secret", s.expose().to_owned()));
        }
    }
    Ok(p)
}

/// The engine's client set-up (its TLS, `network.ca_file`, `network.proxy`, timeouts), so a
/// refresh reaches a server behind a company CA or proxy as the login did.
fn http(config: &Config) -> Result<reqwest::Client, String> {
    crate::http_client(config, &qrlogin_core::http::Limits::default())
}

/// A refreshed session (the refresh token rotates when the server rotates it).
pub async fn refresh(config: &Config, s: &Remembered) -> Result<Remembered, String> {
    let rt = s
        .refresh_token
        .as_deref()
        .ok_or("the session has no refresh token: sign in again")?;
    let e = endpoints(config).await?;
    let mut form = client_pairs(config)?;
    form.push(("grant_type", "refresh_token".into()));
    form.push(("refresh_token", rt.to_owned()));
    let r = http(config)?
        .post(&e.token)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the server: {e}"))?;
    let status = r.status();
    let v: Value = r
        .json()
        .await
        .map_err(|_| format!("HTTP {status}, not JSON"))?;
    if !status.is_success() {
        let err = v.get("error").and_then(Value::as_str).unwrap_or("error");
        return Err(format!("{err}: sign in again"));
    }
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let token = text("access_token").ok_or("the reply has no access_token")?;
    let now = crate::now_ms();
    let ttl = v
        .get("expires_in")
        .or_else(|| v.get("expire_in"))
        .and_then(Value::as_i64);
    Ok(Remembered {
        token,
        id_token: text("id_token").or_else(|| s.id_token.clone()),
        refresh_token: text("refresh_token").or_else(|| s.refresh_token.clone()),
        issued_at: now,
        expires_at: ttl.map(|t| now + t * 1000),
        ..s.clone()
    })
}

/// Revokes the session at the server (its refresh token, which ends the whole session).
pub async fn revoke(config: &Config, s: &Remembered) -> Result<(), String> {
    let e = endpoints(config).await?;
    let url = e.revocation.ok_or("the IdP names no revocation endpoint")?;
    let mut form = client_pairs(config)?;
    form.push((
        "token",
        s.refresh_token.clone().unwrap_or_else(|| s.token.clone()),
    ));
    let r = http(config)?
        .post(&url)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the server: {e}"))?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", r.status()))
    }
}

pub fn utc(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default()
}
