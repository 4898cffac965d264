//! Scenario 16: the page's web process dies (a crash, the OOM killer on a small kiosk): the window
//! does not stay blank. The shell loads the page again in a new web process and the page paints a
//! fresh QR (src-tauri/src/web_process.rs); a page that dies again and again is reloaded at most
//! five times a minute, then left with a line in the log.
//!
//! WebKitWebDriver ends its session when the page's process dies, so this scenario drives the app
//! without it: the app runs by itself under the same Xvfb and reports each QR it paints through
//! its paint log (`QRLOGIN_PAINT_LOG`), the same record `make bench` reads.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qrlogin_e2e::app::{note, process_tree};
use qrlogin_e2e::server::ServerOptions;
use qrlogin_e2e::{scenario, AppConfig, AppHome, Scenario, TestServer};

const RELOADS_A_MINUTE: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_a_killed_web_process_is_replaced_and_paints_a_qr() {
    let sc = Scenario::new("s16-web-process");
    let server = TestServer::start(ServerOptions::default()).await;
    let home = AppHome::with_config(&AppConfig::for_server(&server, "v2", "en"));
    let paint_log = home.path().join("paint.log");
    let app = Command::new(scenario::app_binary())
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
    let app = Running(app);
    let app_pid = app.0.id() as i32;
    {
        let mut painted = wait_paints(&paint_log, 1, Duration::from_secs(60)).await;
        // Each death is followed by a new process and a new QR painted, up to the limit.
        for death in 1..=RELOADS_A_MINUTE {
            let killed = kill_web_process(app_pid);
            painted = wait_paints(&paint_log, painted + 1, Duration::from_secs(30))
                .await
                .max(painted + 1);
            let now = web_processes(app_pid);
            assert!(
                !now.contains(&killed) && !now.is_empty(),
                "death {death}: web processes {now:?} after {killed} was killed"
            );
            note(
                &sc,
                &format!("death {death}: killed {killed}, QR painted again by {now:?}"),
            );
        }
        // One more within the minute: the window is left alone, and the log says why.
        kill_web_process(app_pid);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            paints(&paint_log),
            painted,
            "the page was reloaded a sixth time within a minute"
        );
        let log = app_log(&home.log_dir());
        assert!(
            log.contains("not reloading"),
            "the log does not say the page is no longer reloaded: {}",
            log.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        );
    }
    drop(app);
}

/// The app, stopped however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        stop(&mut self.0);
    }
}

/// How many times the page has reported a QR paint.
fn paints(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("qr "))
        .count()
}

async fn wait_paints(log: &Path, at_least: usize, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let n = paints(log);
        if n >= at_least {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "the window painted {n} QR codes, not {at_least}, within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn web_processes(root: i32) -> Vec<i32> {
    process_tree(root)
        .into_iter()
        .filter(|p| p.comm.starts_with("WebKitWebProces") && p.state != 'Z')
        .map(|p| p.pid)
        .collect()
}

/// SIGKILLs the app's web process, as the OOM killer would; returns its PID.
fn kill_web_process(root: i32) -> i32 {
    let pid = *web_processes(root)
        .first()
        .expect("a WebKitWebProcess under the app");
    // SAFETY: kill(2) on a PID read from the app's own process tree a moment ago.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}");
    pid
}

fn app_log(dir: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
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
