//! A real `qrlogin-server` on 127.0.0.1 for the engine's tests against a server: its own data
//! directory, rate limits off, one app and the user Alice. Each test file adds what it puts in
//! front of it (a fault proxy, a TLS front) and how its clients are tuned.
#![allow(dead_code)]

use qrlogin_core::{ClientConfig, DialectId};
use qrlogin_server::{
    AppCredentials, NewApp, NewUser, OpenOptions, RateLimits, RunningServer, ServeOptions, Server,
};

/// Alice's password.
pub const PASSWORD: &str = "correct horse battery";

pub struct RealServer {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub running: RunningServer,
    pub creds: AppCredentials,
}

impl RealServer {
    /// Serves `app` (named "Desk") and Alice (nickname "Alice") on a free port.
    pub async fn start(app: NewApp) -> RealServer {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::open(OpenOptions::new(dir.path())).await.unwrap();
        let creds = server
            .add_app(NewApp {
                name: "Desk".into(),
                ..app
            })
            .await
            .unwrap();
        server
            .add_user(NewUser {
                username: "alice".into(),
                password: PASSWORD.into(),
                nickname: Some("Alice".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let running = server
            .serve(ServeOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                public_url: None,
                rate_limits: RateLimits::unlimited(),
                ..Default::default()
            })
            .await
            .unwrap();
        RealServer {
            dir,
            server,
            running,
            creds,
        }
    }

    /// A client config for this server's app in `dialect`, sent to `base_url` (the server
    /// itself, or whatever a test puts in front of it).
    pub fn config(&self, base_url: &str, dialect: DialectId) -> ClientConfig {
        let mut c = ClientConfig::new(base_url, dialect, &self.creds.app_id);
        c.app.user_pool_id = Some(self.creds.user_pool_id.clone());
        c
    }
}
