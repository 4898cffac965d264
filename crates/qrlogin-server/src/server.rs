//! The library face of the crate (docs/contracts.md §2): open a data directory, add apps and
//! users, and serve HTTP on an address, embedded in another program or from the CLI.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::cache::Recent;
use crate::crypto::{hash_password_blocking, warm_dummy_hash};
use crate::errors::Error;
use crate::ids;
use crate::live::LiveSessions;
#[cfg(feature = "postgres")]
use crate::longpoll::PgNotifier;
use crate::longpoll::{LocalNotifier, Notifier};
use crate::model::{now_ms, rfc3339, App, Millis, QrPayload, User, ACCESS_TTL_SECS};
use crate::signin_guard::SignInGuard;
#[cfg(feature = "postgres")]
use crate::store::PgStore;
use crate::store::{SqliteStore, Store, StoreError};
use crate::tokens::Keys;

/// The file the embedded backend keeps in the data directory.
pub const DB_FILE: &str = "qrlogin.db";

/// Where the server keeps its state: SQLite in `data_dir`, or the PostgreSQL database at
/// `database_url` that several instances share (then `data_dir` is not used).
#[derive(Clone)]
pub struct OpenOptions {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl OpenOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        OpenOptions {
            data_dir: data_dir.into(),
            database_url: None,
        }
    }

    /// A PostgreSQL database (`postgres://…`) instead of SQLite in the data directory.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }
}

// By hand: the URL may carry a password, and options end up in logs through `{:?}`.
impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .finish()
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// Default of `--qr-rotate-secs`: a photo of a waiting QR works for at most this long.
pub const QR_ROTATE_SECS: u32 = 30;

/// A new app; `None` and `false` take Authing's defaults (PROTOCOL.md §3).
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub name: String,
    pub redirect_url: Option<String>,
    pub allow_client_exchange: bool,
    pub return_full_user_info: bool,
    /// QR lifetime, default 120 s.
    pub qr_ttl_secs: Option<u32>,
    /// Ticket lifetime, default 300 s.
    pub ticket_ttl_secs: Option<u32>,
    pub qr_payload: QrPayload,
    pub check_code: bool,
    /// Access-token lifetime of the app's sessions, default 3600 s (1 h).
    pub access_ttl_secs: Option<u32>,
    /// How often a waiting QR changes its public id, default 30 s; `Some(0)` = never.
    pub qr_rotate_secs: Option<u32>,
    /// A logo file (PNG or JPEG, at most 1 MiB); stored re-encoded as PNG.
    pub logo: Option<Vec<u8>>,
    /// A new user may register on the phone page; off (login only) by default.
    pub signup: bool,
}

/// What a new app is told once: its id, its secret and its pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppCredentials {
    pub app_id: String,
    pub app_secret: String,
    pub user_pool_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub photo: Option<String>,
}

/// A user as the operator sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub photo: Option<String>,
    pub signed_up: String,
    pub logins_count: i64,
    pub last_login: Option<String>,
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> Self {
        UserInfo {
            id: u.id.clone(),
            username: u.username.clone(),
            nickname: u.nickname.clone(),
            email: u.email.clone(),
            phone: u.phone.clone(),
            photo: u.photo.clone(),
            signed_up: rfc3339(u.created_at),
            logins_count: u.logins_count,
            last_login: u.last_login.map(rfc3339),
        }
    }
}

/// An open data directory. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    /// Kept for its listener (PostgreSQL): it feeds other instances' changes into `live`.
    #[allow(dead_code)]
    pub notifier: Arc<dyn Notifier>,
    /// The QR sessions in flight, written through (live.rs).
    pub live: Arc<LiveSessions>,
    /// Copies of apps and scanners for the poll path (cache.rs).
    pub apps: Recent<App>,
    pub users: Recent<User>,
    pub keys: Keys,
    pub user_pool_id: String,
    /// Per-account backoff and the cap on concurrent password verifications.
    pub sign_in_guard: SignInGuard,
    /// The key of the rotating QR ids, shared by every instance through the seed.
    pub rotation: crate::rotation::Rotation,
}

impl Server {
    /// Opens (creating if needed) the store: its user pool, signing key, apps and users. With a
    /// `database_url`, PostgreSQL shared with other instances; otherwise SQLite in the data dir.
    pub async fn open(options: OpenOptions) -> Result<Server, Error> {
        if let Some(url) = options.database_url.as_deref() {
            return Server::open_postgres(url).await;
        }
        let dir = &options.data_dir;
        prepare_data_dir(dir)?;
        let store = SqliteStore::open(&dir.join(DB_FILE))
            .await
            .map_err(|e| Error::DataDir {
                path: dir.clone(),
                reason: format!("cannot open the database: {e}"),
            })?;
        let store: Arc<dyn Store> = Arc::new(store);
        let live = crate::live::shared_for_file(&dir.join(DB_FILE), &store);
        Server::with_parts(store, Arc::new(LocalNotifier::new()), live).await
    }

    #[cfg(not(feature = "postgres"))]
    async fn open_postgres(url: &str) -> Result<Server, Error> {
        Err(Error::Database {
            url: redact_url(url),
            reason: "this build has no PostgreSQL support (feature `postgres`)".into(),
        })
    }

    #[cfg(feature = "postgres")]
    async fn open_postgres(url: &str) -> Result<Server, Error> {
        let fail = |reason: String| Error::Database {
            url: redact_url(url),
            reason,
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(fail(
                "only postgres:// URLs are supported (without one, SQLite in the data directory is used)".into(),
            ));
        }
        let store = PgStore::connect(url)
            .await
            .map_err(|e| fail(format!("cannot open it: {e}")))?;
        let notifier = PgNotifier::start(url)
            .await
            .map_err(|e| fail(format!("cannot LISTEN for status changes: {e}")))?;
        Server::with_store(Arc::new(store), Arc::new(notifier)).await
    }

    /// Builds a server over any storage backend and notifier (the seam for other backends).
    pub async fn with_store(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
    ) -> Result<Server, Error> {
        let live = Arc::new(LiveSessions::new(Arc::clone(&store)));
        Server::with_parts(store, notifier, live).await
    }

    async fn with_parts(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        live: Arc<LiveSessions>,
    ) -> Result<Server, Error> {
        notifier.attach(Arc::clone(&live));
        let user_pool_id = store
            .meta_get_or_insert("user_pool_id", &ids::object_id())
            .await?;
        let seed = store
            .meta_get_or_insert("signing_key_ed25519", &Keys::generate_seed())
            .await?;
        let keys = Keys::from_seed(&seed).map_err(Error::Key)?;
        // An Argon2 hash costs tens of milliseconds: made beside the start, not in its way (the
        // desktop app opens this server while its window loads).
        warm_dummy_hash();
        Ok(Server {
            inner: Arc::new(Inner {
                store,
                notifier,
                live,
                apps: Recent::default(),
                users: Recent::default(),
                keys,
                user_pool_id,
                sign_in_guard: SignInGuard::default(),
                rotation: crate::rotation::Rotation::from_seed(&seed),
            }),
        })
    }

    pub fn user_pool_id(&self) -> &str {
        &self.inner.user_pool_id
    }

    pub async fn add_app(&self, new: NewApp) -> Result<AppCredentials, Error> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput("the app needs a name".into()));
        }
        if matches!(new.qr_ttl_secs, Some(0))
            || matches!(new.ticket_ttl_secs, Some(0))
            || matches!(new.access_ttl_secs, Some(0))
        {
            return Err(Error::InvalidInput("lifetimes must be at least 1 s".into()));
        }
        let logo_png = match &new.logo {
            Some(bytes) => Some(crate::logo::to_png(bytes).map_err(Error::InvalidInput)?),
            None => None,
        };
        let app = App {
            logo_png,
            app_id: ids::object_id(),
            app_secret: ids::secret(),
            name: name.to_owned(),
            redirect_url: new.redirect_url.filter(|u| !u.is_empty()),
            allow_client_exchange: new.allow_client_exchange,
            return_full_user_info: new.return_full_user_info,
            qr_ttl_secs: new.qr_ttl_secs.unwrap_or(120),
            ticket_ttl_secs: new.ticket_ttl_secs.unwrap_or(300),
            qr_payload: new.qr_payload,
            check_code: new.check_code,
            created_at: now_ms(),
            access_ttl_secs: new.access_ttl_secs.unwrap_or(ACCESS_TTL_SECS),
            qr_rotate_secs: new.qr_rotate_secs.unwrap_or(QR_ROTATE_SECS),
            signup: new.signup,
        };
        self.inner.store.insert_app(&app).await?;
        tracing::info!(app_id = %app.app_id, name = %app.name, "app added");
        Ok(AppCredentials {
            app_id: app.app_id,
            app_secret: app.app_secret,
            user_pool_id: self.inner.user_pool_id.clone(),
        })
    }

    /// `app set --signup` / `--no-signup`: sign-up on the phone page on or off.
    pub async fn set_app_signup(&self, app_id: &str, signup: bool) -> Result<(), Error> {
        if !self.inner.store.set_app_signup(app_id, signup).await? {
            return Err(Error::InvalidInput(format!("no app with id {app_id:?}")));
        }
        tracing::info!(app_id, signup, "app sign-up set");
        Ok(())
    }

    /// Every app, oldest (the pool's default) first. `App::app_secret` is there for embedders.
    pub async fn list_apps(&self) -> Result<Vec<App>, Error> {
        Ok(self.inner.store.list_apps().await?)
    }

    pub async fn add_user(&self, new: NewUser) -> Result<UserInfo, Error> {
        let username = new.username.trim().to_owned();
        if username.is_empty() || username.len() > 128 {
            return Err(Error::InvalidInput(
                "the username must be 1 to 128 characters".into(),
            ));
        }
        if new.password.is_empty() {
            return Err(Error::InvalidInput("the password must not be empty".into()));
        }
        let hash = hash_password_blocking(new.password).await?;
        let user = User {
            id: ids::object_id(),
            username: username.clone(),
            password_hash: hash,
            nickname: non_empty(new.nickname),
            email: non_empty(new.email),
            phone: non_empty(new.phone),
            photo: non_empty(new.photo),
            created_at: now_ms(),
            logins_count: 0,
            last_login: None,
            last_ip: None,
        };
        match self.inner.store.insert_user(&user).await {
            Ok(()) => {}
            Err(StoreError::Duplicate) => return Err(Error::DuplicateUsername(username)),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(user_id = %user.id, "user added");
        Ok(UserInfo::from(&user))
    }

    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<UserInfo>, Error> {
        Ok(self
            .inner
            .store
            .find_user_by_username(username)
            .await?
            .as_ref()
            .map(UserInfo::from))
    }

    pub async fn list_users(&self) -> Result<Vec<UserInfo>, Error> {
        Ok(self
            .inner
            .store
            .list_users()
            .await?
            .iter()
            .map(UserInfo::from)
            .collect())
    }

    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), Error> {
        if password.is_empty() {
            return Err(Error::InvalidInput("the password must not be empty".into()));
        }
        let user = self
            .inner
            .store
            .find_user_by_username(username)
            .await?
            .ok_or_else(|| Error::UnknownUser(username.to_owned()))?;
        let hash = hash_password_blocking(password.to_owned()).await?;
        if !self.inner.store.set_password_hash(&user.id, &hash).await? {
            return Err(Error::UnknownUser(username.to_owned()));
        }
        tracing::info!(user_id = %user.id, "password changed");
        // Whoever knew the old password may hold a session made with it: all of them end.
        self.end_user_sessions(&user.id).await?;
        Ok(())
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// Frees the memory of sessions that ended more than `linger` ago (and of stale copies of
    /// apps and users); the store keeps them until [`Server::sweep`].
    pub(crate) fn sweep_memory(&self, linger: Duration) {
        let keep = Millis::try_from(linger.as_millis()).unwrap_or(Millis::MAX);
        self.inner.live.evict_ended(now_ms().saturating_sub(keep));
        self.inner.apps.prune();
        self.inner.users.prune();
    }

    /// QR sessions held in memory, and how many times memory was filled from the store (a
    /// session read once, or again after a lost notification). For tests and benchmarks.
    #[doc(hidden)]
    pub fn live_sessions(&self) -> (usize, u64) {
        (self.inner.live.len(), self.inner.live.store_reads())
    }

    /// Deletes QR sessions that ended more than `older_than` ago: the QR expired (and its ticket,
    /// if any, too) or the ticket was spent. Returns how many. Every instance runs this on a
    /// timer ([`SWEEP_EVERY`]); running it on several at once deletes each row once. The same
    /// sweep deletes sign-in sessions that ended as long ago and history past
    /// [`crate::HISTORY_KEEP`] (not counted in the result).
    pub async fn sweep(&self, older_than: Duration) -> Result<u64, Error> {
        let keep = Millis::try_from(older_than.as_millis()).unwrap_or(Millis::MAX);
        let before = now_ms().saturating_sub(keep);
        let n = self.store().purge_sessions(before).await?;
        self.inner.live.evict_ended(before);
        self.store().purge_user_codes(before).await?;
        let m = self.sweep_auth(before).await? + self.store().purge_pending_links(before).await?;
        if m > 0 {
            tracing::info!(deleted = m, "ended sign-in sessions and old history swept");
        }
        Ok(n)
    }
}

/// How often each serving instance sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// How often ended sessions leave memory, and how long after their end: a late poll is still
/// answered from memory, a later one reads the store once.
pub(crate) const LIVE_SWEEP_EVERY: Duration = Duration::from_secs(10);
pub(crate) const LIVE_LINGER: Duration = Duration::from_secs(60);
/// How long an ended session is kept: a requester that polls a little late still gets `expired`
/// or `authorized` instead of "QR does not exist", and the operator can look at recent ones.
pub const SWEEP_KEEP: Duration = Duration::from_secs(3600);

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn prepare_data_dir(dir: &Path) -> Result<(), Error> {
    let fail = |reason: String| Error::DataDir {
        path: dir.to_path_buf(),
        reason,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(fail("exists but is not a directory".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    make_private(dir).map_err(|e| fail(format!("cannot make it private: {e}")))?;
    // Probe writability now: SQLite's own error for a read-only directory is obscure.
    let probe = dir.join(".qrlogin-write-test");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("is not writable: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The data directory 0700 and the database with its `-wal`/`-shm` 0600, before SQLite writes a
/// byte: the file holds the signing key, app secrets and live tickets. The database is made
/// here (empty, which SQLite takes as a new database) so that it is never world-readable, not
/// even for a moment; SQLite gives `-wal` and `-shm` the database's mode when it makes them,
/// and files left by an older version are tightened here.
#[cfg(unix)]
fn make_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let db = dir.join(DB_FILE);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&db)?;
    for suffix in ["", "-wal", "-shm"] {
        let f = dir.join(format!("{DB_FILE}{suffix}"));
        if f.exists() {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
