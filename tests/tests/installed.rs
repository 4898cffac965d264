//! The installed packages, end to end: the app from the .deb (`/usr/bin/qrlogin`) against the
//! server from the other .deb, started by `scripts/bundle-test.sh` as its systemd unit would.
//!
//! Ignored by default: it needs the packages installed and a server running. bundle-test.sh runs it
//! with `--ignored` and these variables:
//!   QRLOGIN_E2E_APP=/usr/bin/qrlogin         the installed app (read by the harness)
//!   QRLOGIN_E2E_SERVER_URL=http://127.0.0.1:PORT
//!   QRLOGIN_E2E_APP_ID, QRLOGIN_E2E_USER_POOL_ID   from `qrlogin-server app add --json`
//!   QRLOGIN_E2E_USERNAME, QRLOGIN_E2E_PASSWORD, QRLOGIN_E2E_NICKNAME   from `user add`
//!   QRLOGIN_E2E_DIALECT (default v2)

use qrlogin_e2e::{phone, App, AppConfig, AppHome, Scenario, TestUser};

fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{name} is not set: run this test through scripts/bundle-test.sh"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the installed .deb packages and a running qrlogin-server: scripts/bundle-test.sh"]
async fn installed_app_signs_in_against_installed_server() {
    let app_bin = env("QRLOGIN_E2E_APP");
    assert!(
        app_bin.starts_with("/usr/"),
        "QRLOGIN_E2E_APP={app_bin}: this test is for the installed app"
    );
    let url = env("QRLOGIN_E2E_SERVER_URL");
    let dialect = std::env::var("QRLOGIN_E2E_DIALECT").unwrap_or_else(|_| "v2".to_string());
    let user = TestUser {
        username: env("QRLOGIN_E2E_USERNAME"),
        password: env("QRLOGIN_E2E_PASSWORD"),
        nickname: env("QRLOGIN_E2E_NICKNAME"),
    };

    let sc = Scenario::new("installed");
    let config = AppConfig::new()
        .set("server.url", url.as_str())
        .set("server.dialect", dialect.as_str())
        .set("server.app_id", env("QRLOGIN_E2E_APP_ID"))
        .set("server.user_pool_id", env("QRLOGIN_E2E_USER_POOL_ID"))
        .set("login.lang", "en");
    let home = AppHome::with_config(&config);
    let app = App::launch(&sc, &home, &[]).await;

    // A QR that a phone camera reads off the window's pixels, pointing at the installed server.
    let qr = app.wait_qr("1-qr", &[]).await;
    assert!(
        qr.starts_with(&format!("{url}/s/")),
        "the QR should hold the approval page link of the installed server ({url}/s/...), it holds {qr:?}"
    );

    // The phone signs in and scans; the window shows who scanned.
    let scan = phone::scan(&qr, &user).await;
    app.wait_state("2-scanned", "scanned").await;
    // Exact wording is the e2e suite's business; here the name must be on screen.
    app.wait_text("2-scanned", "scanned-name", "the scanner's nickname", |t| {
        t.contains(&user.nickname)
    })
    .await;

    // The person confirms with the check code the window shows (if the app has one).
    if scan.check_code_choices().is_empty() {
        scan.confirm(None).await;
    } else {
        let code = app.read_check_code("2-scanned").await;
        scan.confirm(Some(&code)).await;
    }

    // Signed in: the profile of that user, and no QR left on screen.
    app.wait_state("3-profile", "profile").await;
    app.wait_text(
        "3-profile",
        "profile-nickname",
        "the user's nickname",
        |t| t.contains(&user.nickname),
    )
    .await;
    app.wait_text("3-profile", "profile-username", "the user name", |t| {
        t.contains(&user.username)
    })
    .await;
    app.assert_no_qr("3-profile").await;
    app.quit().await;
}
