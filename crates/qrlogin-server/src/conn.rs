//! The accept loop, instead of `axum::serve` (which has no header-read timeout and no cap on
//! connections): HTTP/1.1 through hyper with a header-read timeout (also the keep-alive idle
//! timeout), a head-size limit, a request timeout, a cap on open connections, a query-size
//! limit, and the client address ([`crate::client_addr`]) put into every request. Graceful
//! shutdown: stop accepting, let in-flight requests finish (held long-polls answer at once).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::Service;

use crate::client_addr::{self, ClientAddr, PeerAddr, TrustedProxies};
use crate::limits::{EdgeLimits, MAX_HEAD_BYTES, MAX_QUERY_BYTES};
use crate::service::stopped;

/// File descriptors kept for everything but client connections (database, logs, listener).
const FD_RESERVE: u64 = 64;

pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: EdgeLimits,
    trusted: TrustedProxies,
    mut shutdown: watch::Receiver<bool>,
) {
    let max = connection_budget(limits.max_connections);
    let permits = Arc::new(Semaphore::new(max));
    let trusted = Arc::new(trusted);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            // Over the cap: close at once, so that waiting clients do not hold descriptors.
            tracing::warn!(%peer, max, "connection cap reached: connection closed");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = RequestService {
            app: app.clone(),
            peer,
            trusted: Arc::clone(&trusted),
            request_timeout: limits.request_timeout,
        };
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stopped(&mut stop) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    // Every connection gives its permit back when it ends: wait for all of them.
    let _ = permits.acquire_many(max as u32).await;
}

/// The configured cap, lowered to what the open-file limit allows (raised first if it can be).
// `rlim_t` is u64 on Linux but not on every unix: the casts are for the others.
#[allow(clippy::unnecessary_cast)]
fn connection_budget(wanted: usize) -> usize {
    let wanted = wanted.clamp(1, u32::MAX as usize >> 3);
    #[cfg(unix)]
    {
        let need = wanted as u64 + FD_RESERVE;
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
            if (lim.rlim_cur as u64) < need && lim.rlim_max as u64 > lim.rlim_cur as u64 {
                let raised = libc::rlimit {
                    rlim_cur: need.min(lim.rlim_max as u64) as libc::rlim_t,
                    rlim_max: lim.rlim_max,
                };
                if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                    lim.rlim_cur = raised.rlim_cur;
                }
            }
            let fds = lim.rlim_cur as u64;
            if fds < need {
                let allowed = fds.saturating_sub(FD_RESERVE).max(16) as usize;
                tracing::warn!(
                    wanted,
                    allowed,
                    open_file_limit = fds,
                    "connection cap lowered to the open-file limit (raise LimitNOFILE)"
                );
                return allowed;
            }
        }
    }
    wanted
}

/// Per connection: puts the client address into each request, refuses long queries, and
/// bounds the time to the response head.
#[derive(Clone)]
struct RequestService {
    app: Router,
    peer: SocketAddr,
    trusted: Arc<TrustedProxies>,
    request_timeout: std::time::Duration,
}

impl Service<Request<Incoming>> for RequestService {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, Self::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Incoming>) -> Self::Future {
        if req.uri().query().map_or(0, str::len) > MAX_QUERY_BYTES {
            return Box::pin(async { Ok(refusal(StatusCode::URI_TOO_LONG, "query too long")) });
        }
        let client = client_addr::resolve(self.peer.ip(), req.headers(), &self.trusted);
        let port = if client == self.peer.ip() {
            self.peer.port()
        } else {
            0
        };
        let ext = req.extensions_mut();
        // Handlers that take `ConnectInfo<SocketAddr>` get the client, never the proxy.
        ext.insert(ConnectInfo(SocketAddr::new(client, port)));
        ext.insert(ClientAddr(client));
        ext.insert(PeerAddr(self.peer));
        let mut app = self.app.clone();
        let timeout = self.request_timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, app.call(req)).await {
                Ok(resp) => resp,
                Err(_) => {
                    tracing::warn!(%client, "request timed out");
                    Ok(refusal(StatusCode::REQUEST_TIMEOUT, "request timed out"))
                }
            }
        })
    }
}

/// A JSON refusal in the shape every generation can read, closing the connection.
fn refusal(status: StatusCode, message: &str) -> Response {
    let code = status.as_u16();
    let mut resp = (
        status,
        axum::Json(json!({"code": code, "statusCode": code, "message": message, "data": null})),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
