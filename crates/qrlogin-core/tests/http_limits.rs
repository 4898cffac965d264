//! The reqwest transport's limits on real sockets (127.0.0.1, real time, short waits): the 1 MiB
//! reply cap with and without Content-Length, the request timeout, refused connections,
//! Retry-After and the User-Agent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qrlogin_core::http::Limits;
use qrlogin_core::{Client, ClientConfig, CoreError, DialectId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-trick HTTP server: reads each request head, then writes `reply` (or nothing).
async fn raw_server(reply: Option<Vec<u8>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let h = heads.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let reply = reply.clone();
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                h.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                match reply {
                    Some(r) => {
                        let _ = sock.write_all(&r).await;
                        let _ = sock.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    (format!("http://{addr}"), heads)
}

fn client(base: &str, limits: Limits) -> Client {
    let mut c = ClientConfig::new(base, DialectId::G3, "app1");
    c.discover = false;
    c.limits = limits;
    Client::new(c).unwrap()
}

#[tokio::test]
async fn replies_over_1_mib_are_rejected_while_streaming() {
    let big = vec![b'x'; 2 * 1024 * 1024];
    // Without Content-Length: the cap must cut the stream.
    let mut reply =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
    reply.extend_from_slice(&big);
    let (base, _) = raw_server(Some(reply)).await;
    let err = client(&base, Limits::default())
        .generate(None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::TooLarge { limit: 1_048_576 }),
        "{err:?}"
    );
    assert_eq!(err.kind(), qrlogin_core::ErrorKind::Protocol);

    // With an honest Content-Length: refused before reading.
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        big.len()
    )
    .into_bytes();
    reply.extend_from_slice(&big);
    let (base, _) = raw_server(Some(reply)).await;
    let err = client(&base, Limits::default())
        .generate(None)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn exactly_the_limit_is_fine() {
    let limits = Limits {
        max_reply_bytes: 200,
        ..Limits::default()
    };
    let body = format!(
        r#"{{"code":200,"data":{{"random":"R","url":"http://x/q.png","pad":"{}"}}}}"#,
        "p".repeat(134)
    );
    let body = format!("{body:<200}");
    assert_eq!(body.len(), 200);
    let reply = format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}").into_bytes();
    let (base, _) = raw_server(Some(reply)).await;
    let qr = client(&base, limits).generate(None).await.unwrap();
    assert_eq!(qr.handle, "R");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let (base, _) = raw_server(None).await;
    let limits = Limits {
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let err = client(&base, limits).generate(None).await.unwrap_err();
    assert!(matches!(err, CoreError::Timeout(_)), "{err:?}");
    assert!(err.is_transient() && err.kind() == qrlogin_core::ErrorKind::Network);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_network_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(&format!("http://{addr}"), Limits::default())
        .generate(None)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Network(_)), "{err:?}");
    assert!(err.is_transient());
}

/// The failed view shows this message: it names the server but never the poll URL, whose query
/// holds the requester's handle (PROTOCOL.md §4.1).
#[tokio::test]
async fn a_network_error_names_the_host_but_not_the_polling_handle() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let handle = "SzZrszCJNCFfVBDUCKLDtAYNBR96SK";
    let err = client(&format!("http://{addr}"), Limits::default())
        .poll(handle, &Default::default())
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains(&addr.to_string()), "{shown}");
    assert!(!shown.contains(handle), "the handle leaked: {shown}");
    assert!(!shown.contains("random="), "{shown}");
}

#[tokio::test]
async fn retry_after_and_user_agent() {
    let reply = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec();
    let (base, heads) = raw_server(Some(reply)).await;
    let err = client(&base, Limits::default())
        .generate(None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.contains("user-agent: qrlogin/"), "{head}");
    assert!(head.starts_with("post /api/v2/qrcode/gene "));
    assert!(head.contains("x-authing-app-id: app1"));
}

#[tokio::test]
async fn html_error_pages_are_http_errors() {
    let reply = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>upstream</html".to_vec();
    let (base, _) = raw_server(Some(reply)).await;
    let err = client(&base, Limits::default())
        .generate(None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::BadReply {
                status: 502,
                len: 20,
                shape: qrlogin_core::error::Shape::WebPage
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient(), "a 502 from a proxy is retried");
    assert!(!err.to_string().contains("upstream"), "no body in {err}");
}

#[tokio::test]
async fn discovery_absent_means_plain_protocol() {
    let reply =
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found"
            .to_vec();
    let (base, heads) = raw_server(Some(reply)).await;
    let c = Client::new(ClientConfig::new(&base, DialectId::G3, "a")).unwrap();
    assert_eq!(c.extensions().await, Default::default());
    assert_eq!(c.extensions().await, Default::default());
    assert_eq!(heads.lock().unwrap().len(), 1, "asked once per client");
}

/// A redirect to another host would hand the request (the handle, the ticket, the verifier) to
/// whoever it names: refused, and the victim server is never asked. 127.0.0.1 and localhost are
/// different hosts to the client, which is all this needs.
#[tokio::test]
async fn cross_host_redirects_are_refused() {
    let (victim, victim_heads) = raw_server(Some(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
    ))
    .await;
    let other = victim.replace("127.0.0.1", "localhost");
    let reply = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {other}/api/v2/qrcode/gene\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (base, _) = raw_server(Some(reply.into_bytes())).await;
    let err = client(&base, Limits::default())
        .generate(None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Redirect { reason } if reason.contains("another host")),
        "{err:?}"
    );
    assert!(err.is_transient(), "a captive portal's redirect passes");
    assert!(
        victim_heads.lock().unwrap().is_empty(),
        "the other host was never asked"
    );
}

#[tokio::test]
async fn same_host_redirects_are_followed() {
    let body =
        r#"{"code":200,"data":{"random":"R1","url":"http://x/q.png","qrContent":"http://x"}}"#;
    let ok = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (target, _) = raw_server(Some(ok.into_bytes())).await;
    let reply = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}/api/v2/qrcode/gene\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (base, _) = raw_server(Some(reply.into_bytes())).await;
    let qr = client(&base, Limits::default()).generate(None).await;
    // Another port on the same host is the same host: followed.
    assert!(qr.is_ok(), "{qr:?}");
}

/// Plain http to a remote host is refused by the client itself (not only by the config check),
/// unless allowed; loopback is fine.
#[test]
fn the_client_refuses_plain_http_to_a_remote_host() {
    let err = Client::new(ClientConfig::new(
        "http://login.example.com",
        DialectId::G3,
        "a",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("allow_insecure_http"), "{err}");
    let mut c = ClientConfig::new("http://login.example.com", DialectId::G3, "a");
    c.allow_insecure_http = true;
    assert!(Client::new(c).is_ok());
    assert!(Client::new(ClientConfig::new("http://127.0.0.1:9", DialectId::G3, "a")).is_ok());
    assert!(Client::new(ClientConfig::new(
        "https://login.example.com",
        DialectId::G3,
        "a"
    ))
    .is_ok());
}
