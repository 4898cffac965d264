//! The embedded qrlogin-server: with no server configured, the app runs its own, so it works on a
//! fresh machine with nothing else running. It also keeps a demo app and a demo user.

use crate::error::AppError;
use qrlogin_core::secret::Secret;
use qrlogin_server::{
    NewApp, NewUser, OpenOptions, RateLimits, RunningServer, ServeOptions, Server,
};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// The demo account the window can show on request. Kept in the app data dir (mode 0600), next to
/// the server's own database; the password is random per machine.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoAccount {
    pub app_id: String,
    pub user_pool_id: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for DemoAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoAccount")
            .field("app_id", &self.app_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub struct Embedded {
    server: Server,
    running: RunningServer,
    pub demo: DemoAccount,
    pub lan: bool,
}

impl Embedded {
    /// Opens the data dir (creating pool, keys and the demo account on first start) and serves.
    pub async fn start(data_dir: &Path, lan: bool, port: u16) -> Result<Self, AppError> {
        let server = Server::open(OpenOptions::new(data_dir.join("server")))
            .await
            .map_err(|e| AppError::Server(e.to_string()))?;
        let demo = ensure_demo(&server, data_dir).await?;
        let running = serve(&server, lan, port).await?;
        tracing::info!(url = %running.base_url(), lan, "embedded server started");
        Ok(Self {
            server,
            running,
            demo,
            lan,
        })
    }

    pub fn base_url(&self) -> String {
        self.running.base_url().to_string()
    }

    /// Moves the server between loopback and the LAN address. The old listener is shut down first
    /// so that the port can be reused.
    pub async fn set_lan(self, lan: bool, port: u16) -> Result<Self, AppError> {
        let Embedded {
            server,
            running,
            demo,
            ..
        } = self;
        running.shutdown().await;
        let running = serve(&server, lan, port).await?;
        tracing::info!(url = %running.base_url(), lan, "embedded server moved");
        Ok(Self {
            server,
            running,
            demo,
            lan,
        })
    }

    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

async fn serve(server: &Server, lan: bool, port: u16) -> Result<RunningServer, AppError> {
    let ip = if lan {
        lan_address()?
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    server
        .clone()
        .serve(ServeOptions {
            listen: SocketAddr::new(ip, port),
            public_url: None,
            rate_limits: RateLimits::default(),
            ..Default::default()
        })
        .await
        .map_err(|e| AppError::Server(e.to_string()))
}

/// The machine's address on its local network, read from the interfaces (no packet is sent).
pub fn lan_address() -> Result<IpAddr, AppError> {
    local_ip_address::local_ip().map_err(|e| {
        AppError::NotAvailable(format!(
            "no LAN address found ({e}); connect to a network to let a phone reach this computer"
        ))
    })
}

fn demo_file(data_dir: &Path) -> PathBuf {
    data_dir.join("demo.json")
}

async fn ensure_demo(server: &Server, data_dir: &Path) -> Result<DemoAccount, AppError> {
    let path = demo_file(data_dir);
    if let Ok(bytes) = std::fs::read(&path) {
        match serde_json::from_slice::<DemoAccount>(&bytes) {
            Ok(demo) => {
                let apps = server
                    .list_apps()
                    .await
                    .map_err(|e| AppError::Server(e.to_string()))?;
                if apps.iter().any(|a| a.app_id == demo.app_id) {
                    return Ok(demo);
                }
                tracing::warn!("demo app is gone from the server database; making a new one");
            }
            Err(e) => {
                tracing::warn!(error = %e, "demo.json is unreadable; making a new demo account")
            }
        }
    }
    let creds = server
        .add_app(NewApp {
            name: "qrlogin desktop".into(),
            check_code: true,
            ..Default::default()
        })
        .await
        .map_err(|e| AppError::Server(e.to_string()))?;
    let password = Secret::new(random_password());
    let username = "demo".to_string();
    if server
        .find_user_by_username(&username)
        .await
        .map_err(|e| AppError::Server(e.to_string()))?
        .is_some()
    {
        server
            .set_password(&username, password.expose())
            .await
            .map_err(|e| AppError::Server(e.to_string()))?;
    } else {
        server
            .add_user(NewUser {
                username: username.clone(),
                password: password.expose().to_string(),
                nickname: Some("Demo User".into()),
                email: Some("demo@example.com".into()),
                ..Default::default()
            })
            .await
            .map_err(|e| AppError::Server(e.to_string()))?;
    }
    let demo = DemoAccount {
        app_id: creds.app_id,
        user_pool_id: creds.user_pool_id,
        username,
        password: password.expose().to_string(),
    };
    write_private(&path, &serde_json::to_vec_pretty(&demo).unwrap_or_default())?;
    Ok(demo)
}

/// Readable words are easier to type on a phone than symbols.
fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let chunk = |rng: &mut rand::rngs::ThreadRng| -> String {
        (0..4)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!(
        "{}-{}-{}",
        chunk(&mut rng),
        chunk(&mut rng),
        chunk(&mut rng)
    )
}

/// Writes a file only its owner can read (it holds a password).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::Store(format!("{}: {e}", dir.display())))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| AppError::Store(format!("{}: {e}", path.display())))?;
    f.write_all(bytes)
        .map_err(|e| AppError::Store(format!("{}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}
