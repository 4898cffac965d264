//! The command line of PROTOCOL.md §6 (`app add`, `user add`, `serve`, each `--json` where
//! stated) plus `app list`, `app rotate-secret`, `user list`, `user passwd`, `user disable` /
//! `enable`, `user sessions list` / `revoke` and `audit`. Errors say what to do next.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::{
    EdgeLimits, Error, NewApp, NewUser, OpenOptions, QrPayload, RateLimits, ServeOptions, Server,
    TrustedProxies,
};

#[derive(Debug, Parser)]
#[command(
    name = "qrlogin-server",
    version,
    about = "qrlogin's reference server: Authing QR login (four API generations), phone approval page, users, apps, tokens"
)]
pub struct Cli {
    /// Directory of the server's state (SQLite file); created if missing.
    #[arg(long, env = "QRLOGIN_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL database shared by several instances (postgres://USER[:PASS]@HOST:PORT/DB)
    /// instead of SQLite in --data-dir: users, apps, sessions and the signing key live there.
    #[arg(
        long,
        env = "QRLOGIN_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage apps (clients of the user pool).
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage identity sources (a company's own WeChat mini-program signs users in).
    Idp {
        #[command(subcommand)]
        command: crate::idp::cli::IdpCommand,
    },
    /// Serve HTTP until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Show the login history (sign-ins and QR decisions), newest first.
    Audit {
        /// Only this user's history.
        #[arg(long)]
        username: Option<String>,
        /// At most this many lines.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Add an app; prints its id and secret (the secret is shown only here).
    Add(AppAddArgs),
    /// List apps (without secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change an app's settings after `app add`.
    Set(AppSetArgs),
    /// Replace an app's secret; prints the new one (shown only here). The old one stops working.
    RotateSecret {
        #[arg(long, value_name = "APP_ID")]
        app_id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PayloadArg {
    Url,
    AuthingJson,
}

#[derive(Debug, Args)]
pub struct AppAddArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,
    /// Let a browser exchange tickets without the app secret or a PKCE verifier.
    #[arg(long)]
    pub allow_client_exchange: bool,
    /// Return the full user (with a token) from the status poll once authorized.
    #[arg(long)]
    pub return_full_user_info: bool,
    /// QR lifetime in seconds (default 120).
    #[arg(long, value_name = "S")]
    pub qr_ttl: Option<u32>,
    /// Ticket lifetime in seconds (default 300).
    #[arg(long, value_name = "S")]
    pub ticket_ttl: Option<u32>,
    #[arg(long, value_enum, default_value = "url")]
    pub qr_payload: PayloadArg,
    /// Show a two-digit check code on the desktop that the phone must pick.
    #[arg(long)]
    pub check_code: bool,
    /// Access-token lifetime of this app's sessions in seconds (default 3600); the refresh
    /// token renews it.
    #[arg(long, value_name = "S")]
    pub access_ttl: Option<u32>,
    /// While a QR waits for its scan, change the code every S seconds (default 30; 0 = never),
    /// so a photo of it stops working; the desktop follows by itself.
    #[arg(long, value_name = "S")]
    pub qr_rotate_secs: Option<u32>,
    /// The app's logo (PNG or JPEG, at most 1 MiB; SVG is refused), shown in the centre of the
    /// desktop's QR; stored re-encoded as PNG.
    #[arg(long, value_name = "FILE")]
    pub logo: Option<std::path::PathBuf>,
    /// Let a new user register on the phone page (username, password, nickname); without it
    /// the page only signs existing users in.
    #[arg(long)]
    pub signup: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AppSetArgs {
    #[arg(long, value_name = "APP_ID")]
    pub app_id: String,
    /// Let a new user register on the phone page.
    #[arg(long, conflicts_with = "no_signup")]
    pub signup: bool,
    /// Login only: the phone page signs existing users in (the default).
    #[arg(long)]
    pub no_signup: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add(UserAddArgs),
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password, read from standard input; every session of the user ends.
    Passwd {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: sign-in refused, every session ends at once.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// A user's sessions (phone sign-ins and signed-in desktops).
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List the user's live sessions: app, requester device, IP, created, last used.
    List {
        #[arg(long)]
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// End one session (--session ID, from `list`) or all of the user's sessions.
    Revoke {
        #[arg(long)]
        username: String,
        #[arg(long, value_name = "ID")]
        session: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input (the only way: never on the command line).
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long)]
    pub nickname: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long, value_name = "URL")]
    pub photo: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL phones reach this server at (what the QR links to); default http://ADDR:PORT.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Turn the per-IP rate limits off (benchmarks on one machine).
    #[arg(long)]
    pub no_rate_limits: bool,
    /// A reverse proxy (CIDR or address) whose X-Forwarded-For / Forwarded header names the
    /// client; repeat for several. From any other peer those headers are ignored.
    #[arg(
        long = "trusted-proxy",
        env = "QRLOGIN_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ',',
        value_parser = parse_trusted_proxy
    )]
    pub trusted_proxies: Vec<ProxyArg>,
    /// Open connections at once; more are closed when accepted (lowered to fit the open-file
    /// limit).
    #[arg(long, value_name = "N", default_value_t = EdgeLimits::default().max_connections)]
    pub max_connections: usize,
    /// Long-polls held at once per client address (IPv6: per /64); more get 429 at once.
    #[arg(long, value_name = "N", default_value_t = EdgeLimits::default().long_polls_per_client)]
    pub long_polls_per_client: usize,
    /// WeChat's API, which mini-program sign-ins call (jscode2session, getuserphonenumber).
    #[arg(long, value_name = "URL", default_value = crate::idp::wechat::DEFAULT_API_BASE)]
    pub wechat_api_base: String,
}

/// One `--trusted-proxy` value; empty (`QRLOGIN_TRUSTED_PROXIES=` in server.env) is none.
#[derive(Debug, Clone)]
pub struct ProxyArg(Option<ipnet::IpNet>);

fn parse_trusted_proxy(s: &str) -> Result<ProxyArg, String> {
    if s.trim().is_empty() {
        return Ok(ProxyArg(None));
    }
    crate::client_addr::parse_net(s).map(|n| ProxyArg(Some(n)))
}

/// Parses the process arguments and runs; the binary's `main` is just this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colour only for a person at a terminal: scripts that capture `app add --json`'s stderr
    // must not get escape codes.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

pub async fn run(cli: Cli) -> Result<(), Error> {
    let options = match (cli.database_url, cli.data_dir) {
        (Some(url), dir) => OpenOptions::new(dir.unwrap_or_default()).database_url(url),
        (None, Some(dir)) => OpenOptions::new(dir),
        (None, None) => {
            return Err(Error::InvalidInput(
                "say where the data lives: --data-dir DIR (SQLite) or --database-url \
                 postgres://… (shared by several instances)"
                    .into(),
            ))
        }
    };
    let server = Server::open(options).await?;
    match cli.command {
        Command::App { command } => app(&server, command).await,
        Command::User { command } => user(&server, command).await,
        Command::Idp { command } => crate::idp::cli::run(&server, command).await,
        Command::Serve(args) => serve(&server, args).await,
        Command::Audit {
            username,
            limit,
            json,
        } => audit(&server, username.as_deref(), limit, json).await,
    }
}

async fn audit(
    server: &Server,
    username: Option<&str>,
    limit: u32,
    json: bool,
) -> Result<(), Error> {
    let records = server.login_history(username, limit).await?;
    if json {
        println!("{}", json!(records));
        return Ok(());
    }
    for r in records {
        println!(
            "{}  {:<9} {:<16} {:<12} app={} device={} requesterIp={} approverIp={}",
            r.time,
            r.event,
            r.outcome,
            r.username,
            r.app_id,
            r.requester_device.as_deref().unwrap_or("-"),
            r.requester_ip.as_deref().unwrap_or("-"),
            r.approver_ip.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}

async fn sessions(server: &Server, command: SessionsCommand) -> Result<(), Error> {
    match command {
        SessionsCommand::List { username, json } => {
            let list = server.user_sessions(&username).await?;
            if json {
                println!("{}", json!(list));
            } else if list.is_empty() {
                println!("{username} has no live session");
            } else {
                for s in list {
                    println!(
                        "{}  {:<8} app={} ({}) device={} ip={} created={} lastUsed={}",
                        s.id,
                        s.kind,
                        s.app_id,
                        s.app_name.as_deref().unwrap_or("?"),
                        s.device.as_deref().unwrap_or("-"),
                        s.ip.as_deref().unwrap_or("-"),
                        s.created,
                        s.last_used,
                    );
                }
            }
        }
        SessionsCommand::Revoke { username, session } => {
            let n = server
                .revoke_sessions(&username, session.as_deref())
                .await?;
            println!("{n} session(s) of {username} ended");
        }
    }
    Ok(())
}

async fn app(server: &Server, command: AppCommand) -> Result<(), Error> {
    match command {
        AppCommand::Add(a) => {
            let creds = server
                .add_app(NewApp {
                    name: a.name,
                    redirect_url: a.redirect_url,
                    allow_client_exchange: a.allow_client_exchange,
                    return_full_user_info: a.return_full_user_info,
                    qr_ttl_secs: a.qr_ttl,
                    ticket_ttl_secs: a.ticket_ttl,
                    qr_payload: match a.qr_payload {
                        PayloadArg::Url => QrPayload::Url,
                        PayloadArg::AuthingJson => QrPayload::AuthingJson,
                    },
                    check_code: a.check_code,
                    access_ttl_secs: a.access_ttl,
                    qr_rotate_secs: a.qr_rotate_secs,
                    logo: match &a.logo {
                        Some(path) => Some(std::fs::read(path).map_err(|e| {
                            Error::InvalidInput(format!(
                                "cannot read the logo {}: {e}",
                                path.display()
                            ))
                        })?),
                        None => None,
                    },
                    signup: a.signup,
                })
                .await?;
            if a.json {
                println!("{}", json!(creds));
            } else {
                println!("appId:      {}", creds.app_id);
                println!(
                    "appSecret:  {}   (shown once; keep it secret)",
                    creds.app_secret
                );
                println!("userPoolId: {}", creds.user_pool_id);
            }
        }
        AppCommand::List { json } => {
            let apps = server.list_apps().await?;
            if json {
                println!("{}", json!(apps));
            } else {
                for a in apps {
                    println!(
                        "{}  {}  qrTtl={}s ticketTtl={}s accessTtl={}s payload={} checkCode={} clientExchange={} fullUserInfo={} signup={}",
                        a.app_id,
                        a.name,
                        a.qr_ttl_secs,
                        a.ticket_ttl_secs,
                        a.access_ttl_secs,
                        a.qr_payload.as_str(),
                        a.check_code,
                        a.allow_client_exchange,
                        a.return_full_user_info,
                        a.signup
                    );
                }
            }
        }
        AppCommand::Set(s) => {
            if !s.signup && !s.no_signup {
                return Err(Error::InvalidInput(
                    "nothing to set: give --signup or --no-signup".into(),
                ));
            }
            server.set_app_signup(&s.app_id, s.signup).await?;
            println!(
                "{}: sign-up on the phone page {}",
                s.app_id,
                if s.signup { "on" } else { "off (login only)" }
            );
        }
        AppCommand::RotateSecret { app_id, json } => {
            let creds = server.rotate_app_secret(&app_id).await?;
            if json {
                println!("{}", json!(creds));
            } else {
                println!("appId:      {}", creds.app_id);
                println!(
                    "appSecret:  {}   (new; shown once; the old one no longer works)",
                    creds.app_secret
                );
            }
        }
    }
    Ok(())
}

fn read_password(flag: bool) -> Result<String, Error> {
    if !flag {
        return Err(Error::InvalidInput(
            "pass the password on standard input with --password-stdin".into(),
        ));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::InvalidInput(format!("cannot read the password from stdin: {e}")))?;
    let password = text.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(Error::InvalidInput(
            "the password read from standard input is empty".into(),
        ));
    }
    Ok(password)
}

async fn user(server: &Server, command: UserCommand) -> Result<(), Error> {
    match command {
        UserCommand::Add(u) => {
            let password = read_password(u.password_stdin)?;
            let info = server
                .add_user(NewUser {
                    username: u.username,
                    password,
                    nickname: u.nickname,
                    email: u.email,
                    phone: u.phone,
                    photo: u.photo,
                })
                .await?;
            if u.json {
                println!("{}", json!({"id": info.id, "username": info.username}));
            } else {
                println!("added user {} (id {})", info.username, info.id);
            }
        }
        UserCommand::List { json } => {
            let users = server.list_users().await?;
            if json {
                println!("{}", json!(users));
            } else {
                for u in users {
                    println!(
                        "{}  {}  {}  logins={}",
                        u.id,
                        u.username,
                        u.nickname.as_deref().unwrap_or("-"),
                        u.logins_count
                    );
                }
            }
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            server.set_password(&username, &password).await?;
            println!("password of {username} changed; their sessions ended");
        }
        UserCommand::Disable { username } => {
            let n = server.disable_user(&username).await?;
            println!("{username} disabled; {n} session(s) ended");
        }
        UserCommand::Enable { username } => {
            server.enable_user(&username).await?;
            println!("{username} enabled");
        }
        UserCommand::Sessions { command } => sessions(server, command).await?,
    }
    Ok(())
}

async fn serve(server: &Server, args: ServeArgs) -> Result<(), Error> {
    let rate_limits = if args.no_rate_limits {
        RateLimits::unlimited()
    } else {
        RateLimits::default()
    };
    let mut trusted_proxies = TrustedProxies::none();
    for net in args.trusted_proxies.into_iter().filter_map(|p| p.0) {
        trusted_proxies.push(net);
    }
    let running = server
        .serve(ServeOptions {
            listen: args.listen,
            public_url: args.public_url,
            rate_limits,
            trusted_proxies,
            edge: EdgeLimits {
                max_connections: args.max_connections,
                long_polls_per_client: args.long_polls_per_client,
                ..EdgeLimits::default()
            },
            wechat_api_base: Some(args.wechat_api_base),
        })
        .await?;
    println!("qrlogin-server listening on {}", running.base_url());
    wait_for_stop_signal().await;
    tracing::info!("stopping");
    running.shutdown().await;
    Ok(())
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
