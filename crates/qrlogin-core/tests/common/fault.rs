//! A misbehaving HTTP front for a real server, on 127.0.0.1: each request is forwarded to the
//! upstream, or answered with a chosen fault (a proxy's HTML page, a 200 that is not JSON, a body
//! cut off, too large, not UTF-8, a 429, a dropped or silent connection). Faults can be set for
//! every path or for path prefixes, and changed while a client runs.
//!
//! Two faults are states of the whole proxy rather than answers to one request:
//! [`FaultProxy::set_half_open`] (the server keeps every TCP connection but never answers again,
//! also not the long-polls it already holds) and [`FaultProxy::set_clock_skew`] (the server's
//! clock is off: every time in its replies, the `iat`/`exp` inside its JWTs included, is shifted;
//! the proxy maps the shifted tokens back to the real ones on the way in, so the real server still
//! accepts them, as a skewed server would accept its own).
//!
//! Plain tokio, one request per connection (`Connection: close`), so it needs no HTTP crate and
//! can be included by path from other test crates (the e2e scenarios do). The adversarial suite
//! is meant to grow it: add a [`Fault`] variant and its `answer`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
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

/// What every connection handler reads: the rules, what was seen, and the whole-proxy states.
#[derive(Default)]
struct Shared {
    rules: Mutex<Rules>,
    seen: Mutex<Vec<Seen>>,
    /// Half-open: connections are accepted and read, and nothing is ever written back.
    half_open: AtomicBool,
    /// Connections held silent right now (the client has not closed its end yet).
    held: AtomicUsize,
    /// Seconds the server's clock is off (negative: behind).
    skew_secs: AtomicI64,
    /// Shifted token -> the real one, for tokens the proxy rewrote (skew).
    rewritten: Mutex<Vec<(String, String)>>,
}

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let sh = sh.clone();
                tokio::spawn(async move {
                    if sh.half_open.load(Ordering::SeqCst) {
                        hold_silent(conn, &sh).await;
                    } else {
                        let _ = handle(conn, upstream, &sh).await;
                    }
                });
            }
        });
        FaultProxy { addr, shared, task }
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
        self.shared.rules.lock().unwrap().default = Some(fault);
    }

    /// The fault for paths starting with `prefix` (replaces an earlier rule for it).
    pub fn set_for(&self, prefix: &str, fault: Fault) {
        let mut rules = self.shared.rules.lock().unwrap();
        rules.by_path.retain(|(p, _)| p != prefix);
        rules.by_path.push((prefix.to_owned(), fault));
    }

    /// Forward everything again (per-request faults and half-open; a clock skew stays until
    /// [`FaultProxy::set_clock_skew`]`(0)`: a wrong clock is not a passing fault).
    pub fn heal(&self) {
        *self.shared.rules.lock().unwrap() = Rules::default();
        self.shared.half_open.store(false, Ordering::SeqCst);
    }

    /// Half-open (`true`): from now on the server reads what it is sent and never answers, on
    /// new connections and on those it is holding (a long-poll held upstream is never relayed),
    /// yet never closes one either, like a peer that vanished without a FIN or a NAT that
    /// dropped the mapping. `false`: new connections are served again.
    pub fn set_half_open(&self, on: bool) {
        self.shared.half_open.store(on, Ordering::SeqCst);
    }

    /// How many connections the half-open server holds open right now (the client has not
    /// closed them): a client that piles up sockets shows here.
    pub fn held_open(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// The server's clock is `secs` off (negative: behind): dates and epoch times in forwarded
    /// JSON replies, the `iat`/`exp`/`nbf` of JWTs in them, and the `Date` header are shifted.
    pub fn set_clock_skew(&self, secs: i64) {
        self.shared.skew_secs.store(secs, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Drops the requests seen so far (a long run through the proxy would keep them all).
    pub fn forget_seen(&self) {
        self.shared.seen.lock().unwrap().clear();
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

/// Half-open: reads and discards until the client closes its end (or an hour), answers nothing.
async fn hold_silent(mut conn: TcpStream, shared: &Shared) {
    shared.held.fetch_add(1, Ordering::SeqCst);
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(3600), async {
        while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    shared.held.fetch_sub(1, Ordering::SeqCst);
}

async fn handle(mut conn: TcpStream, upstream: SocketAddr, shared: &Shared) -> std::io::Result<()> {
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

    let fault = shared.rules.lock().unwrap().pick(&path);
    shared.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path,
        target: target.clone(),
        body: body.clone(),
        faulted: !matches!(fault, Fault::Forward),
    });
    answer(conn, fault, upstream, request_line, headers, body, shared).await
}

/// Answers one request as `fault` says.
async fn answer(
    mut conn: TcpStream,
    fault: Fault,
    upstream: SocketAddr,
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    shared: &Shared,
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
            let skew = shared.skew_secs.load(Ordering::SeqCst);
            // A skewed server accepts the tokens it issued: give the real server its own back.
            let (request_line, headers, body) = if skew == 0 {
                (request_line, headers, body)
            } else {
                skew::unshift_request(&shared.rewritten, request_line, headers, body)
            };
            let mut up = TcpStream::connect(upstream).await?;
            let mut out = format!("{request_line}\r\n");
            for (n, v) in &headers {
                if !n.eq_ignore_ascii_case("connection")
                    && !n.eq_ignore_ascii_case("content-length")
                {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
            }
            if !body.is_empty()
                || headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            out.push_str("Connection: close\r\n\r\n");
            up.write_all(out.as_bytes()).await?;
            up.write_all(&body).await?;
            if skew != 0 {
                let mut reply = Vec::new();
                (&mut up).take(4 << 20).read_to_end(&mut reply).await?;
                let reply = skew::shift_reply(&reply, skew, &shared.rewritten);
                if shared.half_open.load(Ordering::SeqCst) {
                    hold_silent(conn, shared).await;
                    return Ok(());
                }
                conn.write_all(&reply).await?;
                return conn.shutdown().await;
            }
            // Relayed chunk by chunk, so a server that goes half-open while it holds this
            // request (a long-poll) never delivers its answer.
            let mut chunk = vec![0u8; 16 * 1024];
            loop {
                let n = up.read(&mut chunk).await?;
                if shared.half_open.load(Ordering::SeqCst) {
                    drop(up);
                    hold_silent(conn, shared).await;
                    return Ok(());
                }
                if n == 0 {
                    break;
                }
                conn.write_all(&chunk[..n]).await?;
            }
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
            Box::pin(answer(
                conn,
                *then,
                upstream,
                request_line,
                headers,
                body,
                shared,
            ))
            .await
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

/// The server's clock off by some seconds, as its replies would show it.
mod skew {
    use std::sync::Mutex;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::Value;
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    /// JWT claims that are times (seconds).
    const JWT_TIMES: [&str; 4] = ["iat", "exp", "nbf", "auth_time"];

    /// Shifts an HTTP reply (head + body, as read to the end): the `Date` header, and in a JSON
    /// body every RFC 3339 string, every epoch-milliseconds number under a key ending in `At`,
    /// and the time claims of every JWT (remembered in `rewritten`). Anything else is relayed.
    pub fn shift_reply(
        reply: &[u8],
        skew: i64,
        rewritten: &Mutex<Vec<(String, String)>>,
    ) -> Vec<u8> {
        let Some(split) = super::find(reply, b"\r\n\r\n") else {
            return reply.to_vec();
        };
        let head = String::from_utf8_lossy(&reply[..split]).into_owned();
        let body = &reply[split + 4..];
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return reply.to_vec();
        }
        let new_body = match serde_json::from_slice::<Value>(body) {
            Ok(mut v) => {
                shift_value(&mut v, None, skew, rewritten);
                serde_json::to_vec(&v).expect("serializable")
            }
            Err(_) => body.to_vec(),
        };
        let mut out = String::new();
        for (i, line) in head.split("\r\n").enumerate() {
            let lower = line.to_ascii_lowercase();
            if i > 0 && lower.starts_with("content-length:") {
                out.push_str(&format!("content-length: {}\r\n", new_body.len()));
            } else if i > 0 && lower.starts_with("date:") {
                out.push_str(&format!("date: {}\r\n", http_date(skew)));
            } else {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&new_body);
        bytes
    }

    fn shift_value(
        v: &mut Value,
        key: Option<&str>,
        skew: i64,
        rewritten: &Mutex<Vec<(String, String)>>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    shift_value(child, Some(k), skew, rewritten);
                }
            }
            Value::Array(items) => {
                for child in items {
                    shift_value(child, key, skew, rewritten);
                }
            }
            Value::String(s) => {
                if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
                    let t = t + time::Duration::seconds(skew);
                    *s = t.format(&Rfc3339).expect("formattable");
                } else if let Some(fake) = shift_jwt(s, skew) {
                    rewritten.lock().unwrap().push((fake.clone(), s.clone()));
                    *s = fake;
                }
            }
            Value::Number(n) => {
                let ms_key = key.is_some_and(|k| k.ends_with("At") || k.ends_with("_at"));
                if let Some(ms) = n.as_i64().filter(|ms| ms_key && *ms > 1_000_000_000_000) {
                    *v = Value::from(ms + skew * 1000);
                }
            }
            _ => {}
        }
    }

    /// The JWT with its time claims shifted (the signature is left as it was: the client does
    /// not verify it, and the proxy swaps the real token back in on the way to the server).
    fn shift_jwt(token: &str, skew: i64) -> Option<String> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return None;
        };
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let obj = claims.as_object_mut()?;
        let mut changed = false;
        for k in JWT_TIMES {
            if let Some(t) = obj.get(k).and_then(Value::as_i64) {
                obj.insert(k.into(), Value::from(t + skew));
                changed = true;
            }
        }
        changed.then(|| {
            let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
            format!("{header}.{payload}.{signature}")
        })
    }

    /// The request with every shifted token replaced by the real one (head and body).
    pub fn unshift_request(
        rewritten: &Mutex<Vec<(String, String)>>,
        request_line: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> (String, Vec<(String, String)>, Vec<u8>) {
        let map = rewritten.lock().unwrap().clone();
        let swap = |s: &str| {
            map.iter()
                .fold(s.to_owned(), |acc, (fake, real)| acc.replace(fake, real))
        };
        let headers = headers
            .into_iter()
            .map(|(n, v)| {
                let v = swap(&v);
                (n, v)
            })
            .collect();
        let body = match String::from_utf8(body) {
            Ok(text) => swap(&text).into_bytes(),
            Err(e) => e.into_bytes(),
        };
        (swap(&request_line), headers, body)
    }

    /// "Tue, 01 Dec 2026 22:00:00 GMT", `skew` seconds off now.
    fn http_date(skew: i64) -> String {
        let t = OffsetDateTime::now_utc() + time::Duration::seconds(skew);
        let f = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        t.format(&f).expect("formattable")
    }
}
