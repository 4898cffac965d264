//! The OS certificate store is read for https only (trust.rs). On a machine where it cannot be
//! read (a minimal kiosk image without ca-certificates; here SSL_CERT_FILE and SSL_CERT_DIR,
//! which the store loader obeys, name nothing), the client still builds and reaches a plain-http
//! server such as the app's own embedded one on 127.0.0.1, a company server whose CA is in
//! network.ca_file is still trusted, and any other https server fails with words about the store.
//! Built eagerly (reqwest's default), the client would not even build there.
//!
//! Its own test binary: the environment is the whole process's.

mod tls_peer;

use qrlogin_core::http::{NetworkOptions, ProxyChoice};
use tls_peer::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// A plain-http server on 127.0.0.1 answering `200 ok`, like the embedded server's poll route.
async fn http_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if read_head(&mut tcp).await.is_some() {
                    let _ = tcp
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn without_an_os_store_plain_http_and_the_ca_file_still_work() {
    let nowhere = tempfile::tempdir().unwrap();
    // Set before any client exists, and no other test runs in this binary.
    std::env::set_var("SSL_CERT_FILE", nowhere.path().join("no-bundle.pem"));
    std::env::set_var("SSL_CERT_DIR", nowhere.path().join("no-dir"));
    let direct = NetworkOptions {
        ca_file: None,
        proxy: ProxyChoice::Direct,
    };

    let plain = http_server().await;
    let body = get(&format!("http://127.0.0.1:{}", plain.port()), &direct)
        .await
        .expect("plain http needs no certificate store");
    assert_eq!(body, "ok");

    let ca = Ca::new("Example Corp Internal CA");
    let (cert, key) = ca.issue(&["localhost"], NOW_VALID);
    let company = tls_server(&cert, &key).await;
    let url = format!("https://localhost:{}", company.port());
    let message = network_error(get(&url, &direct).await);
    assert!(
        message.contains("no CA certificates") && message.contains("network.ca_file"),
        "an https server without any store should be explained: {message}"
    );

    let dir = tempfile::tempdir().unwrap();
    let ca_file = write_pem(&dir, "company-ca.pem", &ca.pem());
    let body = get(&url, &with_ca_file(ca_file))
        .await
        .expect("the CA in network.ca_file is trusted without an OS store");
    assert_eq!(body, "ok");
}
