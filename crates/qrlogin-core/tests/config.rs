//! The config layers (system file, user or explicit file, environment, command line), the
//! errors a bad file gives, validation, and that secrets never print.

use std::path::{Path, PathBuf};

use qrlogin_core::config::{self, AfterLogin, Config, ConfigError, ConfigSources, LangChoice};
use qrlogin_core::dialect::DialectId;
use qrlogin_core::tips::{Lang, TipKey, Tips};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sources(system: Option<PathBuf>, user: Option<PathBuf>) -> ConfigSources {
    ConfigSources {
        system,
        user,
        ..ConfigSources::default()
    }
}

#[test]
fn defaults_without_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = config::load(&sources(
        Some(dir.path().join("none.toml")),
        Some(dir.path().join("nope.toml")),
    ))
    .unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.server.url, "");
    assert!(c.server.is_embedded());
    assert_eq!(c.server.dialect, DialectId::G3);
    assert_eq!(c.server.scene, "APP_AUTH");
    assert_eq!(c.server.port, 0);
    assert!(!c.server.lan);
    assert!(c.server.custom_data.is_empty());
    assert_eq!(c.login.lang, LangChoice::Auto);
    assert_eq!(c.login.lang.as_str(), "auto");
    assert_eq!(c.login.refresh_cap, 5);
    assert_eq!(c.login.poll_interval_ms, 0);
    assert!(c.login.long_poll);
    assert_eq!(c.login.after_login, AfterLogin::Profile);
    assert!(!c.kiosk.enabled);
    assert_eq!(c.kiosk.idle_sign_out_secs, 120);
    assert_eq!(c.kiosk.warn_secs, 10);
    assert!(c.server.app_secret().unwrap().is_none());
}

#[test]
fn user_file_overrides_system_file_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let system = write(
        dir.path(),
        "system.toml",
        r#"
[server]
url = "https://corp.example.com"
app_id = "corp-app"
dialect = "v3"
scene = "MOBILE_APP"
custom_data = { site = "hq", floor = 3 }

[kiosk]
enabled = true
idle_sign_out_secs = 300
"#,
    );
    let user = write(
        dir.path(),
        "user.toml",
        r#"
[server]
app_id = "my-app"
custom_data = { site = "home" }

[login]
lang = "en"

[tips.en]
title = "Scan with <b>Corp</b>"
"#,
    );
    let c = config::load(&sources(Some(system), Some(user))).unwrap();
    assert_eq!(
        c.server.url, "https://corp.example.com",
        "from the system file"
    );
    assert_eq!(c.server.app_id, "my-app", "the user's wins");
    assert_eq!(c.server.dialect, DialectId::G4);
    assert_eq!(c.kiosk.idle_sign_out_secs, 300);
    assert_eq!(c.kiosk.warn_secs, 10, "default where no layer sets it");
    assert_eq!(c.login.lang, LangChoice::Fixed(Lang::En));
    // custom_data is one value: the user's table replaces the system's.
    assert_eq!(c.server.custom_data.len(), 1);
    assert_eq!(c.server.custom_data["site"], "home");
    let tips = Tips::from_config(&c.tips);
    assert_eq!(tips.get(TipKey::Title, Lang::En), "Scan with <b>Corp</b>");
    assert_eq!(
        tips.get(TipKey::Title, Lang::ZhCn),
        "使用 <strong> APP </strong> 扫码登录"
    );
}

#[test]
fn explicit_file_replaces_the_user_file_but_not_the_system_file() {
    let dir = tempfile::tempdir().unwrap();
    let system = write(dir.path(), "system.toml", "[kiosk]\nenabled = true\n");
    let user = write(dir.path(), "user.toml", "[login]\nrefresh_cap = 1\n");
    let explicit = write(dir.path(), "explicit.toml", "[login]\nrefresh_cap = 9\n");
    let mut s = sources(Some(system), Some(user));
    s.explicit = Some(explicit);
    let c = config::load(&s).unwrap();
    assert!(c.kiosk.enabled);
    assert_eq!(c.login.refresh_cap, 9);

    // An explicit file must exist; a missing user or system file is fine.
    s.explicit = Some(dir.path().join("missing.toml"));
    let err = config::load(&s).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

#[test]
fn environment_overrides_files_and_flags_override_environment() {
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "user.toml",
        "[server]\nurl = \"https://file.example\"\napp_id = \"a\"\nport = 1\n",
    );
    let mut s = sources(None, Some(user));
    s.env = vec![
        ("QRLOGIN_SERVER_URL".into(), "https://env.example".into()),
        ("QRLOGIN_SERVER_PORT".into(), "8080".into()),
        ("QRLOGIN_SERVER_LAN".into(), "true".into()),
        ("QRLOGIN_LOGIN_LONG_POLL".into(), "0".into()),
        ("QRLOGIN_KIOSK_ENABLED".into(), "yes".into()),
        ("QRLOGIN_LOGIN_LANG".into(), "zh_CN.UTF-8".into()),
        (
            "QRLOGIN_SERVER_CUSTOM_DATA".into(),
            "{ tenant = \"t1\" }".into(),
        ),
        // Not ours: other programs' variables and unrelated sections are ignored.
        ("QRLOGIN_SERVER_DATA_DIR".into(), "/tmp/x".into()),
        ("QRLOGIN_E2E".into(), "1".into()),
        ("PATH".into(), "/usr/bin".into()),
    ];
    let c = config::load(&s).unwrap();
    assert_eq!(c.server.url, "https://env.example");
    assert_eq!(c.server.port, 8080);
    assert!(c.server.lan);
    assert!(!c.login.long_poll);
    assert!(c.kiosk.enabled);
    assert_eq!(c.login.lang, LangChoice::Fixed(Lang::ZhCn));
    assert_eq!(c.server.custom_data["tenant"], "t1");

    s.overrides = vec![
        ("server.url".into(), "https://flag.example".into()),
        ("login.after_login".into(), "print-token".into()),
        ("tips.\"zh-CN\".retry".into(), "再试一次".into()),
        ("tips.en.failedTips".into(), "<i>Offline</i>".into()),
        ("server.custom_data.extra".into(), "yes".into()),
    ];
    let c = config::load(&s).unwrap();
    assert_eq!(c.server.url, "https://flag.example");
    assert_eq!(
        c.server.port, 8080,
        "env still applies where no flag is given"
    );
    assert_eq!(c.login.after_login, AfterLogin::PrintToken);
    assert_eq!(c.tips.get(Lang::ZhCn, TipKey::Retry), Some("再试一次"));
    assert_eq!(c.tips.get(Lang::En, TipKey::Failed), Some("<i>Offline</i>"));
    assert_eq!(c.server.custom_data["extra"], "yes");
}

#[test]
fn bad_override_values_name_their_origin() {
    let s = ConfigSources {
        env: vec![("QRLOGIN_SERVER_PORT".into(), "eighty".into())],
        ..ConfigSources::default()
    };
    let err = config::load(&s).unwrap_err().to_string();
    assert!(
        err.contains("QRLOGIN_SERVER_PORT") && err.contains("server.port"),
        "{err}"
    );

    let s = ConfigSources {
        env: vec![("QRLOGIN_SERVER_PORT".into(), "70000".into())],
        ..ConfigSources::default()
    };
    let err = config::load(&s).unwrap_err().to_string();
    assert!(err.contains("QRLOGIN_SERVER_PORT"), "{err}");

    let s = ConfigSources {
        overrides: vec![("server.dialect".into(), "v5".into())],
        ..ConfigSources::default()
    };
    let err = config::load(&s).unwrap_err().to_string();
    assert!(err.contains("--set server.dialect"), "{err}");
    for d in ["wxapp-legacy", "app-v1", "v2", "v3"] {
        assert!(err.contains(d), "lists the dialects: {err}");
    }

    let s = ConfigSources {
        overrides: vec![("server.urll".into(), "x".into())],
        ..ConfigSources::default()
    };
    let err = config::load(&s).unwrap_err().to_string();
    assert!(
        err.contains("server.urll") && err.contains("did you mean `server.url`"),
        "{err}"
    );

    let s = ConfigSources {
        overrides: vec![("tips.fr.title".into(), "x".into())],
        ..ConfigSources::default()
    };
    assert!(config::load(&s).is_err());
}

/// Asserts that loading `text` as the user file fails with a message naming the file, the key
/// and the line.
fn assert_file_error(text: &str, key: &str, line: usize, also: &str) {
    let dir = tempfile::tempdir().unwrap();
    let user = write(dir.path(), "config.toml", text);
    let err = config::load(&sources(None, Some(user.clone()))).unwrap_err();
    let msg = err.to_string();
    match &err {
        ConfigError::Parse {
            path,
            line: l,
            key: k,
            ..
        } => {
            assert_eq!(path, &user);
            assert_eq!(*l, line, "{msg}");
            assert_eq!(k, key, "{msg}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(msg.contains("config.toml"), "{msg}");
    assert!(msg.contains(&format!(":{line}:")), "{msg}");
    assert!(msg.contains(key), "{msg}");
    assert!(msg.contains(also), "{msg}");
}

#[test]
fn bad_files_name_the_file_key_and_line() {
    assert_file_error(
        "[server]\nurl = \"https://x\"\ndialcet = \"v3\"\n",
        "server.dialcet",
        3,
        "did you mean `dialect`?",
    );
    assert_file_error("[server]\n\ndialect = \"v5\"\n", "server.dialect", 3, "v3");
    assert_file_error(
        "[login]\nrefresh_cap = \"five\"\n",
        "login.refresh_cap",
        2,
        "",
    );
    assert_file_error(
        "[kiosk]\nenabled = true\nwarn_secs = -1\n",
        "kiosk.warn_secs",
        3,
        "",
    );
    assert_file_error(
        "[serverr]\nurl = \"x\"\n",
        "serverr",
        1,
        "did you mean `server`?",
    );
    assert_file_error("[login]\nlang = \"fr\"\n", "login.lang", 2, "zh-CN");
    assert_file_error(
        "[tips.en]\ntitel = \"x\"\n",
        "tips.en.titel",
        2,
        "did you mean `title`?",
    );
    assert_file_error("[server]\nport = 70000\n", "server.port", 2, "");
    // A typed value: the typo is caught with the file's other schema errors, at its line.
    assert_file_error(
        "[login]\nafter_login = \"profil\"\n",
        "login.after_login",
        2,
        "did you mean `profile`?",
    );
    // Not TOML at all.
    assert_file_error("[server]\nurl = \"unterminated\n", "server.url", 2, "");
}

#[test]
fn validation_names_the_key() {
    let check = |text: &str, key: &str, also: &str| {
        let dir = tempfile::tempdir().unwrap();
        let user = write(dir.path(), "config.toml", text);
        let err = config::load(&sources(None, Some(user))).unwrap_err();
        match &err {
            ConfigError::Invalid { key: k, .. } => assert_eq!(k, key, "{err}"),
            other => panic!("expected Invalid for {key}, got {other:?}"),
        }
        assert!(err.to_string().contains(also), "{err}");
    };
    check(
        "[server]\nurl = \"https://x.example\"\n",
        "server.app_id",
        "required",
    );
    check(
        "[server]\nurl = \"file:///etc\"\napp_id = \"a\"\n",
        "server.url",
        "http",
    );
    check(
        "[server]\ndialect = \"v3\"\nscene = \"WXAPP\"\n",
        "server.scene",
        "MOBILE_APP",
    );
    check(
        "[login]\nafter_login = \"command\"\n",
        "login.command",
        "required",
    );
    check(
        "[kiosk]\nenabled = true\nwarn_secs = 200\n",
        "kiosk.warn_secs",
        "less than",
    );
    check(
        "[server]\napp_secret = \"s\"\napp_secret_file = \"/x\"\n",
        "server.app_secret_file",
        "not both",
    );
    // The v3 mapping of the default scene is fine.
    let c = Config {
        server: config::ServerConfig {
            dialect: DialectId::G4,
            ..Default::default()
        },
        ..Default::default()
    };
    c.validate().unwrap();
    assert_eq!(c.server.qr_type(), "MOBILE_APP");
}

#[test]
fn secrets_never_print_or_serialize() {
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "config.toml",
        "[server]\napp_secret = \"s3cr3t-from-file\"\n",
    );
    let c = config::load(&sources(None, Some(user))).unwrap();
    assert_eq!(c.server.app_secret.expose(), "s3cr3t-from-file");
    assert!(!format!("{c:?}").contains("s3cr3t"));
    assert!(!format!("{c:#?}").contains("s3cr3t"));
    let toml_out = toml::to_string(&c).unwrap();
    assert!(
        !toml_out.contains("s3cr3t") && !toml_out.contains("app_secret ="),
        "{toml_out}"
    );
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("s3cr3t"));

    // From the environment and from a file.
    let s = ConfigSources {
        env: vec![("QRLOGIN_APP_SECRET".into(), "env-s3cr3t".into())],
        ..ConfigSources::default()
    };
    let c = config::load(&s).unwrap();
    assert_eq!(
        c.server.app_secret().unwrap().unwrap().expose(),
        "env-s3cr3t"
    );
    assert!(!format!("{c:?}").contains("env-s3cr3t"));

    let secret_file = write(dir.path(), "secret", "file-s3cr3t\n");
    let s = ConfigSources {
        overrides: vec![(
            "server.app_secret_file".into(),
            secret_file.display().to_string(),
        )],
        ..ConfigSources::default()
    };
    let c = config::load(&s).unwrap();
    assert_eq!(
        c.server.app_secret.expose(),
        "file-s3cr3t",
        "trailing newline dropped"
    );
    assert!(!format!("{c:?}").contains("file-s3cr3t"));

    let s = ConfigSources {
        overrides: vec![(
            "server.app_secret_file".into(),
            "/nonexistent/secret".into(),
        )],
        ..ConfigSources::default()
    };
    let err = config::load(&s).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/secret"), "{err}");
}

#[test]
fn documented_keys_match_the_real_ones() {
    let defaults = toml::Value::try_from(Config::default()).unwrap();
    let mut real = Vec::new();
    for (section, value) in defaults.as_table().unwrap() {
        // Tips have no keys by default; they are documented as one `tips.<lang>.<tip>` row.
        if section == "tips" {
            continue;
        }
        for (key, v) in value.as_table().unwrap() {
            real.push((format!("{section}.{key}"), v.clone()));
        }
    }
    real.push((
        "server.app_secret".into(),
        toml::Value::String(String::new()),
    ));
    let docs = Config::documented_keys();
    for (key, value) in &real {
        let doc = docs
            .iter()
            .find(|d| d.key == key)
            .unwrap_or_else(|| panic!("{key} undocumented"));
        // The documented default parses to the real default.
        let parsed: toml::Table = toml::from_str(&format!("v = {}", doc.default)).unwrap();
        assert_eq!(&parsed["v"], value, "{key}");
    }
    for doc in docs {
        assert!(
            doc.key.starts_with("tips.") || real.iter().any(|(k, _)| k == doc.key),
            "{} is not a key",
            doc.key
        );
    }
    let md = Config::keys_markdown();
    assert!(md.starts_with("| key | default | meaning |"));
    assert_eq!(md.lines().count(), docs.len() + 2);
}

#[test]
fn a_full_example_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "config.toml",
        r#"
[server]
url = "https://my-app.authing.cn"
dialect = "wxapp-legacy"
app_id = "5f0000000000000000000001"
user_pool_id = "5e0000000000000000000001"
scene = "WXAPP_AUTH"
lan = false
port = 0
custom_data = { source = "kiosk", nested = { a = [1, 2] } }

[login]
lang = "zh-CN"
refresh_cap = 0
poll_interval_ms = 1500
long_poll = false
after_login = "command"
command = "/usr/local/bin/on-login"

[tips."zh-CN"]
tips = "使用 <strong>微信</strong> 扫码"
scannedTips = "已扫码"

[kiosk]
enabled = true
idle_sign_out_secs = 60
warn_secs = 5
"#,
    );
    let c = config::load(&sources(None, Some(user))).unwrap();
    assert_eq!(c.server.dialect, DialectId::G1);
    assert_eq!(c.login.lang.resolve(), Lang::ZhCn);
    assert_eq!(
        c.tips.get(Lang::ZhCn, TipKey::Title),
        Some("使用 <strong>微信</strong> 扫码")
    );
    assert_eq!(c.tips.get(Lang::ZhCn, TipKey::Scanned), Some("已扫码"));
    assert_eq!(c.server.custom_data["nested"]["a"][1], 2);
    // Serializing and loading again gives the same config.
    let again = write(dir.path(), "again.toml", &toml::to_string(&c).unwrap());
    assert_eq!(config::load(&sources(None, Some(again))).unwrap(), c);
}

/// A secret on the command line is readable by every user through /proc and stays in the shell
/// history: `--set server.app_secret=...` is refused, and the message says where it goes instead.
#[test]
fn secret_keys_are_refused_on_the_command_line() {
    for key in [
        "server.app_secret",
        " server . app_secret ",
        "server.\"app_secret\"",
    ] {
        let s = ConfigSources {
            overrides: vec![(key.into(), "cmdline-s3cr3t".into())],
            ..ConfigSources::default()
        };
        let err = config::load(&s).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, ConfigError::Override { key, .. } if key == "server.app_secret"),
            "{err:?}"
        );
        assert!(text.contains("--set server.app_secret"), "{text}");
        assert!(
            text.contains("app_secret_file") && text.contains("QRLOGIN_APP_SECRET"),
            "{text}"
        );
        assert!(
            !text.contains("cmdline-s3cr3t"),
            "the refusal must not echo the secret: {text}"
        );
    }
    // The same key from the environment is still fine.
    let s = ConfigSources {
        env: vec![("QRLOGIN_SERVER_APP_SECRET".into(), "env-s3cr3t".into())],
        ..ConfigSources::default()
    };
    assert_eq!(
        config::load(&s).unwrap().server.app_secret.expose(),
        "env-s3cr3t"
    );
}

/// Plain http to another machine is refused unless allowed; loopback and https always load.
#[test]
fn plain_http_to_a_remote_server_needs_allow_insecure_http() {
    let load = |url: &str, allow: bool| {
        config::load(&ConfigSources {
            overrides: vec![
                ("server.url".into(), url.into()),
                ("server.app_id".into(), "app1".into()),
                ("server.allow_insecure_http".into(), allow.to_string()),
            ],
            ..ConfigSources::default()
        })
    };
    let err = load("http://login.example.com", false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("server.url") && err.contains("server.allow_insecure_http"),
        "{err}"
    );
    assert!(load("http://192.168.1.20:8080", false).is_err());
    assert!(load("http://login.example.com", true).is_ok());
    assert!(load("https://login.example.com", false).is_ok());
    assert!(load("http://127.0.0.1:8080", false).is_ok());
    assert!(load("http://localhost:8080", false).is_ok());
}

#[test]
fn redirect_leaves_the_token_out_by_default() {
    let c = config::load(&ConfigSources::default()).unwrap();
    assert!(!c.login.redirect_include_token);
    assert!(!c.server.allow_insecure_http);
}

#[test]
fn network_keys_from_file_and_environment() {
    assert_eq!(Config::default().network.proxy, "system");
    assert_eq!(Config::default().network.ca_file, "");
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "config.toml",
        "[network]\nca_file = \"/etc/qrlogin/ca.pem\"\nproxy = \"none\"\n",
    );
    let s = ConfigSources {
        env: vec![(
            "QRLOGIN_NETWORK_PROXY".into(),
            "socks5h://127.0.0.1:1080".into(),
        )],
        ..sources(None, Some(user))
    };
    let c = config::load(&s).unwrap();
    assert_eq!(c.network.ca_file, "/etc/qrlogin/ca.pem");
    assert_eq!(
        c.network.proxy, "socks5h://127.0.0.1:1080",
        "the environment wins"
    );

    // A proxy the client could not use is refused at load time, with the key named.
    for bad in ["ftp://proxy.example", "proxy.example:3128", "http://"] {
        let user = write(
            dir.path(),
            "bad.toml",
            &format!("[network]\nproxy = \"{bad}\"\n"),
        );
        match config::load(&sources(None, Some(user))) {
            Err(ConfigError::Invalid { key, message }) => {
                assert_eq!(key, "network.proxy");
                assert!(message.contains("\"none\""), "{bad}: {message}");
            }
            other => panic!("{bad}: expected an invalid network.proxy, got {other:?}"),
        }
    }
}

/// Seeds 000/001's generate options: from a file and from `--set`, onto the wire each
/// generation speaks (G1 query flags, G3/G4 JSON body), and the redirect rule for G1.
#[test]
fn generate_options_reach_each_generations_request() {
    use qrlogin_core::dialect::{build_generate, AppParams, GenerateExtras};
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "user.toml",
        "[server]\nuse_self_wxapp = true\next_idp_conn_id = \"conn-1\"\n\
         [server.context]\nsource = \"utm\"\n",
    );
    let mut src = sources(None, Some(user));
    src.overrides = vec![("server.enable_fetch_phone".into(), "true".into())];
    let c = config::load(&src).unwrap();
    let mut app = AppParams {
        app_id: "app1".into(),
        ..AppParams::default()
    };
    c.server.apply_generate_options(&mut app);
    let extras = GenerateExtras {
        random: Some("R1234567890ab".into()),
        ..GenerateExtras::default()
    };
    let g1 = build_generate(DialectId::G1, &app, &extras).unwrap();
    assert_eq!(g1.query_value("enableFetchPhone"), Some("true"));
    assert_eq!(g1.query_value("useSelfWxapp"), Some("true"));
    for dialect in [DialectId::G3, DialectId::G4] {
        let body = build_generate(dialect, &app, &extras)
            .unwrap()
            .json
            .unwrap();
        assert_eq!(body["context"]["source"], "utm", "{dialect:?}");
        assert_eq!(body["extIdpConnId"], "conn-1", "{dialect:?}");
    }
    // Left at their defaults, nothing extra is sent.
    let mut plain = AppParams::default();
    Config::default().server.apply_generate_options(&mut plain);
    assert_eq!((plain.context, plain.ext_idp_conn_id), (None, None));

    // Redirect mode: wxapp-legacy may rely on the server's `redirect`, v2 may not.
    let mut r = Config::default();
    r.login.after_login = AfterLogin::Redirect;
    assert!(
        r.validate().is_err(),
        "v2 has no server redirect to fall back on"
    );
    r.server.dialect = DialectId::G1;
    r.validate().unwrap();
}

#[test]
fn the_default_title_follows_what_the_phone_scans_with() {
    let mut c = Config::default();
    c.server.dialect = DialectId::G1;
    let tips = Tips::from_config(&c.tips);
    tips.set_title_variant(c.server.title_variant());
    assert_eq!(
        tips.get(TipKey::Title, Lang::ZhCn),
        "搜索小程序 <strong>身份管家</strong> 扫码登录"
    );
    assert!(tips.get(TipKey::Title, Lang::En).contains("mini program"));
    c.server.enable_fetch_phone = true;
    tips.set_title_variant(c.server.title_variant());
    assert!(tips.get(TipKey::Title, Lang::ZhCn).contains("小登录"));
    c.server.dialect = DialectId::G3;
    c.server.scene = "WXAPP_AUTH".into();
    tips.set_title_variant(c.server.title_variant());
    assert!(tips.get(TipKey::Title, Lang::ZhCn).contains("微信"));
    // The device flow names no Authing app: a camera opens the address, or the code is typed.
    c.server.dialect = DialectId::Device;
    tips.set_title_variant(c.server.title_variant());
    let en = tips.get(TipKey::Title, Lang::En);
    assert!(!en.contains("APP"), "{en}");
    assert!(en.contains("enter the code"), "{en}");
}

/// The tips section reads exactly the files it read before it became a map keyed by `TipKey`:
/// every tip under our name or Authing's, every language spelling; two names for one tip (or one
/// language) are refused, naming the line, as serde's aliases were.
#[test]
fn tip_names_and_language_spellings_load_as_before() {
    let dir = tempfile::tempdir().unwrap();
    for (spelling, lang) in [
        ("zh-CN", Lang::ZhCn),
        ("zh", Lang::ZhCn),
        ("zh_CN", Lang::ZhCn),
        ("zh-cn", Lang::ZhCn),
        ("en", Lang::En),
        ("en-US", Lang::En),
        ("en_US", Lang::En),
    ] {
        for key in TipKey::ALL {
            for name in [key.config_name(), key.authing_name()] {
                let text = format!("[tips.\"{spelling}\"]\n{name} = \"<b>{name}</b>\"\n");
                let user = write(dir.path(), "config.toml", &text);
                let c = config::load(&sources(None, Some(user))).unwrap();
                let want = format!("<b>{name}</b>");
                assert_eq!(c.tips.get(lang, key), Some(want.as_str()), "{text}");
                let tips = Tips::from_config(&c.tips);
                assert_eq!(tips.get(key, lang), want, "{text}");
                // Written back under our names, it loads to the same.
                let again = write(dir.path(), "again.toml", &toml::to_string(&c).unwrap());
                assert_eq!(config::load(&sources(None, Some(again))).unwrap(), c);
            }
        }
    }
    assert_file_error(
        "[tips.en]\ntitle = \"a\"\ntips = \"b\"\n",
        "tips.en.tips",
        3,
        "given twice",
    );
    assert_file_error(
        "[tips.en]\ntitle = \"a\"\n[tips.en-US]\ntitle = \"b\"\n",
        "tips.en-US",
        3,
        "given twice",
    );
    assert_file_error("[tips.fr]\ntitle = \"a\"\n", "tips.fr", 1, "zh-CN");
}
