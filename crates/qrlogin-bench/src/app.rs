//! Rows 2, 3 and 4: the real app against a bare Tauri hello-world, both in this X display (run
//! under `xvfb-run` + `dbus-run-session`).
//!
//! Two set-ups of the app: `remote` (the reference server runs in this process and the app is
//! configured to use it with `QRLOGIN_CONFIG`) and `embedded` (no config: the app runs its own
//! server, as on a fresh install). Each in two starts: `first` (empty HOME, so empty data dir,
//! WebKit caches and store) and `later` (a copy of a HOME that one earlier start left behind,
//! never signed in, so the QR shows again).
//!
//! Per sample, in an order that rotates so drift hits all: the hello-world (fresh HOME), spawn →
//! its first-paint line; each app variant, spawn → `qr` paint line (row 3) plus the app's
//! `startup-*` milestones (the breakdown).
//!
//! Row 2 runs in one window that signs in and out `profile_samples` times: a screenshot
//! (`import -window root`), decode the QR, open it as the phone, confirm, and time
//! confirm-returned → `profile` paint line; then the window signs out by itself (kiosk mode's
//! idle sign-out, the page's own `sign_out`, 2 s after the profile) and shows the next QR. The
//! remote set-up: the embedded demo app asks for a check code a phone reads off the window.
//!
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
    /// Row 2: sign-ins in one window (signed out through the window between them).
    pub profile_samples: usize,
    pub idle_secs: u64,
    pub work: PathBuf,
    /// What was measured, for the report: `release` or `debug` binaries.
    pub build: String,
}

struct Launched {
    guard: TreeGuard,
    log: PathBuf,
    spawned_ns: i128,
}

/// Where the app keeps its data under a HOME (Tauri's app data dir: XDG_DATA_HOME/identifier).
fn app_data_dir(home: &Path) -> PathBuf {
    home.join(".local/share/dev.qrlogin.desktop")
}

/// Launches `bin` in HOME `work/name`: empty, or a copy of `template` (a later start).
fn launch(
    bin: &Path,
    work: &Path,
    name: &str,
    config: Option<&Path>,
    template: Option<&Path>,
) -> Result<Launched, String> {
    let home = work.join(name);
    let _ = std::fs::remove_dir_all(&home);
    if let Some(t) = template {
        let out = Command::new("cp")
            .arg("-a")
            .arg(t)
            .arg(&home)
            .output()
            .map_err(|e| format!("cp: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cp -a {}: {}",
                t.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let _ = std::fs::remove_file(home.join("paint.log"));
    }
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
    paint_after(log, what, i128::MIN, secs).await
}

/// Waits for a `<what> <ns>` line in the paint log with `ns` later than `after`.
async fn paint_after(log: &Path, what: &str, after: i128, secs: u64) -> Result<i128, String> {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(text) = std::fs::read_to_string(log) {
            for line in text.lines() {
                let mut it = line.split_whitespace();
                if it.next() == Some(what) {
                    if let Some(ns) = it.next().and_then(|n| n.parse::<i128>().ok()) {
                        if ns > after {
                            return Ok(ns);
                        }
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

/// Screenshot of the whole X screen, decoded; the approval URL on it (other than `not`: the QR
/// of the previous sign-in may still be fading out).
async fn qr_text_on_screen(not: Option<&str>) -> Result<String, String> {
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
                    if let Some(t) = texts
                        .into_iter()
                        .find(|t| t.contains("/s/") && Some(t.as_str()) != not)
                    {
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

    // Row 2's window: the same server, kiosk mode for its idle sign-out (2 s, warned 1 s before).
    let kiosk_config = p.work.join("config-kiosk.toml");
    std::fs::write(
        &kiosk_config,
        format!(
            "{}\n[kiosk]\nenabled = true\nidle_sign_out_secs = 2\nwarn_secs = 1\n",
            std::fs::read_to_string(&config).map_err(|e| e.to_string())?
        ),
    )
    .map_err(|e| e.to_string())?;

    let phone = Phone::new();
    let variants = [
        Variant::new(Setup::Remote, false),
        Variant::new(Setup::Remote, true),
        Variant::new(Setup::Embedded, false),
        Variant::new(Setup::Embedded, true),
    ];
    let mut results: Vec<VariantResult> =
        variants.iter().map(|_| VariantResult::default()).collect();
    let mut hello_res = VariantResult::default();
    let mut errors: Vec<String> = Vec::new();
    // A later start copies a HOME that one earlier start left behind (QR shown, never signed in).
    for setup in [Setup::Remote, Setup::Embedded] {
        prepare_template(&p, &config, setup).await?;
    }
    // One unmeasured round first: page cache, fontconfig cache, WebKit's caches.
    for i in 0..p.samples + 1 {
        let measured = i > 0;
        // Rotate which goes first, so drift hits all.
        let n = variants.len() + 1;
        for k in 0..n {
            let slot = (i + k) % n;
            if slot == variants.len() {
                match hello_sample(&p).await {
                    Ok(s) if measured => hello_res.push(s),
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("hello sample {i}: {e}");
                        errors.push(e)
                    }
                }
                continue;
            }
            let v = &variants[slot];
            match app_sample(&p, &config, v).await {
                Ok(s) if measured => results[slot].push(s),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("app {} sample {i}: {e}", v.name());
                    errors.push(format!("{}: {e}", v.name()))
                }
            }
        }
        eprintln!(
            "sample {i}: hello {:?} ms; {}",
            hello_res.start.last(),
            variants
                .iter()
                .zip(&results)
                .map(|(v, r)| format!("{} {:?} ms", v.name(), r.start.last()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut by_variant = serde_json::Map::new();
    for (v, r) in variants.iter().zip(&results) {
        by_variant.insert(v.name(), r.to_json());
    }
    let remote_first = &results[0];

    // Row 2: one window, signed in and out through the window.
    let profile = match sign_ins(&p, &kiosk_config, &phone).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("row 2: {e}");
            errors.push(format!("row 2: {e}"));
            Vec::new()
        }
    };

    // Row 4: both at once, QR shown, then idle.
    let idle = idle(&p, &config).await;
    if let Err(e) = &idle {
        errors.push(e.clone());
    }
    running.shutdown().await;
    Ok(json!({
        "setup": format!("real binaries ({}) under xvfb-run + dbus-run-session, WEBKIT_DISABLE_COMPOSITING_MODE=1; hello-world with a fresh HOME per launch; app `remote` = configured to the reference server in the benchmark process on 127.0.0.1, `embedded` = no config (its own server); `first` = empty HOME, `later` = a copy of a HOME one earlier start left (never signed in); row 2 in one kiosk window signing in and out {} times (the page's idle sign-out after 2 s); load average at the start {}", p.build, p.profile_samples, load_average()),
        "start_to_qr_ms": {"app": summary(&remote_first.start), "hello": summary(&hello_res.start)},
        "confirm_to_profile_paint_ms": summary(&profile),
        "variants": by_variant,
        "hello": hello_res.to_json(),
        "idle": idle.unwrap_or(Value::Null),
        "errors": errors,
    }))
}

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Remote,
    Embedded,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Remote => "remote",
            Setup::Embedded => "embedded",
        }
    }
}

struct Variant {
    setup: Setup,
    later: bool,
}

impl Variant {
    fn new(setup: Setup, later: bool) -> Self {
        Self { setup, later }
    }

    fn name(&self) -> String {
        format!(
            "{}-{}",
            self.setup.name(),
            if self.later { "later" } else { "first" }
        )
    }
}

fn template_dir(work: &Path, setup: Setup) -> PathBuf {
    work.join(format!("template-{}", setup.name()))
}

/// One start of the app in `setup` that shows its QR and is stopped, never signed in: what a
/// later start finds. The embedded set-up is stopped once its demo user exists (demo.json).
async fn prepare_template(p: &Params, config: &Path, setup: Setup) -> Result<(), String> {
    let name = format!("template-{}", setup.name());
    let cfg = (setup == Setup::Remote).then_some(config);
    let mut l = launch(&p.app, &p.work, &name, cfg, None)?;
    let shown = paint(&l.log, "qr", 60).await;
    if shown.is_ok() && setup == Setup::Embedded {
        let demo = app_data_dir(&template_dir(&p.work, setup)).join("demo.json");
        let end = tokio::time::Instant::now() + Duration::from_secs(30);
        while !demo.exists() && tokio::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Let WebKit write its caches as it would before someone closes the window.
    tokio::time::sleep(Duration::from_secs(2)).await;
    l.guard.stop();
    shown.map(|_| ())
}

#[derive(Default)]
struct VariantResult {
    start: Vec<f64>,
    profile: Vec<f64>,
    /// Milestone → ms since spawn, one entry per sample that reached it.
    milestones: std::collections::BTreeMap<String, Vec<f64>>,
}

struct Sample {
    start: f64,
    profile: Option<f64>,
    milestones: Vec<(String, f64)>,
}

impl VariantResult {
    fn push(&mut self, s: Sample) {
        self.start.push(s.start);
        if let Some(p) = s.profile {
            self.profile.push(p);
        }
        for (k, v) in s.milestones {
            self.milestones.entry(k).or_default().push(v);
        }
    }

    fn to_json(&self) -> Value {
        let ms: serde_json::Map<String, Value> = self
            .milestones
            .iter()
            .map(|(k, v)| (k.clone(), summary(v)))
            .collect();
        json!({"start_to_qr_ms": summary(&self.start), "confirm_to_profile_paint_ms": summary(&self.profile), "milestones_ms": ms})
    }
}

/// Every `startup-<what> <ns>` line of a paint log, as (what, ms since spawn).
fn milestones(log: &Path, spawned_ns: i128) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut it = line.split_whitespace();
            let what = it.next()?.strip_prefix("startup-")?;
            let ns = it.next()?.parse::<i128>().ok()?;
            Some((what.to_string(), (ns - spawned_ns) as f64 / 1e6))
        })
        .collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn hello_sample(p: &Params) -> Result<Sample, String> {
    let mut l = launch(&p.hello, &p.work, "hello", None, None)?;
    let painted = paint(&l.log, "qr", 60).await;
    l.guard.stop();
    let painted = painted?;
    Ok(Sample {
        start: (painted - l.spawned_ns) as f64 / 1e6,
        profile: None,
        milestones: milestones(&l.log, l.spawned_ns),
    })
}

/// Spawn → QR painted and its milestones, in ms.
async fn app_sample(p: &Params, config: &Path, v: &Variant) -> Result<Sample, String> {
    let template = template_dir(&p.work, v.setup);
    let cfg = (v.setup == Setup::Remote).then_some(config);
    let mut l = launch(
        &p.app,
        &p.work,
        "app",
        cfg,
        v.later.then_some(template.as_path()),
    )?;
    let qr = paint(&l.log, "qr", 60).await;
    let qr = match qr {
        Ok(ns) => ns,
        Err(e) => {
            l.guard.stop();
            let err = std::fs::read_to_string(p.work.join("app/stderr.log")).unwrap_or_default();
            return Err(format!(
                "{e}; app stderr: {}",
                err.chars().take(600).collect::<String>()
            ));
        }
    };
    let start = (qr - l.spawned_ns) as f64 / 1e6;
    if v.setup == Setup::Embedded {
        // Let the first start finish what it does after the QR (the demo user) before the stop,
        // so that a slow background step shows up in the next sample's load, not hidden.
        let demo = app_data_dir(&p.work.join("app")).join("demo.json");
        let end = tokio::time::Instant::now() + Duration::from_secs(30);
        while !demo.exists() && tokio::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    l.guard.stop();
    Ok(Sample {
        start,
        profile: None,
        milestones: milestones(&l.log, l.spawned_ns),
    })
}

/// Row 2: `profile_samples` sign-ins in one window, each timed from the phone's confirm
/// returning to the profile painted; between them the window signs out by itself.
async fn sign_ins(p: &Params, config: &Path, phone: &Phone) -> Result<Vec<f64>, String> {
    let mut l = launch(&p.app, &p.work, "sign-ins", Some(config), None)?;
    let mut times = Vec::with_capacity(p.profile_samples);
    let mut last_text: Option<String> = None;
    let mut after = i128::MIN;
    let mut failures = 0;
    while times.len() < p.profile_samples && failures < 10 {
        let one = async {
            // The QR shown after the last sign-out (or the first one).
            paint_after(&l.log, "qr", after, 30).await?;
            let text = qr_text_on_screen(last_text.as_deref()).await?;
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
            // Let the window show the scanned state first, as a person would take a moment.
            tokio::time::sleep(Duration::from_millis(300)).await;
            phone
                .confirm(&page, None)
                .await
                .map_err(|e| e.to_string())?;
            let confirmed = monotonic_ns();
            let painted = paint_after(&l.log, "profile", after, 20).await?;
            Ok::<(String, i128, f64), String>((text, painted, (painted - confirmed) as f64 / 1e6))
        }
        .await;
        match one {
            Ok((text, painted, ms)) => {
                times.push(ms);
                last_text = Some(text);
                after = painted;
            }
            Err(e) => {
                failures += 1;
                eprintln!("row 2 sign-in {}: {e}", times.len() + 1);
                after = monotonic_ns();
            }
        }
        if times.len() % 10 == 0 && !times.is_empty() {
            eprintln!(
                "row 2: {} sign-ins, last {:?} ms",
                times.len(),
                times.last()
            );
        }
    }
    l.guard.stop();
    if times.is_empty() {
        return Err("no sign-in completed".into());
    }
    Ok(times)
}

async fn idle(p: &Params, config: &Path) -> Result<Value, String> {
    let mut app = launch(&p.app, &p.work, "idle-app", Some(config), None)?;
    let mut hello = launch(&p.hello, &p.work, "idle-hello", None, None)?;
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
