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
