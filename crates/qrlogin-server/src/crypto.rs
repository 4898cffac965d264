//! The secrets arithmetic of the domain, in one place: constant-time comparison, PKCE, Argon2id
//! password hashes, the stored form of refresh tokens and the CSRF token of a signed-in page.
//! Nothing here knows about HTTP or storage.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::errors::Error;

/// Equality that takes as long whatever the first differing byte (secrets, tags, CSRF tokens).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// base64url(SHA-256(verifier)) == challenge, for a 43..=128 character verifier (RFC 7636).
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    if !(43..=128).contains(&verifier.len()) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    constant_time_eq(&computed, challenge)
}

/// Hex SHA-256 of a refresh token: what the store keeps instead of the token.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// The CSRF token of a signed-in page: derived from the session cookie, which a foreign site
/// can neither read nor send (SameSite=Strict).
pub(crate) fn csrf_for_session(session_token: &str) -> String {
    let digest = Sha256::digest(format!("qrlogin-csrf:{session_token}").as_bytes());
    hex::encode(&digest[..16])
}

pub(crate) fn hash_password(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::InvalidInput(format!("cannot hash the password: {e}")))
}

/// A hash to verify against when the username is unknown, so that both cases take as long.
/// Made once per process: by [`warm_dummy_hash`] in the background, or here by the first sign-in
/// that needs it before then (a second caller waits for the first).
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("not a password of anyone")
            // Never reached with the default parameters; an impossible hash still fails closed.
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$invalid".into())
    })
}

/// Starts making [`dummy_hash`] on a thread of its own: an Argon2 hash costs tens of
/// milliseconds, and the desktop app opens the server while its window loads.
pub(crate) fn warm_dummy_hash() {
    let _ = std::thread::Builder::new()
        .name("dummy-hash".into())
        .spawn(|| {
            dummy_hash();
        });
}

pub(crate) async fn hash_password_blocking(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::InvalidInput(format!("hashing task failed: {e}")))?
}

/// Argon2id verification, off the async threads (it is slow on purpose).
pub(crate) async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_follows_rfc7636_example() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("short", challenge));
        assert!(!pkce_matches(&verifier.replace('d', "e"), challenge));
    }

    /// Made off the start path, the dummy is still a real Argon2id hash with the parameters real
    /// passwords get: an unknown username costs one full verification, like a known one.
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let parsed = PasswordHash::new(dummy_hash()).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let real = hash_password("correct horse").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(parsed.params, real.params, "same memory, iterations, lanes");
        assert!(!verify_blocking("", dummy_hash()));
        assert!(!verify_blocking("not a password", dummy_hash()));
    }

    fn verify_blocking(password: &str, hash: &str) -> bool {
        let parsed = PasswordHash::new(hash).unwrap();
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }
}
