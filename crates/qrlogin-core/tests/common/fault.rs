//! A misbehaving HTTP front for a real server, on 127.0.0.1: each request is forwarded to the
//! upstream, or answered with a chosen fault (a proxy's HTML page, a 200 that is not JSON, a body
//! cut off, too large, not UTF-8, a 429, a dropped or silent connection). Faults can be set for
//! every path or for path prefixes, and changed while a client runs.
//!
//! Plain tokio, one request per connection (`Connection: close`), so it needs no HTTP crate and
//! can be included by path from other test crates (the e2e scenarios do). The adversarial suite
//! is meant to grow it: add a [`Fault`] variant and its `answer`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward to the upstream and relay its reply.
    Forward,
    /// Answer with this status, headers and body.
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Announce `declared` bytes, send `body` (fewer), then close: a reply cut off mid-body.
    CutOff { declared: usize, body: Vec<u8> },
    /// Close the connection without a reply.
    Close,
    /// Accept, read the request, never answer (until the client gives up).
    Hang,
    /// Wait `by`, then do `then`: a reply just under or just over a client timeout.
    Delay { by: Duration, then: Box<Fault> },
    /// A 200 JSON reply whose body (Content-Length right) comes one byte every `every`.
    Drip { body: Vec<u8>, every: Duration },
    /// Part of the status line and headers, then a reset (RST, not a clean close).
    ResetMidHead,
    /// The head announcing `declared` bytes and `sent` of them, then a reset.
    ResetMidBody { declared: usize, sent: Vec<u8> },
    /// A 200 JSON reply without Content-Length: the body ends when the connection closes.
    Unframed { body: Vec<u8> },
    /// A 200 with a chunked body that never ends (until the client hangs up, or an hour).
    EndlessChunked,
}

impl Fault {
    pub fn reply(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Fault {
        Fault::Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A proxy's error page, e.g. nginx's 502.
    pub fn web_page(status: u16) -> Fault {
        Fault::reply(
            status,
            "text/html",
            format!(
                "<html><head><title>{status}</title></head><body><h1>{status} {}</h1>\
                 <hr><center>nginx</center></body></html>",
                reason(status)
            ),
        )
    }

    /// A 200 that is not JSON.
    pub fn not_json() -> Fault {
        Fault::reply(
            200,
            "text/plain",
            "upstream temporarily unavailable, try again later",
        )
    }

    /// A 200 JSON envelope cut off (its length is right: the server wrote half a document).
    pub fn truncated_json() -> Fault {
        Fault::reply(
            200,
            "application/json",
            r#"{"code":200,"data":{"random": tru"#,
        )
    }

    /// A 200 whose body is not UTF-8.
    pub fn invalid_utf8() -> Fault {
        let mut body = br#"{"code":200,"message":""#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
        body.extend_from_slice(br#"","data":{"status":0}}"#);
        Fault::reply(200, "application/json", body)
    }

    /// A 200 of `bytes` bytes of valid-looking JSON (over the client's 1 MiB limit when large).
    pub fn oversized(bytes: usize) -> Fault {
        let mut body = br#"{"code":200,"message":""#.to_vec();
        body.resize(bytes.saturating_sub(3), b'x');
        body.extend_from_slice(br#""}"#);
        Fault::reply(200, "application/json", body)
    }

    pub fn json(status: u16, value: &str) -> Fault {
        Fault::reply(status, "application/json", value.as_bytes().to_vec())
    }

    /// A redirect (`307`, `308`, ...) to `location`.
    pub fn redirect(status: u16, location: &str) -> Fault {
        Fault::Reply {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// HTTP 429 with any `Retry-After` value (absurd, negative, a date in the past).
    pub fn retry_after(value: &str) -> Fault {
        Fault::Reply {
            status: 429,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Retry-After".into(), value.into()),
            ],
            body: br#"{"code":429,"message":"too many requests"}"#.to_vec(),
        }
    }

    /// HTTP 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Fault {
        Fault::Reply {
            status: 429,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Retry-After".into(), retry_after_secs.to_string()),
            ],
            body: br#"{"code":429,"message":"too many requests"}"#.to_vec(),
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The whole target, query included (tests look for a PKCE challenge there).
    pub target: String,
    pub body: Vec<u8>,
    /// Whether it was answered with a fault (not forwarded).
    pub faulted: bool,
}

#[derive(Default)]
struct Rules {
    /// `(path prefix, fault)`, first match wins.
    by_path: Vec<(String, Fault)>,
    default: Option<Fault>,
}

impl Rules {
    fn pick(&self, path: &str) -> Fault {
        self.by_path
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, f)| f.clone())
            .or_else(|| self.default.clone())
            .unwrap_or(Fault::Forward)
    }
}

pub struct FaultProxy {
    addr: SocketAddr,
    rules: Arc<Mutex<Rules>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1:<free port> in front of `upstream` (e.g. `127.0.0.1:8080`), with
    /// every request forwarded until a fault is set.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        Self::start_on("127.0.0.1:0".parse().expect("an address"), upstream).await
    }

    /// The same on a given address (a scenario that restarts needs a fixed port).
    pub async fn start_on(listen: SocketAddr, upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind(listen)
            .await
            .expect("bind the fault proxy");
        let addr = listener.local_addr().expect("its address");
        let rules = Arc::new(Mutex::new(Rules::default()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (r, s) = (rules.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let (r, s) = (r.clone(), s.clone());
                tokio::spawn(async move {
                    let _ = handle(conn, upstream, &r, &s).await;
                });
            }
        });
        FaultProxy {
            addr,
            rules,
            seen,
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault for every path without a rule of its own.
    pub fn set(&self, fault: Fault) {
        self.rules.lock().unwrap().default = Some(fault);
    }

    /// The fault for paths starting with `prefix` (replaces an earlier rule for it).
    pub fn set_for(&self, prefix: &str, fault: Fault) {
        let mut rules = self.rules.lock().unwrap();
        rules.by_path.retain(|(p, _)| p != prefix);
        rules.by_path.push((prefix.to_owned(), fault));
    }

    /// Forward everything again.
    pub fn heal(&self) {
        *self.rules.lock().unwrap() = Rules::default();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Drops the requests seen so far (a long run through the proxy would keep them all).
    pub fn forget_seen(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// How many requests to paths starting with `prefix` were answered with a fault.
    pub fn faulted(&self, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.faulted && s.path.starts_with(prefix))
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const MAX_HEAD: usize = 64 * 1024;

async fn handle(
    mut conn: TcpStream,
    upstream: SocketAddr,
    rules: &Mutex<Rules>,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    // The request head, then a Content-Length body (the engine sends nothing chunked).
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let content_length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < content_length {
        let mut chunk = vec![0u8; content_length - body.len()];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }

    let fault = rules.lock().unwrap().pick(&path);
    seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path,
        target: target.clone(),
        body: body.clone(),
        faulted: !matches!(fault, Fault::Forward),
    });
    answer(conn, fault, upstream, request_line, headers, body).await
}

/// Answers one request as `fault` says.
async fn answer(
    mut conn: TcpStream,
    fault: Fault,
    upstream: SocketAddr,
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> std::io::Result<()> {
    let json_head = |len: Option<usize>| {
        let mut h = String::from("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
        if let Some(n) = len {
            h.push_str(&format!("Content-Length: {n}\r\n"));
        }
        h
    };
    match fault {
        Fault::Forward => {
            let mut up = TcpStream::connect(upstream).await?;
            let mut out = format!("{request_line}\r\n");
            for (n, v) in &headers {
                if !n.eq_ignore_ascii_case("connection") {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
            }
            out.push_str("Connection: close\r\n\r\n");
            up.write_all(out.as_bytes()).await?;
            up.write_all(&body).await?;
            tokio::io::copy(&mut up, &mut conn).await?;
            conn.shutdown().await
        }
        Fault::Reply {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(status),
                body.len()
            );
            for (n, v) in headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            conn.write_all(out.as_bytes()).await?;
            // A client that stops reading at its size limit closes early; that is fine.
            let _ = conn.write_all(&body).await;
            let _ = conn.shutdown().await;
            Ok(())
        }
        Fault::CutOff { declared, body } => {
            let out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            conn.write_all(out.as_bytes()).await?;
            conn.write_all(&body).await?;
            conn.flush().await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            // Dropped here: the client sees the connection end before the declared length.
            Ok(())
        }
        Fault::Close => Ok(()),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Fault::Delay { by, then } => {
            tokio::time::sleep(by).await;
            Box::pin(answer(conn, *then, upstream, request_line, headers, body)).await
        }
        Fault::Drip { body, every } => {
            let head = json_head(Some(body.len())) + "Connection: close\r\n\r\n";
            conn.write_all(head.as_bytes()).await?;
            for b in body {
                tokio::time::sleep(every).await;
                conn.write_all(&[b]).await?;
                conn.flush().await?;
            }
            conn.shutdown().await
        }
        Fault::ResetMidHead => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: applica")
                .await?;
            conn.flush().await?;
            reset(conn);
            Ok(())
        }
        Fault::ResetMidBody { declared, sent } => {
            let head = json_head(Some(declared)) + "\r\n";
            conn.write_all(head.as_bytes()).await?;
            conn.write_all(&sent).await?;
            conn.flush().await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            reset(conn);
            Ok(())
        }
        Fault::Unframed { body } => {
            let head = json_head(None) + "Connection: close\r\n\r\n";
            conn.write_all(head.as_bytes()).await?;
            let _ = conn.write_all(&body).await;
            let _ = conn.shutdown().await;
            Ok(())
        }
        Fault::EndlessChunked => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Transfer-Encoding: chunked\r\n\r\n";
            conn.write_all(head.as_bytes()).await?;
            conn.write_all(b"1\r\n{\r\n").await?;
            let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
            let end = tokio::time::Instant::now() + Duration::from_secs(3600);
            // Until the client hangs up (a write fails) or the hour is over.
            while tokio::time::Instant::now() < end {
                conn.write_all(chunk.as_bytes()).await?;
            }
            Ok(())
        }
    }
}

/// Drops the connection with a TCP reset (SO_LINGER 0) instead of a clean close.
fn reset(conn: TcpStream) {
    #[allow(deprecated)] // tokio deprecates set_linger for blocking closes; 0 never blocks
    let _ = conn.set_linger(Some(Duration::ZERO));
    drop(conn);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
