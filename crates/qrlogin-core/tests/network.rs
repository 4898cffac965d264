//! `[network]` against real TLS on 127.0.0.1: a CA this test makes (as a company would), a
//! server certificate it signs, and a tiny HTTP CONNECT proxy. What a person sees is the error
//! text the engine reports, so the failures are checked by their words.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qrlogin_core::error::CoreError;
use qrlogin_core::http::{
    build_client_with, HttpRequest, Limits, Method, NetworkOptions, ProxyChoice, ReqwestTransport,
    Transport,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority of our own, like a company's internal CA.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A server certificate for `names`, valid from `not_before` to `not_after` (years).
    fn issue(&self, names: &[&str], valid: (i32, i32)) -> (String, String) {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.not_before = rcgen::date_time_ymd(valid.0, 1, 1);
        params.not_after = rcgen::date_time_ymd(valid.1, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }
}

const NOW_VALID: (i32, i32) = (2020, 2099);

/// An HTTPS server on 127.0.0.1 that answers every request with `200 ok`.
async fn tls_server(cert_pem: &str, key_pem: &str) -> SocketAddr {
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

fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.unwrap())
        .collect()
}

/// Reads an HTTP request head (up to the blank line).
async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<String> {
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

/// An HTTP CONNECT proxy on 127.0.0.1 that records the `CONNECT host:port` lines it tunnels.
async fn connect_proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                let line = head.lines().next().unwrap_or_default().to_string();
                log.lock().unwrap().push(line.clone());
                let mut parts = line.split_whitespace();
                let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
                    let _ = client
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (addr, seen)
}

/// One GET through the engine's own transport, as the login session sends it. The query holds
/// a stand-in for the polling handle, which must not appear in any error.
async fn get(url: &str, network: &NetworkOptions) -> Result<String, CoreError> {
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

fn write_pem(dir: &tempfile::TempDir, name: &str, pem: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

fn with_ca_file(path: PathBuf) -> NetworkOptions {
    NetworkOptions {
        ca_file: Some(path),
        proxy: ProxyChoice::Direct,
    }
}

fn network_error(result: Result<String, CoreError>) -> String {
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

#[tokio::test]
async fn a_private_ca_is_not_trusted_by_default_and_the_error_says_what_to_set() {
    let ca = Ca::new("Example Corp Internal CA");
    let (cert, key) = ca.issue(&["localhost", "127.0.0.1"], NOW_VALID);
    let addr = tls_server(&cert, &key).await;
    let direct = NetworkOptions {
        ca_file: None,
        proxy: ProxyChoice::Direct,
    };
    let message = network_error(get(&format!("https://localhost:{}", addr.port()), &direct).await);
    assert!(
        message.contains("authority this computer does not trust")
            && message.contains("network.ca_file"),
        "the error should say the CA is not trusted and name network.ca_file: {message}"
    );
}

#[tokio::test]
async fn ca_file_with_several_certificates_makes_the_company_server_trusted() {
    let ca = Ca::new("Example Corp Internal CA");
    let other = Ca::new("Some Other CA");
    let (cert, key) = ca.issue(&["localhost"], NOW_VALID);
    let addr = tls_server(&cert, &key).await;
    let dir = tempfile::tempdir().unwrap();
    // The bundle's first certificate is another CA: every one in the file counts.
    let bundle = write_pem(&dir, "cas.pem", &format!("{}{}", other.pem(), ca.pem()));
    let body = get(
        &format!("https://localhost:{}", addr.port()),
        &with_ca_file(bundle),
    )
    .await
    .expect("the server signed by a CA in network.ca_file is trusted");
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn a_certificate_for_another_host_is_named_as_such() {
    let ca = Ca::new("Example Corp Internal CA");
    let (cert, key) = ca.issue(&["login.other.example"], NOW_VALID);
    let addr = tls_server(&cert, &key).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = write_pem(&dir, "ca.pem", &ca.pem());
    let message = network_error(
        get(
            &format!("https://localhost:{}", addr.port()),
            &with_ca_file(ca_file),
        )
        .await,
    );
    assert!(
        message.contains("certificate is for another host name")
            && message.contains("login.other.example"),
        "the error should say which name the certificate carries: {message}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_named_as_such() {
    let ca = Ca::new("Example Corp Internal CA");
    let (cert, key) = ca.issue(&["localhost"], (2001, 2002));
    let addr = tls_server(&cert, &key).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = write_pem(&dir, "ca.pem", &ca.pem());
    let message = network_error(
        get(
            &format!("https://localhost:{}", addr.port()),
            &with_ca_file(ca_file),
        )
        .await,
    );
    assert!(message.contains("has expired"), "{message}");
}

#[tokio::test]
async fn a_missing_or_broken_ca_file_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (path, why) in [
        (dir.path().join("nope.pem"), "cannot read it"),
        (
            write_pem(&dir, "junk.pem", "this is not a certificate\n"),
            "holds no certificate",
        ),
    ] {
        match build_client_with(&Limits::default(), &with_ca_file(path.clone())) {
            Err(CoreError::Config(m)) => assert!(
                m.contains("network.ca_file") && m.contains(why) && m.contains("pem"),
                "{path:?}: {m}"
            ),
            other => panic!("{path:?}: expected a config error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn network_proxy_carries_every_request_through_the_proxy() {
    let ca = Ca::new("Example Corp Internal CA");
    let (cert, key) = ca.issue(&["localhost"], NOW_VALID);
    let addr = tls_server(&cert, &key).await;
    let (proxy, seen) = connect_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let network = NetworkOptions {
        ca_file: Some(write_pem(&dir, "ca.pem", &ca.pem())),
        proxy: ProxyChoice::parse(&format!("http://{proxy}")).unwrap(),
    };
    let body = get(&format!("https://localhost:{}", addr.port()), &network)
        .await
        .expect("the request goes through the proxy's tunnel");
    assert_eq!(body, "ok");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![format!("CONNECT localhost:{} HTTP/1.1", addr.port())],
        "the proxy should have tunnelled exactly our request"
    );

    // A proxy that is down is an error, not a quiet direct connection around it.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let network = NetworkOptions {
        proxy: ProxyChoice::parse(&format!("http://{dead_addr}")).unwrap(),
        ..network
    };
    network_error(get(&format!("https://localhost:{}", addr.port()), &network).await);
}

#[test]
fn network_proxy_accepts_system_none_and_proxy_urls_only() {
    assert_eq!(ProxyChoice::parse("system"), Ok(ProxyChoice::System));
    assert_eq!(ProxyChoice::parse(""), Ok(ProxyChoice::System));
    assert_eq!(ProxyChoice::parse("none"), Ok(ProxyChoice::Direct));
    for ok in [
        "http://proxy.example:3128",
        "https://proxy.example",
        "socks5://127.0.0.1:1080",
        "socks5h://user:pw@proxy.example:1080",
    ] {
        assert_eq!(ProxyChoice::parse(ok), Ok(ProxyChoice::Url(ok.into())));
    }
    let ftp = ProxyChoice::parse("ftp://proxy.example").unwrap_err();
    assert!(ftp.contains("socks5://"), "{ftp}");
    let word = ProxyChoice::parse("proxy.example:3128").unwrap_err();
    assert!(word.contains("\"system\", \"none\""), "{word}");
}
