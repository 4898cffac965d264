//! `qrlogin-cli`: the qrlogin engine in a terminal, for machines without a desktop (SSH, servers,
//! CI). Same config file, keys and layering as the app (`qrlogin_core::config`), same session
//! store (session.rs: the core's, file or keyring). Exit codes: 0 signed in / done, 1 failed, 2 usage or config error,
//! 130 interrupted.

mod oauth;
mod render;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Parser, Subcommand};
use qrlogin_cli::session;
use qrlogin_core::cant_scan::CantScan;
use qrlogin_core::config::{self, Config, ConfigSources};
use qrlogin_core::dialect::Requester;
use qrlogin_core::http::{build_client_with, Limits, NetworkOptions, ReqwestTransport};
use qrlogin_core::session_store::PendingRevocation;
use qrlogin_core::tips::Tips;
use qrlogin_core::{Client, ClientConfig, DialectId, LoginEvent, LoginSession, SessionOptions};

const OK: u8 = 0;
const FAILED: u8 = 1;
const USAGE: u8 = 2;
const INTERRUPTED: u8 = 130;

#[derive(Parser)]
#[command(
    name = "qrlogin-cli",
    version,
    about = "Sign in with your phone, from a terminal"
)]
struct Cli {
    /// The config file (else $QRLOGIN_CONFIG, else ~/.config/qrlogin/config.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override a config key, e.g. --set server.url=https://id.example.com (repeatable; before
    /// the command: a global option given again after it would replace, not add to, these).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a QR (and the code to check or type) and wait until the phone confirms.
    Login {
        /// One LoginEvent per line on stdout, as JSON, for programs.
        #[arg(long)]
        json: bool,
    },
    /// Print the access token (refreshed first when it is about to expire); nothing else.
    Token,
    /// Who is signed in, and until when.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Sign out: the server revokes the session, then it is forgotten here.
    Logout,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { OK });
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("qrlogin-cli: {e}");
            return ExitCode::from(FAILED);
        }
    };
    ExitCode::from(rt.block_on(run(cli)))
}

async fn run(cli: Cli) -> u8 {
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("qrlogin-cli: {e}");
            return USAGE;
        }
    };
    match cli.command {
        Command::Login { json } => login(&config, json).await,
        Command::Token => token(&config).await,
        Command::Status { json } => status(&config, json),
        Command::Logout => logout(&config).await,
    }
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut overrides = Vec::new();
    for s in &cli.set {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("--set {s}: expected KEY=VALUE"))?;
        overrides.push((k.trim().to_owned(), v.to_owned()));
    }
    let sources = ConfigSources::standard(
        Some(&qrlogin_core::paths::user_config_dir()),
        cli.config.clone(),
        overrides,
    );
    let config = config::load(&sources).map_err(|e| e.to_string())?;
    if config.server.is_embedded() && !matches!(cli.command, Command::Status { .. }) {
        return Err(
            "server.url is empty: the terminal client has no embedded server; set \
                    server.url (and server.app_id) in the config or with --set"
                .into(),
        );
    }
    // A bad CA file or proxy is a config error (exit 2), named by its key, before any request.
    network(&config)?;
    Ok(config)
}

/// `[network]` (a company CA, a proxy) as the engine's HTTP options, as the app reads them.
fn network(config: &Config) -> Result<NetworkOptions, String> {
    let n = &config.network;
    let options = NetworkOptions::from_config(&n.ca_file, &n.proxy).map_err(|e| e.to_string())?;
    options.extra_roots().map_err(|e| e.to_string())?;
    Ok(options)
}

/// An HTTP client that honours `[network]`: the engine's and the refresh/revocation calls'.
fn http_client(config: &Config, limits: &Limits) -> Result<reqwest::Client, String> {
    build_client_with(limits, &network(config)?).map_err(|e| e.to_string())
}

fn client(config: &Config) -> Result<Client, String> {
    let s = &config.server;
    let mut cc = ClientConfig::new(s.url.trim(), s.dialect, s.app_id.trim());
    cc.app.scene = s.scene.clone();
    cc.app.qr_type = s.qr_type().to_string();
    cc.app.custom_data = s.custom_data.clone();
    cc.app.scope = s.scopes.clone();
    cc.app.lang = config.login.lang.resolve();
    cc.app.user_pool_id = Some(s.user_pool_id.trim().to_owned()).filter(|p| !p.is_empty());
    cc.app_secret = s.app_secret().map_err(|e| e.to_string())?;
    cc.allow_insecure_http = s.allow_insecure_http;
    cc.requester = Some(Requester::this_machine(
        "qrlogin-cli",
        env!("CARGO_PKG_VERSION"),
    ));
    let http = http_client(config, &cc.limits)?;
    let transport = Arc::new(ReqwestTransport::new(http.clone(), &cc.limits));
    Client::with_transport(cc, transport, http).map_err(|e| e.to_string())
}

fn session_options(config: &Config) -> SessionOptions {
    let l = &config.login;
    SessionOptions {
        refresh_cap: (l.refresh_cap > 0).then_some(l.refresh_cap),
        poll_interval: (l.poll_interval_ms > 0).then(|| Duration::from_millis(l.poll_interval_ms)),
        long_poll: l.long_poll,
        fetch_avatars: false,
        tips: Tips::from_config(&config.tips),
        lang: l.lang.resolve(),
        ..SessionOptions::default()
    }
}

/// Tip HTML as terminal text: tags dropped, the few entities decoded.
fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Writes state lines; on a TTY a spinner runs on the line below the last one.
struct Screen {
    tty: bool,
    out: Mutex<std::io::Stdout>,
}

impl Screen {
    fn line(&self, text: &str) {
        let mut o = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if self.tty {
            let _ = write!(o, "\r\x1b[2K");
        }
        let _ = writeln!(o, "{text}");
        let _ = o.flush();
    }

    fn spin(&self, frame: char) {
        let mut o = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = write!(o, "\r\x1b[2K{frame} waiting…");
        let _ = o.flush();
    }
}

async fn login(config: &Config, json: bool) -> u8 {
    let client = match client(config) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("qrlogin-cli: {e}");
            return USAGE;
        }
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let screen = Arc::new(Screen {
        tty: !json && std::io::stdout().is_terminal(),
        out: Mutex::new(std::io::stdout()),
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let session = LoginSession::start(client.clone(), session_options(config), move |e| {
        let _ = tx.send(e);
    });
    let spinner = screen.tty.then(|| {
        let screen = screen.clone();
        tokio::spawn(async move {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(120)).await;
                screen.spin(frames[i % frames.len()]);
                i += 1;
            }
        })
    });
    let device = config.server.dialect == DialectId::Device;
    let code = loop {
        let event = tokio::select! {
            e = rx.recv() => e,
            _ = tokio::signal::ctrl_c() => {
                session.cancel();
                screen.line("Interrupted.");
                break INTERRUPTED;
            }
        };
        let Some(event) = event else {
            break FAILED;
        };
        if json {
            match serde_json::to_string(&event) {
                Ok(l) => screen.line(&l),
                Err(e) => screen.line(&format!("{{\"error\":\"{e}\"}}")),
            }
        }
        match event {
            LoginEvent::LoggedIn {
                profile, session, ..
            } => {
                if let Err(e) =
                    session::remember(config, &client, &profile, &session, client.now_ms())
                {
                    eprintln!("qrlogin-cli: signed in, but the session could not be saved: {e}");
                    break FAILED;
                }
                if !json {
                    let who = profile.nickname.or(profile.username).unwrap_or(profile.id);
                    screen.line(&format!("Signed in as {who}."));
                }
                break OK;
            }
            _ if json => {
                if let LoginEvent::Failed { .. } = event {
                    break FAILED;
                }
                if let LoginEvent::Cancelled {
                    refreshing: false, ..
                }
                | LoginEvent::Expired {
                    refreshing: false, ..
                } = event
                {
                    break FAILED;
                }
            }
            LoginEvent::Starting { .. } => {}
            LoginEvent::QrReady {
                text,
                check_code,
                cant_scan,
                ..
            } => {
                match render::half_blocks(&text, color) {
                    Ok(lines) => {
                        for l in lines {
                            screen.line(&l);
                        }
                    }
                    Err(e) => screen.line(&format!("(cannot draw the QR: {e})")),
                }
                if device {
                    screen.line("Scan the QR with your phone, or open the sign-in page it holds:");
                    screen.line(&format!("  {text}"));
                    if let Some(c) = check_code {
                        screen.line(&format!("Code: {c}"));
                    }
                } else {
                    screen.line("Scan the QR with your phone.");
                    if let Some(c) = check_code {
                        screen.line(&format!("Check code: {c} (pick it on the phone)"));
                    }
                }
                // What the window shows under "Can't scan?": a short address and a code to
                // type (a terminal QR too small, a camera that cannot focus on it), or the link.
                match cant_scan {
                    CantScan::Code { code, url } => screen.line(&format!(
                        "Can't scan? On a phone where you are signed in, open {url} and enter {code}"
                    )),
                    CantScan::Link if !device => screen.line(&format!(
                        "Can't scan? Open this link on a phone where you are signed in: {text}"
                    )),
                    CantScan::Link | CantScan::Words => {}
                }
            }
            LoginEvent::Scanned { nickname, .. } => screen.line(&match nickname {
                Some(n) => format!("Scanned by {n}: confirm on the phone."),
                None => "Scanned: confirm on the phone.".to_owned(),
            }),
            LoginEvent::Authorized { .. } => screen.line("Confirmed on the phone; signing in…"),
            LoginEvent::Cancelled { refreshing, .. } => {
                screen.line(if refreshing {
                    "Cancelled on the phone; here is a new QR."
                } else {
                    "Cancelled on the phone."
                });
                if !refreshing {
                    break FAILED;
                }
            }
            LoginEvent::Expired { refreshing, .. } => {
                screen.line(if refreshing {
                    "The QR expired; here is a new one."
                } else {
                    "The QR expired."
                });
                if !refreshing {
                    break FAILED;
                }
            }
            LoginEvent::Retrying {
                delay_ms, message, ..
            } => screen.line(&format!(
                "{message} Retrying in {} s…",
                delay_ms.div_ceil(1000)
            )),
            LoginEvent::Failed {
                message, tip_html, ..
            } => {
                screen.line(&format!("{} {message}", plain(&tip_html)));
                break FAILED;
            }
        }
    };
    if let Some(s) = spinner {
        s.abort();
    }
    drop(session);
    code
}

async fn token(config: &Config) -> u8 {
    let Some(mut s) = session::load(config) else {
        eprintln!("qrlogin-cli: not signed in (run `qrlogin-cli login`)");
        return FAILED;
    };
    let now = now_ms();
    let stale = s.expires_at.is_some_and(|e| e - now < 60_000);
    if stale {
        match oauth::refresh(config, &s).await {
            Ok(fresh) => {
                s = fresh;
                if let Err(e) = session::save(config, &s) {
                    eprintln!("qrlogin-cli: {e}");
                    return FAILED;
                }
            }
            Err(e) => {
                eprintln!("qrlogin-cli: the token expired and could not be refreshed: {e}");
                return FAILED;
            }
        }
    }
    println!("{}", s.token);
    OK
}

fn status(config: &Config, json: bool) -> u8 {
    let Some(s) = session::load(config) else {
        if json {
            println!("{{\"signedIn\":false}}");
        } else {
            println!("Not signed in.");
        }
        return FAILED;
    };
    let p = &s.profile;
    let who = p
        .nickname
        .clone()
        .or_else(|| p.username.clone())
        .unwrap_or_else(|| p.id.clone());
    if json {
        let v = serde_json::json!({
            "signedIn": true, "server": s.server, "appId": s.app_id, "dialect": s.dialect,
            "user": who, "expiresAt": s.expires_at, "refreshable": s.refresh_token.is_some(),
        });
        println!("{v}");
    } else {
        let until = match s.expires_at {
            Some(ms) => format!("until {} UTC", oauth::utc(ms)),
            None => "with no expiry given".to_owned(),
        };
        let renew = if s.refresh_token.is_some() {
            " (renewable)"
        } else {
            ""
        };
        println!("Signed in as {who} at {}, {until}{renew}.", s.server);
    }
    OK
}

async fn logout(config: &Config) -> u8 {
    let Some(s) = session::load(config) else {
        println!("Not signed in.");
        return OK;
    };
    let revoked = oauth::revoke(config, &s).await;
    // Unrevoked, the session is still queued for revocation: the app tells the server later.
    let queued = revoked
        .is_err()
        .then(|| PendingRevocation::of(&s, now_ms()));
    if let Err(e) = session::forget(config, queued) {
        eprintln!("qrlogin-cli: {e}");
        return FAILED;
    }
    match revoked {
        Ok(()) => {
            println!("Signed out: the server ended the session.");
            OK
        }
        Err(e) => {
            eprintln!(
                "qrlogin-cli: forgotten here, but the server could not be told ({e}): the \
                 revocation is queued for the desktop app's next start; until then the session \
                 stays valid there until it expires"
            );
            FAILED
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
