//! A real `qrlogin-server` on 127.0.0.1 for the engine's tests against a server: its own data
//! directory, rate limits off, one app and the user Alice. Each test file adds what it puts in
//! front of it (a fault proxy, a TLS front) and how its clients are tuned.
#![allow(dead_code)]

use std::net::SocketAddr;

use qrlogin_core::{ClientConfig, DialectId};
use qrlogin_server::{
    AppCredentials, NewApp, NewUser, OpenOptions, RateLimits, RunningServer, ServeOptions, Server,
};

/// Alice's password.
pub const PASSWORD: &str = "correct horse battery";

pub struct RealServer {
    pub dir: tempfile::TempDir,
    pub server: Server,
    /// `None` while stopped ([`RealServer::stop`]).
    running: Option<RunningServer>,
    /// Where it listens, kept across a stop so that it comes back on the same port.
    addr: SocketAddr,
    pub creds: AppCredentials,
}

impl RealServer {
    /// Serves `app` (named "Desk") and Alice (nickname "Alice", an email) on a free port.
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
                email: Some("alice@example.test".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let running = serve(&server, "127.0.0.1:0".parse().unwrap()).await;
        RealServer {
            dir,
            server,
            addr: running.local_addr(),
            running: Some(running),
            creds,
        }
    }

    pub fn running(&self) -> &RunningServer {
        self.running.as_ref().expect("the server is running")
    }

    pub fn base_url(&self) -> String {
        self.running().base_url().to_owned()
    }

    /// Shuts the server down (its data stays): the engine meets a refused connection.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// Serves the same data on the same port again.
    pub async fn start_again(&mut self) {
        self.running = Some(serve(&self.server, self.addr).await);
    }

    /// A client config for this server's app in `dialect`, sent to `base_url` (the server
    /// itself, or whatever a test puts in front of it).
    pub fn config(&self, base_url: &str, dialect: DialectId) -> ClientConfig {
        let mut c = ClientConfig::new(base_url, dialect, &self.creds.app_id);
        c.app.user_pool_id = Some(self.creds.user_pool_id.clone());
        c
    }
}

async fn serve(server: &Server, listen: SocketAddr) -> RunningServer {
    server
        .serve(ServeOptions {
            listen,
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .unwrap()
}
