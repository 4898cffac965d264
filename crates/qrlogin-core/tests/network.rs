//! `[network]` against real TLS on 127.0.0.1: a CA this test makes (as a company would), a
//! server certificate it signs, and a tiny HTTP CONNECT proxy. What a person sees is the error
//! text the engine reports, so the failures are checked by their words.

mod tls_peer;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use qrlogin_core::error::CoreError;
use qrlogin_core::http::{build_client_with, Limits, NetworkOptions, ProxyChoice};
use tls_peer::*;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

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
