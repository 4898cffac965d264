//! `qrlogin-server idp …` as the built binary: the AppSecret comes from standard input only,
//! `idp list` never shows it, and mistakes are clear errors.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[path = "common/db.rs"]
mod db;
use db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_qrlogin-server");
const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn run(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(db.dir.path());
    match &db.url {
        Some(url) => c.env("QRLOGIN_DATABASE_URL", url),
        None => c.env_remove("QRLOGIN_DATABASE_URL"),
    };
    let mut child = c
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn idp_add_reads_the_secret_from_stdin_and_list_never_shows_it() {
    let db = TestDb::new();
    let add = [
        "idp",
        "add",
        "wechat-miniprogram",
        "--id",
        "company-wxapp",
        "--app-id",
        "wx1234567890abcdef",
        "--app-secret-stdin",
        "--link",
        "ask",
        "--json",
    ];
    let out = run(&db, &add, Some(&format!("{SECRET}\n")));
    assert!(out.status.success(), "{}", text(&out));
    let added: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(added["id"], "company-wxapp");
    assert_eq!(added["kind"], "wechat-miniprogram");
    assert_eq!(added["link"], "ask");
    assert!(!text(&out).contains(SECRET), "{}", text(&out));

    let out = run(&db, &["idp", "list", "--json"], None);
    assert!(out.status.success(), "{}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list[0]["appId"], "wx1234567890abcdef");
    assert!(!text(&out).contains(SECRET));

    let out = run(
        &db,
        &[
            "idp",
            "set-link",
            "--id",
            "company-wxapp",
            "--link",
            "match-phone",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&db, &["idp", "list"], None);
    assert!(text(&out).contains("link=match-phone"), "{}", text(&out));

    // The same id twice, a bad id, no secret, and a secret as an argument are clear errors.
    let out = run(&db, &add, Some(SECRET));
    assert!(!out.status.success());
    assert!(text(&out).contains("exists already"), "{}", text(&out));
    let out = run(
        &db,
        &[
            "idp",
            "add",
            "wechat-miniprogram",
            "--id",
            "Bad Id",
            "--app-id",
            "wx1",
            "--app-secret-stdin",
        ],
        Some(SECRET),
    );
    assert!(text(&out).contains("lower-case letters"), "{}", text(&out));
    let out = run(
        &db,
        &[
            "idp",
            "add",
            "wechat-miniprogram",
            "--id",
            "x",
            "--app-id",
            "wx1",
        ],
        None,
    );
    assert!(text(&out).contains("--app-secret-stdin"), "{}", text(&out));
    let out = run(
        &db,
        &[
            "idp",
            "add",
            "wechat-miniprogram",
            "--id",
            "x",
            "--app-id",
            "wx1",
            "--app-secret",
            SECRET,
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("unexpected argument"), "{}", text(&out));
}
