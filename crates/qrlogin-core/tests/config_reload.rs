//! Tips at run time (issue 15 item 2), the engine's half: an edited config file is loaded again;
//! changed tips apply to the running `Tips` (and so to the next events of a login in flight),
//! other keys wait for a restart, and a broken edit is refused with the old values kept. The
//! session's own tips and `LoginEvent::tip_keys` agree, so a window can be re-worded from it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::config::reload::{reload, watched_files};
use qrlogin_core::config::{self, ConfigError, ConfigSources};
use qrlogin_core::tips::{default_text, Lang, TipKey, Tips};
use qrlogin_core::{Client, ClientConfig, DialectId, LoginEvent, LoginSession, SessionOptions};
use qrlogin_server::phone::Phone;
use qrlogin_server::{NewApp, NewUser, OpenOptions, RateLimits, ServeOptions, Server};

fn sources(user: &Path) -> ConfigSources {
    ConfigSources {
        user: Some(user.to_owned()),
        ..Default::default()
    }
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<LoginEvent>, name: &str) -> LoginEvent {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an event in time")
            .expect("the session runs");
        if e.name() == name {
            return e;
        }
    }
}

const START: &str = "[login]\nrefresh_cap = 5\n\n[tips.en]\ntitle = \"Scan <b>first</b>\"\n";

#[test]
fn an_edited_tip_applies_and_a_broken_edit_keeps_the_old_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, START).unwrap();
    let s = sources(&file);
    assert_eq!(watched_files(&s), vec![file.clone()]);
    let mut current = config::load(&s).unwrap();
    let tips = Tips::from_config(&current.tips);
    assert_eq!(tips.get(TipKey::Title, Lang::En), "Scan <b>first</b>");

    // Saved unchanged (an editor's touch): nothing to do.
    assert_eq!(reload(&s, &current).unwrap(), None);

    // A new title and a new scanned tip (Authing's name), hostile markup included.
    std::fs::write(
        &file,
        "[login]\nrefresh_cap = 5\n\n[tips.en]\ntitle = \"Scan <b>second</b><img src=x onerror=alert(1)>\"\n\
         scannedTips = \"Now confirm\"\n",
    )
    .unwrap();
    let r = reload(&s, &current).unwrap().expect("a change");
    assert_eq!(r.live, vec!["tips.en.scanned", "tips.en.title"]);
    assert!(r.restart.is_empty(), "{:?}", r.restart);
    tips.replace_from_config(&r.config.tips);
    assert_eq!(tips.get(TipKey::Title, Lang::En), "Scan <b>second</b>");
    assert_eq!(tips.get(TipKey::Scanned, Lang::En), "Now confirm");
    current = r.config;

    // Broken edits: not TOML, a misspelt tip, a wrong type. Each is refused with the file's line
    // and the key, and the tips in effect do not move.
    for (text, key, line) in [
        ("[tips.en]\ntitle = \"unterminated\n", "tips.en.title", 2),
        ("[tips.en]\ntitel = \"typo\"\n", "tips.en.titel", 2),
        ("[login]\nrefresh_cap = \"many\"\n", "login.refresh_cap", 2),
    ] {
        std::fs::write(&file, text).unwrap();
        match reload(&s, &current) {
            Err(ConfigError::Parse {
                key: k, line: l, ..
            }) => {
                assert_eq!((k.as_str(), l), (key, line), "{text}");
            }
            other => panic!("{text}: expected a parse error, got {other:?}"),
        }
        assert_eq!(tips.get(TipKey::Title, Lang::En), "Scan <b>second</b>");
        assert_eq!(tips.get(TipKey::Scanned, Lang::En), "Now confirm");
    }

    // A key that needs a restart is reported as such; a tip taken out goes back to the default.
    std::fs::write(
        &file,
        "[login]\nrefresh_cap = 2\n\n[tips.en]\nscanned = \"Now confirm\"\n",
    )
    .unwrap();
    let r = reload(&s, &current).unwrap().expect("a change");
    assert_eq!(r.live, vec!["tips.en.title"]);
    assert_eq!(r.restart, vec!["login.refresh_cap"]);
    tips.replace_from_config(&r.config.tips);
    assert_eq!(
        tips.get(TipKey::Title, Lang::En),
        default_text(TipKey::Title, Lang::En)
    );
}

/// A login in flight reads the edited tips from its next event on, and each event's tips are the
/// ones `LoginEvent::tip_keys` names (what the shell re-words the window from).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_in_flight_picks_up_edited_tips() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(OpenOptions::new(dir.path())).await.unwrap();
    let creds = server
        .add_app(NewApp {
            name: "Live tips".into(),
            ..NewApp::default()
        })
        .await
        .unwrap();
    server
        .add_user(NewUser {
            username: "dora".into(),
            password: "correct horse battery".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let running = server
        .serve(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            rate_limits: RateLimits::unlimited(),
            ..Default::default()
        })
        .await
        .unwrap();

    let file = dir.path().join("config.toml");
    std::fs::write(&file, START).unwrap();
    let s = sources(&file);
    let current = config::load(&s).unwrap();
    let tips = Tips::from_config(&current.tips);
    let mut c = ClientConfig::new(running.base_url(), DialectId::G3, &creds.app_id);
    c.app.user_pool_id = Some(creds.user_pool_id.clone());
    let client = Arc::new(Client::new(c).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _session = LoginSession::start(
        client,
        SessionOptions {
            tips: tips.clone(),
            lang: Lang::En,
            ..SessionOptions::default()
        },
        move |e| {
            let _ = tx.send(e);
        },
    );
    let qr = next(&mut rx, "qrReady").await;
    let LoginEvent::QrReady { text, tip_html, .. } = &qr else {
        unreachable!()
    };
    assert_eq!(tip_html, "Scan <b>first</b>");
    assert_eq!(qr.tip_keys(false), (Some(TipKey::Title), None));

    // The edit lands while the QR is shown.
    std::fs::write(
        &file,
        "[login]\nrefresh_cap = 5\n\n[tips.en]\ntitle = \"Scan <b>first</b>\"\nscanned = \"Edited: <em>confirm</em>\"\n",
    )
    .unwrap();
    let r = reload(&s, &current).unwrap().expect("a change");
    tips.replace_from_config(&r.config.tips);
    // The window's re-wording of the QR screen comes from the same keys.
    let shown = qr.on_screen(false).tips_now(&tips, Lang::En);
    assert_eq!(shown.tip_html.as_deref(), Some("Scan <b>first</b>"));

    let phone = Phone::new();
    let page = phone.open(text).await.unwrap();
    phone
        .sign_in(&page, "dora", "correct horse battery")
        .await
        .unwrap();
    let scanned = next(&mut rx, "scanned").await;
    let LoginEvent::Scanned { tip_html, .. } = &scanned else {
        unreachable!()
    };
    assert_eq!(
        tip_html, "Edited: <em>confirm</em>",
        "the same login, new tip"
    );
    assert_eq!(scanned.tip_keys(false), (Some(TipKey::Scanned), None));
}
