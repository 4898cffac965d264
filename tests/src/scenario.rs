//! Where a scenario's evidence goes: `target/e2e/<scenario>-<step>.png` and
//! `target/e2e/<scenario>-driver.log`, plus the paths of the binaries under test.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `$CARGO_TARGET_DIR` or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// The app under test: `$QRLOGIN_E2E_APP`, else `target/debug/qrlogin` (built by scripts/e2e.sh).
pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("QRLOGIN_E2E_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug").join("qrlogin"));
    assert!(
        path.is_file(),
        "the app binary {} does not exist: build it with `cargo build -p qrlogin` (scripts/e2e.sh does)",
        path.display()
    );
    fs::canonicalize(&path).unwrap_or(path)
}

/// `tauri-driver`: `$TAURI_DRIVER`, else `~/.cargo/bin/tauri-driver`, else the PATH.
pub fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = PathBuf::from(home).join(".cargo/bin/tauri-driver");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("tauri-driver")
}

/// One scenario's name and output folder. Cloning shares the step counter.
#[derive(Clone)]
pub struct Scenario {
    name: String,
    dir: PathBuf,
    launches: Arc<AtomicUsize>,
}

impl Scenario {
    /// Starts a scenario: removes what an earlier run of it left in `target/e2e/`.
    pub fn new(name: &str) -> Self {
        let dir = target_dir().join("e2e");
        fs::create_dir_all(&dir).expect("create target/e2e");
        let prefix = format!("{name}-");
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        eprintln!("[e2e] scenario {name}: evidence in {}", dir.display());
        Scenario {
            name: name.to_string(),
            dir,
            launches: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `target/e2e/<scenario>-<step>.png`
    pub fn screenshot_path(&self, step: &str) -> PathBuf {
        self.dir
            .join(format!("{}-{}.png", self.name, sanitize(step)))
    }

    /// `target/e2e/<scenario>-driver.log` (every launch of the app in this scenario appends to it).
    pub fn driver_log(&self) -> PathBuf {
        self.dir.join(format!("{}-driver.log", self.name))
    }

    /// Counts launches so that the log can say which one a line belongs to.
    pub fn next_launch(&self) -> usize {
        self.launches.fetch_add(1, Ordering::SeqCst) + 1
    }
}

fn sanitize(step: &str) -> String {
    step.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
