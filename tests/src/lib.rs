//! The end-to-end harness: a real `qrlogin-server` in-process, the built app in its real webview
//! driven by `tauri-driver` + WebKitWebDriver, and a phone that only knows what the window shows.
//!
//! The QR is always read from a PNG screenshot of the window (`qr::decode`), never from the DOM or
//! a log: the pixels are the contract. Every scenario writes its screenshots and the driver/app
//! logs to `target/e2e/<scenario>-*`.

pub mod app;
pub mod bare;
pub mod config;
/// The misbehaving proxy of the core's failure tests, shared by path so both suites grow one.
#[path = "../../crates/qrlogin-core/tests/common/fault.rs"]
pub mod fault;
pub mod phone;
pub mod qr;
pub mod scenario;
pub mod server;

pub use app::{App, AppHome};
pub use config::AppConfig;
pub use scenario::Scenario;
pub use server::{TestServer, TestUser};

use std::time::Duration;

/// How long a state may take to show up. Generous: the machine has two cores and other builds.
pub const STATE_TIMEOUT: Duration = Duration::from_secs(25);

/// How often the harness looks again while waiting for something.
pub const POLL: Duration = Duration::from_millis(100);
