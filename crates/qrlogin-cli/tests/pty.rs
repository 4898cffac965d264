//! `qrlogin-cli` in a real pseudo-terminal against the real qrlogin-server (in-process): the QR
//! it draws decodes (the text rendered back to pixels, read by rqrr), a login completes through
//! the phone client, `token`/`status`/`logout` use the saved session, and Ctrl-C leaves nothing
//! running (exit 130).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use expectrl::{ControlCode, Eof, Regex};
use qrlogin_server::phone::Phone;
use qrlogin_server::{
    AppCredentials, NewApp, NewUser, OpenOptions, RateLimits, RunningServer, ServeOptions, Server,
};

struct Env {
    _dir: tempfile::TempDir,
    home: tempfile::TempDir,
    _server: Server,
    running: RunningServer,
    creds: AppCredentials,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(OpenOptions::new(dir.path())).await.unwrap();
    let creds = server
        .add_app(NewApp {
            name: "Terminal".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    server
        .add_user(NewUser {
            username: "alice".into(),
            password: "alice-password".into(),
            nickname: Some("Alice".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .unwrap();
    Env {
        _dir: dir,
        home: tempfile::tempdir().unwrap(),
        _server: server,
        running,
        creds,
    }
}

fn cli(env: &Env, dialect: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qrlogin-cli"));
    let home: &Path = env.home.path();
    c.env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("QRLOGIN_CONFIG")
        .arg("--set")
        .arg(format!("server.url={}", env.running.base_url()))
        .arg("--set")
        .arg(format!("server.app_id={}", env.creds.app_id))
        .arg("--set")
        .arg(format!("server.dialect={dialect}"))
        .arg("--set")
        .arg(format!("server.user_pool_id={}", env.creds.user_pool_id))
        .args(args);
    c
}

/// The lines as a terminal shows them: the spinner's `\r` + erase-line overwritten.
fn visible_lines(screen: &str) -> Vec<String> {
    screen
        .split('\n')
        .map(|l| {
            let l = l.trim_end_matches('\r');
            l.rsplit('\r').next().unwrap_or("").replace("\x1b[2K", "")
        })
        .collect()
}

/// The half-block QR in `screen`, rendered back to a picture (4 px per module) and decoded.
fn decode_terminal_qr(screen: &str) -> Vec<String> {
    let rows: Vec<Vec<char>> = visible_lines(screen)
        .into_iter()
        .filter(|l| l.chars().count() > 20 && l.chars().all(|c| " ▀▄█".contains(c)))
        .map(|l| l.chars().collect())
        .collect();
    assert!(rows.len() > 10, "no QR drawn in:\n{screen}");
    let w = rows[0].len();
    let scale = 4u32;
    let img = image::GrayImage::from_fn(w as u32 * scale, rows.len() as u32 * 2 * scale, |x, y| {
        let (col, line) = ((x / scale) as usize, (y / scale) as usize);
        let c = rows[line / 2].get(col).copied().unwrap_or(' ');
        let top = line % 2 == 0;
        let dark = match c {
            '█' => true,
            '▀' => top,
            '▄' => !top,
            _ => false,
        };
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_in_a_pty_then_token_status_logout() {
    let env = env().await;
    let mut p = expectrl::Session::spawn(cli(&env, "device", &["login"])).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    let (screen, url, code) = tokio::task::block_in_place(|| {
        let m = p
            .expect(Regex(r"Code: ([A-Z]{4}-[A-Z]{4})"))
            .expect("the code line");
        let screen = String::from_utf8_lossy(m.before()).into_owned();
        let code = String::from_utf8_lossy(m.matches().nth(1).unwrap()).into_owned();
        let url = visible_lines(&screen)
            .iter()
            .map(|l| l.trim().to_owned())
            .find(|l| l.starts_with("http"))
            .expect("the URL line")
            .to_owned();
        (screen, url, code)
    });
    assert_eq!(
        url,
        format!("{}/device?user_code={code}", env.running.base_url())
    );
    // What the terminal shows is a QR a phone reads, holding the same URL.
    assert_eq!(decode_terminal_qr(&screen), vec![url.clone()]);

    let phone = Phone::new();
    let page = phone.open(&url).await.unwrap();
    let page = phone
        .sign_in(&page, "alice", "alice-password")
        .await
        .unwrap();
    phone.confirm(&page, None).await.unwrap();
    tokio::task::block_in_place(|| {
        p.expect("Signed in as Alice.").expect("signed in line");
        p.expect(Eof).expect("exits");
        let status = p.get_process().wait().unwrap();
        assert_eq!(
            status,
            expectrl::WaitStatus::Exited(p.get_process().pid(), 0)
        );
    });

    // `token`: only the token on stdout, and it is accepted.
    let out = cli(&env, "device", &["token"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.lines().count(), 1);
    qrlogin_core::trust::install_crypto_provider();
    let http = reqwest::Client::new();
    let profile = |t: String| {
        let http = http.clone();
        let url = format!("{}/oidc/userinfo", env.running.base_url());
        async move {
            http.get(url)
                .bearer_auth(t.trim())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(profile(token.clone()).await, 200);
    let out = cli(&env, "device", &["status"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Signed in as Alice"),
        "{out:?}"
    );
    // `logout` revokes at the server: the token stops working there.
    let out = cli(&env, "device", &["logout"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(profile(token).await, 401);
    let out = cli(&env, "device", &["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// The terminal's "Can't scan?" line: a person who cannot scan types the code at the address
/// on the phone, and the CLI signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_typed_on_the_phone_instead_of_scanning_signs_the_terminal_in() {
    let env = env().await;
    let mut p = expectrl::Session::spawn(cli(&env, "v3", &["login"])).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    let (url, code) = tokio::task::block_in_place(|| {
        let m = p
            .expect(Regex(
                r"Can't scan\? On a phone where you are signed in, open (\S+) and enter ([A-Z]{4}-[A-Z]{4})",
            ))
            .expect("the can't-scan line");
        let group = |i| String::from_utf8_lossy(m.matches().nth(i).unwrap()).into_owned();
        (group(1), group(2))
    });
    assert_eq!(url, format!("{}/s", env.running.base_url()));
    let phone = Phone::new();
    let page = phone.type_code(&url, &code).await.unwrap();
    let page = phone
        .sign_in(&page, "alice", "alice-password")
        .await
        .unwrap();
    phone.confirm(&page, None).await.unwrap();
    tokio::task::block_in_place(|| {
        p.expect("Signed in as Alice.").expect("signed in line");
        p.expect(Eof).expect("exits");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_interrupts_with_130_and_leaves_nothing_running() {
    let env = env().await;
    let mut p = expectrl::Session::spawn(cli(&env, "v3", &["login"])).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    tokio::task::block_in_place(|| {
        p.expect("Scan the QR").expect("the QR is shown");
        let pid = p.get_process().pid();
        p.send(ControlCode::EndOfText).unwrap();
        p.expect("Interrupted.").expect("says so");
        p.expect(Eof).expect("exits");
        let status = p.get_process().wait().unwrap();
        assert_eq!(status, expectrl::WaitStatus::Exited(pid, 130));
        // Nothing of it is left: the process is gone (reaped) and started no children.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    });
    assert!(!env
        .home
        .path()
        .join("data/dev.qrlogin.desktop/session.json")
        .exists());
}

#[test]
fn usage_and_config_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_qrlogin-cli"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_qrlogin-cli"))
        .args(["--set", "server.dialect=klingon", "login"])
        .env_remove("QRLOGIN_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server.dialect"),
        "{out:?}"
    );
}

/// `[network]` is the app's: a CA file that cannot be read is a config error naming the key, and
/// the configured proxy is where the login's requests go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_keys_are_honoured_like_the_app() {
    let env = env().await;
    let out = cli(
        &env,
        "v3",
        &["--set", "network.ca_file=/nonexistent/ca.pem", "login"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("network.ca_file"),
        "{out:?}"
    );

    // A "proxy" that only records the first request line it is sent.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("network.proxy=http://{}", proxy.local_addr().unwrap());
    let mut child = cli(&env, "v3", &["--set", &proxy_url, "login", "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first_line = tokio::time::timeout(Duration::from_secs(30), async {
        use tokio::io::AsyncBufReadExt;
        let (conn, _) = proxy.accept().await.unwrap();
        let mut line = String::new();
        tokio::io::BufReader::new(conn)
            .read_line(&mut line)
            .await
            .unwrap();
        line
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let first_line = first_line.expect("the CLI went to the proxy");
    let server = env
        .running
        .base_url()
        .trim_start_matches("http://")
        .to_owned();
    assert!(
        first_line.contains(&server),
        "a proxied request names the server: {first_line:?}"
    );
}

/// `--json` against our server in every dialect: one LoginEvent per line, the QR's text
/// approved on the phone, `loggedIn`, exit 0, and the session saved for `token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_login_in_every_dialect() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let env = env().await;
    for dialect in ["wxapp-legacy", "app-v1", "v2", "v3", "device"] {
        let mut cmd = tokio::process::Command::from(cli(&env, dialect, &["login", "--json"]));
        cmd.stdout(std::process::Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut names = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("{dialect}: stalled after {names:?}"))
                .unwrap()
                .unwrap_or_else(|| panic!("{dialect}: ended after {names:?}"));
            let v: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{dialect}: not one JSON event per line ({e}): {line}"));
            let name = v["event"].as_str().unwrap().to_owned();
            names.push(name.clone());
            match name.as_str() {
                "qrReady" => {
                    let text = v["data"]["text"].as_str().unwrap().to_owned();
                    let code = v["data"]["checkCode"].as_str().map(str::to_owned);
                    let phone = Phone::new();
                    let page = phone.open(&text).await.unwrap();
                    let page = phone
                        .sign_in(&page, "alice", "alice-password")
                        .await
                        .unwrap();
                    let pick = (!page.check_code_choices.is_empty()).then(|| code.clone().unwrap());
                    phone.confirm(&page, pick.as_deref()).await.unwrap();
                }
                "loggedIn" => break,
                "failed" => panic!("{dialect}: {line}"),
                _ => {}
            }
        }
        assert!(
            child.wait().await.unwrap().success(),
            "{dialect}: {names:?}"
        );
        assert!(!names.contains(&"failed".to_owned()));
        let out = cli(&env, dialect, &["token"]).output().unwrap();
        assert!(out.status.success(), "{dialect}: {out:?}");
    }
}
