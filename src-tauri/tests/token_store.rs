//! The token store on a real Secret Service: gnome-keyring on a private D-Bus session bus (the
//! test starts `dbus-run-session` with an unlocked keyring in a temporary home and runs its inner
//! half there), and `auto` falling back to the 0600 file when no Secret Service is on the bus.

use qrlogin_app::persist::Remembered;
use qrlogin_app::revocation_queue::PendingRevocation;
use qrlogin_core::profile::Profile;
use qrlogin_core::session_store::{Location, Mode, TokenStore};
use std::path::Path;
use std::process::Command;

const SERVICE: &str = "dev.qrlogin.keyring-test";
const INNER: &str = "QRLOGIN_KEYRING_TEST_INNER";

fn session(user: &str, issued_at: i64) -> Remembered {
    Remembered {
        server: "http://127.0.0.1:1".into(),
        app_id: "app".into(),
        dialect: "v2".into(),
        embedded: false,
        token: format!("access-of-{user}"),
        id_token: None,
        refresh_token: Some(format!("refresh-of-{user}")),
        issued_at,
        expires_at: Some(issued_at + 3_600_000),
        profile: Profile {
            id: user.into(),
            username: Some(user.into()),
            ..Default::default()
        },
    }
}

fn file_text(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("session.json")).ok()
}

/// The outer half: a private bus with gnome-keyring unlocked on it, then this binary again with
/// only the inner test selected.
#[test]
fn keyring_store_on_a_real_secret_service() {
    if std::env::var_os(INNER).is_some() {
        return inner();
    }
    for tool in ["dbus-run-session", "gnome-keyring-daemon"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "{tool} is missing: scripts/install-deps.sh installs it (dbus, gnome-keyring)"
        );
    }
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    // --unlock creates and unlocks the login keyring with the password on stdin; --start then
    // brings up the Secret Service component on this bus.
    let script = r#"printf 'test-password' | gnome-keyring-daemon --unlock >/dev/null &&
gnome-keyring-daemon --start --components=secrets >/dev/null && exec "$@""#;
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script, "sh"])
        .arg(&exe)
        .args([
            "--exact",
            "keyring_store_on_a_real_secret_service",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .expect("dbus-run-session runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner keyring test failed:\n{stdout}\n{stderr}"
    );
}

fn inner() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = TokenStore::new(Mode::Keyring, dir.path(), SERVICE);
    let file = TokenStore::new(Mode::File, dir.path(), SERVICE);
    let auto = TokenStore::new(Mode::Auto, dir.path(), SERVICE);

    // keyring: the token goes to the Secret Service, nothing is written to the file.
    let (_, at) = keyring
        .update(|v| v.session = Some(session("alice", 1)))
        .expect("the keyring takes the session");
    assert_eq!(at, Location::Keyring);
    assert!(
        file_text(dir.path()).is_none(),
        "keyring mode wrote the file"
    );
    // A new store (a new start) reads it back from the keyring.
    let fresh = TokenStore::new(Mode::Keyring, dir.path(), SERVICE);
    let got = fresh
        .load()
        .session
        .expect("the keyring gives the session back");
    assert_eq!(got.token, "access-of-alice");
    assert_eq!(got.refresh_token.as_deref(), Some("refresh-of-alice"));
    assert_eq!(
        auto.location().unwrap(),
        Location::Keyring,
        "auto uses a working keyring"
    );

    // keyring -> file: switching to `file` moves the session (and the queue) into the file and
    // empties the keyring.
    keyring
        .update(|v| {
            v.revocations
                .push(PendingRevocation::of(&session("old", 0), 0));
        })
        .unwrap();
    let moved = file.load();
    assert_eq!(moved.session.as_ref().unwrap().token, "access-of-alice");
    assert_eq!(moved.revocations.len(), 1, "the revocation queue moved too");
    let text = file_text(dir.path()).expect("the file now holds the session");
    assert!(text.contains("access-of-alice"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("session.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "the file must be private, is {mode:o}");
    }
    // The keyring entry is gone: a keyring store that cannot see the file would find nothing.
    let other_dir = tempfile::tempdir().unwrap();
    let keyring_only = TokenStore::new(Mode::Keyring, other_dir.path(), SERVICE);
    assert!(
        keyring_only.load().session.is_none(),
        "the keyring still holds the session after moving to the file"
    );

    // file -> keyring: the file's session is picked up, the file removed.
    let back = TokenStore::new(Mode::Keyring, dir.path(), SERVICE);
    let got = back.load();
    assert_eq!(got.session.unwrap().token, "access-of-alice");
    assert_eq!(got.revocations.len(), 1);
    assert!(
        file_text(dir.path()).is_none(),
        "the file still holds the token after moving to the keyring"
    );

    // Both hold a session (a crash mid-move): the newer one wins, nothing is lost.
    std::fs::write(
        dir.path().join("session.json"),
        serde_json::to_string(&serde_json::json!({"session": session("bob", 99)})).unwrap(),
    )
    .unwrap();
    let merged = TokenStore::new(Mode::Keyring, dir.path(), SERVICE).load();
    assert_eq!(merged.session.unwrap().token, "access-of-bob");

    // Clearing empties the keyring entry.
    back.update(|v| *v = Default::default()).unwrap();
    assert!(TokenStore::new(Mode::Keyring, other_dir.path(), SERVICE)
        .load()
        .session
        .is_none());
}

/// No Secret Service on the bus (a kiosk session without a keyring): `auto` keeps the session
/// in the 0600 file, and `keyring` refuses rather than writing the token somewhere unasked.
#[test]
fn auto_falls_back_to_the_file_without_a_secret_service() {
    if std::env::var_os(INNER).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // SAFETY of set_var: the other test of this binary reads no environment in this process
    // (it passes its own to the child it starts).
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", dir.path().join("no-bus").display()),
    );
    let auto = TokenStore::new(Mode::Auto, dir.path(), SERVICE);
    assert_eq!(auto.location().unwrap(), Location::File);
    let (_, at) = auto
        .update(|v| v.session = Some(session("carol", 1)))
        .expect("auto stores without a keyring");
    assert_eq!(at, Location::File);
    let text = file_text(dir.path()).expect("the file holds the session");
    assert!(text.contains("access-of-carol"));
    assert_eq!(
        TokenStore::new(Mode::Auto, dir.path(), SERVICE)
            .load()
            .session
            .unwrap()
            .token,
        "access-of-carol"
    );

    let other = tempfile::tempdir().unwrap();
    let strict = TokenStore::new(Mode::Keyring, other.path(), SERVICE);
    assert!(strict
        .update(|v| v.session = Some(session("dave", 1)))
        .is_err());
    assert!(
        file_text(other.path()).is_none(),
        "keyring mode fell back to the file"
    );
}
