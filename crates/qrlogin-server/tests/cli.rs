//! The command line of PROTOCOL.md §6, run as the built binary: JSON outputs, list commands,
//! password change, serve with /healthz, and clear errors for the usual mistakes.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "common/db.rs"]
mod db;
use db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_qrlogin-server");

/// The binary on the test's storage: `--data-dir`, plus `--database-url` on PostgreSQL.
fn command(db: &TestDb) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(db.dir.path());
    match &db.url {
        // Through the environment, as an operator would keep a password off the command line.
        Some(url) => c.env("QRLOGIN_DATABASE_URL", url),
        None => c.env_remove("QRLOGIN_DATABASE_URL"),
    };
    c
}

fn run(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    run_command(command(db), args, stdin)
}

fn run_command(mut command: Command, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("wait")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn app_and_user_commands_print_json_and_list() {
    let dir = TestDb::new();
    let app = json_of(&run(
        &dir,
        &[
            "app",
            "add",
            "--name",
            "Desk",
            "--qr-ttl",
            "60",
            "--check-code",
            "--qr-payload",
            "authing-json",
            "--json",
        ],
        None,
    ));
    for k in ["appId", "appSecret", "userPoolId"] {
        assert!(app[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    let user = json_of(&run(
        &dir,
        &[
            "user",
            "add",
            "--username",
            "carol",
            "--password-stdin",
            "--nickname",
            "Carol",
            "--json",
        ],
        Some("carol-pw\n"),
    ));
    assert_eq!(user["username"], "carol");
    assert!(user["id"].is_string());
    let apps = json_of(&run(&dir, &["app", "list", "--json"], None));
    assert_eq!(apps[0]["appId"], app["appId"]);
    assert_eq!(apps[0]["qrTtlSecs"], 60);
    assert_eq!(apps[0]["checkCode"], true);
    assert!(apps[0].get("appSecret").is_none(), "list shows the secret");
    let users = json_of(&run(&dir, &["user", "list", "--json"], None));
    assert_eq!(users[0]["nickname"], "Carol");
    let out = run(
        &dir,
        &["user", "passwd", "--username", "carol", "--password-stdin"],
        Some("new-pw"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A script that captures an admin command's stderr (it is not a terminal) gets plain text:
/// the log lines are there, their colour escape codes are not (`app add --json`, `user add`).
#[test]
fn admin_commands_log_without_colour_when_stderr_is_not_a_terminal() {
    let dir = TestDb::new();
    let commands: [(&[&str], Option<&str>); 2] = [
        (&["app", "add", "--name", "Desk", "--json"], None),
        (
            &["user", "add", "--username", "erin", "--password-stdin"],
            Some("pw-erin\n"),
        ),
    ];
    for (args, stdin) in commands {
        let mut c = command(&dir);
        c.env("RUST_LOG", "debug");
        let out = run_command(c, args, stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(!err.trim().is_empty(), "{args:?} logged nothing to check");
        assert!(
            !err.contains('\u{1b}'),
            "{args:?}: escape codes in captured stderr: {err:?}"
        );
    }
}

#[test]
fn duplicate_username_bad_data_dir_and_missing_password_are_clear_errors() {
    let dir = TestDb::new();
    let add = |input| {
        run(
            &dir,
            &[
                "user",
                "add",
                "--username",
                "dave",
                "--password-stdin",
                "--json",
            ],
            input,
        )
    };
    assert!(add(Some("pw")).status.success());
    let out = add(Some("pw"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"dave\" already exists"), "{err}");

    // A data directory that is a file (SQLite only: PostgreSQL does not use the directory).
    let file = dir.dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let mut on_file = Command::new(BIN);
    on_file
        .arg("--data-dir")
        .arg(&file)
        .env_remove("QRLOGIN_DATABASE_URL");
    let out = run_command(on_file, &["app", "list"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a directory"), "{err}");

    let out = run(&dir, &["user", "add", "--username", "erin"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--password-stdin"),
        "{err}"
    );
}

#[test]
fn serve_answers_healthz_and_a_taken_port_is_a_clear_error() {
    let dir = TestDb::new();
    // Hold a port so the server cannot have it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let out = run(
        &dir,
        &["serve", "--listen", &format!("127.0.0.1:{port}")],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    drop(taken);

    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let mut child = command(&dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        // As /etc/qrlogin/server.env ships it: empty means no trusted proxy.
        .env("QRLOGIN_TRUSTED_PROXIES", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut healthy = false;
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                healthy = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(healthy, "no 200 from /healthz");
}

#[test]
fn a_bad_trusted_proxy_is_refused_naming_the_value() {
    let dir = TestDb::new();
    let mut c = command(&dir);
    c.env("QRLOGIN_TRUSTED_PROXIES", "127.0.0.1/32,10.0.0.0/33");
    let out = run_command(c, &["serve", "--listen", "127.0.0.1:0"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10.0.0.0/33") && err.contains("CIDR"), "{err}");
}

#[test]
fn an_unreachable_database_is_a_clear_error_that_hides_the_password() {
    // Port 1 on loopback refuses at once; the test needs no PostgreSQL.
    let mut c = Command::new(BIN);
    c.env(
        "QRLOGIN_DATABASE_URL",
        "postgres://qr:s3cret-pw@127.0.0.1:1/qrlogin",
    )
    .env_remove("QRLOGIN_DATA_DIR");
    let out = run_command(c, &["app", "list"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database postgres://qr:***@127.0.0.1:1/qrlogin"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "password in the error: {err}");

    let mut c = Command::new(BIN);
    c.arg("--database-url").arg("mysql://x@127.0.0.1/db");
    let out = run_command(c, &["app", "list"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("only postgres://"),
        "{err}"
    );

    let mut c = Command::new(BIN);
    c.env_remove("QRLOGIN_DATABASE_URL")
        .env_remove("QRLOGIN_DATA_DIR");
    let out = run_command(c, &["app", "list"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--database-url"),
        "{err}"
    );
}

/// A desktop session of `user` through a G4 QR login on `base` (phone page approval, secret
/// exchange, with a requester device); returns its access token.
async fn desktop_login(
    base: &str,
    app: &qrlogin_server::AppCredentials,
    user: (&str, &str),
) -> String {
    use qrlogin_server::phone::Phone;
    qrlogin_server::install_crypto_provider();
    let http = reqwest::Client::new();
    let gene: Value = http
        .post(format!("{base}/api/v3/gene-qrcode"))
        .header("x-authing-app-id", &app.app_id)
        .json(&serde_json::json!({"type": "MOBILE_APP", "requester": {"deviceName": "Kiosk 3"}}))
        .send()
        .await
        .expect("gene")
        .json()
        .await
        .expect("json");
    let phone = Phone::new();
    let page = phone
        .open(gene["data"]["qrContent"].as_str().expect("qr"))
        .await
        .expect("open");
    let page = phone.sign_in(&page, user.0, user.1).await.expect("sign in");
    phone.confirm(&page, None).await.expect("confirm");
    let id = gene["data"]["qrcodeId"].as_str().expect("id");
    let st: Value = http
        .get(format!("{base}/api/v3/get-qrcode-status?qrcodeId={id}"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let set: Value = http
        .post(format!(
            "{base}/api/v3/exchange-tokenset-with-qrcode-ticket"
        ))
        .basic_auth(&app.app_id, Some(&app.app_secret))
        .json(&serde_json::json!({"ticket": st["data"]["ticket"]}))
        .send()
        .await
        .expect("exchange")
        .json()
        .await
        .expect("json");
    set["data"]["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn signed_in(base: &str, token: &str) -> bool {
    qrlogin_server::install_crypto_provider();
    reqwest::Client::new()
        .get(format!("{base}/api/v3/get-profile"))
        .bearer_auth(token)
        .send()
        .await
        .expect("profile")
        .status()
        .is_success()
}

/// The CLI on a blocking thread (the server under test runs on this runtime).
async fn cli(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let cmd = command(db);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_command(cmd, &args, stdin.as_deref())
    })
    .await
    .expect("cli thread")
}

fn ok_text(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_lists_and_ends_sessions_disables_users_rotates_secrets_and_audits() {
    use qrlogin_server::{NewApp, NewUser, ServeOptions, Server};
    let db = TestDb::new();
    let server = Server::open(db.open_options()).await.expect("open");
    let app = server
        .add_app(NewApp {
            name: "Kiosk".into(),
            ..Default::default()
        })
        .await
        .expect("app");
    for u in ["frank", "grace"] {
        server
            .add_user(NewUser {
                username: u.into(),
                password: format!("{u}-pw"),
                ..Default::default()
            })
            .await
            .expect("user");
    }
    let running = server
        .serve(ServeOptions {
            rate_limits: qrlogin_server::RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .expect("serve");
    let base = running.base_url().to_owned();

    // sessions list: app, device, IP, created, last used.
    let first = desktop_login(&base, &app, ("frank", "frank-pw")).await;
    let second = desktop_login(&base, &app, ("frank", "frank-pw")).await;
    let list = json_of(
        &cli(
            &db,
            &["user", "sessions", "list", "--username", "frank", "--json"],
            None,
        )
        .await,
    );
    let desktops: Vec<&Value> = list
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| s["kind"] == "desktop")
        .collect();
    assert_eq!(desktops.len(), 2, "{list}");
    assert_eq!(desktops[0]["appName"], "Kiosk");
    assert_eq!(desktops[0]["device"], "Kiosk 3");
    assert_eq!(desktops[0]["ip"], "127.0.0.1");
    assert!(desktops[0]["created"].is_string() && desktops[0]["lastUsed"].is_string());
    let text = ok_text(
        &cli(
            &db,
            &["user", "sessions", "list", "--username", "frank"],
            None,
        )
        .await,
    );
    assert!(text.contains("device=Kiosk 3"), "{text}");

    // revoke one (the newest is listed first: the second login), then the rest.
    let newest = desktops[0]["id"].as_str().expect("id").to_owned();
    let out = ok_text(
        &cli(
            &db,
            &[
                "user",
                "sessions",
                "revoke",
                "--username",
                "frank",
                "--session",
                &newest,
            ],
            None,
        )
        .await,
    );
    assert!(out.contains("1 session(s)"), "{out}");
    assert!(!signed_in(&base, &second).await);
    assert!(signed_in(&base, &first).await);
    let out = cli(
        &db,
        &[
            "user",
            "sessions",
            "revoke",
            "--username",
            "grace",
            "--session",
            &newest,
        ],
        None,
    )
    .await;
    assert!(!out.status.success(), "revoked someone else's session");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session"));
    ok_text(
        &cli(
            &db,
            &["user", "sessions", "revoke", "--username", "frank"],
            None,
        )
        .await,
    );
    assert!(!signed_in(&base, &first).await);

    // passwd ends sessions.
    let token = desktop_login(&base, &app, ("frank", "frank-pw")).await;
    assert!(signed_in(&base, &token).await);
    let out = ok_text(
        &cli(
            &db,
            &["user", "passwd", "--username", "frank", "--password-stdin"],
            Some("frank-new"),
        )
        .await,
    );
    assert!(out.contains("sessions ended"), "{out}");
    assert!(!signed_in(&base, &token).await);

    // disable ends sessions and refuses the sign-in; enable lets it in again.
    let token = desktop_login(&base, &app, ("grace", "grace-pw")).await;
    let out = ok_text(&cli(&db, &["user", "disable", "--username", "grace"], None).await);
    assert!(out.contains("2 session(s) ended"), "{out}");
    assert!(!signed_in(&base, &token).await);
    let phone = qrlogin_server::phone::Phone::new();
    assert!(phone.sign_in_api(&base, "grace", "grace-pw").await.is_err());
    ok_text(&cli(&db, &["user", "enable", "--username", "grace"], None).await);
    phone
        .sign_in_api(&base, "grace", "grace-pw")
        .await
        .expect("enabled again");
    let out = cli(&db, &["user", "disable", "--username", "nobody"], None).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named \"nobody\""));

    // rotate-secret: the old secret stops working for the exchange.
    let rotated = json_of(
        &cli(
            &db,
            &["app", "rotate-secret", "--app-id", &app.app_id, "--json"],
            None,
        )
        .await,
    );
    let new_secret = rotated["appSecret"].as_str().expect("secret");
    assert_ne!(new_secret, app.app_secret);
    qrlogin_server::install_crypto_provider();
    let refused = reqwest::Client::new()
        .post(format!("{base}/oidc/token/introspection"))
        .form(&[
            ("token", "x"),
            ("client_id", &app.app_id),
            ("client_secret", &app.app_secret),
        ])
        .send()
        .await
        .expect("introspect");
    assert_eq!(refused.status().as_u16(), 401);
    qrlogin_server::install_crypto_provider();
    let accepted = reqwest::Client::new()
        .post(format!("{base}/oidc/token/introspection"))
        .form(&[
            ("token", "x"),
            ("client_id", &app.app_id),
            ("client_secret", new_secret),
        ])
        .send()
        .await
        .expect("introspect");
    assert_eq!(accepted.status().as_u16(), 200);
    let out = cli(&db, &["app", "rotate-secret", "--app-id", "nope"], None).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app \"nope\""));

    // audit: every sign-in and decision, filterable by user.
    let audit = json_of(&cli(&db, &["audit", "--username", "grace", "--json"], None).await);
    let outcomes: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        ["signed-in", "disabled", "authorized", "signed-in"],
        "{audit}"
    );
    let text = ok_text(&cli(&db, &["audit"], None).await);
    assert!(
        text.contains("qr-confirm") && text.contains("frank") && text.contains("Kiosk 3"),
        "{text}"
    );
    running.shutdown().await;
}

#[test]
fn app_set_turns_sign_up_on_and_off() {
    let db = TestDb::new();
    let created = json_of(&run(
        &db,
        &["app", "add", "--name", "Kiosk", "--json"],
        None,
    ));
    let id = created["appId"].as_str().expect("appId").to_owned();
    let list = |db: &TestDb| json_of(&run(db, &["app", "list", "--json"], None));
    assert_eq!(list(&db)[0]["signup"], false, "login only by default");
    let out = run(&db, &["app", "set", "--app-id", &id, "--signup"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(list(&db)[0]["signup"], true);
    let out = run(&db, &["app", "set", "--app-id", &id, "--no-signup"], None);
    assert!(out.status.success());
    assert_eq!(list(&db)[0]["signup"], false);
    // Mistakes are named.
    let out = run(&db, &["app", "set", "--app-id", &id], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--signup"));
    let out = run(&db, &["app", "set", "--app-id", "nope", "--signup"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    let with = json_of(&run(
        &db,
        &["app", "add", "--name", "Open", "--signup", "--json"],
        None,
    ));
    let apps = list(&db);
    let open = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appId"] == with["appId"])
        .expect("listed");
    assert_eq!(open["signup"], true);
}
