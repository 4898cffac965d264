//! The embedded qrlogin-server: with no server configured, the app runs its own, so it works on a
//! fresh machine with nothing else running. It also keeps a demo app and a demo user.

use crate::error::AppError;
use qrlogin_core::secret::Secret;
use qrlogin_server::{
    NewApp, NewUser, OpenOptions, RateLimits, RunningServer, ServeOptions, Server,
};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use tokio::sync::watch;

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
    /// `None` until the demo user exists (its Argon2 hash is made after the server is up, so
    /// that it does not delay the first QR), then whether making it worked.
    demo_user: watch::Receiver<Option<Result<(), String>>>,
    pub lan: bool,
}

/// On a first start the demo user is made once the window has painted, or after this long.
const DEMO_USER_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

impl Embedded {
    /// Opens the data dir (creating pool, keys and the demo app on first start) and serves. On a
    /// first start the demo user is made in the background once the window has painted (or after
    /// [`DEMO_USER_AFTER`]): the first QR needs the app, not the user, and the user's password hash
    /// is the slowest step of a first start.
    pub async fn start(data_dir: &Path, lan: bool, port: u16) -> Result<Self, AppError> {
        let server = Server::open(OpenOptions::new(data_dir.join("server")))
            .await
            .map_err(|e| AppError::Server(e.to_string()))?;
        let (demo, new_user) = demo_app(&server, data_dir).await?;
        let running = serve(&server, lan, port).await?;
        tracing::info!(url = %running.base_url(), lan, "embedded server started");
        let (done, demo_user) = watch::channel(None);
        if new_user {
            let (server, demo, path) = (server.clone(), demo.clone(), demo_file(data_dir));
            tokio::spawn(async move {
                // Argon2 takes a core for a while: after the window's first paint, not beside it.
                crate::startup::first_paint_or(DEMO_USER_AFTER).await;
                let made = make_demo_user(&server, &demo, &path).await;
                if let Err(e) = &made {
                    tracing::error!(error = %e, "could not make the demo user");
                }
                let _ = done.send(Some(made.map_err(|e| e.to_string())));
            });
        } else {
            let _ = done.send(Some(Ok(())));
        }
        Ok(Self {
            server,
            running,
            demo,
            demo_user,
            lan,
        })
    }

    /// The demo account once its user can sign in (at once, except just after a first start).
    pub fn demo_account(&self) -> impl std::future::Future<Output = Result<DemoAccount, AppError>> {
        let mut ready = self.demo_user.clone();
        let demo = self.demo.clone();
        async move {
            let made = ready
                .wait_for(Option::is_some)
                .await
                .map_err(|_| AppError::Server("the demo user was not made".into()))?
                .clone();
            match made {
                Some(Ok(())) => Ok(demo),
                Some(Err(e)) => Err(AppError::Server(format!("the demo user was not made: {e}"))),
                None => Err(AppError::Server("the demo user was not made".into())),
            }
        }
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
            demo_user,
            ..
        } = self;
        running.shutdown().await;
        let running = serve(&server, lan, port).await?;
        tracing::info!(url = %running.base_url(), lan, "embedded server moved");
        Ok(Self {
            server,
            running,
            demo,
            demo_user,
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

/// The machine's address on its local network: the source address the kernel would use for a
/// packet to the internet, i.e. the interface a phone on the same Wi-Fi can reach. Connecting a
/// UDP socket only chooses the route; no packet is sent, so this works offline from DNS and
/// without any crate that enumerates interfaces.
pub fn lan_address() -> Result<IpAddr, AppError> {
    // Any routable address picks the default route; this one is never contacted.
    const SOME_PUBLIC_ADDRESS: (Ipv4Addr, u16) = (Ipv4Addr::new(1, 1, 1, 1), 53);
    let outgoing = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|socket| {
            socket.connect(SOME_PUBLIC_ADDRESS)?;
            socket.local_addr()
        })
        .map(|addr| addr.ip());
    match outgoing {
        Ok(ip) if !ip.is_loopback() && !ip.is_unspecified() => Ok(ip),
        Ok(ip) => Err(no_lan(&format!("the only route is {ip}"))),
        Err(e) => Err(no_lan(&e.to_string())),
    }
}

fn no_lan(why: &str) -> AppError {
    AppError::NotAvailable(format!(
        "no LAN address found ({why}); connect to a network to let a phone reach this computer"
    ))
}

fn demo_file(data_dir: &Path) -> PathBuf {
    data_dir.join("demo.json")
}

/// The demo account from demo.json when its app is still in the database (`false`: nothing to
/// make); otherwise a new demo app and password (`true`: the user is still to be made, and
/// demo.json is written once it is, so a start cut short makes them again).
async fn demo_app(server: &Server, data_dir: &Path) -> Result<(DemoAccount, bool), AppError> {
    let path = demo_file(data_dir);
    if let Ok(bytes) = std::fs::read(&path) {
        match serde_json::from_slice::<DemoAccount>(&bytes) {
            Ok(demo) => {
                let apps = server
                    .list_apps()
                    .await
                    .map_err(|e| AppError::Server(e.to_string()))?;
                if apps.iter().any(|a| a.app_id == demo.app_id) {
                    return Ok((demo, false));
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
    let demo = DemoAccount {
        app_id: creds.app_id,
        user_pool_id: creds.user_pool_id,
        username: "demo".to_string(),
        password: random_password(),
    };
    Ok((demo, true))
}

/// Makes (or resets) the demo user with the demo password, then records the account.
async fn make_demo_user(server: &Server, demo: &DemoAccount, path: &Path) -> Result<(), AppError> {
    let password = Secret::new(demo.password.clone());
    if server
        .find_user_by_username(&demo.username)
        .await
        .map_err(|e| AppError::Server(e.to_string()))?
        .is_some()
    {
        server
            .set_password(&demo.username, password.expose())
            .await
            .map_err(|e| AppError::Server(e.to_string()))?;
    } else {
        server
            .add_user(NewUser {
                username: demo.username.clone(),
                password: password.expose().to_string(),
                nickname: Some("Demo User".into()),
                email: Some("demo@example.com".into()),
                ..Default::default()
            })
            .await
            .map_err(|e| AppError::Server(e.to_string()))?;
    }
    write_private(path, &serde_json::to_vec_pretty(demo).unwrap_or_default())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The address must be one of this machine's own (binding to it works only then) and not
    /// loopback, which a phone could never reach. Needs a network with a default route, as the
    /// LAN switch itself does.
    #[test]
    fn lan_address_is_an_address_of_this_machine_a_phone_can_reach() {
        let ip = lan_address().expect("this machine has a default route");
        assert!(!ip.is_loopback(), "{ip} is loopback");
        let listener = std::net::TcpListener::bind((ip, 0))
            .unwrap_or_else(|e| panic!("{ip} is not an address of this machine: {e}"));
        assert_eq!(listener.local_addr().unwrap().ip(), ip);
    }

    /// A first start serves before the demo user's password hash is made; the account is ready
    /// after, and a later start finds the same one without making anything.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_first_start_serves_before_the_demo_user_and_a_later_start_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = Embedded::start(dir.path(), false, 0).await.unwrap();
        // The Argon2 hash takes tens of milliseconds; start has returned well before it is done.
        assert!(
            !demo_file(dir.path()).exists(),
            "the demo user was made before the server was handed over"
        );
        assert!(
            get_status_line(&first.base_url(), "/.well-known/qrlogin")
                .await
                .contains(" 200 "),
            "the server answers at once"
        );
        let demo = first.demo_account().await.unwrap();
        assert!(demo_file(dir.path()).exists());
        let user = first
            .server
            .find_user_by_username(&demo.username)
            .await
            .unwrap();
        assert!(
            user.is_some(),
            "the demo user exists once demo_account resolves"
        );
        first.shutdown().await;

        let later = Embedded::start(dir.path(), false, 0).await.unwrap();
        let again = later.demo_account().await.unwrap();
        assert_eq!(again.app_id, demo.app_id);
        assert_eq!(again.password, demo.password);
        assert_eq!(later.server.list_apps().await.unwrap().len(), 1);
        later.shutdown().await;
    }

    /// The status line of a plain HTTP/1.1 GET (the shell has no HTTP client of its own).
    async fn get_status_line(base_url: &str, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = base_url.trim_start_matches("http://").trim_end_matches('/');
        let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        conn.read_to_end(&mut reply).await.unwrap();
        String::from_utf8_lossy(&reply)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}
