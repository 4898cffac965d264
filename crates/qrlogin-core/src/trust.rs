//! Whom the engine's HTTPS trusts, and on which crypto: the OS certificate store (through
//! rustls-platform-verifier, as reqwest 0.13 does by default) plus `network.ca_file`, on rustls'
//! ring provider. The OS store is read on the first TLS handshake, not when the client is built:
//! the desktop app's own embedded server is plain http on 127.0.0.1, and reading the store costs
//! 300-450 ms of its start-up for nothing (issue 18); a machine without a certificate store can
//! still use such a server.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// ring, the provider of every rustls in the app (Tauri's, the tests'): reqwest 0.13's own
/// `rustls` feature would add aws-lc-rs, a second C crypto library, and with two providers built
/// in rustls refuses to pick a default.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process-wide rustls provider, for reqwest clients built elsewhere than
/// [`crate::http::build_client_with`] (reqwest 0.13 with `rustls-no-provider` panics building a
/// client otherwise). Idempotent; a provider installed before is kept.
pub fn install_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one in between: that one is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The rustls configuration of the engine's client: TLS 1.2 and 1.3, HTTP/1.1 (the client is built
/// without HTTP/2), certificates checked against the OS store plus `extra_roots`, loaded lazily.
pub fn client_config(extra_roots: Vec<CertificateDer<'static>>) -> rustls::ClientConfig {
    let provider = crypto_provider();
    let verifier = Arc::new(LazyOsVerifier {
        extra_roots,
        provider: provider.clone(),
        inner: OnceLock::new(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        // Not a relaxation: the verifier below is the platform verifier, only built later.
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // reqwest leaves ALPN to a preconfigured TLS config.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The platform verifier, built (the OS store read) on the first certificate it has to check.
#[derive(Debug)]
struct LazyOsVerifier {
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    inner: OnceLock<Result<Arc<rustls_platform_verifier::Verifier>, rustls::Error>>,
}

impl LazyOsVerifier {
    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        let built = self.inner.get_or_init(|| {
            let started = std::time::Instant::now();
            let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                self.extra_roots.iter().cloned(),
                self.provider.clone(),
            )
            .map(Arc::new);
            tracing::debug!(
                ms = started.elapsed().as_millis() as u64,
                ok = verifier.is_ok(),
                "OS certificate store loaded"
            );
            verifier
        });
        match built {
            Ok(v) => Ok(v),
            Err(e) => Err(e.clone()),
        }
    }
}

impl ServerCertVerifier for LazyOsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    // The handshake signatures need no roots: checked with the provider's algorithms, as the
    // platform verifier itself does.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
