//! qrlogin-core: the engine behind "scan with your phone to sign in", with no GUI dependency.
//!
//! Data flows one way: server → [`dialect`] (wire JSON to one [`dialect::ScanStatus`]) →
//! [`session`] (one task per login attempt, emitting [`events::LoginEvent`]s) → a front end.

pub mod after_login;
pub mod cant_scan;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod dialect;
pub mod discovery;
pub mod error;
pub mod events;
pub mod failure;
pub mod http;
pub mod lang;
pub mod media;
pub mod oauth;
pub mod paths;
pub mod pkce;
pub mod profile;
pub mod qr;
pub mod refresh;
pub mod restore;
pub mod secret;
pub mod session;
pub mod session_store;
pub mod tips;
pub mod tls;
pub mod trust;

pub use dialect::{DialectId, ScanStatus};
pub use error::{CoreError, ErrorKind};
pub use events::LoginEvent;
pub use lang::Lang;
pub use profile::{AuthSession, Profile};
pub use session::{Client, ClientConfig, LoginSession, SessionOptions};
