//! Certificate failures in words a person can act on. rustls says `UnknownIssuer`; the person at
//! the desk needs to hear that this computer does not trust the company's CA, and which setting
//! fixes it.

use std::error::Error as StdError;

/// The sentence for a TLS certificate failure somewhere in `err`'s source chain, or `None` when
/// the failure is not about a certificate.
pub fn explain(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return describe(tls);
        }
        next = inner(e);
    }
    None
}

/// Whether `err` says the server's bytes were not TLS at all (a plain HTTP server behind an
/// `https://` URL): rustls reads its "HTTP/1.1 ..." as a record of no known content type.
pub fn is_not_tls(err: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return matches!(tls, rustls::Error::InvalidMessage(_));
        }
        next = inner(e);
    }
    false
}

/// The next error down. hyper-rustls hands rustls' error up inside `io::Error`s (nested twice
/// through hyper-util), and `io::Error::source()` skips the error it wraps, so that layer is
/// opened with `get_ref`.
fn inner<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    match e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(wrapped) => Some(wrapped as &(dyn StdError + 'static)),
        None => e.source(),
    }
}

fn describe(e: &rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    // The platform verifier's words when the OS store held nothing usable (trust.rs reads it at
    // the first https handshake).
    if matches!(e, rustls::Error::General(m) if m.contains("No CA certificates")) {
        return Some(
            "this computer has no CA certificates to check the server's certificate against \
             (its certificate store is empty or unreadable): install the system's CA \
             certificates (ca-certificates), or set network.ca_file to your organization's CA \
             certificate (PEM)"
                .into(),
        );
    }
    let rustls::Error::InvalidCertificate(cert) = e else {
        return None;
    };
    Some(match cert {
        C::UnknownIssuer => "the server's certificate is signed by an authority this computer \
             does not trust: set network.ca_file to your organization's CA certificate (PEM), or \
             add that CA to the system's certificate store"
            .into(),
        C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired (or this \
             computer's clock is wrong): renew the certificate on the server, or check the date"
            .into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "the server's certificate is not valid \
             yet (or this computer's clock is wrong): check the date on both"
            .into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            let names = match cert {
                C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                    format!(" (it names {})", presented.join(", "))
                }
                _ => String::new(),
            };
            format!(
                "the server's certificate is for another host name{names}: use the name the \
                 certificate was issued for in server.url, or reissue the certificate"
            )
        }
        C::Revoked => {
            "the server's certificate has been revoked: the server needs a new one".into()
        }
        C::BadSignature | C::BadEncoding | C::UnsupportedSignatureAlgorithmContext { .. } => {
            "the server's certificate is damaged or uses an unsupported algorithm: reissue it"
                .into()
        }
        other => format!("the server's certificate was rejected ({other:?})"),
    })
}
