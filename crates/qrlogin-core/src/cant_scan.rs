//! What the window offers under "Can't scan?" (issue 15 item 7), decided here so the UI only
//! renders text: a code to type on the phone with the address to type it at (our server's
//! `userCode` + `verificationUri`, or an RFC 8628 user code), a link a phone can open (the QR
//! holds a web address), or, on Authing dialects whose QR holds JSON or is only an image, what
//! to do in words (never the JSON or the image's URL).

use serde::Serialize;

use crate::dialect::GeneratedQr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CantScan {
    /// Type `code` (`WDJB-MJHT`) at `url` on a signed-in phone; `text` may be opened as well.
    Code { code: String, url: String },
    /// `text` is a web address: open it on a signed-in phone.
    Link,
    /// Nothing to type or open: the UI explains in words (bigger window, light, the right app).
    Words,
}

impl CantScan {
    /// For a QR as generated, whose encoded (or shown) text is `text`.
    pub fn of(qr: &GeneratedQr, text: &str) -> CantScan {
        match (&qr.user_code, &qr.verification_uri) {
            (Some(code), Some(url)) if is_web_address(url) && !code.trim().is_empty() => {
                return CantScan::Code {
                    code: code.trim().to_owned(),
                    url: url.clone(),
                }
            }
            _ => {}
        }
        // The server's image address is no help on a phone: it shows the same code again.
        let is_image = qr.image_url.as_deref() == Some(text);
        if is_web_address(text) && !is_image {
            CantScan::Link
        } else {
            CantScan::Words
        }
    }
}

fn is_web_address(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qr() -> GeneratedQr {
        GeneratedQr {
            handle: "h".into(),
            qr_content: None,
            image_url: None,
            scan_id: None,
            expires_in: None,
            check_code: None,
            custom_logo_url: None,
            user_code: None,
            verification_uri: None,
        }
    }

    #[test]
    fn code_link_or_words() {
        let mut ours = qr();
        ours.user_code = Some("WDJB-MJHT".into());
        ours.verification_uri = Some("https://id.example/s".into());
        assert_eq!(
            CantScan::of(&ours, "https://id.example/s/abc"),
            CantScan::Code {
                code: "WDJB-MJHT".into(),
                url: "https://id.example/s".into()
            }
        );
        // An older server of ours: the QR's link.
        assert_eq!(
            CantScan::of(&qr(), "https://id.example/s/abc"),
            CantScan::Link
        );
        // Authing G2/G3: the QR holds JSON.
        assert_eq!(
            CantScan::of(&qr(), r#"{"scene":"APP_AUTH","random":"r"}"#),
            CantScan::Words
        );
        // Authing G1: a mini-program code known only as an image.
        let mut g1 = qr();
        g1.image_url = Some("https://files.authing.co/qr/1.png".into());
        assert_eq!(
            CantScan::of(&g1, "https://files.authing.co/qr/1.png"),
            CantScan::Words
        );
        // A code without a usable address is not offered.
        let mut odd = qr();
        odd.user_code = Some("WDJB-MJHT".into());
        odd.verification_uri = Some("javascript:alert(1)".into());
        assert_eq!(CantScan::of(&odd, "{}"), CantScan::Words);
    }
}
