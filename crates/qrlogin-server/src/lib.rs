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

mod approval;
pub mod cli;
pub mod client_addr;
mod conn;
pub mod device;
mod errors;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod gen;
mod history;
mod i18n;
mod ids;
mod limits;
mod logo;
pub mod longpoll;
mod media;
mod model;
mod oidc;
mod ratelimit;
mod rotation;
mod routes;
mod server;
mod service;
mod sessions;
mod signin_guard;
pub mod store;
mod tokens;
mod typed_code;
mod web;

#[cfg(feature = "phone-client")]
pub mod phone;

pub use client_addr::{ClientAddr, TrustedProxies};
pub use errors::{ApiError, Error};
pub use history::{LoginRecord, HISTORY_KEEP};
pub use limits::EdgeLimits;
pub use model::{App, QrPayload};
pub use ratelimit::{Kind as LimitKind, Limiter, RateLimits};
pub use server::{
    redact_url, AppCredentials, NewApp, NewUser, OpenOptions, RunningServer, ServeOptions, Server,
    UserInfo, DB_FILE, SWEEP_EVERY, SWEEP_KEEP,
};
pub use sessions::{
    SessionInfo, ACCESS_TTL_SECS, PHONE_PAGE_SESSION_SECS, REFRESH_TTL_SECS, SESSION_MAX_SECS,
};
