//! Shared by the TLS tests (network.rs, no_os_store.rs): a CA of the test's own (as a company
//! would have), certificates it signs, an HTTPS server on 127.0.0.1, and one GET through the
//! engine's own transport.
#![allow(dead_code)] // each test binary uses a part

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::error::CoreError;
use qrlogin_core::http::{
    build_client_with, HttpRequest, Limits, Method, NetworkOptions, ProxyChoice, ReqwestTransport,
    Transport,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A certificate authority of our own, like a company's internal CA.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A server certificate for `names`, valid from `not_before` to `not_after` (years).
    pub fn issue(&self, names: &[&str], valid: (i32, i32)) -> (String, String) {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.not_before = rcgen::date_time_ymd(valid.0, 1, 1);
        params.not_after = rcgen::date_time_ymd(valid.1, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }
}

pub const NOW_VALID: (i32, i32) = (2020, 2099);

/// An HTTPS server on 127.0.0.1 that answers every request with `200 ok`.
pub async fn tls_server(cert_pem: &str, key_pem: &str) -> SocketAddr {
    let certs = rustls_pemfile_certs(cert_pem);
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake is the point of some tests: nothing to do then.
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    if read_head(&mut tls).await.is_some() {
                        let _ = tls
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                            )
                            .await;
                        let _ = tls.shutdown().await;
                    }
                }
            });
        }
    });
    addr
}

pub fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.unwrap())
        .collect()
}

/// Reads an HTTP request head (up to the blank line).
pub async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.ok()? == 0 || buf.len() > 16 * 1024 {
            return None;
        }
        buf.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// One GET through the engine's own transport, as the login session sends it. The query holds
/// a stand-in for the polling handle, which must not appear in any error.
pub async fn get(url: &str, network: &NetworkOptions) -> Result<String, CoreError> {
    let limits = Limits::default();
    let client = build_client_with(&limits, network)?;
    let transport = ReqwestTransport::new(client, &limits);
    let reply = transport
        .send(HttpRequest {
            method: Method::Get,
            url: format!("{url}/api/poll?random=SECRET-HANDLE")
                .parse()
                .unwrap(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(5),
        })
        .await?;
    assert_eq!(reply.status, 200);
    Ok(String::from_utf8(reply.body).unwrap())
}

pub fn write_pem(dir: &tempfile::TempDir, name: &str, pem: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

pub fn with_ca_file(path: PathBuf) -> NetworkOptions {
    NetworkOptions {
        ca_file: Some(path),
        proxy: ProxyChoice::Direct,
    }
}

pub fn network_error(result: Result<String, CoreError>) -> String {
    match result {
        Err(CoreError::Network(message)) => {
            assert!(
                !message.contains("SECRET-HANDLE"),
                "the error shows the request URL: {message}"
            );
            message
        }
        other => panic!("expected a network error, got {other:?}"),
    }
}
