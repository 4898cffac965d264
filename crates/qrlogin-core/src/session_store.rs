//! The remembered session and the revocations the server has not confirmed yet, kept for every
//! front end in one place (`login.token_store`): the OS keyring (Secret Service, one entry:
//! service = the app's identifier, user `session`) when one answers, else a 0600 JSON file
//! `session.json` in the app's data dir ([`crate::paths::app_data_dir`]). The desktop app and
//! `qrlogin-cli` both open it through [`TokenStore::standard`], so signing in with one is seen by
//! the other. Whichever backend is in use, what the other one still holds is moved over on first
//! use, so switching loses nothing. The keyring needs the `keyring` feature.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::credentials::Credentials;
use crate::profile::{AuthSession, Profile};
use crate::secret::Secret;
use crate::session::Client;

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remembered {
    /// Which server and app issued the token: a session is only restored against the same one.
    pub server: String,
    pub app_id: String,
    /// The API generation, so that a queued revocation can be sent after the config changed.
    #[serde(default)]
    pub dialect: String,
    /// Issued by the embedded server (its URL changes with the port; the app id identifies it).
    #[serde(default)]
    pub embedded: bool,
    pub token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    /// Never leaves Rust: not in events, logs or the webview.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Milliseconds since the Unix epoch: when the access token was issued (0 when unknown,
    /// sessions saved by earlier versions) and when it expires, when the server told us.
    #[serde(default)]
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub profile: Profile,
}

impl Remembered {
    /// What every front end remembers after `loggedIn` from `client`'s server, issued `now`
    /// (ms since the Unix epoch). `embedded`: the app's own embedded server issued it.
    pub fn of_login(
        client: &Client,
        embedded: bool,
        profile: &Profile,
        session: &AuthSession,
        now: i64,
    ) -> Remembered {
        let config = client.config();
        Remembered {
            server: config.base_url.clone(),
            app_id: config.app.app_id.clone(),
            dialect: client.dialect().as_str().to_string(),
            embedded,
            token: String::new(),
            id_token: None,
            refresh_token: None,
            issued_at: now,
            expires_at: None,
            profile: profile.clone(),
        }
        .with_credentials(&Credentials::from_session(session, now))
    }

    pub fn credentials(&self) -> Credentials {
        let secret = |s: &Option<String>| s.as_deref().filter(|t| !t.is_empty()).map(Secret::new);
        Credentials {
            access_token: Secret::new(self.token.clone()),
            id_token: secret(&self.id_token),
            refresh_token: secret(&self.refresh_token),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }

    /// The same session with refreshed credentials.
    pub fn with_credentials(&self, c: &Credentials) -> Remembered {
        Remembered {
            token: c.access_token.expose().to_string(),
            id_token: c.id_token.as_ref().map(|s| s.expose().to_string()),
            refresh_token: c.refresh_token.as_ref().map(|s| s.expose().to_string()),
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            profile: Profile {
                expires_at: c.expires_at,
                ..self.profile.clone()
            },
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for Remembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remembered")
            .field("server", &self.server)
            .field("app_id", &self.app_id)
            .field("embedded", &self.embedded)
            .field("token", &"***")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A queued revocation is dropped after this long: the refresh token has expired by then.
const GIVE_UP_AFTER_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRevocation {
    pub server: String,
    pub app_id: String,
    pub dialect: String,
    pub embedded: bool,
    /// The refresh token when the session had one (revoking it ends the whole session at the
    /// server), else the access token.
    pub token: String,
    pub refresh: bool,
    pub queued_at: i64,
    /// Past this the token is dead anyway and the entry is dropped.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for PendingRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRevocation")
            .field("server", &self.server)
            .field("app_id", &self.app_id)
            .field("refresh", &self.refresh)
            .field("queued_at", &self.queued_at)
            .finish_non_exhaustive()
    }
}

impl PendingRevocation {
    pub fn of(session: &Remembered, now: i64) -> Self {
        let refresh = session.refresh_token.clone().filter(|t| !t.is_empty());
        Self {
            server: session.server.clone(),
            app_id: session.app_id.clone(),
            dialect: session.dialect.clone(),
            embedded: session.embedded,
            refresh: refresh.is_some(),
            expires_at: if refresh.is_some() {
                None
            } else {
                session.expires_at
            },
            token: refresh.unwrap_or_else(|| session.token.clone()),
            queued_at: now,
        }
    }

    /// Whether the token is dead anyway (expired, or queued longer than a refresh token lives).
    pub fn is_stale(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now) || now - self.queued_at > GIVE_UP_AFTER_MS
    }
}

/// The store file's name (the format is the one the Tauri store plugin wrote before).
pub const STORE_FILE: &str = "session.json";
/// The keyring entry's user name; the service is the app's identifier.
#[cfg_attr(not(feature = "keyring"), allow(dead_code))]
const KEYRING_USER: &str = "session";
/// A Secret Service that does not answer within this (a locked keyring waiting on a prompt
/// nobody sees, a bus without the service) counts as absent.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// Everything kept: at most one session, and the revocations the server has not confirmed yet.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Vault {
    pub session: Option<Remembered>,
    pub revocations: Vec<PendingRevocation>,
}

impl Vault {
    fn is_empty(&self) -> bool {
        self.session.is_none() && self.revocations.is_empty()
    }

    /// `other` folded into `self`: the newer session wins, revocations are united.
    fn merge(mut self, other: Vault) -> Vault {
        self.session = match (self.session.take(), other.session) {
            (Some(a), Some(b)) => Some(if b.issued_at > a.issued_at { b } else { a }),
            (a, b) => a.or(b),
        };
        for r in other.revocations {
            if !self.revocations.iter().any(|x| x.token == r.token) {
                self.revocations.push(r);
            }
        }
        self
    }
}

/// `login.token_store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    Keyring,
    File,
}

impl Mode {
    pub fn parse(s: &str) -> Mode {
        match s.trim() {
            "keyring" => Mode::Keyring,
            "file" => Mode::File,
            _ => Mode::Auto,
        }
    }
}

/// Where a vault ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Location {
    Keyring,
    File,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the OS keyring is not available ({0}); set login.token_store = \"file\" or \"auto\" to use the private file")]
    NoKeyring(String),
    #[error("{0}")]
    Io(String),
}

pub struct TokenStore {
    mode: Mode,
    file: PathBuf,
    service: String,
    /// Whether the keyring answered (`None`: not asked yet). Once it fails in `auto` mode the
    /// file is used for the rest of the run, so a kiosk without one pays the timeout once.
    keyring_ok: Mutex<Option<bool>>,
    /// One read-modify-write at a time.
    lock: Mutex<()>,
}

impl TokenStore {
    /// The store every front end shares: the app's data dir and identifier.
    pub fn standard(mode: Mode) -> Self {
        Self::new(
            mode,
            &crate::paths::app_data_dir(),
            crate::paths::IDENTIFIER,
        )
    }

    pub fn new(mode: Mode, data_dir: &Path, service: &str) -> Self {
        Self {
            mode,
            file: data_dir.join(STORE_FILE),
            service: service.to_string(),
            keyring_ok: Mutex::new(None),
            lock: Mutex::new(()),
        }
    }

    pub fn file_path(&self) -> &Path {
        &self.file
    }

    /// Reads the vault, moving anything the unused backend still holds into the used one.
    pub fn load(&self) -> Vault {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match self.load_locked() {
            Ok((vault, _)) => vault,
            Err(e) => {
                tracing::warn!(error = %e, "the saved session cannot be read");
                Vault::default()
            }
        }
    }

    /// Changes the vault and writes it back; returns where it is kept.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Vault) -> T,
    ) -> Result<(T, Location), StoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let (mut vault, location) = self.load_locked()?;
        let out = change(&mut vault);
        match self.write(location, &vault) {
            Ok(()) => Ok((out, location)),
            // `auto`: a keyring that reads but cannot write (no default collection, a prompt
            // nobody answers) is no keyring; the file takes the vault.
            Err(e) if location == Location::Keyring && self.mode == Mode::Auto => {
                tracing::warn!(error = %e, "the OS keyring refused the session; using the private file");
                self.set_keyring_ok(false);
                self.file_write(&vault)?;
                Ok((out, Location::File))
            }
            Err(e) => Err(e),
        }
    }

    /// Where the vault is kept now (asks the keyring in `auto` mode).
    pub fn location(&self) -> Result<Location, StoreError> {
        match self.mode {
            Mode::File => Ok(Location::File),
            Mode::Keyring => {
                self.keyring_read()?;
                Ok(Location::Keyring)
            }
            Mode::Auto => Ok(if self.keyring_usable() {
                Location::Keyring
            } else {
                Location::File
            }),
        }
    }

    fn load_locked(&self) -> Result<(Vault, Location), StoreError> {
        let mut location = self.location()?;
        let keyring_vault = match location {
            Location::Keyring => match self.keyring_read() {
                Ok(v) => Some(v),
                Err(e) if self.mode == Mode::Auto => {
                    tracing::warn!(error = %e, "the OS keyring stopped answering; using the private file");
                    self.set_keyring_ok(false);
                    location = Location::File;
                    None
                }
                Err(e) => return Err(e),
            },
            Location::File => None,
        };
        let (active, other) = match location {
            Location::Keyring => (keyring_vault.unwrap_or_default(), self.file_read()),
            // The keyring is only asked for leftovers when it is there; in `file` mode that
            // costs the timeout once when it is not.
            Location::File => (
                self.file_read(),
                if self.mode == Mode::File && self.keyring_usable() {
                    self.keyring_read().unwrap_or_default()
                } else {
                    Vault::default()
                },
            ),
        };
        if other.is_empty() {
            return Ok((active, location));
        }
        let merged = active.merge(other);
        // Write the merged vault first, then empty the other backend: a crash in between leaves
        // the data twice, never nowhere.
        self.write(location, &merged)?;
        let cleared = match location {
            Location::Keyring => self.file_write(&Vault::default()),
            Location::File => self.keyring_write(&Vault::default()),
        };
        match cleared {
            Ok(()) => {
                tracing::info!(to = ?location, "moved the saved session between token stores")
            }
            Err(e) => tracing::warn!(error = %e, "could not empty the previous token store"),
        }
        Ok((merged, location))
    }

    fn write(&self, location: Location, vault: &Vault) -> Result<(), StoreError> {
        match location {
            Location::Keyring => self.keyring_write(vault),
            Location::File => self.file_write(vault),
        }
    }

    // ---- the file -------------------------------------------------------------------------

    fn file_read(&self) -> Vault {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vault::default(),
            Err(e) => {
                tracing::warn!(error = %e, path = %self.file.display(), "cannot read the session file");
                return Vault::default();
            }
        };
        parse_vault(&text, "the session file")
    }

    /// Written to a 0600 temporary file and renamed over the old one, so a power cut leaves the
    /// old or the new vault, never half of one; an empty vault removes the file.
    fn file_write(&self, vault: &Vault) -> Result<(), StoreError> {
        if vault.is_empty() {
            return match std::fs::remove_file(&self.file) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(StoreError::Io(format!("{}: {e}", self.file.display()))),
            };
        }
        let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", self.file.display()));
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let text = serde_json::to_vec_pretty(vault).map_err(|e| StoreError::Io(e.to_string()))?;
        let tmp = self.file.with_extension("json.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = options.open(&tmp).map_err(io)?;
            // A leftover temporary file from another umask keeps its mode: make sure.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
            f.write_all(&text).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.file).map_err(io)
    }

    // ---- the keyring ----------------------------------------------------------------------

    fn keyring_usable(&self) -> bool {
        if let Some(ok) = *self.keyring_ok.lock().unwrap_or_else(|p| p.into_inner()) {
            return ok;
        }
        let ok = match self.keyring_call(os_keyring::get) {
            Ok(_) => true,
            Err(e) => {
                tracing::info!(error = %e, "no OS keyring; tokens go to the private file");
                false
            }
        };
        self.set_keyring_ok(ok);
        ok
    }

    fn set_keyring_ok(&self, ok: bool) {
        *self.keyring_ok.lock().unwrap_or_else(|p| p.into_inner()) = Some(ok);
    }

    fn keyring_read(&self) -> Result<Vault, StoreError> {
        match self.keyring_call(os_keyring::get) {
            Ok(Some(text)) => Ok(parse_vault(&text, "the keyring entry")),
            Ok(None) => Ok(Vault::default()),
            Err(e) => Err(StoreError::NoKeyring(e)),
        }
    }

    fn keyring_write(&self, vault: &Vault) -> Result<(), StoreError> {
        let result = if vault.is_empty() {
            self.keyring_call(os_keyring::delete)
        } else {
            let text = serde_json::to_string(vault).map_err(|e| StoreError::Io(e.to_string()))?;
            self.keyring_call(move |service| os_keyring::set(service, &text))
        };
        result.map_err(StoreError::NoKeyring)
    }

    /// One keyring call on its own thread, given up after [`KEYRING_TIMEOUT`]: D-Bus calls
    /// block, and an unlock prompt may never be answered on a kiosk.
    fn keyring_call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&str) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let service = self.service.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(op(&service));
        });
        rx.recv_timeout(KEYRING_TIMEOUT)
            .unwrap_or_else(|_| Err("the Secret Service did not answer in time".into()))
    }
}

/// The one keyring entry (service = the app's identifier, user [`KEYRING_USER`]); `Ok(None)` is
/// "no entry". Built without the `keyring` feature, there is no keyring: `auto` uses the file.
#[cfg(feature = "keyring")]
mod os_keyring {
    use super::KEYRING_USER;

    fn entry(service: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(service, KEYRING_USER).map_err(|e| e.to_string())
    }

    pub fn get(service: &str) -> Result<Option<String>, String> {
        match entry(service)?.get_password() {
            Ok(text) => Ok(Some(text)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn set(service: &str, text: &str) -> Result<(), String> {
        entry(service)?
            .set_password(text)
            .map_err(|e| e.to_string())
    }

    pub fn delete(service: &str) -> Result<(), String> {
        match entry(service)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(not(feature = "keyring"))]
mod os_keyring {
    const ABSENT: &str = "this build has no keyring support (qrlogin-core's `keyring` feature)";

    pub fn get(_service: &str) -> Result<Option<String>, String> {
        Err(ABSENT.into())
    }

    pub fn set(_service: &str, _text: &str) -> Result<(), String> {
        Err(ABSENT.into())
    }

    pub fn delete(_service: &str) -> Result<(), String> {
        Err(ABSENT.into())
    }
}

/// An unreadable vault is reported and treated as empty (it is overwritten on the next write):
/// a corrupt file must not keep the app from starting.
fn parse_vault(text: &str, what: &str) -> Vault {
    match serde_json::from_str::<Vault>(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "{what} is unreadable; ignoring it");
            Vault::default()
        }
    }
}
