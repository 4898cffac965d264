//! Random identifiers, all from the OS generator. Handles, scan ids and tickets are long enough
//! (over 128 bits) that guessing one is hopeless even without the rate limits.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;
use rand::RngCore;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// 24 hex digits, the shape of Authing's ids (user pool, app, user).
pub fn object_id() -> String {
    hex::encode(random_bytes::<12>())
}

/// An app secret: 32 hex digits.
pub fn secret() -> String {
    hex::encode(random_bytes::<16>())
}

/// `random` / `qrcodeId`: 32 alphanumerics (~190 bits).
pub fn handle() -> String {
    Alphanumeric.sample_string(&mut OsRng, 32)
}

/// The public id in the QR: 24 alphanumerics (~142 bits).
pub fn scan_id() -> String {
    Alphanumeric.sample_string(&mut OsRng, 24)
}

/// A ticket: 256 bits, base64url.
pub fn ticket() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Check code and two decoys: three distinct two-digit numbers, shuffled; returns (code, choices).
pub fn check_code() -> (String, Vec<String>) {
    use rand::seq::SliceRandom;
    use rand::Rng;
    let mut rng = OsRng;
    let mut picks: Vec<u8> = Vec::with_capacity(3);
    while picks.len() < 3 {
        let n = rng.gen_range(10..=99u8);
        if !picks.contains(&n) {
            picks.push(n);
        }
    }
    let code = picks[0].to_string();
    picks.shuffle(&mut rng);
    (code, picks.iter().map(|n| n.to_string()).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_code_is_one_of_three_distinct_choices() {
        for _ in 0..100 {
            let (code, choices) = super::check_code();
            assert_eq!(choices.len(), 3);
            assert!(choices.contains(&code));
            assert!(choices.iter().all(|c| c.len() == 2));
            assert!(
                choices[0] != choices[1] && choices[1] != choices[2] && choices[0] != choices[2]
            );
        }
    }
}
