//! A TCP front on 127.0.0.1 that either terminates TLS (with a certificate from a CA of its own)
//! and relays the plain bytes to an upstream, or relays the raw bytes untouched. Switched while a
//! client runs, it plays both scheme mix-ups: an `https://` client meeting a plain HTTP server
//! (TLS off), and an `http://` client meeting an HTTPS server (TLS on).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

pub struct TlsFront {
    addr: SocketAddr,
    tls: Arc<AtomicBool>,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    /// Listens in front of `upstream` (a plain HTTP server), TLS on, with a certificate for
    /// `localhost` and `127.0.0.1` signed by a fresh CA ([`TlsFront::ca_pem`]).
    pub async fn start(upstream: SocketAddr) -> TlsFront {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Fault Front Test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert.pem().as_bytes())
                .map(|c| c.unwrap())
                .collect();
        let key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap();
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
        let tls = Arc::new(AtomicBool::new(true));
        let on = tls.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, on) = (acceptor.clone(), on.clone());
                tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if on.load(Ordering::SeqCst) {
                        // A client that does not speak TLS fails the handshake: nothing to relay.
                        if let Ok(mut tls) = acceptor.accept(tcp).await {
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                        }
                    } else {
                        let _ = tokio::io::copy_bidirectional(&mut tcp, &mut up).await;
                    }
                });
            }
        });
        TlsFront {
            addr,
            tls,
            ca_pem: ca.pem(),
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TLS on (an HTTPS server) or off (the plain server behind it, as it is).
    pub fn set_tls(&self, on: bool) {
        self.tls.store(on, Ordering::SeqCst);
    }

    /// The CA that signed the front's certificate, PEM (for `network.ca_file`).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
