//! Tokens: EdDSA (Ed25519) JWTs signed with the key made when the data directory was first
//! opened, and the JWKS that publishes its public half.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Millis;

/// PKCS#8 v1 prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// `access` or `id`; the phone's cookie session is an access token too.
    #[serde(default)]
    pub typ: String,
    /// The server-side session (`sessions.rs`) the token belongs to; a token without one, or
    /// whose session ended, is not signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// The signing key and what is derived from it.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    x: String,
}

impl Keys {
    /// A new random key, as text to store (base64url of the 32-byte seed).
    pub fn generate_seed() -> String {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        URL_SAFE_NO_PAD.encode(key.to_bytes())
    }

    pub fn from_seed(seed_b64: &str) -> Result<Keys, String> {
        let seed = URL_SAFE_NO_PAD
            .decode(seed_b64.trim())
            .map_err(|e| format!("stored key is not base64url: {e}"))?;
        let seed: [u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| "stored key is not 32 bytes".to_owned())?;
        let signing = SigningKey::from_bytes(&seed);
        let public = signing.verifying_key().to_bytes();
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let x = URL_SAFE_NO_PAD.encode(public);
        let decoding = DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?;
        let kid = hex::encode(&Sha256::digest(public)[..8]);
        Ok(Keys {
            encoding: EncodingKey::from_ed_der(&der),
            decoding,
            kid,
            x,
        })
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// Verifies signature and expiry. `iss` and `aud` are not checked: the issuer URL changes
    /// with the port of an embedded server, and every app of the pool may read a profile.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        self.decode(token, true)
    }

    /// Signature only, expiry not checked: revocation accepts an expired access token, since
    /// ending the session it names is what its holder asks for.
    pub fn verify_signature(&self, token: &str) -> Option<Claims> {
        self.decode(token, false)
    }

    fn decode(&self, token: &str, check_expiry: bool) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_aud = false;
        validation.validate_exp = check_expiry;
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": self.x,
                "kid": self.kid,
                "use": "sig",
                "alg": "EdDSA",
            }]
        })
    }
}

/// A minted token with its expiry.
pub struct Minted {
    pub token: String,
    pub expires_at: Millis,
}

/// The token in an `Authorization` header, with or without `Bearer ` (PROTOCOL.md §2).
pub fn bearer(value: &str) -> Option<&str> {
    let v = value.trim();
    let token = match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None => v,
    };
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            iss: "http://x".into(),
            aud: "app".into(),
            iat: 0,
            exp,
            nickname: None,
            typ: "access".into(),
            sid: Some("s1".into()),
        }
    }

    #[test]
    fn signs_and_verifies_and_rejects_other_keys() {
        let keys = Keys::from_seed(&Keys::generate_seed()).expect("key");
        let other = Keys::from_seed(&Keys::generate_seed()).expect("key");
        let far = time::OffsetDateTime::now_utc().unix_timestamp() + 60;
        let token = keys.sign(&claims(far)).expect("sign");
        assert_eq!(keys.verify(&token).map(|c| c.sub), Some("u1".into()));
        assert!(other.verify(&token).is_none());
        let old = keys.sign(&claims(1000)).expect("sign");
        assert!(keys.verify(&old).is_none(), "expired token accepted");
        assert_eq!(
            keys.verify_signature(&old).and_then(|c| c.sid),
            Some("s1".into())
        );
        assert!(other.verify_signature(&old).is_none());
    }

    #[test]
    fn bearer_is_optional() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer(""), None);
    }
}
