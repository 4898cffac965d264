//! A real `qrlogin-server` in this process, on 127.0.0.1, with its own data dir: one app for the
//! desktop and the users a scenario needs. It can be stopped and served again on the same port and
//! data (contracts §2: "the server was down").

use std::net::SocketAddr;

use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};

/// A user the phone signs in as.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub password: String,
    pub nickname: String,
}

/// What the scenario wants of the server's app.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub qr_ttl_secs: u32,
    pub check_code: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            qr_ttl_secs: 120,
            check_code: true,
        }
    }
}

pub struct TestServer {
    // Kept alive: the SQLite file lives here. Dropped last.
    server: Server,
    running: Option<qrlogin_server::RunningServer>,
    addr: SocketAddr,
    app_id: String,
    user_pool_id: String,
    _data: tempfile::TempDir,
}

impl TestServer {
    /// Opens a fresh data dir, adds the desktop's app and serves on 127.0.0.1:<free port>.
    pub async fn start(opts: ServerOptions) -> TestServer {
        let data = tempfile::Builder::new()
            .prefix("qrlogin-e2e-server-")
            .tempdir()
            .expect("temp dir for the server");
        let server = Server::open(OpenOptions::new(data.path().to_path_buf()))
            .await
            .expect("open the server's data dir");
        let creds = server
            .add_app(NewApp {
                name: "qrlogin e2e desktop".to_string(),
                qr_ttl_secs: Some(opts.qr_ttl_secs),
                check_code: opts.check_code,
                ..Default::default()
            })
            .await
            .expect("add the desktop app");
        let running = server
            .serve(ServeOptions {
                listen: "127.0.0.1:0".parse().expect("an address"),
                public_url: None,
                rate_limits: RateLimits::unlimited(),
                ..Default::default()
            })
            .await
            .expect("serve on 127.0.0.1");
        let addr = running.local_addr();
        eprintln!("[e2e] qrlogin-server at {}", running.base_url());
        TestServer {
            server,
            running: Some(running),
            addr,
            app_id: creds.app_id,
            user_pool_id: creds.user_pool_id,
            _data: data,
        }
    }

    /// Adds a user with a password and a nickname (anything: hostile scenarios put HTML in it).
    pub async fn add_user(&self, username: &str, nickname: &str) -> TestUser {
        let password = format!("pw-{username}-e2e-1");
        self.server
            .add_user(NewUser {
                username: username.to_string(),
                password: password.clone(),
                nickname: Some(nickname.to_string()),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("add user {username}: {e:?}"));
        TestUser {
            username: username.to_string(),
            password,
            nickname: nickname.to_string(),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn app_id(&self) -> String {
        self.app_id.clone()
    }

    pub fn user_pool_id(&self) -> String {
        self.user_pool_id.clone()
    }

    /// Stops serving (graceful: held long-polls are answered first). Data stays.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
            eprintln!("[e2e] qrlogin-server at {} stopped", self.addr);
        }
    }

    /// Serves again on the same port and data dir.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "restart() on a running server");
        // The port was ours a moment ago; on a loaded machine a bind can race a closing socket.
        let mut last_err = None;
        for _ in 0..50 {
            match self
                .server
                .serve(ServeOptions {
                    listen: self.addr,
                    public_url: None,
                    rate_limits: RateLimits::unlimited(),
                    ..Default::default()
                })
                .await
            {
                Ok(running) => {
                    eprintln!("[e2e] qrlogin-server at {} serving again", self.addr);
                    self.running = Some(running);
                    return;
                }
                Err(e) => {
                    last_err = Some(format!("{e:?}"));
                    tokio::time::sleep(crate::POLL).await;
                }
            }
        }
        panic!(
            "could not serve again on {}: {}",
            self.addr,
            last_err.unwrap_or_default()
        );
    }
}
