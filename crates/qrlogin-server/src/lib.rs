//! qrlogin's reference server: Authing's four QR login API generations, the phone approval page,
//! users and apps, tokens, and storage behind a trait (SQLite embedded by default, PostgreSQL
//! shared by several instances with `OpenOptions::database_url`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), qrlogin_server::Error> {
//! use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
//! let server = Server::open(OpenOptions::new("/tmp/qrlogin-data")).await?;
//! let app = server.add_app(NewApp { name: "Desktop".into(), ..Default::default() }).await?;
//! server.add_user(NewUser { username: "alice".into(), password: "pw".into(), ..Default::default() }).await?;
//! let running = server
//!     .serve(ServeOptions { listen: "127.0.0.1:0".parse().expect("addr"), rate_limits: RateLimits::default(), ..Default::default() })
//!     .await?;
//! println!("{} serves app {}", running.base_url(), app.app_id);
//! running.shutdown().await;
//! # Ok(()) }
//! ```

// The layers, each importing only those above it (docs/contracts.md §2 "Layout"):
// model (values) → store (storage) → domain (`Server` and its flows) → http (state, context
// extractor, replies) → endpoints (generations, OAuth, device, approval page) → serve.

// Model: the values, their ids and languages.
mod i18n;
mod ids;
mod model;

// Storage.
pub mod store;

// Domain: the server, its flows and rules.
mod cache;
pub mod client_addr;
mod crypto;
mod devicecode;
mod errors;
mod history;
mod limits;
pub mod live;
mod logo;
pub mod longpoll;
mod media;
mod ratelimit;
mod rotation;
mod server;
mod service;
mod sessions;
mod signin_guard;
mod tokens;

// HTTP: the layer every endpoint stands on.
mod http;

// Endpoints: the four generations, OAuth and RFC 8628, the approval page.
mod approval;
pub mod device;
mod gen;
pub mod idp;
mod oidc;
mod typed_code;

// Serving: the router, the accept loop, the command line.
pub mod cli;
mod conn;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod routes;
mod serve;

#[cfg(feature = "phone-client")]
pub mod phone;

/// Makes ring rustls' process-wide crypto provider. reqwest 0.13 (built `rustls-no-provider`,
/// see the workspace Cargo.toml) builds its TLS on that provider and panics without one, so every
/// reqwest client of this crate, its tests and benchmarks calls this first. Idempotent.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one in between: that one is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

pub use client_addr::{ClientAddr, TrustedProxies};
pub use errors::{ApiError, Error};
pub use history::{LoginRecord, HISTORY_KEEP};
pub use limits::EdgeLimits;
pub use model::{App, QrPayload, ACCESS_TTL_SECS};
pub use ratelimit::{Kind as LimitKind, Limiter, RateLimits};
pub use serve::{RunningServer, ServeOptions};
pub use server::{
    redact_url, AppCredentials, NewApp, NewUser, OpenOptions, Server, UserInfo, DB_FILE,
    SWEEP_EVERY, SWEEP_KEEP,
};
pub use sessions::{SessionInfo, PHONE_PAGE_SESSION_SECS, REFRESH_TTL_SECS, SESSION_MAX_SECS};
