//! Where the remembered session and the pending revocations live (`login.token_store`): the OS
//! keyring (Secret Service) when one answers, else a 0600 file in the app's data dir. Whichever is
//! in use, what the other one still holds is moved over on first use, so switching loses nothing.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::persist::Remembered;
use crate::revocation_queue::PendingRevocation;

/// The store file's name (the format is the one the Tauri store plugin wrote before).
pub const STORE_FILE: &str = "session.json";
/// The keyring entry's user name; the service is the app's identifier.
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
        let ok = match self.keyring_call(|e| e.get_password()) {
            Ok(_) | Err(keyring::Error::NoEntry) => true,
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
        match self.keyring_call(|e| e.get_password()) {
            Ok(text) => Ok(parse_vault(&text, "the keyring entry")),
            Err(keyring::Error::NoEntry) => Ok(Vault::default()),
            Err(e) => Err(StoreError::NoKeyring(e.to_string())),
        }
    }

    fn keyring_write(&self, vault: &Vault) -> Result<(), StoreError> {
        let result = if vault.is_empty() {
            match self.keyring_call(|e| e.delete_credential()) {
                Err(keyring::Error::NoEntry) => Ok(()),
                other => other,
            }
        } else {
            let text = serde_json::to_string(vault).map_err(|e| StoreError::Io(e.to_string()))?;
            self.keyring_call(move |e| e.set_password(&text))
        };
        result.map_err(|e| StoreError::NoKeyring(e.to_string()))
    }

    /// One keyring call on its own thread, given up after [`KEYRING_TIMEOUT`]: D-Bus calls
    /// block, and an unlock prompt may never be answered on a kiosk.
    fn keyring_call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> keyring::Result<T> {
        let service = self.service.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = keyring::Entry::new(&service, KEYRING_USER).and_then(|e| op(&e));
            let _ = tx.send(result);
        });
        rx.recv_timeout(KEYRING_TIMEOUT).unwrap_or_else(|_| {
            Err(keyring::Error::PlatformFailure(
                "the Secret Service did not answer in time".into(),
            ))
        })
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
