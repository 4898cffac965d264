//! Serving: binds the socket, builds the HTTP state and router (routes.rs) over a [`Server`],
//! runs the accept loop (conn.rs) and the periodic sweep, and hands back a [`RunningServer`].
//! The top of the crate's layers: it imports the domain and the HTTP layer; neither imports it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use crate::client_addr::TrustedProxies;
use crate::errors::Error;
use crate::http::AppState;
use crate::limits::{EdgeLimits, HeldPolls};
use crate::ratelimit::{Limiter, RateLimits};
use crate::server::{Server, LIVE_LINGER, LIVE_SWEEP_EVERY, SWEEP_EVERY, SWEEP_KEEP};
use crate::service::stopped;
use crate::{conn, routes};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// What `qrContent` links to (`{public_url}/s/{scanId}`); default `http://{local_addr}`.
    pub public_url: Option<String>,
    pub rate_limits: RateLimits,
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` name the client (default: none).
    pub trusted_proxies: TrustedProxies,
    /// Timeouts and caps of connections and long-polls.
    pub edge: EdgeLimits,
    /// WeChat's API for mini-program sign-ins; default `https://api.weixin.qq.com` (tests point
    /// it at a stand-in on 127.0.0.1).
    pub wechat_api_base: Option<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            rate_limits: RateLimits::default(),
            trusted_proxies: TrustedProxies::none(),
            edge: EdgeLimits::default(),
            wechat_api_base: None,
        }
    }
}

impl Server {
    /// Starts serving; returns once the socket accepts connections.
    pub async fn serve(&self, options: ServeOptions) -> Result<RunningServer, Error> {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AddrInUse => Error::AddrInUse {
                    addr: options.listen,
                },
                _ => Error::Bind {
                    addr: options.listen,
                    source,
                },
            })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: options.listen,
            source,
        })?;
        let base_url = format!("http://{local_addr}");
        let public_url = match options.public_url {
            Some(u) => {
                let parsed = url::Url::parse(u.trim())
                    .map_err(|e| Error::InvalidInput(format!("public URL {u:?}: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(Error::InvalidInput(format!(
                        "public URL {u:?} must be http or https"
                    )));
                }
                parsed.as_str().trim_end_matches('/').to_owned()
            }
            None => base_url.clone(),
        };
        let wechat = match options.wechat_api_base.as_deref().map(str::trim) {
            Some(base) => {
                let parsed = url::Url::parse(base)
                    .map_err(|e| Error::InvalidInput(format!("WeChat API base {base:?}: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(Error::InvalidInput(format!(
                        "WeChat API base {base:?} must be http or https"
                    )));
                }
                Some(Arc::new(crate::idp::wechat::Wechat::new(base)))
            }
            None => None,
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let limiter = Arc::new(Limiter::new(options.rate_limits));
        let state = AppState::new(
            self.clone(),
            &public_url,
            Arc::clone(&limiter),
            shutdown_rx.clone(),
        )
        .with(|s| {
            s.held_polls = HeldPolls::new(&options.edge);
            if let Some(w) = wechat {
                s.wechat = w;
            }
        });
        let held_polls = Arc::clone(&state.held_polls);
        let app = routes::router(state);
        let task = tokio::spawn(conn::serve(
            listener,
            app,
            options.edge,
            options.trusted_proxies,
            shutdown_rx.clone(),
        ));
        let purger = tokio::spawn(sweep_loop(self.clone(), shutdown_rx));
        tracing::info!(%base_url, %public_url, "serving");
        Ok(RunningServer {
            base_url,
            local_addr,
            shutdown_tx,
            task: Some(task),
            purger: Some(purger),
            limiter,
            held_polls,
        })
    }
}

async fn sweep_loop(server: Server, mut shutdown: watch::Receiver<bool>) {
    let mut next_store_sweep = tokio::time::Instant::now() + SWEEP_EVERY;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(LIVE_SWEEP_EVERY) => {}
            _ = stopped(&mut shutdown) => return,
        }
        server.sweep_memory(LIVE_LINGER);
        if tokio::time::Instant::now() < next_store_sweep {
            continue;
        }
        next_store_sweep += SWEEP_EVERY;
        match server.sweep(SWEEP_KEEP).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "ended QR sessions swept"),
            Err(e) => tracing::warn!(error = %e, "sweeping ended QR sessions failed"),
        }
    }
}

/// A server that is running. Dropping it stops it too, without waiting.
pub struct RunningServer {
    base_url: String,
    local_addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    purger: Option<tokio::task::JoinHandle<()>>,
    limiter: Arc<Limiter>,
    held_polls: Arc<HeldPolls>,
}

impl RunningServer {
    /// `http://IP:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Long-polls held right now. For the soak run (`qrlogin-bench soak`), which checks that
    /// they return to zero; not a stable API.
    #[doc(hidden)]
    pub fn held_long_polls(&self) -> usize {
        self.held_polls.held()
    }

    /// Client addresses the rate limiter keeps state for. For the soak run; not a stable API.
    #[doc(hidden)]
    pub fn limiter_tracked(&self) -> usize {
        self.limiter.tracked()
    }

    /// Stops accepting, answers held long-polls with the current status, waits for in-flight
    /// requests, then returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(purger) = self.purger.take() {
            let _ = purger.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}
