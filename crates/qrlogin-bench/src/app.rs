//! Rows 2, 3 and 4: the real app (release build) against a bare Tauri hello-world, both in this
//! X display (run under `xvfb-run` + `dbus-run-session`). The reference server runs in this
//! process; the app is configured to use it (`QRLOGIN_CONFIG`).
//!
//! Per sample, interleaved: launch the hello-world (fresh HOME) and time spawn → its first-paint
//! line; launch the app (fresh HOME, so no remembered session) and time spawn → `qr` paint line
//! (row 3); take a screenshot (`import -window root`), decode the QR, open it as the phone,
//! confirm, and time confirm-returned → `profile` paint line (row 2); stop both.
//! Then one more launch of each, side by side: memory of each process tree with the QR shown,
//! and CPU over `idle_secs` of waiting (row 4).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use qrlogin_server::phone::{PageState, Phone};
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};
use serde_json::{json, Value};

use crate::approval::{PASSWORD, USER};
use crate::util::{cpu_ticks, monotonic_ns, summary, ticks_per_sec, tree, tree_memory, TreeGuard};

pub struct Params {
    pub app: PathBuf,
    pub hello: PathBuf,
    pub samples: usize,
    pub idle_secs: u64,
    pub work: PathBuf,
}

struct Launched {
    guard: TreeGuard,
    log: PathBuf,
    spawned_ns: i128,
}

fn launch(bin: &Path, work: &Path, name: &str, config: Option<&Path>) -> Result<Launched, String> {
    let home = work.join(name);
    let _ = std::fs::remove_dir_all(&home);
    for d in [".config", ".local/share", ".cache", "run"] {
        std::fs::create_dir_all(home.join(d)).map_err(|e| e.to_string())?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(home.join("run"), std::fs::Permissions::from_mode(0o700));
    }
    let log = home.join("paint.log");
    let mut cmd = Command::new(bin);
    cmd.env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("QRLOGIN_PAINT_LOG", &log)
        .env("LANG", "en_US.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(home.join("stderr.log")).map_err(|e| e.to_string())?,
        ));
    if let Some(c) = config {
        cmd.env("QRLOGIN_CONFIG", c);
    }
    let spawned_ns = monotonic_ns();
    let child = cmd.spawn().map_err(|e| format!("{}: {e}", bin.display()))?;
    Ok(Launched {
        guard: TreeGuard::new(child),
        log,
        spawned_ns,
    })
}

/// Waits for a `<what> <ns>` line in the paint log.
async fn paint(log: &Path, what: &str, secs: u64) -> Result<i128, String> {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(text) = std::fs::read_to_string(log) {
            for line in text.lines() {
                let mut it = line.split_whitespace();
                if it.next() == Some(what) {
                    if let Some(ns) = it.next().and_then(|n| n.parse::<i128>().ok()) {
                        return Ok(ns);
                    }
                }
            }
        }
        if tokio::time::Instant::now() > end {
            return Err(format!(
                "no `{what}` paint within {secs} s ({})",
                log.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Screenshot of the whole X screen, decoded; the approval URL on it.
async fn qr_text_on_screen() -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..20 {
        let out = tokio::process::Command::new("import")
            .args(["-window", "root", "png:-"])
            .output()
            .await
            .map_err(|e| format!("import: {e}"))?;
        if out.status.success() {
            match qrlogin_core::qr::decode_image(&out.stdout) {
                Ok(texts) => {
                    if let Some(t) = texts.into_iter().find(|t| t.contains("/s/")) {
                        return Ok(t);
                    }
                    last = "decoded, but no approval URL".into();
                }
                Err(e) => last = e.to_string(),
            }
        } else {
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!("no QR on screen: {last}"))
}

pub async fn run(p: Params) -> Result<Value, String> {
    std::fs::create_dir_all(&p.work).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = Server::open(OpenOptions::new(dir.path()))
        .await
        .map_err(|e| e.to_string())?;
    let creds = server
        .add_app(NewApp {
            name: "qrlogin bench".into(),
            qr_ttl_secs: Some(600),
            check_code: false,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    server
        .add_user(NewUser {
            username: USER.into(),
            password: PASSWORD.into(),
            nickname: Some("Alice".into()),
            email: Some("alice@example.com".into()),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let config = p.work.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nurl = \"{}\"\ndialect = \"v2\"\napp_id = \"{}\"\nuser_pool_id = \"{}\"\n\n[login]\nlong_poll = true\nlang = \"en\"\n",
            running.base_url(),
            creds.app_id,
            creds.user_pool_id
        ),
    )
    .map_err(|e| e.to_string())?;

    let phone = Phone::new();
    let mut app_start = Vec::new();
    let mut hello_start = Vec::new();
    let mut profile = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    // One unmeasured launch of each first: page cache, fontconfig cache, WebKit's caches.
    for i in 0..p.samples + 1 {
        let measured = i > 0;
        // Alternate which goes first, so drift hits both.
        let order: [bool; 2] = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_app in order {
            if is_app {
                match app_sample(&p, &config, &phone).await {
                    Ok((start, prof)) if measured => {
                        app_start.push(start);
                        if let Some(prof) = prof {
                            profile.push(prof);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("app sample {i}: {e}");
                        errors.push(e)
                    }
                }
            } else {
                match hello_sample(&p).await {
                    Ok(start) if measured => hello_start.push(start),
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("hello sample {i}: {e}");
                        errors.push(e)
                    }
                }
            }
        }
        eprintln!(
            "sample {i}: app start {:?} ms, hello start {:?} ms, profile {:?} ms",
            app_start.last(),
            hello_start.last(),
            profile.last()
        );
    }

    // Row 4: both at once, QR shown, then idle.
    let idle = idle(&p, &config).await;
    if let Err(e) = &idle {
        errors.push(e.clone());
    }
    running.shutdown().await;
    Ok(json!({
        "setup": "real release binaries under xvfb-run + dbus-run-session, WEBKIT_DISABLE_COMPOSITING_MODE=1, fresh HOME/XDG dirs per launch; server in the benchmark process on 127.0.0.1; app restarted per sample (sign-out by restart)",
        "start_to_qr_ms": {"app": summary(&app_start), "hello": summary(&hello_start)},
        "confirm_to_profile_paint_ms": summary(&profile),
        "idle": idle.unwrap_or(Value::Null),
        "errors": errors,
    }))
}

async fn hello_sample(p: &Params) -> Result<f64, String> {
    let mut l = launch(&p.hello, &p.work, "hello", None)?;
    let painted = paint(&l.log, "qr", 60).await;
    l.guard.stop();
    Ok((painted? - l.spawned_ns) as f64 / 1e6)
}

/// (spawn → QR painted, confirm returned → profile painted) in ms.
async fn app_sample(
    p: &Params,
    config: &Path,
    phone: &Phone,
) -> Result<(f64, Option<f64>), String> {
    let mut l = launch(&p.app, &p.work, "app", Some(config))?;
    let qr = paint(&l.log, "qr", 60).await;
    let qr = match qr {
        Ok(ns) => ns,
        Err(e) => {
            let err = std::fs::read_to_string(p.work.join("app/stderr.log")).unwrap_or_default();
            return Err(format!(
                "{e}; app stderr: {}",
                err.chars().take(600).collect::<String>()
            ));
        }
    };
    let start = (qr - l.spawned_ns) as f64 / 1e6;
    let prof = async {
        let text = qr_text_on_screen().await?;
        let mut page = phone.open(&text).await.map_err(|e| e.to_string())?;
        if page.state == PageState::SignIn {
            page = phone
                .sign_in(&page, USER, PASSWORD)
                .await
                .map_err(|e| e.to_string())?;
            if page.state != PageState::Approve {
                page = phone.open(&text).await.map_err(|e| e.to_string())?;
            }
        }
        if page.state != PageState::Approve {
            return Err(format!("approval page in state {:?}", page.state));
        }
        // Let the app show the scanned state first, as a person would take a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        phone
            .confirm(&page, None)
            .await
            .map_err(|e| e.to_string())?;
        let confirmed = monotonic_ns();
        let painted = paint(&l.log, "profile", 20).await?;
        Ok::<f64, String>((painted - confirmed) as f64 / 1e6)
    }
    .await;
    l.guard.stop();
    match prof {
        Ok(ms) => Ok((start, Some(ms))),
        Err(e) => {
            eprintln!("profile sample: {e}");
            Ok((start, None))
        }
    }
}

async fn idle(p: &Params, config: &Path) -> Result<Value, String> {
    let mut app = launch(&p.app, &p.work, "idle-app", Some(config))?;
    let mut hello = launch(&p.hello, &p.work, "idle-hello", None)?;
    paint(&app.log, "qr", 60).await?;
    paint(&hello.log, "qr", 60).await?;
    // Let both settle (the QR's fade-in, WebKit's post-load work), then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let app_mem = tree_memory(app.guard.pid);
    let hello_mem = tree_memory(hello.guard.pid);
    let ticks = |pid: u32| -> (Vec<u32>, u64) {
        let pids = tree(pid);
        let t = pids.iter().map(|&p| cpu_ticks(p)).sum();
        (pids, t)
    };
    let (app_pids, app_t0) = ticks(app.guard.pid);
    let (hello_pids, hello_t0) = ticks(hello.guard.pid);
    let t0 = monotonic_ns();
    tokio::time::sleep(Duration::from_secs(p.idle_secs)).await;
    let secs = (monotonic_ns() - t0) as f64 / 1e9;
    let (app_pids2, app_t1) = ticks(app.guard.pid);
    let (hello_pids2, hello_t1) = ticks(hello.guard.pid);
    let app_mem_end = tree_memory(app.guard.pid);
    let hello_mem_end = tree_memory(hello.guard.pid);
    app.guard.stop();
    hello.guard.stop();
    let tps = ticks_per_sec();
    let pct = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / tps / secs * 100.0;
    Ok(json!({
        "seconds": secs,
        "app": {"memory": app_mem, "memory_end": app_mem_end, "cpu_pct_of_one_core": pct(app_t0, app_t1),
                "pids": app_pids, "pids_end": app_pids2},
        "hello": {"memory": hello_mem, "memory_end": hello_mem_end, "cpu_pct_of_one_core": pct(hello_t0, hello_t1),
                  "pids": hello_pids, "pids_end": hello_pids2},
    }))
}
