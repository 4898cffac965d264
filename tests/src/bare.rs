//! The app run by itself, without tauri-driver and WebKitWebDriver, under the same Xvfb. Needed
//! wherever the page's web process ends on purpose or by a kill: WebKitWebDriver deletes its
//! session when that happens ("session deleted because of page crash or hang"). The app reports
//! each QR and profile it paints through its paint log (`QRLOGIN_PAINT_LOG`, the record `make
//! bench` reads), and the phone reads the QR off the X screen's pixels, as it reads a WebDriver
//! screenshot elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::app::{process_tree, AppHome};
use crate::scenario;

/// The app, stopped however the test ends.
pub struct BareApp {
    child: Child,
    paint_log: PathBuf,
    log_dir: PathBuf,
}

impl BareApp {
    /// Starts the built app in `home` (its config, data and logs), with the e2e tier's WebKit
    /// settings.
    pub fn launch(home: &AppHome) -> BareApp {
        let paint_log = home.path().join("paint.log");
        let child = Command::new(scenario::app_binary())
            .envs(home.env())
            .env("QRLOGIN_PAINT_LOG", &paint_log)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("NO_AT_BRIDGE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the app");
        BareApp {
            child,
            paint_log,
            log_dir: home.log_dir(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// How many times the page has reported painting `what` (`qr`, `profile`).
    pub fn paints(&self, what: &str) -> usize {
        let prefix = format!("{what} ");
        std::fs::read_to_string(&self.paint_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .count()
    }

    /// Waits until `what` was painted at least `at_least` times; returns the count.
    pub async fn wait_paints(&self, what: &str, at_least: usize, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let n = self.paints(what);
            if n >= at_least {
                return n;
            }
            assert!(
                Instant::now() < deadline,
                "the window painted {what} {n} times, not {at_least}, within {within:?}; log: {}",
                self.log_tail(5)
            );
            tokio::time::sleep(crate::POLL).await;
        }
    }

    /// The live WebKit web processes under the app.
    pub fn web_processes(&self) -> Vec<i32> {
        process_tree(self.pid())
            .into_iter()
            .filter(|p| p.comm.starts_with("WebKitWebProces") && p.state != 'Z')
            .map(|p| p.pid)
            .collect()
    }

    /// SIGKILLs the app's web process, as the OOM killer would; returns its PID.
    pub fn kill_web_process(&self) -> i32 {
        let pid = *self
            .web_processes()
            .first()
            .expect("a WebKitWebProcess under the app");
        // SAFETY: kill(2) on a PID read from the app's own process tree a moment ago.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}");
        pid
    }

    /// A QR on the screen other than `not`, read off the X screen's pixels (one code, seen on
    /// two reads in a row so that a code mid-fade is not taken).
    pub async fn wait_qr(&self, not: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let mut found = crate::qr::decode_gray(screen());
            found.sort();
            found.dedup();
            if let [one] = found.as_slice() {
                if one != not && crate::qr::decode_gray(screen()).contains(one) {
                    return one.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "no new QR readable on the screen within {within:?} (found {found:?})"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The app's log files, concatenated.
    pub fn log(&self) -> String {
        app_log(&self.log_dir)
    }

    fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let mut lines: Vec<&str> = log.lines().rev().take(n).collect();
        lines.reverse();
        lines.join(" | ")
    }
}

impl Drop for BareApp {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn app_log(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut text = String::new();
    for f in files {
        text.push_str(&std::fs::read_to_string(f).unwrap_or_default());
    }
    text
}

/// SIGTERM (the app leaves through Tauri's exit path), then SIGKILL after 10 s.
fn stop(app: &mut Child) {
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(app.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = app.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = app.kill();
    let _ = app.wait();
}

/// The whole X screen (`$DISPLAY`, Xvfb's 24-bit screen) as a grey image.
pub fn screen() -> image::GrayImage {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};
    let (conn, n) = x11rb::connect(None).expect("connect to the X server ($DISPLAY)");
    let root = &conn.setup().roots[n];
    let (w, h) = (root.width_in_pixels, root.height_in_pixels);
    let reply = conn
        .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, w, h, !0)
        .expect("ask for the screen's pixels")
        .reply()
        .expect("the screen's pixels");
    // Xvfb's depth-24 screen is 32 bits a pixel, blue-green-red-unused in memory.
    let bytes = reply.data;
    assert_eq!(
        bytes.len(),
        w as usize * h as usize * 4,
        "not a 32-bit-per-pixel screen"
    );
    image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
        let i = (y as usize * w as usize + x as usize) * 4;
        let (b, g, r) = (bytes[i] as u32, bytes[i + 1] as u32, bytes[i + 2] as u32);
        image::Luma([((299 * r + 587 * g + 114 * b) / 1000) as u8])
    })
}
